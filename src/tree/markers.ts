// Which whiteouts and opaque markers of a layer reach the layers below it at all.
import type { LayerEntry } from '../layer/entry.js';
import { splitPath } from '../layer/names.js';
import { resolvePath } from './resolve.js';
import type { DirNode } from './types.js';

export function isMarker(e: LayerEntry): boolean {
  return e.kind === 'whiteout' || e.kind === 'opaque';
}

/**
 * The whiteouts and opaque markers of one layer that act on the layers below (`root`, before any entry of the layer
 * is applied), in the order to apply them: shallowest first, a whiteout before an opaque marker of the same path.
 * A directory one marker implies (`b/.wh..wh..opq` with no `b/`) belongs to this layer, so another marker of it
 * (`.wh..wh..opq`, `.wh.b`) must not remove it, whatever their order in the tar.
 */
export function lowerMarkers(root: DirNode, entries: readonly LayerEntry[]): LayerEntry[] {
  const markers = entries.filter(isMarker);
  if (markers.length === 0) return markers;
  const replaced = replacedPaths(root, entries);
  return markers.filter((m) => !markerIsShadowed(replaced, m)).sort((a, b) => markerDepth(a) - markerDepth(b));
}

/** Path depth of what a marker removes: a whiteout removes its path, an opaque marker the children of its path. */
function markerDepth(e: LayerEntry): number {
  const depth = e.path === '' ? 0 : e.path.split('/').length;
  return e.kind === 'opaque' ? depth + 0.5 : depth;
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
function replacedPaths(root: DirNode, entries: readonly LayerEntry[]): PathTrie | undefined {
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
function markerIsShadowed(replaced: PathTrie | undefined, marker: LayerEntry): boolean {
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
