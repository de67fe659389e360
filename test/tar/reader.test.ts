import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it, expect } from 'vitest';
import { FormatError, LimitError, UnsupportedError, UsageError } from '../../src/errors.js';
import { readTar } from '../../src/tar/reader.js';
import { FIXTURES } from '../helpers/paths.js';
import { block, CHUNK_SIZES, chunks, counted, EOA, file, pax, readAll } from './build.js';

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

/** Reads in every chunk size; returns the whole-buffer result after checking they agree. */
async function readEvery(buf: Buffer): Promise<Awaited<ReturnType<typeof readAll>>> {
  const whole = await readAll(buf);
  for (const size of CHUNK_SIZES.slice(1)) expect(await readAll(buf, size)).toEqual(whole);
  return whole;
}

async function rejectsEvery(buf: Buffer, cls: new (...a: never[]) => Error, pattern: RegExp): Promise<void> {
  for (const size of CHUNK_SIZES) {
    const p = readAll(buf, size, { label: 'lay' });
    await expect(p).rejects.toBeInstanceOf(cls);
    await expect(readAll(buf, size, { label: 'lay' })).rejects.toThrow(pattern);
  }
}

describe('readTar end of archive', () => {
  it('yields nothing for 0 bytes, one zero block, or two', async () => {
    expect(await readEvery(Buffer.alloc(0))).toEqual([]);
    expect(await readEvery(Buffer.alloc(512))).toEqual([]);
    expect(await readEvery(EOA)).toEqual([]);
  });

  it('ignores empty chunks', async () => {
    async function* gen() {
      yield Buffer.alloc(0);
      yield file({ name: 'a' }, 'hi');
      yield Buffer.alloc(0);
    }
    expect((await readAll(gen())).map((e) => e.body.toString())).toEqual(['hi']);
  });

  it('accepts a missing end marker on a block boundary', async () => {
    expect((await readEvery(Buffer.concat([file({ name: 'a' }, 'x'), file({ name: 'b' })]))).map((e) => e.header.name)).toEqual(['a', 'b']);
  });

  it('rejects a zero block followed by a header, naming the offset', async () => {
    await rejectsEvery(Buffer.concat([file({ name: 'a' }, 'x'), Buffer.alloc(512), file({ name: 'b' })]), FormatError, /^lay: zero block followed by a non-zero header at offset 1536$/);
  });

  it('stops at two zero blocks and drains, without parsing, whatever follows', async () => {
    const buf = Buffer.concat([file({ name: 'a' }), EOA, Buffer.from('garbage that is not a header'), file({ name: 'b' })]);
    const src = counted(chunks(buf, 7));
    expect((await readAll(src.stream)).map((e) => e.header.name)).toEqual(['a']);
    expect(src.pulled()).toBe(buf.length);
  });

  it('rejects truncated headers, bodies, padding and end markers', async () => {
    const one = file({ name: 'a' }, 'hello');
    await rejectsEvery(one.subarray(0, 300), FormatError, /truncated tar header.* at offset 0$/);
    await rejectsEvery(one.subarray(0, 514), FormatError, /truncated tar entry "a": 3 bytes missing at offset 514$/);
    await rejectsEvery(one.subarray(0, 600), FormatError, /truncated tar padding/);
    await rejectsEvery(Buffer.concat([one, Buffer.alloc(700)]), FormatError, /truncated/);
  });

  it('stops early without draining when the consumer breaks', async () => {
    const buf = Buffer.concat([file({ name: 'a' }), file({ name: 'b' }), EOA]);
    const src = counted(chunks(buf, 512));
    for await (const e of readTar(src.stream)) {
      expect(e.header.name).toBe('a');
      break;
    }
    expect(src.pulled()).toBe(512);
  });
});

describe('readTar bodies', () => {
  const tar = Buffer.concat([file({ name: 'a' }, 'A'.repeat(3000)), file({ name: 'b' }, 'bee'), EOA]);

  it('skips bodies the consumer did not read, or read only partly', async () => {
    for (const size of CHUNK_SIZES) {
      const seen: string[] = [];
      let first = true;
      for await (const e of readTar(chunks(tar, size))) {
        if (first) {
          for await (const c of e.body) {
            expect(c.length).toBeGreaterThan(0);
            break;
          }
          first = false;
          continue;
        }
        for await (const c of e.body) seen.push(c.toString());
      }
      expect(seen.join('')).toBe('bee');
    }
  });

  it('refuses a body read twice or after the next entry', async () => {
    const it = readTar(chunks(tar, 100));
    const a = (await it.next()).value!;
    for await (const _ of a.body) break;
    expect(() => a.body[Symbol.asyncIterator]()).toThrow(UsageError);
    const b = (await it.next()).value!;
    expect(b.header.name).toBe('b');
    await it.return(undefined);
  });

  it('hands out views of the input, not copies', async () => {
    const buf = Buffer.concat([file({ name: 'a' }, 'xyz'), EOA]);
    for await (const e of readTar(chunks(buf))) {
      for await (const c of e.body) expect(c.buffer).toBe(buf.buffer);
    }
  });
});

describe('readTar headers', () => {
  it('maps typeflags, strips file-type bits from the mode, reads devices', async () => {
    const buf = Buffer.concat([
      file({ name: 'r', typeflag: '0', mode: 0o100755 }, 'x'),
      file({ name: 'old', typeflag: '\0' }, 'y'),
      file({ name: 'c7', typeflag: '7' }, 'z'),
      file({ name: 'd0/', typeflag: '0' }),
      file({ name: 'dA/', typeflag: '\0' }),
      block({ name: 'h', typeflag: '1', linkname: 'r', size: 5 }), // Go: no data follows a hardlink
      block({ name: 's', typeflag: '2', linkname: '../t' }),
      block({ name: 'c', typeflag: '3', devmajor: 1, devminor: 3 }),
      block({ name: 'b', typeflag: '4', devmajor: 8, devminor: 0 }),
      block({ name: 'd/', typeflag: '5', mode: 0o41777 }),
      block({ name: 'p', typeflag: '6' }),
      file({ name: 'v7', format: 'v7' }, 'v'),
      EOA,
    ]);
    const got = (await readEvery(buf)).map((e) => [e.header.name, e.header.type, e.header.mode.toString(8), e.header.size, e.body.toString()]);
    expect(got).toEqual([
      ['r', 'file', '755', 1, 'x'],
      ['old', 'file', '644', 1, 'y'],
      ['c7', 'file', '644', 1, 'z'],
      ['d0/', 'dir', '644', 0, ''],
      ['dA/', 'dir', '644', 0, ''],
      ['h', 'hardlink', '644', 0, ''],
      ['s', 'symlink', '644', 0, ''],
      ['c', 'char', '644', 0, ''],
      ['b', 'block', '644', 0, ''],
      ['d/', 'dir', '1777', 0, ''],
      ['p', 'fifo', '644', 0, ''],
      ['v7', 'file', '644', 1, 'v'],
    ]);
    const all = await readAll(buf);
    expect(all[5]!.header.linkname).toBe('r');
    expect(all[7]!.header).toMatchObject({ devmajor: 1, devminor: 3 });
  });

  it.each(['V', 'M', 'N', 'D', 'X', 'A'])('rejects typeflag %s as unhandled', async (flag) => {
    await rejectsEvery(Buffer.concat([file({ name: 'weird', typeflag: flag }), EOA]), UnsupportedError, /^lay: unhandled tar entry type '[VMNDXA]' for "weird" at offset 0$/);
  });

  it('rejects a negative size on an entry with data, not on a symlink', async () => {
    const neg = base256(-1n, 12);
    await rejectsEvery(Buffer.concat([block({ name: 'f', raw: [[124, neg]] }), EOA]), FormatError, /negative tar entry size -1 at offset 0/);
    expect((await readAll(Buffer.concat([block({ name: 's', typeflag: '2', raw: [[124, neg]] }), EOA]))).length).toBe(1);
  });

  it('reads base-256 ids and the signed checksum', async () => {
    const buf = Buffer.concat([block({ name: 'caf\xe9\xff', raw: [[108, base256(3000000n, 8)]], checksum: 'signed' }), EOA]);
    expect((await readEvery(buf))[0]!.header).toMatchObject({ name: 'caf\xe9\xff', uid: 3000000 });
  });

  it('rejects a bad checksum', async () => {
    await rejectsEvery(Buffer.concat([file({ name: 'a' }), block({ name: 'b', checksum: 'bad' })]), FormatError, /checksum .* at offset 512$/);
  });
});

describe('readTar PAX and GNU extensions', () => {
  it('applies the standard PAX keys and xattrs with exact bytes', async () => {
    const cap = Buffer.from([0x01, 0x00, 0xff, 0xc0, 0x80, 0x00]);
    const buf = Buffer.concat([
      pax([
        ['path', `${'p'.repeat(200)}/caf\xe9`],
        ['linkpath', 'l'.repeat(300)],
        ['uid', '3000000'],
        ['gid', '4000000'],
        ['uname', 'some\xffuser'],
        ['gname', 'grp'],
        ['mtime', '1700000000.123456789123'],
        ['atime', '-1.5'],
        ['ctime', '12'],
        ['size', '4'],
        ['SCHILY.xattr.security.capability', cap],
        ['SCHILY.xattr.user.caf\xe9', 'v'],
        ['comment', 'ignored'],
      ]),
      block({ name: 'short', typeflag: '0', uid: 1, size: 0 }),
      Buffer.from('data'),
      Buffer.alloc(508),
      file({ name: 'next' }),
      EOA,
    ]);
    const [e, next] = await readEvery(buf);
    expect(e!.header).toMatchObject({ name: `${'p'.repeat(200)}/caf\xe9`, linkname: 'l'.repeat(300), uid: 3000000, gid: 4000000 });
    expect(e!.header).toMatchObject({ uname: 'some\xffuser', gname: 'grp', mtime: 1700000000.123456789, atime: -1.5, ctime: 12, size: 4 });
    expect(e!.body.toString()).toBe('data');
    expect([...e!.header.xattrs]).toEqual([['security.capability', cap], ['user.caf\xe9', Buffer.from('v')]]);
    expect(next!.header).toMatchObject({ name: 'next', uid: 0, mtime: 0 });
    expect(next!.header.xattrs.size).toBe(0);
  });

  it('keeps the ustar value when a PAX value is empty', async () => {
    const [e] = await readEvery(Buffer.concat([pax([['path', ''], ['SCHILY.xattr.user.x', '']]), file({ name: 'ustar-name' }), EOA]));
    expect(e!.header.name).toBe('ustar-name');
    expect(e!.header.xattrs.size).toBe(0);
  });

  it('rejects a NUL in a PAX path', async () => {
    await rejectsEvery(Buffer.concat([pax([['path', 'a\0b']]), file({ name: 'x' }), EOA]), FormatError, /NUL in path/);
  });

  it('rejects malformed PAX numbers', async () => {
    await rejectsEvery(Buffer.concat([pax([['uid', '12x']]), file({ name: 'x' }), EOA]), FormatError, /PAX uid/);
    await rejectsEvery(Buffer.concat([pax([['mtime', '1.2.3']]), file({ name: 'x' }), EOA]), FormatError, /PAX mtime/);
  });

  it('ignores PAX global headers, and like Go forgets metadata read before one', async () => {
    const buf = Buffer.concat([
      pax([['path', 'renamed'], ['uid', '9']], 'g'),
      file({ name: 'a' }),
      pax([['path', 'lost']]),
      pax([['comment', 'x']], 'g'),
      file({ name: 'b' }),
      EOA,
    ]);
    expect((await readEvery(buf)).map((e) => [e.header.name, e.header.uid])).toEqual([['a', 0], ['b', 0]]);
  });

  it('reads GNU long names and link names, NUL-trimmed, over PAX ones', async () => {
    const long = `${'d'.repeat(150)}/${'f'.repeat(120)}`;
    const buf = Buffer.concat([
      pax([['path', 'pax-name'], ['size', '3']]),
      file({ name: '././@LongLink', typeflag: 'L', format: 'gnu' }, `${long}\0\0\0`),
      file({ name: '././@LongLink', typeflag: 'K', format: 'gnu' }, `${'t'.repeat(150)}\0`),
      block({ name: 'trunc', typeflag: '0', format: 'gnu', size: 0 }),
      Buffer.from('abc'),
      Buffer.alloc(509),
      EOA,
    ]);
    const [e] = await readEvery(buf);
    expect(e!.header).toMatchObject({ name: long, linkname: 't'.repeat(150), size: 3 });
    expect(e!.body.toString()).toBe('abc');
  });

  it.each([
    ['x', 'PAX header'],
    ['g', 'PAX global header'],
    ['L', 'GNU long name'],
    ['K', 'GNU long link'],
  ])("caps '%s' entries at 1 MiB", async (flag, what) => {
    const big = Buffer.concat([block({ name: 'big', typeflag: flag, size: 2 << 20 }), Buffer.alloc(2 << 20, 0x61), file({ name: 'x' }), EOA]);
    const src = counted(chunks(big, 65536));
    await expect(readAll(src.stream, 0, { label: 'lay' })).rejects.toBeInstanceOf(LimitError);
    await expect(readAll(big, 0, { label: 'lay' })).rejects.toThrow(new RegExp(`^lay: ${what} of 2097152 bytes exceeds the 1048576-byte limit at offset 0$`));
    expect(src.pulled()).toBeLessThan(1 << 20); // refused before buffering it
  });

  it('honours a custom special-entry limit', async () => {
    const buf = Buffer.concat([pax([['comment', 'x'.repeat(100)]]), file({ name: 'x' }), EOA]);
    await expect(readAll(buf, 0, { limits: { maxSpecialBytes: 64 } })).rejects.toBeInstanceOf(LimitError);
  });
});

describe('readTar data offsets', () => {
  // The store keeps each layer's tar whole and reads files back by these offsets, so they must be exact for every
  // header form (PAX, GNU long names, base-256 fields) and flag exactly the entries whose bytes are not one run.
  const names = ['a.tar', 'b.tar', 'latin1.tar', 'pax-desync.tar', 'paxglobal.tar', 'xattr-bin.tar', 'biguid-gnu.tar', 'sparse-gnu.tar', 'sparse-pax.tar'];
  for (const name of names) {
    it(`${name}: each non-sparse body is the bytes at its offset`, async () => {
      const buf = readFileSync(path.join(FIXTURES, 'tar-pitfalls', name));
      for (const size of CHUNK_SIZES) {
        let checked = 0;
        for await (const e of readTar(chunks(buf, size))) {
          const parts: Buffer[] = [];
          for await (const c of e.body) parts.push(Buffer.from(c));
          const body = Buffer.concat(parts);
          if (e.sparse) {
            expect(name).toMatch(/sparse/);
            continue;
          }
          expect(e.offset % 512, `${e.header.name} offset`).toBe(0);
          expect(buf.subarray(e.offset, e.offset + body.length).equals(body), `${e.header.name} at ${e.offset}`).toBe(true);
          checked += body.length > 0 ? 1 : 0;
        }
      }
    });
  }

  it('offsets in a tar built here: after a PAX header and a GNU long name', async () => {
    const long = `${'d/'.repeat(60)}file`;
    const buf = Buffer.concat([
      pax([['path', 'pax-named']]),
      file({ name: 'ignored' }, 'one'),
      file({ name: '././@LongLink', typeflag: 'L' }, `${long}\0`),
      file({ name: long.slice(0, 99) }, 'second body'),
      EOA,
    ]);
    const seen: Array<[string, string]> = [];
    for await (const e of readTar(chunks(buf, 0))) {
      seen.push([e.header.name, buf.subarray(e.offset, e.offset + e.header.size).toString()]);
      for await (const _ of e.body);
    }
    expect(seen).toEqual([
      ['pax-named', 'one'],
      [long, 'second body'],
    ]);
  });
});
