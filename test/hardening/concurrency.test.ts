// Several processes on one store at once: importing and flattening the same image and images that share layers.
// Each layer lands by rename (the loser of a race drops its copy) and index.json changes under a lock, so every
// process must succeed, every output must equal its reference, and the store must verify and list both images.
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from '../helpers/archive-builder.js';
import { stratum, type StratumRun } from '../helpers/jail.js';
import { writeMediumImage } from '../helpers/medium-image.js';
import { diffManifests, manifestOfDir, type ManifestRecord } from '../helpers/tree-manifest.js';

let root: string;
const images: Record<'a' | 'b', { file: string; tree: ManifestRecord[] }> = {} as never;

beforeAll(async () => {
  root = await tempDir('stratum-concurrency-');
  // b shares a's two lower layers and has its own top layer.
  const a = await writeMediumImage(root, 600, 7, { name: 'a.tar', tag: 'medium:a' });
  const b = await writeMediumImage(root, 600, 7, { name: 'b.tar', tag: 'medium:b', variant: 1 });
  for (const [key, img] of [['a', a], ['b', b]] as const) {
    const out = path.join(root, `reference-${key}`);
    const r = await stratum(['flatten', img.file, out, '--store', path.join(root, `ref-store-${key}`), '-q']);
    expect(r.code, r.stderr).toBe(0);
    images[key] = { file: img.file, tree: await manifestOfDir(out) };
  }
}, 120_000);
afterAll(() => fs.rm(root, { recursive: true, force: true }));

function expectAllOk(runs: StratumRun[]): void {
  for (const r of runs) {
    expect(r.timedOut, r.stderr).toBe(false);
    expect(r.code, r.stderr).toBe(0);
  }
}

async function expectStoreGood(store: string, names: string[]): Promise<void> {
  const verify = await stratum(['verify', '--store', store, '-q']);
  expect(verify.code, verify.stdout + verify.stderr).toBe(0);
  const list = await stratum(['images', '--json', '--store', store]);
  const listed = (JSON.parse(list.stdout) as Array<{ names: string[] }>).flatMap((i) => i.names).sort();
  expect(listed).toEqual(names);
  expect(await fs.readdir(path.join(store, 'tmp'))).toEqual([]);
  // Three layers each, two shared: four unpacked layers in all, never a duplicate or a half one.
  expect((await fs.readdir(path.join(store, 'layers', 'sha256'))).length).toBe(names.length === 1 ? 3 : 4);
}

describe('concurrency: one store, four processes', () => {
  for (const round of [1, 2, 3]) {
    it(`round ${round}: import a, flatten a, import b, flatten b at once (b shares two layers with a)`, async () => {
      const dir = path.join(root, `round-${round}`);
      const store = path.join(dir, 'store');
      await fs.mkdir(dir);
      const opts = { timeoutMs: 120_000 };
      const runs = await Promise.all([
        stratum(['import', images.a.file, '--store', store, '-q'], opts),
        stratum(['flatten', images.a.file, path.join(dir, 'out-a'), '--store', store, '-q'], opts),
        stratum(['import', images.b.file, '--store', store, '-q'], opts),
        stratum(['flatten', images.b.file, path.join(dir, 'out-b'), '--store', store, '-q'], opts),
      ]);
      expectAllOk(runs);
      expect(diffManifests(images.a.tree, await manifestOfDir(path.join(dir, 'out-a')))).toEqual([]);
      expect(diffManifests(images.b.tree, await manifestOfDir(path.join(dir, 'out-b')))).toEqual([]);
      await expectStoreGood(store, ['medium:a', 'medium:b']);
      await fs.rm(dir, { recursive: true, force: true });
    }, 120_000);
  }

  it('four flattens of the same image into four outputs at once, from an empty store', async () => {
    const dir = path.join(root, 'same');
    const store = path.join(dir, 'store');
    await fs.mkdir(dir);
    const runs = await Promise.all([1, 2, 3, 4].map((i) => stratum(['flatten', images.a.file, path.join(dir, `out-${i}`), '--store', store, '-q'], { timeoutMs: 120_000 })));
    expectAllOk(runs);
    for (const i of [1, 2, 3, 4]) expect(diffManifests(images.a.tree, await manifestOfDir(path.join(dir, `out-${i}`))), `out-${i}`).toEqual([]);
    await expectStoreGood(store, ['medium:a']);
  }, 120_000);

  it('two flattens racing for the same OUT: one wins whole, the other refuses with one line, nothing is mixed', async () => {
    const dir = path.join(root, 'same-out');
    const store = path.join(dir, 'store');
    await fs.mkdir(dir);
    const out = path.join(dir, 'out');
    const runs = await Promise.all([images.a.file, images.b.file].map((f) => stratum(['flatten', f, out, '--store', store, '-q'], { timeoutMs: 120_000 })));
    const ok = runs.filter((r) => r.code === 0);
    expect(ok.length, runs.map((r) => r.stderr).join('\n')).toBeGreaterThanOrEqual(1);
    for (const r of runs.filter((x) => x.code !== 0)) expect(r.stderr.trim().split('\n')).toHaveLength(1);
    const tree = await manifestOfDir(out);
    const matches = [images.a.tree, images.b.tree].filter((t) => diffManifests(t, tree).length === 0);
    expect(matches, 'OUT is neither image whole').toHaveLength(1);
    expect((await fs.readdir(dir)).filter((n) => n.includes('.stratum-'))).toEqual([]);
  }, 120_000);
});
