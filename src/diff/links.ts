// Hardlink grouping: names sharing one Inode object form a group. A path whose group differs between
// the images (a name joined or left it) is modified even when its bytes and metadata are the same.
import type { Inode, LeafNode } from '../tree/types.js';
import { showPath } from './paths.js';
import type { Detail } from './types.js';

export interface CommonLeaf {
  path: string;
  /** Position in the walk, so a links-only change can be put back in tree order. */
  seq: number;
  old: LeafNode;
  new: LeafNode;
}

export class LinkTracker {
  // A lone name is kept as a string: nearly every inode has one, and this runs once per path.
  private readonly groups: [Map<Inode, string | string[]>, Map<Inode, string | string[]>] = [new Map(), new Map()];
  private readonly common: CommonLeaf[] = [];

  record(side: 0 | 1, path: string, inode: Inode): void {
    const map = this.groups[side];
    const g = map.get(inode);
    if (g === undefined) map.set(inode, path);
    else if (typeof g === 'string') map.set(inode, [g, path]);
    else g.push(path);
  }

  both(leaf: CommonLeaf): void {
    this.common.push(leaf);
  }

  /** Every path present in both trees whose group changed, with its 'links' detail. */
  changed(): (CommonLeaf & { detail: Detail })[] {
    const out: (CommonLeaf & { detail: Detail })[] = [];
    for (const c of this.common) {
      const og = this.groups[0].get(c.old.inode) ?? c.path;
      const ng = this.groups[1].get(c.new.inode) ?? c.path;
      if (typeof og === 'string' && typeof ng === 'string') continue;
      const o = names(og);
      const n = names(ng);
      if (o.join('\0') !== n.join('\0')) out.push({ ...c, detail: { field: 'links', old: o, new: n } });
    }
    return out;
  }
}

function names(g: string | string[]): string[] {
  return typeof g === 'string' ? [showPath(g)] : g.map(showPath).sort();
}
