import { it } from 'vitest';
import { scriptOracle, fastOracle, compareWithOracle, formatComparison, layoutLayerFiles } from '../helpers/overlay-oracle.js';

it('fast vs script on samples', async () => {
  for (const [layout, tag, plat] of [['samples/oci-layout-gzip', 'v1'], ['samples/oci-layout-mixed', 'v1'], ['samples/multiarch', 'latest', 'linux/amd64']]) {
    let t = Date.now();
    const s = await scriptOracle(layout!, tag!, { platform: plat });
    console.log('script', Date.now() - t); t = Date.now();
    const f = await fastOracle(await layoutLayerFiles(layout!, tag!, plat));
    console.log('fast', Date.now() - t);
    console.log(f.notes, [...s.implicitDirs], [...f.implicitDirs], s.touchedDirs);
    const c = await compareWithOracle(f.dir, s);
    console.log(formatComparison(`fast vs script ${layout}`, c));
    await s.cleanup(); await f.cleanup();
  }
});
