// Hardlink grouping: names sharing one Inode object form a group. A path whose group differs between
// the images (a name joined or left it) is modified even when its bytes and metadata are the same.
import type { DirNode, Inode } from '../tree/types.js';
import { childAt } from './lookup.js';
import { showPath } from './paths.js';
import type { Detail } from './types.js';

/** The names of each inode of one tree, gathered during the walk (one Map operation per leaf). */
export class InodeNames {
  // A lone name stays a plain string: nearly every inode has one.
  private readonly names = new Map<Inode, string | string[]>();
  private readonly groups: string[][] = [];

  /** Records one more name; true the first time this inode is met. */
  add(path: string, inode: Inode): boolean {
    const g = this.names.get(inode);
    if (g === undefined) this.names.set(inode, path);
    else if (typeof g === 'string') {
      const group = [g, path];
      this.names.set(inode, group);
      this.groups.push(group);
    } else g.push(path);
    return g === undefined;
  }

  groupOf(inode: Inode): string | string[] | undefined {
    return this.names.get(inode);
  }

  /** Every name that shares its inode with another. */
  linked(): string[] {
    return this.groups.flat();
  }
}

export interface LinkChange {
  path: string;
  detail: Detail;
}

/** Paths in both trees whose group of names changed; only hardlinked names are looked at. */
export function linkChanges(oldRoot: DirNode, newRoot: DirNode, oldNames: InodeNames, newNames: InodeNames): LinkChange[] {
  const out: LinkChange[] = [];
  for (const path of new Set([...oldNames.linked(), ...newNames.linked()])) {
    const o = childAt(oldRoot, path);
    const n = childAt(newRoot, path);
    if (o?.kind !== 'leaf' || n?.kind !== 'leaf') continue;
    const og = display(oldNames.groupOf(o.inode) ?? path);
    const ng = display(newNames.groupOf(n.inode) ?? path);
    if (og.join('\0') !== ng.join('\0')) out.push({ path, detail: { field: 'links', old: og, new: ng } });
  }
  return out;
}

function display(g: string | string[]): string[] {
  return typeof g === 'string' ? [showPath(g)] : g.map(showPath).sort();
}
