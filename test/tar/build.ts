// Test builders for tricky tar streams, written independently of src/tar/writer.ts, and helpers to read
// them back (in odd chunk sizes) through readTar.
import { createHash } from 'node:crypto';
import { readTar, type ReadTarOptions } from '../../src/tar/reader.js';
import type { TarHeader } from '../../src/tar/types.js';

export interface BlockSpec {
  name?: string;
  typeflag?: string;
  mode?: number;
  uid?: number;
  gid?: number;
  size?: number;
  mtime?: number;
  linkname?: string;
  uname?: string;
  gname?: string;
  devmajor?: number;
  devminor?: number;
  prefix?: string;
  format?: 'ustar' | 'gnu' | 'v7';
  /** Raw bytes written over a field after the defaults: [offset, bytes]. */
  raw?: [number, Buffer][];
  checksum?: 'unsigned' | 'signed' | 'bad';
}

function octalField(b: Buffer, at: number, width: number, n: number): void {
  b.write(n.toString(8).padStart(width - 1, '0'), at, width - 1, 'latin1');
}

/** One header block; names are latin1 byte strings. */
export function block(spec: BlockSpec): Buffer {
  const b = Buffer.alloc(512);
  b.write(spec.name ?? 'f', 0, 100, 'latin1');
  octalField(b, 100, 8, spec.mode ?? 0o644);
  octalField(b, 108, 8, spec.uid ?? 0);
  octalField(b, 116, 8, spec.gid ?? 0);
  octalField(b, 124, 12, spec.size ?? 0);
  octalField(b, 136, 12, spec.mtime ?? 0);
  b.write(spec.typeflag ?? '0', 156, 1, 'latin1');
  b.write(spec.linkname ?? '', 157, 100, 'latin1');
  const format = spec.format ?? 'ustar';
  if (format !== 'v7') {
    b.write(format === 'gnu' ? 'ustar  \0' : 'ustar\x0000', 257, 8, 'latin1');
    b.write(spec.uname ?? '', 265, 32, 'latin1');
    b.write(spec.gname ?? '', 297, 32, 'latin1');
    octalField(b, 329, 8, spec.devmajor ?? 0);
    octalField(b, 337, 8, spec.devminor ?? 0);
    if (format === 'ustar') b.write(spec.prefix ?? '', 345, 155, 'latin1');
  }
  for (const [at, bytes] of spec.raw ?? []) bytes.copy(b, at);
  b.fill(0x20, 148, 156);
  let unsigned = 0;
  let signed = 0;
  for (const c of b) {
    unsigned += c;
    signed += c >= 128 ? c - 256 : c;
  }
  const sum = spec.checksum === 'signed' ? signed : spec.checksum === 'bad' ? unsigned + 1 : unsigned;
  b.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 8, 'latin1');
  return b;
}

/** A header plus its padded body. */
export function file(spec: BlockSpec, body: Buffer | string = ''): Buffer {
  const data = typeof body === 'string' ? Buffer.from(body, 'latin1') : body;
  return Buffer.concat([block({ ...spec, size: spec.size ?? data.length }), data, pad(data.length)]);
}

export function pad(n: number): Buffer {
  return Buffer.alloc((512 - (n % 512)) % 512);
}

/** PAX record bytes: "%d key=value\n" with the self-counting length. */
export function paxRecords(records: [string, Buffer | string][]): Buffer {
  return Buffer.concat(
    records.map(([k, v]) => {
      const value = typeof v === 'string' ? Buffer.from(v, 'latin1') : v;
      const rest = Buffer.byteLength(k, 'latin1') + value.length + 3;
      let len = rest + String(rest).length;
      if (String(len).length !== String(rest).length) len = rest + String(len).length;
      return Buffer.concat([Buffer.from(`${len} ${k}=`, 'latin1'), value, Buffer.from('\n')]);
    }),
  );
}

/** A PAX 'x' (or 'g') entry carrying these records. */
export function pax(records: [string, Buffer | string][], typeflag = 'x'): Buffer {
  return file({ name: 'PaxHeaders/f', typeflag }, paxRecords(records));
}

export const EOA = Buffer.alloc(1024);

/** The buffer as an async stream of `size`-byte chunks (whole when size is 0). */
export async function* chunks(buf: Buffer, size = 0): AsyncGenerator<Buffer> {
  if (size <= 0) {
    yield buf;
    return;
  }
  for (let i = 0; i < buf.length; i += size) yield buf.subarray(i, i + size);
}

/** Wraps a stream and counts what was pulled from it (the upstream hash sees exactly this). */
export function counted(src: AsyncIterable<Buffer>): { stream: AsyncIterable<Buffer>; pulled: () => number } {
  let n = 0;
  const stream = (async function* () {
    for await (const c of src) {
      n += c.length;
      yield c;
    }
  })();
  return { stream, pulled: () => n };
}

export interface ReadEntry {
  header: TarHeader;
  body: Buffer;
  sha256: string;
}

/** Reads every entry and its whole body. Bodies are small in these tests, so concatenating is fine. */
export async function readAll(input: Buffer | AsyncIterable<Buffer>, chunkSize = 0, opts: ReadTarOptions = {}): Promise<ReadEntry[]> {
  const src = Buffer.isBuffer(input) ? chunks(input, chunkSize) : input;
  const out: ReadEntry[] = [];
  for await (const e of readTar(src, opts)) {
    const parts: Buffer[] = [];
    for await (const c of e.body) parts.push(Buffer.from(c));
    const body = Buffer.concat(parts);
    out.push({ header: e.header, body, sha256: createHash('sha256').update(body).digest('hex') });
  }
  return out;
}

export const CHUNK_SIZES = [0, 1, 7, 513];
