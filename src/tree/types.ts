// The planned final tree: what the writers materialise and what diff and inspect read.
// Hardlinked names share one Inode object; identity is the link.

export interface Meta {
  mode: number;
  uid: number;
  gid: number;
  mtime: number;
  /** name (latin1) -> base64 value */
  xattrs?: Record<string, string>;
}

/** Where a regular file's bytes live: layer position in the image, and the offset in that layer's stored tar or,
 *  for a sparse file, the ordinal of its expanded copy (LayerEntry.offset / LayerEntry.data). */
export interface ContentRef {
  layer: number;
  offset?: number;
  data?: number;
}

export interface Inode {
  kind: 'file' | 'symlink' | 'char' | 'block' | 'fifo';
  meta: Meta;
  size: number;
  sha256?: string;
  linkname?: string;
  devmajor?: number;
  devminor?: number;
  /** Regular files with size > 0. */
  content?: ContentRef;
  /** Layer position (0-based) that made this inode what it is. */
  layer: number;
}

export interface DirNode {
  kind: 'dir';
  meta: Meta;
  children: Map<string, TreeNode>;
  /** Layer position that last set this directory's metadata; -1 for the root or an implied directory never declared. */
  layer: number;
  implied?: boolean;
}

export interface LeafNode {
  kind: 'leaf';
  inode: Inode;
}

export type TreeNode = DirNode | LeafNode;

export interface PlanWarning {
  code: string;
  message: string;
  layer?: number;
  path?: string;
}

export interface PlannedTree {
  root: DirNode;
  warnings: PlanWarning[];
}
