// An entry's data as an AsyncIterable: views of the input chunks (no copies), readable once, skipped by
// the reader when the next entry is requested.
import { FormatError, UsageError } from '../errors.js';
import { BLOCK } from './header.js';
import type { ByteSource } from './source.js';

const DONE: IteratorReturnResult<undefined> = { done: true, value: undefined };

export class EntryBody implements AsyncIterable<Buffer> {
  /** Bytes of this entry still in the input (the stored, possibly sparse-packed, data). */
  private remaining: number;
  private started = false;
  private stale = false;
  /** Replaces the plain byte stream, e.g. with a sparse expansion over readStored(). */
  private view: (() => AsyncIterator<Buffer>) | null = null;

  constructor(
    private readonly src: ByteSource,
    stored: number,
    private readonly label: string,
    private readonly name: string,
    private readonly offset: number,
  ) {
    this.remaining = stored;
  }

  get storedRemaining(): number {
    return this.remaining;
  }

  setView(view: () => AsyncIterator<Buffer>): void {
    this.view = view;
  }

  [Symbol.asyncIterator](): AsyncIterator<Buffer> {
    if (this.started || this.stale) {
      throw new UsageError(`${this.label}: the body of ${JSON.stringify(this.name)} (offset ${this.offset}) can be read only once, before the next entry`);
    }
    this.started = true;
    if (this.view) return this.view();
    // A plain object rather than an async generator: one less promise hop per chunk.
    return {
      next: async () => (this.remaining > 0 ? { done: false, value: await this.readStored(this.remaining) } : DONE),
      return: async () => DONE,
    };
  }

  /** Up to `max` stored bytes (a view of the input chunk); throws when the input ends early. */
  async readStored(max: number): Promise<Buffer> {
    if (this.stale) {
      throw new UsageError(`${this.label}: the body of ${JSON.stringify(this.name)} (offset ${this.offset}) was read after the next entry`);
    }
    const want = Math.min(max, this.remaining);
    const chunk = this.src.takeBuffered(want) ?? (await this.src.read(want));
    if (!chunk) throw this.truncated();
    this.remaining -= chunk.length;
    return chunk;
  }

  /** Exactly one block of stored data (a sparse 1.0 map). */
  async readStoredBlock(): Promise<Buffer> {
    if (this.remaining < BLOCK) throw this.truncated();
    const block = await this.src.readExact(BLOCK);
    this.remaining -= block.length;
    if (block.length < BLOCK) throw this.truncated();
    return block;
  }

  /** Marks the body done and discards what the consumer left in the current chunk; true when nothing is left. */
  skipRestBuffered(): boolean {
    this.stale = true;
    this.remaining -= this.src.skipBuffered(this.remaining);
    return this.remaining === 0;
  }

  /** Called by the reader before the next header: discards whatever the consumer left. */
  async skipRest(): Promise<void> {
    if (this.skipRestBuffered()) return;
    this.remaining -= await this.src.skip(this.remaining);
    if (this.remaining > 0) throw this.truncated();
  }

  private truncated(): FormatError {
    return new FormatError(
      `${this.label}: truncated tar entry ${JSON.stringify(this.name)}: ${this.remaining} bytes missing at offset ${this.src.offset}`,
      { file: this.label, offset: this.src.offset, path: this.name },
    );
  }
}
