// The content-addressed store: the only module that knows where blobs and unpacked layers live.
// It is itself an OCI image layout (oci-layout, index.json, blobs/sha256/...) so skopeo and umoci can read it.
import { randomBytes } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { asStratumError, FormatError, IntegrityError, LimitError, NotFoundError } from '../errors.js';
import type { LayerIndex } from '../layer/entry.js';
import { digestHex, digestOf, isSha256, parseDigest, type Digest } from '../spec/digest.js';
import type { ContentLocation } from './content.js';
import { fillFileHashes } from './file-hashes.js';
import { latin1Json } from './latin1-json.js';
import { withLock } from './lock.js';

export function defaultStoreRoot(env: NodeJS.ProcessEnv = process.env): string {
  if (env.STRATUM_STORE) return path.resolve(env.STRATUM_STORE);
  if (env.XDG_CACHE_HOME) return path.join(path.resolve(env.XDG_CACHE_HOME), 'stratum');
  return path.join(os.homedir(), '.cache', 'stratum');
}

const OCI_LAYOUT = JSON.stringify({ imageLayoutVersion: '1.0.0' });

export class Store {
  readonly root: string;
  private readonly indexCache = new Map<string, LayerIndex>();
  /** Layers whose layer.tar this process wrote around the page cache (store/direct-file.ts): reads go around it too. */
  private readonly uncached = new Set<string>();
  private readonly layerTars = new Map<string, string>();

  private constructor(root: string) {
    this.root = root;
  }

  /** Opens (creating when needed) the store at root. */
  static async open(root: string = defaultStoreRoot()): Promise<Store> {
    const store = new Store(path.resolve(root));
    try {
      await fsp.mkdir(path.join(store.root, 'blobs', 'sha256'), { recursive: true, mode: 0o700 });
      await fsp.mkdir(path.join(store.root, 'layers', 'sha256'), { recursive: true, mode: 0o700 });
      await fsp.mkdir(path.join(store.root, 'tmp'), { recursive: true, mode: 0o700 });
      await store.writeIfAbsent('oci-layout', OCI_LAYOUT);
      await store.writeIfAbsent('index.json', JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.index.v1+json', manifests: [] }));
    } catch (err) {
      throw asStratumError(err, store.root);
    }
    return store;
  }

  private async writeIfAbsent(name: string, content: string): Promise<void> {
    const target = path.join(this.root, name);
    try {
      await fsp.access(target);
    } catch {
      await this.writeAtomic(target, content);
    }
  }

  /** Writes a small file by temp name + rename so a reader never sees half of it. */
  async writeAtomic(target: string, content: string | Buffer | Iterable<Buffer>): Promise<void> {
    const tmp = this.tmpPath('w');
    await fsp.writeFile(tmp, content, { mode: 0o644 });
    await fsp.rename(tmp, target);
  }

  blobPath(digest: Digest): string {
    if (!isSha256(digest)) throw new FormatError(`unsupported digest algorithm in ${digest}`, { digest });
    return path.join(this.root, 'blobs', 'sha256', digestHex(digest));
  }

  layerDir(diffID: Digest): string {
    if (!isSha256(diffID)) throw new FormatError(`unsupported diffID algorithm in ${diffID}`, { digest: diffID });
    return path.join(this.root, 'layers', 'sha256', digestHex(diffID));
  }

  /** The uncompressed layer tar, kept whole: its sha256 is the diffID, and regular files are ranges of it. */
  layerTar(diffID: Digest): string {
    return path.join(this.layerDir(diffID), 'layer.tar');
  }

  /** Where a file's bytes are: a range of layer.tar, or a sparse file's expanded copy under data/. */
  locate(diffID: Digest, ref: { offset?: number; data?: number }, size: number): ContentLocation {
    if (ref.offset !== undefined) {
      // Once per layer, not per file: the writers ask for thousands.
      let file = this.layerTars.get(diffID);
      if (file === undefined) this.layerTars.set(diffID, (file = this.layerTar(diffID)));
      const loc: ContentLocation = { file, offset: ref.offset, size };
      if (this.uncached.has(diffID)) loc.uncached = true;
      return loc;
    }
    return { file: path.join(this.layerDir(diffID), 'data', String(ref.data)), offset: 0, size };
  }

  /** A fresh private path under the store's temp area (not created). */
  tmpPath(prefix: string): string {
    return path.join(this.root, 'tmp', `${prefix}-${process.pid}-${randomBytes(6).toString('hex')}`);
  }

  async hasBlob(digest: Digest): Promise<boolean> {
    return exists(this.blobPath(digest));
  }

  async hasLayer(diffID: Digest): Promise<boolean> {
    return exists(path.join(this.layerDir(diffID), 'index.json'));
  }

  async readBlob(digest: Digest, maxBytes = 64 * 1024 * 1024): Promise<Buffer> {
    const p = this.blobPath(digest);
    let st;
    try {
      st = await fsp.stat(p);
    } catch {
      throw new NotFoundError(`blob ${digest} is not in the store ${this.root}`, { digest });
    }
    if (st.size > maxBytes) throw new LimitError(`blob ${digest} is ${st.size} bytes, over the ${maxBytes}-byte limit for JSON`, { digest });
    return fsp.readFile(p);
  }

  /** Stores bytes as a blob under their sha256 (idempotent) and returns the digest. */
  async putBlob(bytes: Buffer, expected?: Digest): Promise<Digest> {
    const digest = digestOf(bytes);
    if (expected && expected !== digest) {
      throw new IntegrityError(`blob ${expected}: content hashes to ${digest}`, { digest: expected, expected, actual: digest });
    }
    const target = this.blobPath(digest);
    if (!(await exists(target))) await this.writeAtomic(target, bytes);
    return digest;
  }

  /** Moves a verified temp file into place as a blob; a concurrent writer of the same digest is fine. */
  async commitBlobFile(tmpFile: string, digest: Digest): Promise<void> {
    await fsp.rename(tmpFile, this.blobPath(digest));
  }

  /** Moves a complete temp layer directory into place, or drops it if another process got there first. */
  async commitLayerDir(tmpDir: string, diffID: Digest): Promise<void> {
    const target = this.layerDir(diffID);
    try {
      await fsp.rename(tmpDir, target);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code !== 'ENOTEMPTY' && code !== 'EEXIST') throw err;
      await fsp.rm(tmpDir, { recursive: true, force: true });
    }
  }

  /** Caches an index this process just wrote, as readLayerIndex would have read it back. */
  rememberLayerIndex(index: LayerIndex): void {
    this.indexCache.set(index.diffID, index);
  }

  markUncached(diffID: Digest): void {
    this.uncached.add(diffID);
  }

  /**
   * A layer's index. With fileHashes (the default) every regular file has its sha256: an index imported without
   * them (LayerIndex.unhashed) gets them now, read from layer.tar, and is stored back so that happens once.
   */
  async readLayerIndex(diffID: Digest, opts: { fileHashes?: boolean } = {}): Promise<LayerIndex> {
    const index = this.indexCache.get(diffID) ?? (await this.loadLayerIndex(diffID));
    if (index.unhashed && (opts.fileHashes ?? true)) {
      fillFileHashes(index, (ref, size) => this.locate(diffID, ref, size));
      // Best effort: a store this user may read but not write still answers, and hashes again next time.
      await this.writeAtomic(path.join(this.layerDir(diffID), 'index.json'), Buffer.from(latin1Json(index), 'latin1')).catch(() => undefined);
    }
    return index;
  }

  private async loadLayerIndex(diffID: Digest): Promise<LayerIndex> {
    let raw: string;
    try {
      // One latin1 decode of the whole buffer: readFile's own decoding goes through a StringDecoder.
      raw = (await fsp.readFile(path.join(this.layerDir(diffID), 'index.json'))).toString('latin1');
    } catch {
      throw new NotFoundError(`layer ${diffID} is not unpacked in the store ${this.root}`, { digest: diffID });
    }
    // The index is written as latin1 JSON so byte-string paths round-trip exactly.
    const index = JSON.parse(raw) as LayerIndex;
    if (index.version !== 2) {
      throw new FormatError(`layer ${diffID} in the store ${this.root} has index format ${index.version}, this stratum reads 2 (remove the store, or \`stratum rm\` the images that use it, \`stratum gc\`, and import again)`, { digest: diffID });
    }
    index.diffID = parseDigest(index.diffID);
    this.indexCache.set(diffID, index);
    return index;
  }

  /** Runs fn while holding the store's index lock (several processes may import at once). */
  withIndexLock<T>(fn: () => Promise<T>): Promise<T> {
    return withLock(path.join(this.root, 'index.lock'), fn);
  }

  /** Removes temp entries left by processes that died (older than maxAgeMs and not ours). */
  async cleanTmp(maxAgeMs = 60 * 60 * 1000): Promise<number> {
    const dir = path.join(this.root, 'tmp');
    let removed = 0;
    for (const name of await fsp.readdir(dir).catch(() => [] as string[])) {
      const p = path.join(dir, name);
      const pid = Number(/^[a-z]+-(\d+)-/.exec(name)?.[1]);
      const st = await fsp.lstat(p).catch(() => undefined);
      if (!st) continue;
      const dead = Number.isFinite(pid) && pid > 0 && !isAlive(pid);
      if (dead || Date.now() - st.mtimeMs > maxAgeMs) {
        await fsp.rm(p, { recursive: true, force: true });
        removed++;
      }
    }
    return removed;
  }
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export async function exists(p: string): Promise<boolean> {
  try {
    await fsp.access(p);
    return true;
  } catch {
    return false;
  }
}
