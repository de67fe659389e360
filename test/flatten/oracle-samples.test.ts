// Every image in samples/ flattened by the stratum CLI equals the kernel's overlayfs merge of its layers
// (see test/helpers/overlay-oracle.ts for the oracle and what it cannot judge). As root only; otherwise SKIPPED,
// loudly. STRATUM_ORACLE=script uses ../shared/corpus/tools/overlay-rootfs.sh itself (slower).
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { overlayStatus, warnSkipped } from '../helpers/overlay-oracle.js';
import { checkImage, IMAGE_TIMEOUT, OracleCache, resultTable, type CaseResult, type ImageCase } from '../helpers/oracle-images.js';
import { SAMPLES } from '../helpers/paths.js';

const s = (f: string): string => path.join(SAMPLES, f);

const CASES: ImageCase[] = [
  { name: 'oci-layout-gzip/ (v1)', input: s('oci-layout-gzip'), tag: 'v1' },
  { name: 'oci-layout-mixed/ (gzip+zstd+plain)', input: s('oci-layout-mixed'), tag: 'v1' },
  { name: 'oci-layout-mislabeled/', input: s('oci-layout-mislabeled'), tag: 'v1' },
  { name: 'oci-archive-gzip.tar', input: s('oci-archive-gzip.tar'), tag: 'v1' },
  { name: 'oci-archive-zstd.tar', input: s('oci-archive-zstd.tar'), tag: 'v1' },
  { name: 'oci-archive-v2.tar', input: s('oci-archive-v2.tar'), tag: 'v2' },
  { name: 'docker-archive.tar', input: s('docker-archive.tar') },
  { name: 'docker-archive.tar.gz', input: s('docker-archive.tar.gz') },
  { name: 'docker-archive-v2.tar', input: s('docker-archive-v2.tar') },
  { name: 'multi-image.tar --image :v1', input: s('multi-image.tar'), args: ['--image', 'localhost/stratum-sample:v1'], tag: 'localhost/stratum-sample:v1' },
  { name: 'multi-image.tar --image :v2', input: s('multi-image.tar'), args: ['--image', 'localhost/stratum-sample:v2'], tag: 'localhost/stratum-sample:v2' },
  { name: 'multiarch/ linux/amd64', input: s('multiarch'), args: ['--platform', 'linux/amd64'], tag: 'latest', platform: 'linux/amd64' },
  { name: 'multiarch/ linux/arm64/v8', input: s('multiarch'), args: ['--platform', 'linux/arm64/v8'], tag: 'latest', platform: 'linux/arm64/v8' },
];

const status = await overlayStatus();
if (!status.ok) warnSkipped('stratum flatten of samples/ against overlayfs', status.reason);

describe.skipIf(!status.ok).concurrent('flatten samples/ = overlayfs merge', () => {
  const cache = new OracleCache();
  const rows: CaseResult[] = [];
  afterAll(async () => {
    await cache.close();
    const order = CASES.map((c) => c.name);
    rows.sort((a, b) => order.indexOf(a.name) - order.indexOf(b.name));
    console.log(resultTable('samples/: stratum flatten vs overlayfs', rows));
  });

  for (const c of CASES) {
    it(c.name, async () => {
      const r = await checkImage(c, cache);
      rows.push(r);
      expect(r.status, resultTable(c.name, [r])).toBe('equal');
    }, IMAGE_TIMEOUT);
  }
});
