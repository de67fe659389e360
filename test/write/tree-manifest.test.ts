import { execFileSync } from 'node:child_process';
import { linkSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { diffManifests, manifestOfDir, type ManifestRecord } from '../helpers/tree-manifest.js';

let tmp: string;
beforeEach(() => {
  tmp = mkdtempSync(path.join(os.tmpdir(), 'stratum-manifest-'));
});
afterEach(() => rmSync(tmp, { recursive: true, force: true }));

describe('manifestOfDir', () => {
  it('records types, links, link groups, floored times and escaped xattr names exactly', async () => {
    const d = Buffer.from(tmp);
    const at = (rel: string): Buffer => Buffer.concat([d, Buffer.from(`/${rel}`, 'latin1')]);
    mkdirSync(at('sub'));
    writeFileSync(at('sub/caf\xe9'), 'x');
    linkSync(at('sub/caf\xe9'), at('a-link'));
    writeFileSync(at('new\nline'), '');
    symlinkSync(Buffer.from('sub/caf\xe9', 'latin1'), at('s'));
    utimesSync(at('new\nline'), new Date(-1500), new Date(-1500));
    execFileSync('setfattr', ['-n', 'user.a=b', '-v', '0sAP8=', path.join(tmp, 'new\nline')]);
    const m = await manifestOfDir(tmp);
    expect(m.map((r) => r.path)).toEqual(['a-link', 'new\nline', 's', 'sub', 'sub/caf\xe9']);
    const byPath = new Map(m.map((r) => [r.path, r]));
    expect(byPath.get('a-link')?.linkGroup).toBe('a-link');
    expect(byPath.get('sub/caf\xe9')).toMatchObject({ linkGroup: 'a-link', size: 1, type: 'file' });
    expect(byPath.get('new\nline')).toMatchObject({ mtime: -2, xattrs: { 'user.a=b': 'AP8=' } });
    expect(byPath.get('s')).toMatchObject({ type: 'symlink', link: 'sub/caf\xe9', size: 0 });
    expect((await manifestOfDir(tmp, { root: true }))[0].path).toBe('');
  });
});

describe('diffManifests', () => {
  const rec = (over: Partial<ManifestRecord>): ManifestRecord => ({ path: 'f', type: 'file', mode: 0o644, uid: 0, gid: 0, size: 1, mtime: 0, xattrs: {}, ...over });

  it('lists each difference on one line, sorted, with labels', () => {
    const a = [rec({}), rec({ path: 'only-a' }), rec({ path: 'x', xattrs: { 'user.k': 'AA==' } })];
    const b = [rec({ mode: 0o4755, mtime: 5 }), rec({ path: 'only-b\xff', type: 'dir' }), rec({ path: 'x' })];
    expect(diffManifests(a, b, { labels: ['tar', 'dir'] })).toEqual([
      'f: mode tar=0644 dir=04755',
      'f: mtime tar=0 dir=5',
      'only-a: only in tar (file)',
      'only-b\\xff: only in dir (dir)',
      'x: xattr user.k tar=AA== dir=(none)',
    ]);
  });

  it('ignores fields and paths on request, and reports only the type when types differ', () => {
    expect(diffManifests([rec({ mtime: 1 })], [rec({ mtime: 2 })], { ignore: ['mtime'] })).toEqual([]);
    expect(diffManifests([rec({ path: 'p' })], [], { ignorePaths: (p) => p === 'p' })).toEqual([]);
    expect(diffManifests([rec({})], [rec({ type: 'symlink', link: 't' })])).toEqual(['f: type a=file b=symlink']);
  });
});
