// Streaming decompressors for gzip (node's zlib) and zstd (node's own where it has one, else fzstd,
// a pure-JS decoder that installs with no native build and no download).
import { Transform, type TransformCallback } from 'node:stream';
import zlib from 'node:zlib';
import { Decompress as FzstdDecompress } from 'fzstd';
import pLimit from 'p-limit';
import { FormatError } from '../errors.js';
import { sniffCompression, type Compression } from './sniff.js';

type ZlibWithZstd = typeof zlib & { createZstdDecompress?: () => Transform };
/** Node's own zstd (zlib, in the threadpool) where this Node has one. */
const nativeZstd = (zlib as ZlibWithZstd).createZstdDecompress;

export function createDecompressor(kind: Compression, label: string): Transform {
  // 256 KiB output chunks: with zlib's default 16 KiB, per-chunk overhead made gunzip 2.5x slower (1173 vs 461 ms
  // for the bench image's 210 MB base layer).
  if (kind === 'gzip') return wrapErrors(zlib.createGunzip({ chunkSize: 256 * 1024 }), 'gzip', label);
  if (kind === 'zstd') return nativeZstd ? wrapErrors(nativeZstd(), 'zstd', label) : new FzstdTransform(label);
  return new Transform({ transform: (chunk, _enc, cb) => cb(null, chunk) });
}

const fzstdTurn = pLimit(1);

/**
 * Runs `fn` (the whole life of one decompressor of `kind`) when it is that kind's turn. fzstd decodes on the main
 * thread, so two zstd layers at once only take turns there while each holds its window and buffers: one at a time,
 * importing the bench image's zstd form peaked at 141-142 MB RSS instead of 151-164 MB, for 4% more wall time.
 * zlib (gzip, and zstd where Node has it) works in the threadpool and runs unqueued.
 */
export function inDecoderTurn<T>(kind: Compression, fn: () => Promise<T>): Promise<T> {
  return decodesOnHeap(kind) ? fzstdTurn(fn) : fn();
}

/** Whether this kind is decoded in JavaScript, on the main thread and its heap (fzstd), rather than in zlib's pool. */
export function decodesOnHeap(kind: Compression): boolean {
  return kind === 'zstd' && !nativeZstd;
}

/** Rewrites zlib's errors into one-line FormatErrors that name the input. */
function wrapErrors(t: Transform, what: string, label: string): Transform {
  const origDestroy = t._destroy.bind(t);
  t._destroy = (err, cb) => {
    origDestroy(err && !(err instanceof FormatError) ? new FormatError(`${label}: corrupt ${what} stream (${err.message})`, { file: label }) : err, cb);
  };
  return t;
}

/**
 * fzstd decodes synchronously and hands out everything a pushed input makes at once: one 1 MiB read of a
 * well-compressed layer is tens of MiB of output. So the input is fed in slices, and once the readable side
 * holds a high-water mark's worth, the rest waits for the consumer to read.
 */
class FzstdTransform extends Transform {
  private readonly decoder: FzstdDecompress;
  private readonly label: string;
  private sawInput = false;
  /** The input chunk being fed, how far, and the callback that asks for the next one. */
  private pending: { chunk: Buffer; pos: number; cb: TransformCallback } | null = null;
  private waiting = false;
  private pushes = 0;

  constructor(label: string) {
    super({ readableHighWaterMark: 1024 * 1024 });
    this.label = label;
    this.decoder = new FzstdDecompress((chunk) => {
      // fzstd reuses no buffers it hands out, but copy the view into a Buffer without copying bytes.
      this.pushes++;
      this.push(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength));
    });
  }

  _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.sawInput ||= chunk.length > 0;
    this.pending = { chunk, pos: 0, cb };
    this.feed();
  }

  _read(size: number): void {
    if (this.waiting) {
      this.waiting = false;
      this.feed();
    }
    super._read(size);
  }

  private feed(): void {
    const p = this.pending;
    if (!p) return;
    // Stop only after a push of this call: a _read that found nothing pushed would wait for one forever.
    const before = this.pushes;
    try {
      while (p.pos < p.chunk.length) {
        const slice = p.chunk.subarray(p.pos, p.pos + ZSTD_SLICE);
        p.pos += slice.length;
        this.decoder.push(slice);
        if (this.pushes > before && this.readableLength >= this.readableHighWaterMark && p.pos < p.chunk.length) {
          this.waiting = true;
          return;
        }
      }
    } catch (err) {
      this.pending = null;
      p.cb(new FormatError(`${this.label}: corrupt zstd stream (${(err as Error).message})`, { file: this.label }));
      return;
    }
    this.pending = null;
    p.cb();
  }

  _flush(cb: TransformCallback): void {
    try {
      this.decoder.push(new Uint8Array(0), true);
      cb();
    } catch (err) {
      const msg = (err as Error).message;
      cb(new FormatError(`${this.label}: ${/unexpected EOF|end/i.test(msg) ? 'truncated' : 'corrupt'} zstd stream (${msg})`, { file: this.label }));
    }
  }
}

// Small slices bound what one push can make; they are also faster with fzstd (1.10 s vs 1.58 s with 64 KiB slices
// for the bench image's 73 MB base layer).
const ZSTD_SLICE = 4 * 1024;

/**
 * Peeks at the first bytes of a stream to pick a decompressor, without losing them.
 * Returns the compression found and a stream of the decompressed bytes.
 */
export async function peek(stream: AsyncIterable<Buffer>, n: number): Promise<{ head: Buffer; rest: AsyncIterable<Buffer> }> {
  const it = stream[Symbol.asyncIterator]();
  const parts: Buffer[] = [];
  let got = 0;
  let done = false;
  while (got < n) {
    const r = await it.next();
    if (r.done) {
      done = true;
      break;
    }
    parts.push(r.value);
    got += r.value.length;
  }
  const head = Buffer.concat(parts);
  async function* rest(): AsyncGenerator<Buffer> {
    if (head.length) yield head;
    if (done) return;
    for (;;) {
      const r = await it.next();
      if (r.done) return;
      yield r.value;
    }
  }
  return { head, rest: rest() };
}

export { sniffCompression };
