// Memory stays flat whatever the image: flatten (import + write) of an image with one 1.25 GiB file and a couple
// of thousand small ones peaks under 200 MB of RSS, and a decompression-ratio bomb past the first GiB is refused by
// --max-ratio. The image is generated streaming (never in memory): the huge file is zeros, so its gzip layer is a
// few MB. bench/memory.mjs measures the full 10x image; this is the short version that runs with the tests.
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { createWriteStream, promises as fs } from 'node:fs';
import path from 'node:path';
import { createGzip, gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Digest } from '../../src/spec/digest.js';
import { MediaType } from '../../src/spec/media-types.js';
import { blob, dockerArchiveEntries, imageConfig, ociManifest, packTar, tempDir, type BuiltImage } from '../helpers/archive-builder.js';
import { rawLayer } from '../helpers/hostile.js';
import { expectOneLineRefusal, stratum } from '../helpers/jail.js';
import { block, EOA } from '../tar/build.js';

const HUGE = 1.25 * 1024 ** 3;
const LIMIT_MB = 200;

let root: string;
let image: string;
let probe: string;

/** Streams a gzip layer tar holding one file of `size` zeros to `file`; returns the digests, never the bytes. */
async function hugeZeroLayer(file: string, size: number): Promise<{ digest: Digest; diffID: Digest; size: number }> {
  const gzip = createGzip({ level: 6 });
  const out = createWriteStream(file);
  const blobHash = createHash('sha256');
  const diffHash = createHash('sha256');
  let blobSize = 0;
  gzip.on('data', (c: Buffer) => {
    blobHash.update(c);
    blobSize += c.length;
  });
  gzip.pipe(out);
  const write = async (b: Buffer) => {
    diffHash.update(b);
    if (!gzip.write(b)) await once(gzip, 'drain');
  };
  await write(block({ name: 'var/lib/huge.img', size }));
  const chunk = Buffer.alloc(1 << 20);
  for (let left = size; left > 0; left -= chunk.length) await write(left >= chunk.length ? chunk : chunk.subarray(0, left));
  await write(Buffer.alloc((512 - (size % 512)) % 512));
  await write(EOA);
  gzip.end();
  await once(out, 'finish');
  return { digest: `sha256:${blobHash.digest('hex')}` as Digest, diffID: `sha256:${diffHash.digest('hex')}` as Digest, size: blobSize };
}

beforeAll(async () => {
  root = await tempDir('stratum-memory-');
  probe = path.join(root, 'hwm-probe.mjs');
  // Read at exit from the kernel's own account of the peak (VmHWM), so nothing between samples is missed.
  await fs.writeFile(
    probe,
    `import { readFileSync, writeFileSync } from 'node:fs';
process.on('exit', () => {
  const m = /VmHWM:\\s+(\\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'));
  if (process.env.STRATUM_HWM_FILE && m) writeFileSync(process.env.STRATUM_HWM_FILE, m[1]);
});
`,
  );
  const hugeFile = path.join(root, 'huge-layer.gz');
  const huge = await hugeZeroLayer(hugeFile, HUGE);
  const small = rawLayer(Array.from({ length: 2000 }, (_, i) => ({ name: `usr/share/doc/p${i % 50}/f${i}`, body: `file ${i}\n`.repeat(1 + (i % 40)) })));
  const smallGz = gzipSync(small);
  const smallBlob = blob(smallGz, MediaType.ociLayerGzip);
  const config = blob(imageConfig([`sha256:${createHash('sha256').update(small).digest('hex')}` as Digest, huge.diffID]), MediaType.ociConfig);
  const hugeDesc = { mediaType: MediaType.ociLayerGzip, digest: huge.digest, size: huge.size };
  const manifest = blob(ociManifest(config.descriptor, [smallBlob.descriptor, hugeDesc]), MediaType.ociManifest);
  const built: BuiltImage = { config, layers: [smallBlob, { descriptor: hugeDesc, bytes: await fs.readFile(hugeFile) }], diffIDs: [], manifest, blobs: [] };
  image = path.join(root, 'big.tar');
  // The huge layer's blob is a few MB of gzip: small enough to pack in memory with the rest.
  await fs.writeFile(image, await packTar(dockerArchiveEntries([{ image: built, repoTags: ['big:latest'] }])));
  await fs.rm(hugeFile);
}, 120_000);
afterAll(() => fs.rm(root, { recursive: true, force: true }));

async function peakMB(args: string[]): Promise<{ mb: number; run: Awaited<ReturnType<typeof stratum>> }> {
  const hwm = path.join(root, `hwm-${Date.now()}`);
  const run = await stratum(args, { nodeArgs: ['--import', probe], env: { STRATUM_HWM_FILE: hwm }, timeoutMs: 180_000 });
  const kb = Number(await fs.readFile(hwm, 'utf8'));
  return { mb: kb / 1024, run };
}

describe('memory', () => {
  it(`flatten of an image with a 1.25 GiB file and 2000 small ones peaks under ${LIMIT_MB} MB RSS`, async () => {
    const out = path.join(root, 'out');
    const { mb, run } = await peakMB(['flatten', image, out, '--store', path.join(root, 'store'), '-q']);
    expect(run.code, run.stderr).toBe(0);
    console.log(`memory: flatten peak RSS ${mb.toFixed(1)} MB in ${(run.ms / 1000).toFixed(1)} s`);
    expect((await fs.stat(path.join(out, 'var/lib/huge.img'))).size).toBe(HUGE);
    expect(mb).toBeLessThan(LIMIT_MB);
    await fs.rm(out, { recursive: true, force: true });
    await fs.rm(path.join(root, 'store'), { recursive: true, force: true });
  }, 180_000);

  it('a layer whose unpacked/compressed ratio passes --max-ratio beyond the first GiB is refused, in flat memory', async () => {
    const store = path.join(root, 'store-ratio');
    const { mb, run } = await peakMB(['import', image, '--store', store, '--max-ratio', '100']);
    expectOneLineRefusal(run, /decompression ratio \d+:1 is over the 100:1 limit \(--max-ratio\)/);
    console.log(`memory: refused ratio bomb at peak RSS ${mb.toFixed(1)} MB`);
    expect(mb).toBeLessThan(LIMIT_MB);
    expect(await fs.readdir(path.join(store, 'tmp'))).toEqual([]);
  }, 180_000);
});
