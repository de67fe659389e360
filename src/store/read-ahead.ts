// Reading cold layer tars ahead of the directory writer, on a second thread.
//
// Why: right after an import, every layer.tar went to disk around the page cache (direct-file.ts), so the writer's
// reads wait on the device, on one core while the other sits idle: a profile put a third of the bench image's cold
// write phase in read(). Reading ahead took the phase from 915 to 773 ms (median of 8 interleaved pairs), and a
// cold flatten of the memory bench's 3.5 GiB file from 48-49 s to 37-40 s. The writer is synchronous by design (write/sliced.ts), so a promise cannot help it; a worker thread
// can. It reads the windows the writer will want, in the order it will want them, into a ring of page-aligned
// shared buffers, and the writer blocks (Atomics.wait) only when it outruns the disk. Whatever the ring cannot
// serve (an error, a read out of order) the caller reads itself, so the ring only ever saves time.
import { MessageChannel, Worker, type MessagePort } from 'node:worker_threads';
import { DIRECT_ALIGN } from './direct-file.js';

/** A byte range of one file the writer will read, in the order it will read them. */
export interface PlannedRead {
  file: string;
  offset: number;
  size: number;
}

/** One read the worker makes: `length` bytes of files[file] from `start`, both aligned for O_DIRECT. */
export interface Window {
  file: number;
  start: number;
  length: number;
}

export interface ReadAheadOptions {
  /** Bytes per window (a multiple of 64 KiB). */
  windowSize?: number;
  /** Windows in the ring. */
  slots?: number;
  /** Below this many planned bytes a worker costs more to start (~30 ms) than it saves. */
  minBytes?: number;
}

const WINDOW = 512 * 1024;
const SLOTS = 4;
const MIN_BYTES = 16 * 1024 * 1024;
/** Ranges closer than this share a window: reading the gap costs less than another request. */
const GAP = 256 * 1024;
/** Without progress from the worker this long, the writer stops waiting and reads for itself. */
const STALL_MS = 30_000;

// Control words, shared with the worker.
const PRODUCED = 0;
const CONSUMED = 1;
const STOP = 2;
const STARTED = 3;
const JOB = 4;
const LENGTHS = 5;

/** The reads, merged into aligned windows in the same order; files are numbered in order of first use. */
export function planWindows(reads: readonly PlannedRead[], windowSize = WINDOW): { files: string[]; windows: Window[] } {
  const files: string[] = [];
  const number = new Map<string, number>();
  const windows: Window[] = [];
  let cur: { file: number; start: number; end: number } | undefined;
  const flush = (): void => {
    if (cur === undefined) return;
    const end = Math.ceil(cur.end / DIRECT_ALIGN) * DIRECT_ALIGN;
    for (let p = cur.start - (cur.start % DIRECT_ALIGN); p < end; p += windowSize) {
      windows.push({ file: cur.file, start: p, length: Math.min(windowSize, end - p) });
    }
  };
  for (const r of reads) {
    if (r.size <= 0) continue;
    let file = number.get(r.file);
    if (file === undefined) {
      number.set(r.file, (file = files.length));
      files.push(r.file);
    }
    const end = r.offset + r.size;
    if (cur !== undefined && cur.file === file && r.offset >= cur.start && r.offset <= cur.end + GAP) {
      cur.end = Math.max(cur.end, end);
    } else {
      flush();
      cur = { file, start: r.offset, end };
    }
  }
  flush();
  return { files, windows };
}

/**
 * The reader thread with its shared ring and control words, idle until given its reads. Start it before the work
 * whose memory it outlives: made after an import, its few small long-lived allocations sit at the top of the C heap
 * and keep glibc from giving back what the import freed below them (cold flatten of the memory bench's scale-1
 * image: 240 MB peak RSS against 180 MB).
 */
export class ReaderThread {
  readonly ctl: Int32Array;
  readonly data: Buffer;
  readonly worker: Worker;
  private readonly port: MessagePort;
  /** Settles once the thread runs (true), or has ended without ever running (false). */
  readonly started: Promise<boolean>;
  private used = false;

  constructor(
    readonly windowSize = WINDOW,
    readonly slots = SLOTS,
  ) {
    // A shared WebAssembly memory is mapped whole, so it starts on a page boundary: aligned for O_DIRECT. Its pages
    // cost nothing until the thread reads into them.
    const pages = Math.ceil((windowSize * slots) / 65536);
    const data = new WebAssembly.Memory({ initial: pages, maximum: pages, shared: true }).buffer as unknown as SharedArrayBuffer;
    const ctl = new SharedArrayBuffer(4 * (LENGTHS + slots));
    const { port1, port2 } = new MessageChannel();
    this.port = port1;
    this.worker = new Worker(`(${readWindows.toString()})(require('node:worker_threads'), require('node:fs'))`, {
      eval: true,
      workerData: { data, ctl, windowSize, slots, port: port2 },
      transferList: [port2],
    });
    // A thread that fails only costs the time it would have saved: the writer reads for itself.
    this.worker.on('error', () => undefined);
    this.started = new Promise<boolean>((resolve) => {
      this.worker.once('message', () => resolve(true));
      this.worker.once('exit', () => resolve(false));
    });
    this.worker.unref();
    this.port.unref();
    this.ctl = new Int32Array(ctl);
    this.data = Buffer.from(data);
  }

  /** Hands the thread its windows; once only. */
  give(files: readonly string[], windows: readonly Window[]): void {
    if (this.used) throw new Error('reader thread: already given its reads');
    this.used = true;
    this.port.postMessage({ files, windows });
    Atomics.store(this.ctl, JOB, 1);
    Atomics.notify(this.ctl, JOB);
  }

  close(): void {
    Atomics.store(this.ctl, STOP, 1);
    Atomics.store(this.ctl, JOB, 1);
    Atomics.notify(this.ctl, JOB);
    Atomics.notify(this.ctl, CONSUMED);
    this.port.close();
    void this.worker.terminate();
  }
}

export class ReadAhead {
  private readonly files: Map<string, number>;
  private readonly data: Buffer;
  private readonly ctl: Int32Array;
  private readonly windowSize: number;
  private readonly slots: number;
  private next = 0;
  private stalled = false;

  private constructor(
    files: readonly string[],
    private readonly windows: readonly Window[],
    private readonly thread: ReaderThread,
  ) {
    this.files = new Map(files.map((f, i) => [f, i]));
    this.data = thread.data;
    this.ctl = thread.ctl;
    this.windowSize = thread.windowSize;
    this.slots = thread.slots;
  }

  /** Settles once the thread runs (true), or has ended without ever running (false). */
  get started(): Promise<boolean> {
    return this.thread.started;
  }

  /**
   * Gives these reads to `thread` (a new one when not given), or returns undefined when there are too few bytes to
   * be worth it; a given thread is then closed.
   */
  static start(reads: readonly PlannedRead[], opts: ReadAheadOptions = {}, thread?: ReaderThread): ReadAhead | undefined {
    const windowSize = thread?.windowSize ?? opts.windowSize ?? WINDOW;
    const { files, windows } = planWindows(reads, windowSize);
    const bytes = windows.reduce((n, w) => n + w.length, 0);
    if (windows.length === 0 || bytes < (opts.minBytes ?? MIN_BYTES)) {
      thread?.close();
      return undefined;
    }
    thread ??= new ReaderThread(windowSize, opts.slots ?? SLOTS);
    thread.give(files, windows);
    return new ReadAhead(files, windows, thread);
  }

  /**
   * Copies up to `max` bytes of `file` from offset `at` into `buf` at `into`, from the window that holds them,
   * first letting go of the windows the writer has moved past. Returns -1 when the ring cannot serve the read
   * (not planned, behind the current window, a failed or short read): the caller reads for itself.
   */
  take(file: string, at: number, buf: Buffer, into: number, max: number): number {
    const f = this.files.get(file);
    if (f === undefined || this.stalled) return -1;
    while (this.next < this.windows.length) {
      const i = this.next;
      const w = this.windows[i];
      if (w.file === f && at >= w.start && at < w.start + w.length) {
        // Until the thread is up (~70 ms) the writer reads for itself; the thread then starts where it is.
        if (Atomics.load(this.ctl, STARTED) === 0 && Atomics.load(this.ctl, PRODUCED) <= i) return -1;
        const length = this.await(i);
        if (length < 0 || at >= w.start + length) return -1;
        const from = (i % this.slots) * this.windowSize + (at - w.start);
        const n = Math.min(max, w.start + length - at);
        return this.data.copy(buf, into, from, from + n);
      }
      if (w.file > f || (w.file === f && at < w.start)) return -1;
      // The writer has moved past window i: give its slot back to the worker.
      this.next = i + 1;
      Atomics.store(this.ctl, CONSUMED, this.next);
      Atomics.notify(this.ctl, CONSUMED);
    }
    return -1;
  }

  /** The length the worker read into window i (negative on failure), once it is there. */
  private await(i: number): number {
    const deadline = performance.now() + STALL_MS;
    for (;;) {
      const produced = Atomics.load(this.ctl, PRODUCED);
      if (produced > i) return Atomics.load(this.ctl, LENGTHS + (i % this.slots));
      if (performance.now() > deadline) {
        this.stalled = true;
        return -1;
      }
      Atomics.wait(this.ctl, PRODUCED, produced, 100);
    }
  }

  close(): void {
    this.thread.close();
  }
}

interface WorkerData {
  data: SharedArrayBuffer;
  ctl: SharedArrayBuffer;
  windowSize: number;
  slots: number;
  port: MessagePort;
}

interface Job {
  files: string[];
  windows: Window[];
}

/**
 * The worker's whole program, run from its source text (no file to find beside the compiled module), so it uses
 * only its arguments. It stays at most `slots - 1` windows ahead of the one the writer holds, and marks a failed read with length -1.
 */
function readWindows(threads: typeof import('node:worker_threads'), fs: typeof import('node:fs')): void {
  const wd = threads.workerData as WorkerData;
  const [produced, consumed, stop, started, job, lengths] = [0, 1, 2, 3, 4, 5];
  const ctl = new Int32Array(wd.ctl);
  const data = Buffer.from(wd.data);
  const fds = new Map<number, number>();
  Atomics.store(ctl, started, 1);
  threads.parentPort?.postMessage('started');
  while (Atomics.load(ctl, job) === 0) Atomics.wait(ctl, job, 0);
  const given = threads.receiveMessageOnPort(wd.port)?.message as Job | undefined;
  if (given === undefined || Atomics.load(ctl, stop) !== 0) return;
  const { files, windows } = given;
  try {
    for (let i = 0; i < windows.length; i++) {
      // Windows the writer read for itself while this thread was starting are not read again.
      i = Math.max(i, Atomics.load(ctl, consumed));
      if (i >= windows.length) break;
      for (;;) {
        if (Atomics.load(ctl, stop) !== 0) return;
        const done = Atomics.load(ctl, consumed);
        // Window i takes the slot of window i - slots, which the writer may still be copying from until it moves on.
        if (i - done < wd.slots) break;
        Atomics.wait(ctl, consumed, done, 1000);
      }
      const w = windows[i];
      const slot = i % wd.slots;
      let length = -1;
      try {
        let fd = fds.get(w.file);
        if (fd === undefined) {
          fd = fs.openSync(files[w.file], fs.constants.O_RDONLY | fs.constants.O_DIRECT);
          fds.set(w.file, fd);
        }
        const into = data.subarray(slot * wd.windowSize, slot * wd.windowSize + w.length);
        length = 0;
        while (length < w.length) {
          const n = fs.readSync(fd, into, length, w.length - length, w.start + length);
          if (n === 0) break;
          length += n;
        }
      } catch {
        length = -1;
      }
      Atomics.store(ctl, lengths + slot, length);
      Atomics.store(ctl, produced, i + 1);
      Atomics.notify(ctl, produced);
    }
  } finally {
    for (const fd of fds.values()) fs.closeSync(fd);
  }
}
