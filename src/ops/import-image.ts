// import: read an archive, verify every blob, unpack each layer once into the store, record the image.
import os from 'node:os';
import path from 'node:path';
import type { Readable } from 'node:stream';
import pLimit from 'p-limit';
import { FormatError } from '../errors.js';
import { openArchive } from '../source/open-archive.js';
import type { SourceFormat, SourceImage } from '../source/types.js';
import type { Digest } from '../spec/digest.js';
import { MediaType } from '../spec/media-types.js';
import type { ImageManifest } from '../spec/types.js';
import { addImage, findImage, type StoredImage, type StoredLayer } from '../store/images.js';
import { prepareLayer } from '../store/ingest-layer.js';
import type { LayerDecode } from '../store/unpack-layer.js';
import { LayerLimits, type LayerLimitValues } from '../store/limits.js';
import type { Store } from '../store/store.js';

export interface ImportProgress {
  bytesRead: number;
  bytesTotal: number;
  layersDone: number;
  layersTotal: number;
}

export interface ImportOptions {
  image?: string;
  platform?: string;
  limits?: Partial<LayerLimitValues>;
  /** Layers unpacked at once; default: the CPU count. */
  concurrency?: number;
  onProgress?: (p: ImportProgress) => void;
  signal?: AbortSignal;
  /** Stream read for input '-' (default process.stdin). */
  stdin?: Readable;
  /** Called before an implicit import (an IMAGE given as a path) starts, and once it is done, before the tree is
   * planned and written. */
  beforeImport?: () => void;
  afterImport?: () => void;
  /** Called as each layer that has to be unpacked starts decoding, with its compression. */
  onLayerDecode?: (d: LayerDecode) => void;
  /**
   * Hash every regular file while unpacking (default true): diff and inspect compare and show those hashes. flatten
   * and export need none, and leave them for the store to fill in when first asked (LayerIndex.unhashed).
   */
  fileHashes?: boolean;
}

export interface ImportResult {
  image: StoredImage;
  format: SourceFormat;
  label: string;
  layersUnpacked: number;
  layersReused: number;
}

export async function importImage(store: Store, input: string, opts: ImportOptions = {}): Promise<ImportResult> {
  await store.cleanTmp();
  const archive = await openArchive(input, { tmpDir: path.join(store.root, 'tmp'), stdin: opts.stdin });
  try {
    const src = await archive.select({ image: opts.image, platform: opts.platform });
    checkConfig(src, archive.label);
    const { layers, unpacked } = await ingestLayers(store, src, opts);
    await store.putBlob(src.configRaw, src.configDigest);
    const manifestDigest = await storeManifest(store, src, layers);
    const manifestRaw = await store.readBlob(manifestDigest);
    await addImage(store, {
      names: src.names,
      manifestDigest,
      configDigest: src.configDigest,
      platform: src.platform,
      format: src.format,
      manifestSize: manifestRaw.length,
      manifestMediaType: src.manifestMediaType ?? MediaType.ociManifest,
    });
    const image = await findImage(store, manifestDigest);
    return { image: { ...image, names: src.names }, format: src.format, label: archive.label, layersUnpacked: unpacked, layersReused: layers.length - unpacked };
  } finally {
    await archive.close();
  }
}

function checkConfig(src: SourceImage, label: string): void {
  const rootfs = src.config.rootfs;
  if (!rootfs || rootfs.type !== 'layers') throw new FormatError(`${label}: config ${src.configDigest} has rootfs.type "${rootfs?.type}", expected "layers"`, { digest: src.configDigest });
  if (!Array.isArray(rootfs.diff_ids) || rootfs.diff_ids.length !== src.layers.length) {
    throw new FormatError(`${label}: the manifest lists ${src.layers.length} layers but the config has ${rootfs.diff_ids?.length ?? 0} diff_ids`, { expected: src.layers.length, actual: rootfs.diff_ids?.length ?? 0 });
  }
}

/**
 * Unpacks every layer, then commits them all; the first failure stops the rest (no new layer starts, the ones in
 * flight are aborted and awaited) and every prepared layer is discarded, so a refused image leaves nothing behind.
 */
async function ingestLayers(store: Store, src: SourceImage, opts: ImportOptions): Promise<{ layers: StoredLayer[]; unpacked: number }> {
  const limits = new LayerLimits(opts.limits);
  const limit = pLimit(Math.max(1, opts.concurrency ?? os.availableParallelism()));
  const progress: ImportProgress = { bytesRead: 0, bytesTotal: src.layers.reduce((n, l) => n + Math.max(0, l.descriptor.size), 0), layersDone: 0, layersTotal: src.layers.length };
  const stop = new AbortController();
  const signal = opts.signal ? AbortSignal.any([opts.signal, stop.signal]) : stop.signal;
  let failure: { err: unknown } | undefined;
  let unpacked = 0;
  const onBytes = (n: number): void => {
    progress.bytesRead += n;
    opts.onProgress?.(progress);
  };
  const settled = await Promise.allSettled(
    src.layers.map((layer) =>
      limit(async () => {
        signal.throwIfAborted();
        try {
          const before = await store.hasLayer(layer.diffID);
          const prepared = await prepareLayer(store, layer, { limits, onBytes, signal, fileHashes: opts.fileHashes, onLayerDecode: opts.onLayerDecode });
          if (!before) unpacked++;
          progress.layersDone++;
          opts.onProgress?.(progress);
          return prepared;
        } catch (err) {
          failure ??= { err };
          stop.abort(err);
          throw err;
        }
      }),
    ),
  );
  const prepared = settled.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
  if (failure) {
    await Promise.all(prepared.map((p) => p.discard()));
    throw opts.signal?.aborted ? opts.signal.reason : failure.err;
  }
  for (const p of prepared) await p.commit();
  return { layers: prepared.map((p) => p.stored), unpacked };
}

/** Keeps an OCI manifest byte-exact; a docker-archive (which has none) gets one made from what was stored. */
async function storeManifest(store: Store, src: SourceImage, layers: StoredLayer[]): Promise<Digest> {
  if (src.manifestRaw) return store.putBlob(src.manifestRaw, src.manifestDigest);
  const manifest: ImageManifest = {
    schemaVersion: 2,
    mediaType: MediaType.ociManifest,
    config: { mediaType: MediaType.ociConfig, digest: src.configDigest, size: src.configRaw.length },
    layers: layers.map((l) => ({ mediaType: l.mediaType, digest: l.digest, size: l.size })),
  };
  return store.putBlob(Buffer.from(JSON.stringify(manifest)));
}

