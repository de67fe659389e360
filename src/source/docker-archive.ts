// `docker save` archives (and podman, skopeo, kaniko, jib, bazel variants): manifest.json lists
// each image's config and layer files by archive path. Layers are handed over as stored; their
// compression is sniffed here only to label them.
import { FormatError, NotFoundError, StratumError, UnsupportedError } from '../errors.js';
import { sniffCompression } from '../compress/sniff.js';
import { digestOf, parseDigest, type Digest } from '../spec/digest.js';
import { isForeignLayerType, MediaType } from '../spec/media-types.js';
import type { Descriptor } from '../spec/types.js';
import type { FileSet } from './file-set.js';
import { checkLayerCount, configPlatform, parseImageConfig } from './image-config.js';
import { asObject, describeJson, readJsonFile, verifyBytes } from './json.js';
import { brokenEntry, type ImageEntry } from './entries.js';
import type { LayerSource, SourceFormat, SourceImage, SourceLimits } from './types.js';

interface ManifestItem {
  config: string;
  repoTags: string[];
  layers: string[];
  layerSources: Record<string, unknown>;
}

/** One entry per manifest.json item, each fully checked up front (the JSON is small, layers are only sniffed). */
export async function dockerArchiveEntries(files: FileSet, format: SourceFormat, limits: SourceLimits): Promise<ImageEntry[]> {
  const { value } = await readJsonFile(files, 'manifest.json', limits.maxJsonBytes);
  const where = `${files.label}: manifest.json`;
  if (!Array.isArray(value)) throw new FormatError(`${where}: expected a list of images, found ${describeJson(value)}`, { file: files.label });
  return Promise.all(
    value.map(async (raw, i): Promise<ImageEntry> => {
      const item = parseItem(raw, `${where}[${i}]`);
      const group = `manifest.json[${i}]`;
      try {
        const image = await loadItem(files, item, format, limits);
        return { names: image.names, group, configDigest: image.configDigest, digests: [image.configDigest], platform: image.platform, load: async () => image };
      } catch (err) {
        if (!(err instanceof StratumError)) throw err;
        return brokenEntry({ names: item.repoTags, group, digests: [] }, err, files.label);
      }
    }),
  );
}

/** Keys are capitalised by Docker and lower-case in jib's archives. */
function parseItem(raw: unknown, where: string): ManifestItem {
  const obj = asObject(raw, where);
  const get = (key: string) => obj[key] ?? obj[key[0].toLowerCase() + key.slice(1)];
  const config = get('Config');
  const layers = get('Layers');
  const tags = get('RepoTags') ?? [];
  if (typeof config !== 'string') throw new FormatError(`${where}: Config is ${describeJson(config)}, expected a path`);
  if (!Array.isArray(layers) || !layers.every((l) => typeof l === 'string')) {
    throw new FormatError(`${where}: Layers is ${describeJson(layers)}, expected a list of paths`);
  }
  if (!Array.isArray(tags) || !tags.every((t) => typeof t === 'string')) {
    throw new FormatError(`${where}: RepoTags is ${describeJson(tags)}, expected a list of names`);
  }
  const sources = get('LayerSources');
  const layerSources = sources && typeof sources === 'object' ? (sources as Record<string, unknown>) : {};
  return { config, repoTags: tags, layers, layerSources };
}

async function loadItem(files: FileSet, item: ManifestItem, format: SourceFormat, limits: SourceLimits): Promise<SourceImage> {
  const { raw } = await readJsonFile(files, item.config, limits.maxJsonBytes);
  const claimed = claimedDigest(item.config);
  if (claimed) verifyBytes(raw, claimed, `${files.label}: ${item.config}`);
  const config = parseImageConfig(raw, `${files.label}: ${item.config}`);
  const diffIDs = checkLayerCount(`${files.label}: ${item.config}`, item.layers.length, config);
  const layers = await Promise.all(item.layers.map((p, i) => layerSource(files, p, i, diffIDs[i], item)));
  return {
    format,
    names: [...item.repoTags],
    configRaw: raw,
    configDigest: digestOf(raw),
    config,
    platform: configPlatform(config),
    layers,
  };
}

async function layerSource(files: FileSet, path: string, index: number, diffID: Digest, item: ManifestItem): Promise<LayerSource> {
  const size = await files.size(path);
  if (size === undefined) throw missingLayer(files.label, path, index, item.layerSources[diffID]);
  const claimed = claimedDigest(path);
  const descriptor: Descriptor = { mediaType: sniffedType(await files.read(path, 4)), digest: claimed ?? diffID, size };
  return { index, descriptor, diffID, verifyDigest: claimed !== undefined, open: () => files.open(path) };
}

/** What the first bytes say; the docker media types are the honest label for "whatever was saved". */
function sniffedType(head: Buffer): string {
  const kind = sniffCompression(head);
  return kind === 'gzip' ? MediaType.dockerLayerGzip : kind === 'zstd' ? MediaType.dockerLayerZstd : MediaType.dockerLayer;
}

/** Docker 25+ stores files by digest (blobs/sha256/<hex>), which lets the importer verify them. */
function claimedDigest(path: string): Digest | undefined {
  const m = /^blobs\/sha256\/([0-9a-f]{64})$/.exec(path);
  return m ? parseDigest(`sha256:${m[1]}`) : undefined;
}

function missingLayer(label: string, path: string, index: number, source: unknown): StratumError {
  const desc = source && typeof source === 'object' ? (source as Partial<Descriptor>) : undefined;
  if (desc && isForeignLayerType(desc.mediaType)) {
    const urls = Array.isArray(desc.urls) && desc.urls.length > 0 ? ` (urls: ${desc.urls.join(' ')})` : '';
    return new UnsupportedError(`${label}: foreign layer ${String(desc.digest)}${urls} not in the archive; stratum never downloads`, {
      file: label,
      digest: String(desc.digest),
      layer: index,
    });
  }
  return new NotFoundError(`${label}: layer ${index} (${path}) not found in the archive`, { file: label, path, layer: index });
}
