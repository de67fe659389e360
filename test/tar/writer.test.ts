// The writer's headers read back by our reader and extracted by GNU tar (as root, with xattrs).
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import fc from 'fast-check';
import fs from 'node:fs';
import path from 'node:path';
import { UsageError } from '../../src/errors.js';
import { decodeHeaderBlock } from '../../src/tar/header.js';
import { readTar } from '../../src/tar/reader.js';
import { encodeEntryHeader, END_OF_ARCHIVE, formatPaxTime, padding, type EncodeHeader } from '../../src/tar/writer.js';
import { chunks, readAll } from './build.js';
import { describeTree, gnuTarExtract, tempDir } from './oracle.js';

const base = { mode: 0o644, uid: 0, gid: 0, size: 0, mtime: 1700000000 };

function archive(entries: [EncodeHeader, Buffer?][]): Buffer {
  const parts: Buffer[] = [];
  for (const [h, body] of entries) {
    parts.push(encodeEntryHeader(h));
    if (body) parts.push(body, padding(body.length));
  }
  parts.push(END_OF_ARCHIVE);
  return Buffer.concat(parts);
}

const fileEntry = (name: string, content: string, extra: Partial<EncodeHeader> = {}): [EncodeHeader, Buffer] => {
  const body = Buffer.from(content, 'latin1');
  return [{ ...base, name, type: 'file', size: body.length, ...extra }, body];
};

const cap = Buffer.from('01000002ffc08000000000000000000000000000', 'hex');
const longDir = `${'d'.repeat(120)}/${'e'.repeat(90)}`;
const CASES: [EncodeHeader, Buffer?][] = [
  fileEntry('plain', 'hello', { mode: 0o4755, uid: 1000, gid: 1001, uname: 'alice', gname: 'staff' }),
  [{ ...base, name: 'dir', type: 'dir', mode: 0o1777, mtime: 1600000000 }],
  fileEntry(`${'x'.repeat(99)}y`, 'exactly 100'),
  fileEntry('caf\xe9', 'latin1 short'),
  fileEntry(`${'d'.repeat(120)}/${'f'.repeat(100)}`, 'prefix split'),
  // GNU tar sets a directory's times once it leaves it, so its children come right after it.
  [{ ...base, name: longDir, type: 'dir', mode: 0o750 }],
  fileEntry(`${longDir}/${'g'.repeat(180)}`, 'pax path'),
  fileEntry(`${longDir}/caf\xe8-${'h'.repeat(150)}`, 'latin1 in PAX'),
  fileEntry('bigids', 'ids', { uid: 3000000, gid: 4000000 }),
  fileEntry('longowner', 'names', { uname: 'u'.repeat(40), gname: 'g'.repeat(33) }),
  fileEntry('frac', 'time', { mtime: 1700000000.5 }),
  fileEntry('neg', 'time', { mtime: -100 }),
  fileEntry('xattrs', 'caps', { xattrs: new Map([['security.capability', cap], ['user.bin\xe9', Buffer.from([0, 0xff, 0x0a, 0x3d])], ['trusted.t', Buffer.from('v')]]) }),
  [{ ...base, name: 'sym', type: 'symlink', linkname: `../${'t'.repeat(200)}` }],
  [{ ...base, name: 'short-sym', type: 'symlink', linkname: 'plain' }],
  [{ ...base, name: 'hard', type: 'hardlink', linkname: 'plain', mode: 0o4755, uid: 1000, gid: 1001 }],
  [{ ...base, name: 'fifo', type: 'fifo', mode: 0o600 }],
  [{ ...base, name: 'null', type: 'char', devmajor: 1, devminor: 3, mode: 0o666 }],
  [{ ...base, name: 'sda', type: 'block', devmajor: 8, devminor: 0, mode: 0o660 }],
];

describe('encodeEntryHeader', () => {
  it('uses a bare ustar header when everything fits, PAX otherwise', () => {
    const sizes = CASES.map(([h]) => [h.name.slice(0, 12), encodeEntryHeader(h).length]);
    expect(sizes.filter(([, n]) => n === 512).map(([name]) => name)).toEqual(
      ['plain', 'dir', 'x'.repeat(12), 'caf\xe9', 'd'.repeat(12), 'd'.repeat(12), 'short-sym', 'hard', 'fifo', 'null', 'sda'],
    );
  });

  it('is deterministic and writes no atime/ctime', () => {
    for (const [h] of CASES) {
      const a = encodeEntryHeader(h);
      expect(encodeEntryHeader(h).equals(a)).toBe(true);
      expect(a.includes('atime=')).toBe(false);
      expect(a.includes('ctime=')).toBe(false);
    }
  });

  it('appends the trailing slash to directories and omits empty uname/gname', () => {
    const raw = decodeHeaderBlock(encodeEntryHeader({ ...base, name: 'a/b', type: 'dir' }), 0, 't')!;
    expect(raw).toMatchObject({ name: 'a/b/', typeflag: '5', uname: '', gname: '', format: 'ustar' });
  });

  it('puts a size beyond 8 GiB in PAX', async () => {
    const hdr = encodeEntryHeader({ ...base, name: 'huge', type: 'file', size: 8804630528 });
    expect(hdr.includes('size=8804630528\n')).toBe(true);
    for await (const e of readTar(chunks(hdr))) {
      expect(e.header.size).toBe(8804630528);
      break;
    }
  });

  it('formats PAX times like Go', () => {
    expect([1700000000.5, -1.5, 1.000000001, 0.1, 5].map(formatPaxTime)).toEqual(['1700000000.5', '-1.5', '1.000000001', '0.1', '5']);
  });

  it('refuses what tar cannot hold', () => {
    expect(() => encodeEntryHeader({ ...base, name: 'a\0b', type: 'file' })).toThrow(UsageError);
    expect(() => encodeEntryHeader({ ...base, name: 'a', type: 'file', size: -1 })).toThrow(UsageError);
    expect(() => encodeEntryHeader({ ...base, name: 'caf\u00e9\u20ac', type: 'file' })).toThrow(/latin1/);
    expect(() => encodeEntryHeader({ ...base, name: 'a', type: 'file', xattrs: new Map([['a=b', Buffer.from('x')]]) })).toThrow(UsageError);
  });

  it('pads to the block boundary', () => {
    expect([0, 1, 511, 512, 513].map((n) => padding(n).length)).toEqual([0, 511, 1, 0, 511]);
    expect(END_OF_ARCHIVE.equals(Buffer.alloc(1024))).toBe(true);
  });
});

describe('round trip', () => {
  const tar = archive(CASES);
  let dir: string;
  let file: string;

  beforeAll(() => {
    dir = tempDir('stratum-roundtrip-');
    file = path.join(dir, 'out.tar');
    fs.writeFileSync(file, tar);
    fs.mkdirSync(path.join(dir, 'x'));
    gnuTarExtract(file, path.join(dir, 'x'), ['--xattrs', "--xattrs-include=*", '--numeric-owner', '-p']);
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('reads back exactly through readTar, in any chunk size', async () => {
    for (const size of [0, 1, 7, 513]) {
      const entries = await readAll(tar, size);
      expect(entries).toHaveLength(CASES.length);
      entries.forEach((e, i) => {
        const [h, body] = CASES[i]!;
        const name = h.type === 'dir' ? `${h.name}/` : h.name;
        expect(e.header).toMatchObject({ name, type: h.type, mode: h.mode, uid: h.uid, gid: h.gid, mtime: h.mtime });
        expect(e.header).toMatchObject({ linkname: h.linkname ?? '', uname: h.uname ?? '', gname: h.gname ?? '' });
        expect(e.header).toMatchObject({ devmajor: h.devmajor ?? 0, devminor: h.devminor ?? 0 });
        expect(e.header.xattrs).toEqual(h.xattrs ?? new Map());
        expect(e.body.equals(body ?? Buffer.alloc(0))).toBe(true);
      });
    }
  });

  it('extracts with GNU tar to the same names, modes, owners, times, targets and xattrs', () => {
    const tree = describeTree(path.join(dir, 'x'), true);
    for (const [h, body] of CASES) {
      const got = tree.get(h.name);
      expect(got, h.name).toBeDefined();
      const want = { mode: h.mode, uid: h.uid, gid: h.gid };
      expect(got, h.name).toMatchObject(h.type === 'symlink' ? { type: 'symlink', linkname: h.linkname } : want);
      if (h.type === 'file') expect(got!.size).toBe(body!.length);
      if (h.type === 'file' || h.type === 'dir') expect(got!.mtimeMs, h.name).toBe(h.mtime * 1000);
      if (h.type === 'file') expect(got!.xattrs, h.name).toEqual(h.xattrs ?? new Map());
    }
    expect(fs.statSync(path.join(dir, 'x', 'hard')).ino).toBe(fs.statSync(path.join(dir, 'x', 'plain')).ino);
    const nul = fs.statSync(path.join(dir, 'x', 'null'));
    expect([nul.isCharacterDevice(), nul.rdev]).toEqual([true, (1 << 8) | 3]);
  });
});

describe('round trip (property)', () => {
  const byteString = (min: number, max: number) =>
    fc.uint8Array({ minLength: min, maxLength: max }).map((a) => Buffer.from(a.map((c) => (c === 0 || c === 0x2f ? 0x61 : c))).toString('latin1'));
  const name = fc.array(byteString(1, 60), { minLength: 1, maxLength: 6 }).map((parts) => parts.join('/'));
  const header: fc.Arbitrary<EncodeHeader> = fc.record({
    name,
    type: fc.constantFrom('file', 'dir', 'symlink', 'hardlink', 'fifo') as fc.Arbitrary<EncodeHeader['type']>,
    mode: fc.integer({ min: 0, max: 0o7777 }),
    uid: fc.integer({ min: 0, max: 2 ** 32 }),
    gid: fc.integer({ min: 0, max: 2 ** 32 }),
    size: fc.constant(0),
    mtime: fc.oneof(fc.integer({ min: -(2 ** 40), max: 2 ** 40 }), fc.integer({ min: 0, max: 2 ** 31 }).map((s) => s + 0.25)),
    linkname: byteString(0, 300),
    xattrs: fc.array(fc.tuple(fc.stringMatching(/^user\.[a-z]{1,10}$/), fc.uint8Array({ minLength: 1, maxLength: 40 })), { maxLength: 3 })
      .map((xs) => new Map(xs.map(([k, v]) => [k, Buffer.from(v)]))),
  });

  it('readTar(encodeEntryHeader(h)) gives back h', async () => {
    await fc.assert(
      fc.asyncProperty(header, async (h) => {
        const linkname = h.type === 'symlink' || h.type === 'hardlink' ? h.linkname : '';
        const [e] = await readAll(archive([[{ ...h, linkname }]]), 7);
        expect(e!.header).toMatchObject({
          name: h.type === 'dir' ? `${h.name}/` : h.name,
          type: h.type,
          mode: h.mode,
          uid: h.uid,
          gid: h.gid,
          mtime: h.mtime,
          linkname,
        });
        expect(e!.header.xattrs).toEqual(h.xattrs);
      }),
      { numRuns: 300 },
    );
  });
});
