// One pass over a layer blob: keep the blob, decompress, hash both, parse the tar, write each regular
// file's content once, build the layer index; verify digest, size and diffID; then rename into place.
import { createHash } from 'node:crypto';
import { createWriteStream, promises as fsp } from 'node:fs';
import { once } from 'node:events';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { createDecompressor, peek } from '../compress/decompress.js';
import { sniffCompression, type Compression } from '../compress/sniff.js';
import { asStratumError, IntegrityError } from '../errors.js';
import type { LayerIndex } from '../layer/entry.js';
import type { Digest } from '../spec/digest.js';
import { MediaType } from '../spec/media-types.js';
import type { LayerSource } from '../source/types.js';
import { readLayerEntries } from './layer-entries.js';
import type { LayerLimits } from './limits.js';
import type { StoredLayer } from './images.js';
import type { Store } from './store.js';

export interface IngestOptions {
  limits: LayerLimits;
  /** Called with the number of blob bytes read since the last call. */
  onBytes?: (n: number) => void;
  signal?: AbortSignal;
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
    await fsp.mkdir(path.join(layerTmp, 'data'), { mode: 0o700 });
    const result = await streamLayer(await layer.open(), blobTmp, layerTmp, label, opts);
    verify(layer, result, label);
    const index: LayerIndex = { version: 1, diffID: layer.diffID, tarSize: result.tarSize, entries: result.entries, warnings: result.warnings };
    await fsp.writeFile(path.join(layerTmp, 'index.json'), latin1Json(index), 'latin1');
    const stored: StoredLayer = { digest: result.digest, size: result.size, mediaType: mediaTypeFor(layer, result.compression), diffID: layer.diffID };
    const commit = async (): Promise<void> => {
      try {
        if (await store.hasBlob(result.digest)) await fsp.rm(blobTmp, { force: true });
        else await store.commitBlobFile(blobTmp, result.digest);
        await store.commitLayerDir(layerTmp, layer.diffID);
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

interface StreamResult {
  digest: Digest;
  size: number;
  diffID: Digest;
  tarSize: number;
  compression: Compression;
  entries: LayerIndex['entries'];
  warnings: string[];
}

async function streamLayer(source: Readable, blobTmp: string, layerTmp: string, label: string, opts: IngestOptions): Promise<StreamResult> {
  const { head, rest } = await peek(source, 4);
  const compression = sniffCompression(head);
  const decompressor = createDecompressor(compression, label);
  const blobOut = createWriteStream(blobTmp, { mode: 0o644 });
  const blobHash = createHash('sha256');
  let size = 0;
  // A destroyed stream emits neither 'drain' nor 'finish': when the parser gives up, this is what
  // wakes the pump, or the process would idle out of work and exit 0 with nothing done.
  const stop = new AbortController();
  const wait = (emitter: NodeJS.EventEmitter, event: string) => once(emitter, event, { signal: stop.signal });
  // Listeners for the streams' whole lives: an 'error' nobody listens for is an uncaught exception, and one can
  // still come after teardown (a write in flight when the stream was destroyed). A write error (ENOSPC) is what
  // the caller hears, not the "corrupt stream" it then causes downstream.
  let writeError: unknown;
  blobOut.on('error', (err) => {
    if (!stop.signal.aborted) writeError ??= err;
    stop.abort(err);
  });
  decompressor.on('error', () => undefined); // the parser hears it through its iterator

  // Feed the stored bytes to the blob file and the decompressor, each with its own backpressure.
  const pump = (async () => {
    for await (const chunk of rest) {
      opts.signal?.throwIfAborted();
      stop.signal.throwIfAborted();
      blobHash.update(chunk);
      size += chunk.length;
      opts.onBytes?.(chunk.length);
      const okBlob = blobOut.write(chunk);
      const okDec = decompressor.write(chunk);
      // Listen for both drains before awaiting either: an uncompressed layer's pass-through emits
      // 'drain' on the next tick, long before the blob file's, and a late listener waits forever.
      const drains: Promise<unknown>[] = [];
      if (!okBlob) drains.push(wait(blobOut, 'drain'));
      if (!okDec) drains.push(wait(decompressor, 'drain'));
      if (drains.length) await Promise.all(drains);
    }
    decompressor.end();
    blobOut.end();
    await wait(blobOut, 'finish');
  })();
  pump.catch((err) => {
    decompressor.destroy(err);
    blobOut.destroy();
  });

  const diffHash = createHash('sha256');
  let tarSize = 0;
  async function* tapped(): AsyncGenerator<Buffer> {
    for await (const chunk of decompressor as AsyncIterable<Buffer>) {
      diffHash.update(chunk);
      tarSize += chunk.length;
      opts.limits.checkUnpacked(tarSize, size, label);
      yield chunk;
    }
  }
  try {
    const { entries, warnings } = await readLayerEntries(tapped(), path.join(layerTmp, 'data'), { label, limits: opts.limits, signal: opts.signal });
    await pump;
    return { digest: `sha256:${blobHash.digest('hex')}` as Digest, size, diffID: `sha256:${diffHash.digest('hex')}` as Digest, tarSize, compression, entries, warnings };
  } catch (err) {
    stop.abort();
    source.destroy();
    decompressor.destroy();
    blobOut.destroy();
    await pump.catch(() => undefined);
    throw writeError ?? err;
  }
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

/** JSON whose strings are latin1 byte strings: anything above U+00FF is escaped so the latin1 write is lossless. */
export function latin1Json(value: unknown): string {
  return JSON.stringify(value).replace(/[\u0100-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

