// Size accounting during the pair walk: each inode counted once per side (hardlinks share bytes),
// grouped by top-level directory, so "where did the 40 MB go" needs no second pass.
import { showPath } from './paths.js';
import type { FileChange, SizeEntry, SizeReport } from './types.js';

const LARGEST = 20;

export class SizeTally {
  private readonly byTop = new Map<string, [number, number]>();
  private readonly total: [number, number] = [0, 0];
  private row: [number, number] = this.rowFor('');

  /** The walk is depth first: everything after a top-level name, up to the next one, lies below it. */
  enterTop(top: string): void {
    this.row = this.rowFor(top);
  }

  add(side: 0 | 1, bytes: number): void {
    this.total[side] += bytes;
    this.row[side] += bytes;
  }

  private rowFor(top: string): [number, number] {
    let row = this.byTop.get(top);
    if (!row) this.byTop.set(top, (row = [0, 0]));
    return row;
  }

  report(changes: readonly FileChange[]): SizeReport {
    const byTopLevel: SizeEntry[] = [...this.byTop]
      .filter(([, [o, n]]) => o + n > 0)
      .map(([top, [o, n]]) => ({ path: showPath(top), old: o, new: n, delta: n - o }));
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
