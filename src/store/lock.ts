// A cross-process lock on a path: O_EXCL create of a file holding our pid; a holder that died is broken.
import { randomBytes } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { IoError } from '../errors.js';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

const EMPTY_LOCK_STALE_MS = 5_000;

async function tryAcquire(lockPath: string): Promise<boolean> {
  try {
    const fh = await fsp.open(lockPath, 'wx', 0o600);
    await fh.writeFile(String(process.pid));
    await fh.close();
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
  const seen = await fsp.stat(lockPath).catch(() => undefined);
  if (!seen) return false;
  const content = await fsp.readFile(lockPath, 'utf8').catch(() => '');
  const holder = Number(content);
  // An empty file is a holder between open and write: wait for it rather than break it — unless it stayed
  // empty for seconds, which only a holder killed between the two does.
  const stale = holder === 0 && Date.now() - seen.mtimeMs > EMPTY_LOCK_STALE_MS;
  if ((Number.isInteger(holder) && holder > 0 && !alive(holder)) || stale) await breakLock(lockPath, { ino: seen.ino, mtimeMs: seen.mtimeMs, content });
  return false;
}

/** What identifies the lock file we judged stale. The inode alone does not: ext4 hands a freed one straight out again. */
export interface JudgedLock {
  ino: number;
  mtimeMs: number;
  content: string;
}

/**
 * Removes the lock file we judged stale, and only that one: another process may have broken it and taken the lock
 * since we looked. Renaming is atomic, so we hold whatever we moved away; if it is not the file we judged (another
 * inode, time or holder), it is a live holder's lock and goes back.
 */
export async function breakLock(lockPath: string, judged: JudgedLock): Promise<void> {
  const grave = `${lockPath}.stale-${process.pid}-${randomBytes(4).toString('hex')}`;
  try {
    await fsp.rename(lockPath, grave);
  } catch {
    return; // gone already: someone else broke it
  }
  const moved = await fsp.stat(grave).catch(() => undefined);
  const content = await fsp.readFile(grave, 'utf8').catch(() => '');
  const same = moved && moved.ino === judged.ino && moved.mtimeMs === judged.mtimeMs && content === judged.content;
  if (moved && !same) await fsp.link(grave, lockPath).catch(() => undefined);
  await fsp.rm(grave, { force: true });
}

export async function withLock<T>(lockPath: string, fn: () => Promise<T>, timeoutMs = 60_000): Promise<T> {
  const start = Date.now();
  let wait = 5;
  while (!(await tryAcquire(lockPath))) {
    if (Date.now() - start > timeoutMs) throw new IoError(`${lockPath}: still locked after ${timeoutMs / 1000} s`, { file: lockPath });
    await sleep(wait);
    wait = Math.min(wait * 2, 100);
  }
  try {
    return await fn();
  } finally {
    await fsp.rm(lockPath, { force: true });
  }
}
