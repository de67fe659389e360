// The files of an image directory (OCI layout, unpacked docker save, skopeo dir:). Only the format's own names
// can be asked for, and each is resolved with realpath and must stay under the directory's real root, so a blob
// that is a symlink to /etc/shadow is "not in the layout" rather than read.
import { constants } from 'node:fs';
import { lstat, open, realpath, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { FormatError, NotFoundError, asStratumError } from '../errors.js';
import type { FileSet } from './file-set.js';

const LAYOUT_NAME = /^(?:oci-layout|index\.json|blobs\/[a-z0-9]+(?:[+._-][a-z0-9]+)*\/[a-zA-Z0-9=_-]+)$/;

export function layoutDirFileSet(dir: string, label: string): Promise<FileSet> {
  return directoryFileSet(dir, label, (name) => LAYOUT_NAME.test(name));
}

/**
 * The files of any image directory (an OCI layout, an unpacked docker save, a skopeo dir: copy). `accepts` says
 * which names the format can ask for; whatever it accepts must still resolve to a regular file under the root.
 */
export async function directoryFileSet(dir: string, label: string, accepts: (name: string) => boolean): Promise<FileSet> {
  const root = await realpath(dir);
  const find = (name: string) => (accepts(name) ? confinedPath(root, name, label) : Promise.resolve(undefined));
  const mustOpen = async (name: string): Promise<FileHandle> => {
    const p = await find(name);
    if (!p) throw new NotFoundError(`${label}: ${name} not found in the layout`, { file: label, path: name });
    return openRegular(p, name, label);
  };
  return {
    label,
    size: async (name) => {
      const p = await find(name);
      return p === undefined ? undefined : (await lstat(p)).size;
    },
    read: async (name, length) => {
      const fh = await mustOpen(name);
      try {
        const buf = Buffer.alloc(Math.min(length, (await fh.stat()).size));
        const { bytesRead } = await fh.read(buf, 0, buf.length, 0);
        return buf.subarray(0, bytesRead);
      } finally {
        await fh.close();
      }
    },
    open: async (name): Promise<Readable> => {
      const fh = await mustOpen(name);
      return fh.createReadStream({ highWaterMark: 1024 * 1024 }); // see tar-files.ts
    },
  };
}

/** The real path of a layout file, or undefined when it is absent or resolves outside the layout. */
async function confinedPath(root: string, name: string, label: string): Promise<string | undefined> {
  let real: string;
  try {
    real = await realpath(path.join(root, name));
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR' || code === 'ELOOP') return undefined;
    throw asStratumError(err, path.join(root, name));
  }
  if (!real.startsWith(root + path.sep)) return undefined;
  const st = await lstat(real);
  if (!st.isFile()) throw new FormatError(`${label}: ${name} is not a regular file`, { file: label, path: name });
  return real;
}

/** O_NOFOLLOW: the path was just resolved, so a link appearing there now is a swap, not a layout file. */
async function openRegular(p: string, name: string, label: string): Promise<FileHandle> {
  const fh = await open(p, constants.O_RDONLY | constants.O_NOFOLLOW);
  const st = await fh.stat();
  if (!st.isFile()) {
    await fh.close();
    throw new FormatError(`${label}: ${name} is not a regular file`, { file: label, path: name });
  }
  return fh;
}
