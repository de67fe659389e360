// The outer-archive index: headers read by offset, PAX and GNU long names applied, bodies skipped,
// reading stopped at the end-of-archive marker; names resolved inside the archive only.
import { writeFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FormatError, LimitError } from '../../src/errors.js';
import { indexTar } from '../../src/source/tar-index.js';
import { resolveFile, tarFileSet } from '../../src/source/tar-files.js';
import { packTar, tempDir, type TarSpec } from '../helpers/archive-builder.js';
import { PITFALLS } from '../helpers/paths.js';
import { EOA, file, pax } from '../tar/build.js';

let tmp: string;
let n = 0;
beforeAll(async () => {
  tmp = await tempDir();
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

async function indexOf(bytes: Buffer, maxEntries = 1000) {
  const p = path.join(tmp, `t${n++}.tar`);
  await writeFile(p, bytes);
  return indexTar(p, 'test.tar', maxEntries);
}

async function indexSpecs(entries: TarSpec[]) {
  return indexOf(await packTar(entries));
}

describe('indexTar', () => {
  it('records offsets and sizes of bodies, which read back exactly', async () => {
    const index = await indexSpecs([{ name: 'a', content: 'hello' }, { name: 'dir', type: 'directory' }, { name: 'dir/b', content: 'x'.repeat(1000) }]);
    expect([...index.entries.keys()]).toEqual(['a', 'dir', 'dir/b']);
    expect(index.entries.get('a')).toMatchObject({ offset: 512, size: 5, type: 'file' });
    expect(index.entries.get('dir/b')).toMatchObject({ size: 1000, type: 'file' });
    const files = tarFileSet(index);
    expect((await files.read('dir/b', 5000)).toString()).toBe('x'.repeat(1000));
    expect(Buffer.concat(await (await files.open('a')).toArray()).toString()).toBe('hello');
  });

  it('applies PAX path and size records and GNU long names', async () => {
    const long = `${'d'.repeat(120)}/${'n'.repeat(120)}`;
    const tar = Buffer.concat([
      pax([['path', long]]),
      file({ name: 'short' }, 'pax body'),
      file({ name: '././@LongLink', typeflag: 'L', format: 'gnu' }, `gnu-${long}\0`),
      file({ name: 'trunc', format: 'gnu' }, 'gnu body'),
      pax([['size', '3']]),
      file({ name: 'sized', size: 0 }, 'abc'),
      EOA,
    ]);
    const index = await indexOf(tar);
    expect([...index.entries.keys()]).toEqual([long, `gnu-${long}`, 'sized']);
    const files = tarFileSet(index);
    expect((await files.read(long, 100)).toString()).toBe('pax body');
    expect((await files.read(`gnu-${long}`, 100)).toString()).toBe('gnu body');
    expect((await files.read('sized', 100)).toString()).toBe('abc');
  });

  it('normalises names and drops those above the root', async () => {
    const index = await indexSpecs([
      { name: './a', content: '1' },
      { name: '/b', content: '2' },
      { name: 'c//d/./e', content: '3' },
      { name: '../escape', content: '4' },
    ]);
    expect([...index.entries.keys()]).toEqual(['a', 'b', 'c/d/e']);
  });

  it('stops at the end-of-archive marker: a second archive appended is invisible', async () => {
    const index = await indexOf(Buffer.concat([await packTar([{ name: 'first', content: '1' }]), await packTar([{ name: 'hidden', content: '2' }])]));
    expect([...index.entries.keys()]).toEqual(['first']);
    const concat = await indexTar(path.join(PITFALLS, 'concat.tar'), 'concat.tar', 100);
    expect([...concat.entries.keys()]).toEqual(['fa']);
  });

  it.each(['noeof.tar', 'junk.tar', 'empty-gnu.tar'])('accepts %s like Go does', async (name) => {
    const index = await indexTar(path.join(PITFALLS, name), name, 100);
    expect(index.entries.size).toBeLessThanOrEqual(1);
  });

  it('rejects a body cut short', async () => {
    const tar = await packTar([{ name: 'a', content: 'x'.repeat(2000) }]);
    await expect(indexOf(tar.subarray(0, 1024))).rejects.toThrow(/test\.tar: truncated: entry at offset 0 needs 2000 bytes/);
  });

  it('says "not an image archive" for something that is not a tar at all', async () => {
    await expect(indexOf(Buffer.from('{"this": "is json, not a tar"}'.padEnd(600, ' ')))).rejects.toThrow(FormatError);
    await expect(indexOf(Buffer.from('x'.repeat(600)))).rejects.toThrow(/test\.tar: not an image archive/);
  });

  it('caps the number of entries', async () => {
    const specs = Array.from({ length: 5 }, (_, i) => ({ name: `f${i}`, content: '' }));
    await expect(indexOf(await packTar(specs), 3)).rejects.toThrow(LimitError);
  });

  it('caps PAX bodies at 1 MiB', async () => {
    const tar = Buffer.concat([pax([['comment', 'x'.repeat((1 << 20) + 10)]]), file({ name: 'f' }, ''), EOA]);
    await expect(indexOf(tar)).rejects.toThrow(LimitError);
  });
});

describe('resolving names inside the archive', () => {
  it('follows symlinks and hardlinks, in the last component and in parents (EDGE #118)', async () => {
    const index = await indexSpecs([
      { name: 'real/layer.tar', content: 'bytes' },
      { name: 'other/layer.tar', type: 'symlink', linkname: '../real/layer.tar' },
      { name: 'abs.tar', type: 'symlink', linkname: '/real/layer.tar' },
      { name: 'hard.tar', type: 'link', linkname: 'real/layer.tar' },
      { name: 'alias', type: 'symlink', linkname: 'real' },
    ]);
    for (const name of ['other/layer.tar', 'abs.tar', 'hard.tar', 'alias/layer.tar', './alias/../real/layer.tar']) {
      expect(resolveFile(index, name)?.name, name).toBe('real/layer.tar');
    }
  });

  it('never resolves a name or link that climbs out of the archive (EDGE #120)', async () => {
    const index = await indexSpecs([
      { name: 'up', type: 'symlink', linkname: '../../etc/passwd' },
      { name: 'etc', type: 'directory' },
    ]);
    expect(resolveFile(index, '../../etc/passwd')).toBeUndefined();
    expect(resolveFile(index, 'up')).toBeUndefined();
    expect(resolveFile(index, '/etc/passwd')).toBeUndefined();
  });

  it('reports a symlink cycle (EDGE #119)', async () => {
    const index = await indexSpecs([
      { name: 'a/layer.tar', type: 'symlink', linkname: '../b/layer.tar' },
      { name: 'b/layer.tar', type: 'symlink', linkname: '../a/layer.tar' },
    ]);
    expect(() => resolveFile(index, 'a/layer.tar')).toThrow(/test\.tar: link loop resolving a\/layer\.tar/);
  });

  it('refuses a directory where a file is expected', async () => {
    const index = await indexSpecs([{ name: 'd', type: 'directory' }]);
    expect(() => resolveFile(index, 'd')).toThrow(/d is a dir, expected a regular file/);
  });
});
