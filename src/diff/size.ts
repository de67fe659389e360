// Size accounting during the pair walk: each inode counted once per side (hardlinks share bytes),
// grouped by top-level directory, so "where did the 40 MB go" needs no second pass.
import type { Inode, TreeNode } from '../tree/types.js';
import { showPath } from './paths.js';
import type { FileChange, SizeEntry, SizeReport } from './types.js';

const LARGEST = 20;

export class SizeTally {
  private readonly seen: [Set<Inode>, Set<Inode>] = [new Set(), new Set()];
  private readonly byTop = new Map<string, [number, number]>();
  private readonly total: [number, number] = [0, 0];

  add(side: 0 | 1, path: string, node: TreeNode | undefined): void {
    if (!node || node.kind !== 'leaf' || node.inode.kind !== 'file') return;
    const inode = node.inode;
    if (this.seen[side].has(inode)) return;
    this.seen[side].add(inode);
    this.total[side] += inode.size;
    const slash = path.indexOf('/');
    const top = slash < 0 ? '' : path.slice(0, slash);
    let row = this.byTop.get(top);
    if (!row) this.byTop.set(top, (row = [0, 0]));
    row[side] += inode.size;
  }

  report(changes: readonly FileChange[]): SizeReport {
    const byTopLevel: SizeEntry[] = [...this.byTop].map(([top, [o, n]]) => ({ path: showPath(top), old: o, new: n, delta: n - o }));
    byTopLevel.sort((x, y) => Math.abs(y.delta) - Math.abs(x.delta) || (x.path < y.path ? -1 : 1));
    return { old: this.total[0], new: this.total[1], delta: this.total[1] - this.total[0], byTopLevel, largest: largestChanges(changes) };
  }
}

function largestChanges(changes: readonly FileChange[]): SizeReport['largest'] {
  const rows = changes
    .map((c) => ({ path: c.path, status: c.status, old: c.size.old ?? 0, new: c.size.new ?? 0, delta: (c.size.new ?? 0) - (c.size.old ?? 0) }))
    .filter((r) => r.delta !== 0);
  rows.sort((x, y) => Math.abs(y.delta) - Math.abs(x.delta) || (x.path < y.path ? -1 : 1));
  return rows.slice(0, LARGEST);
}
