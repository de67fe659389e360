import { expect, it } from 'vitest';
import { planTree } from '../../src/tree/plan.js';
import { walkTree } from '../../src/tree/walk.js';
import { d, f, layer, plan, s } from '../helpers/layers.js';

it('walks depth-first, parents first, siblings in byte order', () => {
  const t = plan([[f('a-b'), f('a/x'), d('a/'), f('B'), s('caf\xe9', 'x'), f('caf\xe8/y'), f('a/c/z')]]);
  expect([...walkTree(t.root)].map((i) => i.path)).toEqual(['B', 'a', 'a/c', 'a/c/z', 'a/x', 'a-b', 'caf\xe8', 'caf\xe8/y', 'caf\xe9']);
});

it('yields the root first only when asked', () => {
  const t = plan([[f('x')]]);
  expect([...walkTree(t.root, { includeRoot: true })].map((i) => i.path)).toEqual(['', 'x']);
  expect([...walkTree(t.root, { includeRoot: true })][0].node).toBe(t.root);
});

it('handles a very deep tree without recursion', () => {
  const deep = Array.from({ length: 5000 }, () => 'd').join('/');
  const t = planTree([layer([f(`${deep}/leaf`)])]);
  let n = 0;
  for (const _ of walkTree(t.root)) n++;
  expect(n).toBe(5001);
});
