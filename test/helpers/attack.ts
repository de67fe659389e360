// Runs one hostile input through every command that writes — flatten (a directory), export (a file) and import
// (the store) — each with its own fresh store, inside a jail, and checks what must hold whatever stratum decided:
// nothing outside OUT and the stores changed, no staging leftovers, and an exported tar carries only clean names.
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { expect, onTestFinished } from 'vitest';
import { readTar } from '../../src/tar/reader.js';
import { expectOneLineRefusal, expectUntouched, leftovers, makeJail, removeJail, snapshot, stratum, type Jail, type StratumRun } from './jail.js';

export interface AttackRuns {
  jail: Jail;
  input: string;
  flatten: StratumRun;
  export: StratumRun;
  import: StratumRun;
}

const TIMEOUT_MS = 30_000;

/**
 * Builds the input inside a fresh jail (`build` returns its path), runs the three commands at once, checks
 * containment, and hands the runs back for the outcome checks. The jail is removed when the test finishes;
 * `done()` removes it earlier.
 */
export async function runAttack(build: (j: Jail) => Promise<string>, extraArgs: string[] = []): Promise<AttackRuns & { done: () => Promise<void> }> {
  const jail = await makeJail('stratum-attack-');
  // Removed when the test ends, passed or failed (a failed assertion never reaches done()).
  onTestFinished(() => removeJail(jail));
  const input = await build(jail);
  const before = await snapshot(jail);
  const store = (name: string) => ['--store', path.join(jail.root, name)];
  const [flatten, exported, imported] = await Promise.all([
    stratum(['flatten', input, jail.out, ...store('store'), '-q', ...extraArgs], { timeoutMs: TIMEOUT_MS }),
    stratum(['export', input, jail.outTar, ...store('store-export'), '-q', ...extraArgs], { timeoutMs: TIMEOUT_MS }),
    stratum(['import', input, ...store('store-import'), '-q', ...extraArgs], { timeoutMs: TIMEOUT_MS }),
  ]);
  for (const r of [flatten, exported, imported]) {
    expect(r.timedOut, `a command ran past ${TIMEOUT_MS} ms`).toBe(false);
    expect(r.stderr, r.stderr).not.toMatch(/internal error|^ {4}at /m);
  }
  await expectUntouched(jail, before);
  expect(await leftovers(jail.root), 'staging or temp files left beside OUT').toEqual([]);
  for (const s of ['store', 'store-export', 'store-import']) {
    expect(await fs.readdir(path.join(jail.root, s, 'tmp')).catch(() => []), `${s}/tmp not cleaned`).toEqual([]);
  }
  if (exported.code === 0) await expectCleanTar(jail.outTar);
  return { jail, input, flatten, export: exported, import: imported, done: () => removeJail(jail) };
}

/** Every name an export writes is relative and climbs nowhere: a later `tar -x` of it is as safe as the tree. */
export async function expectCleanTar(file: string): Promise<void> {
  const bad: string[] = [];
  const handle = await fs.open(file, 'r');
  try {
    for await (const { header, body } of readTar(handle.createReadStream(), { label: file })) {
      for await (const _ of body) void _;
      const names = header.type === 'hardlink' ? [header.name, header.linkname] : [header.name];
      for (const n of names) if (n.startsWith('/') || n.split('/').includes('..') || n === '') bad.push(JSON.stringify(n));
    }
  } finally {
    await handle.close();
  }
  expect(bad, 'unsafe names in the exported tar').toEqual([]);
}

/**
 * The commands refused with one line matching `what`, and wrote nothing. `atPlan`: the layers themselves are
 * fine to store and only the merged tree is impossible (a loop, a missing hardlink target), so import succeeds
 * and only flatten and export refuse.
 */
export async function expectRefused(r: AttackRuns, what: RegExp, opts: { atPlan?: boolean } = {}): Promise<void> {
  const refusing = opts.atPlan ? [r.flatten, r.export] : [r.flatten, r.export, r.import];
  for (const run of refusing) expectOneLineRefusal(run, what);
  if (opts.atPlan) expect(r.import.code, r.import.stderr).toBe(0);
  await expect(fs.lstat(r.jail.out), 'OUT exists after a refusal').rejects.toThrow();
  await expect(fs.lstat(r.jail.outTar), 'the export file exists after a refusal').rejects.toThrow();
  for (const s of opts.atPlan ? [] : ['store', 'store-export', 'store-import']) {
    const index = JSON.parse(await fs.readFile(path.join(r.jail.root, s, 'index.json'), 'utf8')) as { manifests: unknown[] };
    expect(index.manifests, `${s} recorded an image it refused`).toEqual([]);
  }
}

/** All three commands succeeded; returns the flattened tree's root for the caller's checks. */
export function expectConfined(r: AttackRuns): string {
  for (const run of [r.flatten, r.export, r.import]) expect(run.code, `exit ${run.code}: ${run.stderr}`).toBe(0);
  return r.jail.out;
}

/** What a path in OUT is, without following it: 'file:<content>', 'symlink:<target>', 'dir' or 'absent'. */
export async function describeOut(out: string, rel: string): Promise<string> {
  const p = path.join(out, rel);
  const st = await fs.lstat(p).catch(() => undefined);
  if (!st) return 'absent';
  if (st.isSymbolicLink()) return `symlink:${await fs.readlink(p)}`;
  if (st.isDirectory()) return 'dir';
  if (st.isFile()) return `file:${await fs.readFile(p, 'latin1')}`;
  return 'other';
}
