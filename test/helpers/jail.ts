// A "jail" for hostile-input tests: a temp directory holding the store, the output, the input and victim files
// an attack would aim at. A test snapshots everything outside the store and the output, runs the CLI, and
// checks that nothing else changed (tree-manifest.ts records type, mode, owner, mtime, content and xattrs).
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { expect } from 'vitest';
import { tempDir } from './archive-builder.js';
import { CLI } from './paths.js';
import { diffManifests, manifestOfDir, type ManifestRecord } from './tree-manifest.js';

export interface Jail {
  root: string;
  store: string;
  /** The flatten target (absent until a flatten makes it). */
  out: string;
  /** The export target. */
  outTar: string;
  /** Where inputs go (inside the jail, so a run that modified its own input is caught too). */
  input: string;
  /** A directory of files an attack would like to overwrite, chmod or read: victim/passwd, victim/dir/hello, victim/perm400. */
  victim: string;
}

const VICTIM_PASSWD = 'root:x:0:0:victim sentinel:/root:/bin/sh\n';

export async function makeJail(prefix = 'stratum-jail-'): Promise<Jail> {
  const root = await tempDir(prefix);
  const j: Jail = {
    root,
    store: path.join(root, 'store'),
    out: path.join(root, 'out'),
    outTar: path.join(root, 'out.tar'),
    input: path.join(root, 'input'),
    victim: path.join(root, 'victim'),
  };
  await fs.mkdir(path.join(j.victim, 'dir'), { recursive: true });
  await fs.mkdir(j.input);
  await fs.writeFile(path.join(j.victim, 'passwd'), VICTIM_PASSWD, { mode: 0o644 });
  await fs.writeFile(path.join(j.victim, 'dir', 'hello'), 'hello\n');
  await fs.writeFile(path.join(j.victim, 'perm400'), 'secret\n', { mode: 0o400 });
  await fs.chmod(path.join(j.victim, 'perm400'), 0o400);
  // Old times, so a write that restores the same content still shows as an mtime change.
  for (const p of ['passwd', 'dir/hello', 'perm400', 'dir', '']) await fs.utimes(path.join(j.victim, p), 1_000_000, 1_000_000);
  return j;
}

export async function removeJail(j: Jail): Promise<void> {
  await fs.rm(j.root, { recursive: true, force: true });
}

/** Paths that belong to the run: the stores, OUT and the export file. Everything else is the outside world. */
const OURS = ['store', 'store-export', 'store-import', 'out', 'out.tar'];
const ours = (p: string): boolean => OURS.some((m) => p === m || p.startsWith(`${m}/`));

export interface Snapshot {
  jail: ManifestRecord[];
  host: Record<string, string>;
}

/** Host files a careless extractor running as root would reach with `/etc/passwd`-style names. */
const HOST_SENTINELS = ['/etc/passwd', '/etc/shadow', '/etc/hosts', '/etc/group'];

export async function snapshot(j: Jail): Promise<Snapshot> {
  const jail = (await manifestOfDir(j.root)).filter((r) => !ours(r.path));
  const host: Record<string, string> = {};
  for (const f of HOST_SENTINELS) {
    const st = await fs.lstat(f).catch(() => undefined);
    host[f] = st ? `${st.mode}:${st.uid}:${st.size}:${st.mtimeMs}:${await sha256File(f)}` : 'absent';
  }
  return { jail, host };
}

/** Fails with one line per change outside the store and OUT. */
export async function expectUntouched(j: Jail, before: Snapshot): Promise<void> {
  const after = await snapshot(j);
  expect(diffManifests(before.jail, after.jail, { labels: ['before', 'after'] }), 'the jail outside OUT and the store changed').toEqual([]);
  expect(after.host, 'a host sentinel file changed').toEqual(before.host);
}

async function sha256File(p: string): Promise<string> {
  return createHash('sha256')
    .update(await fs.readFile(p))
    .digest('hex');
}

export interface StratumRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** Milliseconds from spawn to exit. */
  ms: number;
  timedOut: boolean;
}

export interface RunOptions {
  timeoutMs?: number;
  env?: NodeJS.ProcessEnv;
  uid?: number;
  gid?: number;
  /** Extra node flags before the CLI script (e.g. --import a probe). */
  nodeArgs?: string[];
  /** Called with the child once spawned (kill tests). */
  onSpawn?: (child: ChildProcess) => void;
}

/** Runs bin/stratum.js; a run past the timeout is killed and reported as timedOut rather than hanging the test. */
export function stratum(args: readonly string[], opts: RunOptions = {}): Promise<StratumRun> {
  return new Promise((resolve, reject) => {
    const start = Date.now();
    const child = spawn(process.execPath, [...(opts.nodeArgs ?? []), CLI, ...args], {
      env: { ...process.env, ...opts.env },
      stdio: ['ignore', 'pipe', 'pipe'],
      uid: opts.uid,
      gid: opts.gid,
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout!.on('data', (c: Buffer) => out.push(c));
    child.stderr!.on('data', (c: Buffer) => err.push(c));
    let timedOut = false;
    const timer = opts.timeoutMs
      ? setTimeout(() => {
          timedOut = true;
          child.kill('SIGKILL');
        }, opts.timeoutMs)
      : undefined;
    child.on('error', reject);
    child.on('close', (code, signal) => {
      if (timer) clearTimeout(timer);
      resolve({ code, signal, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8'), ms: Date.now() - start, timedOut });
    });
    opts.onSpawn?.(child);
  });
}

export function stderrLines(r: StratumRun): string[] {
  return r.stderr.split('\n').filter((l) => l !== '');
}

/** The CLI's contract for a refusal: exit 1 (or 2 for usage), exactly one line on stderr, no stack, no internal error. */
export function expectOneLineRefusal(r: StratumRun, what: RegExp | undefined = undefined, code = 1): void {
  const lines = stderrLines(r);
  const shown = `exit ${r.code}, stderr:\n${r.stderr}`;
  expect(r.timedOut, `timed out: ${shown}`).toBe(false);
  expect(r.code, shown).toBe(code);
  expect(lines, shown).toHaveLength(1);
  expect(lines[0], shown).toMatch(/^stratum: /);
  expect(lines[0], shown).not.toMatch(/internal error/);
  expect(r.stderr, shown).not.toMatch(/^ {4}at /m);
  if (what) expect(lines[0], shown).toMatch(what);
}

/** The store as comparable records, directory mtimes left out (temp work inside touches them). */
export async function storeState(store: string): Promise<{ records: ManifestRecord[]; index: string }> {
  const exists = await fs.stat(store).then(
    () => true,
    () => false,
  );
  if (!exists) return { records: [], index: '' };
  const records = (await manifestOfDir(store)).map((r) => (r.type === 'dir' ? { ...r, mtime: 0 } : r));
  const index = await fs.readFile(path.join(store, 'index.json'), 'utf8').catch(() => '');
  return { records, index };
}

export async function expectStoreUnchanged(store: string, before: Awaited<ReturnType<typeof storeState>>): Promise<void> {
  const after = await storeState(store);
  expect(after.index, 'store index.json changed').toBe(before.index);
  expect(diffManifests(before.records, after.records, { labels: ['before', 'after'] }), 'the store changed').toEqual([]);
}

/** Names in a directory that look like stratum staging or temp leftovers. */
export async function leftovers(dir: string): Promise<string[]> {
  const names = await fs.readdir(dir).catch(() => [] as string[]);
  return names.filter((n) => n.includes('.stratum-')).sort();
}
