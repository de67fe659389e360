// The store's cross-process lock: mutual exclusion, and a dead holder's lock broken exactly once, never a live one.
import { spawn } from 'node:child_process';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { breakLock, withLock } from '../../src/store/lock.js';
import { tempDir } from '../helpers/archive-builder.js';
import { crowd } from '../helpers/concurrency.js';

let dir: string;
beforeEach(async () => {
  dir = await tempDir('stratum-lock-');
});
afterEach(() => fs.rm(dir, { recursive: true, force: true }));

/** A pid that is certainly not running: a child that has exited. */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', '0']);
  await new Promise((r) => child.on('exit', r));
  return child.pid!;
}

/** `n` holders of `lock` at once; how many got in and the most that were ever inside together. */
const holders = (lock: string, n: number) => crowd(n, (task) => withLock(lock, task));

describe('withLock', () => {
  it('lets one holder in at a time', async () => {
    const lock = path.join(dir, 'index.lock');
    expect(await holders(lock, 12)).toEqual({ entered: 12, most: 1 });
    await expect(fs.access(lock)).rejects.toThrow();
  });

  it('breaks a lock left by a dead process, and only once when many waiters see it at the same time', async () => {
    const lock = path.join(dir, 'index.lock');
    await fs.writeFile(lock, String(await deadPid()));
    expect(await holders(lock, 12)).toEqual({ entered: 12, most: 1 });
    expect((await fs.readdir(dir)).filter((n) => n.includes('stale'))).toEqual([]);
  });

  it('breaking a lock judged stale leaves alone a fresh lock that took its place in the meantime', async () => {
    // The race the rename closes: waiter A reads a dead pid; waiter B breaks the lock and takes it; A then breaks.
    const lock = path.join(dir, 'index.lock');
    const dead = String(await deadPid());
    await fs.writeFile(lock, dead);
    const st = await fs.stat(lock);
    const judged = { ino: st.ino, mtimeMs: st.mtimeMs, content: dead };
    await fs.rm(lock);
    await fs.writeFile(lock, String(process.pid), { flag: 'wx' }); // B, alive, holds it now
    await breakLock(lock, judged);
    expect(await fs.readFile(lock, 'utf8')).toBe(String(process.pid));
    expect((await fs.readdir(dir)).filter((n) => n.includes('stale'))).toEqual([]);
    // The lock that was judged is broken.
    const now = await fs.stat(lock);
    await breakLock(lock, { ino: now.ino, mtimeMs: now.mtimeMs, content: String(process.pid) });
    await expect(fs.access(lock)).rejects.toThrow();
  });

  it('never breaks the lock of a live holder, and times out with one line', async () => {
    const lock = path.join(dir, 'index.lock');
    await fs.writeFile(lock, String(process.pid));
    await expect(withLock(lock, async () => undefined, 300)).rejects.toThrow(/index\.lock: still locked after 0\.3 s/);
    expect(await fs.readFile(lock, 'utf8')).toBe(String(process.pid));
  });
});
