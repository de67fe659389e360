import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, writeFileSync, rmSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { fromPlainError, IntegrityError, IoError, NotFoundError, toPlainError, UnsafeEntryError, UsageError } from '../../src/errors.js';
import { writeDir } from '../../src/write/dir-writer.js';
import { HelperThread } from '../../src/write/helper-thread.js';
import type { LeafTask } from '../../src/write/leaf-task.js';
import { diffManifests, manifestOfDir } from '../helpers/tree-manifest.js';
import { expectedManifest, T2001, TreeFixture } from './tree-fixture.js';

const ROOT = process.getuid?.() === 0;
const asRoot = ROOT ? it : it.skip;
if (!ROOT) console.warn('SKIPPED: dir-writer owner, device, trusted/security xattr tests need root');

/** 20 bytes of a v2 file capability (cap_net_raw, effective); the kernel rejects malformed ones. */
const CAP_NET_RAW = Buffer.from('0100000200200000000000000000000000000000', 'hex').toString('base64');
const BINARY = Buffer.from([0x00, 0xff, 0xc0, 0x80, 0x0a, 0x3d]).toString('base64');

let tmp: string;
let fx: TreeFixture;
beforeEach(() => {
  tmp = mkdtempSync(path.join(os.tmpdir(), 'stratum-write-'));
  fx = new TreeFixture();
});
afterEach(() => {
  rmSync(tmp, { recursive: true, force: true });
  rmSync(fx.contentDir, { recursive: true, force: true });
});

function leftovers(dir: string): string[] {
  return readdirSync(dir).filter((n) => n.includes('.stratum-'));
}

describe('writeDir', () => {
  it('keeps modes incl. setuid/setgid/sticky, read-only dirs with children, times of files, dirs and symlinks', async () => {
    fx.dir('bin', { mode: 0o755, mtime: T2001 + 5 });
    fx.file('bin/su', 'su', { mode: 0o4755, mtime: T2001 + 1 });
    fx.file('bin/wall', 'wall', { mode: 0o2755, mtime: T2001 + 2.75 });
    fx.dir('tmp', { mode: 0o1777 });
    fx.dir('ro', { mode: 0o400, mtime: 1e9 });
    fx.dir('ro/none', { mode: 0o000, mtime: 1e9 + 7 });
    fx.file('ro/none/secret', '', { mode: 0o000, mtime: -1 });
    fx.symlink('bin/sh', 'busybox', { mtime: 1234567890 });
    fx.file('deeply/nested/and/implied', 'x');
    const out = path.join(tmp, 'out');
    const report = await writeDir(fx.tree, out, { locate: fx.locate });
    expect(diffManifests(expectedManifest(fx.tree), await manifestOfDir(out), { labels: ['plan', 'out'] })).toEqual([]);
    expect(report).toMatchObject({ files: 4, symlinks: 1, dirs: 7, bytes: 7, hardlinks: 0 });
    expect(leftovers(tmp)).toEqual([]);
  });

  // Files and directories are created with their final mode where the creation mask leaves it whole: under any
  // umask the modes must come out exact, whether set at creation or by a later chmod. Each directory has a file and
  // a directory inside, whose group must not come from a setgid parent.
  it.each(['022', '077', '000', '027'])('keeps exact file and directory modes under umask %s', async (umask) => {
    const modes = [0o644, 0o666, 0o777, 0o600, 0o640, 0o444, 0o000, 0o4755, 0o2711, 0o1644];
    for (const m of modes) fx.file(`f${m.toString(8)}`, 'x', { mode: m, mtime: T2001 + m });
    for (const m of [0o755, 0o775, 0o777, 0o700, 0o750, 0o2755, 0o2775, 0o1777, 0o3777, 0o555, 0o311]) {
      fx.dir(`d${m.toString(8)}`, { mode: m, mtime: T2001 - m });
      fx.file(`d${m.toString(8)}/file`, 'y', { mtime: T2001 });
      fx.dir(`d${m.toString(8)}/sub`, { mode: 0o755, mtime: T2001 });
    }
    fx.file('with-xattr', 'x', { mode: 0o444, xattrs: { 'user.a': 'eQ==' } });
    const out = path.join(tmp, 'out');
    const old = process.umask(parseInt(umask, 8));
    try {
      await writeDir(fx.tree, out, { locate: fx.locate });
    } finally {
      process.umask(old);
    }
    expect(diffManifests(expectedManifest(fx.tree), await manifestOfDir(out), { labels: ['plan', 'out'] })).toEqual([]);
    expect(leftovers(tmp)).toEqual([]);
    expect(readdirSync(out).filter((n) => n.startsWith('.stratum'))).toEqual([]);
  });

  it('gives OUT the root directory metadata', async () => {
    fx.root.meta = { mode: 0o751, uid: 0, gid: 0, mtime: T2001, xattrs: { 'user.root': 'eQ==' } };
    fx.file('a', 'a');
    const out = path.join(tmp, 'out');
    await writeDir(fx.tree, out, { locate: fx.locate });
    const [root] = await manifestOfDir(out, { root: true });
    expect(root).toMatchObject({ path: '', type: 'dir', mode: 0o751, mtime: T2001, xattrs: { 'user.root': 'eQ==' } });
  });

  it('links the names of one inode, including a hardlinked symlink', async () => {
    const a = fx.file('a', 'shared', { mode: 0o640 });
    fx.link('z/b', a);
    fx.link('c', a);
    const s = fx.symlink('s', '/etc/passwd');
    fx.link('s2', s);
    const out = path.join(tmp, 'out');
    const report = await writeDir(fx.tree, out, { locate: fx.locate });
    const got = await manifestOfDir(out);
    expect(diffManifests(expectedManifest(fx.tree), got)).toEqual([]);
    expect(got.filter((r) => r.linkGroup === 'a').map((r) => r.path)).toEqual(['a', 'c', 'z/b']);
    expect(report).toMatchObject({ files: 1, symlinks: 1, hardlinks: 3, bytes: 6 });
  });

  it('writes non-UTF-8 names and a 255-byte name exactly', async () => {
    fx.file('caf\xe9', 'latin1');
    fx.file('caf\xc3\xa9', 'utf8');
    fx.dir('d\xff\xfe');
    fx.symlink('d\xff\xfe/l\x80', 'caf\xe9');
    fx.file('x'.repeat(255), 'long');
    const out = path.join(tmp, 'out');
    await writeDir(fx.tree, out, { locate: fx.locate });
    const names = readdirSync(Buffer.from(out), { encoding: 'buffer' }).map((b) => b.toString('latin1'));
    expect(names.sort()).toEqual(['caf\xc3\xa9', 'caf\xe9', 'd\xff\xfe', 'x'.repeat(255)]);
    expect(diffManifests(expectedManifest(fx.tree), await manifestOfDir(out))).toEqual([]);
  });

  it('sets user.* xattrs with binary values, unprivileged or not', async () => {
    fx.file('f', 'f', { mode: 0o444, xattrs: { 'user.bin': BINARY, 'user.empty': '', 'user.n\xe9=q': 'aGk=' } });
    fx.dir('d', { mode: 0o500, xattrs: { 'user.dir': 'eQ==' } });
    const out = path.join(tmp, 'out');
    const report = await writeDir(fx.tree, out, { locate: fx.locate, privileged: false });
    const got = await manifestOfDir(out);
    expect(diffManifests(expectedManifest(fx.tree), got, { ignore: ['uid', 'gid'] })).toEqual([]);
    expect(report.skipped.xattrs).toBe(0);
  });

  asRoot('as root: owners, trusted and security xattrs, devices and a FIFO; selinux labels skipped (needs root)', async () => {
    fx.file('bin/ping', 'ping', { mode: 0o4711, uid: 0, gid: 0, xattrs: { 'security.capability': CAP_NET_RAW } });
    fx.file('home/u/f', 'u', { uid: 1000, gid: 1001, mode: 0o2750, xattrs: { 'security.selinux': 'eA==', 'user.a': 'Yg==' } });
    fx.dir('home/u', { uid: 1000, gid: 1000, mode: 0o700, xattrs: { 'trusted.overlay.opaque': 'eQ==' } });
    fx.symlink('home/u/l', 'f', { uid: 1000, gid: 1000, xattrs: { 'trusted.t': 'MQ==' } });
    const nul = fx.device('dev/null', 'char', 1, 3, { mtime: T2001 + 3 });
    fx.link('dev/null2', nul);
    fx.device('dev/sda', 'block', 8, 0, { uid: 6, gid: 6, mode: 0o660 });
    fx.fifo('run/fifo', { mode: 0o600 });
    const out = path.join(tmp, 'out');
    const report = await writeDir(fx.tree, out, { locate: fx.locate });
    expect(diffManifests(expectedManifest(fx.tree), await manifestOfDir(out))).toEqual([]);
    // security.selinux is left out by policy, not counted as lost.
    expect(report).toMatchObject({ devices: 3, hardlinks: 1, skipped: { owners: 0, devices: 0, xattrs: 0 } });
  });

  asRoot('privileged: false skips and counts owners, devices and privileged xattrs (needs root to see the contrast)', async () => {
    fx.file('f', 'f', { uid: 1000, gid: 1000, xattrs: { 'trusted.x': 'eQ==', 'user.y': 'eQ==' } });
    const c = fx.device('dev/c', 'char', 1, 3);
    fx.link('dev/c2', c);
    fx.fifo('p');
    const out = path.join(tmp, 'out');
    const report = await writeDir(fx.tree, out, { locate: fx.locate, privileged: false });
    expect(report).toMatchObject({ devices: 1, hardlinks: 0, skipped: { owners: 1, devices: 1, xattrs: 1 } });
    const got = await manifestOfDir(out);
    expect(got.map((r) => r.path)).toEqual(['dev', 'f', 'p']);
    expect(got.find((r) => r.path === 'f')?.xattrs).toEqual({ 'user.y': 'eQ==' });
  });

  it('writes only the requested subtrees and the directories leading to them', async () => {
    fx.dir('etc', { mode: 0o750 });
    fx.file('etc/passwd', 'root');
    fx.file('etc/group', 'g');
    const a = fx.file('usr/bin/a', 'a');
    fx.link('usr/bin/b', a);
    fx.link('usr/lib/a', a);
    const out = path.join(tmp, 'out');
    const report = await writeDir(fx.tree, out, { locate: fx.locate, paths: ['etc/passwd', 'usr/lib'] });
    const got = await manifestOfDir(out);
    expect(got.map((r) => [r.path, r.mode.toString(8)])).toEqual([
      ['etc', '750'],
      ['etc/passwd', '644'],
      ['usr', '755'],
      ['usr/lib', '755'],
      ['usr/lib/a', '644'],
    ]);
    expect(report).toMatchObject({ files: 2, hardlinks: 0 });
    await expect(writeDir(fx.tree, path.join(tmp, 'o2'), { locate: fx.locate, paths: ['etc/nope'] })).rejects.toThrow(NotFoundError);
    await expect(writeDir(fx.tree, path.join(tmp, 'o3'), { locate: fx.locate, paths: ['../etc'] })).rejects.toThrow(UsageError);
  });

  it('accepts an empty OUT, refuses a non-empty one, and replaces it with force', async () => {
    fx.file('new', 'new');
    const out = path.join(tmp, 'out');
    mkdirSync(out);
    await writeDir(fx.tree, out, { locate: fx.locate });
    expect(readdirSync(out)).toEqual(['new']);
    const err = await writeDir(fx.tree, out, { locate: fx.locate }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UsageError);
    expect((err as Error).message).toContain(out);
    writeFileSync(path.join(tmp, 'file'), 'x');
    await expect(writeDir(fx.tree, path.join(tmp, 'file'), { locate: fx.locate })).rejects.toThrow(UsageError);
    writeFileSync(path.join(out, 'old'), 'old');
    await writeDir(fx.tree, out, { locate: fx.locate, force: true });
    expect(readdirSync(out)).toEqual(['new']);
    expect(leftovers(tmp)).toEqual([]);
  });

  it('on a failure mid-way leaves neither OUT nor a staging dir, and a forced OUT untouched', async () => {
    for (let i = 0; i < 50; i++) fx.file(`d/f${i}`, `content ${i}`);
    const missing = fx.file('d/missing', 'will be deleted');
    fx.dir('ro', { mode: 0o000 });
    fx.file('ro/child', 'c');
    rmSync(fx.contentFile(missing));
    const out = path.join(tmp, 'out');
    const err = await writeDir(fx.tree, out, { locate: fx.locate }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NotFoundError);
    expect((err as Error).message).toMatch(/d\/missing: content .* is missing from the store/);
    expect(existsSync(out)).toBe(false);
    expect(leftovers(tmp)).toEqual([]);
    mkdirSync(out);
    writeFileSync(path.join(out, 'keep'), 'keep');
    await expect(writeDir(fx.tree, out, { locate: fx.locate, force: true })).rejects.toThrow(NotFoundError);
    expect(readFileSync(path.join(out, 'keep'), 'utf8')).toBe('keep');
    expect(leftovers(tmp)).toEqual([]);
  });

  it('on abort leaves neither OUT nor a staging dir and rethrows the abort reason', async () => {
    for (let i = 0; i < 200; i++) fx.file(`f${i}`, `content ${i}`);
    const ac = new AbortController();
    const out = path.join(tmp, 'out');
    const onProgress = ({ files }: { files: number }): void => {
      if (files === 20) ac.abort(new Error('stop here'));
    };
    await expect(writeDir(fx.tree, out, { locate: fx.locate, signal: ac.signal, onProgress })).rejects.toThrow('stop here');
    expect(existsSync(out)).toBe(false);
    expect(leftovers(tmp)).toEqual([]);
  });

  asRoot('says plainly that the disk is full, naming OUT, and cleans up (needs root to mount a 1 MiB tmpfs)', async () => {
    for (let i = 0; i < 8; i++) fx.file(`f${i}`, Buffer.alloc(256 * 1024, i));
    const small = path.join(tmp, 'small');
    mkdirSync(small);
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', small]);
    try {
      const out = path.join(small, 'out');
      const err = await writeDir(fx.tree, out, { locate: fx.locate }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(IoError);
      expect((err as IoError).code).toBe('E_IO_ENOSPC');
      expect((err as Error).message).toMatch(new RegExp(`^${out}: no space left on device after \\d+ files`));
      expect(readdirSync(small)).toEqual([]);
    } finally {
      execFileSync('umount', [small]);
    }
  });

  it('refuses unsafe names before touching the disk', async () => {
    for (const bad of ['..', '.', '', 'a/b', 'nul\0']) {
      const f = new TreeFixture();
      f.root.children.set(bad, { kind: 'leaf', inode: { kind: 'file', meta: f.root.meta, size: 0, layer: 0 } });
      const out = path.join(tmp, 'out');
      await expect(writeDir(f.tree, out, { locate: f.locate })).rejects.toThrow(UnsafeEntryError);
      expect(existsSync(out)).toBe(false);
      rmSync(f.contentDir, { recursive: true, force: true });
    }
    expect(leftovers(tmp)).toEqual([]);
  });
});

// The second thread: a tree written by two threads is the tree written by one, whichever thread writes which
// leaf, and a failure in either thread ends the write the same way (one error, nothing left behind).
/** A helper that has booted and shares the work one leaf at a time, so that even a small tree is split. */
async function bootedHelper(): Promise<HelperThread> {
  const helper = HelperThread.start({ chunk: 1 });
  if (helper === undefined) throw new Error('no helper thread: dist/write/leaf-worker.js is missing (run tsc first)');
  await helper.ready();
  return helper;
}

/** 300 files of many sizes and modes, symlinks, hardlinks and xattr'd files in 12 directories. */
function mixedTree(): void {
  for (let d = 0; d < 12; d++) fx.dir(`d${d}`, { mode: d % 3 === 0 ? 0o500 : 0o755, mtime: T2001 + d });
  for (let i = 0; i < 300; i++) {
    const size = (i * 7919) % 70_000;
    const f = fx.file(`d${i % 12}/f${i}`, Buffer.alloc(size, i % 251), { mode: [0o644, 0o600, 0o755, 0o4755, 0o444][i % 5], mtime: T2001 + i });
    if (i % 25 === 0) fx.link(`d${(i + 1) % 12}/h${i}`, f);
  }
  for (let i = 0; i < 40; i++) fx.symlink(`d${i % 12}/s${i}`, `../d${(i + 5) % 12}/f${i}`, { mtime: T2001 + 1000 + i });
  fx.file('d1/xattr', 'with xattr', { mode: 0o444, xattrs: { 'user.note': Buffer.from('kept').toString('base64') } });
}

describe('writeDir with a helper thread', () => {
  it('writes exactly the tree one thread writes, with the leaves split between the threads', async () => {
    mixedTree();
    const helper = await bootedHelper();
    const two = path.join(tmp, 'two');
    const report = await writeDir(fx.tree, two, { locate: fx.locate, helper });
    const one = path.join(tmp, 'one');
    const alone = await writeDir(fx.tree, one, { locate: fx.locate, helper: false });

    expect(diffManifests(expectedManifest(fx.tree), await manifestOfDir(two), { labels: ['plan', 'two threads'] })).toEqual([]);
    expect(report).toEqual(alone);
    expect(report).toMatchObject({ files: 301, symlinks: 40, hardlinks: 12 });
    // Both threads wrote: the helper some leaves, the main thread the rest.
    const byHelper = helper.written.files + helper.written.symlinks;
    expect(byHelper).toBeGreaterThan(0);
    expect(byHelper).toBeLessThan(341);
    expect(helper.written.bytes).toBeLessThan(report.bytes);
    expect(readdirSync(tmp).sort()).toEqual(['one', 'two']);
  });

  it('a file the helper cannot copy fails the write with that file named; no OUT, no staging, the thread gone', async () => {
    mixedTree();
    const helper = await bootedHelper();
    // The leaves go in content order and the helper starts from the back: the last file is the first it writes.
    const broken = fx.file('d2/zz-broken', 'bytes that are not there');
    rmSync(fx.contentFile(broken));
    const out = path.join(tmp, 'out');
    const err = await writeDir(fx.tree, out, { locate: fx.locate, helper }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NotFoundError);
    expect((err as Error).message).toContain('d2/zz-broken');
    expect(readdirSync(tmp)).toEqual([]);
    // close() after the failure resolves at once: the thread has already exited.
    await helper.close();
  });

  it('writes no chunk the main thread claimed, even one already posted to it', async () => {
    const helper = await bootedHelper();
    const dir = path.join(tmp, 'staging');
    mkdirSync(path.join(dir, 'big'), { recursive: true });
    const file = (p: string): LeafTask => ({ path: p, kind: 'file', meta: { mode: 0o644, uid: 0, gid: 0, mtime: T2001 }, size: 0, finish: true });
    // Chunk 8, the helper's first, keeps it busy (1,000 files: tens of ms) while the main thread claims chunks 0-7,
    // of which 1-7 are already posted to the helper, queued behind chunk 8.
    const tasks = (i: number): LeafTask[] => (i === 8 ? Array.from({ length: 1000 }, (_, j) => file(`big/f${j}`)) : [file(`f${i}`)]);
    helper.share({ base: dir, id: { privileged: false, uid: process.getuid!(), gid: process.getgid!() }, mask: 0o022 }, 9, tasks);
    const claimed = [0, 1, 2, 3, 4, 5, 6, 7].map((i) => helper.mine(i));
    const { tally, failure } = await helper.finish();
    await helper.close();
    expect(claimed).toEqual([true, true, true, true, true, true, true, true]);
    expect(failure).toBeUndefined();
    expect(tally.files).toBe(1000);
    expect(readdirSync(dir)).toEqual(['big']);
    expect(readdirSync(path.join(dir, 'big'))).toHaveLength(1000);
  });

  it('a helper gone before the write takes nothing with it: the main thread writes every leaf', async () => {
    mixedTree();
    const helper = await bootedHelper();
    await helper.close();
    const out = path.join(tmp, 'out');
    const report = await writeDir(fx.tree, out, { locate: fx.locate, helper });
    expect(diffManifests(expectedManifest(fx.tree), await manifestOfDir(out), { labels: ['plan', 'out'] })).toEqual([]);
    expect(report).toMatchObject({ files: 301, symlinks: 40, hardlinks: 12 });
    expect(helper.written).toEqual({ files: 0, bytes: 0, symlinks: 0, ownersLost: 0 });
  });

  it('errors cross the thread boundary with their class, code and context', () => {
    const ours = new IntegrityError('short', { file: '/s/layer.tar', expected: 10, actual: 3 }, 'E_SHORT');
    const back = fromPlainError(toPlainError(ours));
    expect(back).toBeInstanceOf(IntegrityError);
    expect(back).toMatchObject({ message: 'short', code: 'E_SHORT', context: { file: '/s/layer.tar', expected: 10, actual: 3 } });
    const sys = Object.assign(new Error('ENOSPC: no space left on device, open'), { code: 'ENOSPC', syscall: 'open', errno: -28, path: '/x' });
    expect(fromPlainError(toPlainError(sys))).toMatchObject({ code: 'ENOSPC', syscall: 'open', errno: -28, path: '/x' });
    expect(fromPlainError(toPlainError(new IoError('disk', {}, 'E_IO_EIO')))).toBeInstanceOf(IoError);
  });
});
