// End to end on image pairs written in code (helpers/oci-builder.ts): what real tools rarely make
// (devices, xattrs, hardlink regrouping, non-UTF-8 names, apk and distroless dpkg databases), plus
// --content, --ignore, --mtime, --only, per-side platforms and the exit status on bad input.
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { c, d, f, h, type Item, s, sha256, wh } from '../helpers/layers.js';
import { writeOciLayout } from '../helpers/oci-builder.js';
import { diff, tempDir } from './run-diff.js';

let work: string;
let store: string;
let v1: string;
let v2: string;

const apkDb = (pkgs: [string, string][]) => pkgs.map(([p, v]) => `C:Q1x=\nP:${p}\nV:${v}\nA:x86_64\n`).join('\n');
const distroless = (name: string, version: string) => `Package: ${name}\nVersion: ${version}\nArchitecture: amd64\n`;
const dirs = (...names: string[]): Item[] => names.map((n) => d(`${n}/`));

const BASE: Item[] = [
  ...dirs('etc', 'dev', 'lib', 'lib/apk', 'lib/apk/db', 'var', 'var/lib', 'var/lib/dpkg', 'var/lib/dpkg/status.d', 'hl', 'data'),
  f('etc/app.conf', 'greeting=hello\nworkers=2\nmode=a\n'),
  f('etc/attr', 'x', { xattrs: { 'user.comment': 'one' } }),
  f('etc/stamp', 'same', { mtime: 1000 }),
  c('dev/null', 1, 3, { mode: 0o666 }),
  s('etc/link', 'app.conf'),
  f('tc', 'file'),
  f('hl/a', 'shared bytes'),
  h('hl/b', 'hl/a'),
  f('lib/apk/db/installed', apkDb([['musl', '1.2.4-r2'], ['busybox', '1.36.1-r5']])),
  f('var/lib/dpkg/status.d/base-files', distroless('base-files', '12.4')),
  f('var/lib/dpkg/status.d/base-files.md5sums', 'abc  etc/debian_version\n'),
  f('data/blob.bin', Buffer.from([0, 1, 2, 3])),
  f('caf\xe9', 'latin-1 name'),
  f('cache/big', 'x'.repeat(5000)),
];

const TOP: Item[] = [
  ...dirs('etc', 'dev', 'lib', 'lib/apk', 'lib/apk/db', 'var', 'var/lib', 'var/lib/dpkg', 'var/lib/dpkg/status.d', 'hl', 'data', 'tc'),
  f('etc/app.conf', 'greeting=hallo\nworkers=2\nmode=b\n'),
  f('etc/attr', 'x', { xattrs: { 'user.comment': 'two' } }),
  f('etc/stamp', 'same', { mtime: 2000 }),
  c('dev/null', 1, 5, { mode: 0o666 }),
  s('etc/link', '/etc/stamp'),
  f('tc/inside', 'now a dir'),
  f('hl/c', 'shared bytes'),
  h('hl/b', 'hl/c'),
  f('lib/apk/db/installed', apkDb([['musl', '1.2.5-r0'], ['jq', '1.7.1-r0']])),
  f('var/lib/dpkg/status.d/tzdata', distroless('tzdata', '2024a')),
  f('data/blob.bin', Buffer.from([0, 1, 2, 4])),
  f('cache/big', 'y'.repeat(6000)),
  wh('caf\xe9'),
];
const short = (b: Buffer | string) => sha256(b).slice(0, 8);

beforeAll(() => {
  work = tempDir('diff-built');
  store = path.join(work, 'store');
  v1 = writeOciLayout(path.join(work, 'v1'), { layers: [{ items: BASE, createdBy: 'base' }], config: { Env: ['A=1'], User: 'root', ExposedPorts: { '80/tcp': {} }, StopSignal: 'SIGTERM' }, tag: 'v1' });
  v2 = writeOciLayout(path.join(work, 'v2'), {
    layers: [{ items: BASE, createdBy: 'base' }, { items: TOP, createdBy: 'RUN apk upgrade && edit' }],
    config: { Env: ['A=1'], User: 'app', WorkingDir: '/srv', ExposedPorts: { '443/tcp': {} }, Volumes: { '/data': {} }, StopSignal: 'SIGINT' },
    emptySteps: ['USER app'],
    tag: 'v2',
  });
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('a built pair', () => {
  it('reports every kind of file change with what differs', async () => {
    const r = await diff([v1, v2, '--name-status', '--ignore', 'cache'], store);
    expect(r.out).toBe(['D\t/caf\\xe9', 'M\t/data/blob.bin', 'M\t/dev/null', 'M\t/etc/app.conf', 'M\t/etc/attr', 'M\t/etc/link', 'M\t/hl/a', 'M\t/hl/b', 'A\t/hl/c', 'M\t/lib/apk/db/installed', 'T\t/tc', 'A\t/tc/inside', 'A\t/var/lib/dpkg/status.d/tzdata', ''].join('\n'));
    expect(r.code).toBe(1);
    const human = await diff([v1, v2, '--only', 'files', '--ignore', 'cache', '--ignore', '/lib/apk'], store);
    expect(human.out.split('\n').slice(4)).toEqual([
      'Files: 3 added, 1 removed, 7 modified, 1 type changed (+56 B)',
      '  D /caf\\xe9  12 B  [old layer 1: base]',
      `  M /data/blob.bin  content sha256 ${short(Buffer.from([0, 1, 2, 3]))}…→${short(Buffer.from([0, 1, 2, 4]))}… (same size)  [layer 2: RUN apk upgrade && edit]`,
      '  M /dev/null  device 1,3→1,5  [layer 2: RUN apk upgrade && edit]',
      `  M /etc/app.conf  content sha256 ${short('greeting=hello\nworkers=2\nmode=a\n')}…→${short('greeting=hallo\nworkers=2\nmode=b\n')}… (same size)  [layer 2: RUN apk upgrade && edit]`,
      '  M /etc/attr  xattr user.comment changed  [layer 2: RUN apk upgrade && edit]',
      '  M /etc/link  target app.conf→/etc/stamp  [layer 2: RUN apk upgrade && edit]',
      '  M /hl/a  hardlinks 2→1 names (-/hl/b)  [layer 1: base]',
      '  M /hl/b  hardlinks 2→2 names (+/hl/c -/hl/a)  [layer 2: RUN apk upgrade && edit]',
      '  A /hl/c  12 B  [layer 2: RUN apk upgrade && edit]',
      '  T /tc  type file→dir, mode 0644→0755  [layer 2: RUN apk upgrade && edit]',
      '  A /var/lib/dpkg/status.d/tzdata  51 B  [layer 2: RUN apk upgrade && edit]',
      '',
      'Size: 147 B → 203 B (+56 B)',
      '  by top-level directory:',
      '    /var             78 B → 129 B (+51 B)',
      '    /                12 B → 0 B (-12 B)',
      '    /hl              12 B → 24 B (+12 B)',
      '    /tc              4 B → 9 B (+5 B)',
      '  largest changes:',
      '         +51 B  A /var/lib/dpkg/status.d/tzdata',
      '         -12 B  D /caf\\xe9',
      '         +12 B  A /hl/c',
      '          +9 B  A /tc/inside',
      '          -4 B  T /tc',
      '',
    ]);
  });

  it('compares config, history and packages', async () => {
    const r = await diff([v1, v2, '--json', '--only', 'config,history,packages'], store);
    const j = JSON.parse(r.out);
    expect(j.sections).toEqual(['config', 'history', 'packages']);
    expect(j.files).toBeNull();
    expect(j.layers).toBeNull();
    expect(j.config.map((x: { field: string; key?: string; change: string }) => `${x.field} ${x.key ?? ''} ${x.change}`)).toEqual([
      'user  changed',
      'workdir  added',
      'exposedPorts 443/tcp added',
      'exposedPorts 80/tcp removed',
      'volumes /data added',
      'stopSignal  changed',
    ]);
    expect(j.history.map((x: { op: string }) => x.op)).toEqual(['same', 'inserted', 'inserted']);
    expect(j.packages).toEqual([
      { ecosystem: 'dpkg', name: 'tzdata', change: 'added', old: null, new: '2024a' },
      { ecosystem: 'apk', name: 'busybox', change: 'removed', old: '1.36.1-r5', new: null },
      { ecosystem: 'apk', name: 'jq', change: 'added', old: null, new: '1.7.1-r0' },
      { ecosystem: 'apk', name: 'musl', change: 'changed', old: '1.2.4-r2', new: '1.2.5-r0' },
    ]);
    expect(r.code).toBe(1);
  });

  it('compares mtimes only with --mtime', async () => {
    const without = JSON.parse((await diff([v1, v2, '--json', '--only', 'files'], store)).out);
    expect(without.files.find((x: { path: string }) => x.path === '/etc/stamp')).toBeUndefined();
    const r = JSON.parse((await diff([v1, v2, '--json', '--only', 'files', '--mtime'], store)).out);
    expect(r.files.find((x: { path: string }) => x.path === '/etc/stamp').details).toEqual([{ field: 'mtime', old: 1000, new: 2000 }]);
  });

  it('prints a unified diff of one text file, and says so for a binary one', async () => {
    const text = await diff([v1, v2, '-p', '/etc/link'], store);
    expect(text.out).toBe('--- old/etc/link\n+++ new/etc/link\n@@ -1,3 +1 @@\n-greeting=hello\n-workers=2\n-mode=a\n+same\n\\ No newline at end of file\n');
    expect(text.code).toBe(1);
    const conf = await diff([v1, v2, '--content', 'etc/app.conf'], store);
    expect(conf.out).toBe('--- old/etc/app.conf\n+++ new/etc/app.conf\n@@ -1,3 +1,3 @@\n-greeting=hello\n+greeting=hallo\n workers=2\n-mode=a\n+mode=b\n');
    const bin = await diff([v1, v2, '-p', '/data/blob.bin'], store);
    expect(bin.out).toBe(`Binary file /data/blob.bin differs (old sha256 ${sha256(Buffer.from([0, 1, 2, 3]))}, new sha256 ${sha256(Buffer.from([0, 1, 2, 4]))})\n`);
    const same = await diff([v1, v2, '-p', '/etc/stamp'], store);
    expect([same.out, same.code]).toEqual(['', 0]);
  });
});

describe('per-side selection and exit status 2', () => {
  it('takes a platform per side', async () => {
    const r = await diff(['samples/multiarch', 'samples/multiarch', '--old-platform', 'linux/amd64', '--new-platform', 'linux/arm64/v8', '--json', '--only', 'config'], store);
    expect(JSON.parse(r.out).config).toEqual([
      { field: 'labels', key: 'org.example.arch', change: 'changed', old: 'amd64', new: 'arm64' },
      { field: 'platform', change: 'changed', old: 'linux/amd64', new: 'linux/arm64/v8' },
    ]);
    expect(r.code).toBe(1);
  });

  it.each([
    ['a missing input', ['samples/nope.tar', 'samples/docker-archive.tar'], /no image "samples\/nope.tar"/],
    ['one argument', ['samples/docker-archive.tar'], /usage: stratum diff OLD NEW/],
    ['an unknown section', ['samples/docker-archive.tar', 'samples/docker-archive.tar', '--only', 'nope'], /--only "nope"/],
    ['two output modes', ['samples/docker-archive.tar', 'samples/docker-archive.tar', '--json', '--name-status'], /exclusive/],
    ['an unknown option', ['samples/docker-archive.tar', 'samples/docker-archive.tar', '--bogus'], /bogus/],
  ])('%s', async (_, args, message) => {
    const r = await diff(args, store);
    expect(r.code).toBe(2);
    expect(r.out).toBe('');
    expect(r.err).toMatch(message);
    expect(r.err.trim().split('\n')).toHaveLength(1);
  });

  it('a damaged archive', async () => {
    const bad = path.join(work, 'bad');
    mkdirSync(bad, { recursive: true });
    writeFileSync(path.join(bad, 'junk.tar'), 'not a tar at all'.repeat(100));
    const r = await diff([path.join(bad, 'junk.tar'), 'samples/docker-archive.tar'], store);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/^stratum: /);
  });
});
