// Creating one node inside the staging dir and giving it its metadata, in the order the kernel requires.
import * as fs from 'node:fs';
import { NotFoundError } from '../errors.js';
import { displayPath } from '../layer/names.js';
import { shortContent, type ContentFiles, type ContentLocation } from '../store/content.js';
import type { Inode, Meta } from '../tree/types.js';

const { O_WRONLY, O_CREAT, O_EXCL, O_NOFOLLOW } = fs.constants;

/** A path inside the staging dir as bytes: the base may be any user-given path, the rest is a latin1 byte string. */
export function stagingPath(base: Buffer, rel: string): Buffer {
  return rel === '' ? base : Buffer.concat([base, Buffer.from(`/${rel}`, 'latin1')]);
}

/** Who we are, and whether owners and device nodes are ours to set. */
export interface Identity {
  privileged: boolean;
  uid: number;
  gid: number;
}

/** What copying file contents out of the store needs: where each file is, open store files, one reusable buffer. */
export interface ContentCopier {
  locate: (inode: Inode) => ContentLocation;
  files: ContentFiles;
  buf: Buffer;
}

/**
 * Creates a regular file or symlink. Both refuse an existing name (O_EXCL, symlink(2)) and so never write through a
 * symlink; with O_CREAT|O_EXCL the kernel does not follow one even without O_NOFOLLOW.
 */
export function createLeaf(dst: Buffer, rel: string, inode: Inode, content: ContentCopier): void {
  if (inode.kind === 'symlink') {
    fs.symlinkSync(Buffer.from(inode.linkname ?? '', 'latin1'), dst);
    return;
  }
  if (inode.content === undefined && inode.size !== 0) throw new NotFoundError(`${displayPath(rel)}: ${inode.size}-byte file has no stored content`, { path: rel });
  const fd = fs.openSync(dst, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, 0o600);
  try {
    if (inode.content !== undefined) copyContent(fd, rel, inode, content);
  } finally {
    fs.closeSync(fd);
  }
}

/** pread from the store, write to the new file: for a small file that is one read and one write call. */
function copyContent(fd: number, rel: string, inode: Inode, { locate, files, buf }: ContentCopier): void {
  const loc = locate(inode);
  for (let pos = 0; pos < loc.size; ) {
    const got = files.read(loc, buf, pos, displayPath(rel));
    if (got === 0) throw shortContent(loc, pos, displayPath(rel));
    for (let done = 0; done < got; ) done += fs.writeSync(fd, buf, done, got - done);
    pos += got;
  }
}

/**
 * Owner, then mode, then times: chown clears setuid/setgid, so the mode must come after it, and every step before
 * the times may touch them. Returns whether the owner was not kept (unprivileged and not ours).
 * `chmod` follows symlinks, so it is never called on one; the other calls act on the name itself.
 */
export function applyOwner(dst: Buffer, meta: Meta, id: Identity, always = false): boolean {
  const ours = meta.uid === id.uid && meta.gid === id.gid;
  if (!id.privileged) return !ours;
  // Files we create get our ids already (staging dirs carry no setgid bit), so that chown would be a wasted syscall.
  if (!ours || always) fs.lchownSync(dst, meta.uid, meta.gid);
  return false;
}

export function applyModeAndTimes(dst: Buffer, kind: Inode['kind'] | 'dir', meta: Meta): void {
  if (kind !== 'symlink') fs.chmodSync(dst, meta.mode & 0o7777);
  const t = fsTime(meta.mtime);
  fs.lutimesSync(dst, t, t);
}

/** Node turns a negative number of seconds into "now"; a Date goes through as is (at millisecond precision). */
function fsTime(seconds: number): number | Date {
  return seconds >= 0 ? seconds : new Date(seconds * 1000);
}
