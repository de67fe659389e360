import { describe, expect, it } from 'vitest';
import { analyzeWaste, checkThreshold, parseThreshold } from '../../src/inspect/waste.js';
import { d, f, h, layer, opq, s, wh, type Item } from '../helpers/layers.js';

const waste = (layers: Item[][]) => analyzeWaste(layers.map((l) => layer(l)));
const big = (n: number, c = 'x') => c.repeat(n);

describe('analyzeWaste', () => {
  it('charges an overwritten file to the layer holding it and the layer that overwrote it', () => {
    const r = waste([[f('data.bin', big(1000))], [f('data.bin', big(1200, 'y'))]]);
    expect(r.items).toEqual([
      expect.objectContaining({ kind: 'overwritten', path: 'data.bin', size: 1000, layer: 0, by: 1, how: 'replaced', at: 'data.bin' }),
    ]);
    expect(r).toMatchObject({ totalBytes: 2200, finalBytes: 1200, deadBytes: 1000, duplicateBytes: 0, wastedBytes: 1000 });
    expect(r.efficiency).toBeCloseTo(1200 / 2200);
  });

  it('counts files deleted by whiteouts, opaque dirs and replaced parents', () => {
    const r = waste([
      [d('cache'), f('cache/a', big(100)), d('tmp'), f('tmp/b', big(50)), d('opt'), f('opt/c', big(10))],
      [wh('cache'), opq('tmp'), s('opt', '/usr')],
    ]);
    expect(r.items.map((i) => [i.kind, i.path, i.size, i.layer, i.by, i.how, i.at])).toEqual([
      ['deleted', 'cache/a', 100, 0, 1, 'whiteout', 'cache'],
      ['deleted', 'tmp/b', 50, 0, 1, 'opaque', 'tmp'],
      ['deleted', 'opt/c', 10, 0, 1, 'replaced', 'opt'],
    ]);
    expect(r.groups).toEqual([{ kind: 'deleted', layer: 0, by: 1, bytes: 160, files: 3, largest: 'cache/a' }]);
  });

  it('keeps content alive through a hardlink whose other name was deleted', () => {
    const r = waste([[f('a', big(100)), h('b', 'a')], [wh('a')]]);
    expect(r.wastedBytes).toBe(0);
    expect(r.totalBytes).toBe(100);
  });

  it('counts content a later layer stores again while the first copy lives', () => {
    const r = waste([[f('lib/x.so', big(300))], [f('app/x.so', big(300)), f('app/y', big(300, 'z')), f('app/y2', big(300, 'z'))]]);
    expect(r.items).toEqual([expect.objectContaining({ kind: 'duplicate', path: 'app/x.so', size: 300, layer: 1, by: 1, original: { layer: 0, path: 'lib/x.so' } })]);
    expect(r.duplicateBytes).toBe(300);
    expect(r.efficiency).toBeCloseTo(900 / 1200);
  });

  it('counts a duplicate entry in one layer as overwritten by that layer', () => {
    const r = waste([[f('x', big(10)), f('x', big(20, 'y'))]]);
    expect(r.items).toEqual([expect.objectContaining({ kind: 'overwritten', layer: 0, by: 0, size: 10 })]);
  });

  it('scores an image without file bytes as fully efficient', () => {
    expect(waste([[d('a')]]).efficiency).toBe(1);
  });
});

describe('--fail-over', () => {
  it('parses sizes and percentages', () => {
    expect(parseThreshold('10MB')).toEqual({ bytes: 10_000_000 });
    expect(parseThreshold('1.5 kB')).toEqual({ bytes: 1500 });
    expect(parseThreshold('2MiB')).toEqual({ bytes: 2 * 1024 * 1024 });
    expect(parseThreshold('4096')).toEqual({ bytes: 4096 });
    expect(parseThreshold('5%')).toEqual({ percent: 5 });
    expect(() => parseThreshold('lots')).toThrow(/expected bytes/);
    expect(() => parseThreshold('5 parsecs')).toThrow(/expected bytes/);
  });

  it('is over only when strictly above', () => {
    const r = waste([[f('a', big(100))], [f('a', big(100, 'b'))]]);
    expect(checkThreshold(r, { bytes: 100 }).over).toBe(false);
    expect(checkThreshold(r, { bytes: 99 }).over).toBe(true);
    expect(checkThreshold(r, { percent: 50 }).over).toBe(false);
    expect(checkThreshold(r, { percent: 49.9 }).over).toBe(true);
  });
});
