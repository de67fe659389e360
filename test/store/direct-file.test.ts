// The store's page-cache-bypassing files: what is written and read back is byte-exact whatever the chunking, on a
// filesystem that takes O_DIRECT and on one that refuses it (tmpfs), where both fall back to plain I/O.
import { createHash, randomBytes } from 'node:crypto';
import { constants as fsConstants, existsSync, promises as fs } from 'node:fs';
import { once } from 'node:events';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { SequentialFileWriter } from '../../src/store/direct-file.js';
import { ContentFiles } from '../../src/store/content.js';
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
