// diffFiles on hand-built trees: every kind of change, attribution to layers and history, ignore, size.
import { describe, expect, it } from 'vitest';
import { labelsFor } from '../../src/diff/attribution.js';
import { diffFiles, type FileDiffOptions } from '../../src/diff/files.js';
import { compileGlobs } from '../../src/diff/glob.js';
import type { ImageConfig } from '../../src/spec/types.js';
import { c, d, f, h, type Item, plan, s, sha256 as sha, wh } from '../helpers/layers.js';

const ids = (n: number, tag: string) => Array.from({ length: n }, (_, i) => `sha256:${tag}${i}`.padEnd(71, '0'));
const config = (cmds: string[]): ImageConfig =>
  ({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [] }, history: cmds.map((c) => (c.startsWith('#') ? { created_by: c, empty_layer: true } : { created_by: c })) }) as ImageConfig;

function run(oldLayers: Item[][], newLayers: Item[][], extra: Partial<FileDiffOptions> = {}) {
  const opts: FileDiffOptions = {
    oldLabels: labelsFor('old', config(oldLayers.map((_, i) => `old step ${i + 1}`)), ids(oldLayers.length, 'a')),
    newLabels: labelsFor('new', config(['#env', ...newLayers.map((_, i) => `new step ${i + 1}`)]), ids(newLayers.length, 'b')),
    ...extra,
  };
  return diffFiles(plan(oldLayers), plan(newLayers), opts);
}

const brief = (r: ReturnType<typeof run>) => r.changes.map((ch) => `${ch.status} ${ch.path} ${ch.details.map((x) => `${x.field}${x.name ? `:${x.name}` : ''}=${JSON.stringify(x.old)}>${JSON.stringify(x.new)}`).join(' ')}`.trim());

const base: Item[] = [d('etc/'), f('etc/app.conf', 'a=1\n'), f('etc/keep', 'same'), d('opt/'), d('opt/old/'), f('opt/old/1', 'x'), f('opt/old/2', 'y'), f('opt/run.sh', '#!/bin/sh\n', { mode: 0o755 })];

describe('diffFiles', () => {
  it('finds nothing between identical trees', () => {
    const r = run([base], [base]);
    expect(r.changes).toEqual([]);
    expect(r.size.delta).toBe(0);
  });

  it('reports adds, removals, content, mode, owner, in tree order', () => {
    const v2: Item[] = [wh('opt/old'), f('etc/app.conf', 'a=2\nb=3\n'), f('opt/run.sh', '#!/bin/sh\n', { mode: 0o750 }), f('etc/keep', 'same', { uid: 1000, gid: 1000 }), f('opt/NEW', 'new')];
    const r = run([base], [base, v2]);
    expect(brief(r)).toEqual([
      `M /etc/app.conf content="${sha('a=1\n')}">"${sha('a=2\nb=3\n')}" size=4>8`,
      'M /etc/keep uid=0>1000 gid=0>1000',
      'A /opt/NEW',
      'D /opt/old',
      'D /opt/old/1',
      'D /opt/old/2',
      'M /opt/run.sh mode="0755">"0750"',
    ]);
    expect(r.changes[0].attribution).toEqual({ side: 'new', layer: 1, diffID: ids(2, 'b')[1], createdBy: 'new step 2' });
    expect(r.changes[3].attribution).toEqual({ side: 'old', layer: 0, diffID: ids(1, 'a')[0], createdBy: 'old step 1' });
  });

  it('compares content by sha256 even when the size is the same', () => {
    const r = run([[f('a', 'abc')]], [[f('a', 'abd')]]);
    expect(brief(r)).toEqual([`M /a content="${sha('abc')}">"${sha('abd')}"`]);
  });

  it('reports type changes as T, symlink targets, devices, xattrs', () => {
    const v1 = [f('x', 'file'), d('y/'), f('y/z', 'z'), s('l', 'a'), c('dev/null', 1, 3), f('attr', 'v', { xattrs: { 'user.a': '1', 'user.b': '2' } })];
    const v2 = [s('x', 'target'), f('y', 'now a file'), s('l', 'b'), c('dev/null', 1, 5), f('attr', 'v', { xattrs: { 'user.a': '9', 'user.c': '3' } })];
    const r = run([v1], [v2]);
    const b64 = (t: string) => Buffer.from(t).toString('base64');
    expect(brief(r)).toEqual([
      `M /attr xattr:user.a="${b64('1')}">"${b64('9')}" xattr:user.b="${b64('2')}">null xattr:user.c=null>"${b64('3')}"`,
      'M /dev/null device="1,3">"1,5"',
      'M /l target="a">"b"',
      'T /x type="file">"symlink" mode="0644">"0777"',
      'T /y type="dir">"file" mode="0755">"0644"',
      'D /y/z',
    ]);
  });

  it('sees a hardlink group change on every member, even with equal bytes', () => {
    const v1 = [f('orig', 'one inode'), h('link1', 'orig')];
    const v2 = [f('orig', 'one inode'), h('link1', 'orig'), h('link2', 'orig')];
    const r = run([v1], [v2]);
    expect(r.changes.map((ch) => `${ch.status} ${ch.path} ${ch.details.map((x) => x.field).join(',')}`)).toEqual(['M /link1 links', 'A /link2 ', 'M /orig links']);
    expect(r.changes[0].details[0]).toEqual({ field: 'links', old: ['/link1', '/orig'], new: ['/link1', '/link2', '/orig'] });
  });

  it('ignores mtime unless asked', () => {
    const v1 = [f('a', 'x', { mtime: 100 })];
    const v2 = [f('a', 'x', { mtime: 200 })];
    expect(run([v1], [v2]).changes).toEqual([]);
    expect(brief(run([v1], [v2], { mtime: true }))).toEqual(['M /a mtime=100>200']);
  });

  it('skips ignored paths and everything below them, in changes and sizes', () => {
    const v2 = [f('etc/app.conf', 'changed'), d('var/'), d('var/cache/'), f('var/cache/big', 'x'.repeat(1000))];
    const r = run([base], [base, v2], { ignore: compileGlobs(['/var/cache', '*.conf']) });
    expect(brief(r)).toEqual(['A /var']);
    expect(r.size.delta).toBe(0);
  });

  it('tallies sizes per top-level directory, hardlinked bytes once, largest change first', () => {
    const v2 = [f('etc/app.conf', 'a=1\n'.repeat(10)), d('usr/'), f('usr/big', 'x'.repeat(500)), h('usr/big2', 'usr/big'), wh('opt/old')];
    const r = run([base], [base, v2]);
    expect(r.size.delta).toBe(500 + 36 - 2);
    expect(r.size.byTopLevel.slice(0, 3).map((e) => [e.path, e.delta])).toEqual([['/usr', 500], ['/etc', 36], ['/opt', -2]]);
    expect(r.size.largest.map((e) => [e.path, e.delta])).toEqual([['/usr/big', 500], ['/usr/big2', 500], ['/etc/app.conf', 36], ['/opt/old/1', -1], ['/opt/old/2', -1]]);
  });

  it('attributes a directory to the layer that last set it, and a never-declared one to none', () => {
    const r = run([[f('a/b', '1')]], [[f('a/b', '1')], [d('a/', { mode: 0o700 })]]);
    expect(r.changes).toMatchObject([{ status: 'M', path: '/a', attribution: { side: 'new', layer: 1, createdBy: 'new step 2' } }]);
    const implied = run([[f('x', '1')]], [[f('x', '1'), f('q/r', '1')]]);
    expect(implied.changes[0]).toMatchObject({ status: 'A', path: '/q' });
    expect(implied.changes[0].attribution).toBeUndefined();
  });

  it('shows non-UTF-8 names escaped and keeps byte order', () => {
    const r = run([[f('a', '1')]], [[f('a', '1'), f('caf\xc3\xa9', '2'), f('bad\xff', '3')]]);
    expect(r.changes.map((ch) => ch.path)).toEqual(['/bad\\xff', '/café']);
  });
});
