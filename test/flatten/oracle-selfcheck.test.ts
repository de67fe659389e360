// The fast oracle (test/helpers/overlay-oracle.ts fastOracle, used by the other oracle tests) gives the same tree as
// the reference tool ../shared/corpus/tools/overlay-rootfs.sh, on the samples' v1 image (whiteouts, opaque dirs,
// type changes, hardlinks, xattrs, zstd) and on a generated image that takes the script's special paths: an implicit
// parent over a lower directory with its own mode and owner, a whiteout and an entry of the same name, a whiteout and
// a directory of the same name (opaque), device nodes. Root only.
//
// Not held against the script: a hardlink into a lower layer. GNU tar fails on it (no target in the layer), and the
// script then stops: under `set -euo pipefail` its `grep '/.wh.…Not a directory' | sed | while` finds nothing and
// the pipeline's status ends the script, before its own "copy from the lower view" step. The fast oracle copies as
// the script means to; the second test checks that path against stratum only.
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import tar from 'tar-stream';
import { describe, expect, it } from 'vitest';
import { compareWithOracle, fastOracle, type OracleTree, formatComparison, layoutLayerFiles, ociLayoutOfLayers, overlayStatus, removeTree, scriptOracle, tmpDir, warnSkipped } from '../helpers/overlay-oracle.js';
import { stratum } from '../helpers/oracle-images.js';
import { SAMPLES } from '../helpers/paths.js';

const status = await overlayStatus();
if (!status.ok) warnSkipped('fast oracle = overlay-rootfs.sh', status.reason);

type H = Partial<tar.Header> & { name: string; body?: string };

async function layer(entries: H[]): Promise<Buffer> {
  const pack = tar.pack();
  const chunks: Buffer[] = [];
  const done = (async () => {
    for await (const c of pack) chunks.push(c as Buffer);
  })();
  for (const { body, ...h } of entries) {
    const header = { mode: h.type === 'directory' ? 0o755 : 0o644, mtime: new Date(1_500_000_000_000), uid: 0, gid: 0, ...h };
    await new Promise<void>((resolve, reject) => {
      const cb = (err?: Error | null): void => (err ? reject(err) : resolve());
      if (header.type === undefined || header.type === 'file') pack.entry(header, Buffer.from(body ?? ''), cb);
      else pack.entry(header, cb);
    });
  }
  pack.finalize();
  await done;
  return Buffer.concat(chunks);
}

/** Both oracles, or neither: one failing must not leave the other's mount behind. */
async function both(a: Promise<OracleTree>, b: Promise<OracleTree>): Promise<[OracleTree, OracleTree]> {
  const [x, y] = await Promise.allSettled([a, b]);
  if (x.status === 'fulfilled' && y.status === 'fulfilled') return [x.value, y.value];
  for (const r of [x, y]) if (r.status === 'fulfilled') await r.value.cleanup();
  throw (x.status === 'rejected' ? x.reason : (y as PromiseRejectedResult).reason) as Error;
}

const d = (name: string, extra: Partial<tar.Header> = {}): H => ({ name: `${name}/`, type: 'directory', ...extra });
const f = (name: string, body = '', extra: Partial<tar.Header> = {}): H => ({ name, type: 'file', body, ...extra });

describe.skipIf(!status.ok)('fastOracle = overlay-rootfs.sh', () => {
  it('samples/oci-layout-mixed v1 (gzip, zstd and plain layers)', async () => {
    const layout = path.join(SAMPLES, 'oci-layout-mixed');
    const [script, fast] = await both(scriptOracle(layout, 'v1'), layoutLayerFiles(layout, 'v1').then(fastOracle));
    try {
      const c = await compareWithOracle(fast.dir, script);
      expect(c.differences, formatComparison('fast vs script', c)).toEqual([]);
      expect(c.compared).toBeGreaterThan(70);
    } finally {
      await script.cleanup();
      await fast.cleanup();
    }
  }, 300_000);

  const image = (lowerLink: boolean): Promise<Buffer[]> =>
    Promise.all([
        layer([
          d('a', { mode: 0o700, uid: 5, gid: 6, mtime: new Date(1_000_000_000) }),
          f('a/x', 'x'),
          f('t', '123', { mode: 0o640, uid: 7 }),
          d('keep', { mode: 0o750 }),
          f('keep/k', 'k'),
          d('w'),
          f('w/old', 'old'),
          { name: 'dev/null', type: 'character-device', devmajor: 1, devminor: 3, mode: 0o666 },
        ]),
        layer([
          f('a/y', 'y'), // implicit parent a over the lower 0700 5:6 directory
          ...(lowerLink ? [{ name: 't2', type: 'link' as const, linkname: 't' }] : []), // hardlink into the layer below
          f('keep/.wh.k'),
          f('x', 'new'),
          f('.wh.x'), // whiteout and entry of the same name: the entry stays
          f('w/.wh..wh..opq'),
          f('w/new', 'new'),
          { name: 'run/fifo', type: 'fifo' },
        ]),
        layer([
          f('.wh.a'),
          d('a', { mode: 0o711, mtime: new Date(1_200_000_000) }), // whiteout and directory: opaque
          f('a/z', 'z'),
          f('t', '456'), // t2 keeps 123
        ]),
      ]);

  it('a generated image through the script special cases (and stratum on it)', async () => {
    const work = await tmpDir('selfcheck');
    try {
      const layers = await image(false);
      const layout = path.join(work, 'layout');
      await ociLayoutOfLayers(layout, layers, 'gen');
      const [script, fast] = await both(scriptOracle(layout, 'gen'), fastOracle(layers));
      try {
        const c = await compareWithOracle(fast.dir, script);
        expect(c.differences, formatComparison('fast vs script', c)).toEqual([]);
        const names = (await fsp.readdir(fast.dir)).sort();
        expect(names).toEqual(['a', 'dev', 'keep', 'run', 't', 'w', 'x']);
        expect((await fsp.readdir(path.join(fast.dir, 'a'))).sort()).toEqual(['z']);
        expect((await fsp.stat(path.join(fast.dir, 'a'))).mode & 0o7777).toBe(0o711);

        const out = path.join(work, 'out');
        const r = await stratum(['flatten', '-q', '--store', path.join(work, 'store'), layout, out]);
        expect(r.code, r.stderr).toBe(0);
        const s = await compareWithOracle(out, fast);
        expect(s.differences, formatComparison('stratum vs fast oracle', s)).toEqual([]);
      } finally {
        await script.cleanup();
        await fast.cleanup();
      }
    } finally {
      await removeTree(work);
    }
  }, 300_000);

  it('the same with a hardlink into a lower layer: the fast oracle copies it; stratum links it and keeps the old content', async () => {
    const work = await tmpDir('selfcheck-link');
    try {
      const layers = await image(true);
      const layout = path.join(work, 'layout');
      await ociLayoutOfLayers(layout, layers, 'gen');
      const fast = await fastOracle(layers);
      try {
        expect(fast.lowerLinks).toEqual([{ name: 't2', target: 't' }]);
        const out = path.join(work, 'out');
        const r = await stratum(['flatten', '-q', '--store', path.join(work, 'store'), layout, out]);
        expect(r.code, r.stderr).toBe(0);
        const s = await compareWithOracle(out, fast);
        expect(s.differences, formatComparison('stratum vs fast oracle', s)).toEqual([]);
        expect(await fsp.readFile(path.join(out, 't2'), 'utf8')).toBe('123');
        expect(await fsp.readFile(path.join(out, 't'), 'utf8')).toBe('456');
      } finally {
        await fast.cleanup();
      }
    } finally {
      await removeTree(work);
    }
  }, 300_000);
});
