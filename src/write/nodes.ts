// Creating one node inside the staging dir and giving it its metadata, in the order the kernel requires.
import * as fs from 'node:fs';
import { NotFoundError } from '../errors.js';
import { displayPath } from '../layer/names.js';
import { shortContent, type ContentFiles, type ContentLocation } from '../store/content.js';
import type { Inode, Meta } from '../tree/types.js';

const { O_WRONLY, O_CREAT, O_EXCL, O_NOFOLLOW } = fs.constants;

/** A path inside the staging dir as bytes: the base may be any user-given path, the rest is a latin1 byte string. */
export function stagingPath(base: Buffer, rel: string): Buffer {
  if (rel === '') return base;
  // One buffer, filled in place: this runs for every node written.
  const out = Buffer.allocUnsafe(base.length + 1 + rel.length);
  base.copy(out);
  out[base.length] = 0x2f;
  out.write(rel, base.length + 1, 'latin1');
  return out;
}

/** Who we are, and whether owners and device nodes are ours to set. */
export interface Identity {
  privileged: boolean;
  uid: number;
  gid: number;
}

/** What copying file contents out of the store needs: the open store files and one reusable buffer. */
export interface ContentCopier {
  files: ContentFiles;
  buf: Buffer;
}

/** A regular file to create: its metadata, its size and, when it has bytes, where they are in the store. */
export interface FileToWrite {
  meta: Meta;
  size: number;
  loc?: ContentLocation;
}

/** Creates a symlink; symlink(2) refuses an existing name, so nothing is ever written through one. */
export function createSymlink(dst: Buffer, linkname: string | undefined): void {
  fs.symlinkSync(Buffer.from(linkname ?? '', 'latin1'), dst);
}

/**
 * Creates a regular file (O_EXCL: never through an existing name or symlink) and, through the open descriptor,
 * gives it its owner and, when `finish`, its mode and times: no second and third lookup of the path. Without
 * `finish` (xattrs to set first) the mode and times are left to the caller. The file is created with its final
 * mode when `mask` (the creation mask, see creationMask) leaves that mode alone and no chown can clear bits of it,
 * which saves the chmod. Returns whether the owner was not kept.
 */
export function writeFile(dst: Buffer, rel: string, file: FileToWrite, content: ContentCopier, id: Identity, finish: boolean, mask: number): boolean {
  if (file.loc === undefined && file.size !== 0) throw new NotFoundError(`${displayPath(rel)}: ${file.size}-byte file has no stored content`, { path: rel });
  const { meta } = file;
  const mode = meta.mode & 0o7777;
  // A write by anyone without CAP_FSETID clears setuid and setgid, and so does chown: those modes are set after both.
  const atOpen = finish && (mode & ~0o777) === 0 && (mode & mask) === 0;
  const fd = fs.openSync(dst, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, atOpen ? mode : 0o600);
  try {
    if (file.loc !== undefined) copyContent(fd, rel, file.loc, content);
    const step = ownerStep(meta, id, false);
    if (step === 'chown') fs.fchownSync(fd, meta.uid, meta.gid);
    if (finish) {
      if (!atOpen) fs.fchmodSync(fd, mode);
      const t = fsTime(meta.mtime);
      fs.futimesSync(fd, t, t);
    }
    return step === 'lost';
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * The permission bits the kernel takes away from a new file's mode here (the umask, or a default ACL's mask), found
 * by creating one probe file in `dir`: process.umask() can only read it by setting it.
 */
export function creationMask(dir: string): number {
  const probe = `${dir}/.stratum-mask-${process.pid}`;
  const fd = fs.openSync(probe, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, 0o777);
  try {
    return 0o777 & ~fs.fstatSync(fd).mode;
  } finally {
    fs.closeSync(fd);
    fs.unlinkSync(probe);
  }
}

/** pread from the store, write to the new file: for a small file that is one read and one write call. */
function copyContent(fd: number, rel: string, loc: ContentLocation, { files, buf }: ContentCopier): void {
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
  const step = ownerStep(meta, id, always);
  if (step === 'chown') fs.lchownSync(dst, meta.uid, meta.gid);
  return step === 'lost';
}

/** Files we create get our ids already (staging dirs carry no setgid bit), so a chown to them would be a wasted syscall. */
function ownerStep(meta: Meta, id: Identity, always: boolean): 'chown' | 'lost' | 'none' {
  const ours = meta.uid === id.uid && meta.gid === id.gid;
  if (!id.privileged) return ours ? 'none' : 'lost';
  return !ours || always ? 'chown' : 'none';
}

export function applyModeAndTimes(dst: Buffer, kind: Inode['kind'] | 'dir', meta: Meta): void {
  if (kind !== 'symlink') fs.chmodSync(dst, meta.mode & 0o7777);
  applyTimes(dst, meta);
}

export function applyTimes(dst: Buffer, meta: Meta): void {
  const t = fsTime(meta.mtime);
  fs.lutimesSync(dst, t, t);
}

/** Node turns a negative number of seconds into "now"; a Date goes through as is (at millisecond precision). */
function fsTime(seconds: number): number | Date {
  return seconds >= 0 ? seconds : new Date(seconds * 1000);
}
