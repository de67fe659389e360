import { it } from 'vitest';
import { fastOracle, compareWithOracle, formatComparison } from '../helpers/overlay-oracle.js';
import { oracleInput } from '../helpers/oracle-images.js';
import { manifestOfDir } from '../helpers/tree-manifest.js';
import { tmpDir } from '../helpers/overlay-oracle.js';

it('busybox timing', async () => {
  let t = Date.now();
  const lap = (w: string) => { console.log(w, Date.now() - t); t = Date.now(); };
  const work = await tmpDir('scratch');
  const input = await oracleInput({ name: 'x', input: '/work/shared/fixtures/public/snyk-docker-plugin--busybox-1.31.1.tar' }, work);
  lap('input');
  const f = await fastOracle(input.layers);
  lap('oracle');
  await manifestOfDir('/tmp/ob');
  lap('manifest');
  const c = await compareWithOracle('/tmp/ob', f);
  lap('compare');
  console.log(formatComparison('x', c));
  await f.cleanup();
}, 300000);
