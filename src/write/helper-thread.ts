// The main thread's side of the directory writer's second thread. Creating files is kernel work that two cores do
// side by side (GNU tar, twice at once on halves of the bench image's tree: 0.22-0.31 s against 0.42-0.52 s for one),
// so a big tree's leaves are written by two threads. The helper boots (~50 ms alone, more beside other work) while
// the plan is made (ops/flatten.ts starts it) or the directories are (writeDir); small trees never start one.
import { existsSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import { fromPlainError, IoError } from '../errors.js';
import { claim, HELPER, MAIN, stop, type FromHelper, type ToHelper } from './helper-protocol.js';
import { emptyTally, type LeafTally, type LeafTask } from './leaf-task.js';
import type { Identity } from './nodes.js';

/** Leaves per chunk: a few ms of work, so the threads end within a few ms of each other. */
const CHUNK = 64;
/** Chunks posted to the helper and not yet answered: enough to keep it busy while the main thread does not yield. */
const QUEUED = 8;

export class HelperThread {
  /** Leaves per chunk. */
  readonly chunk: number;
  private readonly worker: Worker;
  private claims: Int32Array<ArrayBufferLike> = new Int32Array(1);
  private tasksOf: (index: number) => LeafTask[] = () => [];
  /** The next chunk to post, counting down; -1 when every chunk was posted. */
  private next = -1;
  private unanswered = 0;
  private readonly tally = emptyTally();
  private failure: { path?: string; error: Error } | undefined;
  private wake: (() => void) | undefined;
  private readonly exited: Promise<void>;
  private ended = false;
  private shared = false;
  /** Chunks the helper answered as written (or failed): each one it claimed is answered, unless it died. */
  private answeredClaims = 0;
  private readonly booted: Promise<void>;

  private constructor(worker: Worker, chunk: number) {
    this.worker = worker;
    this.chunk = chunk;
    this.exited = new Promise((resolve) => worker.once('exit', () => resolve()));
    this.booted = Promise.race([new Promise<void>((resolve) => worker.once('message', () => resolve())), this.exited]);
    worker.on('message', (m: FromHelper) => this.answered(m));
    worker.on('error', (err) => this.gone(err));
    worker.once('exit', () => this.gone(new IoError("the directory writer's helper thread stopped with work unanswered")));
  }

  /**
   * The thread is gone. A chunk it claimed and never answered may be half written: that fails the write. Anything
   * it never claimed is the main thread's (mine() claims it), so a thread that died while booting costs nothing.
   */
  private gone(err: Error): void {
    let claimed = 0;
    for (let i = 0; i < this.claims.length - 1; i++) if (Atomics.load(this.claims, i) === HELPER) claimed++;
    if (claimed > this.answeredClaims) this.fail(undefined, err);
    this.ended = true;
    this.unanswered = 0;
    this.wake?.();
  }

  /**
   * A helper thread, or undefined when its compiled module is missing or the thread cannot start. `chunk` (leaves
   * per chunk) is for tests: with 1, even a tiny tree is shared between the threads.
   */
  static start(opts: { chunk?: number } = {}): HelperThread | undefined {
    const file = workerFile();
    if (file === undefined) return undefined;
    try {
      return new HelperThread(new Worker(file, { resourceLimits: { maxYoungGenerationSizeMb: 2 } }), opts.chunk ?? CHUNK);
    } catch {
      return undefined;
    }
  }

  /** Resolves once the thread has loaded its modules and takes work (or has exited). */
  ready(): Promise<void> {
    return this.booted;
  }

  /** What the helper has written so far (the tests look). */
  get written(): Readonly<LeafTally> {
    return this.tally;
  }

  /**
   * Offers the helper the chunks of `count`, from the last one down; tasksOf(i) makes chunk i's tasks. From now on
   * the main thread writes a chunk only if mine(i) says it is its own.
   */
  share(init: { base: string; id: Identity; mask: number }, count: number, tasksOf: (index: number) => LeafTask[]): void {
    this.shared = true;
    const buffer = new SharedArrayBuffer(4 * (count + 1));
    this.claims = new Int32Array(buffer);
    this.tasksOf = tasksOf;
    this.next = count - 1;
    this.post({ type: 'init', ...init, claims: buffer });
    for (let i = 0; i < QUEUED; i++) this.postNext();
  }

  /** Whether chunk i is the main thread's to write (claimed now); false once the helper has it or has failed. */
  mine(index: number): boolean {
    return this.failure === undefined && claim(this.claims, index, MAIN);
  }

  get failed(): boolean {
    return this.failure !== undefined;
  }

  /** Waits for the chunks the helper claimed; what it wrote, or its first failure (with the path it was writing). */
  async finish(): Promise<{ tally: LeafTally; failure?: { path?: string; error: Error } }> {
    this.next = -1;
    while (this.unanswered > 0 && this.failure === undefined) await new Promise<void>((resolve) => (this.wake = resolve));
    return { tally: this.tally, failure: this.failure };
  }

  /** Stops the helper after the call it is in and waits until it has exited: nothing may write into staging after. */
  async close(): Promise<void> {
    // Never given work, it holds no descriptor: no need to wait for it to boot only to tell it to stop.
    if (!this.shared) {
      this.ended = true;
      await this.worker.terminate();
      return;
    }
    stop(this.claims);
    if (!this.ended) {
      this.ended = true;
      this.post({ type: 'end' });
    }
    await this.exited;
  }

  private post(m: ToHelper): void {
    this.worker.postMessage(m);
  }

  private postNext(): void {
    // A chunk the main thread has already claimed is not worth the copy.
    while (this.next >= 0 && Atomics.load(this.claims, this.next) !== 0) this.next = -1;
    if (this.next < 0 || this.failure !== undefined || this.ended) return;
    const index = this.next--;
    this.unanswered++;
    this.post({ type: 'chunk', index, tasks: this.tasksOf(index) });
  }

  private answered(m: FromHelper): void {
    if (m.type === 'ready') return;
    this.unanswered--;
    if (m.type !== 'declined') {
      this.answeredClaims++;
      add(this.tally, m.tally);
    }
    if (m.type === 'failed') this.fail(m.path, fromPlainError(m.error));
    else this.postNext();
    if (this.unanswered === 0 || this.failure !== undefined) this.wake?.();
  }

  private fail(path: string | undefined, error: Error): void {
    this.failure ??= { path, error };
    stop(this.claims);
    this.wake?.();
  }
}

function add(into: LeafTally, t: LeafTally): void {
  into.files += t.files;
  into.bytes += t.bytes;
  into.symlinks += t.symlinks;
  into.ownersLost += t.ownersLost;
}

function workerFile(): URL | undefined {
  const here = new URL('./leaf-worker.js', import.meta.url);
  if (existsSync(here)) return here;
  // Under the test runner this module is the .ts source, which a worker thread cannot load: its compiled twin in
  // dist/ is (npm test builds it first).
  const built = new URL(here.href.replace('/src/write/', '/dist/write/'));
  return built.href !== here.href && existsSync(built) ? built : undefined;
}
