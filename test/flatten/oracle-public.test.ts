// Every image among ../shared/fixtures/public (archives from other projects' test suites: docker save old and new,
// containerd export, kaniko, jib, bazel, skopeo) flattened by the stratum CLI equals the kernel's overlayfs merge of
// its layers. The two plain layer tars there (not images) are wrapped as one-layer OCI layouts. As root only;
// otherwise SKIPPED, loudly. STRATUM_ORACLE=script uses overlay-rootfs.sh itself (slower).
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ociLayoutOfLayers, overlayStatus, removeTree, tmpDir, warnSkipped } from '../helpers/overlay-oracle.js';
import { checkImage, IMAGE_TIMEOUT, OracleCache, resultTable, stratum, type CaseResult, type ImageCase } from '../helpers/oracle-images.js';
import { PUBLIC } from '../helpers/paths.js';

const p = (f: string): string => path.join(PUBLIC, f);
const status = await overlayStatus();
const present = await fsp.access(PUBLIC).then(() => true, () => false);
if (!status.ok) warnSkipped('stratum flatten of ../shared/fixtures/public against overlayfs', status.reason);
if (!present) warnSkipped('../shared/fixtures/public', `${PUBLIC} is missing`);

// plain layer tars, not images: each becomes the only layer of an OCI layout
const wrapped = present ? await tmpDir('public-layers') : '';
for (const f of present ? ['container-diff--la-croix-wh.tar', 'regclient--layer-wh.tar'] : []) {
  await ociLayoutOfLayers(path.join(wrapped, f), [await fsp.readFile(p(f))], 'layer');
}

const CASES: ImageCase[] = [
  { name: 'container-diff--la-croix-wh.tar (layer only)', input: path.join(wrapped, 'container-diff--la-croix-wh.tar'), tag: 'layer' },
  { name: 'regclient--layer-wh.tar (layer only)', input: path.join(wrapped, 'regclient--layer-wh.tar'), tag: 'layer' },
  { name: 'go-containerregistry--hello-world-v25.tar', input: p('go-containerregistry--hello-world-v25.tar') },
  { name: 'go-containerregistry--overwritten_file.tar', input: p('go-containerregistry--overwritten_file.tar') },
  { name: 'go-containerregistry--whiteout_image.tar', input: p('go-containerregistry--whiteout_image.tar') },
  { name: 'go-containerregistry--whiteout_dir.tar', input: p('go-containerregistry--whiteout_dir.tar') },
  { name: 'go-containerregistry--test_bundle.tar test_image_1', input: p('go-containerregistry--test_bundle.tar'), args: ['--image', 'test_image_1'], tag: '@1' },
  { name: 'go-containerregistry--test_bundle.tar test_image_2', input: p('go-containerregistry--test_bundle.tar'), args: ['--image', 'test_image_2'], tag: '@0' },
  { name: 'go-containerregistry--test_link.tar test_image_1', input: p('go-containerregistry--test_link.tar'), args: ['--image', 'bazel/v1/tarball:test_image_1'], tag: '@0' },
  { name: 'go-containerregistry--test_link.tar test_image_3', input: p('go-containerregistry--test_link.tar'), args: ['--image', 'bazel/v1/tarball:test_image_3'], tag: '@1' },
  { name: 'jib--docker-save.tar', input: p('jib--docker-save.tar') },
  { name: 'jib--jib-image.tar', input: p('jib--jib-image.tar') },
  { name: 'snyk-docker-plugin--alpine.tar', input: p('snyk-docker-plugin--alpine.tar') },
  { name: 'snyk-docker-plugin--busybox-1.31.1.tar', input: p('snyk-docker-plugin--busybox-1.31.1.tar') },
  {
    name: 'snyk-docker-plugin--busybox-single-arch-with-attestation-manifest.tar linux/arm64',
    input: p('snyk-docker-plugin--busybox-single-arch-with-attestation-manifest.tar'),
    args: ['--platform', 'linux/arm64'],
    platform: 'linux/arm64',
  },
  { name: 'snyk-docker-plugin--busybox.amd64.tar', input: p('snyk-docker-plugin--busybox.amd64.tar'), args: ['--platform', 'linux/amd64'] },
  { name: 'snyk-docker-plugin--busybox.armv7.tar linux/arm/v7', input: p('snyk-docker-plugin--busybox.armv7.tar'), args: ['--platform', 'linux/arm/v7'], platform: 'linux/arm/v7' },
  { name: 'snyk-docker-plugin--gemfile.tar', input: p('snyk-docker-plugin--gemfile.tar') },
  { name: 'snyk-docker-plugin--hello-world.tar', input: p('snyk-docker-plugin--hello-world.tar') },
  { name: 'snyk-docker-plugin--kaniko-busybox.tar', input: p('snyk-docker-plugin--kaniko-busybox.tar') },
  { name: 'snyk-docker-plugin--node-removed.tar', input: p('snyk-docker-plugin--node-removed.tar') },
  { name: 'snyk-docker-plugin--nodes-fake-multi.tar', input: p('snyk-docker-plugin--nodes-fake-multi.tar') },
  { name: 'snyk-docker-plugin--yarn-with-lock-file.tar (outer gzip)', input: p('snyk-docker-plugin--yarn-with-lock-file.tar') },
  { name: 'trivy--test_image_tag.oci/', input: p('trivy--test_image_tag.oci'), tag: '0.0.1' },
  { name: 'stereoscope--multiplatform_oci_dir/ linux/amd64', input: p('stereoscope--multiplatform_oci_dir'), args: ['--platform', 'linux/amd64'], platform: 'linux/amd64' },
  { name: 'stereoscope--multiplatform_oci_dir/ linux/arm64', input: p('stereoscope--multiplatform_oci_dir'), args: ['--platform', 'linux/arm64'], platform: 'linux/arm64' },
];

describe.skipIf(!status.ok || !present).concurrent('flatten ../shared/fixtures/public = overlayfs merge', () => {
  const cache = new OracleCache();
  const rows: CaseResult[] = [];
  afterAll(async () => {
    await cache.close();
    if (wrapped) await removeTree(wrapped);
    const order = CASES.map((c) => c.name);
    rows.sort((a, b) => order.indexOf(a.name) - order.indexOf(b.name));
    console.log(resultTable('fixtures/public: stratum flatten vs overlayfs', rows));
  });

  for (const c of CASES) {
    it(c.name, async () => {
      const r = await checkImage(c, cache);
      rows.push(r);
      expect(r.status, resultTable(c.name, [r])).toBe('equal');
    }, IMAGE_TIMEOUT);
  }
});

describe.skipIf(!present)('fixtures/public that are not images', () => {
  it('go-containerregistry--no_manifest.tar (pre-1.10 docker save): one clear line, exit 1, no OUT', async () => {
    const work = await tmpDir('nomanifest');
    try {
      const out = path.join(work, 'out');
      const r = await stratum(['flatten', '--store', path.join(work, 'store'), p('go-containerregistry--no_manifest.tar'), out]);
      expect(r.code).toBe(1);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).toMatch(/manifest\.json/);
      await expect(fsp.access(out)).rejects.toThrow();
    } finally {
      await removeTree(work);
    }
  });
});
