// Which whiteouts and opaque markers of a layer reach the layers below it at all.
import type { LayerEntry } from '../layer/entry.js';
import { splitPath } from '../layer/names.js';
import { resolvePath } from './resolve.js';
import type { DirNode } from './types.js';

export function isMarker(e: LayerEntry): boolean {
  return e.kind === 'whiteout' || e.kind === 'opaque';
}

/** A set of paths as a trie of components: a lookup of every prefix of a path costs one walk down it. */
interface PathTrie {
  end: boolean;
  next: Map<string, PathTrie>;
}

/**
 * The paths a layer's own entries replace rather than merge into: each non-directory entry, and each directory
 * entry over a lower non-directory (`root` is the tree of the layers below; the last component is not followed).
 * Nothing of the lower layers is under such a path, so a marker at or below it hides nothing; resolving the marker
 * through the lower symlink instead would reach somewhere else: buildah writes `l/` + `l/.wh..wh..opq` when a
 * symlink `l -> /etc` became a directory, and that must not empty /etc (the kernel's overlayfs, umoci and
 * containers/storage leave it). Undefined when there is none.
 */
export function replacedPaths(root: DirNode, entries: readonly LayerEntry[]): PathTrie | undefined {
  const own = new Map<string, LayerEntry['kind']>();
  for (const e of entries) if (!isMarker(e) && e.path !== '') own.set(e.path, e.kind);
  let trie: PathTrie | undefined;
  for (const [path, kind] of own) {
    if (kind === 'dir') {
      const lower = resolvePath(root, path, { followLast: false });
      if (!lower.ok || lower.node.kind === 'dir') continue;
    }
    let node = (trie ??= { end: false, next: new Map() });
    for (const name of path.split('/')) {
      let child = node.next.get(name);
      if (child === undefined) node.next.set(name, (child = { end: false, next: new Map() }));
      node = child;
    }
    node.end = true;
  }
  return trie;
}

/** Whether the marker acts at or below one of `replaced` (an opaque marker on the directory itself, too). */
export function markerIsShadowed(replaced: PathTrie | undefined, marker: LayerEntry): boolean {
  if (replaced === undefined) return false;
  const dir = marker.kind === 'opaque' ? marker.path : splitPath(marker.path)[0];
  if (dir === '') return false;
  let node: PathTrie | undefined = replaced;
  for (const name of dir.split('/')) {
    node = node.next.get(name);
    if (node === undefined) return false;
    if (node.end) return true;
  }
  return false;
}
