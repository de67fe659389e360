// Every public fixture archive opens through openArchive, is detected by content, and selects the
// image its producer meant, with layers whose stored bytes hash to what the manifest and config say.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDecompressor } from '../../src/compress/decompress.js';
import { sniffCompression } from '../../src/compress/sniff.js';
import { FormatError, UsageError } from '../../src/errors.js';
import { digestOf } from '../../src/spec/digest.js';
import { openArchive } from '../../src/source/open-archive.js';
import type { ImageSelector, SourceFormat, SourceImage } from '../../src/source/types.js';
import { tempDir } from '../helpers/archive-builder.js';
import { PITFALLS, PUBLIC } from '../helpers/paths.js';

interface Expected {
  format: SourceFormat;
  names: string[];
  layers: number;
  candidates?: number;
  selector?: ImageSelector;
  arch?: string;
}

const IMAGES: Record<string, Expected> = {
  'go-containerregistry--hello-world-v25.tar': { format: 'docker-oci-archive', names: [], layers: 1 },
  'go-containerregistry--whiteout_image.tar': { format: 'docker-archive', names: ['bazel/pkg/v1/mutate:whiteout_image'], layers: 3 },
  'go-containerregistry--whiteout_dir.tar': { format: 'docker-archive', names: ['localhost:5000/whiteout:latest'], layers: 4 },
  'go-containerregistry--overwritten_file.tar': { format: 'docker-archive', names: ['bazel/pkg/v1/mutate:overwritten_file'], layers: 3 },
  'go-containerregistry--test_bundle.tar': { format: 'docker-archive', names: ['test_image_1'], layers: 1, candidates: 2, selector: { image: 'test_image_1' } },
  'go-containerregistry--test_link.tar': {
    format: 'docker-archive',
    names: ['bazel/v1/tarball:test_image_3'],
    layers: 2,
    candidates: 2,
    selector: { image: 'bazel/v1/tarball:test_image_3' },
  },
  'snyk-docker-plugin--hello-world.tar': {
    format: 'docker-oci-archive',
    names: ['latest', 'docker.io/library/hello-world:latest', 'hello-world:latest'],
    layers: 1,
  },
  'snyk-docker-plugin--alpine.tar': { format: 'docker-oci-archive', names: ['3.14', 'docker.io/library/alpine:3.14', 'alpine:3.14'], layers: 1 },
  'snyk-docker-plugin--busybox.amd64.tar': {
    format: 'docker-oci-archive',
    names: ['latest', 'docker.io/library/busybox:latest', 'busybox:latest'],
    layers: 1,
    candidates: 20,
    arch: 'amd64',
  },
  'snyk-docker-plugin--busybox-single-arch-with-attestation-manifest.tar': {
    format: 'docker-oci-archive',
    names: ['v3', 'docker.io/foo/bar:v3', 'foo/bar:v3'],
    layers: 1,
    candidates: 2,
    arch: 'arm64',
  },
  'snyk-docker-plugin--busybox.armv7.tar': { format: 'docker-oci-archive', names: ['latest', 'docker.io/library/busybox:latest', 'busybox:latest'], layers: 1, arch: 'arm' },
  'snyk-docker-plugin--nodes-fake-multi.tar': { format: 'docker-archive', names: [], layers: 2 },
  'snyk-docker-plugin--node-removed.tar': { format: 'oci-archive', names: [], layers: 3 },
  'snyk-docker-plugin--gemfile.tar': { format: 'docker-archive', names: [], layers: 1 },
  'snyk-docker-plugin--kaniko-busybox.tar': { format: 'docker-archive', names: ['kaniko-busybox:latest'], layers: 1 },
  'snyk-docker-plugin--yarn-with-lock-file.tar': { format: 'docker-oci-archive', names: [], layers: 4 },
  'snyk-docker-plugin--busybox-1.31.1.tar': { format: 'oci-archive', names: [], layers: 1 },
  'trivy--test_image_tag.oci': { format: 'oci-layout', names: ['0.0.1'], layers: 1 },
  'stereoscope--multiplatform_oci_dir': {
    format: 'oci-layout',
    names: ['latest', 'docker.io/library/multi-platform:latest'],
    layers: 1,
    candidates: 2,
    selector: { platform: 'linux/arm64' },
    arch: 'arm64',
  },
  'jib--jib-image.tar': { format: 'docker-archive', names: ['extraction.test:latest'], layers: 2 },
  'jib--docker-save.tar': { format: 'docker-archive', names: ['extraction.test:latest'], layers: 2 },
};

const NOT_IMAGES: Record<string, RegExp> = {
  'go-containerregistry--no_manifest.tar': /pre-1\.10 docker save \(no manifest\.json\) is not supported/,
  'regclient--layer-wh.tar': /regclient--layer-wh\.tar: not an image archive \(no manifest\.json or oci-layout\/index\.json\)/,
  'container-diff--la-croix-wh.tar': /container-diff--la-croix-wh\.tar: not an image archive/,
};

let tmp: string;
beforeAll(async () => {
  tmp = await tempDir();
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

function sha256Of(stream: NodeJS.ReadableStream & AsyncIterable<Buffer>): Promise<{ digest: string; size: number }> {
  const h = createHash('sha256');
  let size = 0;
  return pipeline(
    stream,
    new Writable({
      write(chunk: Buffer, _enc, cb) {
        h.update(chunk);
        size += chunk.length;
        cb();
      },
    }),
  ).then(() => ({ digest: `sha256:${h.digest('hex')}`, size }));
}

/** The stored bytes match the descriptor (when it claims a digest) and decompress to the diffID. */
async function checkLayers(image: SourceImage): Promise<void> {
  for (const layer of image.layers) {
    const stored = await sha256Of(await layer.open());
    expect(stored.size).toBe(layer.descriptor.size);
    if (layer.verifyDigest) expect(stored.digest).toBe(layer.descriptor.digest);
    const head = await (await layer.open()).toArray().then((c: Buffer[]) => Buffer.concat(c).subarray(0, 4));
    const plain = await sha256Of((await layer.open()).pipe(createDecompressor(sniffCompression(head), 'test')));
    expect(plain.digest).toBe(layer.diffID);
  }
}

describe('public fixtures', () => {
  it('covers every fixture in the folder', async () => {
    const all = (await readdir(PUBLIC)).filter((f) => f !== 'README.md').sort();
    expect(all).toEqual([...Object.keys(IMAGES), ...Object.keys(NOT_IMAGES)].sort());
  });

  for (const [file, want] of Object.entries(IMAGES)) {
    it(`${file}: ${want.format}, ${want.layers} layer(s)`, async () => {
      const archive = await openArchive(path.join(PUBLIC, file), { tmpDir: tmp });
      try {
        expect(archive.format).toBe(want.format);
        expect(await archive.candidates()).toHaveLength(want.candidates ?? 1);
        const image = await archive.select(want.selector ?? {});
        expect(image.format).toBe(want.format);
        expect(image.names).toEqual(want.names);
        expect(image.layers).toHaveLength(want.layers);
        expect(image.config.rootfs.diff_ids).toHaveLength(want.layers);
        expect(image.configDigest).toBe(digestOf(image.configRaw));
        if (image.manifestRaw) expect(digestOf(image.manifestRaw)).toBe(image.manifestDigest);
        if (want.arch) expect(image.platform?.architecture).toBe(want.arch);
        await checkLayers(image);
      } finally {
        await archive.close();
      }
    });
  }

  for (const [file, message] of Object.entries(NOT_IMAGES)) {
    it(`${file}: refused with a clear message`, async () => {
      const err = await openArchive(path.join(PUBLIC, file), { tmpDir: tmp }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(FormatError);
      expect((err as Error).message).toMatch(message);
    });
  }
});

describe('multi-image archives', () => {
  it.each(['go-containerregistry--test_bundle.tar', 'go-containerregistry--test_link.tar'])('%s needs --image and lists the candidates', async (file) => {
    const archive = await openArchive(path.join(PUBLIC, file), { tmpDir: tmp });
    const err = await archive.select({}).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UsageError);
    expect((err as Error).message).toMatch(/holds 2 images; pick one with --image: \[0\] \S+ \(linux\/amd64 sha256:[0-9a-f]{12}…\), \[1\] /);
    expect((err as Error).message).not.toContain('\n');
  });

  it('selects by position, tag, config digest and digest prefix', async () => {
    const archive = await openArchive(path.join(PUBLIC, 'go-containerregistry--test_bundle.tar'), { tmpDir: tmp });
    const [first, second] = await archive.candidates();
    expect((await archive.select({ image: '1' })).names).toEqual(['test_image_1']);
    expect((await archive.select({ image: 'test_image_2' })).configDigest).toBe(first.configDigest);
    expect((await archive.select({ image: second.configDigest })).names).toEqual(['test_image_1']);
    expect((await archive.select({ image: second.configDigest!.slice(7, 13) })).names).toEqual(['test_image_1']);
    expect((await archive.select({ image: `sha256:${first.configDigest!.slice(7, 12)}` })).names).toEqual(['test_image_2']);
  });

  it('follows a layer.tar symlink to the other image layer (EDGE #118)', async () => {
    const archive = await openArchive(path.join(PUBLIC, 'go-containerregistry--test_link.tar'), { tmpDir: tmp });
    const one = await archive.select({ image: 'bazel/v1/tarball:test_image_1' });
    const three = await archive.select({ image: 'test_image_3' });
    expect(three.layers[0].diffID).toBe(one.layers[0].diffID);
    await checkLayers(three);
  });
});

describe('platforms and pseudo-images', () => {
  it('picks each platform of a multi-platform layout', async () => {
    const archive = await openArchive(path.join(PUBLIC, 'stereoscope--multiplatform_oci_dir'), { tmpDir: tmp });
    expect((await archive.select({ platform: 'linux/amd64' })).config.architecture).toBe('amd64');
    expect((await archive.select({ platform: 'linux/arm64/v8', image: 'latest' })).config.architecture).toBe('arm64');
    await expect(archive.select({ platform: 'linux/s390x' })).rejects.toThrow(/no image for linux\/s390x; candidates: \[0\] latest/);
  });

  it('lists the attestation but never picks it', async () => {
    const archive = await openArchive(path.join(PUBLIC, 'snyk-docker-plugin--busybox-single-arch-with-attestation-manifest.tar'), { tmpDir: tmp });
    const candidates = await archive.candidates();
    expect(candidates[1].unavailable).toBe('attestation manifest');
    expect((await archive.select({ platform: 'linux/arm64' })).platform?.architecture).toBe('arm64');
    await expect(archive.select({ platform: 'linux/amd64' })).rejects.toThrow(/no image for linux\/amd64/);
  });

  it('marks platforms whose blobs were not exported unavailable, and errors only when one is chosen (EDGE #129)', async () => {
    const archive = await openArchive(path.join(PUBLIC, 'snyk-docker-plugin--busybox.amd64.tar'), { tmpDir: tmp });
    const candidates = await archive.candidates();
    expect(candidates.filter((c) => !c.unavailable)).toHaveLength(1);
    expect((await archive.select({ platform: 'linux/amd64' })).platform?.architecture).toBe('amd64');
    await expect(archive.select({ platform: 'linux/arm64' })).rejects.toThrow(/manifest blob sha256:[0-9a-f]{64} not in the archive/);
  });
});

describe('inputs', () => {
  it('opens containers/image almostempty.tar (a docker save of an empty layer)', async () => {
    const archive = await openArchive(path.join(PITFALLS, 'almostempty.tar'), { tmpDir: tmp });
    expect(archive.format).toBe('docker-archive');
    const image = await archive.select({ image: 'emptyimage' });
    expect(image.names).toEqual(['emptyimage:latest']);
    await checkLayers(image);
  });

  it('reads an archive from stdin', async () => {
    const archive = await openArchive('-', { tmpDir: tmp, stdin: createReadStream(path.join(PUBLIC, 'jib--docker-save.tar')) });
    expect(archive.label).toBe('stdin');
    const image = await archive.select({ image: 'extraction.test:latest' });
    await checkLayers(image);
    await archive.close();
  });

  it('reads a gzip-wrapped archive from stdin and removes the spool on close', async () => {
    const spoolDir = path.join(tmp, 'spool-stdin');
    const archive = await openArchive('-', { tmpDir: spoolDir, stdin: createReadStream(path.join(PUBLIC, 'snyk-docker-plugin--yarn-with-lock-file.tar')) });
    expect(archive.format).toBe('docker-oci-archive');
    expect(await readdir(spoolDir)).toHaveLength(1);
    await checkLayers(await archive.select({}));
    await archive.close();
    expect(await readdir(spoolDir)).toEqual([]);
  });

  it('decompresses a gzip-wrapped file once into the temp area', async () => {
    const spoolDir = path.join(tmp, 'spool-file');
    const archive = await openArchive(path.join(PUBLIC, 'snyk-docker-plugin--yarn-with-lock-file.tar'), { tmpDir: spoolDir });
    expect(archive.label).toBe(path.join(PUBLIC, 'snyk-docker-plugin--yarn-with-lock-file.tar'));
    expect(await readdir(spoolDir)).toHaveLength(1);
    await archive.close();
    expect(await readdir(spoolDir)).toEqual([]);
  });
});
