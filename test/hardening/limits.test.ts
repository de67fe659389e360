// Limits that keep a hostile image from exhausting memory, disk or time: decompression bombs, entry counts, path
// length and depth, PAX and sparse-map sizes, JSON sizes. Each is hit through the CLI (flatten, export and import,
// with the --max-* flags where a user can set one) and must be a one-line refusal that leaves nothing behind —
// never an out-of-memory crash. Peak memory on a big image is measured in memory.test.ts.
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import type { Digest } from '../../src/spec/digest.js';
import { MediaType } from '../../src/spec/media-types.js';
import { expectRefused, runAttack } from '../helpers/attack.js';
import { blob, buildImage, dockerArchiveEntries, imageConfig, ociLayoutEntries, packTar, withRefName } from '../helpers/archive-builder.js';
import { imageOfBlobs, rawLayer, writeBuilt, writeImage } from '../helpers/hostile.js';
import { expectOneLineRefusal, stratum } from '../helpers/jail.js';
import { SAMPLES } from '../helpers/paths.js';
import { EOA, file as tarFile, pax } from '../tar/build.js';

const sha256 = (b: Buffer) => `sha256:${createHash('sha256').update(b).digest('hex')}` as Digest;
const MiB = 1024 * 1024;

/** A layer holding one file of `bytes` zeros, as its tar and as gzip (which compresses zeros ~1000:1). */
function zeroLayer(bytes: number): { tar: Buffer; gz: Buffer } {
  const tar = Buffer.concat([tarFile({ name: 'zeros', size: bytes }, Buffer.alloc(bytes)), EOA]);
  return { tar, gz: gzipSync(tar, { level: 9 }) };
}

describe('limits: decompression bombs', () => {
  it('CVE-2017-14992: a gzip layer unpacking past --max-unpacked is refused as soon as it passes the cap', async () => {
    const { tar, gz } = zeroLayer(48 * MiB);
    expect(gz.length).toBeLessThan(100 * 1024);
    const r = await runAttack((j) => writeBuilt(j.input, 'bomb.tar', imageOfBlobs([{ bytes: gz, diffID: sha256(tar), mediaType: MediaType.ociLayerGzip }]), { format: 'oci' }), [
      '--max-unpacked',
      '4M',
    ]);
    await expectRefused(r, /unpacks to more than 4194304 bytes \(--max-unpacked\)/);
    await r.done();
  });

  it('the same layer is accepted under the default limits (the cap is a choice, not a guess)', async () => {
    const { tar, gz } = zeroLayer(8 * MiB);
    const r = await runAttack((j) => writeBuilt(j.input, 'ok.tar', imageOfBlobs([{ bytes: gz, diffID: sha256(tar), mediaType: MediaType.ociLayerGzip }]), { format: 'oci' }));
    for (const run of [r.flatten, r.export, r.import]) expect(run.code, run.stderr).toBe(0);
    expect((await fs.stat(path.join(r.jail.out, 'zeros'))).size).toBe(8 * MiB);
    await r.done();
  });

  it('the limit flags refuse nonsense with a usage error (exit 2)', async () => {
    for (const arg of ['--max-unpacked=10x', '--max-unpacked=0', '--max-ratio=1.5', '--max-entries=-3', '--max-entries=1e9']) {
      const r = await stratum(['import', path.join(SAMPLES, 'docker-archive.tar'), '--store', '/nonexistent/never-created', arg]);
      expectOneLineRefusal(r, new RegExp(`${arg.split('=')[0]} takes a positive whole number`), 2);
    }
    await expect(fs.stat('/nonexistent/never-created')).rejects.toThrow();
  });
});

describe('limits: entries and paths', () => {
  it('a layer with more entries than --max-entries is refused', async () => {
    const entries = Array.from({ length: 300 }, (_, i) => ({ name: `f${i}`, body: '' }));
    const r = await runAttack((j) => writeImage(j.input, 'many.tar', [rawLayer(entries)]), ['--max-entries', '100']);
    await expectRefused(r, /more than 100 entries \(--max-entries\)/);
    await r.done();
  });

  it('a path over 4096 bytes is refused', async () => {
    const name = Array.from({ length: 21 }, () => 'p'.repeat(200)).join('/');
    const r = await runAttack((j) => writeImage(j.input, 'long.tar', [rawLayer([{ name, body: 'x' }])]));
    await expectRefused(r, /a path of 4220 bytes is over the 4096-byte limit/);
    await r.done();
  });

  it('a path more than 256 directories deep is refused', async () => {
    const name = Array.from({ length: 300 }, () => 'd').join('/');
    const r = await runAttack((j) => writeImage(j.input, 'deep.tar', [rawLayer([{ name, body: 'x' }])]));
    await expectRefused(r, /a path 300 directories deep is over the 256 limit/);
    await r.done();
  });
});

describe('limits: header and JSON sizes', () => {
  it('CVE-2022-2879: a 2 MiB PAX header in a layer is refused (the tar reader caps special entries at 1 MiB)', async () => {
    const huge = Buffer.concat([pax([['comment', 'x'.repeat(2 * MiB)]]), tarFile({ name: 'f' }, 'x'), EOA]);
    const r = await runAttack((j) => writeBuilt(j.input, 'pax.tar', imageOfBlobs([{ bytes: huge, diffID: sha256(huge) }])));
    await expectRefused(r, /exceeds the 1048576-byte limit/);
    await r.done();
  });

  it('CVE-2022-2879: a 2 MiB PAX header in the outer archive is refused', async () => {
    const r = await runAttack(async (j) => {
      const img = await buildImage({ layers: [rawLayer([{ name: 'f', body: 'x' }])] });
      const inner = await packTar(dockerArchiveEntries([{ image: img, repoTags: ['a:1'] }]));
      const p = path.join(j.input, 'outer-pax.tar');
      await fs.writeFile(p, Buffer.concat([pax([['comment', 'y'.repeat(2 * MiB)]]), inner]));
      return p;
    });
    await expectRefused(r, /header of \d+ bytes at offset 0 exceeds the 1048576-byte limit/);
    await r.done();
  });

  it('CVE-2025-58183: a GNU sparse map claiming millions of regions is refused before anything is allocated', async () => {
    const layer = Buffer.concat([
      pax([
        ['GNU.sparse.major', '0'],
        ['GNU.sparse.minor', '1'],
        ['GNU.sparse.name', 'sparse'],
        ['GNU.sparse.realsize', '1000000000'],
        ['GNU.sparse.numblocks', '50000000'],
        ['GNU.sparse.map', '0,1'],
      ]),
      tarFile({ name: 'GNUSparseFile.0/sparse' }, 'x'),
      EOA,
    ]);
    const r = await runAttack((j) => writeBuilt(j.input, 'sparse.tar', imageOfBlobs([{ bytes: layer, diffID: sha256(layer) }])));
    await expectRefused(r, /sparse map with 50000000 regions exceeds the limit of 100000/);
    await r.done();
  });

  it('CVE-2023-25153: a manifest.json over 20 MiB is refused before it is read', async () => {
    const r = await runAttack(async (j) => {
      const img = await buildImage({ layers: [rawLayer([{ name: 'f', body: 'x' }])] });
      const entries = dockerArchiveEntries([{ image: img, repoTags: ['a:1'] }]);
      const manifest = entries.find((e) => e.name === 'manifest.json')!;
      manifest.content = `${' '.repeat(21 * MiB)}${String(manifest.content)}`;
      const p = path.join(j.input, 'big-json.tar');
      await fs.writeFile(p, await packTar(entries));
      return p;
    });
    await expectRefused(r, /manifest\.json is 22020\d+ bytes, over the 20971520-byte limit for JSON documents/);
    await r.done();
  });

  it('CVE-2023-25153: an image config blob over 20 MiB is refused before it is read', async () => {
    const r = await runAttack(async (j) => {
      const layer = rawLayer([{ name: 'f', body: 'x' }]);
      const config = blob(Buffer.concat([imageConfig([sha256(layer)]), Buffer.alloc(21 * MiB, 0x20)]), MediaType.ociConfig);
      const layerBlob = blob(layer, MediaType.ociLayer);
      const manifest = blob({ schemaVersion: 2, mediaType: MediaType.ociManifest, config: config.descriptor, layers: [layerBlob.descriptor] }, MediaType.ociManifest);
      const p = path.join(j.input, 'big-config.tar');
      await fs.writeFile(p, await packTar(ociLayoutEntries({ manifests: [withRefName(manifest.descriptor, 'latest')], blobs: [config, layerBlob, manifest] })));
      return p;
    });
    await expectRefused(r, /over the 20971520-byte limit for JSON documents/);
    await r.done();
  });
});
