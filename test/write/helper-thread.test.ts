// The directory writer's second thread: a tree written by two threads is the tree written by one, whichever thread
// writes which leaf, and a failure in either thread ends the write the same way (one error, nothing left behind).
import { mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { fromPlainError, IntegrityError, IoError, NotFoundError, toPlainError } from '../../src/errors.js';
import { writeDir } from '../../src/write/dir-writer.js';
import { HelperThread } from '../../src/write/helper-thread.js';
import type { LeafTask } from '../../src/write/leaf-task.js';
import { diffManifests, manifestOfDir } from '../helpers/tree-manifest.js';
import { expectedManifest, T2001, TreeFixture } from './tree-fixture.js';

let tmp: string;
let fx: TreeFixture;
beforeEach(() => {
  tmp = mkdtempSync(path.join(os.tmpdir(), 'stratum-helper-'));
  fx = new TreeFixture();
});
afterEach(() => {
  rmSync(tmp, { recursive: true, force: true });
  rmSync(fx.contentDir, { recursive: true, force: true });
});

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
