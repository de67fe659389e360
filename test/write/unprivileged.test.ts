import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import ts from 'typescript';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO } from '../helpers/paths.js';
import { diffManifests, manifestOfDir, type ManifestRecord } from '../helpers/tree-manifest.js';
import { expectedManifest } from './tree-fixture.js';
import { unprivilegedTree } from './unprivileged-driver.js';

// Runs the real writer as uid 65534: read-only directories only work because their modes are deferred, which
// root would never notice (it ignores permission bits). Dropping to another user needs root.
const ROOT = process.getuid?.() === 0;
const asRoot = ROOT ? it : it.skip;
if (!ROOT) console.warn('SKIPPED: unprivileged writeDir test needs root (to run the writer as uid 65534 via setpriv)');

const NOBODY = 65534;
let tmp: string;
beforeAll(() => {
  tmp = mkdtempSync(path.join(os.tmpdir(), 'stratum-unpriv-'));
  chmodSync(tmp, 0o755);
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** Plain JavaScript of the driver and what it imports (typescript's transpileModule: no bundler, no type check). */
function transpile(to: string): string {
  const entry = path.join(REPO, 'test/write/unprivileged-driver.ts');
  const todo = [entry];
  const done = new Set<string>();
  while (todo.length > 0) {
    const file = todo.pop()!;
    if (done.has(file)) continue;
    done.add(file);
    const source = readFileSync(file, 'utf8');
    for (const m of source.matchAll(/from '(\.[^']+)\.js'/g)) todo.push(path.resolve(path.dirname(file), `${m[1]}.ts`));
    const js = ts.transpileModule(source, { compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 } }).outputText;
    const dest = path.join(to, path.relative(REPO, file)).replace(/\.ts$/, '.js');
    mkdirSync(path.dirname(dest), { recursive: true });
    writeFileSync(dest, js);
  }
  writeFileSync(path.join(to, 'package.json'), '{"type":"module"}');
  return path.join(to, 'test/write/unprivileged-driver.js');
}

interface Report {
  skipped: Record<string, number>;
  devices: number;
}

/** Runs the driver under `setpriv args`, writing (twice, the second time with force) to a fresh OUT. */
function runDriver(name: string, setpriv: string[]): { out: string; home: string; report: Report } {
  const driver = transpile(path.join(tmp, 'js'));
  const home = path.join(tmp, name);
  mkdirSync(home);
  chmodSync(home, 0o777);
  const out = path.join(home, 'out');
  const stdout = execFileSync('setpriv', [...setpriv, process.execPath, driver, out], { env: { ...process.env, TMPDIR: home }, encoding: 'utf8' });
  return { out, home, report: JSON.parse(stdout) as Report };
}

function plannedManifest(): ManifestRecord[] {
  const fx = unprivilegedTree();
  rmSync(fx.contentDir, { recursive: true, force: true });
  return expectedManifest(fx.tree).filter((r) => r.path !== 'dev/null');
}

describe('writeDir without privileges', () => {
  asRoot('as uid 65534: read-only dirs with children, user xattrs on read-only files, counts what it could not keep, replaces its own output (needs root)', async () => {
    const { out, home, report } = runDriver('nobody', [`--reuid=${NOBODY}`, `--regid=${NOBODY}`, '--clear-groups']);
    // Every name and the root belong to 0:0 in the plan; none of those owners can be kept by uid 65534.
    expect(report.skipped).toEqual({ owners: 10, devices: 1, xattrs: 0 });
    expect(report.devices).toBe(1);
    const want = plannedManifest().map((r) => ({ ...r, uid: NOBODY, gid: NOBODY }));
    expect(diffManifests(want, await manifestOfDir(out), { labels: ['plan', 'nobody'] })).toEqual([]);
    expect(readdirSync(home).filter((n) => n.startsWith('.out.stratum-'))).toEqual([]);
  });

  asRoot('as root without CAP_MKNOD (a user namespace): skips devices, still makes FIFOs and keeps owners (needs root)', async () => {
    const { out, report } = runDriver('nomknod', ['--bounding-set=-mknod', '--inh-caps=-mknod']);
    expect(report.skipped).toEqual({ owners: 0, devices: 1, xattrs: 0 });
    expect(report.devices).toBe(1);
    expect(diffManifests(plannedManifest(), await manifestOfDir(out), { labels: ['plan', 'no-mknod'] })).toEqual([]);
  });
});
