// OCI image layouts (directories, oci-archive tars, the OCI half of Docker 25+ saves): walks
// index.json through nested indexes down to image manifests, one entry per manifest. Entries whose
// blobs are absent are listed as unavailable (layouts may omit them: EDGE #129); unknown media
// types are skipped (#127).
import { FormatError, LimitError, NotFoundError, StratumError } from '../errors.js';
import type { Digest } from '../spec/digest.js';
import { isIndexType, isManifestType } from '../spec/media-types.js';
import { Annotation, type Descriptor } from '../spec/types.js';
import { brokenEntry, type EntryInfo, type ImageEntry } from './entries.js';
import type { FileSet } from './file-set.js';
import { asObject, readBlob, readJsonFile } from './json.js';
import { manifestEntry } from './oci-manifest.js';
import { parseIndex } from './oci-documents.js';
import type { SourceFormat, SourceLimits } from './types.js';

interface Walk {
  files: FileSet;
  format: SourceFormat;
  limits: SourceLimits;
  out: ImageEntry[];
}

interface Place {
  group: string;
  names: string[];
  /** Indexes above this descriptor, outermost first (cycle detection, selection by index digest). */
  parents: Digest[];
}

/** EDGE #125: the only layout version there is. */
export async function checkLayoutVersion(files: FileSet, maxJsonBytes: number): Promise<void> {
  const { value } = await readJsonFile(files, 'oci-layout', maxJsonBytes);
  const version = asObject(value, `${files.label}: oci-layout`).imageLayoutVersion;
  if (version !== '1.0.0') {
    throw new FormatError(`${files.label}: oci-layout imageLayoutVersion is ${JSON.stringify(version)}, expected "1.0.0"`, {
      file: files.label,
      expected: '1.0.0',
      actual: String(version),
    });
  }
}

/** The layout's images; the caller has checked oci-layout already. */
export async function ociEntries(files: FileSet, format: SourceFormat, limits: SourceLimits): Promise<ImageEntry[]> {
  const { raw } = await readJsonFile(files, 'index.json', limits.maxJsonBytes);
  const index = parseIndex(raw, `${files.label}: index.json`);
  const walk: Walk = { files, format, limits, out: [] };
  for (const [i, desc] of index.manifests.entries()) {
    await visit(walk, desc, { group: `index.json[${i}]`, names: namesOf(desc), parents: [] });
  }
  return mergeSameManifest(walk.out);
}

async function visit(walk: Walk, desc: Descriptor, place: Place): Promise<void> {
  if (isManifestType(desc.mediaType)) {
    walk.out.push(await manifestEntry(walk.files, desc, { ...place, format: walk.format, limits: walk.limits }));
  } else if (isIndexType(desc.mediaType)) {
    await visitIndex(walk, desc, place);
  }
}

async function visitIndex(walk: Walk, desc: Descriptor, place: Place): Promise<void> {
  const label = walk.files.label;
  if (place.parents.includes(desc.digest)) {
    throw new FormatError(`${label}: index ${desc.digest} contains itself`, { file: label, digest: desc.digest });
  }
  if (place.parents.length >= walk.limits.maxIndexDepth) {
    throw new LimitError(`${label}: indexes nested deeper than ${walk.limits.maxIndexDepth} at ${desc.digest}`, { file: label, digest: desc.digest });
  }
  const info: EntryInfo = { names: place.names, group: place.group, digests: [...place.parents, desc.digest], platform: desc.platform };
  let children: Descriptor[];
  try {
    const raw = await readBlob(walk.files, desc, walk.limits.maxJsonBytes);
    if (!raw) throw new NotFoundError(`${label}: index ${desc.digest} not in the archive`, { file: label, digest: desc.digest });
    children = parseIndex(raw, `${label}: index ${desc.digest}`, desc.mediaType).manifests;
  } catch (err) {
    if (!(err instanceof StratumError)) throw err;
    walk.out.push(brokenEntry(info, err, label));
    return;
  }
  const parents = [...place.parents, desc.digest];
  for (const child of children) await visit(walk, child, { ...place, parents });
}

/** ref.name (a bare tag or a full reference) and containerd's full name, as written on index.json entries. */
function namesOf(desc: Descriptor): string[] {
  const a = desc.annotations ?? {};
  return [...new Set([a[Annotation.refName], a[Annotation.containerdName]].filter((n): n is string => !!n))];
}

/** One image saved under two tags is two index.json entries with one digest (EDGE #138): list it once. */
function mergeSameManifest(entries: ImageEntry[]): ImageEntry[] {
  const seen = new Map<string, ImageEntry>();
  const out: ImageEntry[] = [];
  for (const e of entries) {
    const first = e.manifestDigest ? seen.get(e.manifestDigest) : undefined;
    if (!first) {
      if (e.manifestDigest) seen.set(e.manifestDigest, e);
      out.push(e);
      continue;
    }
    first.names = [...new Set([...first.names, ...e.names])];
    first.digests = [...new Set([...first.digests, ...e.digests])];
  }
  return out;
}
