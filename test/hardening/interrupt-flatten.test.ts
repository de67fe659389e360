// kill -9 at random moments during `stratum flatten` of a medium image (import, then write), at least 20 times.
// After each kill: `stratum verify` passes, OUT is absent or exactly the reference tree (never half-written), and a
// rerun succeeds and cleans up what the killed run left (store temp files by pid liveness, staging directories
// beside OUT likewise). STRATUM_KILL_RUNS, STRATUM_KILL_SEED and STRATUM_KILL_FILES lengthen or replay the loop.
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from '../helpers/archive-builder.js';
import { leftovers, stratum } from '../helpers/jail.js';
import { prng, writeMediumImage } from '../helpers/medium-image.js';
import { diffManifests, manifestOfDir, type ManifestRecord } from '../helpers/tree-manifest.js';

const RUNS = Number(process.env.STRATUM_KILL_RUNS ?? 20);
const SEED = Number(process.env.STRATUM_KILL_SEED ?? Date.now() % 1_000_000);
const FILES = Number(process.env.STRATUM_KILL_FILES ?? 400);

let root: string;
let image: string;
let reference: ManifestRecord[];
let fullMs: number;

beforeAll(async () => {
  root = await tempDir('stratum-kill-flatten-');
  image = (await writeMediumImage(root, FILES)).file;
  // Twice, fresh store each time: the first run pays for cold caches and would stretch the kill window.
  const runs = [];
  for (const n of [1, 2]) {
    const ref = await stratum(['flatten', image, path.join(root, `reference-${n}`), '--store', path.join(root, `ref-store-${n}`), '-q']);
    expect(ref.code, ref.stderr).toBe(0);
    runs.push(ref.ms);
  }
  fullMs = runs[1];
  reference = await manifestOfDir(path.join(root, 'reference-1'));
}, 120_000);
afterAll(() => fs.rm(root, { recursive: true, force: true }));

const exists = (p: string) => fs.lstat(p).then(() => true, () => false);

describe('interruption: flatten', () => {
  it(`kill -9 during flatten ${RUNS} times: verify passes, OUT absent or complete, rerun succeeds and cleans up`, async () => {
    console.log(`interrupt-flatten: seed ${SEED} (STRATUM_KILL_SEED to replay), full run ${fullMs} ms`);
    const rand = prng(SEED);
    const outcomes = { killed: 0, finished: 0, outComplete: 0, stagingLeft: 0, storeTmpLeft: 0 };
    for (let i = 0; i < RUNS; i++) {
      const parent = path.join(root, `run-${i}`);
      const store = path.join(parent, 'store');
      const out = path.join(parent, 'out');
      await fs.mkdir(parent);
      // From before the store exists to after the rename: the whole import and the whole write.
      const delay = Math.floor((0.05 + 0.8 * rand()) * fullMs); // within a full run, so most runs are cut
      const run = await stratum(['flatten', image, out, '--store', store, '-q'], {
        onSpawn: (child) => setTimeout(() => child.kill('SIGKILL'), delay),
      });
      const where = `run ${i} (seed ${SEED}, kill after ${delay} ms)`;
      if (run.signal === 'SIGKILL') outcomes.killed++;
      else {
        expect(run.code, `${where}: ${run.stderr}`).toBe(0);
        outcomes.finished++;
      }

      const verify = await stratum(['verify', '--store', store, '-q']);
      expect(verify.code, `${where}: verify after the kill: ${verify.stdout}${verify.stderr}`).toBe(0);
      if (await exists(out)) {
        outcomes.outComplete++;
        expect(diffManifests(reference, await manifestOfDir(out), { labels: ['reference', 'out'] }), `${where}: OUT exists but is not complete`).toEqual([]);
      }

      // What the kill left for the rerun to clean (counted, so the log shows the cleanup was exercised).
      if ((await leftovers(parent)).length > 0) outcomes.stagingLeft++;
      if ((await fs.readdir(path.join(store, 'tmp')).catch(() => [])).length > 0) outcomes.storeTmpLeft++;

      const rerun = await stratum(['flatten', image, out, '--store', store, '-q', '--force']);
      expect(rerun.code, `${where}: rerun: ${rerun.stderr}`).toBe(0);
      expect(diffManifests(reference, await manifestOfDir(out), { labels: ['reference', 'out'] }), `${where}: OUT after the rerun`).toEqual([]);
      expect(await leftovers(parent), `${where}: staging left beside OUT after the rerun`).toEqual([]);
      expect(await fs.readdir(path.join(store, 'tmp')), `${where}: store temp files left after the rerun`).toEqual([]);
      await fs.rm(parent, { recursive: true, force: true });
    }
    console.log(
      `interrupt-flatten: ${outcomes.killed} killed, ${outcomes.finished} finished before the kill, OUT complete after ${outcomes.outComplete}, ` +
        `staging left by ${outcomes.stagingLeft} and store temp files by ${outcomes.storeTmpLeft} (all removed by the rerun)`,
    );
    expect(outcomes.killed).toBeGreaterThan(RUNS / 2);
  }, 600_000);
});
