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

/** Opens a stored content file and checks its length: a file of another length would corrupt every entry after it. */
export async function openContent(src: string, path: string, inode: Inode): Promise<fs.FileHandle> {
  let fh: fs.FileHandle;
  try {
    fh = await fs.open(src, 'r');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw asStratumError(err, src);
    const ref = inode.content!;
    throw new NotFoundError(`${displayPath(path)}: content ${src} (layer ${ref.layer}, data ${ref.data}) is missing from the store`, {
      path,
      file: src,
      layer: ref.layer,
    });
  }
  const { size } = await fh.stat();
  if (size === inode.size) return fh;
  await fh.close();
  throw new IntegrityError(`${displayPath(path)}: stored content ${src} has ${size} bytes, the tree says ${inode.size}`, {
    path,
    file: src,
    expected: inode.size,
    actual: size,
  });
}

/** Reads [pos, pos+length) exactly into a fresh buffer. */
export async function readRange(fh: fs.FileHandle, src: string, path: string, pos: number, length: number): Promise<Buffer> {
  const buf = Buffer.allocUnsafe(length);
  for (let got = 0; got < length; ) {
    let n: number;
    try {
      n = (await fh.read(buf, got, length - got, pos + got)).bytesRead;
    } catch (err) {
      throw asStratumError(err, src);
    }
    if (n === 0) throw new IntegrityError(`${displayPath(path)}: ${src} shrank while being read`, { path, file: src });
    got += n;
  }
  return buf;
}

/** A whole small file in memory, read ahead of its turn. */
export async function readSmall(src: string, path: string, inode: Inode): Promise<Buffer> {
  const fh = await openContent(src, path, inode);
  try {
    return await readRange(fh, src, path, 0, inode.size);
  } finally {
    await fh.close();
  }
}
