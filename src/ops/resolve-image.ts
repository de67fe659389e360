// IMAGE arguments: a path (archive, layout dir, '-') is imported first; anything else names a stored image.
import { promises as fsp } from 'node:fs';
import type { LayerIndex } from '../layer/entry.js';
import { findImage, readConfig, type StoredImage } from '../store/images.js';
import type { Store } from '../store/store.js';
import type { ImageConfig } from '../spec/types.js';
import type { ImportOptions, ImportResult } from './import-image.js';

export interface ResolvedImage {
  image: StoredImage;
  config: ImageConfig;
  /** Set when the argument was a path and was imported for this call. */
  imported?: ImportResult;
}

export async function resolveImage(store: Store, ref: string, opts: ImportOptions = {}): Promise<ResolvedImage> {
  if (ref === '-' || (await isPath(ref))) {
    opts.beforeImport?.();
    // Loaded here: the archive readers are half of stratum's modules, and an image already in the store needs none.
    const { importImage } = await import('./import-image.js');
    const imported = await importImage(store, ref, opts);
    opts.afterImport?.();
    return { image: imported.image, config: await readConfig(store, imported.image.configDigest), imported };
  }
  const image = await findImage(store, ref);
  return { image, config: await readConfig(store, image.configDigest) };
}

async function isPath(ref: string): Promise<boolean> {
  try {
    await fsp.stat(ref);
    return true;
  } catch {
    return false;
  }
}

/**
 * The layer indexes of an image, base first (a diffID used twice appears twice), or of its first `upTo` layers;
 * fileHashes as in Store.readLayerIndex.
 */
export async function layerIndexes(store: Store, image: StoredImage, opts: { fileHashes?: boolean; upTo?: number } = {}): Promise<LayerIndex[]> {
  return Promise.all(image.layers.slice(0, opts.upTo).map((l) => store.readLayerIndex(l.diffID, { fileHashes: opts.fileHashes })));
}
