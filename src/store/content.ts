// Reading a regular file's bytes back out of the store. A layer is kept as its uncompressed tar (layer.tar,
// whose sha256 is the diffID) and each file is a byte range of it; only sparse files, whose bytes are not one
// run of the tar, have an expanded copy of their own under data/. Every reader goes through here.
import { closeSync, createReadStream, openSync, promises as fsp, readSync, type ReadStream } from 'node:fs';
import { asStratumError, IntegrityError, NotFoundError } from '../errors.js';

/** `size` bytes of `file` from `offset`. */
export interface ContentLocation {
  file: string;
  offset: number;
  size: number;
}

/**
 * Sync reads of stored content for the writers, which copy thousands of files: one descriptor per store file
 * (a layer.tar serves every file of its layer), and plain sync calls, since a threadpool round trip per small
 * file costs more than the read itself. Close it when done.
 */
export class ContentFiles {
  private readonly fds = new Map<string, number>();

  /** Reads the location's bytes from `pos` into `buf` until it is full or the range ends; returns the count. */
  read(loc: ContentLocation, buf: Buffer, pos: number, what?: string): number {
    const fd = this.fd(loc, what);
    const want = Math.min(buf.length, loc.size - pos);
    let got = 0;
    try {
      while (got < want) {
        const n = readSync(fd, buf, got, want - got, loc.offset + pos + got);
        if (n === 0) break;
        got += n;
      }
    } catch (err) {
      throw asStratumError(err, loc.file);
    }
    return got;
  }

  close(): void {
    for (const fd of this.fds.values()) closeSync(fd);
    this.fds.clear();
  }

  private fd(loc: ContentLocation, what?: string): number {
    let fd = this.fds.get(loc.file);
    if (fd === undefined) {
      try {
        fd = openSync(loc.file, 'r');
      } catch (err) {
        throw missing(err, loc, what);
      }
      this.fds.set(loc.file, fd);
    }
    return fd;
  }
}

/** The error for content that came back short: the store was damaged after import (`stratum verify` says more). */
export function shortContent(loc: ContentLocation, got: number, what: string): IntegrityError {
  return new IntegrityError(`${what}: stored content ${describe(loc)} ends after ${got} of ${loc.size} bytes`, {
    file: loc.file,
    expected: loc.size,
    actual: got,
  });
}

export function describe(loc: ContentLocation): string {
  return loc.offset === 0 && !loc.file.endsWith('layer.tar') ? loc.file : `${loc.file} at ${loc.offset}`;
}

/** A stream of exactly the location's bytes (fewer if the store file is short: callers check the count). */
export async function contentStream(loc: ContentLocation): Promise<ReadStream> {
  try {
    await fsp.access(loc.file);
  } catch (err) {
    throw missing(err, loc);
  }
  return createReadStream(loc.file, { start: loc.offset, end: loc.offset + loc.size - 1, highWaterMark: 1024 * 1024 });
}

/** The whole content in memory: for diff's text comparison of one file, never for layers. */
export async function readContent(loc: ContentLocation): Promise<Buffer> {
  if (loc.size === 0) return Buffer.alloc(0);
  let handle;
  try {
    handle = await fsp.open(loc.file, 'r');
  } catch (err) {
    throw missing(err, loc);
  }
  try {
    const buf = Buffer.allocUnsafe(loc.size);
    let got = 0;
    while (got < loc.size) {
      const { bytesRead } = await handle.read(buf, got, loc.size - got, loc.offset + got);
      if (bytesRead === 0) break;
      got += bytesRead;
    }
    return buf.subarray(0, got);
  } finally {
    await handle.close();
  }
}

function missing(err: unknown, loc: ContentLocation, what?: string): Error {
  if ((err as NodeJS.ErrnoException).code !== 'ENOENT') return asStratumError(err, loc.file);
  return new NotFoundError(`${what ? `${what}: ` : ''}content ${loc.file} is missing from the store`, { file: loc.file });
}
