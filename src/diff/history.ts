// History: the created_by lists aligned by a shortest edit script. Within one run of edits, removed and
// inserted steps are paired in order as "changed" (a Dockerfile line edited in place), the rest stay
// inserted or removed.
import type { HistoryEntry, ImageConfig } from '../spec/types.js';
import { diffSequences, type Edit } from './sequence.js';
import type { HistoryStep } from './types.js';

type StepSide = NonNullable<HistoryStep['old']>;

export function diffHistory(oldConfig: ImageConfig, newConfig: ImageConfig): HistoryStep[] {
  const o = steps(oldConfig.history);
  const n = steps(newConfig.history);
  const edits = diffSequences(o, n, (s) => `${s.emptyLayer ? 'E' : 'L'}${s.createdBy}`);
  const out: HistoryStep[] = [];
  for (let i = 0; i < edits.length; ) {
    if (edits[i].op === '=') {
      out.push({ op: 'same', old: o[edits[i].a], new: n[edits[i].b] });
      i++;
      continue;
    }
    let j = i;
    while (j < edits.length && edits[j].op !== '=') j++;
    pairRun(edits.slice(i, j), o, n, out);
    i = j;
  }
  return out;
}

function steps(history: HistoryEntry[] | undefined): StepSide[] {
  return (history ?? []).map((h, index) => ({ index, createdBy: h.created_by ?? h.comment ?? '', emptyLayer: h.empty_layer === true }));
}

function pairRun(run: Edit[], o: StepSide[], n: StepSide[], out: HistoryStep[]): void {
  const removed = run.filter((e) => e.op === '-').map((e) => o[e.a]);
  const inserted = run.filter((e) => e.op === '+').map((e) => n[e.b]);
  const pairs = Math.min(removed.length, inserted.length);
  for (let k = 0; k < pairs; k++) out.push({ op: 'changed', old: removed[k], new: inserted[k] });
  for (const s of removed.slice(pairs)) out.push({ op: 'removed', old: s });
  for (const s of inserted.slice(pairs)) out.push({ op: 'inserted', new: s });
}

export function historyCounts(steps: readonly HistoryStep[]): { inserted: number; removed: number; changed: number } {
  const c = { inserted: 0, removed: 0, changed: 0 };
  for (const s of steps) if (s.op !== 'same') c[s.op]++;
  return c;
}
