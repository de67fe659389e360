// Which whiteouts and opaque markers of a layer reach the layers below it at all.
import type { LayerEntry } from '../layer/entry.js';
import { splitPath } from '../layer/names.js';
import { resolvePath } from './resolve.js';
import type { DirNode } from './types.js';

export function isMarker(e: LayerEntry): boolean {
  return e.kind === 'whiteout' || e.kind === 'opaque';
}

/** The kind of a layer's own (non-marker) entry at each path as spelled in its tar; the last one wins. */
export function ownKinds(entries: readonly LayerEntry[]): Map<string, LayerEntry['kind']> {
  const own = new Map<string, LayerEntry['kind']>();
  for (const e of entries) if (!isMarker(e)) own.set(e.path, e.kind);
  return own;
}

/**
 * Whether a marker lies at or below a path that its own layer replaces: with a non-directory, or with a directory
 * over a lower non-directory. Nothing of the lower layers is there to hide, and resolving the marker through the
 * lower symlink would reach somewhere else: buildah writes `l/` + `l/.wh..wh..opq` when a symlink `l -> /etc`
 * became a directory, and that must not empty /etc (the kernel's overlayfs, umoci and containers/storage leave it).
 * `root` is the tree of the layers below.
 */
export function markerIsShadowed(root: DirNode, own: ReadonlyMap<string, LayerEntry['kind']>, marker: LayerEntry): boolean {
  const dir = marker.kind === 'opaque' ? marker.path : splitPath(marker.path)[0];
  if (dir === '') return false;
  const parts = dir.split('/');
  for (let i = 1; i <= parts.length; i++) {
    const prefix = parts.slice(0, i).join('/');
    const kind = own.get(prefix);
    if (kind === undefined) continue;
    if (kind !== 'dir') return true;
    const lower = resolvePath(root, prefix, { followLast: false });
    if (lower.ok && lower.node.kind !== 'dir') return true;
  }
  return false;
}
