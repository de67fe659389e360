// A planned tree as plain JSON data and back: what the store keeps per layer chain (store/plans.ts), so a flatten
// of an image it has planned before reads one list instead of every layer's index and merging them again.
// Pure. One array per node, parents before children: decoding is one pass with no path work.
// It keeps what the writers need; file hashes are left out (ContentRef and sizes are what they copy by).
import { FormatError } from '../errors.js';
import { comparePaths } from '../layer/names.js';
import type { DirNode, Inode, Meta, PlannedTree, PlanWarning, TreeNode } from './types.js';

/** Bump whenever the encoding or the planner's semantics change: a store's older plans are then planned again. */
export const PLAN_FORMAT = 1;

/**
 * [parent, name, kind, mode, uid, gid, mtime, layer, ...by kind, xattrs?]; the root is node 0 with parent -1.
 *   d: implied (0|1)      f: size, offset (-1: none), data (-1: none)      s: linkname
 *   c, b: devmajor, devminor (-1: none)      p: nothing
 * A further name of an earlier inode (a hardlink) is [parent, name, 'h', index of the inode's first name].
 */
export type Row = unknown[];

export interface EncodedPlan {
  format: typeof PLAN_FORMAT;
  /** Layers applied: indexes of ContentRef.layer and of `layer` fields are below it. */
  layers: number;
  warnings: PlanWarning[];
  nodes: Row[];
}

const KIND_CODE = { dir: 'd', file: 'f', symlink: 's', char: 'c', block: 'b', fifo: 'p' } as const;
const FIXED = 8;
const EXTRA: Record<string, number> = { d: 1, f: 3, s: 1, c: 2, b: 2, p: 0 };

/** The nodes of a tree as rows, parents first: what EncodedPlan.nodes holds, one at a time (store/plans.ts streams them). */
export function* planRows(tree: PlannedTree): Generator<Row> {
  const first = new Map<Inode, number>();
  yield [-1, '', ...dirRow(tree.root)];
  let count = 1;
  // Depth first, parents before children, siblings bytewise (as walkTree): the same tree always encodes the same.
  const stack: Array<[number, string, TreeNode]> = [];
  const push = (parent: number, dir: DirNode): void => {
    const names = [...dir.children.keys()].sort(comparePaths);
    for (let i = names.length - 1; i >= 0; i--) stack.push([parent, names[i], dir.children.get(names[i])!]);
  };
  push(0, tree.root);
  while (stack.length > 0) {
    const [parent, name, node] = stack.pop()!;
    const at = count++;
    if (node.kind === 'dir') {
      yield [parent, name, ...dirRow(node)];
      push(at, node);
      continue;
    }
    const seen = first.get(node.inode);
    if (seen !== undefined) {
      yield [parent, name, 'h', seen];
      continue;
    }
    first.set(node.inode, at);
    yield [parent, name, ...inodeRow(node.inode)];
  }
}

function dirRow(dir: DirNode): Row {
  return withXattrs([KIND_CODE.dir, ...metaRow(dir.meta), dir.layer, dir.implied ? 1 : 0], dir.meta);
}

function inodeRow(inode: Inode): Row {
  const head = [KIND_CODE[inode.kind], ...metaRow(inode.meta), inode.layer];
  if (inode.content !== undefined && inode.content.layer !== inode.layer) {
    // The planner never makes one; the encoding has no room for it, so refuse rather than lose it.
    throw new FormatError(`cannot encode a plan whose file content comes from another layer than the file`);
  }
  switch (inode.kind) {
    case 'file':
      return withXattrs([...head, inode.size, inode.content?.offset ?? -1, inode.content?.data ?? -1], inode.meta);
    case 'symlink':
      return withXattrs([...head, inode.linkname ?? ''], inode.meta);
    case 'char':
    case 'block':
      return withXattrs([...head, inode.devmajor ?? -1, inode.devminor ?? -1], inode.meta);
    case 'fifo':
      return withXattrs(head, inode.meta);
  }
}

function metaRow(m: Meta): number[] {
  return [m.mode, m.uid, m.gid, m.mtime];
}

function withXattrs(row: Row, meta: Meta): Row {
  if (meta.xattrs !== undefined) row.push(meta.xattrs);
  return row;
}

/**
 * The tree whose planRows these are (without file hashes). Every field is checked: a damaged plan is refused with a
 * FormatError, and the caller plans again from the layer indexes. Names are not judged here; the writers do that.
 * Written for V8's interpreter (a flatten from the store runs without the optimizing compiler, cli/shared.ts):
 * indexed reads, no destructuring, no closure per node.
 */
export function decodePlan(value: unknown, layers: number): PlannedTree {
  const plan = value as Partial<EncodedPlan> | null;
  if (plan === null || typeof plan !== 'object' || plan.format !== PLAN_FORMAT) throw bad('not a plan of format ' + PLAN_FORMAT);
  if (plan.layers !== layers) throw bad(`made for ${String(plan.layers)} layers, not ${layers}`);
  if (!Array.isArray(plan.nodes) || plan.nodes.length === 0 || !Array.isArray(plan.warnings)) throw bad('no nodes');
  const rows = plan.nodes as unknown[];
  const decoded: TreeNode[] = new Array(rows.length);
  const root = rows[0];
  if (!Array.isArray(root) || root[0] !== -1 || root[1] !== '' || root[2] !== 'd') throw bad('node 0 is not the root');
  decoded[0] = decodeDir(root, 0, layers);
  for (let i = 1; i < rows.length; i++) {
    const row = rows[i];
    if (!Array.isArray(row)) throw bad(`node ${i} is not an array`);
    const p = row[0];
    const name = row[1];
    const parent = typeof p === 'number' && p >= 0 && p < i ? decoded[p] : undefined;
    if (parent === undefined || parent.kind !== 'dir') throw bad(`node ${i}: parent ${String(p)} is not an earlier directory`);
    if (typeof name !== 'string' || name === '' || parent.children.has(name)) throw bad(`node ${i}: bad or repeated name`);
    const node = row[2] === 'd' ? decodeDir(row, i, layers) : row[2] === 'h' ? decodeLink(row, i, decoded) : { kind: 'leaf' as const, inode: decodeInode(row, i, layers) };
    parent.children.set(name, node);
    decoded[i] = node;
  }
  return { root: decoded[0] as DirNode, warnings: plan.warnings as PlanWarning[] };
}

const KIND_OF: Record<string, Inode['kind']> = { f: 'file', s: 'symlink', c: 'char', b: 'block', p: 'fifo' };

function decodeDir(row: unknown[], i: number, layers: number): DirNode {
  const dir: DirNode = { kind: 'dir', meta: decodeMeta(row, i, 1), children: new Map(), layer: integer(row[7], -1, i, layers - 1) };
  if (row[FIXED] === 1) dir.implied = true;
  else if (row[FIXED] !== 0) throw bad(`node ${i}: bad implied flag`);
  return dir;
}

function decodeLink(row: unknown[], i: number, decoded: TreeNode[]): TreeNode {
  const target = row[3];
  const linked = row.length === 4 && typeof target === 'number' && target >= 0 && target < i ? decoded[target] : undefined;
  if (linked === undefined || linked.kind !== 'leaf') throw bad(`node ${i}: hardlink to ${String(target)}, not an earlier file`);
  return { kind: 'leaf', inode: linked.inode };
}

function decodeInode(row: unknown[], i: number, layers: number): Inode {
  const code = row[2];
  const kind = typeof code === 'string' && Object.hasOwn(KIND_OF, code) ? KIND_OF[code] : undefined;
  if (kind === undefined) throw bad(`node ${i}: unknown kind ${JSON.stringify(code)}`);
  const inode: Inode = { kind, meta: decodeMeta(row, i, EXTRA[code as string]), size: 0, layer: integer(row[7], 0, i, layers - 1) };
  if (kind === 'file') {
    inode.size = integer(row[FIXED], 0, i);
    const offset = integer(row[FIXED + 1], -1, i);
    const data = integer(row[FIXED + 2], -1, i);
    if (offset >= 0 && data >= 0) throw bad(`node ${i}: both an offset and a data file`);
    if (offset >= 0) inode.content = { layer: inode.layer, offset };
    else if (data >= 0) inode.content = { layer: inode.layer, data };
    if ((inode.content === undefined) !== (inode.size === 0)) throw bad(`node ${i}: content and size disagree`);
  } else if (kind === 'symlink') {
    if (typeof row[FIXED] !== 'string') throw bad(`node ${i}: symlink without a target`);
    inode.linkname = row[FIXED];
  } else if (kind === 'char' || kind === 'block') {
    const major = integer(row[FIXED], -1, i);
    const minor = integer(row[FIXED + 1], -1, i);
    if (major >= 0) inode.devmajor = major;
    if (minor >= 0) inode.devminor = minor;
  }
  return inode;
}

/** `extra`: the fields after the fixed ones for this kind; one more is its xattrs. */
function decodeMeta(row: unknown[], i: number, extra: number): Meta {
  if (row.length !== FIXED + extra && row.length !== FIXED + extra + 1) throw bad(`node ${i}: ${row.length} fields`);
  const mtime = row[6];
  if (typeof mtime !== 'number' || !Number.isFinite(mtime)) throw bad(`node ${i}: bad mtime`);
  const meta: Meta = { mode: integer(row[3], 0, i, 0o7777), uid: integer(row[4], 0, i), gid: integer(row[5], 0, i), mtime };
  if (row.length === FIXED + extra + 1) meta.xattrs = decodeXattrs(row[row.length - 1], i);
  return meta;
}

function decodeXattrs(value: unknown, i: number): Record<string, string> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw bad(`node ${i}: bad xattrs`);
  for (const v of Object.values(value)) if (typeof v !== 'string') throw bad(`node ${i}: bad xattr value`);
  return value as Record<string, string>;
}

function integer(v: unknown, min: number, i: number, max = Number.MAX_SAFE_INTEGER): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) throw bad(`node ${i}: ${String(v)} out of range`);
  return v;
}

function bad(why: string): FormatError {
  return new FormatError(`stored plan: ${why}`, {}, 'E_PLAN');
}
