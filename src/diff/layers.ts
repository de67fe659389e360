// Layers: the two diffID lists aligned (shortest edit script), so a rebuild on an unchanged base reads as
// "N shared, then the top ones replaced". A shared diffID under another blob digest was re-compressed.
import type { StoredLayer } from '../store/images.js';
import type { LayerLabels } from './attribution.js';
import { diffSequences } from './sequence.js';
import type { LayerReport, LayerRow, LayerSide } from './types.js';

export interface LayerInput {
  layers: readonly StoredLayer[];
  labels: LayerLabels;
}

export function diffLayers(oldImage: LayerInput, newImage: LayerInput): LayerReport {
  const rows: LayerRow[] = [];
  for (const e of diffSequences(oldImage.layers, newImage.layers, (l) => l.diffID)) {
    if (e.op === '=') {
      const o = side(oldImage, e.a);
      const n = side(newImage, e.b);
      rows.push({ status: 'shared', old: o, new: n, recompressed: o.digest !== n.digest });
    } else if (e.op === '-') rows.push({ status: 'old-only', old: side(oldImage, e.a), recompressed: false });
    else rows.push({ status: 'new-only', new: side(newImage, e.b), recompressed: false });
  }
  return {
    rows,
    shared: count(rows, (r) => r.status === 'shared'),
    oldOnly: count(rows, (r) => r.status === 'old-only'),
    newOnly: count(rows, (r) => r.status === 'new-only'),
    recompressed: count(rows, (r) => r.recompressed),
    commonBase: commonPrefix(oldImage.layers, newImage.layers),
  };
}

function side(input: LayerInput, position: number): LayerSide {
  const l = input.layers[position];
  const s: LayerSide = { position, digest: l.digest, diffID: l.diffID, size: l.size, mediaType: l.mediaType };
  const cmd = input.labels.createdBy[position];
  if (cmd !== undefined) s.createdBy = cmd;
  return s;
}

function commonPrefix(a: readonly StoredLayer[], b: readonly StoredLayer[]): number {
  let i = 0;
  while (i < a.length && i < b.length && a[i].diffID === b[i].diffID) i++;
  return i;
}

function count<T>(xs: readonly T[], pred: (x: T) => boolean): number {
  let n = 0;
  for (const x of xs) if (pred(x)) n++;
  return n;
}

/** Whether the layer lists differ at all (content or compression). */
export function layersDiffer(r: LayerReport): boolean {
  return r.oldOnly > 0 || r.newOnly > 0 || r.recompressed > 0;
}
