// Files on the final filesystems: one pair walk over the two planned trees. Content is compared by the
// sha256 the layer indexes already hold, so no file is read; sizes and hardlink groups are gathered on the way.
import type { Inode, Meta, PlannedTree, TreeNode } from '../tree/types.js';
import { attribute, type LayerLabels } from './attribution.js';
import type { PathMatcher } from './glob.js';
import { InodeNames, linkChanges, type LinkChange } from './links.js';
import { childAt } from './lookup.js';
import { nodeKind, nodeLayer, nodeSize, showPath } from './paths.js';
import { SizeTally } from './size.js';
import type { Detail, FileChange, FileStatus, SizeReport } from './types.js';
import { walkPair } from './walk-pair.js';

export interface FileDiffOptions {
  oldLabels: LayerLabels;
  newLabels: LayerLabels;
  /** Compare modification times too (off by default: they differ in nearly every rebuild). */
  mtime?: boolean;
  ignore?: PathMatcher;
}

export interface FileDiff {
  /** In tree order: depth first, names in byte order. */
  changes: FileChange[];
  size: SizeReport;
}

interface Found {
  raw: string;
  change: FileChange;
}

export function diffFiles(oldTree: PlannedTree, newTree: PlannedTree, opts: FileDiffOptions): FileDiff {
  const sizes = new SizeTally();
  const names: [InodeNames, InodeNames] = [new InodeNames(), new InodeNames()];
  const found: Found[] = [];
  walkPair(oldTree.root, newTree.root, (path, o, n) => {
    if (path !== '' && opts.ignore?.(path)) return false;
    if (path !== '' && !path.includes('/')) sizes.enterTop(o?.kind === 'dir' || n?.kind === 'dir' ? path : '');
    count(sizes, names[0], 0, path, o);
    count(sizes, names[1], 1, path, n);
    const change = comparePair(path, o, n, opts);
    if (change) found.push({ raw: path, change });
  });
  const links = linkChanges(oldTree.root, newTree.root, names[0], names[1]);
  const changes = withLinkChanges(found, links, oldTree, newTree, opts);
  return { changes, size: sizes.report(changes) };
}

/** Names every inode and counts a regular file's bytes the first time its inode is met. */
function count(sizes: SizeTally, names: InodeNames, side: 0 | 1, path: string, node: TreeNode | undefined): void {
  if (node?.kind !== 'leaf') return;
  if (names.add(path, node.inode) && node.inode.kind === 'file') sizes.add(side, node.inode.size);
}

function comparePair(path: string, o: TreeNode | undefined, n: TreeNode | undefined, opts: FileDiffOptions): FileChange | undefined {
  if (!o && !n) return undefined;
  if (!o) return makeChange('A', path, o, n, [], opts);
  if (!n) return makeChange('D', path, o, n, [], opts);
  const details = compareNodes(o, n, opts.mtime ?? false);
  if (details.length === 0) return undefined;
  return makeChange(details[0].field === 'type' ? 'T' : 'M', path, o, n, details, opts);
}

function makeChange(status: FileStatus, path: string, o: TreeNode | undefined, n: TreeNode | undefined, details: Detail[], opts: FileDiffOptions): FileChange {
  const change: FileChange = { status, path: showPath(path), kind: {}, size: {}, details };
  if (o) {
    change.kind.old = nodeKind(o);
    change.size.old = nodeSize(o);
  }
  if (n) {
    change.kind.new = nodeKind(n);
    change.size.new = nodeSize(n);
  }
  // What NEW holds came from NEW's layers; a removal is explained by the OLD layer that had made the path.
  const attribution = n ? attribute(opts.newLabels, nodeLayer(n)) : o ? attribute(opts.oldLabels, nodeLayer(o)) : undefined;
  if (attribution) change.attribution = attribution;
  return change;
}

/** What differs between two nodes at the same path; a type change comes first. */
export function compareNodes(o: TreeNode, n: TreeNode, mtime: boolean): Detail[] {
  const details: Detail[] = [];
  const ok = nodeKind(o);
  const nk = nodeKind(n);
  if (ok !== nk) details.push({ field: 'type', old: ok, new: nk });
  else if (o.kind === 'leaf' && n.kind === 'leaf') inodeDetails(o.inode, n.inode, details);
  const meta = metaDetails(metaOf(o), metaOf(n), mtime);
  return meta.length ? details.concat(meta) : details;
}

function inodeDetails(o: Inode, n: Inode, out: Detail[]): void {
  if (o.kind === 'file') {
    if ((o.sha256 ?? '') !== (n.sha256 ?? '') || o.size !== n.size) out.push({ field: 'content', old: o.sha256 ?? null, new: n.sha256 ?? null });
    if (o.size !== n.size) out.push({ field: 'size', old: o.size, new: n.size });
  } else if (o.kind === 'symlink') {
    if (o.linkname !== n.linkname) out.push({ field: 'target', old: o.linkname ?? '', new: n.linkname ?? '' });
  } else if (o.kind === 'char' || o.kind === 'block') {
    const od = `${o.devmajor ?? 0},${o.devminor ?? 0}`;
    const nd = `${n.devmajor ?? 0},${n.devminor ?? 0}`;
    if (od !== nd) out.push({ field: 'device', old: od, new: nd });
  }
}

function metaOf(node: TreeNode): Meta {
  return node.kind === 'dir' ? node.meta : node.inode.meta;
}

export function metaDetails(o: Meta, n: Meta, mtime: boolean): Detail[] {
  const out: Detail[] = [];
  if (o.mode !== n.mode) out.push({ field: 'mode', old: octal(o.mode), new: octal(n.mode) });
  if (o.uid !== n.uid) out.push({ field: 'uid', old: o.uid, new: n.uid });
  if (o.gid !== n.gid) out.push({ field: 'gid', old: o.gid, new: n.gid });
  if (o.xattrs !== n.xattrs) xattrDetails(o.xattrs ?? {}, n.xattrs ?? {}, out);
  if (mtime && o.mtime !== n.mtime) out.push({ field: 'mtime', old: o.mtime, new: n.mtime });
  return out;
}

function xattrDetails(o: Record<string, string>, n: Record<string, string>, out: Detail[]): void {
  const names = [...new Set([...Object.keys(o), ...Object.keys(n)])].sort();
  for (const name of names) {
    const ov = o[name] ?? null;
    const nv = n[name] ?? null;
    if (ov !== nv) out.push({ field: 'xattr', name, old: ov, new: nv });
  }
}

export function octal(mode: number): string {
  return (mode & 0o7777).toString(8).padStart(4, '0');
}

/** Links are known only once both walks are complete: add their details, then restore tree order. */
function withLinkChanges(found: Found[], links: LinkChange[], oldTree: PlannedTree, newTree: PlannedTree, opts: FileDiffOptions): FileChange[] {
  if (links.length === 0) return found.map((f) => f.change);
  const byPath = new Map(found.map((f) => [f.raw, f]));
  for (const l of links) {
    const hit = byPath.get(l.path);
    if (hit) hit.change.details.push(l.detail);
    else found.push({ raw: l.path, change: makeChange('M', l.path, childAt(oldTree.root, l.path), childAt(newTree.root, l.path), [l.detail], opts) });
  }
  // Depth-first order with sorted siblings is byte order once '/' sorts below every other byte.
  const key = (p: string): string => p.replaceAll('/', '\0');
  found.sort((a, b) => (key(a.raw) < key(b.raw) ? -1 : key(a.raw) > key(b.raw) ? 1 : 0));
  return found.map((f) => f.change);
}
