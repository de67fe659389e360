// History: the created_by lists aligned by a shortest edit script. Within one run of edits, a removed step
// and a later inserted step of the same instruction are paired as "changed" (a Dockerfile line edited in
// place); the rest stay inserted or removed.
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

/** Pairs a removed step with the next inserted one of the same instruction (ENV with ENV, RUN with RUN). */
function pairRun(run: Edit[], o: StepSide[], n: StepSide[], out: HistoryStep[]): void {
  const removed = run.filter((e) => e.op === '-').map((e) => o[e.a]);
  const inserted = run.filter((e) => e.op === '+').map((e) => n[e.b]);
  let j = 0;
  for (const r of removed) {
    const k = inserted.findIndex((s, i) => i >= j && instruction(s) === instruction(r));
    if (k < 0) {
      out.push({ op: 'removed', old: r });
      continue;
    }
    for (; j < k; j++) out.push({ op: 'inserted', new: inserted[j] });
    out.push({ op: 'changed', old: r, new: inserted[k] });
    j = k + 1;
  }
  for (; j < inserted.length; j++) out.push({ op: 'inserted', new: inserted[j] });
}

/** The Dockerfile instruction a builder recorded: "/bin/sh -c #(nop)  ENV a=b" is ENV, "/bin/sh -c x" RUN. */
export function instruction(step: StepSide): string {
  const cmd = step.createdBy.trim();
  const nop = /^\/bin\/sh -c #\(nop\)\s*(\S+)/.exec(cmd);
  if (nop) return nop[1].toUpperCase();
  if (cmd.startsWith('/bin/sh -c ')) return 'RUN';
  return (cmd.split(/\s+/)[0] ?? '').toUpperCase();
}

export function historyCounts(steps: readonly HistoryStep[]): { inserted: number; removed: number; changed: number } {
  const c = { inserted: 0, removed: 0, changed: 0 };
  for (const s of steps) if (s.op !== 'same') c[s.op]++;
  return c;
}
