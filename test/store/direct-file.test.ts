// The store's page-cache-bypassing files: what is written and read back is byte-exact whatever the chunking, on a
// filesystem that takes O_DIRECT and on one that refuses it (tmpfs), where both fall back to plain I/O.
import { createHash, randomBytes } from 'node:crypto';
import { constants as fsConstants, existsSync, promises as fs } from 'node:fs';
import { once } from 'node:events';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { SequentialFileWriter } from '../../src/store/direct-file.js';
import { ContentFiles } from '../../src/store/content.js';
import { ReaderThread } from '../../src/store/read-ahead.js';
import { tempDir } from '../helpers/archive-builder.js';

const dirs: string[] = [];
afterEach(async () => {
  vi.restoreAllMocks();
  for (const d of dirs.splice(0)) await fs.rm(d, { recursive: true, force: true });
});

async function place(kind: 'disk' | 'tmpfs'): Promise<string | undefined> {
  if (kind === 'tmpfs') {
    if (!existsSync('/dev/shm')) return undefined;
    const d = await fs.mkdtemp('/dev/shm/stratum-direct-');
    dirs.push(d);
    return d;
  }
  const d = await tempDir('stratum-direct-');
  dirs.push(d);
  return d;
}

/** Writes `data` in chunks of the given sizes (cycled) and waits for the writer to finish. */
async function writeChunked(file: string, data: Buffer, sizes: number[]): Promise<SequentialFileWriter> {
  const w = new SequentialFileWriter(file);
  let i = 0;
  for (let off = 0; off < data.length; i++) {
    const n = sizes[i % sizes.length];
    if (!w.write(data.subarray(off, off + n))) await once(w, 'drain');
    off += n;
  }
  w.end();
  await once(w, 'finish');
  return w;
}

const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

describe.each(['disk', 'tmpfs'] as const)('SequentialFileWriter on %s', (kind) => {
  let dir: string | undefined;
  beforeEach(async () => {
    dir = await place(kind);
  });

  it.each([
    ['empty', 0, [1]],
    ['one byte', 1, [1]],
    ['a 4 KiB block exactly', 4096, [4096]],
    ['3.5 MiB plus 3 bytes in odd chunks (slots fill across chunk boundaries)', 3.5 * 1024 * 1024 + 3, [1, 65537, 4095, 300000]],
    ['5 MiB in one chunk (more than all slots)', 5 * 1024 * 1024, [5 * 1024 * 1024]],
  ])('%s: the file holds exactly the bytes written', async (_name, size, sizes) => {
    if (!dir) return console.log('SKIPPED: no /dev/shm here');
    const data = randomBytes(size);
    const file = path.join(dir, 'out');
    const w = await writeChunked(file, data, sizes);
    const back = await fs.readFile(file);
    expect(back.length).toBe(size);
    expect(sha(back)).toBe(sha(data));
    // Linux takes O_DIRECT on ext4, and on tmpfs since 6.6; an older tmpfs falls back to the page cache.
    if (kind === 'disk') expect(w.direct).toBe(true);
  });

  it('refuses to replace an existing file', async () => {
    if (!dir) return console.log('SKIPPED: no /dev/shm here');
    const file = path.join(dir, 'taken');
    await fs.writeFile(file, 'keep');
    const w = new SequentialFileWriter(file);
    const [err] = (await once(w, 'error')) as [NodeJS.ErrnoException];
    expect(err.code).toBe('EEXIST');
    expect(await fs.readFile(file, 'utf8')).toBe('keep');
  });

  it('ContentFiles reads uncached ranges back exactly, in order and out of order', async () => {
    if (!dir) return console.log('SKIPPED: no /dev/shm here');
    const data = randomBytes(3 * 1024 * 1024 + 777);
    const file = path.join(dir, 'layer.tar');
    await writeChunked(file, data, [262144]);
    // Ranges like a layer's files: small and large, aligned and not, ascending, then shuffled, then past the end.
    const ranges: Array<[number, number]> = [
      [0, 0],
      [0, 512],
      [512, 10],
      [5000, 70000],
      [75000, 1024 * 1024 + 5],
      [2 * 1024 * 1024 - 1, 2],
      [3 * 1024 * 1024, 777],
    ];
    const shuffled = [...ranges].reverse();
    const files = new ContentFiles();
    const buf = Buffer.alloc(300000);
    try {
      for (const [offset, size] of [...ranges, ...shuffled]) {
        const loc = { file, offset, size, uncached: true };
        const parts: Buffer[] = [];
        for (let pos = 0; pos < size; ) {
          const n = files.read(loc, buf, pos);
          expect(n).toBeGreaterThan(0);
          parts.push(Buffer.from(buf.subarray(0, n)));
          pos += n;
        }
        expect(sha(Buffer.concat(parts))).toBe(sha(data.subarray(offset, offset + size)));
      }
      // A range the file does not hold comes back short, as with a plain descriptor.
      expect(files.read({ file, offset: data.length - 10, size: 100, uncached: true }, buf, 0)).toBe(10);
    } finally {
      files.close();
    }
  });
});

describe.each(['disk', 'tmpfs'] as const)('ContentFiles reading ahead on %s', (kind) => {
  let dir: string | undefined;
  beforeEach(async () => {
    dir = await place(kind);
  });

  /** Reads a whole range through `files`, in buffer-sized steps, as the writers do. */
  const readRange = (files: ContentFiles, loc: { file: string; offset: number; size: number; uncached: boolean }, buf: Buffer): Buffer => {
    const parts: Buffer[] = [];
    for (let pos = 0; pos < loc.size; ) {
      const n = files.read(loc, buf, pos);
      if (n === 0) break;
      parts.push(Buffer.from(buf.subarray(0, n)));
      pos += n;
    }
    return Buffer.concat(parts);
  };

  it('serves announced ranges of two files from the reader thread, byte-exact, and any other read from the file', async () => {
    if (!dir) return console.log('SKIPPED: no /dev/shm here');
    const a = randomBytes(3 * 1024 * 1024 + 100);
    const b = randomBytes(700 * 1024 + 3);
    const fa = path.join(dir, 'a.tar');
    const fb = path.join(dir, 'b.tar');
    const direct = (await writeChunked(fa, a, [262144])).direct;
    await writeChunked(fb, b, [262144]);
    // Like a layer's files in content order: a gap too wide to share a window, ranges spanning windows, a file
    // bigger than the ring (3 slots of 64 KiB), then the next layer.
    const plan = [
      { file: fa, offset: 0, size: 100 },
      { file: fa, offset: 100, size: 65536 * 2 + 7 },
      { file: fa, offset: 2 * 1024 * 1024 + 3, size: 1024 * 1024 },
      { file: fb, offset: 512, size: 3000 },
      { file: fb, offset: 4096 * 30 - 1, size: 400 * 1024 },
    ].map((r) => ({ ...r, uncached: true }));
    const data = (loc: (typeof plan)[number]): Buffer => (loc.file === fa ? a : b).subarray(loc.offset, loc.offset + loc.size);
    const files = new ContentFiles();
    const buf = Buffer.alloc(100000);
    try {
      files.readAhead(plan, { minBytes: 0, windowSize: 65536, slots: 3 });
      // The writer never waits for the thread to start; this test does, to see the ring serve every announced byte.
      expect(await files.readAheadStarted()).toBe(true);
      for (const loc of plan) expect(sha(readRange(files, loc, buf))).toBe(sha(data(loc)));
      const total = plan.reduce((n, l) => n + l.size, 0);
      expect(files.readAheadBytes).toBe(direct ? total : 0);
      // Out of order, behind the ring and never announced: all still exact, from the file itself.
      for (const loc of [plan[0], { file: fa, offset: 1000, size: 5000, uncached: true }, plan[3]]) {
        expect(sha(readRange(files, loc, buf))).toBe(sha(data(loc)));
      }
      expect(files.read({ file: fb, offset: b.length - 10, size: 100, uncached: true }, buf, 0)).toBe(10);
    } finally {
      files.close();
    }
  });

  it('a thread started before the reads are known (as flatten starts it, before the import) serves them once given', async () => {
    if (!dir) return console.log('SKIPPED: no /dev/shm here');
    const thread = new ReaderThread(65536, 3);
    expect(await thread.started).toBe(true);
    const a = randomBytes(1024 * 1024 + 5);
    const fa = path.join(dir, 'a.tar');
    await writeChunked(fa, a, [262144]);
    const plan = [
      { file: fa, offset: 10, size: 300000 },
      { file: fa, offset: 700000, size: a.length - 700000 },
    ].map((r) => ({ ...r, uncached: true }));
    const files = new ContentFiles();
    const buf = Buffer.alloc(100000);
    try {
      files.readAhead(plan, { minBytes: 0 }, thread);
      for (const loc of plan) expect(sha(readRange(files, loc, buf))).toBe(sha(a.subarray(loc.offset, loc.offset + loc.size)));
      expect(files.readAheadBytes).toBe(plan[0].size + plan[1].size);
    } finally {
      files.close();
    }
    // Closing the reads ends the thread too: nothing is left running.
    await once(thread.worker, 'exit');
  });

  it('a thread given too little to read is closed, and the reads come from the file', async () => {
    if (!dir) return console.log('SKIPPED: no /dev/shm here');
    const thread = new ReaderThread();
    const a = randomBytes(100000);
    const fa = path.join(dir, 'a.tar');
    await writeChunked(fa, a, [65536]);
    const files = new ContentFiles();
    const loc = { file: fa, offset: 5, size: 90000, uncached: true };
    try {
      files.readAhead([loc], undefined, thread);
      await once(thread.worker, 'exit');
      expect(sha(readRange(files, loc, Buffer.alloc(65536)))).toBe(sha(a.subarray(5, 90005)));
      expect(files.readAheadBytes).toBe(0);
    } finally {
      files.close();
    }
  });

  it('a file cut short after the announcement reads short, never stale or foreign bytes', async () => {
    if (!dir) return console.log('SKIPPED: no /dev/shm here');
    const a = randomBytes(1024 * 1024);
    const fa = path.join(dir, 'a.tar');
    await writeChunked(fa, a, [262144]);
    const plan = [0, 1, 2, 3].map((i) => ({ file: fa, offset: i * 262144, size: 262144, uncached: true }));
    const files = new ContentFiles();
    const buf = Buffer.alloc(262144);
    try {
      files.readAhead(plan, { minBytes: 0, windowSize: 65536, slots: 2 });
      await files.readAheadStarted();
      expect(sha(readRange(files, plan[0], buf))).toBe(sha(a.subarray(0, 262144)));
      await fs.truncate(fa, 262144 + 1000);
      const second = readRange(files, plan[1], buf);
      // Whatever the thread had read before the cut may still come from the ring; it is the file's bytes either way.
      expect(second.length).toBeGreaterThanOrEqual(1000);
      expect(sha(second)).toBe(sha(a.subarray(262144, 262144 + second.length)));
      expect(readRange(files, plan[3], buf).length).toBeLessThanOrEqual(262144);
    } finally {
      files.close();
    }
  });
});

describe('SequentialFileWriter where O_DIRECT is refused', () => {
  const einval = (): NodeJS.ErrnoException => Object.assign(new Error('EINVAL: invalid argument'), { code: 'EINVAL' });

  it('at open: writes through the page cache instead, byte-exact', async () => {
    const dir = (await place('disk'))!;
    const open = fs.open.bind(fs);
    vi.spyOn(fs, 'open').mockImplementation(async (file, flags, mode) => {
      if (typeof flags === 'number' && flags & fsConstants.O_DIRECT) throw einval();
      return open(file, flags, mode);
    });
    const data = randomBytes(2 * 1024 * 1024 + 99);
    const w = await writeChunked(path.join(dir, 'f'), data, [100000]);
    expect(w.direct).toBe(false);
    expect(sha(await fs.readFile(path.join(dir, 'f')))).toBe(sha(data));
  });

  it('at the first write: reopens without O_DIRECT and loses nothing already written', async () => {
    const dir = (await place('disk'))!;
    const probe = await fs.open(path.join(dir, 'probe'), 'w');
    const proto = Object.getPrototypeOf(probe) as { write: (...a: unknown[]) => Promise<unknown> };
    await probe.close();
    const write = proto.write;
    let refused = 0;
    vi.spyOn(proto, 'write').mockImplementation(async function (this: unknown, ...args: unknown[]) {
      // Refuse the second slot's write once, as a filesystem that checks only at write time would.
      if (refused === 0 && args[3] === 1024 * 1024) {
        refused++;
        throw einval();
      }
      return write.apply(this, args);
    });
    const data = randomBytes(3 * 1024 * 1024 + 5);
    const w = await writeChunked(path.join(dir, 'f'), data, [65536]);
    expect(refused).toBe(1);
    expect(w.direct).toBe(false);
    expect(sha(await fs.readFile(path.join(dir, 'f')))).toBe(sha(data));
  });
});
