// flatten and export import without per-file sha256 (LayerIndex.unhashed); whatever reads the store next must not
// be able to tell: diff, inspect and verify see the same hashes an import would have made.
import { createHash } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { LayerIndex } from '../../src/layer/entry.js';
import { flatten } from '../../src/ops/flatten.js';
import { importImage } from '../../src/ops/import-image.js';
import { verifyStore } from '../../src/store/maintenance.js';
import { Store } from '../../src/store/store.js';
import { tempDir } from '../helpers/archive-builder.js';
import { runCli } from '../helpers/cli.js';
import { SAMPLES } from '../helpers/paths.js';

let dir: string;

beforeEach(async () => {
  dir = await tempDir('stratum-hashes-');
});

afterEach(async () => {
  await fsp.rm(dir, { recursive: true, force: true });
});

async function indexOnDisk(store: Store, diffID: string): Promise<LayerIndex> {
  return JSON.parse(await fsp.readFile(path.join(store.layerDir(diffID as never), 'index.json'), 'latin1')) as LayerIndex;
}

const hashed = (index: LayerIndex): string[] => index.entries.filter((e) => e.kind === 'file').map((e) => `${e.path} ${e.sha256}`);

describe('per-file hashes left out by flatten', () => {
  it('are filled in from layer.tar by the first reader that needs them, equal to an import\'s, and kept', async () => {
    const sample = path.join(SAMPLES, 'oci-archive-gzip.tar');
    const flattened = await Store.open(path.join(dir, 'a'));
    const { planned } = await flatten(flattened, sample, path.join(dir, 'out'));
    const diffIDs = planned.image.layers.map((l) => l.diffID);

    const imported = await Store.open(path.join(dir, 'b'));
    await importImage(imported, sample);

    let files = 0;
    for (const diffID of diffIDs) {
      const before = await indexOnDisk(flattened, diffID);
      const withContent = before.entries.filter((e) => e.kind === 'file' && e.size > 0);
      files += withContent.length;
      expect(before.unhashed).toBe(true);
      expect(withContent.filter((e) => e.sha256 !== undefined)).toEqual([]);

      // A fresh process's view of the store: nothing cached.
      const reopened = await Store.open(flattened.root);
      expect((await reopened.readLayerIndex(diffID, { fileHashes: false })).entries.filter((e) => e.kind === 'file' && e.size > 0 && e.sha256)).toEqual([]);
      const filled = await reopened.readLayerIndex(diffID);
      expect(filled.unhashed).toBeUndefined();
      expect(hashed(filled)).toEqual(hashed(await imported.readLayerIndex(diffID)));

      // One of them checked by hand against the bytes at its offset in layer.tar.
      const e = filled.entries.find((x) => x.kind === 'file' && x.size > 0)!;
      const bytes = Buffer.alloc(e.size);
      const fh = await fsp.open(flattened.layerTar(diffID), 'r');
      await fh.read(bytes, 0, e.size, e.offset!);
      await fh.close();
      expect(e.sha256).toBe(createHash('sha256').update(bytes).digest('hex'));

      const after = await indexOnDisk(flattened, diffID);
      expect(after.unhashed).toBeUndefined();
      expect(hashed(after)).toEqual(hashed(filled));
    }
    expect(files).toBeGreaterThan(3);
  });

  it('diff, waste and history of images imported by flatten print what they print after an import', async () => {
    const v1 = path.join(SAMPLES, 'docker-archive.tar');
    const v2 = path.join(SAMPLES, 'docker-archive-v2.tar');
    const byFlatten = path.join(dir, 'flattened');
    const byImport = path.join(dir, 'imported');
    for (const [i, img] of [v1, v2].entries()) {
      expect((await runCli(['flatten', '-q', img, path.join(dir, `out${i}`)], { store: byFlatten })).code).toBe(0);
      expect((await runCli(['import', '-q', img], { store: byImport })).code).toBe(0);
    }
    const refs = ['stratum-sample:v1', 'stratum-sample:v2'];
    for (const args of [['diff', ...refs, '--json'], ['diff', ...refs], ['waste', refs[1]], ['history', refs[1], '/etc/app/app.conf']]) {
      const a = await runCli(args, { store: byFlatten });
      const b = await runCli(args, { store: byImport });
      expect(a.stderr, args.join(' ')).toBe(b.stderr);
      expect(a.code, args.join(' ')).toBe(b.code);
      expect(a.out, args.join(' ')).toBe(b.out);
    }
    // The content comparison really ran on filled-in hashes: app.conf changed, with a size change to show it.
    const json = JSON.parse((await runCli(['diff', ...refs, '--json'], { store: byFlatten })).out);
    expect(JSON.stringify(json.files)).toContain('/etc/app/app.conf');
  });

  it('verify of a flattened store passes, and a changed byte still shows through layer.tar\'s hash', async () => {
    const store = await Store.open(path.join(dir, 's'));
    const { planned } = await flatten(store, path.join(SAMPLES, 'oci-archive-gzip.tar'), path.join(dir, 'out'));
    const v = await verifyStore(store);
    expect(v.problems).toEqual([]);
    const diffID = planned.image.layers[0].diffID;
    // verify did not fill the hashes in from the bytes it is checking.
    expect((await indexOnDisk(store, diffID)).unhashed).toBe(true);
    const victim = (await store.readLayerIndex(diffID, { fileHashes: false })).entries.find((e) => e.kind === 'file' && e.size > 0)!;
    const fh = await fsp.open(store.layerTar(diffID), 'r+');
    const byte = Buffer.alloc(1);
    await fh.read(byte, 0, 1, victim.offset!);
    await fh.write(Buffer.from([byte[0] ^ 0xff]), 0, 1, victim.offset!);
    await fh.close();
    const damaged = await verifyStore(await Store.open(store.root));
    expect(damaged.problems.map((p) => `${p.what} ${p.digest}`)).toEqual([`layer ${diffID}`]);
  });
});
