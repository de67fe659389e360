import { describe, expect, it } from 'vitest';
import { globMatcher, listLayer, listTree, modeString } from '../../src/inspect/listing.js';
import type { LayerIndex } from '../../src/layer/entry.js';
import { lookup } from '../../src/tree/resolve.js';
import { c, d, f, layer, opq, plan, s, wh } from '../helpers/layers.js';

describe('modeString', () => {
  it('prints ls-style modes with special bits', () => {
    expect(modeString('dir', 0o755)).toBe('drwxr-xr-x');
    expect(modeString('file', 0o644)).toBe('-rw-r--r--');
    expect(modeString('symlink', 0o777)).toBe('lrwxrwxrwx');
    expect(modeString('file', 0o4755)).toBe('-rwsr-xr-x');
    expect(modeString('file', 0o2644)).toBe('-rw-r-Sr--');
    expect(modeString('dir', 0o1777)).toBe('drwxrwxrwt');
    expect(modeString('dir', 0o1776)).toBe('drwxrwxrwT');
    expect(modeString('char', 0o666)).toBe('crw-rw-rw-');
  });
});

describe('globMatcher', () => {
  it('matches the last component without a slash, the whole path with one', () => {
    const so = globMatcher('*.so');
    expect(so('usr/lib/libc.so')).toBe(true);
    expect(so('usr/lib/libc.so.6')).toBe(false);
    const etc = globMatcher('/etc/*.conf');
    expect(etc('etc/a.conf')).toBe(true);
    expect(etc('etc/sub/a.conf')).toBe(false);
    const deep = globMatcher('usr/**/*.py');
    expect(deep('usr/lib/python3/x.py')).toBe(true);
    expect(deep('usr/x.py')).toBe(true);
    expect(globMatcher('[ab]?.txt')('a1.txt')).toBe(true);
    expect(globMatcher('[!ab]?.txt')('a1.txt')).toBe(false);
    expect(globMatcher('a.b')('axb')).toBe(false);
  });

  it('matches UTF-8 patterns against byte-string paths', () => {
    const path = Buffer.from('données/é.txt', 'utf8').toString('latin1');
    expect(globMatcher('é.*')(path)).toBe(true);
  });
});

describe('listTree', () => {
  const tree = plan([[d('etc', { mode: 0o755 }), f('etc/a', 'x'), d('etc/sub'), f('etc/sub/b', 'yy'), s('bin', 'usr/bin'), c('null', 1, 3)], [f('etc/a', 'new')]]);

  it('lists a directory\'s children sorted, or the whole subtree with recursion', () => {
    const etc = lookup(tree.root, 'etc', { followLast: true })!;
    expect(listTree(etc.node, etc.path).map((r) => r.path)).toEqual(['etc/a', 'etc/sub']);
    expect(listTree(etc.node, etc.path, { recursive: true }).map((r) => r.path)).toEqual(['etc/a', 'etc/sub', 'etc/sub/b']);
    expect(listTree(tree.root, '').map((r) => [r.path, r.kind])).toEqual([['bin', 'symlink'], ['etc', 'dir'], ['null', 'char']]);
  });

  it('carries the layer that made each name, and filters by glob', () => {
    const rows = listTree(tree.root, '', { recursive: true, match: globMatcher('a') });
    expect(rows).toEqual([expect.objectContaining({ path: 'etc/a', kind: 'file', size: 3, layer: 1 })]);
  });
});

describe('listLayer', () => {
  it('lists one layer\'s changeset with its markers', () => {
    const built = layer([d('etc'), f('etc/x', '1'), wh('etc/old'), opq('var'), f('var/y', '2')]);
    const index: LayerIndex = { version: 1, diffID: 'sha256:0' as LayerIndex['diffID'], tarSize: 0, ...built };
    expect(listLayer(index, 2, '/').map((r) => [r.path, r.kind, r.layer])).toEqual([
      ['etc', 'dir', 2],
      ['etc/old', 'whiteout', 2],
      ['etc/x', 'file', 2],
      ['var', 'opaque', 2],
      ['var/y', 'file', 2],
    ]);
    expect(listLayer(index, 2, 'etc').map((r) => r.path)).toEqual(['etc', 'etc/old', 'etc/x']);
  });
});
