// A medium-sized image for tests that need real work to interrupt or race: a few thousand files over three gzip
// layers (directories, small and larger files, symlinks, hardlinks, a whiteout and an opaque directory), made
// deterministically in memory, so every run and every worker builds the same bytes.
import { gzipSync } from 'node:zlib';
import { MediaType } from '../../src/spec/media-types.js';
import { imageOfBlobs, rawLayer, writeBuilt, type RawEntry } from './hostile.js';
import { sha256 } from './archive-builder.js';

/** A small deterministic PRNG (mulberry32), so tests can print a seed and be replayed. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Bytes that do not compress, cut from one seeded pool: filling every file byte by byte would cost seconds. */
function contentOf(rand: () => number): (size: number) => Buffer {
  const pool = Buffer.allocUnsafe(1 << 20);
  for (let i = 0; i < pool.length; i += 4) pool.writeUInt32LE((rand() * 2 ** 32) >>> 0, i);
  return (size) => {
    const at = (rand() * (pool.length - size)) | 0;
    return Buffer.from(pool.subarray(at, at + size));
  };
}

function layerEntries(rand: () => number, content: (size: number) => Buffer, layer: number, files: number): RawEntry[] {
  const out: RawEntry[] = [];
  const dirs = Math.ceil(files / 40);
  for (let d = 0; d < dirs; d++) out.push({ name: `l${layer}/d${d}/`, type: 'dir' });
  for (let i = 0; i < files; i++) {
    const r = rand();
    // Mostly small files, some empty, a few of 64-192 KiB: the shape of a real root filesystem, scaled down.
    const size = r < 0.1 ? 0 : r < 0.99 ? 64 + ((rand() * 1500) | 0) : 65536 + ((rand() * 131072) | 0);
    out.push({ name: `l${layer}/d${i % dirs}/f${i}`, body: content(size), mode: rand() < 0.1 ? 0o755 : 0o644 });
  }
  out.push({ name: `l${layer}/link`, type: 'symlink', linkname: `d0/f0` });
  out.push({ name: `l${layer}/hard`, type: 'hardlink', linkname: `l${layer}/d1/f1` });
  return out;
}

export interface MediumImage {
  /** The archive on disk (docker-archive with gzip layers). */
  file: string;
  files: number;
}

export interface MediumOptions {
  files?: number;
  seed?: number;
  /** Another top layer (the two lower ones stay byte-identical): images that overlap. */
  variant?: number;
  name?: string;
  tag?: string;
}

/** Writes the medium image into dir; `files` regular files in total. */
export async function writeMediumImage(dir: string, files = 2000, seed = 1, opts: Omit<MediumOptions, 'files' | 'seed'> = {}): Promise<MediumImage> {
  const rand = prng(seed);
  const content = contentOf(rand);
  const per = Math.floor(files / 3);
  const lower = [layerEntries(rand, content, 0, per), [...layerEntries(rand, content, 1, per), { name: 'l0/d1/.wh.f1' }, { name: 'l0/d2/.wh..wh..opq' }]];
  const topRand = opts.variant ? prng(seed * 1000 + opts.variant) : rand;
  const top = [...layerEntries(topRand, opts.variant ? contentOf(topRand) : content, 2, files - 2 * per), { name: 'l1/d3/f3', body: `replaced in layer 2 (${opts.variant ?? 0})\n` }];
  const layers = [...lower, top].map(rawLayer);
  const image = imageOfBlobs(layers.map((tar) => ({ bytes: gzipSync(tar, { level: 1 }), diffID: sha256(tar), mediaType: MediaType.ociLayerGzip })));
  return { file: await writeBuilt(dir, opts.name ?? 'medium.tar', image, { tag: opts.tag ?? 'medium:latest' }), files };
}
