// The two I/O halves of tar export: reading stored content into batch buffers, and writing batches with backpressure.
import type { Writable } from 'node:stream';

export type Output = NodeJS.WritableStream | Writable;

/** One writev per batch; also the size of the slabs that content is read into. */
const BATCH = 1024 * 1024;

/**
 * Collects a batch and hands it over with one writev (cork/uncork). Backpressure with one batch of slack: a batch the
 * output could not take is waited for only before the next one goes out, so reading the next files overlaps the write.
 * Content is read straight into slabs (`reserve`), not one allocation per file: thousands of small files otherwise
 * keep the garbage collector busy for a third of the run.
 */
export class TarOutput {
  private pending: Buffer[] = [];
  private bytes = 0;
  private waiting: Promise<void> | undefined;
  private slab = Buffer.alloc(0);
  private used = 0;

  constructor(private readonly output: Output) {}

  /** n bytes to fill and then `add`; never reused, since the output may still hold them. */
  reserve(n: number): Buffer {
    if (n > BATCH) return Buffer.allocUnsafe(n);
    if (this.used + n > this.slab.length) {
      this.slab = Buffer.allocUnsafe(BATCH);
      this.used = 0;
    }
    this.used += n;
    return this.slab.subarray(this.used - n, this.used);
  }

  async add(buf: Buffer): Promise<void> {
    if (buf.length === 0) return;
    this.pending.push(buf);
    this.bytes += buf.length;
    if (this.bytes >= BATCH) await this.flush();
  }

  private async flush(): Promise<void> {
    if (this.pending.length === 0) return;
    await this.waiting;
    const out = this.output as Partial<Writable> & Output;
    const bufs = this.pending;
    this.pending = [];
    this.bytes = 0;
    out.cork?.();
    let ok = true;
    for (const b of bufs) ok = out.write(b);
    out.uncork?.();
    this.waiting = ok ? undefined : drained(out);
    // Rethrown by the next flush or by close; until then it must not count as unhandled.
    this.waiting?.catch(() => undefined);
  }

  /** Everything handed over and taken by the output. */
  async close(): Promise<void> {
    await this.flush();
    await this.waiting;
  }
}

/** An output that errors or closes while we wait fails the export instead of hanging it. */
function drained(output: Output): Promise<void> {
  return new Promise((resolve, reject) => {
    const done = (err?: Error): void => {
      output.removeListener('drain', onDrain);
      output.removeListener('error', onError);
      output.removeListener('close', onClose);
      if (err) reject(err);
      else resolve();
    };
    const onDrain = (): void => done();
    const onError = (err: Error): void => done(err);
    const onClose = (): void => done(new Error('the tar output was closed before the export finished'));
    output.on('drain', onDrain);
    output.on('error', onError);
    output.on('close', onClose);
  });
}
