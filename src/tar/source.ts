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

  /** Up to `max` bytes as a view of the current chunk (no copy); null at the end of the input. */
  async read(max: number): Promise<Buffer | null> {
    if (this.pos >= this.buf.length && !(await this.fill())) return null;
    const n = Math.min(max, this.buf.length - this.pos);
    const out = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    this.offset += n;
    return out;
  }

  /** Exactly `n` bytes, or fewer only when the input ends first. */
  async readExact(n: number): Promise<Buffer> {
    if (this.buf.length - this.pos >= n) {
      const out = this.buf.subarray(this.pos, this.pos + n);
      this.pos += n;
      this.offset += n;
      return out;
    }
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
    let left = n;
    while (left > 0) {
      if (this.pos >= this.buf.length && !(await this.fill())) break;
      const step = Math.min(left, this.buf.length - this.pos);
      this.pos += step;
      this.offset += step;
      left -= step;
    }
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
    await this.it.return?.();
  }
}
