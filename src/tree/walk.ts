// Sorted iteration over a planned tree: the one order writers, diff and ls agree on.
import { comparePaths, joinPath } from '../layer/names.js';
import type { DirNode, TreeNode } from './types.js';

export interface TreeItem {
  /** Cleaned path ('' only for the root). */
  path: string;
  node: TreeNode;
}

export interface WalkTreeOptions {
  /** Yield the root itself first, as path ''. */
  includeRoot?: boolean;
}

/**
 * Depth-first, parents before children, siblings in bytewise name order (so `a`, `a/x`, `a-b`).
 * Iterative, so a very deep tree cannot exhaust the call stack.
 */
export function* walkTree(root: DirNode, opts: WalkTreeOptions = {}): Generator<TreeItem> {
  if (opts.includeRoot) yield { path: '', node: root };
  const stack: TreeItem[] = [];
  pushChildren(stack, '', root);
  while (stack.length > 0) {
    const item = stack.pop()!;
    yield item;
    if (item.node.kind === 'dir') pushChildren(stack, item.path, item.node);
  }
}

function pushChildren(stack: TreeItem[], prefix: string, dir: DirNode): void {
  const names = [...dir.children.keys()].sort(comparePaths);
  for (let i = names.length - 1; i >= 0; i--) {
    stack.push({ path: joinPath(prefix, names[i]), node: dir.children.get(names[i])! });
  }
}
