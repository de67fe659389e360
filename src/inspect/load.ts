// The reads inspect needs (the only I/O in this folder; nothing here prints). An archive path is read
// for its JSON only, never its layers; a stored image comes wholly from the store.
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import type { LayerIndex } from '../layer/entry.js';
import { openArchive } from '../source/open-archive.js';
import type { ImageSelector, SourceImage } from '../source/types.js';
import { MediaType } from '../spec/media-types.js';
import { findImage, listImages, readConfig, type StoredImage } from '../store/images.js';
import type { Store } from '../store/store.js';
import type { ImageMeta, MetaLayer } from './report.js';

export async function isArchiveRef(ref: string): Promise<boolean> {
  if (ref === '-') return true;
  return fsp.stat(ref).then(
    () => true,
    () => false,
  );
}

/** Metadata of IMAGE: an archive path, '-', or a name or digest in the store. */
export async function loadMeta(store: Store, ref: string, selector: ImageSelector = {}): Promise<ImageMeta> {
  if (await isArchiveRef(ref)) return archiveMeta(store, ref, selector);
  return storedMeta(store, await findImage(store, ref));
}

export async function storedMeta(store: Store, image: StoredImage): Promise<ImageMeta> {
  const manifestRaw = await store.readBlob(image.manifestDigest);
  const configRaw = await store.readBlob(image.configDigest);
  return {
    from: 'store',
    format: image.format,
    names: image.names,
    manifestDigest: image.manifestDigest,
    manifestRaw,
    configDigest: image.configDigest,
    configRaw,
    config: await readConfig(store, image.configDigest),
    platform: image.platform,
    layers: image.layers.map(({ digest, size, mediaType, diffID }) => ({ digest, size, mediaType, diffID })),
  };
}

async function archiveMeta(store: Store, ref: string, selector: ImageSelector): Promise<ImageMeta> {
  const archive = await openArchive(ref, { tmpDir: path.join(store.root, 'tmp') });
  try {
    const src = await archive.select(selector);
    return {
      from: 'archive',
      format: src.format,
      names: src.names,
      ...(src.manifestRaw ? { manifestRaw: src.manifestRaw, manifestDigest: src.manifestDigest } : {}),
      configDigest: src.configDigest,
      configRaw: src.configRaw,
      config: src.config,
      platform: src.platform,
      layers: src.layers.map(archiveLayer),
    };
  } finally {
    await archive.close();
  }
}

/** A docker-archive names its layers by file, not digest: an uncompressed one is its own diffID, a compressed one is unknown until read. */
function archiveLayer(l: SourceImage['layers'][number]): MetaLayer {
  const known = l.verifyDigest || l.descriptor.mediaType === MediaType.dockerLayer || l.descriptor.mediaType === MediaType.ociLayer;
  return { ...(known ? { digest: l.descriptor.digest } : {}), size: l.descriptor.size, mediaType: l.descriptor.mediaType, diffID: l.diffID };
}

/** The stored image with the same config and layers as `meta`, if an earlier import put it there. */
export async function storedTwin(store: Store, meta: ImageMeta): Promise<StoredImage | undefined> {
  const diffIDs = meta.layers.map((l) => l.diffID).join();
  const images = await listImages(store);
  return images.find((img) => img.configDigest === meta.configDigest && img.layers.map((l) => l.diffID).join() === diffIDs);
}

/** Each layer's index where the store has it unpacked (undefined where it does not). */
export async function storedIndexes(store: Store, meta: ImageMeta): Promise<(LayerIndex | undefined)[]> {
  return Promise.all(meta.layers.map(async (l) => ((await store.hasLayer(l.diffID)) ? store.readLayerIndex(l.diffID) : undefined)));
}

/**
 * Fills what an archive leaves open (compressed blob digests, the manifest a docker-archive lacks)
 * from a stored twin, keeping the archive's own names, format and manifest.
 */
export function withTwin(meta: ImageMeta, twin: ImageMeta | undefined): ImageMeta {
  if (!twin || meta.from === 'store') return meta;
  return {
    ...meta,
    manifestRaw: meta.manifestRaw ?? twin.manifestRaw,
    manifestDigest: meta.manifestDigest ?? twin.manifestDigest,
    layers: meta.layers.map((l, i) => ({ ...l, digest: l.digest ?? twin.layers[i]?.digest })),
  };
}
