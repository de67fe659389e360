// Pull-based reading of an async chunk stream: zero-copy slices, exact reads that copy only across chunk
// boundaries, and the absolute offset of the next unread byte (for error messages).
const EMPTY = Buffer.alloc(0);

function asBuffer(chunk: Uint8Array): Buffer {
  return Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
}

export class ByteSource {
  private readonly it: AsyncIterator<Uint8Array>;
  private buf: Buffer = EMPTY;
  private pos = 0;
  private ended = false;
  /** Absolute offset of the next unread byte. */
  offset = 0;

  constructor(input: AsyncIterable<Uint8Array>) {
    this.it = input[Symbol.asyncIterator]();
  }

  /** Makes unread bytes available; false at the end of the input. */
  private async fill(): Promise<boolean> {
    while (this.pos >= this.buf.length) {
      if (this.ended) return false;
      const r = await this.it.next();
      if (r.done) {
        this.ended = true;
        this.buf = EMPTY;
        this.pos = 0;
        return false;
      }
      this.buf = asBuffer(r.value);
      this.pos = 0;
    }
    return true;
  }

  // The *Buffered methods are synchronous fast paths: most headers and small bodies sit inside the
  // current chunk, and skipping an await per call is most of the per-entry cost.

  /** Up to `max` bytes of the current chunk as a view (no copy); null when the chunk is used up. */
  takeBuffered(max: number): Buffer | null {
    const n = Math.min(max, this.buf.length - this.pos);
    if (n <= 0) return null;
    const out = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    this.offset += n;
    return out;
  }

  /** Exactly `n` bytes as a view when the current chunk holds them; null otherwise (nothing consumed). */
  takeExactBuffered(n: number): Buffer | null {
    return this.buf.length - this.pos >= n ? this.takeBuffered(n) : null;
  }

  /** Discards up to `n` bytes of the current chunk; returns how many. */
  skipBuffered(n: number): number {
    const step = Math.min(n, this.buf.length - this.pos);
    this.pos += step;
    this.offset += step;
    return step;
  }

  /** Up to `max` bytes as a view of the current chunk (no copy); null at the end of the input. */
  async read(max: number): Promise<Buffer | null> {
    if (this.pos >= this.buf.length && !(await this.fill())) return null;
    return this.takeBuffered(max);
  }

  /** Exactly `n` bytes, or fewer only when the input ends first. */
  async readExact(n: number): Promise<Buffer> {
    const view = this.takeExactBuffered(n);
    if (view) return view;
    const out = Buffer.allocUnsafe(n);
    let got = 0;
    while (got < n) {
      const part = await this.read(n - got);
      if (!part) return out.subarray(0, got);
      part.copy(out, got);
      got += part.length;
    }
    return out;
  }

  /** Discards up to `n` bytes; returns how many were there. */
  async skip(n: number): Promise<number> {
    let left = n - this.skipBuffered(n);
    while (left > 0 && (await this.fill())) left -= this.skipBuffered(left);
    return n - left;
  }

  /** Pulls every remaining chunk so whoever hashes the input upstream sees all of it. */
  async drain(): Promise<void> {
    this.offset += this.buf.length - this.pos;
    this.buf = EMPTY;
    this.pos = 0;
    while (!this.ended) {
      const r = await this.it.next();
      if (r.done) this.ended = true;
      else this.offset += r.value.byteLength;
    }
  }

  /** Lets the input release its resources when the caller stops early. */
  async close(): Promise<void> {
    if (this.ended) return;
    this.ended = true;
    try {
      await this.it.return?.();
    } catch {
      // Already failing or abandoned: the error that got us here is the one worth reporting.
    }
  }
}
