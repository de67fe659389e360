// Reading a regular file's bytes back out of the store. A layer is kept as its uncompressed tar (layer.tar,
// whose sha256 is the diffID) and each file is a byte range of it; only sparse files, whose bytes are not one
// run of the tar, have an expanded copy of their own under data/. Every reader goes through here.
import { closeSync, constants, createReadStream, openSync, promises as fsp, readSync, type ReadStream } from 'node:fs';
import { asStratumError, IntegrityError, NotFoundError } from '../errors.js';
import { DIRECT_ALIGN, directIoSupported, returnAlignedSlots, takeAlignedSlots } from './direct-file.js';
import { ReadAhead } from './read-ahead.js';

/** `size` bytes of `file` from `offset`. */
export interface ContentLocation {
  file: string;
  offset: number;
  size: number;
  /** The file is not in the page cache (this process wrote it with O_DIRECT): read around the cache too. */
  uncached?: boolean;
}

/** An open store file; a direct one reads aligned windows (256 KiB), each serving many small files in a row. */
interface OpenFile {
  fd: number;
  window?: { buf: Buffer; start: number; length: number };
  /** The windows a writer said it will read (plan), read ahead of it. */
  ahead?: ReadAhead;
}

/**
 * Sync reads of stored content for the writers, which copy thousands of files: one descriptor per store file
 * (a layer.tar serves every file of its layer), and plain sync calls, since a threadpool round trip per small
 * file costs more than the read itself. Close it when done.
 */
export class ContentFiles {
  private readonly files = new Map<string, OpenFile>();
  /** The read-ahead the writer is in: the writer goes through the store files one after another. */
  private active: ReadAhead | undefined;

  /** Reads the location's bytes from `pos` into `buf` until it is full or the range ends; returns the count. */
  read(loc: ContentLocation, buf: Buffer, pos: number, what?: string): number {
    const file = this.open(loc, what);
    const want = Math.min(buf.length, loc.size - pos);
    let got = 0;
    try {
      while (got < want) {
        const at = loc.offset + pos + got;
        const n = file.window ? this.fromWindow(file, buf, got, want - got, at) : readSync(file.fd, buf, got, want - got, at);
        if (n === 0) break;
        got += n;
      }
    } catch (err) {
      throw asStratumError(err, loc.file);
    }
    return got;
  }

  /**
   * Announces the reads to come, in order: a file read around the page cache then gets its windows read ahead.
   * Await ready() before each read of a planned range. Returns whether anything will be read ahead (if not, ready()
   * never has anything to wait for).
   */
  plan(locs: Iterable<ContentLocation>): boolean {
    let any = false;
    for (const loc of locs) {
      if (!loc.uncached || loc.size === 0) continue;
      const file = this.open(loc);
      if (file.window === undefined) continue;
      file.ahead ??= new ReadAhead(file.fd);
      file.ahead.add(loc.offset, loc.size);
      any = true;
    }
    return any;
  }

  /** A promise when bytes of a planned range are still being read ahead. */
  ready(loc: ContentLocation): Promise<void> | undefined {
    const ahead = this.files.get(loc.file)?.ahead;
    return ahead && this.enter(ahead).ready(loc.offset, loc.offset + loc.size);
  }

  /**
   * Makes `ahead` the file being read. The one before keeps up to its last window read and never passed: retired,
   * its buffers go back, or an image of many layers would hold a few MiB per layer until the end.
   */
  private enter(ahead: ReadAhead): ReadAhead {
    if (ahead !== this.active) {
      this.active?.retire();
      this.active = ahead;
    }
    return ahead;
  }

  /** Read-ahead buffers held now, over all files (the tests look). */
  get readAheadHeld(): number {
    let n = 0;
    for (const f of this.files.values()) n += f.ahead?.buffersHeld ?? 0;
    return n;
  }

  /** Reads of a file with windows planned that the writer made itself, the window it needed not being there. */
  readsOfItsOwn = 0;

  /** How many reads were served from windows read ahead. */
  get readAheadServed(): number {
    let n = 0;
    for (const f of this.files.values()) n += f.ahead?.served ?? 0;
    return n;
  }

  /** Waits for reads still in the threadpool: they use this object's descriptors. Call before close(). */
  async settle(): Promise<void> {
    await Promise.all([...this.files.values()].map((f) => f.ahead?.settle()));
  }

  /** Copies from the window holding `at`, loading it first when it does not; 0 at the end of the file. */
  private fromWindow(file: OpenFile, buf: Buffer, into: number, max: number, at: number): number {
    const early = file.ahead && this.enter(file.ahead).window(at);
    if (early) return early.buf.copy(buf, into, at - early.start, Math.min(early.length, at - early.start + max));
    const w = file.window!;
    if (at < w.start || at >= w.start + w.length) {
      // Reading on from the last window (the flatten writer copies files in layer order) takes a whole window;
      // a jump (the tar writer goes in path order) takes just the aligned cover of this file, at least 64 KiB.
      const onward = w.length > 0 && at >= w.start + w.length && at < w.start + w.length + w.buf.length;
      const start = at - (at % DIRECT_ALIGN);
      const cover = Math.ceil((at - start + max) / DIRECT_ALIGN) * DIRECT_ALIGN;
      const size = onward ? w.buf.length : Math.min(w.buf.length, Math.max(cover, 64 * 1024));
      w.start = start;
      w.length = 0;
      if (file.ahead) this.readsOfItsOwn++;
      w.length = readSync(file.fd, w.buf, 0, size, start);
      if (at >= w.start + w.length) return 0;
    }
    return w.buf.copy(buf, into, at - w.start, Math.min(w.length, at - w.start + max));
  }

  close(): void {
    for (const file of this.files.values()) {
      closeSync(file.fd);
      if (file.window) returnAlignedSlots([file.window.buf]);
    }
    this.files.clear();
  }

  private open(loc: ContentLocation, what?: string): OpenFile {
    let file = this.files.get(loc.file);
    if (file === undefined) {
      file = openStoreFile(loc, what);
      this.files.set(loc.file, file);
    }
    return file;
  }
}

/** O_DIRECT where the location asks for it and the filesystem allows it; otherwise a plain descriptor. */
function openStoreFile(loc: ContentLocation, what?: string): OpenFile {
  if (loc.uncached && directIoSupported()) {
    try {
      const fd = openSync(loc.file, constants.O_RDONLY | constants.O_DIRECT);
      const window = { buf: takeAlignedSlots(1)[0], start: 0, length: 0 };
      try {
        // A filesystem may take O_DIRECT at open and refuse it at read: find out now, not mid-copy. The read is
        // the first window, which the layer-ordered writer wants next anyway.
        window.length = readSync(fd, window.buf, 0, window.buf.length, 0);
        return { fd, window };
      } catch {
        closeSync(fd);
        returnAlignedSlots([window.buf]);
      }
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw missing(err, loc, what);
    }
  }
  try {
    return { fd: openSync(loc.file, 'r') };
  } catch (err) {
    throw missing(err, loc, what);
  }
}

/** The error for content that came back short: the store was damaged after import (`stratum verify` says more). */
export function shortContent(loc: ContentLocation, got: number, what: string): IntegrityError {
  return new IntegrityError(`${what}: stored content ${describe(loc)} ends after ${got} of ${loc.size} bytes`, {
    file: loc.file,
    expected: loc.size,
    actual: got,
  });
}

export function describe(loc: ContentLocation): string {
  return loc.offset === 0 && !loc.file.endsWith('layer.tar') ? loc.file : `${loc.file} at ${loc.offset}`;
}

/** A stream of exactly the location's bytes (fewer if the store file is short: callers check the count). */
export async function contentStream(loc: ContentLocation): Promise<ReadStream> {
  try {
    await fsp.access(loc.file);
  } catch (err) {
    throw missing(err, loc);
  }
  return createReadStream(loc.file, { start: loc.offset, end: loc.offset + loc.size - 1, highWaterMark: 1024 * 1024 });
}

/** The whole content in memory: for diff's text comparison of one file, never for layers. */
export async function readContent(loc: ContentLocation): Promise<Buffer> {
  if (loc.size === 0) return Buffer.alloc(0);
  let handle;
  try {
    handle = await fsp.open(loc.file, 'r');
  } catch (err) {
    throw missing(err, loc);
  }
  try {
    const buf = Buffer.allocUnsafe(loc.size);
    let got = 0;
    while (got < loc.size) {
      const { bytesRead } = await handle.read(buf, got, loc.size - got, loc.offset + got);
      if (bytesRead === 0) break;
      got += bytesRead;
    }
    return buf.subarray(0, got);
  } finally {
    await handle.close();
  }
}

function missing(err: unknown, loc: ContentLocation, what?: string): Error {
  if ((err as NodeJS.ErrnoException).code !== 'ENOENT') return asStratumError(err, loc.file);
  return new NotFoundError(`${what ? `${what}: ` : ''}content ${loc.file} is missing from the store`, { file: loc.file });
}
