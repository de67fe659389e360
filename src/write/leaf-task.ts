// One regular file or symlink of the tree, as either writing thread receives it: plain data (it crosses to the
// helper thread by structured clone), and the one function both threads write it with.
import type { ContentLocation } from '../store/content.js';
import type { Inode, Meta } from '../tree/types.js';
import { applyModeAndTimes, applyOwner, createSymlink, stagingPath, writeFile, type ContentCopier, type Identity } from './nodes.js';

export interface LeafTask {
  /** Cleaned path inside the staging dir, a latin1 byte string; its parent directories already exist. */
  path: string;
  kind: 'file' | 'symlink';
  /** Owner, mode and times; xattrs stay with the main thread, which sets them in one run for the whole tree. */
  meta: Meta;
  size: number;
  linkname?: string;
  /** Where a file's bytes are in the store. */
  loc?: ContentLocation;
  /** Set the mode and times now; false when xattrs must be set first (the main thread finishes those). */
  finish: boolean;
}

/** What a thread needs to write tasks: where the staging dir is, who we are, and its own store readers. */
export interface LeafWriter extends ContentCopier {
  base: Buffer;
  id: Identity;
  /** The creation mask of the staging dir (nodes.creationMask). */
  mask: number;
}

/** What a thread wrote, to be added to the report. */
export interface LeafTally {
  files: number;
  bytes: number;
  symlinks: number;
  /** Owners not kept (not root). */
  ownersLost: number;
}

export function emptyTally(): LeafTally {
  return { files: 0, bytes: 0, symlinks: 0, ownersLost: 0 };
}

export function leafTask(path: string, inode: Inode, loc: ContentLocation | undefined, finish: boolean): LeafTask {
  if (inode.kind !== 'file' && inode.kind !== 'symlink') throw new TypeError(`${inode.kind} is not a leaf task`);
  const { mode, uid, gid, mtime } = inode.meta;
  return { path, kind: inode.kind, meta: { mode, uid, gid, mtime }, size: inode.size, linkname: inode.linkname, loc, finish };
}

/** Creates the file or symlink (never through an existing name) and gives it its owner, then its mode and times. */
export function writeLeafTask(w: LeafWriter, task: LeafTask, tally: LeafTally): void {
  const dst = stagingPath(w.base, task.path);
  if (task.kind === 'file') {
    if (writeFile(dst, task.path, task, w, w.id, task.finish, w.mask)) tally.ownersLost++;
    tally.files++;
    tally.bytes += task.size;
    return;
  }
  createSymlink(dst, task.linkname);
  if (applyOwner(dst, task.meta, w.id)) tally.ownersLost++;
  if (task.finish) applyModeAndTimes(dst, 'symlink', task.meta);
  tally.symlinks++;
}
