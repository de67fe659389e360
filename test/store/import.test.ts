// The store: imports verify and deduplicate, failures leave nothing behind, gc and verify do their jobs.
import { execFileSync } from 'node:child_process';
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FormatError, IntegrityError } from '../../src/errors.js';
import { importImage } from '../../src/ops/import-image.js';
import { findImage, listImages, removeImage } from '../../src/store/images.js';
import { gc, verifyStore } from '../../src/store/maintenance.js';
import { Store } from '../../src/store/store.js';
import { buildImage, dockerArchiveEntries, layerTar, ociLayoutEntries, packTar, tempDir, withRefName, writeTar } from '../helpers/archive-builder.js';
import { SAMPLES } from '../helpers/paths.js';

let dir: string;
let store: Store;

beforeEach(async () => {
  dir = await tempDir('stratum-store-');
  store = await Store.open(path.join(dir, 'store'));
});

afterEach(async () => {
  await fsp.rm(dir, { recursive: true, force: true });
});

/** Everything under the store except its temp area, with sizes: "unchanged" means this is equal. */
async function snapshot(root: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await fsp.readdir(root, { recursive: true, withFileTypes: true })) {
    const p = path.join(e.parentPath, e.name);
    const rel = path.relative(root, p);
    if (rel === 'tmp' || rel.startsWith(`tmp${path.sep}`)) continue; // the store's own temp area, cleaned by the next run
    out.push(`${rel} ${e.isFile() ? (await fsp.stat(p)).size : '-'}`);
  }
  return out.sort();
}

describe('import', () => {
  it('stores a valid OCI layout whose blobs hash to their names', async () => {
    const r = await importImage(store, path.join(SAMPLES, 'oci-archive-gzip.tar'));
    expect(r.format).toBe('oci-archive');
    expect(r.layersUnpacked).toBe(3);
    const layout = JSON.parse(await fsp.readFile(path.join(store.root, 'oci-layout'), 'utf8'));
    expect(layout.imageLayoutVersion).toBe('1.0.0');
    const index = JSON.parse(await fsp.readFile(path.join(store.root, 'index.json'), 'utf8'));
    expect(index.manifests.map((d: { digest: string }) => d.digest)).toContain(r.image.manifestDigest);
    const v = await verifyStore(store);
    expect(v.problems).toEqual([]);
    expect(v.layers).toBe(3);
  });

  it('says how each layer it unpacks is decoded, and says nothing of layers already stored', async () => {
    const seen: string[] = [];
    const onLayerDecode = (d: { compression: string; onHeap: boolean }) => seen.push(`${d.compression}${d.onHeap ? ' on-heap' : ''}`);
    await importImage(store, path.join(SAMPLES, 'oci-archive-gzip.tar'), { onLayerDecode });
    expect(seen).toEqual(['gzip', 'gzip', 'gzip']);
    seen.length = 0;
    await importImage(store, path.join(SAMPLES, 'oci-archive-gzip.tar'), { onLayerDecode });
    expect(seen).toEqual([]);
    await importImage(store, path.join(SAMPLES, 'oci-archive-zstd.tar'), { onLayerDecode });
    // Node 20 has no zstd of its own: fzstd decodes in JavaScript, which the CLI's heap policy needs to hear.
    const native = typeof (zlib as { createZstdDecompress?: unknown }).createZstdDecompress === 'function';
    expect(seen.length).toBeGreaterThan(0);
    expect(new Set(seen)).toEqual(new Set([native ? 'zstd' : 'zstd on-heap']));
  });

  it('does no layer work for layers already in the store, whatever the archive format', async () => {
    await importImage(store, path.join(SAMPLES, 'oci-archive-gzip.tar'));
    const again = await importImage(store, path.join(SAMPLES, 'oci-archive-gzip.tar'));
    expect(again.layersUnpacked).toBe(0);
    expect(again.layersReused).toBe(3);
    // The docker-archive of the same image has the same diffIDs: its layers are not unpacked again.
    const docker = await importImage(store, path.join(SAMPLES, 'docker-archive.tar'));
    expect(docker.layersUnpacked).toBe(0);
    const layers = await fsp.readdir(path.join(store.root, 'layers', 'sha256'));
    expect(layers).toHaveLength(3);
  });

  it('reads the zstd, gzip-wrapped and layout-directory forms of one image to the same diffIDs', async () => {
    const a = await importImage(store, path.join(SAMPLES, 'oci-archive-zstd.tar'));
    const b = await importImage(store, path.join(SAMPLES, 'docker-archive.tar.gz'));
    const c = await importImage(store, path.join(SAMPLES, 'oci-layout-mixed'));
    const ids = (r: typeof a) => r.image.layers.map((l) => l.diffID);
    expect(ids(b)).toEqual(ids(a));
    expect(ids(c)).toEqual(ids(a));
  });

  it('refuses a layer whose content does not match its diffID and keeps nothing of it', async () => {
    const good = await layerTar({ 'etc/hostname': 'box\n' });
    const img = await buildImage({ layers: [good] });
    // Swap the layer bytes for another layer's, keeping the docker-archive's config and its diff_ids.
    const other = await layerTar({ 'etc/hostname': 'evil\n' });
    const tampered = { ...img, layers: [{ ...img.layers[0], bytes: other }] };
    const archive = await writeTar(dir, 'bad.tar', dockerArchiveEntries([{ image: tampered, repoTags: ['bad:1'] }]));
    const before = await snapshot(store.root);
    const err = await importImage(store, archive).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(IntegrityError);
    expect((err as Error).message).toMatch(/diff_ids says sha256:/);
    expect(await snapshot(store.root)).toEqual(before);
    expect(await fsp.readdir(path.join(store.root, 'tmp'))).toEqual([]);
  });

  it('refuses an OCI blob whose digest does not match its descriptor', async () => {
    const img = await buildImage({ layers: [await layerTar({ a: '1' })] });
    const bad = { ...img.layers[0], bytes: Buffer.from(img.layers[0].bytes) };
    bad.bytes[512] ^= 0x01; // the file's content byte: still a valid tar, another digest
    const entries = ociLayoutEntries({ manifests: [withRefName(img.manifest.descriptor, 'x')], blobs: [img.config, bad, img.manifest] });
    const archive = path.join(dir, 'bad-oci.tar');
    await fsp.writeFile(archive, await packTar(entries));
    const before = await snapshot(store.root);
    await expect(importImage(store, archive)).rejects.toThrow(/blob content hashes to sha256:[0-9a-f]{64}, the manifest says sha256:[0-9a-f]{64}/);
    expect(await snapshot(store.root)).toEqual(before);
  });
});

describe('images, rm, gc, verify', () => {
  it('lists, finds by name and digest prefix, removes, and collects garbage', async () => {
    const r = await importImage(store, path.join(SAMPLES, 'docker-archive.tar'));
    const images = await listImages(store);
    expect(images).toHaveLength(1);
    expect(images[0].names).toEqual(['docker.io/library/stratum-sample:v1']);
    expect((await findImage(store, 'stratum-sample:v1')).manifestDigest).toBe(r.image.manifestDigest);
    expect((await findImage(store, r.image.configDigest.slice(7, 19))).manifestDigest).toBe(r.image.manifestDigest);
    // What gc should free: every file under blobs/ and layers/, each inode once.
    const listing = execFileSync('find', ['blobs', 'layers', '-type', 'f', '-printf', '%i %s\\n'], { cwd: store.root, encoding: 'utf8' });
    const sizes = new Map(listing.trim().split('\n').map((l) => l.split(' ').map(Number) as [number, number]));
    await removeImage(store, 'stratum-sample:v1');
    expect(await listImages(store)).toEqual([]);
    const freed = await gc(store);
    expect(freed.layersRemoved).toBe(3);
    // Uncompressed layers: layer.tar is the blob's hard link, and its bytes are freed once.
    expect(freed.bytesFreed).toBe([...sizes.values()].reduce((a, b) => a + b, 0));
    expect(await fsp.readdir(path.join(store.root, 'blobs', 'sha256'))).toEqual([]);
  });

  it('a layer index in another format is a one-line FormatError saying what to do, not a wrong tree', async () => {
    const r = await importImage(store, path.join(SAMPLES, 'oci-archive-gzip.tar'));
    const diffID = r.image.layers[0].diffID;
    const file = path.join(store.layerDir(diffID), 'index.json');
    await fsp.writeFile(file, (await fsp.readFile(file, 'latin1')).replace('"version":2', '"version":1'), 'latin1');
    const reopened = await Store.open(store.root);
    const err = await reopened.readLayerIndex(diffID).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(FormatError);
    expect((err as Error).message).toBe(`layer ${diffID} in the store ${store.root} has index format 1, this stratum reads 2 (remove the store, or \`stratum rm\` the images that use it, \`stratum gc\`, and import again)`);
  });

  it('verify reports a damaged file in a stored layer and a damaged blob', async () => {
    const r = await importImage(store, path.join(SAMPLES, 'oci-archive-gzip.tar'));
    expect((await verifyStore(store)).problems).toEqual([]);
    const diffID = r.image.layers[0].diffID;
    const index = await store.readLayerIndex(diffID);
    const victim = index.entries.find((e) => e.kind === 'file' && e.size > 0)!;
    // One byte of that file's content, in place: the layer's tar no longer hashes to its diffID either.
    const handle = await fsp.open(store.layerTar(diffID), 'r+');
    const byte = Buffer.alloc(1);
    await handle.read(byte, 0, 1, victim.offset!);
    await handle.write(Buffer.from([byte[0] ^ 0xff]), 0, 1, victim.offset!);
    await handle.close();
    await fsp.appendFile(path.join(store.root, 'blobs', 'sha256', r.image.configDigest.slice(7)), ' ');
    const v = await verifyStore(store);
    expect(v.problems.map((p) => `${p.what} ${p.digest}`).sort()).toEqual([`blob ${r.image.configDigest}`, `file ${diffID}`, `layer ${diffID}`]);
    expect(v.problems.find((p) => p.what === 'file')!.detail).toContain(JSON.stringify(Buffer.from(victim.path, 'latin1').toString('utf8')));
  });
});
