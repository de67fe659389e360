import { describe, expect, it } from 'vitest';
import { alignHistory, historyRows } from '../../src/inspect/history.js';
import type { HistoryEntry } from '../../src/spec/types.js';

const step = (created_by: string, empty = false): HistoryEntry => (empty ? { created_by, empty_layer: true } : { created_by });

describe('alignHistory', () => {
  it('skips empty_layer entries: buildkit and docker classic put ENV/CMD steps between layers', () => {
    const history = [step('ADD rootfs'), step('CMD sh', true), step('COPY a'), step('ENV X=1', true), step('RUN make'), step('ENTRYPOINT x', true)];
    const a = alignHistory({ history }, 3);
    expect(a.byLayer.map((h) => h?.created_by)).toEqual(['ADD rootfs', 'COPY a', 'RUN make']);
    expect(a.steps.map((s) => s.layer)).toEqual([0, undefined, 1, undefined, 2, undefined]);
    expect(a.problem).toBeUndefined();
  });

  it('reports more non-empty entries than layers instead of failing', () => {
    const a = alignHistory({ history: [step('one'), step('two'), step('three')] }, 2);
    expect(a.byLayer.map((h) => h?.created_by)).toEqual(['one', 'two']);
    expect(a.problem).toMatch(/3 entries that made a layer but the image has 2 layers; the last 1 match no layer/);
    expect(a.steps[2]).toEqual({ historyIndex: 2, entry: { created_by: 'three' } });
  });

  it('reports layers the history does not reach and still lists them', () => {
    const a = alignHistory({ history: [step('one')] }, 3);
    expect(a.problem).toMatch(/layers 2-3 have no history entry/);
    expect(a.steps.map((s) => s.layer)).toEqual([0, 1, 2]);
  });

  it('accepts a config without history (it is optional)', () => {
    const a = alignHistory({}, 2);
    expect(a.problem).toBeUndefined();
    expect(a.byLayer).toEqual([undefined, undefined]);
  });

  it('treats only empty_layer: true as empty', () => {
    const a = alignHistory({ history: [{ created_by: 'x', empty_layer: false }] }, 1);
    expect(a.byLayer[0]?.created_by).toBe('x');
  });
});

describe('historyRows', () => {
  it('lists newest first with 0 B for empty steps and unpacked sizes where known', () => {
    const rows = historyRows({ history: [step('ADD'), step('CMD', true), step('RUN')] }, [100, 200], [1000, undefined]);
    expect(rows.map((r) => [r.layer, r.createdBy, r.size, r.sizeIs])).toEqual([
      [2, 'RUN', 200, 'compressed'],
      [undefined, 'CMD', 0, 'empty'],
      [1, 'ADD', 1000, 'unpacked'],
    ]);
  });
});
