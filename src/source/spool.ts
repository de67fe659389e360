// Inputs that cannot be read by offset (stdin, a gzip/zstd-wrapped archive) are copied once into a
// private temp directory, decompressed on the way, and indexed from there.
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, mkdtemp, open, rm } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { UnsupportedError, asStratumError } from '../errors.js';
import { createDecompressor, peek } from '../compress/decompress.js';
import { sniffCompression, type Compression } from '../compress/sniff.js';

export interface Spool {
  /** The plain (decompressed) tar on disk. */
  path: string;
  /** Removes the temp directory. */
  remove(): Promise<void>;
}

/** The compression of a file, judged by its first bytes. */
export async function sniffFile(file: string): Promise<Compression> {
  const fh = await open(file, 'r');
  try {
    const head = Buffer.alloc(6);
    const { bytesRead } = await fh.read(head, 0, head.length, 0);
    return sniffSupported(head.subarray(0, bytesRead), file);
  } finally {
    await fh.close();
  }
}

/** gzip and zstd are decoded; xz and bzip2 (which docker load also takes) get a clear refusal. */
function sniffSupported(head: Buffer, label: string): Compression {
  const kind = sniffCompression(head);
  if (kind !== 'none') return kind;
  const other = head.subarray(0, 3).toString('latin1') === 'BZh' ? 'bzip2' : head.subarray(0, 6).equals(XZ_MAGIC) ? 'xz' : undefined;
  if (other) throw new UnsupportedError(`${label}: ${other}-compressed archive; decompress it first (gzip and zstd are read directly)`, { file: label });
  return kind;
}

const XZ_MAGIC = Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]);

/** Decompresses a file into the temp area. */
export async function spoolFile(file: string, kind: Compression, tmpDir: string, label: string): Promise<Spool> {
  return spoolStream(createReadStream(file, { highWaterMark: 1024 * 1024 }), kind, tmpDir, label);
}

/** Copies a stream (stdin) into the temp area, decompressing it when its first bytes say so. */
export async function spoolInput(input: Readable, tmpDir: string, label: string): Promise<Spool> {
  const { head, rest } = await peek(input, 6);
  const kind = sniffSupported(head.subarray(0, 6), label);
  return spoolStream(Readable.from(rest), kind, tmpDir, label);
}

async function spoolStream(input: Readable, kind: Compression, tmpDir: string, label: string): Promise<Spool> {
  await mkdir(tmpDir, { recursive: true });
  // The pid in the name lets the store's cleanTmp remove it once this process is gone (kill -9 mid-spool).
  const dir = await mkdtemp(path.join(tmpDir, `source-${process.pid}-`));
  const remove = () => rm(dir, { recursive: true, force: true });
  const out = path.join(dir, 'archive.tar');
  try {
    await pipeline(input, createDecompressor(kind, label), createWriteStream(out, { flags: 'wx', mode: 0o600 }));
  } catch (err) {
    await remove();
    throw asStratumError(err, label);
  }
  return { path: out, remove };
}
