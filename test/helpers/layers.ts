// Tiny in-memory layers for merge tests: tar headers built in code, read through classifyEntry
// exactly as the indexer does, then planned; plus a one-line-per-path description of a tree.
import { createHash } from 'node:crypto';
import { classifyEntry, type ClassifyOptions } from '../../src/layer/classify.js';
import type { LayerEntry } from '../../src/layer/entry.js';
import type { TarEntryType, TarHeader } from '../../src/tar/types.js';
import { planTree, type PlanOptions } from '../../src/tree/plan.js';
import { lookup } from '../../src/tree/resolve.js';
import type { Inode, PlannedTree, TreeNode } from '../../src/tree/types.js';
import { walkTree } from '../../src/tree/walk.js';

export interface Item {
  header: TarHeader;
  content: Buffer;
}

export interface Attrs {
  mode?: number;
  uid?: number;
  gid?: number;
  mtime?: number;
  xattrs?: Record<string, Buffer | string>;
}

/** sha256 hex -> content, so a tree can be described by what its files hold. */
const contents = new Map<string, string>();

export function header(name: string, type: TarEntryType, attrs: Attrs = {}, extra: Partial<TarHeader> = {}): TarHeader {
  const xattrs = new Map(Object.entries(attrs.xattrs ?? {}).map(([k, v]) => [k, Buffer.isBuffer(v) ? v : Buffer.from(v, 'latin1')]));
  const mode = attrs.mode ?? (type === 'dir' ? 0o755 : type === 'symlink' ? 0o777 : 0o644);
  return { name, type, mode, uid: attrs.uid ?? 0, gid: attrs.gid ?? 0, uname: '', gname: '', size: 0, mtime: attrs.mtime ?? 0, linkname: '', devmajor: 0, devminor: 0, xattrs, ...extra };
}

export const f = (name: string, content: string | Buffer = '', attrs?: Attrs): Item => {
  const buf = Buffer.isBuffer(content) ? content : Buffer.from(content, 'latin1');
  return { header: header(name, 'file', attrs, { size: buf.length }), content: buf };
};
export const d = (name: string, attrs?: Attrs): Item => item(header(name, 'dir', attrs));
export const s = (name: string, target: string, attrs?: Attrs): Item => item(header(name, 'symlink', attrs, { linkname: target }));
export const h = (name: string, target: string, attrs?: Attrs): Item => item(header(name, 'hardlink', attrs, { linkname: target }));
export const c = (name: string, major: number, minor: number, attrs?: Attrs): Item => item(header(name, 'char', attrs, { devmajor: major, devminor: minor }));
export const b = (name: string, major: number, minor: number, attrs?: Attrs): Item => item(header(name, 'block', attrs, { devmajor: major, devminor: minor }));
export const p = (name: string, attrs?: Attrs): Item => item(header(name, 'fifo', attrs));

/** `wh x` = an empty regular file dirname(x)/.wh.basename(x). */
export const wh = (path: string): Item => {
  const i = path.lastIndexOf('/');
  return f(i < 0 ? `.wh.${path}` : `${path.slice(0, i)}/.wh.${path.slice(i + 1)}`);
};
/** `opq x/` = an empty regular file x/.wh..wh..opq. */
export const opq = (dir: string): Item => f(`${dir.replace(/\/+$/, '')}/.wh..wh..opq`);

function item(hdr: TarHeader): Item {
  return { header: hdr, content: Buffer.alloc(0) };
}

export interface BuiltLayer {
  entries: LayerEntry[];
  warnings: string[];
}

/** Classifies the headers and gives regular files a sha256 and a data ordinal, like the indexer. */
export function layer(items: readonly Item[], opts: ClassifyOptions = {}): BuiltLayer {
  const entries: LayerEntry[] = [];
  const warnings: string[] = [];
  let data = 0;
  for (const it of items) {
    const r = classifyEntry(it.header, opts);
    warnings.push(...r.warnings);
    for (const e of [r.opaque, r.entry]) {
      if (!e) continue;
      const entry: LayerEntry = { ...e };
      if (entry.kind === 'file') {
        entry.sha256 = sha256(it.content);
        contents.set(entry.sha256, it.content.toString('latin1'));
        if (entry.size > 0) entry.data = data++;
      }
      entries.push(entry);
    }
  }
  return { entries, warnings };
}

/** Builds every layer, then plans them; index warnings are kept beside the plan's. */
export function plan(layers: readonly (readonly Item[])[], opts: PlanOptions & ClassifyOptions = {}): PlannedTree & { indexWarnings: string[] } {
  const built = layers.map((l) => layer(l, opts));
  const tree = planTree(built, opts);
  return { ...tree, indexWarnings: built.flatMap((l) => l.warnings) };
}

export function sha256(buf: Buffer | string): string {
  return createHash('sha256').update(buf).digest('hex');
}

/** One line per path, root omitted: `d/`, `f="content"`, `l -> target`, `c 1:3`, `b 8:0`, `p|`. */
export function describe(tree: PlannedTree): string[] {
  const out: string[] = [];
  for (const { path, node } of walkTree(tree.root)) out.push(describeNode(path, node));
  return out;
}

function describeNode(path: string, node: TreeNode): string {
  if (node.kind === 'dir') return `${path}/`;
  const i = node.inode;
  switch (i.kind) {
    case 'file':
      return `${path}=${JSON.stringify(i.sha256 === undefined ? '?' : contents.get(i.sha256) ?? `sha256:${i.sha256}`)}`;
    case 'symlink':
      return `${path} -> ${i.linkname}`;
    case 'char':
    case 'block':
      return `${path} ${i.kind[0]}${i.devmajor}:${i.devminor}`;
    case 'fifo':
      return `${path}|`;
  }
}

/** The node at a path, last component not followed; throws when absent so tests read plainly. */
export function nodeAt(tree: PlannedTree, path: string): TreeNode {
  const r = lookup(tree.root, path, { followLast: false });
  if (!r) throw new Error(`${path}: not in the tree`);
  return r.node;
}

export function inodeAt(tree: PlannedTree, path: string): Inode {
  const n = nodeAt(tree, path);
  if (n.kind !== 'leaf') throw new Error(`${path}: a directory`);
  return n.inode;
}

export function modeAt(tree: PlannedTree, path: string): number {
  const n = nodeAt(tree, path);
  return n.kind === 'dir' ? n.meta.mode : n.inode.meta.mode;
}
