// The store's planned trees (store/plans.ts): `stratum import` plans each image once, a flatten from the store reads
// that plan instead of merging the layer indexes again, and whatever happens to a plan, the tree written is the
// merge of the layers: a damaged plan is planned again, a wrong one is what `verify` reports, `gc` drops the unused.
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { flatten } from '../../src/ops/flatten.js';
import { findImage } from '../../src/store/images.js';
import { chainIDs, planDir } from '../../src/store/plans.js';
import { Store } from '../../src/store/store.js';
import { digestHex } from '../../src/spec/digest.js';
import { tempDir } from '../helpers/archive-builder.js';
import { runCli } from '../helpers/cli.js';
import { SAMPLES } from '../helpers/paths.js';
import { diffManifests, manifestOfDir } from '../helpers/tree-manifest.js';

const SAMPLE = path.join(SAMPLES, 'oci-archive-gzip.tar');

let dir: string;
let store: Store;

beforeEach(async () => {
  dir = await tempDir('stratum-plans-');
  store = await Store.open(path.join(dir, 'store'));
});

afterEach(async () => {
  await fsp.rm(dir, { recursive: true, force: true });
});

async function importSample(): Promise<string> {
  const r = await runCli(['import', '-q', SAMPLE], { store: store.root });
  expect(r.code, r.stderr).toBe(0);
  return r.out.split('\t')[1];
}

async function plansOnDisk(): Promise<string[]> {
  return (await fsp.readdir(planDir(store)).catch(() => [])).sort();
}

async function planFileOf(ref: string, layers?: number): Promise<string> {
  const image = await findImage(store, ref);
  const chains = chainIDs(image.layers.map((l) => l.diffID));
  return path.join(planDir(store), `${digestHex(chains[(layers ?? chains.length) - 1])}.json`);
}

/** The tree the layers give, flattened straight from the archive into a store of its own (merged, never read back). */
async function reference(name: string, layers?: number): Promise<string> {
  const out = path.join(dir, name);
  await flatten(await Store.open(path.join(dir, `store-${name}`)), SAMPLE, out, { layers });
  return out;
}

async function expectSameTree(actual: string, expected: string): Promise<void> {
  expect(diffManifests(await manifestOfDir(actual), await manifestOfDir(expected))).toEqual([]);
}

describe('stored plans', () => {
  it('stratum import plans the image once; a flatten from the store reads that plan and no layer index', async () => {
    const ref = await importSample();
    expect(await plansOnDisk()).toEqual([path.basename(await planFileOf(ref))]);
    // Without their indexes the layers cannot be merged: only the stored plan can give the tree now.
    const image = await findImage(store, ref);
    for (const l of image.layers) await fsp.rename(path.join(store.layerDir(l.diffID), 'index.json'), path.join(store.layerDir(l.diffID), 'index.json.away'));
    const out = path.join(dir, 'out');
    await flatten(await Store.open(store.root), ref, out);
    await expectSameTree(out, await reference('ref'));
  });

  it('a flatten plans what it has no plan for and keeps it, --layers N by the chain of those N layers; one that just unpacked the layers keeps none', async () => {
    const first = path.join(dir, 'first');
    const { planned } = await flatten(store, SAMPLE, first, { layers: 2 });
    const ref = planned.image.manifestDigest;
    expect(await plansOnDisk()).toEqual([]);
    const again = path.join(dir, 'again');
    await flatten(await Store.open(store.root), ref, again, { layers: 2 });
    expect(await plansOnDisk()).toEqual([path.basename(await planFileOf(ref, 2))]);
    await expectSameTree(again, await reference('ref2', 2));
    await expectSameTree(first, again);
    // The archive again: its layers are in the store now, so this is a flatten from the store that keeps its plan.
    await flatten(await Store.open(store.root), SAMPLE, path.join(dir, 'whole'));
    expect(await plansOnDisk()).toEqual([path.basename(await planFileOf(ref, 2)), path.basename(await planFileOf(ref))].sort());
  });

  it('a damaged plan is planned again, written right, and the tree is still the merge of the layers', async () => {
    const ref = await importSample();
    const file = await planFileOf(ref);
    const good = await fsp.readFile(file);
    for (const damage of ['{"format":1,"layers":3,"warnings":[],"nodes":[[-1,"","d"', 'null', good.toString('latin1').replace('"nodes":[[-1', '"nodes":[[0')]) {
      await fsp.writeFile(file, damage);
      const out = path.join(dir, `out-${damage.length}`);
      await flatten(await Store.open(store.root), ref, out);
      await expectSameTree(out, await reference(`ref-${damage.length}`));
      expect(await fsp.readFile(file)).toEqual(good);
    }
  });

  it('verify reports a plan that is not the merge of its layers, and one that cannot be read', async () => {
    const ref = await importSample();
    expect((await runCli(['verify', '-q'], { store: store.root })).out).toMatch(/, 1 plans checked: ok\n$/);
    const file = await planFileOf(ref);
    const text = (await fsp.readFile(file, 'latin1')).replace(/"f",420,/, '"f",511,');
    await fsp.writeFile(file, text, 'latin1');
    const wrong = await runCli(['verify', '-q'], { store: store.root });
    expect(wrong.code).toBe(1);
    expect(wrong.out).toContain(`DAMAGED plan sha256:${path.basename(file, '.json')}: differs from the merge of its layers`);
    await fsp.writeFile(file, 'garbage');
    expect((await runCli(['verify', '-q'], { store: store.root })).out).toMatch(/DAMAGED plan .*stored plan: not a plan|DAMAGED plan .*Unexpected token/);
  });

  it('gc keeps the plans of stored images (and of their first N layers) and removes the others', async () => {
    const ref = await importSample();
    await flatten(store, ref, path.join(dir, 'two'), { layers: 2 });
    await fsp.writeFile(path.join(planDir(store), `${'0'.repeat(64)}.json`), '{}');
    let r = await runCli(['gc'], { store: store.root });
    expect(r.out).toMatch(/, 0 unpacked layers and 1 plans, freed/);
    expect(await plansOnDisk()).toEqual([path.basename(await planFileOf(ref, 2)), path.basename(await planFileOf(ref))].sort());
    expect((await runCli(['rm', ref], { store: store.root })).code).toBe(0);
    r = await runCli(['gc'], { store: store.root });
    expect(r.out).toMatch(/ and 2 plans, freed/);
    expect(await plansOnDisk()).toEqual([]);
  });
});
