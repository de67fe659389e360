// Creating one node inside the staging dir and giving it its metadata, in the order the kernel requires.
import * as fs from 'node:fs';
import { NotFoundError } from '../errors.js';
import { displayPath } from '../layer/names.js';
import type { ContentRef, Inode, Meta } from '../tree/types.js';

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

/**
 * Creates a regular file or symlink. Both refuse an existing name (O_EXCL, COPYFILE_EXCL, symlink(2)) and so never
 * write through a symlink; with O_CREAT|O_EXCL the kernel does not follow one even without O_NOFOLLOW.
 */
export function createLeaf(dst: Buffer, rel: string, inode: Inode, contentPath: (ref: ContentRef) => string): void {
  if (inode.kind === 'symlink') {
    fs.symlinkSync(Buffer.from(inode.linkname ?? '', 'latin1'), dst);
  } else if (inode.content === undefined) {
    if (inode.size !== 0) throw new NotFoundError(`${displayPath(rel)}: ${inode.size}-byte file has no stored content`, { path: rel });
    fs.closeSync(fs.openSync(dst, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, 0o600));
  } else {
    copyContent(contentPath(inode.content), dst, rel, inode.content);
  }
}

/** copy_file_range under the hood. It copies the source's mode too, which is why the mode is always set afterwards. */
function copyContent(src: string, dst: Buffer, rel: string, ref: ContentRef): void {
  try {
    fs.copyFileSync(src, dst, fs.constants.COPYFILE_EXCL);
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    // ENOENT on a fresh name in our own directory can only mean the source: say it is the store that lacks it.
    if (e.code === 'ENOENT' && !fs.existsSync(src)) {
      throw new NotFoundError(`${displayPath(rel)}: content ${src} (layer ${ref.layer}, data ${ref.data}) is missing from the store`, {
        path: rel,
        file: src,
        layer: ref.layer,
      });
    }
    throw err;
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
