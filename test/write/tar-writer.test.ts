import { execFileSync } from 'node:child_process';
import { createWriteStream, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { once } from 'node:events';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { IntegrityError, NotFoundError } from '../../src/errors.js';
import { writeDir } from '../../src/write/dir-writer.js';
import { writeTar } from '../../src/write/tar-writer.js';
import { diffManifests, manifestOfDir } from '../helpers/tree-manifest.js';
import { expectedManifest, T2001, TreeFixture } from './tree-fixture.js';

const ROOT = process.getuid?.() === 0;
const asRoot = ROOT ? it : it.skip;
if (!ROOT) console.warn('SKIPPED: tar-writer round trip through GNU tar needs root (owners, devices, trusted xattrs)');

const CAP_NET_RAW = Buffer.from('0100000200200000000000000000000000000000', 'hex').toString('base64');

let tmp: string;
let fx: TreeFixture;
beforeEach(() => {
  tmp = mkdtempSync(path.join(os.tmpdir(), 'stratum-tar-'));
  fx = new TreeFixture();
});
afterEach(() => {
  rmSync(tmp, { recursive: true, force: true });
  rmSync(fx.contentDir, { recursive: true, force: true });
});

/** Everything a tar can carry, including what trips tar writers up. */
function richTree(f: TreeFixture): void {
  f.dir('bin', { mtime: T2001 + 9 });
  f.file('bin/ping', 'ping', { mode: 0o4711, xattrs: { 'security.capability': CAP_NET_RAW } });
  f.file('bin/wall', 'wall', { mode: 0o2755, gid: 5, mtime: T2001 + 0.5 });
  f.symlink('bin/sh', 'busybox', { mtime: 1234567890 });
  const bb = f.file('bin/busybox', Buffer.alloc(300_000, 7), { mode: 0o755 });
  f.link('usr/bin/[', bb);
  f.link('bin/ash', bb);
  f.dir('tmp', { mode: 0o1777 });
  f.dir('ro', { mode: 0o500, uid: 1000, gid: 1000 });
  f.dir('ro/none', { mode: 0o000 });
  f.file('ro/none/f', 'hidden', { mode: 0o400, uid: 65534, gid: 65534 });
  f.file('home/u/bin\xff\xfe', Buffer.from([0, 1, 2, 255]), { xattrs: { 'user.bin': Buffer.from([0, 0xff, 0xc0, 0x80, 0x0a]).toString('base64') } });
  f.file('home/u/caf\xc3\xa9', 'utf8');
  f.file(`${'d'.repeat(120)}/${'n'.repeat(255)}`, 'long');
  f.symlink('home/u/long', 'x'.repeat(200));
  f.dir('home/u', { uid: 1000, gid: 1000, mode: 0o750, xattrs: { 'trusted.overlay.opaque': 'eQ==' } });
  f.file('empty', '', { mode: 0o600, mtime: -1 });
  const nul = f.device('dev/null', 'char', 1, 3);
  f.link('dev/null2', nul);
  f.device('dev/sda', 'block', 8, 0, { mode: 0o660, gid: 6 });
  f.fifo('run/fifo');
}

async function tarTo(file: string, f: TreeFixture, paths?: string[]): Promise<void> {
  const out = createWriteStream(file);
  await once(out, 'open');
  try {
    await writeTar(f.tree, out, { locate: f.locate, paths });
  } finally {
    out.end();
    await once(out, 'close');
  }
}

describe('writeTar', () => {
  asRoot('extracted by GNU tar gives the same tree as writeDir (needs root)', async () => {
    richTree(fx);
    const tarFile = path.join(tmp, 'out.tar');
    await tarTo(tarFile, fx);
    const viaTar = path.join(tmp, 'via-tar');
    mkdirSync(viaTar);
    execFileSync('tar', ['-xpf', tarFile, '-C', viaTar, '--xattrs', "--xattrs-include=*", '--same-owner', '--numeric-owner'], {
      stdio: ['ignore', 'pipe', 'pipe'], // GNU tar warns about the 1969 timestamp, on purpose
    });
    const viaDir = path.join(tmp, 'via-dir');
    await writeDir(fx.tree, viaDir, { locate: fx.locate });
    const [a, b] = [await manifestOfDir(viaTar), await manifestOfDir(viaDir)];
    expect(diffManifests(a, b, { labels: ['tar -x', 'writeDir'] })).toEqual([]);
    expect(diffManifests(expectedManifest(fx.tree), b, { labels: ['plan', 'writeDir'] })).toEqual([]);
  });

  it('is sorted, ./-less, with trailing / on directories and hardlinks to the first name', async () => {
    richTree(fx);
    const tarFile = path.join(tmp, 'out.tar');
    await tarTo(tarFile, fx);
    const names = execFileSync('tar', ['-tf', tarFile], { encoding: 'latin1' }).split('\n').filter(Boolean);
    expect(names.slice(0, 6)).toEqual(['bin/', 'bin/ash', 'bin/busybox', 'bin/ping', 'bin/sh', 'bin/wall']);
    expect(names.every((n) => !n.startsWith('./'))).toBe(true);
    expect(names).toContain('ro/none/');
    const verbose = execFileSync('tar', ['-tvf', tarFile, '--numeric-owner'], { encoding: 'latin1' });
    expect(verbose).toMatch(/bin\/busybox link to bin\/ash/);
    expect(verbose).toMatch(/usr\/bin\/\[ link to bin\/ash/);
    expect(verbose).toMatch(/^crw-rw-rw- 0\/0 +1,3 .* dev\/null$/m);
  });

  it('is byte-identical across runs', async () => {
    richTree(fx);
    await tarTo(path.join(tmp, 'a.tar'), fx);
    await tarTo(path.join(tmp, 'b.tar'), fx);
    const a = readFileSync(path.join(tmp, 'a.tar'));
    expect(a.equals(readFileSync(path.join(tmp, 'b.tar')))).toBe(true);
    expect(a.length % 512).toBe(0);
  });

  it('waits for a slow output instead of buffering the whole tree', async () => {
    fx.file('big', Buffer.alloc(8 * 1024 * 1024, 1));
    fx.file('small', 'x');
    const chunks: Buffer[] = [];
    let maxBuffered = 0;
    const slow = new Writable({
      highWaterMark: 16 * 1024,
      write(chunk: Buffer, _enc, cb): void {
        chunks.push(chunk);
        setImmediate(cb);
      },
    });
    const watch = setInterval(() => (maxBuffered = Math.max(maxBuffered, slow.writableLength)), 0);
    await writeTar(fx.tree, slow, { locate: fx.locate });
    clearInterval(watch);
    const direct = path.join(tmp, 'direct.tar');
    await tarTo(direct, fx);
    expect(Buffer.concat(chunks).equals(readFileSync(direct))).toBe(true);
    // One batch (1 MiB) plus one chunk at most, never the 8 MiB file.
    expect(maxBuffered).toBeLessThanOrEqual(2 * 1024 * 1024 + 1024);
  });

  it('exports only the requested subtrees; a later name of a cut-off inode carries the content', async () => {
    const a = fx.file('etc/a', 'a');
    fx.link('usr/b', a);
    fx.file('usr/c', 'c');
    const tarFile = path.join(tmp, 'sub.tar');
    await tarTo(tarFile, fx, ['usr/b']);
    const verbose = execFileSync('tar', ['-tvf', tarFile], { encoding: 'latin1' });
    expect(verbose.split('\n').filter(Boolean).map((l) => l.split(/\s+/).slice(5).join(' '))).toEqual(['usr/', 'usr/b']);
    expect(verbose).toMatch(/^-rw-r--r-- .* 1 .* usr\/b$/m);
  });

  it('fails on missing or mis-sized content', async () => {
    const f = fx.file('f', 'content');
    rmSync(fx.contentFile(f));
    await expect(tarTo(path.join(tmp, 'x.tar'), fx)).rejects.toThrow(NotFoundError);
    f.size = 99;
    execFileSync('sh', ['-c', `printf abc > '${fx.contentFile(f)}'`]);
    await expect(tarTo(path.join(tmp, 'y.tar'), fx)).rejects.toThrow(IntegrityError);
  });
});
