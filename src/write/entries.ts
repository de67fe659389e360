// What a writer emits: the planned tree as a parents-first, bytewise-sorted list, optionally cut down to a few subtrees.
import { NotFoundError, UnsafeEntryError, UsageError } from '../errors.js';
import type { DirNode, Inode, PlannedTree, TreeNode } from '../tree/types.js';
import { walkTree } from '../tree/walk.js';

export interface WriteEntry {
  /** Cleaned path, a latin1 byte string; never '' (the root is handled by the writers themselves). */
  path: string;
  node: TreeNode;
}

/**
 * Every entry below the root in write order (tree/walk.ts: parents first, siblings bytewise). Names are validated
 * here, not trusted: the planner cleans them, but a writer that joins an unchecked '..' or '/' into a filesystem
 * path is how tar extractors escape. Each directory's names are checked on their own, before any is joined.
 */
export function listEntries(tree: PlannedTree, paths?: readonly string[]): WriteEntry[] {
  const wanted = paths === undefined ? undefined : selection(tree.root, paths);
  assertSafeChildren(tree.root, '');
  const out: WriteEntry[] = [];
  for (const item of walkTree(tree.root)) {
    if (item.node.kind === 'dir') assertSafeChildren(item.node, item.path);
    if (wanted === undefined || isSelected(wanted, item.path)) out.push(item);
  }
  return out;
}

function assertSafeChildren(dir: DirNode, path: string): void {
  for (const name of dir.children.keys()) assertSafeName(name, path);
}

export function assertSafeName(name: string, parent: string): void {
  if (name === '' || name === '.' || name === '..' || name.includes('/') || name.includes('\0')) {
    const where = parent === '' ? '/' : `${parent}/`;
    throw new UnsafeEntryError(`refusing to write entry named ${JSON.stringify(name)} in ${where}: not a single path component`, {
      path: parent,
      name,
    });
  }
}

/** 'all': the path and everything below it; 'ancestor': only the directory itself, on the way to a wanted path. */
type Selection = Map<string, 'all' | 'ancestor'>;

/** undefined when the root itself is asked for: that is everything. */
function selection(root: DirNode, paths: readonly string[]): Selection | undefined {
  const wanted: Selection = new Map();
  for (const p of paths) {
    checkCleaned(p);
    if (p === '') return undefined;
    findNode(root, p);
    const parts = p.split('/');
    for (let i = 1; i < parts.length; i++) {
      const anc = parts.slice(0, i).join('/');
      if (!wanted.has(anc)) wanted.set(anc, 'ancestor');
    }
    wanted.set(p, 'all');
  }
  return wanted;
}

function isSelected(wanted: Selection, p: string): boolean {
  if (wanted.has(p)) return true;
  for (let i = p.lastIndexOf('/'); i > 0; i = p.lastIndexOf('/', i - 1)) {
    if (wanted.get(p.slice(0, i)) === 'all') return true;
  }
  return false;
}

function checkCleaned(p: string): void {
  const bad = p.startsWith('/') || p.endsWith('/') || (p !== '' && p.split('/').some((c) => c === '' || c === '.' || c === '..'));
  if (bad) throw new UsageError(`path ${JSON.stringify(p)} is not a cleaned relative path (no leading or trailing '/', no '.' or '..')`, { path: p });
}

function findNode(root: DirNode, p: string): TreeNode {
  let node: TreeNode = root;
  let seen = '';
  for (const part of p.split('/')) {
    if (node.kind !== 'dir') {
      throw new NotFoundError(`${p}: ${seen} is not a directory in the image`, { path: p });
    }
    const next: TreeNode | undefined = node.children.get(part);
    if (next === undefined) throw new NotFoundError(`${p}: no such path in the image`, { path: p });
    node = next;
    seen = seen === '' ? part : `${seen}/${part}`;
  }
  return node;
}

/** Names of one inode in write order: the first is where its content goes, the rest become hardlinks to it. */
export function firstNames(entries: readonly WriteEntry[]): Map<Inode, string> {
  const first = new Map<Inode, string>();
  for (const { path, node } of entries) {
    if (node.kind === 'leaf' && !first.has(node.inode)) first.set(node.inode, path);
  }
  return first;
}
