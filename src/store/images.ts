// The images a store holds: its index.json, one descriptor per name, read back into StoredImage records.
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { FormatError, NotFoundError, UsageError } from '../errors.js';
import { parseDigest, shortDigest, type Digest } from '../spec/digest.js';
import { isImageConfigType, MediaType } from '../spec/media-types.js';
import { matchesReference } from '../spec/reference.js';
import { Annotation, type Descriptor, type ImageConfig, type ImageIndex, type ImageManifest, type Platform } from '../spec/types.js';
import type { Store } from './store.js';

export interface StoredLayer {
  digest: Digest;
  size: number;
  mediaType: string;
  diffID: Digest;
}

export interface StoredImage {
  names: string[];
  manifestDigest: Digest;
  configDigest: Digest;
  platform?: Platform;
  /** The format it was imported from (annotation io.stratum.format). */
  format?: string;
  layers: StoredLayer[];
}

const FORMAT_ANNOTATION = 'io.stratum.format';

async function readIndex(store: Store): Promise<ImageIndex> {
  const raw = await fsp.readFile(path.join(store.root, 'index.json'), 'utf8');
  try {
    const index = JSON.parse(raw) as ImageIndex;
    if (!Array.isArray(index.manifests)) throw new Error('no manifests array');
    return index;
  } catch (err) {
    throw new FormatError(`${path.join(store.root, 'index.json')}: not a valid OCI index (${(err as Error).message})`);
  }
}

/** Adds an image under its names (or unnamed), replacing whatever those names pointed at before. */
export async function addImage(store: Store, image: Omit<StoredImage, 'layers'> & { manifestSize: number; manifestMediaType: string }): Promise<void> {
  await store.withIndexLock(async () => {
    const index = await readIndex(store);
    const names = new Set(image.names);
    index.manifests = index.manifests.filter((d) => {
      const name = d.annotations?.[Annotation.refName];
      if (name !== undefined) return !names.has(name);
      return d.digest !== image.manifestDigest; // an unnamed entry of the same image is replaced
    });
    const base: Descriptor = { mediaType: image.manifestMediaType, digest: image.manifestDigest, size: image.manifestSize };
    if (image.platform) base.platform = image.platform;
    const annotations = (name?: string): Record<string, string> => ({
      ...(name !== undefined ? { [Annotation.refName]: name } : {}),
      ...(image.format ? { [FORMAT_ANNOTATION]: image.format } : {}),
    });
    if (image.names.length === 0) index.manifests.push({ ...base, annotations: annotations() });
    for (const name of image.names) index.manifests.push({ ...base, annotations: annotations(name) });
    await store.writeAtomic(path.join(store.root, 'index.json'), JSON.stringify(index, null, 2) + '\n');
  });
}

export async function listImages(store: Store): Promise<StoredImage[]> {
  const index = await readIndex(store);
  const byDigest = new Map<string, { descriptor: Descriptor; names: string[] }>();
  for (const d of index.manifests) {
    const entry = byDigest.get(d.digest) ?? { descriptor: d, names: [] };
    const name = d.annotations?.[Annotation.refName];
    if (name !== undefined) entry.names.push(name);
    byDigest.set(d.digest, entry);
  }
  const images: StoredImage[] = [];
  for (const { descriptor, names } of byDigest.values()) {
    images.push(await loadImage(store, descriptor, names));
  }
  return images;
}

async function loadImage(store: Store, descriptor: Descriptor, names: string[]): Promise<StoredImage> {
  const manifestDigest = parseDigest(descriptor.digest, 'store index.json');
  const manifest = JSON.parse((await store.readBlob(manifestDigest)).toString('utf8')) as ImageManifest;
  const config = await readConfig(store, manifest.config.digest);
  const diffIDs = config.rootfs.diff_ids;
  return {
    names,
    manifestDigest,
    configDigest: parseDigest(manifest.config.digest),
    platform: descriptor.platform ?? { os: config.os, architecture: config.architecture, ...(config.variant ? { variant: config.variant } : {}) },
    format: descriptor.annotations?.[FORMAT_ANNOTATION],
    layers: manifest.layers.map((l, i) => ({ digest: parseDigest(l.digest), size: l.size, mediaType: l.mediaType, diffID: parseDigest(diffIDs[i]) })),
  };
}

export async function readConfig(store: Store, digest: Digest): Promise<ImageConfig> {
  const raw = await store.readBlob(digest);
  return JSON.parse(raw.toString('utf8')) as ImageConfig;
}

/** Finds one stored image by name, manifest or config digest, or a digest prefix of at least 4 hex digits. */
export async function findImage(store: Store, ref: string): Promise<StoredImage> {
  const images = await listImages(store);
  const hex = ref.replace(/^sha256:/, '');
  const byName = images.filter((img) => img.names.some((n) => matchesReference(n, ref)));
  if (byName.length === 1) return byName[0];
  const byDigest = /^[a-f0-9]{4,64}$/.test(hex)
    ? images.filter((img) => shortDigest(img.manifestDigest, 64).startsWith(hex) || shortDigest(img.configDigest, 64).startsWith(hex))
    : [];
  const found = byName.length ? byName : byDigest;
  if (found.length === 1) return found[0];
  if (found.length > 1) {
    const list = found.map((img) => `${img.names.join(',') || '<none>'} ${shortDigest(img.manifestDigest)}`).join('; ');
    throw new UsageError(`"${ref}" matches ${found.length} images in the store: ${list}`);
  }
  throw new NotFoundError(`no image "${ref}" in the store ${store.root} (and no such file)`, { path: ref });
}

/** Removes a name (or every name of the image a digest names) from the store index; blobs stay until gc. */
export async function removeImage(store: Store, ref: string): Promise<StoredImage> {
  const image = await findImage(store, ref);
  await store.withIndexLock(async () => {
    const index = await readIndex(store);
    const byName = image.names.filter((n) => matchesReference(n, ref));
    index.manifests = index.manifests.filter((d) => {
      if (d.digest !== image.manifestDigest) return true;
      const name = d.annotations?.[Annotation.refName];
      return byName.length > 0 && name !== undefined && !byName.includes(name);
    });
    await store.writeAtomic(path.join(store.root, 'index.json'), JSON.stringify(index, null, 2) + '\n');
  });
  return image;
}

export function isImageConfigDescriptor(d: Descriptor): boolean {
  return isImageConfigType(d.mediaType) || d.mediaType === MediaType.dockerConfig;
}
