// Builds image archives in memory for tests: layer tars, configs, OCI blobs, OCI layouts (as a tar
// or a directory) and docker-save archives, from small specs. Every builder returns plain data
// (TarSpec lists, Blobs, descriptors) so a test can tamper with any part before packing it:
//
//   const img = await buildImage({ layers: [await layerTar({ 'etc/hostname': 'box\n' })] });
//   const tar = await packTar(ociLayoutEntries({ manifests: [withRefName(img.manifest.descriptor, 'latest')], blobs: img.blobs }));
//   const docker = await packTar(dockerArchiveEntries([{ image: img, repoTags: ['a:1'] }]), { gzip: true });
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import tar from 'tar-stream';
import type { Digest } from '../../src/spec/digest.js';
import { MediaType } from '../../src/spec/media-types.js';
import type { Descriptor, DockerManifestItem, Platform } from '../../src/spec/types.js';

/** One entry of a tar built in memory (type 'file' unless said). */
export interface TarSpec {
  name: string;
  type?: 'file' | 'directory' | 'symlink' | 'link';
  content?: Buffer | string;
  linkname?: string;
  mode?: number;
}

/** A blob and the descriptor that names it. */
export interface Blob {
  descriptor: Descriptor;
  bytes: Buffer;
}

export interface ImageSpec {
  /** Uncompressed layer tars, base first (see layerTar). */
  layers: Buffer[];
  /** How layer blobs are stored; the manifest's media types follow. Default 'none'. */
  compression?: 'none' | 'gzip';
  platform?: Platform;
  /** Fields merged over the generated config, e.g. { rootfs: { type: 'tarsum', diff_ids: [] } }. */
  config?: Record<string, unknown>;
}

export interface BuiltImage {
  config: Blob;
  layers: Blob[];
  diffIDs: Digest[];
  manifest: Blob;
  /** Config, layers and manifest: everything an OCI layout needs for this image. */
  blobs: Blob[];
}

export function sha256(bytes: Buffer | string): Digest {
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}` as Digest;
}

export function hexOf(d: Digest): string {
  return d.slice(d.indexOf(':') + 1);
}

/** A blob from bytes, a string, or a value serialised as JSON. */
export function blob(content: Buffer | string | object, mediaType: string): Blob {
  const bytes = Buffer.isBuffer(content) ? content : Buffer.from(typeof content === 'string' ? content : JSON.stringify(content));
  return { descriptor: { mediaType, digest: sha256(bytes), size: bytes.length }, bytes };
}

/**
 * A valid zstd frame holding `data` in raw (stored) blocks: Node 20 cannot compress zstd, and a
 * stored frame is still what zstd's magic and every decoder accept.
 */
export function zstdStored(data: Buffer): Buffer {
  const parts: Buffer[] = [Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 0x00, 0x38])]; // magic; no checksum; 128 KiB window
  const max = 128 * 1024;
  for (let at = 0; at === 0 || at < data.length; at += max) {
    const chunk = data.subarray(at, at + max);
    const last = at + max >= data.length ? 1 : 0;
    const header = (chunk.length << 3) | last; // block type 0 = raw
    parts.push(Buffer.from([header & 0xff, (header >> 8) & 0xff, (header >> 16) & 0xff]), chunk);
  }
  return Buffer.concat(parts);
}

/** Packs entries into a tar (gzip-wrapped if asked). */
export async function packTar(entries: TarSpec[], opts: { gzip?: boolean } = {}): Promise<Buffer> {
  const pack = tar.pack();
  const chunks: Buffer[] = [];
  const done = (async () => {
    for await (const c of pack) chunks.push(c as Buffer);
  })();
  for (const e of entries) {
    const content = e.content === undefined ? Buffer.alloc(0) : Buffer.from(e.content);
    const type = e.type ?? 'file';
    const header = { name: e.name, type, linkname: e.linkname, mode: e.mode, mtime: new Date(0), size: type === 'file' ? content.length : 0 };
    await new Promise<void>((resolve, reject) => {
      const cb = (err?: Error | null) => (err ? reject(err) : resolve());
      if (type === 'file') pack.entry(header, content, cb);
      else pack.entry(header, cb);
    });
  }
  pack.finalize();
  await done;
  const out = Buffer.concat(chunks);
  return opts.gzip ? gzipSync(out) : out;
}

/** A layer tar from path → content (a trailing '/' makes a directory). */
export function layerTar(files: Record<string, string>): Promise<Buffer> {
  return packTar(Object.entries(files).map(([name, content]) => (name.endsWith('/') ? { name, type: 'directory' } : { name, content })));
}

/** The OCI image config for these diffIDs, with `extra` merged over it. */
export function imageConfig(diffIDs: Digest[], platform: Platform = { os: 'linux', architecture: 'amd64' }, extra: Record<string, unknown> = {}): Buffer {
  return Buffer.from(JSON.stringify({ ...platform, config: {}, rootfs: { type: 'layers', diff_ids: diffIDs }, ...extra }));
}

/** Config, layer blobs and an OCI manifest for one image. */
export async function buildImage(spec: ImageSpec): Promise<BuiltImage> {
  const gzip = spec.compression === 'gzip';
  const diffIDs = spec.layers.map((l) => sha256(l));
  const layers = spec.layers.map((l) => blob(gzip ? gzipSync(l) : l, gzip ? MediaType.ociLayerGzip : MediaType.ociLayer));
  const config = blob(imageConfig(diffIDs, spec.platform, spec.config), MediaType.ociConfig);
  const manifest = blob(ociManifest(config.descriptor, layers.map((l) => l.descriptor)), MediaType.ociManifest);
  return { config, layers, diffIDs, manifest, blobs: [config, ...layers, manifest] };
}

export function ociManifest(config: Descriptor, layers: Descriptor[], extra: Record<string, unknown> = {}): object {
  return { schemaVersion: 2, mediaType: MediaType.ociManifest, config, layers, ...extra };
}

export function ociIndex(manifests: Descriptor[], extra: Record<string, unknown> = {}): object {
  return { schemaVersion: 2, mediaType: MediaType.ociIndex, manifests, ...extra };
}

/** A descriptor annotated with org.opencontainers.image.ref.name (and io.containerd.image.name if given). */
export function withRefName(d: Descriptor, refName: string, containerdName?: string): Descriptor {
  const annotations: Record<string, string> = { ...d.annotations, 'org.opencontainers.image.ref.name': refName };
  if (containerdName) annotations['io.containerd.image.name'] = containerdName;
  return { ...d, annotations };
}

export interface LayoutSpec {
  /** The descriptors index.json lists. */
  manifests: Descriptor[];
  blobs: Blob[];
  /** Replaces the generated index.json (any JSON value, or raw text). */
  index?: unknown;
  /** Replaces the oci-layout file's content; null leaves the file out. */
  layout?: unknown;
  /** Extra entries (e.g. a Docker 25 manifest.json). */
  extra?: TarSpec[];
}

/** The files of an OCI layout: oci-layout, index.json, blobs/sha256/<hex>. */
export function ociLayoutEntries(spec: LayoutSpec): TarSpec[] {
  const entries: TarSpec[] = [];
  const seen = new Set<string>();
  for (const b of spec.blobs) {
    const name = `blobs/sha256/${hexOf(b.descriptor.digest)}`;
    if (!seen.has(name)) entries.push({ name, content: b.bytes });
    seen.add(name);
  }
  entries.push({ name: 'index.json', content: jsonText(spec.index ?? ociIndex(spec.manifests)) });
  if (spec.layout !== null) entries.push({ name: 'oci-layout', content: jsonText(spec.layout ?? { imageLayoutVersion: '1.0.0' }) });
  return [...entries, ...(spec.extra ?? [])];
}

export interface DockerImageSpec {
  image: BuiltImage;
  repoTags?: string[] | null;
}

export interface DockerArchiveSpec {
  /** 'legacy' = <id>.json + <id>/layer.tar (docker ≤ 24); 'blobs' = Docker 25 names blobs/sha256/<hex>. */
  style?: 'legacy' | 'blobs';
  /** Replaces the generated manifest.json (any JSON value, or raw text). */
  manifest?: unknown;
}

/** A docker-save archive: configs, layer files and manifest.json; shared layers are stored once. */
export function dockerArchiveEntries(images: DockerImageSpec[], spec: DockerArchiveSpec = {}): TarSpec[] {
  const entries = new Map<string, TarSpec>();
  const put = (name: string, content: Buffer) => entries.set(name, { name, content });
  const items: DockerManifestItem[] = images.map(({ image, repoTags }) => {
    const configName = dockerName(image.config.descriptor.digest, 'config', spec.style);
    put(configName, image.config.bytes);
    const layers = image.layers.map((l) => {
      const name = dockerName(l.descriptor.digest, 'layer', spec.style);
      put(name, l.bytes);
      return name;
    });
    return { Config: configName, RepoTags: repoTags === undefined ? [] : repoTags, Layers: layers };
  });
  return [...entries.values(), { name: 'manifest.json', content: jsonText(spec.manifest === undefined ? items : spec.manifest) }];
}

function dockerName(d: Digest, kind: 'config' | 'layer', style: DockerArchiveSpec['style'] = 'legacy'): string {
  if (style === 'blobs') return `blobs/sha256/${hexOf(d)}`;
  return kind === 'config' ? `${hexOf(d)}.json` : `${hexOf(d)}/layer.tar`;
}

function jsonText(value: unknown): string {
  return typeof value === 'string' ? value : JSON.stringify(value);
}

/** A fresh temp directory (under the OS temp dir unless told). */
export function tempDir(prefix = 'stratum-test-', parent = os.tmpdir()): Promise<string> {
  return mkdtemp(path.join(parent, prefix));
}

/** Writes entries as files under `dir` (an OCI layout directory, for instance). */
export async function writeEntries(dir: string, entries: TarSpec[]): Promise<void> {
  for (const e of entries) {
    const p = path.join(dir, e.name);
    await mkdir(path.dirname(p), { recursive: true });
    if (e.type === 'directory') await mkdir(p, { recursive: true });
    else if (e.type === 'symlink') await symlink(e.linkname ?? '', p);
    else await writeFile(p, e.content ?? '');
  }
}

/** Packs entries into a tar file in `dir` and returns its path. */
export async function writeTar(dir: string, name: string, entries: TarSpec[], opts: { gzip?: boolean } = {}): Promise<string> {
  const p = path.join(dir, name);
  await writeFile(p, await packTar(entries, opts));
  return p;
}
