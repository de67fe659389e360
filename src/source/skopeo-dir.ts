// skopeo's (containers/image's) `dir:` transport: a directory holding `version`, the image's manifest as
// `manifest.json`, and every blob under its bare hex digest; with `copy --all`, manifest.json is the index and each
// instance manifest is `<hex>.manifest.json`. It is read as the OCI layout it nearly is: a one-entry index.json
// naming manifest.json by its digest, and `blobs/sha256/<hex>` mapped to the bare names. Everything past that is
// the OCI reader's, with the same digest and size checks.
import { Readable } from 'node:stream';
import { FormatError, UnsupportedError } from '../errors.js';
import { digestOf } from '../spec/digest.js';
import { isIndexType, isManifestType, MediaType } from '../spec/media-types.js';
import type { FileSet } from './file-set.js';
import { asObject, readJsonFile } from './json.js';
import { directoryFileSet } from './layout-dir.js';

const DIR_NAME = /^(?:version|manifest\.json|[0-9a-f]{64}(?:\.manifest\.json)?)$/;
const BLOB_NAME = /^blobs\/sha256\/([0-9a-f]{64})$/;
/** The first line containers/image writes; versions 1.0 and 1.1 differ only in what it may store. */
const VERSION = /^Directory Transport Version: 1\.[01]\n?$/;

/** The directory as an OCI layout, or undefined when no `version` file marks it as a dir: copy. */
export async function skopeoDirFileSet(dir: string, label: string, maxJsonBytes: number): Promise<FileSet | undefined> {
  const files = await directoryFileSet(dir, label, (name) => DIR_NAME.test(name));
  const size = await files.size('version');
  if (size === undefined || size > 64) return undefined;
  const version = (await files.read('version', size)).toString('latin1');
  if (!version.startsWith('Directory Transport Version:')) return undefined;
  if (!VERSION.test(version)) throw new UnsupportedError(`${label}: skopeo dir: ${JSON.stringify(version.trim())} is not a version this stratum reads (1.0, 1.1)`, { file: label });
  const { raw, value } = await readJsonFile(files, 'manifest.json', maxJsonBytes);
  const doc = asObject(value, `${label}: manifest.json`);
  const mediaType = typeof doc.mediaType === 'string' ? doc.mediaType : Array.isArray(doc.manifests) ? MediaType.ociIndex : MediaType.ociManifest;
  if (!isManifestType(mediaType) && !isIndexType(mediaType)) {
    throw new FormatError(`${label}: manifest.json has media type ${mediaType}, not an image manifest or index`, { file: label });
  }
  const digest = digestOf(raw);
  const index = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MediaType.ociIndex, manifests: [{ mediaType, digest, size: raw.length }] }));
  const top = digest.slice('sha256:'.length);
  /** The dir: name of a layout name, or undefined: an instance manifest of an index when no plain blob has it. */
  const stored = async (name: string): Promise<string | undefined> => {
    const hex = BLOB_NAME.exec(name)?.[1];
    if (hex === undefined) return undefined;
    if (hex === top) return 'manifest.json';
    return (await files.size(hex)) === undefined && (await files.size(`${hex}.manifest.json`)) !== undefined ? `${hex}.manifest.json` : hex;
  };
  return {
    label,
    size: async (name) => {
      if (name === 'index.json') return index.length;
      const file = await stored(name);
      return file === undefined ? undefined : files.size(file);
    },
    read: async (name, length) => {
      if (name === 'index.json') return index.subarray(0, length);
      return files.read((await stored(name)) ?? name, length);
    },
    open: async (name) => {
      if (name === 'index.json') return Readable.from([index]);
      return files.open((await stored(name)) ?? name);
    },
  };
}
