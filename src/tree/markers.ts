// A layer's whiteouts and opaque markers: the order to apply them in, and which of them lie under a path that
// the layer itself replaces.
import type { LayerEntry } from '../layer/entry.js';
import { splitPath } from '../layer/names.js';
import { resolvePath } from './resolve.js';
import type { DirNode } from './types.js';

export function isMarker(e: LayerEntry): boolean {
  return e.kind === 'whiteout' || e.kind === 'opaque';
}

/** A marker of a layer, and the path its own layer replaces on the marker's way, if any (see ReplacedPaths). */
export interface LayerMarker {
  entry: LayerEntry;
  replaced?: string;
}

/**
 * The whiteouts and opaque markers of one layer (`root` is the tree below, before any entry of the layer is
 * applied), in the order to apply them: shallowest first, a whiteout before an opaque marker of the same path.
 * A directory one marker implies (`b/.wh..wh..opq` with no `b/`) belongs to this layer, so another marker of it
 * (`.wh..wh..opq`, `.wh.b`) must not remove it, whatever their order in the tar. A marker with `replaced` set lies
 * at or below a path its own layer replaces (ReplacedPaths): the caller makes that path a directory of this layer (never following
 * the lower symlink there), so the marker implies its directories as any marker does and hides nothing.
 */
export function layerMarkers(root: DirNode, entries: readonly LayerEntry[]): LayerMarker[] {
  const markers = entries.filter(isMarker);
  if (markers.length === 0) return [];
  const replaced = new ReplacedPaths(root, entries);
  return markers.sort((a, b) => markerDepth(a) - markerDepth(b)).map((entry) => ({ entry, replaced: replaced.above(entry) }));
}

/** Path depth of what a marker removes: a whiteout removes its path, an opaque marker the children of its path. */
function markerDepth(e: LayerEntry): number {
  const depth = e.path === '' ? 0 : e.path.split('/').length;
  return e.kind === 'opaque' ? depth + 0.5 : depth;
}

/**
 * Finds, for each marker, the shallowest path at or above its directory that the layer's own entries replace rather
 * than merge into: a non-directory entry, or a directory entry over a lower non-directory (`root` is the tree of
 * the layers below; the last component is not followed). Nothing of the lower layers is under such a path, so a
 * marker at or below it hides nothing; resolving the marker through the lower symlink there would reach somewhere
 * else: buildah writes `l/` + `l/.wh..wh..opq` when a symlink `l -> /etc` became a directory, and that must not
 * empty /etc (the kernel's overlayfs, umoci and containers/storage leave it). Only the markers' own ancestors are
 * looked at: a layer has thousands of entries and a few markers.
 */
class ReplacedPaths {
  private readonly own = new Map<string, LayerEntry['kind']>();
  private readonly verdicts = new Map<string, boolean>();

  constructor(
    private readonly root: DirNode,
    entries: readonly LayerEntry[],
  ) {
    for (const e of entries) if (!isMarker(e) && e.path !== '') this.own.set(e.path, e.kind);
  }

  /** The shallowest replaced path at or above the marker's directory (an opaque marker's own path counts). */
  above(marker: LayerEntry): string | undefined {
    const dir = marker.kind === 'opaque' ? marker.path : splitPath(marker.path)[0];
    if (dir === '') return undefined;
    for (let end = dir.indexOf('/'); ; end = dir.indexOf('/', end + 1)) {
      const prefix = end < 0 ? dir : dir.slice(0, end);
      if (this.replaced(prefix)) return prefix;
      if (end < 0) return undefined;
    }
  }

  private replaced(path: string): boolean {
    const kind = this.own.get(path);
    if (kind === undefined) return false;
    if (kind !== 'dir') return true;
    let verdict = this.verdicts.get(path);
    if (verdict === undefined) {
      const lower = resolvePath(this.root, path, { followLast: false });
      verdict = lower.ok && lower.node.kind !== 'dir';
      this.verdicts.set(path, verdict);
    }
    return verdict;
  }
}
