// A layer's whiteouts and opaque markers: the order to apply them in, and which of them lie under a path that
// the layer itself replaces.
import type { LayerEntry } from '../layer/entry.js';
import { splitPath } from '../layer/names.js';
import { resolvePath } from './resolve.js';
import type { DirNode } from './types.js';

export function isMarker(e: LayerEntry): boolean {
  return e.kind === 'whiteout' || e.kind === 'opaque';
}

/** A marker of a layer, and the path its own layer replaces on the marker's way, if any (see replacedPaths). */
export interface LayerMarker {
  entry: LayerEntry;
  replaced?: string;
}

/**
 * The whiteouts and opaque markers of one layer (`root` is the tree below, before any entry of the layer is
 * applied), in the order to apply them: shallowest first, a whiteout before an opaque marker of the same path.
 * A directory one marker implies (`b/.wh..wh..opq` with no `b/`) belongs to this layer, so another marker of it
 * (`.wh..wh..opq`, `.wh.b`) must not remove it, whatever their order in the tar. A marker with `replaced` set lies
 * at or below a path its own layer replaces: the caller makes that path a directory of this layer (never following
 * the lower symlink there), so the marker implies its directories as any marker does and hides nothing.
 */
export function layerMarkers(root: DirNode, entries: readonly LayerEntry[]): LayerMarker[] {
  const markers = entries.filter(isMarker);
  if (markers.length === 0) return [];
  const replaced = replacedPaths(root, entries);
  return markers.sort((a, b) => markerDepth(a) - markerDepth(b)).map((entry) => ({ entry, replaced: replacedPrefix(replaced, entry) }));
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
 * through the lower symlink there would reach somewhere else: buildah writes `l/` + `l/.wh..wh..opq` when a
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

/** The shallowest of `replaced` at or above the marker's directory (an opaque marker's own path counts). */
function replacedPrefix(replaced: PathTrie | undefined, marker: LayerEntry): string | undefined {
  if (replaced === undefined) return undefined;
  const dir = marker.kind === 'opaque' ? marker.path : splitPath(marker.path)[0];
  if (dir === '') return undefined;
  let node: PathTrie | undefined = replaced;
  const names = dir.split('/');
  for (let i = 0; i < names.length; i++) {
    node = node.next.get(names[i]);
    if (node === undefined) return undefined;
    if (node.end) return names.slice(0, i + 1).join('/');
  }
  return undefined;
}
