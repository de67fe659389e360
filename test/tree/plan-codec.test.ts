// The stored plan's encoding: a planned tree survives the store's JSON exactly (but for file hashes, which writers
// never read), hardlinks stay one inode, and a damaged plan is refused rather than written out.
import { describe as group, expect, it } from 'vitest';
import { FormatError } from '../../src/errors.js';
import { planBytes } from '../../src/store/plans.js';
import { decodePlan, planRows, type EncodedPlan } from '../../src/tree/plan-codec.js';
import type { DirNode, Inode, PlannedTree, TreeNode } from '../../src/tree/types.js';
import { b, c, d, f, h, inodeAt, opq, p, plan, s, wh } from '../helpers/layers.js';

/** The text of the bytes the store writes, read back as the store reads them. */
const planText = (tree: PlannedTree, layers: number): string => Buffer.concat([...planBytes(tree, layers)]).toString('latin1');

function roundTrip(tree: PlannedTree, layers: number): PlannedTree {
  return decodePlan(JSON.parse(planText(tree, layers)), layers);
}

/** The tree as the writers see it: file hashes are not kept. */
function withoutHashes(tree: PlannedTree): PlannedTree {
  const inodes = new Map<Inode, Inode>();
  const copy = (node: TreeNode): TreeNode => {
    if (node.kind === 'dir') return { ...node, meta: { ...node.meta }, children: new Map([...node.children].map(([k, v]) => [k, copy(v)])) };
    let inode = inodes.get(node.inode);
    if (inode === undefined) {
      inode = { ...node.inode };
      delete inode.sha256;
      inodes.set(node.inode, inode);
    }
    return { kind: 'leaf', inode };
  };
  return { root: copy(tree.root) as DirNode, warnings: tree.warnings };
}

const mixed = (): PlannedTree =>
  plan([
    [
      d('etc/', { mode: 0o750, uid: 3, gid: 4, mtime: 1700000000.5 }),
      f('etc/passwd', 'root:x:0:0\n', { mode: 0o644, mtime: 12 }),
      f('etc/empty'),
      h('etc/passwd-link', 'etc/passwd'),
      s('etc/alt', '../usr/lib/x', { uid: 7 }),
      h('etc/alt-link', 'etc/alt'),
      f('usr/bin/ping', 'ELF', { mode: 0o4755, xattrs: { 'security.capability': Buffer.from([1, 0, 0, 2]) } }),
      c('dev/null', 1, 3, { mode: 0o666 }),
      b('dev/sda', 8, 0),
      p('run/fifo', { mode: 0o600 }),
      f('caf\xe9', 'latin1 name'),
      d('old/'),
      f('old/x', 'gone later'),
      f('dup', 'first'),
      f('dup', 'second'),
    ],
    [wh('old'), opq('etc'), f('etc/new', 'upper', { uid: 1000, gid: 1000, xattrs: { 'user.note': 'v' } }), d('deep/a/b/c/', { mtime: -5 })],
  ]);

group('planBytes / decodePlan', () => {
  it('gives back the planned tree, but for file hashes: kinds, metadata, xattrs, devices, content places, implied dirs, warnings', () => {
    const tree = mixed();
    expect(tree.warnings.length).toBeGreaterThan(0);
    expect(roundTrip(tree, 2)).toEqual(withoutHashes(tree));
  });

  it('gives back a tree whose plan spans many pieces of the stream', () => {
    const items = Array.from({ length: 3000 }, (_, i) => f(`dir${i % 7}/file-${i}`, `content ${i}`, { uid: i }));
    const tree = plan([items]);
    expect([...planBytes(tree, 1)].length).toBeGreaterThan(2);
    expect(roundTrip(tree, 1)).toEqual(withoutHashes(tree));
  });

  it('keeps hardlinked names one inode (also a hardlinked symlink)', () => {
    const back = roundTrip(
      plan([[f('a', 'x'), h('b', 'a'), h('c', 'a'), s('l', 'a'), h('m', 'l')]]),
      1,
    );
    expect(inodeAt(back, 'b')).toBe(inodeAt(back, 'a'));
    expect(inodeAt(back, 'c')).toBe(inodeAt(back, 'a'));
    expect(inodeAt(back, 'm')).toBe(inodeAt(back, 'l'));
    expect(inodeAt(back, 'l')).not.toBe(inodeAt(back, 'a'));
  });

  it('keeps a content place in layer.tar (offset) and in data/ (sparse copy)', () => {
    const tree = plan([[f('a', 'one'), f('b', 'two')]]);
    inodeAt(tree, 'a').content = { layer: 0, offset: 1536 };
    expect(inodeAt(roundTrip(tree, 1), 'a').content).toEqual({ layer: 0, offset: 1536 });
    expect(inodeAt(roundTrip(tree, 1), 'b').content).toEqual({ layer: 0, data: 1 });
  });

  it('encodes the same tree to the same bytes, whatever order its maps were filled in', () => {
    // Empty files: a file's place in its layer (data/N here) follows the tar's order, and is part of the plan.
    const one = plan([[f('b', '', { mode: 0o600 }), s('a', 'b'), d('z/', { uid: 5 }), f('z/q'), h('z/r', 'b')]]);
    const two = plan([[d('z/', { uid: 5 }), f('b', '', { mode: 0o600 }), h('z/r', 'b'), f('z/q'), s('a', 'b')]]);
    const text = (t: PlannedTree) => planText(t, 1);
    expect(text(one)).toBe(text(two));
    expect(text(roundTrip(one, 1))).toBe(text(one));
  });

  it('refuses to encode a file whose bytes are in another layer than the file (the encoding has no room for it)', () => {
    const tree = plan([[f('a', 'x')], [f('b', 'y')]]);
    inodeAt(tree, 'b').content = { layer: 0, data: 0 };
    expect(() => [...planRows(tree)]).toThrow(FormatError);
  });
});

group('decodePlan refuses a damaged plan (the flatten then merges the layers again)', () => {
  const good = (): EncodedPlan => JSON.parse(planText(plan([[d('a/'), f('a/x', 'hi'), h('a/y', 'a/x'), s('l', 'a')]]), 1));
  const row = (e: EncodedPlan, name: string): unknown[] => e.nodes.find((r) => r[1] === name)!;
  const cases: Array<[string, (e: EncodedPlan) => void]> = [
    ['another format', (e) => ((e as { format: number }).format = 99)],
    ['made for another number of layers', (e) => (e.layers = 2)],
    ['no root first', (e) => e.nodes.shift()],
    ['a parent after its child', (e) => (row(e, 'x')[0] = 99)],
    ['a file as a parent', (e) => e.nodes.push([e.nodes.indexOf(row(e, 'x')), 'z', 'p', 0o644, 0, 0, 0, 0])],
    ['a name twice in one directory', (e) => e.nodes.push([...row(e, 'x')])],
    ['an empty name', (e) => (row(e, 'l')[1] = '')],
    ['an unknown kind', (e) => (row(e, 'l')[2] = 'q')],
    ['a mode past 07777', (e) => (row(e, 'x')[3] = 0o10000)],
    ['a negative owner', (e) => (row(e, 'x')[4] = -1)],
    ['a fractional size', (e) => (row(e, 'x')[8] = 1.5)],
    ['a layer the image does not have', (e) => (row(e, 'x')[7] = 1)],
    ['content and size that disagree', (e) => (row(e, 'x')[8] = 0)],
    ['a hardlink to a directory', (e) => (row(e, 'y')[3] = e.nodes.indexOf(row(e, 'a')))],
    ['a symlink without a target', (e) => (row(e, 'l')[8] = 5)],
    ['a missing field', (e) => row(e, 'x').splice(6, 1)],
    ['xattrs that are not strings', (e) => row(e, 'x').push({ 'user.a': 1 })],
  ];
  it.each(cases)('%s', (_, damage) => {
    const e = good();
    expect(() => decodePlan(e, 1)).not.toThrow();
    damage(e);
    expect(() => decodePlan(e, 1)).toThrow(expect.objectContaining({ code: 'E_PLAN' }));
  });
});
