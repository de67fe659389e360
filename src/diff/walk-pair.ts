// Walks two planned trees side by side: one merge-join of the sorted child names per directory, so the
// whole comparison is O(n) in the number of paths (plus the sort of each directory's names).
import type { DirNode, TreeNode } from '../tree/types.js';

/** Return false to skip what lies below this path. */
export type PairVisitor = (path: string, oldNode: TreeNode | undefined, newNode: TreeNode | undefined) => boolean | void;

export function walkPair(oldRoot: DirNode, newRoot: DirNode, visit: PairVisitor): void {
  if (visit('', oldRoot, newRoot) === false) return;
  walkDirs('', oldRoot, newRoot, visit);
}

function walkDirs(dir: string, a: DirNode | undefined, b: DirNode | undefined, visit: PairVisitor): void {
  const names = mergeNames(a ? sortedNames(a) : [], b ? sortedNames(b) : []);
  for (const name of names) {
    const path = dir === '' ? name : `${dir}/${name}`;
    const o = a?.children.get(name);
    const n = b?.children.get(name);
    if (visit(path, o, n) === false) continue;
    const od = o?.kind === 'dir' ? o : undefined;
    const nd = n?.kind === 'dir' ? n : undefined;
    if (od || nd) walkDirs(path, od, nd, visit);
  }
}

function sortedNames(d: DirNode): string[] {
  // Names are latin1 byte strings: UTF-16 code unit order is byte order.
  return [...d.children.keys()].sort();
}

function mergeNames(a: string[], b: string[]): string[] {
  if (a.length === 0) return b;
  if (b.length === 0) return a;
  const out: string[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length && j < b.length) {
    if (a[i] === b[j]) {
      out.push(a[i++]);
      j++;
    } else if (a[i] < b[j]) out.push(a[i++]);
    else out.push(b[j++]);
  }
  while (i < a.length) out.push(a[i++]);
  while (j < b.length) out.push(b[j++]);
  return out;
}
