// The two I/O halves of tar export: reading stored content (ahead, in parallel) and writing in batches with backpressure.
import { promises as fs } from 'node:fs';
import type { Writable } from 'node:stream';
import { asStratumError, IntegrityError, NotFoundError } from '../errors.js';
import { displayPath } from '../layer/names.js';
import type { Inode } from '../tree/types.js';

export type Output = NodeJS.WritableStream | Writable;

/** Batches small buffers into one writev (cork/uncork) and waits for 'drain' after a batch the output could not take. */
export class TarOutput {
  private pending: Buffer[] = [];
  private bytes = 0;

  constructor(
    private readonly output: Output,
    private readonly batch = 1024 * 1024,
  ) {}

  async add(buf: Buffer): Promise<void> {
    if (buf.length === 0) return;
    this.pending.push(buf);
    this.bytes += buf.length;
    if (this.bytes >= this.batch) await this.flush();
  }

  async flush(): Promise<void> {
    if (this.pending.length === 0) return;
    const out = this.output as Partial<Writable> & Output;
    const bufs = this.pending;
    this.pending = [];
    this.bytes = 0;
    out.cork?.();
    let ok = true;
    for (const b of bufs) ok = out.write(b);
    out.uncork?.();
    if (!ok) await drained(out);
  }
}

/** An output that errors or closes while we wait fails the export instead of hanging it. */
function drained(output: Output): Promise<void> {
  return new Promise((resolve, reject) => {
    const done = (err?: Error): void => {
      output.removeListener('drain', onDrain);
      output.removeListener('error', onError);
      output.removeListener('close', onClose);
      if (err) reject(err);
      else resolve();
    };
    const onDrain = (): void => done();
    const onError = (err: Error): void => done(err);
    const onClose = (): void => done(new Error('the tar output was closed before the export finished'));
    output.on('drain', onDrain);
    output.on('error', onError);
    output.on('close', onClose);
  });
}

/** Opens a stored content file; a missing one is the store's fault and says so. */
async function open(src: string, path: string, inode: Inode): Promise<fs.FileHandle> {
  try {
    return await fs.open(src, 'r');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw asStratumError(err, src);
    const ref = inode.content!;
    throw new NotFoundError(`${displayPath(path)}: content ${src} (layer ${ref.layer}, data ${ref.data}) is missing from the store`, {
      path,
      file: src,
      layer: ref.layer,
    });
  }
}

function wrongSize(src: string, path: string, inode: Inode, actual: number | string): IntegrityError {
  return new IntegrityError(`${displayPath(path)}: stored content ${src} has ${actual} bytes, the tree says ${inode.size}`, {
    path,
    file: src,
    expected: inode.size,
    actual,
  });
}

/** Opens a big content file and checks its length first: a file of another length would corrupt every entry after it. */
export async function openContent(src: string, path: string, inode: Inode): Promise<fs.FileHandle> {
  const fh = await open(src, path, inode);
  const { size } = await fh.stat();
  if (size === inode.size) return fh;
  await fh.close();
  throw wrongSize(src, path, inode, size);
}

/** Reads [pos, pos+length) exactly into a fresh buffer. */
export async function readRange(fh: fs.FileHandle, src: string, path: string, pos: number, length: number): Promise<Buffer> {
  const buf = Buffer.allocUnsafe(length);
  for (let got = 0; got < length; ) {
    const n = await readInto(fh, buf, got, length - got, pos + got, src);
    if (n === 0) throw new IntegrityError(`${displayPath(path)}: ${src} shrank while being read`, { path, file: src });
    got += n;
  }
  return buf;
}

/** A whole small file in memory, read ahead of its turn. One byte more is asked for, so a longer file shows without an fstat. */
export async function readSmall(src: string, path: string, inode: Inode): Promise<Buffer> {
  const fh = await open(src, path, inode);
  try {
    const buf = Buffer.allocUnsafe(inode.size + 1);
    let got = 0;
    while (got <= inode.size) {
      const n = await readInto(fh, buf, got, buf.length - got, got, src);
      if (n === 0) break;
      got += n;
    }
    if (got !== inode.size) throw wrongSize(src, path, inode, got > inode.size ? `more than ${inode.size}` : got);
    return buf.subarray(0, got);
  } finally {
    await fh.close();
  }
}

async function readInto(fh: fs.FileHandle, buf: Buffer, at: number, length: number, pos: number, src: string): Promise<number> {
  try {
    return (await fh.read(buf, at, length, pos)).bytesRead;
  } catch (err) {
    throw asStratumError(err, src);
  }
}
