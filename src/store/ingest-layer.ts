// A layer into the store: unpack it under temp names (store/unpack-layer.ts), verify digest, size
// and diffID, write its index, and rename into place only when the whole image verified.
import { createHash } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { peek } from '../compress/decompress.js';
import { sniffCompression, type Compression } from '../compress/sniff.js';
import { asStratumError, IntegrityError } from '../errors.js';
import type { LayerIndex } from '../layer/entry.js';
import type { Digest } from '../spec/digest.js';
import { MediaType } from '../spec/media-types.js';
import type { LayerSource } from '../source/types.js';
import { latin1Json } from './latin1-json.js';
import { streamLayer, type LayerDecode, type StreamResult } from './unpack-layer.js';
import type { LayerLimits } from './limits.js';
import type { StoredLayer } from './images.js';
import type { Store } from './store.js';

export interface IngestOptions {
  limits: LayerLimits;
  /** Called with the number of blob bytes read since the last call. */
  onBytes?: (n: number) => void;
  signal?: AbortSignal;
  /** Hash each regular file while unpacking (default true); see LayerIndex.unhashed. */
  fileHashes?: boolean;
  onLayerDecode?: (d: LayerDecode) => void;
}

const MEDIA_TYPE_BY_COMPRESSION: Record<Compression, string> = {
  none: MediaType.ociLayer,
  gzip: MediaType.ociLayerGzip,
  zstd: MediaType.ociLayerZstd,
};

/** A layer unpacked and verified under the store's temp area, not yet visible: commit or discard it. */
export interface PreparedLayer {
  stored: StoredLayer;
  commit(): Promise<void>;
  discard(): Promise<void>;
}

export async function ingestLayer(store: Store, layer: LayerSource, opts: IngestOptions): Promise<StoredLayer> {
  const prepared = await prepareLayer(store, layer, opts);
  await prepared.commit();
  return prepared.stored;
}

/**
 * Unpacks and verifies a layer into temp paths. The importer commits every layer of an image only once all of them
 * verified, so a refused image leaves the store as it was.
 */
export async function prepareLayer(store: Store, layer: LayerSource, opts: IngestOptions): Promise<PreparedLayer> {
  const known = await knownLayer(store, layer);
  if (known) return { stored: known, commit: async () => undefined, discard: async () => undefined };
  const label = `layer ${layer.index + 1} (${layer.verifyDigest ? layer.descriptor.digest : `diffID ${layer.diffID}`})`;
  const layerTmp = store.tmpPath('layer');
  const blobTmp = store.tmpPath('blob');
  const discard = async (): Promise<void> => {
    await fsp.rm(layerTmp, { recursive: true, force: true });
    await fsp.rm(blobTmp, { force: true });
  };
  try {
    // Not recursive: a recursive mkdir reports a read-only store as ENOENT.
    await fsp.mkdir(layerTmp, { mode: 0o700 });
    const result = await streamLayer(await layer.open(), blobTmp, layerTmp, label, opts);
    verify(layer, result, label);
    const index: LayerIndex = { version: 2, diffID: layer.diffID, tarSize: result.tarSize, entries: result.entries, warnings: result.warnings };
    if (result.entries.some((e) => e.kind === 'file' && e.sha256 === undefined)) index.unhashed = true;
    await fsp.writeFile(path.join(layerTmp, 'index.json'), latin1Json(index), 'latin1');
    const stored: StoredLayer = { digest: result.digest, size: result.size, mediaType: mediaTypeFor(layer, result.compression), diffID: layer.diffID };
    const commit = async (): Promise<void> => {
      try {
        if (await store.hasBlob(result.digest)) await fsp.rm(blobTmp, { force: true });
        else await store.commitBlobFile(blobTmp, result.digest);
        await store.commitLayerDir(layerTmp, layer.diffID);
        // A flatten right after the import plans from these very entries rather than a second parsed copy.
        store.rememberLayerIndex(index);
        if (result.tarDirect) store.markUncached(layer.diffID);
      } catch (err) {
        await discard();
        throw asStratumError(err, label);
      }
    };
    return { stored, commit, discard };
  } catch (err) {
    await discard();
    throw asStratumError(err, label);
  }
}

/** A layer already unpacked in the store costs no layer work; only its blob's identity is settled. */
async function knownLayer(store: Store, layer: LayerSource): Promise<StoredLayer | undefined> {
  if (!(await store.hasLayer(layer.diffID))) return undefined;
  const d = layer.descriptor;
  if (layer.verifyDigest) {
    if (await store.hasBlob(d.digest)) return { digest: d.digest, size: d.size, mediaType: d.mediaType, diffID: layer.diffID };
    return undefined;
  }
  // docker-archive layers carry no blob digest: an uncompressed one is its own diffID.
  const stream = await layer.open();
  const { head, rest } = await peek(stream, 4);
  const compression = sniffCompression(head);
  if (compression === 'none' && (await store.hasBlob(layer.diffID))) {
    stream.destroy();
    return { digest: layer.diffID, size: d.size, mediaType: MediaType.ociLayer, diffID: layer.diffID };
  }
  const hash = createHash('sha256');
  let size = 0;
  for await (const chunk of rest) {
    hash.update(chunk);
    size += chunk.length;
  }
  const digest = `sha256:${hash.digest('hex')}` as Digest;
  if (!(await store.hasBlob(digest))) return undefined;
  return { digest, size, mediaType: MEDIA_TYPE_BY_COMPRESSION[compression], diffID: layer.diffID };
}

function verify(layer: LayerSource, r: StreamResult, label: string): void {
  const d = layer.descriptor;
  if (layer.verifyDigest) {
    if (r.size !== d.size) throw new IntegrityError(`${label}: blob ${d.digest} is ${r.size} bytes, the manifest says ${d.size}`, { digest: d.digest, expected: d.size, actual: r.size });
    if (r.digest !== d.digest) throw new IntegrityError(`${label}: blob content hashes to ${r.digest}, the manifest says ${d.digest}`, { digest: d.digest, expected: d.digest, actual: r.digest });
  } else if (d.size >= 0 && r.size !== d.size) {
    throw new IntegrityError(`${label}: read ${r.size} bytes, the archive says ${d.size}`, { expected: d.size, actual: r.size });
  }
  if (r.diffID !== layer.diffID) {
    throw new IntegrityError(`${label}: uncompressed layer hashes to ${r.diffID}, the config's diff_ids says ${layer.diffID}`, { digest: layer.diffID, expected: layer.diffID, actual: r.diffID });
  }
}

function mediaTypeFor(layer: LayerSource, compression: Compression): string {
  return layer.verifyDigest ? layer.descriptor.mediaType : MEDIA_TYPE_BY_COMPRESSION[compression];
}
