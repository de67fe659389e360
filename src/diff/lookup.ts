// Exact lookups for the package databases: no symlink is followed, so a lookup never fails or loops.
import type { DirNode, TreeNode } from '../tree/types.js';

export function childAt(root: DirNode, path: string): TreeNode | undefined {
  let node: TreeNode = root;
  for (const part of path === '' ? [] : path.split('/')) {
    if (node.kind !== 'dir') return undefined;
    const next: TreeNode | undefined = node.children.get(part);
    if (!next) return undefined;
    node = next;
  }
  return node;
}
