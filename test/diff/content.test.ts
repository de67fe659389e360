// unifiedDiff: fixed cases in diff -u's exact format, and random texts whose patch, applied by patch(1),
// turns the old text into the new one. diffContent on planned trees: symlinks followed, binary detection.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { diffContent, isBinary, unifiedDiff } from '../../src/diff/content.js';
import type { Inode } from '../../src/tree/types.js';
import { d, f, plan, s, sha256 } from '../helpers/layers.js';

describe('unifiedDiff', () => {
  it('prints hunks as diff -u does', () => {
    const a = 'one\ntwo\nthree\nfour\nfive\nsix\nseven\neight\nnine\nten\n';
    const b = 'one\nTWO\nthree\nfour\nfive\nsix\nseven\neight\nnine\nten\neleven\n';
    expect(unifiedDiff(a, b, 'old/x', 'new/x')).toBe(
      '--- old/x\n+++ new/x\n@@ -1,5 +1,5 @@\n one\n-two\n+TWO\n three\n four\n five\n@@ -8,3 +8,4 @@\n eight\n nine\n ten\n+eleven\n',
    );
  });

  it('marks a missing final newline and diffs against an empty side', () => {
    expect(unifiedDiff('a\nb', 'a\nb\n', 'o', 'n')).toBe('--- o\n+++ n\n@@ -1,2 +1,2 @@\n a\n-b\n\\ No newline at end of file\n+b\n');
    expect(unifiedDiff('', 'x\n', '/dev/null', 'n')).toBe('--- /dev/null\n+++ n\n@@ -0,0 +1 @@\n+x\n');
    expect(unifiedDiff('same\n', 'same\n', 'o', 'n')).toBe('');
  });

  it('makes patches that patch(1) applies (property)', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'stratum-udiff-'));
    const text = fc.array(fc.constantFrom('a', 'b', 'c', 'd', ''), { maxLength: 40 }).map((ls) => ls.map((l) => `${l}\n`).join(''));
    fc.assert(
      fc.property(text, text, fc.boolean(), (a, b0, cut) => {
        const b = cut && b0.length > 0 ? b0.slice(0, -1) : b0;
        const patch = unifiedDiff(a, b, 'old', 'new');
        if (a === b) {
          expect(patch).toBe('');
          return;
        }
        writeFileSync(path.join(dir, 'f'), a);
        writeFileSync(path.join(dir, 'p'), patch);
        execFileSync('patch', ['-s', '--posix', path.join(dir, 'f'), path.join(dir, 'p')], { stdio: 'pipe' });
        expect(readFileSync(path.join(dir, 'f'), 'utf8')).toBe(b);
      }),
      { numRuns: 40 },
    );
    rmSync(dir, { recursive: true, force: true });
  });
});

describe('diffContent', () => {
  const read = (files: Record<string, string>) => async (i: Inode) => Buffer.from(files[i.sha256 ?? ''] ?? '', 'latin1');
  const texts = { [sha256('k=1\n')]: 'k=1\n', [sha256('k=2\n')]: 'k=2\n', [sha256('\0bin')]: '\0bin', [sha256('\0bin2')]: '\0bin2' };

  it('follows symlinks inside the image and diffs the text', async () => {
    const old = plan([[d('etc/'), f('etc/c.conf', 'k=1\n'), s('link', '/etc/c.conf')]]);
    const neu = plan([[d('etc/'), f('etc/c.conf', 'k=2\n'), s('link', 'etc/c.conf')]]);
    const r = await diffContent('/link', { tree: old, read: read(texts) }, { tree: neu, read: read(texts) });
    expect(r).toMatchObject({ path: '/link', identical: false, binary: false, old: { exists: true, kind: 'file', size: 4 } });
    expect(r.unified).toBe('--- old/link\n+++ new/link\n@@ -1 +1 @@\n-k=1\n+k=2\n');
  });

  it('says binary with both hashes, identical when the hashes match, absent when missing', async () => {
    const old = plan([[f('b', '\0bin'), f('same', 'k=1\n')]]);
    const neu = plan([[f('b', '\0bin2'), f('same', 'k=1\n')]]);
    const sides = [{ tree: old, read: read(texts) }, { tree: neu, read: read(texts) }] as const;
    expect(await diffContent('b', ...sides)).toMatchObject({ binary: true, identical: false, old: { sha256: sha256('\0bin') }, new: { sha256: sha256('\0bin2') } });
    expect((await diffContent('b', ...sides)).unified).toBeUndefined();
    expect(await diffContent('/same', ...sides)).toMatchObject({ identical: true, unified: '' });
    expect(await diffContent('/nope', ...sides)).toMatchObject({ identical: true, old: { exists: false }, new: { exists: false } });
  });

  it('detects binary by a NUL byte near the start', () => {
    expect(isBinary(Buffer.from('text\n'))).toBe(false);
    expect(isBinary(Buffer.from('a\0b'))).toBe(true);
  });
});
