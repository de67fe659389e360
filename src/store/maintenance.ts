// gc drops what no image references; verify re-hashes everything and reports damage.
import { createHash } from 'node:crypto';
import { createReadStream, promises as fsp } from 'node:fs';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { sha256Digest, type Digest } from '../spec/digest.js';
import { ContentFiles, type ContentLocation } from './content.js';
import { hashStored } from './file-hashes.js';
import { listImages } from './images.js';
import type { Store } from './store.js';

export interface GcResult {
  blobsRemoved: number;
  layersRemoved: number;
  bytesFreed: number;
  tmpRemoved: number;
}

export async function gc(store: Store): Promise<GcResult> {
  return store.withIndexLock(async () => {
    const blobs = new Set<string>();
    const layers = new Set<string>();
    for (const image of await listImages(store)) {
      blobs.add(image.manifestDigest).add(image.configDigest);
      for (const l of image.layers) {
        blobs.add(l.digest);
        layers.add(l.diffID);
      }
    }
    const result: GcResult = { blobsRemoved: 0, layersRemoved: 0, bytesFreed: 0, tmpRemoved: await store.cleanTmp(0) };
    // An uncompressed layer's layer.tar is a hard link to its blob: count each inode once.
    const counted = new Set<number>();
    const bytesOf = async (p: string): Promise<number> => {
      const st = await fsp.lstat(p);
      if (counted.has(st.ino)) return 0;
      counted.add(st.ino);
      return st.size;
    };
    for (const hex of await fsp.readdir(path.join(store.root, 'blobs', 'sha256'))) {
      if (blobs.has(`sha256:${hex}`)) continue;
      const p = path.join(store.root, 'blobs', 'sha256', hex);
      result.bytesFreed += await bytesOf(p);
      await fsp.rm(p, { recursive: true, force: true });
      result.blobsRemoved++;
    }
    for (const hex of await fsp.readdir(path.join(store.root, 'layers', 'sha256'))) {
      if (layers.has(`sha256:${hex}`)) continue;
      const p = path.join(store.root, 'layers', 'sha256', hex);
      result.bytesFreed += await duBytes(p, bytesOf);
      await fsp.rm(p, { recursive: true, force: true });
      result.layersRemoved++;
    }
    return result;
  });
}

async function duBytes(dir: string, bytesOf: (p: string) => Promise<number>): Promise<number> {
  let total = 0;
  for (const e of await fsp.readdir(dir, { withFileTypes: true, recursive: true })) {
    if (e.isFile()) total += await bytesOf(path.join(e.parentPath ?? (e as { path: string }).path, e.name));
  }
  return total;
}

export interface VerifyProblem {
  what: string;
  digest?: string;
  detail: string;
}

async function sha256File(p: string): Promise<{ hex: string; size: number }> {
  const hash = createHash('sha256');
  let size = 0;
  await pipeline(createReadStream(p, { highWaterMark: 1024 * 1024 }), async function* (src) {
    for await (const chunk of src as AsyncIterable<Buffer>) {
      hash.update(chunk);
      size += chunk.length;
    }
  });
  return { hex: hash.digest('hex'), size };
}

/** hashStored, with a read failure reported as content 'missing' rather than thrown: verify lists every problem. */
function hashRange(files: ContentFiles, loc: ContentLocation): { hex: string; size: number } {
  try {
    return hashStored(files, loc);
  } catch {
    return { hex: 'missing', size: -1 };
  }
}

export async function verifyStore(store: Store, onItem?: (what: string) => void): Promise<{ blobs: number; layers: number; files: number; problems: VerifyProblem[] }> {
  const problems: VerifyProblem[] = [];
  let blobs = 0;
  let layers = 0;
  let files = 0;
  for (const hex of await fsp.readdir(path.join(store.root, 'blobs', 'sha256'))) {
    onItem?.(`blob ${hex.slice(0, 12)}`);
    blobs++;
    const actual = await sha256File(path.join(store.root, 'blobs', 'sha256', hex)).catch((e: Error) => ({ hex: `unreadable (${e.message})`, size: -1 }));
    if (actual.hex !== hex) problems.push({ what: 'blob', digest: `sha256:${hex}`, detail: `content hashes to ${actual.hex}` });
  }
  for (const image of await listImages(store).catch(() => [])) {
    for (const d of [image.manifestDigest, image.configDigest, ...image.layers.map((l) => l.digest)]) {
      if (!(await store.hasBlob(d))) problems.push({ what: 'blob', digest: d, detail: `missing, referenced by ${image.names[0] ?? image.manifestDigest}` });
    }
    for (const l of image.layers) {
      if (!(await store.hasLayer(l.diffID))) problems.push({ what: 'layer', digest: l.diffID, detail: 'not unpacked' });
    }
  }
  for (const hex of await fsp.readdir(path.join(store.root, 'layers', 'sha256'))) {
    onItem?.(`layer ${hex.slice(0, 12)}`);
    layers++;
    const diffID: Digest = sha256Digest(hex);
    let index;
    try {
      // As stored: hashes a flatten left out are not made up from the very bytes under test.
      index = await store.readLayerIndex(diffID, { fileHashes: false });
    } catch (err) {
      problems.push({ what: 'layer', digest: diffID, detail: `index unreadable (${(err as Error).message})` });
      continue;
    }
    const tar = await sha256File(store.layerTar(diffID)).catch(() => ({ hex: 'missing', size: -1 }));
    if (`sha256:${tar.hex}` !== diffID) problems.push({ what: 'layer', digest: diffID, detail: `layer.tar ${tar.hex === 'missing' ? 'is missing' : `hashes to sha256:${tar.hex.slice(0, 12)}`}` });
    const content = new ContentFiles();
    try {
      for (const e of index.entries) {
        // A file without a sha256 (LayerIndex.unhashed) is checked by the layer.tar hash above, byte for byte.
        if (e.kind !== 'file' || e.size === 0 || e.sha256 === undefined) continue;
        files++;
        const actual = hashRange(content, store.locate(diffID, e, e.size));
        if (actual.hex !== e.sha256 || actual.size !== e.size) {
          problems.push({ what: 'file', digest: diffID, detail: `${JSON.stringify(Buffer.from(e.path, 'latin1').toString('utf8'))}: content ${actual.hex === 'missing' ? 'missing' : `hashes to ${actual.hex.slice(0, 12)} (${actual.size} bytes)`}, index says ${e.sha256?.slice(0, 12)} (${e.size} bytes)` });
        }
      }
    } finally {
      content.close();
    }
  }
  return { blobs, layers, files, problems };
}
