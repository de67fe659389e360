// Layer position → the history step that made it. History lists config-only steps too (empty_layer),
// so the k-th step that is not empty belongs to layer k. When the counts disagree (hand-made images),
// the steps are matched as far as they go and the rest of the layers have no command.
import type { ImageConfig } from '../spec/types.js';
import type { Attribution } from './types.js';

export interface LayerLabels {
  side: 'old' | 'new';
  diffIDs: readonly string[];
  createdBy: readonly (string | undefined)[];
}

export function layerCommands(config: ImageConfig, layerCount: number): (string | undefined)[] {
  const out: (string | undefined)[] = new Array(layerCount).fill(undefined);
  let k = 0;
  for (const h of config.history ?? []) {
    if (h.empty_layer) continue;
    if (k >= layerCount) break;
    out[k++] = h.created_by ?? h.comment;
  }
  return out;
}

export function labelsFor(side: 'old' | 'new', config: ImageConfig, diffIDs: readonly string[]): LayerLabels {
  return { side, diffIDs, createdBy: layerCommands(config, diffIDs.length) };
}

/** undefined for the root and for directories no layer declared (layer -1). */
export function attribute(labels: LayerLabels, layer: number): Attribution | undefined {
  if (layer < 0 || layer >= labels.diffIDs.length) return undefined;
  const a: Attribution = { side: labels.side, layer, diffID: labels.diffIDs[layer] };
  const cmd = labels.createdBy[layer];
  if (cmd !== undefined) a.createdBy = cmd;
  return a;
}
