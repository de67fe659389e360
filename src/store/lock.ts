// A cross-process lock on a path: O_EXCL create of a file holding our pid; a holder that died is broken.
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
  const holder = Number(await fsp.readFile(lockPath, 'utf8').catch(() => ''));
  // An empty file is a holder between open and write: wait for it rather than break it — unless it stayed
  // empty for seconds, which only a holder killed between the two does.
  const stale = holder === 0 && Date.now() - ((await fsp.stat(lockPath).catch(() => undefined))?.mtimeMs ?? Date.now()) > EMPTY_LOCK_STALE_MS;
  if ((Number.isInteger(holder) && holder > 0 && !alive(holder)) || stale) {
    await fsp.rm(lockPath, { force: true });
  }
  return false;
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
