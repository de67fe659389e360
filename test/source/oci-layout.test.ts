// OCI layouts built in code, as tars and as directories: selection by the names and digests they
// record, and the hostile documents of EDGE-CASES section J.
import { mkdir, rm, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FormatError, IntegrityError, LimitError, NotFoundError, UnsupportedError } from '../../src/errors.js';
import { MediaType } from '../../src/spec/media-types.js';
import { openArchive } from '../../src/source/open-archive.js';
import type { ImageArchive, OpenOptions } from '../../src/source/types.js';
import {
  blob,
  buildImage,
  dockerArchiveEntries,
  hexOf,
  layerTar,
  ociIndex,
  ociLayoutEntries,
  ociManifest,
  tempDir,
  withRefName,
  writeEntries,
  writeTar,
  type BuiltImage,
  type LayoutSpec,
  type TarSpec,
} from '../helpers/archive-builder.js';

let tmp: string;
let amd: BuiltImage;
let arm: BuiltImage;
let n = 0;
beforeAll(async () => {
  tmp = await tempDir();
  amd = await buildImage({ layers: [await layerTar({ 'etc/': '', 'etc/arch': 'amd64' })], compression: 'gzip' });
  arm = await buildImage({ layers: [await layerTar({ 'etc/': '', 'etc/arch': 'arm64' })], platform: { os: 'linux', architecture: 'arm64' } });
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

async function openTar(entries: TarSpec[], opts: Partial<OpenOptions> = {}): Promise<ImageArchive> {
  return openArchive(await writeTar(tmp, `o${n++}.tar`, entries), { tmpDir: path.join(tmp, 'spool'), ...opts });
}

async function openDir(entries: TarSpec[]): Promise<ImageArchive> {
  const dir = path.join(tmp, `layout${n++}`);
  await writeEntries(dir, entries);
  return openArchive(dir, { tmpDir: path.join(tmp, 'spool') });
}

const layout = (spec: Partial<LayoutSpec> & Pick<LayoutSpec, 'manifests'>): TarSpec[] => ociLayoutEntries({ blobs: [...amd.blobs, ...arm.blobs], ...spec });

/** A two-platform index named `latest`, as buildx/containerd export it. */
function multiPlatform(): { entries: TarSpec[]; indexDigest: string } {
  const platforms = blob(
    ociIndex([
      { ...amd.manifest.descriptor, platform: { os: 'linux', architecture: 'amd64' } },
      { ...arm.manifest.descriptor, platform: { os: 'linux', architecture: 'arm64' } },
    ]),
    MediaType.ociIndex,
  );
  const entries = ociLayoutEntries({ manifests: [withRefName(platforms.descriptor, 'latest', 'docker.io/library/multi:latest')], blobs: [...amd.blobs, ...arm.blobs, platforms] });
  return { entries, indexDigest: platforms.descriptor.digest };
}

describe.each([
  ['oci-archive', openTar],
  ['oci-layout', openDir],
] as const)('%s', (format, open) => {
  it('selects by ref.name, full name, manifest digest, index digest and platform', async () => {
    const { entries, indexDigest } = multiPlatform();
    const archive = await open(entries);
    expect(archive.format).toBe(format);
    expect(await archive.candidates()).toMatchObject([
      { position: 0, names: ['latest', 'docker.io/library/multi:latest'], manifestDigest: amd.manifest.descriptor.digest, configDigest: amd.config.descriptor.digest },
      { position: 1, platform: { os: 'linux', architecture: 'arm64' } },
    ]);
    expect((await archive.select({ image: 'multi', platform: 'linux/arm64' })).configDigest).toBe(arm.config.descriptor.digest);
    expect((await archive.select({ image: 'latest', platform: 'linux/amd64' })).configDigest).toBe(amd.config.descriptor.digest);
    expect((await archive.select({ image: arm.manifest.descriptor.digest })).configDigest).toBe(arm.config.descriptor.digest);
    expect((await archive.select({ image: hexOf(indexDigest as never).slice(0, 10), platform: 'linux/arm64' })).platform).toEqual({ os: 'linux', architecture: 'arm64' });
    const image = await archive.select({ platform: 'linux/amd64' });
    expect(image.manifestRaw?.equals(amd.manifest.bytes)).toBe(true);
    expect(image.layers[0]).toMatchObject({ verifyDigest: true, diffID: amd.diffIDs[0], descriptor: amd.layers[0].descriptor });
    expect(Buffer.concat(await (await image.layers[0].open()).toArray()).equals(amd.layers[0].bytes)).toBe(true);
  });

  it('refuses an imageLayoutVersion other than 1.0.0 (EDGE #125)', async () => {
    const err = await open(layout({ manifests: [amd.manifest.descriptor], layout: { imageLayoutVersion: '2.0.0' } })).catch((e: Error) => e);
    expect(err).toBeInstanceOf(FormatError);
    expect((err as Error).message).toMatch(/oci-layout imageLayoutVersion is "2\.0\.0", expected "1\.0\.0"/);
  });

  it('refuses a layout without index.json (EDGE #126)', async () => {
    const entries = layout({ manifests: [] }).filter((e) => e.name !== 'index.json');
    await expect(open(entries)).rejects.toThrow(/OCI layout without index\.json/);
  });

  it('skips index entries of unknown media types (EDGE #127)', async () => {
    const xml = { mediaType: 'application/xml', digest: amd.config.descriptor.digest, size: 1 };
    const archive = await open(layout({ manifests: [xml, amd.manifest.descriptor] }));
    expect(await archive.candidates()).toHaveLength(1);
  });

  it('refuses a malformed digest before building any path (EDGE #131)', async () => {
    for (const digest of ['sha256:../../etc/passwd', `sha256:${'A'.repeat(64)}`, `sha256:${'a'.repeat(63)}`]) {
      const bad = { ...amd.manifest.descriptor, digest };
      const err = await (await open(layout({ manifests: [bad as never] }))).candidates().catch((e: Error) => e);
      expect(err, digest).toBeInstanceOf(FormatError);
      expect((err as Error).message).toMatch(/malformed sha256 digest|malformed digest/);
    }
    const manifest = blob(ociManifest(amd.config.descriptor, [{ ...amd.layers[0].descriptor, digest: 'sha256:../../../etc/passwd' as never }]), MediaType.ociManifest);
    const archive = await open(layout({ manifests: [manifest.descriptor], blobs: [...amd.blobs, manifest] }));
    await expect(archive.select({})).rejects.toThrow(/layers\[0\]: digest: malformed digest "sha256:\.\.\/\.\.\/\.\.\/etc\/passwd"/);
  });

  it('refuses a document that is both index and manifest (EDGE #132)', async () => {
    const doc = blob({ ...(ociManifest(amd.config.descriptor, amd.layers.map((l) => l.descriptor)) as object), manifests: [] }, MediaType.ociManifest);
    const archive = await open(layout({ manifests: [doc.descriptor], blobs: [...amd.blobs, doc] }));
    await expect(archive.select({})).rejects.toThrow(/ambiguous document with both manifests and config\/layers/);
  });

  it('refuses a document whose mediaType disagrees with its descriptor (EDGE #133)', async () => {
    const doc = blob(ociManifest(amd.config.descriptor, amd.layers.map((l) => l.descriptor), { mediaType: MediaType.dockerManifest }), MediaType.ociManifest);
    const archive = await open(layout({ manifests: [doc.descriptor], blobs: [...amd.blobs, doc] }));
    await expect(archive.select({})).rejects.toThrow(/the descriptor says application\/vnd\.oci\.image\.manifest\.v1\+json but the document says application\/vnd\.docker/);
    const asIndex = { ...amd.manifest.descriptor, mediaType: MediaType.ociIndex };
    await expect((await open(layout({ manifests: [asIndex] }))).select({})).rejects.toThrow(/referenced as an index but the document is a manifest/);
  });

  it('treats an artifact with an empty config as nothing to unpack (EDGE #136)', async () => {
    const empty = { mediaType: MediaType.ociEmpty, digest: 'sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a', size: 2, data: 'e30=' };
    const artifact = blob(ociManifest(empty as never, [], { artifactType: 'application/vnd.example+type' }), MediaType.ociManifest);
    const archive = await open(layout({ manifests: [artifact.descriptor, amd.manifest.descriptor], blobs: [...amd.blobs, artifact] }));
    const [first] = await archive.candidates();
    expect(first.unavailable).toMatch(/an artifact \(config type application\/vnd\.oci\.empty\.v1\+json\), nothing to unpack/);
    expect((await archive.select({})).configDigest).toBe(amd.config.descriptor.digest);
    const alone = await open(layout({ manifests: [artifact.descriptor], blobs: [artifact] }));
    await expect(alone.select({})).rejects.toThrow(UnsupportedError);
  });

  it('never picks a referrer that containerd appended to index.json', async () => {
    const referrer = blob(ociManifest(amd.config.descriptor, amd.layers.map((l) => l.descriptor), { subject: arm.manifest.descriptor }), MediaType.ociManifest);
    const archive = await open(layout({ manifests: [referrer.descriptor, arm.manifest.descriptor], blobs: [...amd.blobs, ...arm.blobs, referrer] }));
    expect((await archive.candidates())[0].unavailable).toMatch(/a referrer of sha256:[0-9a-f]{64}/);
    expect((await archive.select({})).configDigest).toBe(arm.config.descriptor.digest);
  });

  it('refuses an index.json that is not JSON (EDGE #122)', async () => {
    const archive = await open(layout({ manifests: [], index: '{"schemaVersion": 2, "manifests": [' }));
    await expect(archive.candidates()).rejects.toThrow(/index\.json: invalid JSON/);
  });

  it('lists one image saved under two tags once, by either tag (EDGE #138)', async () => {
    const archive = await open(layout({ manifests: [withRefName(amd.manifest.descriptor, '1'), withRefName(amd.manifest.descriptor, '2')] }));
    expect((await archive.candidates()).map((c) => c.names)).toEqual([['1', '2']]);
    expect((await archive.select({ image: '2' })).names).toEqual(['1', '2']);
  });

  it('matches full references in ref.name (EDGE #139)', async () => {
    const archive = await open(layout({ manifests: [withRefName(amd.manifest.descriptor, 'docker.io/library/alpine:latest'), withRefName(arm.manifest.descriptor, 'quay.io/x/y:2')] }));
    expect((await archive.select({ image: 'alpine' })).configDigest).toBe(amd.config.descriptor.digest);
    expect((await archive.select({ image: 'alpine:latest' })).configDigest).toBe(amd.config.descriptor.digest);
    expect((await archive.select({ image: 'quay.io/x/y:2' })).configDigest).toBe(arm.config.descriptor.digest);
    await expect(archive.select({ image: 'nope' })).rejects.toThrow(/has no image matching "nope"; candidates: \[0\] docker\.io\/library\/alpine:latest \(linux\/amd64 sha256:/);
  });

  it('verifies the bytes of every JSON blob it reads (EDGE #113)', async () => {
    const entries = layout({ manifests: [amd.manifest.descriptor] }).map((e) =>
      e.name === `blobs/sha256/${hexOf(amd.config.descriptor.digest)}` ? { ...e, content: Buffer.from(amd.config.bytes.toString().replace('amd64', 'AMD64')) } : e,
    );
    const err = await (await open(entries)).select({}).catch((e: Error) => e);
    expect(err).toBeInstanceOf(IntegrityError);
    expect((err as Error).message).toContain(`blob ${amd.config.descriptor.digest}: content hashes to sha256:`);
  });

  it('checks blob sizes against descriptors (EDGE #114)', async () => {
    const entries = layout({ manifests: [amd.manifest.descriptor] }).map((e) =>
      e.name === `blobs/sha256/${hexOf(amd.layers[0].descriptor.digest)}` ? { ...e, content: Buffer.concat([amd.layers[0].bytes, Buffer.from('x')]) } : e,
    );
    const err = await (await open(entries)).select({}).catch((e: Error) => e);
    expect(err).toBeInstanceOf(IntegrityError);
    expect((err as Error).message).toMatch(/layer 0 blob sha256:[0-9a-f]{64} is \d+ bytes, the manifest says \d+/);
  });

  it('marks images with absent blobs unavailable and fails only when one is chosen (EDGE #129)', async () => {
    const { entries } = multiPlatform();
    const armLayer = `blobs/sha256/${hexOf(arm.layers[0].descriptor.digest)}`;
    const archive = await open(entries.filter((e) => e.name !== armLayer));
    expect((await archive.candidates())[1].unavailable).toMatch(/layer 0 blob sha256:[0-9a-f]{64} not in the archive/);
    expect((await archive.select({})).configDigest).toBe(amd.config.descriptor.digest);
    await expect(archive.select({ platform: 'linux/arm64' })).rejects.toThrow(NotFoundError);
  });

  it('refuses an absent foreign layer, naming its urls (EDGE #130)', async () => {
    const foreign = { mediaType: MediaType.ociLayerNondistGzip, digest: `sha256:${'e'.repeat(64)}`, size: 5, urls: ['https://example.invalid/layer'] };
    const manifest = blob(ociManifest(amd.config.descriptor, [foreign as never]), MediaType.ociManifest);
    const archive = await open(layout({ manifests: [manifest.descriptor], blobs: [...amd.blobs, manifest] }));
    const err = await archive.select({ image: '0' }).catch((e: Error) => e);
    expect(err).toBeInstanceOf(UnsupportedError);
    expect((err as Error).message).toMatch(/foreign layer sha256:e{64} \(urls: https:\/\/example\.invalid\/layer\) not in the archive; stratum never downloads/);
  });

  it('caps the depth of nested indexes', async () => {
    let top = amd.manifest.descriptor;
    const blobs = [...amd.blobs];
    for (let i = 0; i < 3; i++) {
      const idx = blob(ociIndex([top]), MediaType.ociIndex);
      blobs.push(idx);
      top = idx.descriptor;
    }
    const entries = ociLayoutEntries({ manifests: [top], blobs });
    await expect((await open(entries)).candidates()).resolves.toHaveLength(1);
    const file = await writeTar(tmp, `deep${n++}.tar`, entries);
    const shallow = await openArchive(file, { tmpDir: tmp, limits: { maxIndexDepth: 2 } });
    await expect(shallow.candidates()).rejects.toThrow(LimitError);
  });

  it('caps index.json like any JSON (EDGE #140)', async () => {
    const entries = layout({ manifests: [withRefName(amd.manifest.descriptor, 'x'.repeat(5000))] });
    const file = await writeTar(tmp, `cap${n++}.tar`, entries);
    const archive = await openArchive(file, { tmpDir: tmp, limits: { maxJsonBytes: 1000 } });
    await expect(archive.candidates()).rejects.toThrow(/index\.json is \d+ bytes, over the 1000-byte limit/);
  });
});

/** skopeo's dir: transport: version, manifest.json, every other blob under its bare hex digest. */
const skopeoDir = (image: BuiltImage, version = 'Directory Transport Version: 1.1\n'): TarSpec[] => [
  { name: 'version', content: version },
  { name: 'manifest.json', content: image.manifest.bytes },
  ...[image.config, ...image.layers].map((b) => ({ name: hexOf(b.descriptor.digest), content: b.bytes })),
];

describe('image directories that are not OCI layouts', () => {
  it('reads a skopeo dir: copy, checking every blob against the manifest', async () => {
    const archive = await openDir(skopeoDir(amd));
    expect(archive.format).toBe('skopeo-dir');
    const image = await archive.select({});
    expect(image.manifestDigest).toBe(amd.manifest.descriptor.digest);
    expect(image.layers.map((l) => l.diffID)).toEqual(amd.diffIDs);
    const tampered = skopeoDir(amd).map((e) => (e.name === hexOf(amd.config.descriptor.digest) ? { ...e, content: Buffer.from('{}') } : e));
    await expect((await openDir(tampered)).select({})).rejects.toThrow(`blob ${amd.config.descriptor.digest}: size is 2 bytes`);
  });

  it('refuses a dir: version it does not know', async () => {
    await expect(openDir(skopeoDir(amd, 'Directory Transport Version: 2.0\n'))).rejects.toThrow(UnsupportedError);
  });

  it('reads an unpacked docker save, and only inside it', async () => {
    const archive = await openDir(dockerArchiveEntries([{ image: arm, repoTags: ['arm:1'] }]));
    expect(archive.format).toBe('docker-archive-dir');
    const image = await archive.select({ image: 'arm:1' });
    expect(image.layers.map((l) => l.diffID)).toEqual(arm.diffIDs);
    const escaping = [{ name: 'manifest.json', content: JSON.stringify([{ Config: '../outside.json', RepoTags: [], Layers: [] }]) }];
    await expect((await openDir(escaping)).select({})).rejects.toThrow(/outside\.json.*not found|not found.*outside\.json/);
  });

  it('says what it looked for in a directory that is none of them', async () => {
    await expect(openDir([{ name: 'index.json', content: '{}' }])).rejects.toThrow(/not an image directory \(no oci-layout, no manifest\.json\)/);
  });
});

describe('docker-oci-archive (Docker 25+)', () => {
  it('adds RepoTags from manifest.json to the OCI image with the same config', async () => {
    const extra = dockerArchiveEntries([{ image: amd, repoTags: ['amd:1'] }], { style: 'blobs' }).filter((e) => e.name === 'manifest.json');
    const archive = await openTar(layout({ manifests: [withRefName(amd.manifest.descriptor, '1')], extra }));
    expect(archive.format).toBe('docker-oci-archive');
    const image = await archive.select({ image: 'amd:1' });
    expect(image.names).toEqual(['1', 'amd:1']);
    expect(image.manifestDigest).toBe(amd.manifest.descriptor.digest);
  });

  it('falls back to manifest.json when index.json lists nothing (untagged save)', async () => {
    const extra = dockerArchiveEntries([{ image: arm, repoTags: null }], { style: 'blobs' }).filter((e) => e.name === 'manifest.json');
    const archive = await openTar(layout({ manifests: [], index: { schemaVersion: 2, mediaType: MediaType.ociIndex, manifests: null }, extra }));
    const image = await archive.select({ platform: 'linux/arm64' });
    expect(image.format).toBe('docker-oci-archive');
    expect(image.manifestRaw).toBeUndefined();
    expect(image.configDigest).toBe(arm.config.descriptor.digest);
  });
});

describe('layout directory confinement', () => {
  it('does not read a blob that is a symlink out of the layout, but follows one inside it', async () => {
    const outside = path.join(tmp, `outside${n++}`);
    await writeFile(outside, amd.layers[0].bytes);
    const dir = path.join(tmp, `confined${n++}`);
    const layerName = `blobs/sha256/${hexOf(amd.layers[0].descriptor.digest)}`;
    await writeEntries(dir, layout({ manifests: [amd.manifest.descriptor] }).filter((e) => e.name !== layerName));
    await symlink(outside, path.join(dir, layerName));
    const archive = await openArchive(dir, { tmpDir: tmp });
    await expect(archive.select({})).rejects.toThrow(/layer 0 blob sha256:[0-9a-f]{64} not in the archive/);

    await rm(path.join(dir, layerName));
    await mkdir(path.join(dir, 'blobs/store'), { recursive: true });
    await writeFile(path.join(dir, 'blobs/store/layer'), amd.layers[0].bytes);
    await symlink('../store/layer', path.join(dir, layerName));
    const image = await (await openArchive(dir, { tmpDir: tmp })).select({});
    expect(Buffer.concat(await (await image.layers[0].open()).toArray()).equals(amd.layers[0].bytes)).toBe(true);
  });

  it('says "not an image directory" for a directory that is not one', async () => {
    const dir = path.join(tmp, `plain${n++}`);
    await mkdir(dir);
    await expect(openArchive(dir, { tmpDir: tmp })).rejects.toThrow(/not an image directory \(no oci-layout, no manifest\.json\)/);
  });

  it('says which input is missing', async () => {
    await expect(openArchive(path.join(tmp, 'nope.tar'), { tmpDir: tmp })).rejects.toThrow(/nope\.tar: no such file or directory/);
  });
});
