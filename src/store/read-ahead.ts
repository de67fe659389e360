// Reading a layer.tar that is not in the page cache ahead of the writer, in libuv's threadpool.
//
// Why: after a cold import, layer.tar went to the device around the cache (direct-file.ts), and the writer, which
// makes files with plain synchronous calls, would wait on the device for every window it reads: about a third of
// its time on the bench image. The writer knows its reads up front (files in the order their bytes lie in the
// store), so the windows they need are read while it creates the files before them. Session 6 did this with a
// reader thread; its isolate's memory broke the RSS targets. Here the reads are plain async fs.read calls into a
// few aligned buffers, and the writer awaits only when the window it needs next is still on its way.

import { read } from 'node:fs';
import { DIRECT_ALIGN } from './direct-file.js';

/** One read: big enough that the device streams, small enough that DEPTH of them cost little memory. */
export const WINDOW = 1024 * 1024;
/** Windows read and not yet passed by the writer, at most. */
const DEPTH = 4;

interface Planned {
  start: number;
  state: 'planned' | 'reading' | 'done' | 'failed' | 'passed';
  buf?: Buffer;
  length: number;
  promise?: Promise<void>;
}

/** Aligned buffers for O_DIRECT reads (see takeAlignedSlots), made once per process and reused. */
const spare: Buffer[] = [];

function takeBuffer(): Buffer {
  if (spare.length === 0) {
    const mem = Buffer.from(new WebAssembly.Memory({ initial: (DEPTH * WINDOW) / 65536, maximum: (DEPTH * WINDOW) / 65536 }).buffer);
    for (let off = 0; off < mem.length; off += WINDOW) spare.push(mem.subarray(off, off + WINDOW));
  }
  return spare.pop()!;
}

/**
 * The planned windows of one direct file, in the order the writer will read them. A window is read at most once
 * by the threadpool; if the writer gets to it first (it read those bytes itself), the late result is dropped.
 */
export class ReadAhead {
  private readonly windows: Planned[] = [];
  /** First window the writer has not passed, and the next one to send to the threadpool. */
  private head = 0;
  private next = 0;
  private held = 0;
  /** End of the last planned window: a range already covered adds none. */
  private covered = 0;
  private readonly inFlight = new Set<Promise<void>>();
  /** Reads served from a window read ahead (the bench and the tests look). */
  served = 0;

  constructor(private readonly fd: number) {}

  /**
   * Plans the windows holding [offset, offset + size). Of a file bigger than DEPTH windows, only the first DEPTH: the
   * writer copies the rest in a loop of synchronous reads, during which no read of the threadpool can come back.
   */
  add(offset: number, size: number): void {
    const end = offset + Math.min(size, DEPTH * WINDOW - (offset % DIRECT_ALIGN));
    for (let pos = Math.max(offset, this.covered); pos < end; pos = this.covered) {
      const start = pos - (pos % DIRECT_ALIGN);
      this.windows.push({ start, state: 'planned', length: 0 });
      this.covered = start + WINDOW;
    }
  }

  /** The window holding `at`, if it has been read; passes (and frees) every window that ends at or before `at`. */
  window(at: number): { buf: Buffer; start: number; length: number } | undefined {
    this.passTo(at);
    const w = this.windows[this.head];
    this.pump();
    if (w === undefined || at < w.start || w.state !== 'done' || at >= w.start + w.length) return undefined;
    this.served++;
    return { buf: w.buf!, start: w.start, length: w.length };
  }

  /**
   * A promise when a window holding part of [at, end) is still being read: the writer awaits it before the file. A
   * file that runs into the next window waits for that one too, or the copy would read its tail itself while the
   * threadpool reads the same bytes.
   */
  ready(at: number, end = at + 1): Promise<void> | undefined {
    this.passTo(at);
    this.pump();
    const pending: Promise<void>[] = [];
    for (let i = this.head; i < this.windows.length && i < this.head + DEPTH; i++) {
      const w = this.windows[i];
      if (w.start >= end) break;
      if (w.state === 'reading') pending.push(w.promise!);
    }
    return pending.length <= 1 ? pending[0] : Promise.all(pending).then(() => undefined);
  }

  /** Buffers this file holds: windows read or being read, not yet passed. */
  get buffersHeld(): number {
    return this.held;
  }

  /** The writer has moved on to another file: pass every window left, so their buffers serve that file. */
  retire(): void {
    for (let w = this.windows[this.head]; w !== undefined; w = this.windows[++this.head]) this.pass(w);
    this.next = this.head;
  }

  /** Every read sent is finished (the descriptor and the buffers may go). */
  async settle(): Promise<void> {
    await Promise.all(this.inFlight);
  }

  private passTo(at: number): void {
    for (let w = this.windows[this.head]; w !== undefined && w.start + WINDOW <= at; w = this.windows[++this.head]) this.pass(w);
    // Reached before its read was sent: the writer read those bytes itself.
    if (this.next < this.head) this.next = this.head;
  }

  /** A window still being read gives its buffer back when the read ends. */
  private pass(w: Planned): void {
    if (w.state === 'done' || w.state === 'failed') this.release(w);
    w.state = 'passed';
  }

  private release(w: Planned): void {
    if (w.buf === undefined) return;
    spare.push(w.buf);
    w.buf = undefined;
    this.held--;
  }

  private pump(): void {
    while (this.next < this.windows.length && this.held < DEPTH) {
      const w = this.windows[this.next++];
      if (w.state !== 'planned') continue;
      w.buf = takeBuffer();
      this.held++;
      w.state = 'reading';
      const p = new Promise<void>((resolve) => {
        read(this.fd, w.buf!, 0, WINDOW, w.start, (err, n) => {
          if (w.state === 'passed') this.release(w);
          else if (err) w.state = 'failed';
          else {
            w.state = 'done';
            w.length = n;
          }
          this.inFlight.delete(p);
          resolve();
        });
      });
      w.promise = p;
      this.inFlight.add(p);
    }
  }
}
