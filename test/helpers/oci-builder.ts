// Writes small OCI image layouts from in-code layers (the Items of helpers/layers.ts), for end-to-end
// tests that need an image pair no real tool makes easily: devices, xattrs, odd names, package databases.
// Layers are encoded with src/tar/writer.ts, optionally gzipped; config, manifest and index are real JSON.
import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import type { ContainerConfig, HistoryEntry } from '../../src/spec/types.js';
import { encodeEntryHeader, END_OF_ARCHIVE, padding } from '../../src/tar/writer.js';
import type { Item } from './layers.js';

export interface BuildLayer {
  items: readonly Item[];
  createdBy?: string;
  /** gzip the blob (default true). */
  gzip?: boolean;
}

export interface BuildImage {
  layers: readonly BuildLayer[];
  config?: ContainerConfig;
  /** Config-only steps, appended after the layers' history entries. */
  emptySteps?: string[];
  architecture?: string;
  variant?: string;
  /** org.opencontainers.image.ref.name of the image in index.json. */
  tag?: string;
}

const sha = (b: Buffer | string): string => createHash('sha256').update(b).digest('hex');

export function layerTar(items: readonly Item[]): Buffer {
  const parts: Buffer[] = [];
  for (const { header, content } of items) {
    parts.push(encodeEntryHeader({ ...header, size: header.type === 'file' ? content.length : 0 }));
    if (header.type === 'file' && content.length > 0) parts.push(content, padding(content.length));
  }
  parts.push(END_OF_ARCHIVE);
  return Buffer.concat(parts);
}

/** Writes an OCI image layout directory at dir and returns its path. */
export function writeOciLayout(dir: string, image: BuildImage): string {
  const blobs = path.join(dir, 'blobs', 'sha256');
  mkdirSync(blobs, { recursive: true });
  const put = (bytes: Buffer | string): { digest: string; size: number } => {
    const hex = sha(bytes);
    writeFileSync(path.join(blobs, hex), bytes);
    return { digest: `sha256:${hex}`, size: Buffer.byteLength(bytes) };
  };
  const layers = image.layers.map((l) => {
    const tar = layerTar(l.items);
    const gz = l.gzip ?? true;
    const blob = put(gz ? gzipSync(tar) : tar);
    return { diffID: `sha256:${sha(tar)}`, descriptor: { mediaType: `application/vnd.oci.image.layer.v1.tar${gz ? '+gzip' : ''}`, ...blob } };
  });
  const history: HistoryEntry[] = [
    ...image.layers.map((l, i) => ({ created: '2024-01-01T00:00:00Z', created_by: l.createdBy ?? `layer ${i + 1}` })),
    ...(image.emptySteps ?? []).map((s) => ({ created: '2024-01-01T00:00:00Z', created_by: s, empty_layer: true })),
  ];
  const config = {
    created: '2024-01-01T00:00:00Z',
    architecture: image.architecture ?? 'amd64',
    os: 'linux',
    ...(image.variant ? { variant: image.variant } : {}),
    config: image.config ?? {},
    rootfs: { type: 'layers', diff_ids: layers.map((l) => l.diffID) },
    history,
  };
  const configBlob = put(JSON.stringify(config));
  const manifest = {
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...configBlob },
    layers: layers.map((l) => l.descriptor),
  };
  const manifestBlob = put(JSON.stringify(manifest));
  const annotations = image.tag ? { 'org.opencontainers.image.ref.name': image.tag } : undefined;
  const index = { schemaVersion: 2, mediaType: 'application/vnd.oci.image.index.v1+json', manifests: [{ mediaType: manifest.mediaType, ...manifestBlob, ...(annotations ? { annotations } : {}) }] };
  writeFileSync(path.join(dir, 'index.json'), JSON.stringify(index));
  writeFileSync(path.join(dir, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  return dir;
}
