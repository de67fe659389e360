import { describe, it, expect } from 'vitest';
import { FormatError } from '../../src/errors.js';
import { dataSize, decodeHeaderBlock } from '../../src/tar/header.js';
import { block } from './build.js';

function base256(n: bigint, width: number): Buffer {
  const b = Buffer.alloc(width);
  let x = n < 0n ? (1n << BigInt(width * 8)) + n : n;
  for (let i = width - 1; i >= 0; i--) {
    b[i] = Number(x & 0xffn);
    x >>= 8n;
  }
  if (n >= 0n) b[0]! |= 0x80;
  return b;
}

describe('decodeHeaderBlock', () => {
  it('returns null for a zero block', () => {
    expect(decodeHeaderBlock(Buffer.alloc(512), 0, 't')).toBeNull();
  });

  it('reads a ustar header and joins the prefix', () => {
    const h = decodeHeaderBlock(
      block({ name: 'foo', prefix: 'a'.repeat(95), mode: 0o104755, uid: 7, gid: 8, size: 9, mtime: 1700000000, uname: 'u', gname: 'g', typeflag: '0' }),
      0,
      't',
    )!;
    expect(h).toMatchObject({ name: `${'a'.repeat(95)}/foo`, mode: 0o104755, uid: 7, gid: 8, size: 9, mtime: 1700000000 });
    expect(h).toMatchObject({ uname: 'u', gname: 'g', typeflag: '0', format: 'ustar' });
  });

  it('keeps a 100-byte name without NUL and raw latin1 bytes', () => {
    const name = `caf\xe9${'x'.repeat(96)}`;
    expect(decodeHeaderBlock(block({ name }), 0, 't')!.name).toBe(name);
  });

  it('reads V7 headers without magic, ignoring the ustar-only fields', () => {
    const h = decodeHeaderBlock(block({ name: 'old', format: 'v7', raw: [[265, Buffer.from('junk')]] }), 0, 't')!;
    expect(h).toMatchObject({ name: 'old', format: 'v7', uname: '' });
  });

  it('reads GNU headers, without a prefix', () => {
    const h = decodeHeaderBlock(block({ name: 'n', format: 'gnu', raw: [[345, Buffer.from('00000000012\0')]] }), 0, 't')!;
    expect(h).toMatchObject({ name: 'n', format: 'gnu', atime: 10 });
  });

  it('trims spaces and NULs around octal numbers', () => {
    const h = decodeHeaderBlock(block({ raw: [[124, Buffer.from(' \0  17 \0\0\0\0\0')], [100, Buffer.from('  644  ')]] }), 0, 't')!;
    expect(h.size).toBe(0o17);
    expect(h.mode).toBe(0o644);
  });

  it('rejects non-octal digits', () => {
    expect(() => decodeHeaderBlock(block({ raw: [[124, Buffer.from('0000000009\0\0')]] }), 512, 'lay')).toThrow(/size at offset 512/);
  });

  it('reads base-256 numbers, positive and negative', () => {
    const h = decodeHeaderBlock(
      block({ raw: [[108, base256(3000000n, 8)], [124, base256(8804630528n, 12)], [136, base256(-1n, 12)]] }),
      0,
      't',
    )!;
    expect(h).toMatchObject({ uid: 3000000, size: 8804630528, mtime: -1 });
  });

  it('rejects base-256 numbers that overflow 64 bits', () => {
    const big = Buffer.alloc(12, 0xff);
    big[0] = 0x80;
    expect(() => decodeHeaderBlock(block({ raw: [[124, big]] }), 0, 't')).toThrow(FormatError);
  });

  it('rejects base-256 numbers a JS number cannot hold exactly', () => {
    expect(() => decodeHeaderBlock(block({ raw: [[124, base256(2n ** 60n, 12)]] }), 0, 't')).toThrow(/too large/);
  });

  it('accepts the signed (Sun) checksum', () => {
    const h = decodeHeaderBlock(block({ name: 'caf\xe9\xe9\xe9', checksum: 'signed' }), 0, 't')!;
    expect(h.name).toBe('caf\xe9\xe9\xe9');
  });

  it('rejects a bad checksum with the label and offset', () => {
    expect(() => decodeHeaderBlock(block({ checksum: 'bad' }), 1536, 'sha256:abc')).toThrow(/^sha256:abc: .*checksum.* at offset 1536$/);
  });

  it('rejects a short block as truncated', () => {
    expect(() => decodeHeaderBlock(Buffer.alloc(100, 1), 0, 't')).toThrow(/truncated/);
  });

  it('dataSize ignores the size of header-only types and rejects negative sizes', () => {
    const sym = decodeHeaderBlock(block({ typeflag: '2', size: 100 }), 0, 't')!;
    expect(dataSize(sym, 0, 't')).toBe(0);
    const neg = decodeHeaderBlock(block({ raw: [[124, base256(-5n, 12)]] }), 0, 't')!;
    expect(() => dataSize(neg, 0, 't')).toThrow(/negative/);
  });
});
