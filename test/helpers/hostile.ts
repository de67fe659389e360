// Hostile layers and the archives that carry them. Layer tars are written byte by byte with test/tar/build.ts
// (tar-stream would normalise or refuse the very names an attacker uses); the image around them comes from
// archive-builder.ts, so digests, diffIDs and sizes are right unless a test tampers with them on purpose.
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { EOA, file as tarFile, pax } from '../tar/build.js';
import type { Digest } from '../../src/spec/digest.js';
import { MediaType } from '../../src/spec/media-types.js';
import { blob, buildImage, dockerArchiveEntries, imageConfig, ociLayoutEntries, ociManifest, packTar, withRefName, writeEntries, type BuiltImage, type TarSpec } from './archive-builder.js';

export type RawType = 'file' | 'dir' | 'symlink' | 'hardlink' | 'char' | 'block' | 'fifo';

/** One entry of a raw layer; names and link targets are latin1 byte strings, written exactly as given. */
export interface RawEntry {
  name: string;
  type?: RawType;
  body?: Buffer | string;
  linkname?: string;
  mode?: number;
  devmajor?: number;
  devminor?: number;
}

const TYPEFLAG: Record<RawType, string> = { file: '0', hardlink: '1', symlink: '2', char: '3', block: '4', dir: '5', fifo: '6' };

/** A layer tar. Names or targets over 100 bytes travel in a PAX record, as real writers do. */
export function rawLayer(entries: readonly RawEntry[]): Buffer {
  const parts: Buffer[] = [];
  for (const e of entries) {
    const type = e.type ?? 'file';
    const linkname = e.linkname ?? '';
    const records: [string, string][] = [];
    if (Buffer.byteLength(e.name, 'latin1') > 100) records.push(['path', e.name]);
    if (Buffer.byteLength(linkname, 'latin1') > 100) records.push(['linkpath', linkname]);
    if (records.length > 0) parts.push(pax(records));
    const body = type === 'file' ? e.body ?? '' : '';
    parts.push(
      tarFile(
        {
          name: e.name.slice(0, 100),
          typeflag: TYPEFLAG[type],
          mode: e.mode ?? (type === 'dir' ? 0o755 : type === 'symlink' ? 0o777 : 0o644),
          linkname: linkname.slice(0, 100),
          devmajor: e.devmajor,
          devminor: e.devminor,
        },
        body,
      ),
    );
  }
  parts.push(EOA);
  return Buffer.concat(parts);
}

export type ArchiveFormat = 'docker' | 'oci';

export interface ArchiveOptions {
  format?: ArchiveFormat;
  /** Store layer blobs gzip-compressed. */
  gzip?: boolean;
  tag?: string;
  config?: Record<string, unknown>;
}

/** An image archive holding these layer tars, written to dir/name; returns its path. */
export async function writeImage(dir: string, name: string, layers: readonly Buffer[], opts: ArchiveOptions = {}): Promise<string> {
  const image = await buildImage({ layers: [...layers], compression: opts.gzip ? 'gzip' : 'none', config: opts.config });
  const p = path.join(dir, name);
  await writeFile(p, await packTar(imageEntries(image, opts)));
  return p;
}

/** The archive's files, for tests that tamper with one before packing. */
export function imageEntries(image: BuiltImage, opts: ArchiveOptions = {}): TarSpec[] {
  const tag = opts.tag ?? 'hostile:latest';
  if (opts.format === 'oci') {
    return ociLayoutEntries({ manifests: [withRefName(image.manifest.descriptor, tag.split(':').pop()!)], blobs: image.blobs });
  }
  return dockerArchiveEntries([{ image, repoTags: [tag] }]);
}

/** An OCI layout directory for these layers. */
export async function writeLayoutDir(dir: string, layers: readonly Buffer[], opts: Omit<ArchiveOptions, 'format'> = {}): Promise<BuiltImage> {
  const image = await buildImage({ layers: [...layers], compression: opts.gzip ? 'gzip' : 'none', config: opts.config });
  await writeEntries(dir, imageEntries(image, { ...opts, format: 'oci' }));
  return image;
}

/**
 * An image around layer blobs given as stored (compressed, corrupt, whatever) with the diffIDs to claim: every
 * digest and size in the config and manifest is right for those bytes, so only the layer itself is wrong.
 */
export function imageOfBlobs(layers: ReadonlyArray<{ bytes: Buffer; diffID: Digest; mediaType?: string }>, config: Record<string, unknown> = {}): BuiltImage {
  const blobs = layers.map((l) => blob(l.bytes, l.mediaType ?? MediaType.ociLayer));
  const diffIDs = layers.map((l) => l.diffID);
  const cfg = blob(imageConfig(diffIDs, undefined, config), MediaType.ociConfig);
  const manifest = blob(ociManifest(cfg.descriptor, blobs.map((b) => b.descriptor)), MediaType.ociManifest);
  return { config: cfg, layers: blobs, diffIDs, manifest, blobs: [cfg, ...blobs, manifest] };
}

/** Writes an image (built by buildImage or imageOfBlobs) as an archive file. */
export async function writeBuilt(dir: string, name: string, image: BuiltImage, opts: ArchiveOptions = {}): Promise<string> {
  const p = path.join(dir, name);
  await writeFile(p, await packTar(imageEntries(image, opts)));
  return p;
}

export { gzipSync };
