// kill -9 at random moments during `stratum import` of a medium image, at least 20 times, each into a fresh store.
// After each kill the store verifies (layers and blobs appear only by rename, whole), a rerun succeeds, and the
// rerun's start removes the dead run's temp files (named with its pid) — nothing is left in the store's tmp/.
// A compressed whole-archive input is used on every other run, so the spool of a decompressed archive is killed too.
// STRATUM_KILL_RUNS, STRATUM_KILL_SEED and STRATUM_KILL_FILES lengthen or replay the loop.
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from '../helpers/archive-builder.js';
import { stratum } from '../helpers/jail.js';
import { prng, writeMediumImage } from '../helpers/medium-image.js';

const RUNS = Number(process.env.STRATUM_KILL_RUNS ?? 20);
const SEED = Number(process.env.STRATUM_KILL_SEED ?? Date.now() % 1_000_000);
const FILES = Number(process.env.STRATUM_KILL_FILES ?? 1000);

let root: string;
let inputs: Array<{ file: string; fullMs: number }>;

beforeAll(async () => {
  root = await tempDir('stratum-kill-import-');
  const plain = (await writeMediumImage(root, FILES)).file;
  const gz = path.join(root, 'medium.tar.gz');
  await fs.writeFile(gz, gzipSync(await fs.readFile(plain), { level: 1 }));
  inputs = [];
  for (const file of [plain, gz]) {
    const r = await stratum(['import', file, '--store', path.join(root, `ref-store-${inputs.length}`), '-q']);
    expect(r.code, r.stderr).toBe(0);
    inputs.push({ file, fullMs: r.ms });
  }
}, 120_000);
afterAll(() => fs.rm(root, { recursive: true, force: true }));

describe('interruption: import', () => {
  it(`kill -9 during import ${RUNS} times: verify passes, rerun succeeds, temp files cleaned`, async () => {
    console.log(`interrupt-import: seed ${SEED} (STRATUM_KILL_SEED to replay), full runs ${inputs.map((i) => i.fullMs).join('/')} ms`);
    const rand = prng(SEED);
    let killed = 0;
    for (let i = 0; i < RUNS; i++) {
      const { file, fullMs } = inputs[i % 2];
      const store = path.join(root, `store-${i}`);
      // Kill within the first 85% of a full run's time: a run that happens to be faster than the reference one
      // (warm page cache) must still be caught mid-way often enough to assert on.
      const delay = Math.floor((0.05 + 0.8 * rand()) * fullMs);
      const run = await stratum(['import', file, '--store', store, '-q'], { onSpawn: (child) => setTimeout(() => child.kill('SIGKILL'), delay) });
      const where = `run ${i} (${path.basename(file)}, seed ${SEED}, kill after ${delay} ms)`;
      if (run.signal === 'SIGKILL') killed++;
      else expect(run.code, `${where}: ${run.stderr}`).toBe(0);

      const verify = await stratum(['verify', '--store', store, '-q']);
      expect(verify.code, `${where}: verify after the kill: ${verify.stdout}${verify.stderr}`).toBe(0);
      const rerun = await stratum(['import', file, '--store', store, '-q']);
      expect(rerun.code, `${where}: rerun: ${rerun.stderr}`).toBe(0);
      expect(rerun.stdout, where).toMatch(/^medium:latest\t/);
      expect(await fs.readdir(path.join(store, 'tmp')), `${where}: temp files the rerun should have removed`).toEqual([]);
      await fs.rm(store, { recursive: true, force: true });
    }
    console.log(`interrupt-import: ${killed} of ${RUNS} runs killed before they finished`);
    expect(killed).toBeGreaterThan(RUNS / 2);
  }, 600_000);
});
