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

/** A layer's entries in tar order, its markers apart from the rest. */
export interface SplitLayer {
  markers: LayerEntry[];
  others: LayerEntry[];
}

/** One pass over a layer: its thousands of entries are looked at once, not once per question. */
export function splitLayer(entries: readonly LayerEntry[]): SplitLayer {
  const markers: LayerEntry[] = [];
  const others: LayerEntry[] = [];
  for (const e of entries) (isMarker(e) ? markers : others).push(e);
  return { markers, others };
}

/**
 * The whiteouts and opaque markers of one layer (`root` is the tree below, before any entry of the layer is
 * applied), in the order to apply them: shallowest first, a whiteout before an opaque marker of the same path.
 * A directory one marker implies (`b/.wh..wh..opq` with no `b/`) belongs to this layer, so another marker of it
 * (`.wh..wh..opq`, `.wh.b`) must not remove it, whatever their order in the tar. A marker with `replaced` set lies
 * at or below a path its own layer replaces (ReplacedPaths): the caller makes that path a directory of this layer
 * (never following the lower symlink there), so the marker implies its directories as any marker does and hides
 * nothing.
 */
export function layerMarkers(root: DirNode, { markers, others }: SplitLayer): LayerMarker[] {
  if (markers.length === 0) return [];
  const replaced = new ReplacedPaths(root, others);
  return markers.sort((a, b) => markerDepth(a) - markerDepth(b)).map((entry) => ({ entry, replaced: replaced.above(entry) }));
}

/** Path depth of what a marker removes: a whiteout removes its path, an opaque marker the children of its path. */
function markerDepth(e: LayerEntry): number {
  const depth = e.path === '' ? 0 : e.path.split('/').length;
  return e.kind === 'opaque' ? depth + 0.5 : depth;
}

/** No replaced path (a directory is never the root, '', here). */
const NONE = '';

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
  /** Directory -> the shallowest replaced path at or above it, NONE for none. */
  private readonly answers = new Map<string, string>();

  /** `others`: the layer's entries that are not markers. */
  constructor(
    private readonly root: DirNode,
    others: readonly LayerEntry[],
  ) {
    for (const e of others) if (e.path !== '') this.own.set(e.path, e.kind);
  }

  /** The shallowest replaced path at or above the marker's directory (an opaque marker's own path counts). */
  above(marker: LayerEntry): string | undefined {
    const dir = marker.kind === 'opaque' ? marker.path : splitPath(marker.path)[0];
    return dir === '' ? undefined : this.shallowest(dir);
  }

  /**
   * Each directory's answer is kept, so a prefix is looked at once however many markers lie below it: the cost is
   * the length of the distinct directories, not depth x length per marker. A loop, not recursion: a tar name may
   * be thousands of components deep.
   */
  private shallowest(dir: string): string | undefined {
    const unknown: string[] = [];
    let found: string | undefined;
    for (let p = dir; ; ) {
      const known = this.answers.get(p);
      if (known !== undefined) {
        found = known === NONE ? undefined : known;
        break;
      }
      unknown.push(p);
      const slash = p.lastIndexOf('/');
      if (slash < 0) break;
      p = p.slice(0, slash);
    }
    for (let i = unknown.length - 1; i >= 0; i--) {
      if (found === undefined && this.replaced(unknown[i])) found = unknown[i];
      this.answers.set(unknown[i], found ?? NONE);
    }
    return found;
  }

  private replaced(path: string): boolean {
    const kind = this.own.get(path);
    if (kind === undefined) return false;
    if (kind !== 'dir') return true;
    const lower = resolvePath(this.root, path, { followLast: false });
    return lower.ok && lower.node.kind !== 'dir';
  }
}
