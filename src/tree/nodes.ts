// Tree nodes made from layer entries: shared by the planner (tree/plan.ts) and inspect's fold, so both see the
// same metadata, content references and implied directories.
import type { LayerEntry } from '../layer/entry.js';
import type { ContentRef, DirNode, Inode, Meta } from './types.js';

export function metaOf(e: LayerEntry): Meta {
  const meta: Meta = { mode: e.mode, uid: e.uid, gid: e.gid, mtime: e.mtime };
  if (e.xattrs !== undefined) meta.xattrs = e.xattrs;
  return meta;
}

export function newDir(meta: Meta, layer: number): DirNode {
  return { kind: 'dir', meta, children: new Map(), layer };
}

/** Implied directories look like the ones Docker and containerd create: 0755, root-owned, epoch (EDGE #77). */
export function impliedDir(): DirNode {
  return { ...newDir({ mode: 0o755, uid: 0, gid: 0, mtime: 0 }, -1), implied: true };
}

/** The inode a file, symlink or device entry of layer `layer` makes. */
export function inodeOf(e: LayerEntry, layer: number): Inode {
  const inode: Inode = { kind: e.kind as Inode['kind'], meta: metaOf(e), size: e.kind === 'file' ? e.size : 0, layer };
  if (e.sha256 !== undefined) inode.sha256 = e.sha256;
  if (e.kind === 'symlink') inode.linkname = e.linkname ?? '';
  if (e.devmajor !== undefined) inode.devmajor = e.devmajor;
  if (e.devminor !== undefined) inode.devminor = e.devminor;
  const content = contentRefOf(e, layer);
  if (content) inode.content = content;
  return inode;
}

function contentRefOf(e: LayerEntry, layer: number): ContentRef | undefined {
  if (e.kind !== 'file' || e.size === 0) return undefined;
  if (e.offset !== undefined) return { layer, offset: e.offset };
  if (e.data !== undefined) return { layer, data: e.data };
  return undefined;
}
