// Image paths as the report shows them: a leading '/', valid UTF-8 decoded, other bytes as \xNN.
import { displayPath } from '../layer/names.js';
import type { NodeKind } from './types.js';
import type { TreeNode } from '../tree/types.js';

export function showPath(path: string): string {
  return `/${displayPath(path)}`;
}

export function nodeKind(node: TreeNode): NodeKind {
  return node.kind === 'dir' ? 'dir' : node.inode.kind;
}

/** Bytes of a regular file's content (0 for every other kind). */
export function nodeSize(node: TreeNode): number {
  return node.kind === 'leaf' && node.inode.kind === 'file' ? node.inode.size : 0;
}

export function nodeLayer(node: TreeNode): number {
  return node.kind === 'dir' ? node.layer : node.inode.layer;
}
