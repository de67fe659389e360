// GNU sparse files in every dialect GNU tar writes, expanded and compared with the original and with
// GNU tar's own extraction; plus hand-made broken maps.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { FormatError, LimitError } from '../../src/errors.js';
import { readTar } from '../../src/tar/reader.js';
import { block, chunks, EOA, file, pad, pax, readAll } from './build.js';
import { describeTree, gnuTarExtract, tempDir } from './oracle.js';

const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

let work: string;
let original: Buffer;
const REGIONS = 30; // more than the 4 an old GNU header holds: needs extension blocks

beforeAll(() => {
  work = tempDir('stratum-sparse-');
  const src = path.join(work, 'src');
  fs.mkdirSync(src);
  const fd = fs.openSync(path.join(src, 'holes'), 'w');
  for (let i = 0; i < REGIONS; i++) fs.writeSync(fd, Buffer.alloc(1000, 0x41 + (i % 26)), 0, 1000, i * 65536 + 123);
  fs.ftruncateSync(fd, REGIONS * 65536 + 40000);
  fs.closeSync(fd);
  original = fs.readFileSync(path.join(src, 'holes'));
  fs.writeFileSync(path.join(src, 'after'), 'after\n');
});

afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

const DIALECTS: [string, string[]][] = [
  ['old GNU (S + extension blocks)', ['--format=gnu']],
  ['PAX 0.0', ['--format=posix', '--sparse-version=0.0']],
  ['PAX 0.1', ['--format=posix', '--sparse-version=0.1']],
  ['PAX 1.0', ['--format=posix', '--sparse-version=1.0']],
];

describe.each(DIALECTS)('GNU tar sparse, %s', (_name, flags) => {
  let archive: string;
  beforeAll(() => {
    archive = path.join(work, `${flags.join('_').replace(/[^a-z0-9_.]/gi, '')}.tar`);
    execFileSync('tar', ['--sparse', ...flags, '-cf', archive, '-C', path.join(work, 'src'), 'holes']);
  });

  it('expands to the original file under its real name, in any chunk size', async () => {
    const stored = fs.readFileSync(archive);
    expect(stored.length).toBeLessThan(original.length / 2); // really sparse
    if (flags[0] === '--format=gnu') expect([stored[156], stored[482]]).toEqual([0x53, 1]); // 'S' with extension blocks
    for (const size of [0, 1, 7, 513]) {
      const entries = await readAll(stored, size);
      expect(entries.map((e) => [e.header.name, e.header.type, e.header.size])).toEqual([['holes', 'file', original.length]]);
      expect(entries[0]!.sha256).toBe(sha(original));
    }
  });

  it('matches what GNU tar extracts', async () => {
    const dir = tempDir();
    try {
      gnuTarExtract(archive, dir);
      expect(describeTree(dir).get('holes')!.sha256).toBe(sha(original));
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('caps the number of regions', async () => {
    await expect(readAll(fs.readFileSync(archive), 0, { limits: { maxSparseRegions: 10 } })).rejects.toBeInstanceOf(LimitError);
  });

  it('skips an unread sparse body', async () => {
    const both = `${archive}.both`;
    execFileSync('tar', ['--sparse', ...flags, '-cf', both, '-C', path.join(work, 'src'), 'holes', 'after']);
    const names: string[] = [];
    const bodies: string[] = [];
    for await (const e of readTar(chunks(fs.readFileSync(both), 100))) {
      names.push(e.header.name);
      if (e.header.name === 'after') for await (const c of e.body) bodies.push(c.toString());
    }
    expect(names).toEqual(['holes', 'after']);
    expect(bodies).toEqual(['after\n']);
  });
});

/** A PAX 0.1 sparse entry with the given map over `data`. */
function sparse01(map: number[], realsize: number, data: Buffer): Buffer {
  return Buffer.concat([
    pax([
      ['GNU.sparse.major', '0'],
      ['GNU.sparse.minor', '1'],
      ['GNU.sparse.name', 'real'],
      ['GNU.sparse.realsize', String(realsize)],
      ['GNU.sparse.numblocks', String(map.length / 2)],
      ['GNU.sparse.map', map.join(',')],
    ]),
    file({ name: 'GNUSparseFile.0/real' }, data),
    EOA,
  ]);
}

describe('sparse maps', () => {
  it('expands a hand-made 0.1 map', async () => {
    const [e] = await readAll(sparse01([2, 3, 10, 2], 15, Buffer.from('abcde')), 1);
    expect(e!.header).toMatchObject({ name: 'real', size: 15 });
    expect(e!.body).toEqual(Buffer.from('\0\0abc\0\0\0\0\0de\0\0\0', 'latin1'));
  });

  it.each([
    ['overlapping regions', [0, 5, 3, 2], 10, 7],
    ['a region past the size', [8, 5], 10, 5],
    ['regions holding less than the stored data', [0, 2], 10, 5],
    ['regions holding more than the stored data', [0, 8], 10, 5],
    ['an odd number of map values', [0, 2, 4], 10, 2],
  ])('rejects %s', async (_what, map, realsize, stored) => {
    const bad = sparse01(map as number[], realsize as number, Buffer.alloc(stored as number, 0x61));
    await expect(readAll(bad)).rejects.toBeInstanceOf(FormatError);
  });

  it("rejects 'S' in a non-GNU header", async () => {
    await expect(readAll(Buffer.concat([block({ name: 's', typeflag: 'S' }), EOA]))).rejects.toThrow(/non-GNU/);
  });

  it('streams a huge hole in small fresh chunks', async () => {
    const size = 64 << 20;
    const buf = sparse01([size - 4, 4], size, Buffer.from('tail'));
    let total = 0;
    let biggest = 0;
    let reused = 0;
    let last: Buffer | undefined;
    for await (const e of readTar(chunks(buf))) {
      for await (const c of e.body) {
        total += c.length;
        biggest = Math.max(biggest, c.length);
        if (c === last || c.buffer === last?.buffer) reused++;
        last = c;
      }
    }
    expect(reused).toBe(0);
    expect(total).toBe(size);
    expect(biggest).toBeLessThanOrEqual(64 * 1024);
    expect(last!.toString()).toBe('tail');
  });

  it('reads a hand-made 1.0 map from the data blocks', async () => {
    const map = Buffer.from('2\n0\n2\n6\n1\n', 'latin1');
    const data = Buffer.concat([map, pad(map.length), Buffer.from('xyz')]);
    const buf = Buffer.concat([
      pax([
        ['GNU.sparse.major', '1'],
        ['GNU.sparse.minor', '0'],
        ['GNU.sparse.name', 'one'],
        ['GNU.sparse.realsize', '8'],
      ]),
      file({ name: 'GNUSparseFile.0/one' }, data),
      EOA,
    ]);
    const [e] = await readAll(buf, 7);
    expect(e!.header).toMatchObject({ name: 'one', size: 8 });
    expect(e!.body).toEqual(Buffer.from('xy\0\0\0\0z\0', 'latin1'));
  });
});
