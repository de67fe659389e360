// One image manifest of an OCI layout: checked up front (manifest and config read and verified,
// every layer blob present with the right size) so listing tells which images can be imported.
import { IntegrityError, NotFoundError, StratumError, UnsupportedError } from '../errors.js';
import type { Digest } from '../spec/digest.js';
import { isForeignLayerType, isImageConfigType, isLayerType } from '../spec/media-types.js';
import { Annotation, type Descriptor, type ImageManifest } from '../spec/types.js';
import { brokenEntry, type EntryInfo, type ImageEntry } from './entries.js';
import { blobName, type FileSet } from './file-set.js';
import { checkLayerCount, configPlatform, parseImageConfig } from './image-config.js';
import { readBlob } from './json.js';
import { parseManifest } from './oci-documents.js';
import type { LayerSource, SourceFormat, SourceImage, SourceLimits } from './types.js';

export interface ManifestPlace {
  group: string;
  names: string[];
  parents: Digest[];
  format: SourceFormat;
  limits: SourceLimits;
}

export async function manifestEntry(files: FileSet, desc: Descriptor, place: ManifestPlace): Promise<ImageEntry> {
  const info: EntryInfo = {
    names: place.names,
    group: place.group,
    manifestDigest: desc.digest,
    digests: [...place.parents, desc.digest],
    platform: desc.platform,
  };
  if (isAttestation(desc)) {
    const err = new UnsupportedError(`${files.label}: ${desc.digest} is an attestation manifest, not an image`, { file: files.label, digest: desc.digest });
    return { ...brokenEntry(info, err, files.label), unavailable: 'attestation manifest', pseudo: true };
  }
  try {
    const image = await loadImage(files, desc, info, place);
    return { ...info, configDigest: image.configDigest, digests: [...info.digests, image.configDigest], platform: image.platform, load: async () => image };
  } catch (err) {
    if (!(err instanceof StratumError)) throw err;
    return { ...brokenEntry(info, err, files.label), pseudo: err instanceof NotAnImage };
  }
}

/** BuildKit attestations: marked by annotation, and by the unknown/unknown platform they carry. */
function isAttestation(desc: Descriptor): boolean {
  const p = desc.platform;
  return desc.annotations?.[Annotation.dockerReferenceType] === 'attestation-manifest' || (p?.os === 'unknown' && p.architecture === 'unknown');
}

/** Artifacts, referrers and other manifests that are not runnable images (EDGE #136). */
class NotAnImage extends UnsupportedError {}

async function loadImage(files: FileSet, desc: Descriptor, info: EntryInfo, place: ManifestPlace): Promise<SourceImage> {
  const label = files.label;
  const manifestRaw = await readBlob(files, desc, place.limits.maxJsonBytes);
  if (!manifestRaw) throw missing(label, 'manifest', desc);
  const where = `${label}: manifest ${desc.digest}`;
  const manifest = parseManifest(manifestRaw, where, desc.mediaType);
  checkIsImage(manifest, where, label, desc.digest);
  const configRaw = await readBlob(files, manifest.config, place.limits.maxJsonBytes);
  if (!configRaw) throw missing(label, 'config', manifest.config);
  const config = parseImageConfig(configRaw, `${label}: config ${manifest.config.digest}`);
  const diffIDs = checkLayerCount(where, manifest.layers.length, config);
  const layers = await Promise.all(manifest.layers.map((l, i) => layerSource(files, l, i, diffIDs[i])));
  return {
    format: place.format,
    names: info.names,
    manifestRaw,
    manifestDigest: desc.digest,
    manifestMediaType: desc.mediaType,
    configRaw,
    configDigest: manifest.config.digest,
    config,
    platform: desc.platform ?? configPlatform(config),
    layers,
  };
}

function checkIsImage(m: ImageManifest, where: string, label: string, digest: Digest): void {
  const ctx = { file: label, digest };
  if (m.subject) throw new NotAnImage(`${where}: a referrer of ${m.subject.digest} (signature, SBOM or attestation), not an image`, ctx);
  if (!isImageConfigType(m.config.mediaType)) {
    throw new NotAnImage(`${where}: an artifact (config type ${m.config.mediaType || 'none'}), nothing to unpack`, ctx);
  }
  const odd = m.layers.find((l) => !isLayerType(l.mediaType));
  if (odd) throw new NotAnImage(`${where}: not an image (layer type ${odd.mediaType || 'none'})`, ctx);
}

async function layerSource(files: FileSet, desc: Descriptor, index: number, diffID: Digest): Promise<LayerSource> {
  const name = blobName(desc.digest);
  const size = await files.size(name);
  if (size === undefined) throw isForeignLayerType(desc.mediaType) ? foreign(files.label, desc, index) : missing(files.label, `layer ${index}`, desc);
  if (size !== desc.size) {
    throw new IntegrityError(`${files.label}: layer ${index} blob ${desc.digest} is ${size} bytes, the manifest says ${desc.size}`, {
      file: files.label,
      digest: desc.digest,
      expected: desc.size,
      actual: size,
      layer: index,
    });
  }
  return { index, descriptor: desc, diffID, verifyDigest: true, open: () => files.open(name) };
}

function missing(label: string, what: string, desc: Descriptor): NotFoundError {
  return new NotFoundError(`${label}: ${what} blob ${desc.digest} not in the archive`, { file: label, digest: desc.digest });
}

/** Foreign blobs live on their `urls`; fetching them leaked credentials once (CVE-2020-15157). */
function foreign(label: string, desc: Descriptor, index: number): UnsupportedError {
  const urls = desc.urls?.length ? ` (urls: ${desc.urls.join(' ')})` : '';
  return new UnsupportedError(`${label}: foreign layer ${desc.digest}${urls} not in the archive; stratum never downloads`, {
    file: label,
    digest: desc.digest,
    layer: index,
  });
}
