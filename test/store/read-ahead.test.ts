// Reading a layer.tar around the page cache ahead of the writer: whatever the writer awaits or not, and in whatever
// state a window is when it gets there, it reads exactly the stored bytes.
import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ContentFiles, type ContentLocation } from '../../src/store/content.js';
import { WINDOW } from '../../src/store/read-ahead.js';
import { tempDir } from '../helpers/archive-builder.js';

const dirs: string[] = [];
afterEach(async () => {
  for (const d of dirs.splice(0)) await fs.rm(d, { recursive: true, force: true });
});

/** A seeded generator, so a failure names a case that can be run again. */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => ((s = (Math.imul(s ^ (s >>> 15), 0x2c1b3c6d) + 0x6d2b79f5) >>> 0) / 2 ** 32);
}

async function storedFile(size: number): Promise<{ file: string; data: Buffer }> {
  const d = await tempDir('stratum-ahead-');
  dirs.push(d);
  const file = path.join(d, 'layer.tar');
  const data = randomBytes(size);
  await fs.writeFile(file, data);
  return { file, data };
}

/** Ranges in file order with gaps (bytes the writer skips), mostly small files, some bigger than a window. */
function ranges(file: string, size: number, rand: () => number): ContentLocation[] {
  const out: ContentLocation[] = [];
  for (let at = Math.floor(rand() * 5000); at < size; ) {
    const r = rand();
    const len = Math.min(size - at, r < 0.05 ? Math.floor(rand() * 3 * WINDOW) : r < 0.15 ? 0 : Math.floor(rand() * 64 * 1024));
    out.push({ file, offset: at, size: len, uncached: true });
    at += len + (rand() < 0.3 ? Math.floor(rand() * 2 * WINDOW) : 512 - (len % 512));
  }
  return out;
}

function readAll(files: ContentFiles, loc: ContentLocation, buf: Buffer): Buffer {
  const parts: Buffer[] = [];
  for (let pos = 0; pos < loc.size; ) {
    const n = files.read(loc, buf, pos);
    expect(n).toBeGreaterThan(0);
    parts.push(Buffer.from(buf.subarray(0, n)));
    pos += n;
  }
  return Buffer.concat(parts);
}

describe('read-ahead of uncached store files', () => {
  for (const [name, awaitShare] of [['the writer awaits every window', 1], ['it awaits some', 0.5], ['it never awaits', 0]] as const) {
    it(`gives the stored bytes when ${name}`, async () => {
      const { file, data } = await storedFile(9 * WINDOW + 12345);
      for (let seed = 1; seed <= 8; seed++) {
        const rand = rng(seed * 7919 + awaitShare * 100);
        const locs = ranges(file, data.length, rand);
        const files = new ContentFiles();
        const buf = Buffer.alloc(rand() < 0.5 ? 1024 * 1024 : 100_000);
        try {
          files.plan(locs);
          for (const loc of locs) {
            const pending = files.ready(loc);
            if (pending && rand() < awaitShare) await pending;
            // Sometimes the writer gets ahead of the threadpool by turning the event loop late.
            if (rand() < 0.1) await new Promise((r) => setImmediate(r));
            expect(readAll(files, loc, buf).equals(data.subarray(loc.offset, loc.offset + loc.size)), `seed ${seed} offset ${loc.offset} size ${loc.size}`).toBe(true);
          }
          if (awaitShare === 1) expect(files.readAheadServed).toBeGreaterThan(locs.filter((l) => l.size > 0).length / 2);
        } finally {
          await files.settle();
          files.close();
        }
      }
    });
  }

  it('a file that runs into the next window, once awaited, is read from the windows alone: the writer never reads its tail itself', async () => {
    const { file, data } = await storedFile(11 * WINDOW);
    // Each one starts 3000 bytes before a window's end; the bigger ones span three and four windows.
    const locs = [1, 2, 3, 4, 6, 8].map((i, n) => ({ file, offset: i * WINDOW - 3000, size: n < 4 ? 8000 : n === 4 ? WINDOW + 8000 : 2 * WINDOW + 8000, uncached: true }));
    const files = new ContentFiles();
    const buf = Buffer.alloc(2000);
    try {
      files.plan(locs);
      for (const loc of locs) {
        await files.ready(loc);
        for (let pos = 0; pos < loc.size; ) {
          const n = files.read(loc, buf, pos);
          if (n === 0) throw new Error(`nothing read at ${loc.offset}+${pos} of ${loc.size}`);
          expect(buf.subarray(0, n).equals(data.subarray(loc.offset + pos, loc.offset + pos + n))).toBe(true);
          pos += n;
        }
      }
      expect(files.readsOfItsOwn).toBe(0);
    } finally {
      await files.settle();
      files.close();
    }
  });

  it('holds a few windows whatever the number of store files: a file the writer has left gives its buffers back', async () => {
    const stored = await Promise.all(Array.from({ length: 12 }, () => storedFile(3 * WINDOW)));
    const locs = stored.flatMap(({ file }) => [0, 1, 2].map((i) => ({ file, offset: i * WINDOW + 512, size: 4096, uncached: true })));
    const files = new ContentFiles();
    const buf = Buffer.alloc(8192);
    let most = 0;
    try {
      files.plan(locs);
      for (const loc of locs) {
        await files.ready(loc);
        const data = stored.find((s) => s.file === loc.file)!.data;
        expect(readAll(files, loc, buf).equals(data.subarray(loc.offset, loc.offset + loc.size))).toBe(true);
        most = Math.max(most, files.readAheadHeld);
      }
      expect(files.readAheadServed).toBe(locs.length);
      // One file's windows ahead (4 at most), plus a window of the file before whose read had not ended yet.
      expect(most).toBeLessThanOrEqual(5);
    } finally {
      await files.settle();
      files.close();
    }
  });

  it('reads out of the planned order, and twice, still give the stored bytes', async () => {
    const { file, data } = await storedFile(4 * WINDOW);
    const locs = [0, 1, 2, 3].map((i) => ({ file, offset: i * WINDOW + 100, size: 5000, uncached: true }));
    const files = new ContentFiles();
    const buf = Buffer.alloc(8192);
    try {
      files.plan(locs);
      for (const loc of [locs[2], locs[0], locs[3], locs[3], locs[1]]) {
        await files.ready(loc);
        expect(readAll(files, loc, buf).equals(data.subarray(loc.offset, loc.offset + loc.size))).toBe(true);
      }
    } finally {
      await files.settle();
      files.close();
    }
  });

  it('a store file cut short after the plan ends the read early, as without read-ahead', async () => {
    const { file } = await storedFile(3 * WINDOW);
    const loc = { file, offset: 2 * WINDOW + 10, size: 50_000, uncached: true };
    const files = new ContentFiles();
    try {
      files.plan([loc]);
      await fs.truncate(file, 2 * WINDOW + 4096);
      await files.ready(loc);
      const buf = Buffer.alloc(65536);
      let got = 0;
      for (let n = files.read(loc, buf, 0); n > 0; n = files.read(loc, buf, got)) got += n;
      expect(got).toBe(4096 - 10);
    } finally {
      await files.settle();
      files.close();
    }
  });
});
