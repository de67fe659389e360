// On real images: the fold behind inspect's statistics builds the very tree the planner builds,
// and a path's history reads the sample image's documented changes (samples/README.md).
import { readdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { fold } from '../../src/inspect/fold.js';
import { importImage } from '../../src/ops/import-image.js';
import { layerIndexes } from '../../src/ops/resolve-image.js';
import { Store } from '../../src/store/store.js';
import { planTree } from '../../src/tree/plan.js';
import { tempDir } from '../helpers/archive-builder.js';
import { describe as describeTree } from '../helpers/layers.js';
import { PUBLIC, SAMPLES } from '../helpers/paths.js';
import { pathHistory } from '../../src/inspect/path-history.js';
import { analyzeWaste } from '../../src/inspect/waste.js';

const NOT_IMAGES = /no_manifest|la-croix-wh|layer-wh|invalid|multiplatform|test_bundle|test_link|nodes-fake-multi|attestation/;

let root: string | undefined;
afterAll(() => (root ? rm(root, { recursive: true, force: true }) : undefined));

async function indexesOf(file: string) {
  root ??= await tempDir('stratum-fold-');
  const store = await Store.open(root);
  const { image } = await importImage(store, file);
  return layerIndexes(store, image);
}

describe('fold agrees with the planner', async () => {
  const publicFiles = (await readdir(PUBLIC)).filter((n) => !n.endsWith('.md') && !NOT_IMAGES.test(n)).map((n) => path.join(PUBLIC, n));
  const samples = (await readdir(SAMPLES)).filter((n) => /^(docker|oci)-/.test(n)).map((n) => path.join(SAMPLES, n));
  for (const file of [...publicFiles, ...samples]) {
    it(path.basename(file), async () => {
      const indexes = await indexesOf(file);
      const folded = fold(indexes);
      expect(folded.warnings).toEqual([]);
      expect(describeTree({ root: folded.root, warnings: [] })).toEqual(describeTree(planTree(indexes)));
    });
  }
});

describe('samples/docker-archive-v2.tar', () => {
  const story = async (p: string) => pathHistory(await indexesOf(path.join(SAMPLES, 'docker-archive-v2.tar')), p).map((e) => [e.layer + 1, e.kind]);

  it('tells chmod, chown, edits, deletions and type changes apart', async () => {
    expect(await story('/opt/app/run.sh')).toEqual([[3, 'created'], [4, 'metadata']]);
    expect(await story('/opt/app/config.json')).toEqual([[3, 'created'], [4, 'metadata']]);
    expect(await story('/etc/app/app.conf')).toEqual([[1, 'created'], [2, 'modified'], [4, 'modified']]);
    expect(await story('/opt/app/old-data/1.txt')).toEqual([[3, 'created'], [4, 'deleted']]);
    expect(await story('/tc/file2dir')).toEqual([[1, 'created'], [2, 'type-changed']]);
    expect(await story('/tc/dir2link')).toEqual([[1, 'created'], [2, 'type-changed']]);
    expect(await story('/del/file-to-delete.txt')).toEqual([[1, 'created'], [2, 'deleted']]);
  });

  it('charges the chmod-ed run.sh, stored again by layer 4, as waste of layer 3', async () => {
    const report = analyzeWaste(await indexesOf(path.join(SAMPLES, 'docker-archive-v2.tar')));
    expect(report.items).toContainEqual(expect.objectContaining({ kind: 'overwritten', path: 'opt/app/run.sh', layer: 2, by: 3 }));
    expect(report.items).toContainEqual(expect.objectContaining({ kind: 'deleted', path: 'opt/app/old-data/1.txt', layer: 2, by: 3, how: 'whiteout', at: 'opt/app/old-data' }));
  });
});
