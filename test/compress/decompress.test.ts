// The pure-JS zstd path (Node 20 has no zlib zstd): whole output, typed errors, and bounded buffering, since one
// compressed chunk of a well-compressed layer (or a bomb) decodes to far more than it.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import zlib from 'node:zlib';
import { createDecompressor, inDecoderTurn } from '../../src/compress/decompress.js';
import { FormatError } from '../../src/errors.js';
import { crowd } from '../helpers/concurrency.js';

function zstd(data: Buffer): Buffer {
  return execFileSync('zstd', ['-q', '-c', '-3'], { input: data, maxBuffer: 1 << 30 });
}

/** Writes `input` in one go and reads slowly, noting the most the decompressor ever held. */
async function drainSlowly(input: Buffer): Promise<{ bytes: number; sha256: string; maxHeld: number }> {
  const d = createDecompressor('zstd', 'test layer');
  d.end(input);
  const hash = createHash('sha256');
  let bytes = 0;
  let maxHeld = 0;
  for await (const chunk of d as AsyncIterable<Buffer>) {
    maxHeld = Math.max(maxHeld, d.readableLength + chunk.length);
    hash.update(chunk);
    bytes += chunk.length;
    await new Promise((r) => setImmediate(r));
  }
  return { bytes, sha256: hash.digest('hex'), maxHeld };
}

describe('zstd decompression', () => {
  it('gives back every byte, holding about a high-water mark at a time, not the whole expansion', async () => {
    // 32 MiB of hex digits (compresses about 2.5:1, as a layer of text does), written to the decompressor as one chunk.
    const digests: Buffer[] = [];
    for (let i = 0, h = Buffer.from('seed'); i < (1 << 19); i++) digests.push((h = createHash('sha256').update(h).digest()));
    const plain = Buffer.from(Buffer.concat(digests).toString('hex'));
    const packed = zstd(plain);
    expect(packed.length).toBeGreaterThan(6 << 20);
    const r = await drainSlowly(packed);
    expect(r.bytes).toBe(plain.length);
    expect(r.sha256).toBe(createHash('sha256').update(plain).digest('hex'));
    expect(r.maxHeld).toBeLessThan(4 << 20);
  });

  it('a corrupt or truncated stream is a FormatError naming the input', async () => {
    const packed = zstd(Buffer.from('hello '.repeat(10000)));
    // fzstd checks no content checksum (the diffID catches altered bytes); garbage where a block should be it does see.
    const garbage = Buffer.concat([packed.subarray(0, 12), Buffer.alloc(64, 0xff)]);
    for (const bad of [garbage, packed.subarray(0, packed.length - 5)]) {
      const err = await drainSlowly(bad).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(FormatError);
      expect((err as Error).message).toMatch(/^test layer: (corrupt|truncated) zstd stream/);
    }
  });
});

describe('inDecoderTurn', () => {
  /** `n` turns of `kind` at once: the most that were ever running together. */
  const most = async (kind: 'zstd' | 'gzip', n: number): Promise<number> => (await crowd(n, (task) => inDecoderTurn(kind, task), 10)).most;

  it('runs one pure-JS zstd decode at a time, and zlib decodes side by side', async () => {
    const nativeZstd = typeof (zlib as { createZstdDecompress?: unknown }).createZstdDecompress === 'function';
    expect(await most('zstd', 4)).toBe(nativeZstd ? 4 : 1);
    expect(await most('gzip', 4)).toBe(4);
  });

  it('a failed turn passes its error on and lets the next one run', async () => {
    const first = inDecoderTurn('zstd', async () => {
      throw new Error('corrupt');
    });
    const second = inDecoderTurn('zstd', async () => 'ran');
    await expect(first).rejects.toThrow('corrupt');
    expect(await second).toBe('ran');
  });
});
