// gc drops what no image references; verify re-hashes everything and reports damage.
import { createHash } from 'node:crypto';
import { createReadStream, promises as fsp } from 'node:fs';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { sha256Digest, type Digest } from '../spec/digest.js';
import { ContentFiles, type ContentLocation } from './content.js';
import { hashStored } from './file-hashes.js';
import { listImages } from './images.js';
import { chainSlots, checkPlanFile, planBytes, planDir } from './plans.js';
import { planTree } from '../tree/plan.js';
import type { Store } from './store.js';

export interface GcResult {
  blobsRemoved: number;
  layersRemoved: number;
  /** Stored plans (store/plans.ts) of layer chains no image starts with. */
  plansRemoved: number;
  bytesFreed: number;
  tmpRemoved: number;
}

export async function gc(store: Store): Promise<GcResult> {
  return store.withIndexLock(async () => {
    const blobs = new Set<string>();
    const layers = new Set<string>();
    const plans = new Set<string>();
    for (const image of await listImages(store)) {
      for (const slot of chainSlots(store, image.layers.map((l) => l.diffID))) plans.add(slot.file);
      blobs.add(image.manifestDigest).add(image.configDigest);
      for (const l of image.layers) {
        blobs.add(l.digest);
        layers.add(l.diffID);
      }
    }
    const result: GcResult = { blobsRemoved: 0, layersRemoved: 0, plansRemoved: 0, bytesFreed: 0, tmpRemoved: await store.cleanTmp(0) };
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
    for (const name of await fsp.readdir(planDir(store)).catch(() => [] as string[])) {
      const p = path.join(planDir(store), name);
      if (plans.has(p)) continue;
      result.bytesFreed += await bytesOf(p).catch(() => 0);
      await fsp.rm(p, { recursive: true, force: true });
      result.plansRemoved++;
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

export async function verifyStore(store: Store, onItem?: (what: string) => void): Promise<{ blobs: number; layers: number; files: number; plans: number; problems: VerifyProblem[] }> {
  const problems: VerifyProblem[] = [];
  let plans = 0;
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
  // A plan must be what merging its layers gives now: one that is not would be flattened as is.
  const chains = new Map<string, Digest[]>();
  for (const image of await listImages(store).catch(() => [])) {
    const diffIDs = image.layers.map((l) => l.diffID);
    for (const slot of chainSlots(store, diffIDs)) chains.set(slot.file, diffIDs.slice(0, slot.layers));
  }
  for (const name of await fsp.readdir(planDir(store)).catch(() => [] as string[])) {
    onItem?.(`plan ${name.slice(0, 12)}`);
    plans++;
    const file = path.join(planDir(store), name);
    const diffIDs = chains.get(file);
    const why = diffIDs === undefined ? await checkPlanFile(file) : await comparePlan(store, file, diffIDs);
    if (why !== undefined) problems.push({ what: 'plan', digest: `sha256:${name.replace(/\.json$/, '')}`, detail: `${why}; delete it and the next flatten plans again` });
  }
  return { blobs, layers, files, plans, problems };
}

/** Why the plan in `file` is not the merge of `diffIDs`' indexes, or undefined when it is, byte for byte. */
async function comparePlan(store: Store, file: string, diffIDs: readonly Digest[]): Promise<string | undefined> {
  let indexes;
  try {
    indexes = await Promise.all(diffIDs.map((d) => store.readLayerIndex(d, { fileHashes: false })));
  } catch {
    return undefined; // its layers' problems are reported above
  }
  const stored = await fsp.readFile(file).catch(() => undefined);
  if (stored === undefined) return 'unreadable';
  let fresh: Buffer;
  try {
    fresh = Buffer.concat([...planBytes(planTree(indexes), diffIDs.length)]);
  } catch (err) {
    return `its layers do not merge (${(err as Error).message})`;
  }
  return stored.equals(fresh) ? undefined : ((await checkPlanFile(file)) ?? 'differs from the merge of its layers');
}
