// Package changes across ecosystems. A database file whose sha256 is the same in both trees cannot change
// any package, so only files that differ are read from the store, and most diffs read none.
import { LimitError } from '../../errors.js';
import type { Inode, PlannedTree } from '../../tree/types.js';
import { childAt } from '../lookup.js';
import type { ChangeKind, PackageChange } from '../types.js';
import { apk } from './apk.js';
import { dpkg } from './dpkg.js';
import type { PackageEcosystem } from './types.js';

export type { PackageEcosystem } from './types.js';

export const ECOSYSTEMS: readonly PackageEcosystem[] = [dpkg, apk];

/** Reads a regular file's bytes from the store. */
export type ReadInode = (inode: Inode) => Promise<Buffer>;

export interface PackageSide {
  tree: PlannedTree;
  read: ReadInode;
}

const MAX_DB_BYTES = 256 * 1024 * 1024;

export async function diffPackages(oldSide: PackageSide, newSide: PackageSide, ecosystems = ECOSYSTEMS): Promise<PackageChange[]> {
  const out: PackageChange[] = [];
  for (const eco of ecosystems) {
    const o = files(eco, oldSide.tree);
    const n = files(eco, newSide.tree);
    const changed = [...new Set([...o.keys(), ...n.keys()])].filter((p) => !sameContent(o.get(p), n.get(p)));
    if (changed.length === 0) continue;
    const before = await parseAll(eco, changed, o, oldSide.read);
    const after = await parseAll(eco, changed, n, newSide.read);
    out.push(...comparePackages(eco.name, before, after));
  }
  return out;
}

function files(eco: PackageEcosystem, tree: PlannedTree): Map<string, Inode> {
  const m = new Map<string, Inode>();
  for (const p of eco.paths(tree)) {
    const node = childAt(tree.root, p);
    if (node?.kind === 'leaf' && node.inode.kind === 'file') m.set(p, node.inode);
  }
  return m;
}

function sameContent(a: Inode | undefined, b: Inode | undefined): boolean {
  return a !== undefined && b !== undefined && a.size === b.size && a.sha256 === b.sha256;
}

async function parseAll(eco: PackageEcosystem, paths: string[], inodes: Map<string, Inode>, read: ReadInode): Promise<Map<string, string>> {
  const all = new Map<string, string>();
  for (const p of paths) {
    const inode = inodes.get(p);
    if (!inode) continue;
    if (inode.size > MAX_DB_BYTES) throw new LimitError(`/${p}: ${inode.size} bytes, over the ${MAX_DB_BYTES}-byte limit for a package database`, { path: p });
    for (const [name, version] of eco.parse(await read(inode), p)) all.set(name, version);
  }
  return all;
}

export function comparePackages(ecosystem: string, before: Map<string, string>, after: Map<string, string>): PackageChange[] {
  const names = [...new Set([...before.keys(), ...after.keys()])].sort();
  const out: PackageChange[] = [];
  for (const name of names) {
    const o = before.get(name) ?? null;
    const n = after.get(name) ?? null;
    if (o === n) continue;
    const change: ChangeKind = o === null ? 'added' : n === null ? 'removed' : 'changed';
    out.push({ ecosystem, name, change, old: o, new: n });
  }
  return out;
}
