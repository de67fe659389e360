// Every tar in the shared tar-pitfalls folder, read the way its README says is right, cross-checked
// against what GNU tar extracts from it.
import { describe, it, expect } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';
import { FormatError } from '../../src/errors.js';
import { PITFALLS } from '../helpers/paths.js';
import { CHUNK_SIZES, chunks, counted, readAll, type ReadEntry } from './build.js';
import { describeTree, gnuTarExtract, tempDir } from './oracle.js';

const ACCEPTED = [
  'a.tar',
  'b.tar',
  'almostempty.tar',
  'biguid-gnu.tar',
  'concat.tar',
  'empty-gnu.tar',
  'junk.tar',
  'latin1.tar',
  'noeof.tar',
  'pax-desync.tar',
  'paxglobal.tar',
  'signedck.tar',
  'sparse-gnu.tar',
  'sparse-pax.tar',
  'xattr-bin.tar',
  'xattr-bin2.tar',
];

const fixture = (name: string): Buffer => fs.readFileSync(path.join(PITFALLS, name));
const read = (name: string, chunkSize = 0): Promise<ReadEntry[]> => readAll(fixture(name), chunkSize, { label: name });
const names = (entries: ReadEntry[]): string[] => entries.map((e) => e.header.name);

describe('tar-pitfalls fixtures', () => {
  it('covers every tar in the folder', () => {
    const tars = fs.readdirSync(PITFALLS).filter((f) => f.endsWith('.tar'));
    expect([...ACCEPTED, 'trunc.tar'].sort()).toEqual(tars.sort());
  });

  describe.each(ACCEPTED)('%s', (name) => {
    it('reads the same in any chunk size', async () => {
      // Headers and digests: deep-comparing large Buffers is slow in vitest.
      const summary = (entries: ReadEntry[]) => entries.map((e) => [e.header, e.sha256, e.body.length]);
      const whole = summary(await read(name));
      for (const size of CHUNK_SIZES.slice(1)) expect(summary(await read(name, size))).toEqual(whole);
    });

    it('agrees with what GNU tar extracts', async () => {
      const entries = await read(name);
      const dir = tempDir();
      try {
        gnuTarExtract(path.join(PITFALLS, name), dir);
        const tree = describeTree(dir);
        const ours = new Map(entries.map((e) => [e.header.name.replace(/\/$/, ''), e]));
        // GNU tar creates missing parent directories; everything else it made must be one of our entries.
        const implied = new Set([...ours.keys()].flatMap((p) => p.split('/').slice(0, -1).map((_, i, a) => a.slice(0, i + 1).join('/'))));
        expect([...tree.keys()].filter((p) => !ours.has(p) && !implied.has(p))).toEqual([]);
        expect([...ours.keys()].filter((p) => !tree.has(p))).toEqual([]);
        for (const [p, e] of ours) {
          const x = tree.get(p)!;
          expect(x.type, p).toBe(e.header.type);
          if (e.header.type === 'file') expect(x.sha256, p).toBe(e.sha256);
          expect(e.body.length, p).toBe(e.header.size);
        }
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    });
  });

  it('concat.tar: only the first archive, yet every byte was pulled from the input', async () => {
    const buf = fixture('concat.tar');
    for (const size of CHUNK_SIZES) {
      const src = counted(chunks(buf, size));
      const entries = await readAll(src.stream);
      expect(names(entries)).toEqual(['fa']);
      expect(src.pulled()).toBe(buf.length);
    }
  });

  it('concat.tar from a Node Readable: the stream is read to its end', async () => {
    const stream = fs.createReadStream(path.join(PITFALLS, 'concat.tar'), { highWaterMark: 1000 });
    expect(names(await readAll(stream))).toEqual(['fa']);
    expect([stream.bytesRead, stream.readableEnded]).toEqual([20480, true]);
  });

  it('junk.tar: trailing junk tolerated and pulled', async () => {
    const buf = fixture('junk.tar');
    const src = counted(chunks(buf, 7));
    expect(names(await readAll(src.stream))).toEqual(['fa']);
    expect(src.pulled()).toBe(buf.length);
  });

  it('noeof.tar and empty archives', async () => {
    expect(names(await read('noeof.tar'))).toEqual(['fa']);
    expect(await read('empty-gnu.tar')).toEqual([]);
  });

  it('almostempty.tar: a docker save whose only layer holds one empty file', async () => {
    const outer = await read('almostempty.tar');
    expect(outer).toHaveLength(7);
    const layer = outer.find((e) => e.header.name.endsWith('/layer.tar'))!;
    const inner = await readAll(layer.body, 7);
    expect(inner.map((e) => [e.header.name, e.header.size, e.header.mode])).toEqual([['emptyfile', 0, 0o664]]);
  });

  it('trunc.tar: an error naming the file and offset, in any chunk size', async () => {
    for (const size of CHUNK_SIZES) {
      await expect(read('trunc.tar', size)).rejects.toThrow(FormatError);
      await expect(read('trunc.tar', size)).rejects.toThrow(/^trunc\.tar: truncated .* at offset 700$/);
    }
  });

  it('signedck.tar: the signed checksum is accepted', async () => {
    expect(names(await read('signedck.tar'))).toEqual(['caf\xe9']);
  });

  it('paxglobal.tar: the global header is ignored, the local one applied', async () => {
    const [e, ...rest] = await read('paxglobal.tar');
    expect(rest).toEqual([]);
    expect(e!.header).toMatchObject({ name: 'x.txt', uid: 3000000, gid: 0, mtime: 1700000000.5 });
  });

  it('pax-desync.tar: x, then L, then the file is one entry', async () => {
    const entries = await read('pax-desync.tar');
    expect(entries.map((e) => [e.header.name, e.header.size, e.body.length])).toEqual([['longname.txt', 2048, 2048]]);
  });

  it('biguid-gnu.tar: base-256 ids', async () => {
    const [e] = await read('biguid-gnu.tar');
    expect(e!.header).toMatchObject({ name: 'u', uid: 3000000, gid: 3000000 });
  });

  it.each(['sparse-gnu.tar', 'sparse-pax.tar'])('%s: expanded under its real name', async (name) => {
    const [e, ...rest] = await read(name);
    expect(rest).toEqual([]);
    expect(e!.header).toMatchObject({ name: 'sp', type: 'file', size: 413696 });
    expect(e!.body.subarray(0, 409600).equals(Buffer.alloc(409600))).toBe(true);
    expect(e!.body.subarray(409600).equals(Buffer.alloc(4096))).toBe(false);
  });

  it('latin1.tar: two distinct names with their exact bytes', async () => {
    expect(names(await read('latin1.tar'))).toEqual(['caf\xe9', 'caf\xe8']);
  });

  it.each([
    ['xattr-bin.tar', 'caf\xe9-latin1-in-pax', '0100000200200000000000000000000000000000'],
    ['xattr-bin2.tar', 'bin/ping', '01000002ffc08000000000000000000000000000'],
  ])('%s: exact xattr bytes', async (name, entryName, hex) => {
    const value = Buffer.from(hex, 'hex');
    // The value as it sits in the raw PAX record (seen with xxd; python3 tarfile reports the same bytes).
    expect(fixture(name).includes(Buffer.concat([Buffer.from('SCHILY.xattr.security.capability='), value, Buffer.from('\n')]))).toBe(true);
    const [e] = await read(name);
    expect(e!.header.name).toBe(entryName);
    expect([...e!.header.xattrs]).toEqual([['security.capability', value]]);
  });
});
