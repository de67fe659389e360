// docker-save archives built in code: the happy shapes and every hostile manifest.json the
// EDGE-CASES table lists for this format (section J).
import { rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FormatError, IntegrityError, LimitError, NotFoundError, UnsupportedError } from '../../src/errors.js';
import { MediaType } from '../../src/spec/media-types.js';
import { openArchive } from '../../src/source/open-archive.js';
import type { OpenOptions } from '../../src/source/types.js';
import { buildImage, dockerArchiveEntries, layerTar, packTar, tempDir, writeTar, zstdStored, type BuiltImage, type TarSpec } from '../helpers/archive-builder.js';

let tmp: string;
let img: BuiltImage;
let n = 0;
beforeAll(async () => {
  tmp = await tempDir();
  img = await buildImage({ layers: [await layerTar({ 'etc/': '', 'etc/hostname': 'box\n' }), await layerTar({ 'bin/sh': '#!' })] });
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

async function open(entries: TarSpec[], opts: Partial<OpenOptions> & { gzip?: boolean } = {}) {
  const file = await writeTar(tmp, `d${n++}.tar`, entries, { gzip: opts.gzip });
  return openArchive(file, { tmpDir: path.join(tmp, 'spool'), ...opts });
}

async function selectError(entries: TarSpec[], opts: Partial<OpenOptions> = {}): Promise<Error> {
  const archive = await open(entries, opts);
  return archive.select({}).then(
    () => {
      throw new Error('select succeeded');
    },
    (e: Error) => e,
  );
}

describe('docker-archive', () => {
  it('reads a legacy save with mixed layer codecs, sniffing each (EDGE #111)', async () => {
    const gz = await buildImage({ layers: [await layerTar({ a: '1' })], compression: 'gzip' });
    const mixed: BuiltImage = { ...img, layers: [gz.layers[0], img.layers[1]], config: (await buildImage({ layers: [await layerTar({ a: '1' }), await layerTar({ 'bin/sh': '#!' })] })).config };
    const archive = await open(dockerArchiveEntries([{ image: mixed, repoTags: ['mixed:1'] }]));
    const image = await archive.select({ image: 'mixed:1' });
    expect(image.layers.map((l) => l.descriptor.mediaType)).toEqual([MediaType.dockerLayerGzip, MediaType.dockerLayer]);
    expect(image.layers.every((l) => !l.verifyDigest)).toBe(true);
    expect(image.layers[1].descriptor.size).toBe(img.layers[1].bytes.length);
  });

  it('reads Docker 25 style blob names and lets the importer verify them', async () => {
    const archive = await open(dockerArchiveEntries([{ image: img, repoTags: ['a:1'] }], { style: 'blobs' }));
    const image = await archive.select({});
    expect(image.layers.map((l) => [l.verifyDigest, l.descriptor.digest])).toEqual(img.layers.map((l) => [true, l.descriptor.digest]));
  });

  it('accepts jib-style lower-case keys and null RepoTags', async () => {
    const manifest = [{ config: `${img.config.descriptor.digest.slice(7)}.json`, repoTags: null, layers: img.layers.map((l) => `${l.descriptor.digest.slice(7)}/layer.tar`) }];
    const image = await (await open(dockerArchiveEntries([{ image: img }], { manifest }))).select({});
    expect(image.names).toEqual([]);
    expect(image.layers).toHaveLength(2);
  });

  it('works when the whole save is piped through gzip (EDGE #117)', async () => {
    const archive = await open(dockerArchiveEntries([{ image: img, repoTags: ['a:1'] }]), { gzip: true });
    expect(archive.format).toBe('docker-archive');
    expect((await archive.select({ image: 'docker.io/library/a:1' })).names).toEqual(['a:1']);
  });

  it('works when the whole save is zstd-compressed, and names xz as unsupported', async () => {
    const plain = await packTar(dockerArchiveEntries([{ image: img, repoTags: ['a:1'] }]));
    const zst = path.join(tmp, `z${n++}.tar.zst`);
    await writeFile(zst, zstdStored(plain));
    const archive = await openArchive(zst, { tmpDir: path.join(tmp, 'spool') });
    expect((await archive.select({})).layers).toHaveLength(2);
    await archive.close();
    const xz = path.join(tmp, `x${n++}.tar.xz`);
    await writeFile(xz, Buffer.concat([Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]), Buffer.alloc(100)]));
    await expect(openArchive(xz, { tmpDir: tmp })).rejects.toThrow(/xz-compressed archive; decompress it first/);
  });

  it('reads the same layer twice when an image lists it twice (EDGE #141)', async () => {
    const twice = await buildImage({ layers: [img.layers[0].bytes, img.layers[1].bytes, img.layers[0].bytes] });
    const image = await (await open(dockerArchiveEntries([{ image: twice }]))).select({});
    expect(image.layers.map((l) => l.diffID)).toEqual([twice.diffIDs[0], twice.diffIDs[1], twice.diffIDs[0]]);
  });

  it('never reads a host file named by ../ or an absolute path (EDGE #120)', async () => {
    const secret = path.join(tmp, 'secret.tar');
    await writeFile(secret, await layerTar({ stolen: 'yes' }));
    for (const bad of ['../../etc/passwd', secret, `..${secret}`]) {
      const entries = dockerArchiveEntries([{ image: img }], { manifest: [{ Config: `${img.config.descriptor.digest.slice(7)}.json`, RepoTags: [], Layers: [bad, bad] }] });
      const err = await selectError(entries);
      expect(err, bad).toBeInstanceOf(NotFoundError);
      expect(err.message).toContain(`(${bad}) not found in the archive`);
    }
    const cfgErr = await selectError(dockerArchiveEntries([{ image: img }], { manifest: [{ Config: '../../etc/passwd', Layers: [] }] }));
    expect(cfgErr).toBeInstanceOf(NotFoundError);
  });

  it('refuses a null manifest.json and lists no images for [] (EDGE #121)', async () => {
    const err = await (await open(dockerArchiveEntries([], { manifest: 'null' }))).candidates().catch((e: Error) => e);
    expect(err).toBeInstanceOf(FormatError);
    expect((err as Error).message).toMatch(/manifest\.json: expected a list of images, found null/);
    await expect((await open(dockerArchiveEntries([], { manifest: [] }))).select({})).rejects.toThrow(/holds no images/);
  });

  it('refuses manifest.json and configs that are not JSON (EDGE #122)', async () => {
    await expect((await open(dockerArchiveEntries([], { manifest: '[{"Config": ' }))).candidates()).rejects.toThrow(/manifest\.json: invalid JSON/);
    const entries = dockerArchiveEntries([{ image: img }]).map((e) => (e.name.endsWith('.json') && e.name !== 'manifest.json' ? { ...e, content: 'not json' } : e));
    const err = await selectError(entries);
    expect(err).toBeInstanceOf(FormatError);
    expect(err.message).toMatch(/[0-9a-f]{64}\.json: invalid JSON/);
  });

  it('refuses a layer count that disagrees with diff_ids, both ways (EDGE #116)', async () => {
    const item = (layers: string[]) => [{ Config: `${img.config.descriptor.digest.slice(7)}.json`, RepoTags: [], Layers: layers }];
    const paths = img.layers.map((l) => `${l.descriptor.digest.slice(7)}/layer.tar`);
    for (const layers of [paths.slice(0, 1), [...paths, paths[0]]]) {
      const err = await selectError(dockerArchiveEntries([{ image: img }], { manifest: item(layers) }));
      expect(err).toBeInstanceOf(IntegrityError);
      expect(err.message).toMatch(new RegExp(`${layers.length} layers but the config lists 2 diff_ids`));
    }
  });

  it('refuses rootfs.type other than "layers" (EDGE #134)', async () => {
    const tarsum = await buildImage({ layers: [await layerTar({ a: '1' })], config: { rootfs: { type: 'tarsum', diff_ids: [] } } });
    const err = await selectError(dockerArchiveEntries([{ image: tarsum }]));
    expect(err).toBeInstanceOf(FormatError);
    expect(err.message).toMatch(/rootfs\.type is "tarsum", expected "layers"/);
  });

  it('refuses JSON over the cap before reading it (EDGE #140)', async () => {
    const big = dockerArchiveEntries([{ image: img, repoTags: Array.from({ length: 5000 }, (_, i) => `tag:${i}`) }]);
    const err = await (await open(big, { limits: { maxJsonBytes: 4096 } })).candidates().catch((e: Error) => e);
    expect(err).toBeInstanceOf(LimitError);
    expect((err as Error).message).toMatch(/manifest\.json is \d+ bytes, over the 4096-byte limit/);
    const fat = await buildImage({ layers: [await layerTar({ a: '1' })], config: { comment: 'x'.repeat(10000) } });
    const cfgErr = await selectError(dockerArchiveEntries([{ image: fat }]), { limits: { maxJsonBytes: 4096 } });
    expect(cfgErr).toBeInstanceOf(LimitError);
    expect(cfgErr.message).toMatch(/[0-9a-f]{64}\.json is 10\d{3} bytes, over the 4096-byte limit/);
  });

  it('reports a layer.tar symlink cycle (EDGE #119)', async () => {
    const entries: TarSpec[] = [
      ...dockerArchiveEntries([{ image: img }], {
        manifest: [{ Config: `${img.config.descriptor.digest.slice(7)}.json`, RepoTags: [], Layers: ['a/layer.tar', 'b/layer.tar'] }],
      }),
      { name: 'a/layer.tar', type: 'symlink', linkname: '../b/layer.tar' },
      { name: 'b/layer.tar', type: 'symlink', linkname: '../a/layer.tar' },
    ];
    const err = await selectError(entries);
    expect(err).toBeInstanceOf(FormatError);
    expect(err.message).toMatch(/link loop resolving a\/layer\.tar/);
  });

  it('names a missing foreign layer and its urls instead of downloading it (EDGE #130)', async () => {
    const diffID = img.diffIDs[1];
    const manifest = [
      {
        Config: `${img.config.descriptor.digest.slice(7)}.json`,
        RepoTags: [],
        Layers: [`${img.layers[0].descriptor.digest.slice(7)}/layer.tar`, 'foreign/layer.tar'],
        LayerSources: { [diffID]: { mediaType: MediaType.dockerForeignLayerGzip, size: 10, digest: `sha256:${'f'.repeat(64)}`, urls: ['https://example.invalid/x'] } },
      },
    ];
    const err = await selectError(dockerArchiveEntries([{ image: img }], { manifest }));
    expect(err).toBeInstanceOf(UnsupportedError);
    expect(err.message).toMatch(/foreign layer sha256:f{64} \(urls: https:\/\/example\.invalid\/x\) not in the archive; stratum never downloads/);
  });

  it('lists a broken image as unavailable without hiding the others', async () => {
    const good = dockerArchiveEntries([{ image: img, repoTags: ['good:1'] }]);
    const manifest = [
      { Config: `${img.config.descriptor.digest.slice(7)}.json`, RepoTags: ['good:1'], Layers: img.layers.map((l) => `${l.descriptor.digest.slice(7)}/layer.tar`) },
      { Config: 'missing.json', RepoTags: ['bad:1'], Layers: [] },
    ];
    const archive = await open([...good.filter((e) => e.name !== 'manifest.json'), { name: 'manifest.json', content: JSON.stringify(manifest) }]);
    const [, bad] = await archive.candidates();
    expect(bad.unavailable).toBe('missing.json not found in the archive');
    await expect(archive.select({})).rejects.toThrow(/holds 2 images; pick one with --image: \[0\] good:1 \(linux\/amd64 sha256:[0-9a-f]{12}…\), \[1\] bad:1 \(unknown platform; missing\.json not found in the archive\)$/);
    expect((await archive.select({ image: 'good:1' })).names).toEqual(['good:1']);
    await expect(archive.select({ image: 'bad:1' })).rejects.toThrow(NotFoundError);
  });
});
