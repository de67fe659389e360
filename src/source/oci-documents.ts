// Parsing OCI index and manifest documents strictly enough that one digest cannot be read as two
// kinds of document (CVE-2021-41190: EDGE #132, #133) and no unchecked digest reaches a path (#131).
import { FormatError } from '../errors.js';
import { parseDigest } from '../spec/digest.js';
import { isIndexType, isManifestType } from '../spec/media-types.js';
import type { Descriptor, ImageIndex, ImageManifest, Platform } from '../spec/types.js';
import { asObject, describeJson, parseJson } from './json.js';

type Kind = 'index' | 'manifest';

/** Parses an index (index.json or a nested one); `manifests: null` reads as empty, as Docker 25 writes it. */
export function parseIndex(raw: Buffer, where: string, declared?: string): ImageIndex {
  const doc = checkDocument(raw, where, 'index', declared);
  const list = doc.manifests ?? [];
  if (!Array.isArray(list)) throw new FormatError(`${where}: manifests is ${describeJson(list)}, expected a list`);
  return { ...(doc as object), schemaVersion: 2, manifests: list.map((d, i) => parseDescriptor(d, `${where}: manifests[${i}]`)) } as ImageIndex;
}

export function parseManifest(raw: Buffer, where: string, declared?: string): ImageManifest {
  const doc = checkDocument(raw, where, 'manifest', declared);
  const layers = doc.layers ?? [];
  if (!Array.isArray(layers)) throw new FormatError(`${where}: layers is ${describeJson(layers)}, expected a list`);
  return {
    ...(doc as object),
    schemaVersion: 2,
    config: parseDescriptor(doc.config, `${where}: config`),
    layers: layers.map((d, i) => parseDescriptor(d, `${where}: layers[${i}]`)),
  } as ImageManifest;
}

function checkDocument(raw: Buffer, where: string, kind: Kind, declared?: string): Record<string, unknown> {
  const doc = asObject(parseJson(raw, where), where);
  if (doc.schemaVersion !== 2) throw new FormatError(`${where}: schemaVersion is ${JSON.stringify(doc.schemaVersion)}, expected 2`);
  const looksIndex = 'manifests' in doc;
  const looksManifest = 'config' in doc || 'layers' in doc;
  if (looksIndex && looksManifest) {
    throw new FormatError(`${where}: ambiguous document with both manifests and config/layers (CVE-2021-41190)`);
  }
  if (kind === 'index' ? looksManifest : looksIndex) {
    throw new FormatError(`${where}: referenced as ${kind === 'index' ? 'an index' : 'a manifest'} but the document is ${kind === 'index' ? 'a manifest' : 'an index'}`);
  }
  checkMediaType(doc.mediaType, where, kind, declared);
  return doc;
}

function checkMediaType(own: unknown, where: string, kind: Kind, declared?: string): void {
  if (own === undefined) return;
  const fits = kind === 'index' ? isIndexType : isManifestType;
  if (typeof own !== 'string' || !fits(own)) {
    throw new FormatError(`${where}: mediaType is ${JSON.stringify(own)}, expected an image ${kind} type`);
  }
  if (declared !== undefined && declared !== own) {
    throw new FormatError(`${where}: the descriptor says ${declared} but the document says ${own}`, { expected: declared, actual: own });
  }
}

/** A descriptor with its digest parsed before anything else looks at it. */
export function parseDescriptor(value: unknown, where: string): Descriptor {
  const d = asObject(value ?? null, where);
  const digest = parseDigest(d.digest, `${where}: digest`);
  const size = d.size;
  if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0) {
    throw new FormatError(`${where}: size is ${JSON.stringify(size)}, expected a non-negative integer`);
  }
  const out: Descriptor = { mediaType: typeof d.mediaType === 'string' ? d.mediaType : '', digest, size };
  if (Array.isArray(d.urls)) out.urls = d.urls.filter((u): u is string => typeof u === 'string');
  if (isStringMap(d.annotations)) out.annotations = d.annotations;
  if (typeof d.data === 'string') out.data = d.data;
  if (typeof d.artifactType === 'string') out.artifactType = d.artifactType;
  const platform = parsePlatformField(d.platform);
  if (platform) out.platform = platform;
  return out;
}

function parsePlatformField(value: unknown): Platform | undefined {
  if (!value || typeof value !== 'object') return undefined;
  const p = value as Record<string, unknown>;
  if (typeof p.os !== 'string' || typeof p.architecture !== 'string') return undefined;
  const out: Platform = { os: p.os, architecture: p.architecture };
  if (typeof p.variant === 'string' && p.variant) out.variant = p.variant;
  if (typeof p['os.version'] === 'string') out['os.version'] = p['os.version'];
  return out;
}

function isStringMap(v: unknown): v is Record<string, string> {
  return !!v && typeof v === 'object' && !Array.isArray(v) && Object.values(v).every((x) => typeof x === 'string');
}
