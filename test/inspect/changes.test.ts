import { describe, expect, it } from 'vitest';
import { layerChanges } from '../../src/inspect/changes.js';
import { fold } from '../../src/inspect/fold.js';
import { d, f, h, layer, opq, plan, s, wh, type Item } from '../helpers/layers.js';
import { describe as describeTree } from '../helpers/layers.js';
import { walkTree } from '../../src/tree/walk.js';

const counts = (layers: Item[][]) =>
  layerChanges(layers.map((l) => layer(l))).changes.map(({ added, changed, removed, whiteouts, opaques }) => ({ added, changed, removed, whiteouts, opaques }));

describe('layerChanges', () => {
  it('counts names added, changed and removed relative to the tree below', () => {
    const c = counts([
      [d('etc'), f('etc/a', 'one'), f('etc/b', 'two'), d('usr'), f('usr/x', 'x')],
      [d('etc'), f('etc/a', 'ONE'), wh('etc/b'), f('etc/c', 'three')],
      [wh('usr')],
    ]);
    expect(c[0]).toEqual({ added: 5, changed: 0, removed: 0, whiteouts: 0, opaques: 0 });
    // etc re-declared with the same mode is no change; etc/a rewritten is one.
    expect(c[1]).toEqual({ added: 1, changed: 1, removed: 1, whiteouts: 1, opaques: 0 });
    // A whited-out directory removes everything under it too.
    expect(c[2]).toEqual({ added: 0, changed: 0, removed: 2, whiteouts: 1, opaques: 0 });
  });

  it('counts a chmod of a directory as a change but not a new mtime', () => {
    const c = counts([[d('a', { mode: 0o755, mtime: 1 })], [d('a', { mode: 0o755, mtime: 2 })], [d('a', { mode: 0o700 })]]);
    expect(c.map((x) => x.changed)).toEqual([0, 0, 1]);
  });

  it('reads an opaque directory refilled by the same layer as changes, not removals', () => {
    const c = counts([[d('a'), f('a/x', '1'), f('a/y', '2')], [opq('a'), d('a'), f('a/x', '3')]]);
    expect(c[1]).toEqual({ added: 0, changed: 1, removed: 1, whiteouts: 0, opaques: 1 });
  });

  it('counts implied parents as added and a duplicate entry once', () => {
    const c = counts([[f('a/b/c', 'x'), f('a/b/c', 'y')]]);
    expect(c[0].added).toBe(3);
  });

  it('removes the subtree of a directory replaced by a file', () => {
    const c = counts([[d('a'), f('a/x', '1'), f('a/y', '2')], [f('a', 'now a file')]]);
    expect(c[1]).toEqual({ added: 0, changed: 1, removed: 2, whiteouts: 0, opaques: 0 });
  });

  it('writes through a symlinked parent where the planner does', () => {
    const c = counts([[d('usr'), d('usr/lib'), s('lib', 'usr/lib')], [f('lib/libc.so', 'c')]]);
    expect(c[1].added).toBe(1);
    const { root } = fold([layer([d('usr'), d('usr/lib'), s('lib', 'usr/lib')]), layer([f('lib/libc.so', 'c')])]);
    expect([...walkTree(root)].map((i) => i.path)).toContain('usr/lib/libc.so');
  });

  it('builds the same tree as the planner', () => {
    const layers = [
      [d('a'), f('a/x', '1'), s('a/l', '/b'), d('b'), f('b/y', 'y'), h('a/hard', 'a/x')],
      [opq('a'), f('a/z', 'z'), wh('b/y'), f('c/d/e', 'deep')],
      [f('b', 'file over dir'), s('a/z', 'x')],
    ];
    const planned = plan(layers);
    const { root } = fold(layers.map((l) => layer(l)));
    expect(describeTree({ root, warnings: [] })).toEqual(describeTree(planned));
  });

  it('turns a lower file under a marker into an implied directory, as the planner does', () => {
    const layers = [[f('d', 'was a file'), f('e', 'also')], [opq('d'), f('d/x', '1'), wh('e/gone')]];
    const { root } = fold(layers.map((l) => layer(l)));
    expect(describeTree({ root, warnings: [] })).toEqual(describeTree(plan(layers)));
    expect(counts(layers)[1]).toMatchObject({ added: 1, changed: 2, removed: 0 });
  });

  it('skips an entry under a non-directory with a warning instead of failing', () => {
    const r = layerChanges([layer([f('a', 'file')]), layer([f('a/b', 'x')])]);
    expect(r.warnings).toHaveLength(1);
    expect(r.warnings[0]).toMatch(/layer 2: "a\/b": parent "a" is not a directory/);
  });
});
