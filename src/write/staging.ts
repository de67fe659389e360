// The staging directory next to OUT: built privately, renamed into place whole, or removed without a trace.
import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { IoError, UsageError } from '../errors.js';

/** What was at OUT when we started: decides how the finished tree gets there. */
export type OutState = 'absent' | 'empty-dir' | 'replace';

export async function inspectOut(out: string, force: boolean): Promise<OutState> {
  let st;
  try {
    st = await fs.lstat(out);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 'absent';
    throw err;
  }
  if (st.isDirectory() && (await fs.readdir(out)).length === 0) return 'empty-dir';
  if (force) return 'replace';
  const what = st.isDirectory() ? 'a directory that is not empty' : 'not a directory';
  throw new UsageError(`output ${out} already exists and is ${what}; choose a new path or pass --force to replace it`, { file: out });
}

/** `.OUT.stratum-[old-]<pid>-<hex>`: the pid lets a later run tell a dead writer's leftovers from a live one's. */
export function siblingName(out: string, tag: string): string {
  return path.join(path.dirname(out), `.${path.basename(out)}.stratum-${tag}${process.pid}-${randomBytes(6).toString('hex')}`);
}

const SIBLING = /^(?:old-)?(\d+)-[0-9a-f]{12}$/;

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Removes what writers of this OUT left beside it when they were killed (kill -9, OOM, power loss): staging trees
 * and set-aside old trees whose pid is no longer running. A live writer's are left alone. Best effort.
 */
export async function removeStaleSiblings(out: string): Promise<void> {
  const dir = path.dirname(out);
  const prefix = `.${path.basename(out)}.stratum-`;
  for (const name of await fs.readdir(dir).catch(() => [] as string[])) {
    const m = name.startsWith(prefix) ? SIBLING.exec(name.slice(prefix.length)) : null;
    if (m && Number(m[1]) !== process.pid && !alive(Number(m[1]))) await removeTree(path.join(dir, name)).catch(() => undefined);
  }
}

/** Mode 0700: until the rename nobody else may traverse it (setuid binaries inside, CVE-2021-41091). */
export async function createStaging(out: string): Promise<string> {
  await fs.mkdir(path.dirname(out), { recursive: true });
  await removeStaleSiblings(out);
  const staging = siblingName(out, '');
  await fs.mkdir(staging, { mode: 0o700 });
  // mkdir inherits a setgid bit from the parent; clear it so everything inside gets our own group, as applyOwner assumes.
  await fs.chmod(staging, 0o700);
  return staging;
}

/** Puts the finished tree at OUT. When replacing, the old tree is moved aside first and restored if the swap fails. */
export async function installStaging(staging: string, out: string, state: OutState): Promise<void> {
  if (state !== 'replace') {
    // rename(2) replaces an empty directory atomically and refuses (ENOTEMPTY) one that filled up meanwhile.
    await fs.rename(staging, out);
    return;
  }
  const old = siblingName(out, 'old-');
  await fs.rename(out, old);
  try {
    await fs.rename(staging, out);
  } catch (err) {
    await fs.rename(old, out);
    throw err;
  }
  try {
    await removeTree(old);
  } catch (err) {
    throw new IoError(`${out} was replaced, but the previous contents could not be removed from ${old}`, { file: old }, 'E_IO_LEFTOVER', {
      cause: err,
    });
  }
}

/**
 * Removes a tree we wrote. A first attempt usually suffices; as non-root, directories already given their final
 * read-only modes refuse unlinking, so open them up (never following symlinks) and retry.
 */
export async function removeTree(dir: string): Promise<void> {
  try {
    await fs.rm(dir, { recursive: true, force: true });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== 'EACCES' && code !== 'EPERM') throw err;
    await openUp(Buffer.from(dir));
    await fs.rm(dir, { recursive: true, force: true });
  }
}

async function openUp(dir: Buffer): Promise<void> {
  const st = await fs.lstat(dir);
  if (!st.isDirectory()) return;
  await fs.chmod(dir, 0o700);
  const names = await fs.readdir(dir, { encoding: 'buffer' });
  for (const name of names) await openUp(Buffer.concat([dir, Buffer.from('/'), name]));
}
