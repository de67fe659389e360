// Nonsense in, one line out: broken tars, corrupt compression, lying digests and sizes, missing blobs, bad JSON.
// Each input is refused by both `import` and `flatten` with exit 1 and one line on stderr naming what and where,
// no stack trace, and the store left exactly as it was (listing, contents and index.json), with no temp files
// and no OUT or staging directory.
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Digest } from '../../src/spec/digest.js';
import { MediaType } from '../../src/spec/media-types.js';
import { blob, buildImage, hexOf, ociIndex, ociLayoutEntries, packTar, tempDir, withRefName, writeEntries, zstdStored, type BuiltImage, type TarSpec } from '../helpers/archive-builder.js';
import { imageEntries, imageOfBlobs, rawLayer, writeBuilt } from '../helpers/hostile.js';
import { expectOneLineRefusal, expectStoreUnchanged, leftovers, storeState, stratum } from '../helpers/jail.js';
import { SAMPLES } from '../helpers/paths.js';
import { block, EOA, file as tarFile } from '../tar/build.js';

const sha256 = (b: Buffer | string) => `sha256:${createHash('sha256').update(b).digest('hex')}` as Digest;

let root: string;
let store: string;
let n = 0;

beforeAll(async () => {
  root = await tempDir('stratum-refusal-');
  store = path.join(root, 'store');
  // A store that already holds an image, so "unchanged" means something.
  const r = await stratum(['import', path.join(SAMPLES, 'docker-archive.tar'), '--store', store, '-q']);
  expect(r.code, r.stderr).toBe(0);
});
afterAll(() => fs.rm(root, { recursive: true, force: true }));

const LAYER = rawLayer([
  { name: 'etc/', type: 'dir' },
  { name: 'etc/hostname', body: 'box\n' },
  { name: 'bin/sh', body: 'x'.repeat(3000) },
]);

/** A fresh path for an input. */
const input = (name: string) => path.join(root, `${++n}-${name}`);

async function write(name: string, bytes: Buffer): Promise<string> {
  const p = input(name);
  await fs.writeFile(p, bytes);
  return p;
}

const docker = async (image: BuiltImage, mutate: (e: TarSpec[]) => TarSpec[] = (e) => e) => packTar(mutate(imageEntries(image)));
const oci = async (image: BuiltImage, mutate: (e: TarSpec[]) => TarSpec[] = (e) => e) => packTar(mutate(imageEntries(image, { format: 'oci' })));
const good = () => buildImage({ layers: [LAYER] });
const layerName = (img: BuiltImage, i = 0) => `${hexOf(img.layers[i].descriptor.digest)}/layer.tar`;
const blobName = (d: Digest) => `blobs/sha256/${hexOf(d)}`;
const without = (name: string) => (e: TarSpec[]) => e.filter((x) => x.name !== name);
const withContent = (name: string, content: Buffer | string) => (e: TarSpec[]) => e.map((x) => (x.name === name ? { ...x, content } : x));

/** Offsets of the header blocks of a plain ustar archive (no PAX or long names in these tests). */
function headers(tar: Buffer): number[] {
  const out: number[] = [];
  for (let at = 0; at + 512 <= tar.length; ) {
    const h = tar.subarray(at, at + 512);
    if (h.every((b) => b === 0)) break;
    out.push(at);
    const size = parseInt(h.toString('latin1', 124, 136).replace(/\0.*$/, '').trim() || '0', 8);
    at += 512 + Math.ceil(size / 512) * 512;
  }
  return out;
}

/** The archive with its end-of-archive zero blocks cut off. */
function withoutEnd(tar: Buffer): Buffer {
  const hs = headers(tar);
  const last = hs[hs.length - 1];
  const size = parseInt(tar.toString('latin1', last + 124, last + 136).replace(/\0.*$/, '').trim() || '0', 8);
  return tar.subarray(0, last + 512 + Math.ceil(size / 512) * 512);
}

/** A gzip stream with one byte of its deflate data flipped (the CRC or the inflater catches it). */
function corruptGzip(bytes: Buffer): Buffer {
  const z = Buffer.from(bytes);
  z[Math.floor(z.length / 2)] ^= 0xff;
  return z;
}

/** A zstd frame whose first block claims the reserved block type 3. */
function corruptZstd(bytes: Buffer): Buffer {
  const z = Buffer.from(bytes);
  z[6] |= 0b110;
  return z;
}

interface Case {
  name: string;
  build: () => Promise<string>;
  what: RegExp;
}

const cases: Case[] = [
  { name: 'not a tar: random bytes', build: () => write('random', Buffer.from(Array.from({ length: 9000 }, (_, i) => (i * 7919 + 13) & 0xff))), what: /not an image archive/ },
  { name: 'not a tar: a text file', build: () => write('text', Buffer.from('hello, I am not an image\n')), what: /not an image archive/ },
  { name: 'an empty file', build: () => write('empty', Buffer.alloc(0)), what: /not an image archive/ },
  { name: 'an empty archive (only the end-of-archive marker)', build: () => write('eoa.tar', Buffer.alloc(10240)), what: /not an image archive/ },
  { name: 'an empty gzip-compressed archive', build: () => write('eoa.tar.gz', gzipSync(Buffer.alloc(1024))), what: /not an image archive/ },
  {
    name: 'a directory that is not an OCI layout',
    build: async () => {
      const d = input('dir');
      await fs.mkdir(d);
      await fs.writeFile(path.join(d, 'index.json'), '{}');
      return d;
    },
    what: /not an image directory \(no oci-layout, no manifest\.json\)/,
  },
  {
    name: 'an OCI layout listing no images',
    build: async () => write('no-images.tar', await packTar(ociLayoutEntries({ manifests: [], blobs: [] }))),
    what: /no image/i,
  },
  {
    name: 'archive truncated inside a header',
    build: async () => {
      const tar = await docker(await good());
      return write('trunc-header.tar', tar.subarray(0, headers(tar)[1] + 200));
    },
    what: /truncated|unexpected end|end of/i,
  },
  {
    name: 'archive truncated inside a body',
    build: async () => {
      const img = await good();
      const tar = await docker(img, (e) => [...e.filter((x) => x.name !== layerName(img)), ...e.filter((x) => x.name === layerName(img))]);
      return write('trunc-body.tar', tar.subarray(0, headers(tar).pop()! + 512 + 1000));
    },
    what: /truncated/,
  },
  {
    name: 'archive header with a bad checksum',
    build: async () => {
      const tar = Buffer.from(await docker(await good()));
      tar[headers(tar)[1] + 3] ^= 0x01;
      return write('bad-checksum.tar', tar);
    },
    what: /checksum/,
  },
  {
    name: 'trailing garbage where the next header should be',
    build: async () => write('garbage.tar', Buffer.concat([withoutEnd(await docker(await good())), Buffer.alloc(700, 0x41)])),
    what: /checksum|header|truncated/i,
  },
  {
    name: 'trailing garbage after a gzip-compressed archive',
    build: async () => write('garbage.tar.gz', Buffer.concat([gzipSync(await docker(await good())), Buffer.from('trailing garbage')])),
    what: /corrupt gzip/,
  },
  {
    name: 'a layer header with a bad checksum (digests right for the bad bytes)',
    build: async () => {
      const layer = Buffer.concat([Buffer.from(block({ name: 'etc/hostname', size: 4, checksum: 'bad' })), Buffer.from('box\n'.padEnd(512, '\0')), EOA]);
      return write('layer-checksum.tar', await docker(imageOfBlobs([{ bytes: layer, diffID: sha256(layer) }])));
    },
    what: /checksum/,
  },
  {
    name: 'a layer truncated inside a body (digests right for the bad bytes)',
    build: async () => {
      const layer = LAYER.subarray(0, 512 * 4 + 100);
      return write('layer-trunc-body.tar', await docker(imageOfBlobs([{ bytes: layer, diffID: sha256(layer) }])));
    },
    what: /truncated|unexpected end/i,
  },
  {
    name: 'a layer truncated inside a header (digests right for the bad bytes)',
    build: async () => {
      const layer = LAYER.subarray(0, 512 + 300);
      return write('layer-trunc-header.tar', await docker(imageOfBlobs([{ bytes: layer, diffID: sha256(layer) }])));
    },
    what: /truncated|unexpected end/i,
  },
  {
    name: 'EDGE #106: a gzip layer with corrupt deflate data',
    build: async () => write('bad-gzip.tar', await oci(imageOfBlobs([{ bytes: corruptGzip(gzipSync(LAYER)), diffID: sha256(LAYER), mediaType: MediaType.ociLayerGzip }]))),
    what: /corrupt gzip stream/,
  },
  {
    name: 'EDGE #107: a truncated gzip layer',
    build: async () => {
      const z = gzipSync(LAYER);
      return write('trunc-gzip.tar', await oci(imageOfBlobs([{ bytes: z.subarray(0, z.length - 20), diffID: sha256(LAYER), mediaType: MediaType.ociLayerGzip }])));
    },
    what: /corrupt gzip stream|truncated/,
  },
  {
    name: 'EDGE #109: a gzip layer followed by garbage',
    build: async () => write('gzip-garbage.tar', await oci(imageOfBlobs([{ bytes: Buffer.concat([gzipSync(LAYER), Buffer.from('garbage!')]), diffID: sha256(LAYER), mediaType: MediaType.ociLayerGzip }]))),
    what: /corrupt gzip stream/,
  },
  {
    name: 'a corrupt zstd layer',
    build: async () => write('bad-zstd.tar', await oci(imageOfBlobs([{ bytes: corruptZstd(zstdStored(LAYER)), diffID: sha256(LAYER), mediaType: MediaType.ociLayerZstd }]))),
    what: /corrupt zstd stream/,
  },
  {
    name: 'a truncated zstd layer',
    build: async () => {
      const z = zstdStored(LAYER);
      return write('trunc-zstd.tar', await oci(imageOfBlobs([{ bytes: z.subarray(0, z.length - 100), diffID: sha256(LAYER), mediaType: MediaType.ociLayerZstd }])));
    },
    what: /(truncated|corrupt) zstd stream/,
  },
  {
    name: 'EDGE #113: a layer blob that does not hash to its digest',
    build: async () => {
      const img = await good();
      const bad = Buffer.from(img.layers[0].bytes);
      bad[512 * 4 + 5] ^= 0x01; // a byte of bin/sh's content: still a valid tar
      return write('bad-digest.tar', await oci(img, withContent(blobName(img.layers[0].descriptor.digest), bad)));
    },
    what: /hashes to sha256:[0-9a-f]{64}, the manifest says sha256:[0-9a-f]{64}/,
  },
  {
    name: 'EDGE #115: a layer that does not hash to its diffID',
    build: async () => write('bad-diffid.tar', await docker(imageOfBlobs([{ bytes: LAYER, diffID: sha256('another layer') }]))),
    what: /uncompressed layer hashes to sha256:[0-9a-f]{64}, the config's diff_ids says sha256:[0-9a-f]{64}/,
  },
  {
    name: 'EDGE #114: a layer blob whose size is not the descriptor size',
    build: async () => {
      const img = await good();
      const manifest = JSON.parse(img.manifest.bytes.toString()) as { layers: Array<{ size: number }> };
      manifest.layers[0].size += 512;
      const m = blob(manifest, MediaType.ociManifest);
      return write('bad-size.tar', await packTar(ociLayoutEntries({ manifests: [withRefName(m.descriptor, 'latest')], blobs: [img.config, img.layers[0], m] })));
    },
    what: /size|bytes, the manifest says/,
  },
  {
    name: 'a missing layer blob (OCI)',
    build: async () => {
      const img = await good();
      return write('missing-blob.tar', await oci(img, without(blobName(img.layers[0].descriptor.digest))));
    },
    what: /blob sha256:[0-9a-f]{64} not in the archive/,
  },
  {
    name: 'a missing layer.tar (docker)',
    build: async () => {
      const img = await good();
      return write('missing-layer.tar', await docker(img, without(layerName(img))));
    },
    what: /layer 0 \([0-9a-f]{64}\/layer\.tar\) not found in the archive/,
  },
  { name: 'manifest.json that is not JSON', build: async () => write('bad-manifest.tar', await docker(await good(), withContent('manifest.json', '[{"Config": '))), what: /manifest\.json: invalid JSON/ },
  { name: 'EDGE #121: manifest.json that is null', build: async () => write('null-manifest.tar', await docker(await good(), withContent('manifest.json', 'null'))), what: /manifest\.json: expected a list of images, found null/ },
  { name: 'index.json that is not JSON', build: async () => write('bad-index.tar', await oci(await good(), withContent('index.json', '{"manifests": [}'))), what: /index\.json: invalid JSON/ },
  {
    name: 'a config that is not JSON',
    build: async () => {
      const img = await good();
      return write('bad-config.tar', await docker(img, withContent(`${hexOf(img.config.descriptor.digest)}.json`, 'not json at all')));
    },
    what: /invalid JSON/,
  },
  {
    name: 'EDGE #116: more diff_ids than layers',
    build: async () => write('diffids-more.tar', await docker(imageOfBlobs([{ bytes: LAYER, diffID: sha256(LAYER) }], { rootfs: { type: 'layers', diff_ids: [sha256(LAYER), sha256(LAYER)] } }))),
    what: /1 layers? but the config has 2 diff_ids|diff_ids/,
  },
  {
    name: 'EDGE #116: fewer diff_ids than layers',
    build: async () => {
      const img = imageOfBlobs([{ bytes: LAYER, diffID: sha256(LAYER) }, { bytes: LAYER, diffID: sha256(LAYER) }], { rootfs: { type: 'layers', diff_ids: [sha256(LAYER)] } });
      return write('diffids-fewer.tar', await oci(img));
    },
    what: /2 layers but the config has 1 diff_ids|diff_ids/,
  },
  {
    name: 'EDGE #134: rootfs.type "tarsum"',
    build: async () => write('tarsum.tar', await docker(imageOfBlobs([{ bytes: LAYER, diffID: sha256(LAYER) }], { rootfs: { type: 'tarsum', diff_ids: [sha256(LAYER)] } }))),
    what: /tarsum/,
  },
  {
    name: 'EDGE #125: oci-layout version 2.0.0',
    build: async () => write('layout-v2.tar', await oci(await good(), withContent('oci-layout', '{"imageLayoutVersion":"2.0.0"}'))),
    what: /imageLayoutVersion is "2\.0\.0"/,
  },
  {
    name: 'a cycle of nested indexes (A lists B, B lists A: one digest must lie)',
    build: async () => {
      const img = await good();
      const fakeA = sha256('the index A that B claims to contain');
      const b = blob(ociIndex([{ mediaType: MediaType.ociIndex, digest: fakeA, size: 100 }]), MediaType.ociIndex);
      const a = blob(ociIndex([b.descriptor]), MediaType.ociIndex);
      // A's bytes stored under the digest B names for it: following B → A would loop if digests were not checked.
      const entries = ociLayoutEntries({ manifests: [withRefName(a.descriptor, 'latest')], blobs: [...img.blobs, a, b] });
      entries.push({ name: blobName(fakeA), content: a.bytes });
      return write('index-cycle.tar', await packTar(entries));
    },
    what: /index|hashes to|size/,
  },
  {
    name: 'indexes nested deeper than 8',
    build: async () => {
      const img = await good();
      let top = img.manifest.descriptor;
      const blobs = [...img.blobs];
      for (let i = 0; i < 10; i++) {
        const idx = blob(ociIndex([top]), MediaType.ociIndex);
        blobs.push(idx);
        top = idx.descriptor;
      }
      return write('deep-index.tar', await packTar(ociLayoutEntries({ manifests: [withRefName(top, 'latest')], blobs })));
    },
    what: /nested deeper than 8/,
  },
  {
    name: 'EDGE #105: an unknown typeflag in a layer',
    build: async () => {
      const layer = Buffer.concat([tarFile({ name: 'volume-label', typeflag: 'V' }), EOA]);
      return write('typeflag.tar', await docker(imageOfBlobs([{ bytes: layer, diffID: sha256(layer) }])));
    },
    what: /type|typeflag/i,
  },
  {
    name: 'EDGE #97: a negative (base-256) size in a layer header',
    build: async () => {
      const raw: [number, Buffer][] = [[124, Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x00])]];
      const layer = Buffer.concat([block({ name: 'neg', raw }), EOA]);
      return write('neg-size.tar', await docker(imageOfBlobs([{ bytes: layer, diffID: sha256(layer) }])));
    },
    what: /size|header/i,
  },
  {
    name: 'a good first layer and a corrupt second one',
    build: async () => {
      const second = rawLayer([{ name: 'second', body: 'two' }]);
      const img = imageOfBlobs([
        { bytes: gzipSync(rawLayer([{ name: 'first', body: 'one' }])), diffID: sha256(rawLayer([{ name: 'first', body: 'one' }])), mediaType: MediaType.ociLayerGzip },
        { bytes: corruptGzip(gzipSync(second)), diffID: sha256(second), mediaType: MediaType.ociLayerGzip },
      ]);
      return write('second-bad.tar', await oci(img));
    },
    what: /layer 2 .*corrupt gzip stream/,
  },
];

describe('refusal: each broken input gets one line, exit 1, and changes nothing', () => {
  for (const c of cases) {
    it(c.name, async () => {
      const file = await c.build();
      const before = await storeState(store);
      const out = path.join(root, `out-${n}`);
      const [imported, flattened] = await Promise.all([
        stratum(['import', file, '--store', store, '-q'], { timeoutMs: 30_000 }),
        stratum(['flatten', file, out, '--store', store, '-q'], { timeoutMs: 30_000 }),
      ]);
      expectOneLineRefusal(imported, c.what);
      expectOneLineRefusal(flattened, c.what);
      await expectStoreUnchanged(store, before);
      expect(await fs.readdir(path.join(store, 'tmp'))).toEqual([]);
      await expect(fs.lstat(out)).rejects.toThrow();
      expect(await leftovers(root)).toEqual([]);
    });
  }
});

describe('refusal: what is not refused', () => {
  it('EDGE #91: garbage after a layer\'s end-of-archive marker is hashed into the diffID and otherwise ignored, as Go does', async () => {
    const layer = Buffer.concat([LAYER, Buffer.from('junk after the end marker')]);
    const file = await write('layer-junk.tar', await docker(imageOfBlobs([{ bytes: layer, diffID: sha256(layer) }])));
    const r = await stratum(['flatten', file, path.join(root, 'junk-out'), '--store', store, '-q']);
    expect(r.code, r.stderr).toBe(0);
    expect(await fs.readFile(path.join(root, 'junk-out', 'etc', 'hostname'), 'utf8')).toBe('box\n');
  });

  it('an oci layout directory and the same image as a tar behave alike (control for the cases above)', async () => {
    const dir = input('layout');
    await writeEntries(dir, imageEntries(await good(), { format: 'oci' }));
    const r = await stratum(['import', dir, '--store', store, '-q']);
    expect(r.code, r.stderr).toBe(0);
    const f = await writeBuilt(root, 'control.tar', await good());
    expect((await stratum(['import', f, '--store', store, '-q'])).code).toBe(0);
  });
});
