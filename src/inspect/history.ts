// The config's history lined up with the layers. Every builder writes one history entry per
// Dockerfile step, but only steps that produced a layer lack `empty_layer: true`, so the n-th
// non-empty entry describes the n-th layer (moby image/history, buildkit, kaniko all agree).
import type { HistoryEntry, ImageConfig } from '../spec/types.js';

export interface HistoryStep {
  /** Position in config.history; undefined for a layer the history does not describe. */
  historyIndex?: number;
  entry?: HistoryEntry;
  /** 0-based layer position, or undefined for an empty-layer step (or a surplus entry). */
  layer?: number;
}

export interface AlignedHistory {
  /** Every history entry in order; then any layer the history never reached, one step each. */
  steps: HistoryStep[];
  /** The entry describing each layer, by position (undefined where the history falls short). */
  byLayer: (HistoryEntry | undefined)[];
  /** Set when the history and the layers disagree in count. */
  problem?: string;
}

export function alignHistory(config: Pick<ImageConfig, 'history'>, layerCount: number): AlignedHistory {
  const history = Array.isArray(config.history) ? config.history : [];
  const steps: HistoryStep[] = [];
  const byLayer: (HistoryEntry | undefined)[] = new Array(layerCount).fill(undefined);
  let next = 0;
  let surplus = 0;
  history.forEach((entry, historyIndex) => {
    if (isEmptyLayer(entry)) return steps.push({ historyIndex, entry });
    if (next >= layerCount) {
      surplus++;
      return steps.push({ historyIndex, entry });
    }
    byLayer[next] = entry;
    steps.push({ historyIndex, entry, layer: next++ });
  });
  for (let layer = next; layer < layerCount; layer++) steps.push({ layer });
  return { steps, byLayer, problem: describeProblem(history.length, next + surplus, layerCount) };
}

function isEmptyLayer(entry: HistoryEntry): boolean {
  return entry !== null && typeof entry === 'object' && entry.empty_layer === true;
}

function describeProblem(entries: number, nonEmpty: number, layers: number): string | undefined {
  // No history at all is allowed by the spec (it is optional), so only a disagreeing one is reported.
  if (entries === 0 || nonEmpty === layers) return undefined;
  if (nonEmpty > layers) {
    return `the config's history has ${nonEmpty} entries that made a layer but the image has ${layers} layers; the last ${nonEmpty - layers} match no layer`;
  }
  const from = nonEmpty + 1;
  const which = from === layers ? `layer ${layers} has` : `layers ${from}-${layers} have`;
  return `the config's history has ${nonEmpty} entries that made a layer but the image has ${layers} layers; ${which} no history entry`;
}

/** A `docker history` row. */
export interface HistoryRow {
  /** 1-based layer number; undefined for a step that made no layer. */
  layer?: number;
  created?: string;
  createdBy?: string;
  comment?: string;
  /** Unpacked bytes when the layer is in the store, else its compressed size; 0 for a step without a layer. */
  size?: number;
  sizeIs: 'unpacked' | 'compressed' | 'empty' | 'unknown';
}

/** Newest first, as docker prints it. `tarSizes[i]` is layer i's unpacked size when known. */
export function historyRows(config: Pick<ImageConfig, 'history'>, compressed: readonly number[], tarSizes: readonly (number | undefined)[]): HistoryRow[] {
  const aligned = alignHistory(config, compressed.length);
  const rows = aligned.steps.map((step): HistoryRow => {
    const e = step.entry;
    const row: HistoryRow = { sizeIs: 'empty', size: 0 };
    if (e?.created) row.created = e.created;
    if (e?.created_by !== undefined) row.createdBy = e.created_by;
    if (e?.comment) row.comment = e.comment;
    if (step.layer !== undefined) {
      const tar = tarSizes[step.layer];
      Object.assign(row, { layer: step.layer + 1, size: tar ?? compressed[step.layer], sizeIs: tar === undefined ? 'compressed' : 'unpacked' });
    } else if (e && !isEmptyLayer(e)) Object.assign(row, { size: undefined, sizeIs: 'unknown' });
    return row;
  });
  return rows.reverse();
}
