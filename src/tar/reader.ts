// Streaming tar reader with Go archive/tar semantics: one entry at a time, bodies never buffered,
// PAX/GNU metadata entries folded into the entry they describe, and the input drained after the end marker.
import { FormatError, LimitError, UnsupportedError } from '../errors.js';
import { BLOCK, blockPadding, dataSize, decodeHeaderBlock, isZeroBlock, parseString, storedSize, type RawHeader } from './header.js';
import { parsePax } from './pax.js';
import { EntryBody } from './body.js';
import { applyPax, applySparse, toHeader } from './entry.js';
import { ByteSource } from './source.js';
import { paxSparseVersion } from './sparse.js';
import type { TarEntry, TarHeader } from './types.js';

export interface TarLimits {
  /** Largest PAX 'x'/'g' record set, GNU long name/link, or sparse map (Go: 1 MiB, CVE-2022-2879). */
  maxSpecialBytes: number;
  /** Most regions in one sparse map. */
  maxSparseRegions: number;
}

export const DEFAULT_TAR_LIMITS: Readonly<TarLimits> = { maxSpecialBytes: 1 << 20, maxSparseRegions: 100_000 };

export interface ReadTarOptions {
  /** Names the input in error messages (file path or digest). */
  label?: string;
  limits?: Partial<TarLimits>;
}

const KNOWN_TYPES = new Set(['0', '\0', '7', '1', '2', '3', '4', '5', '6', 'S']);
const META_TYPES = new Set(['x', 'g', 'L', 'K']);

/** What the metadata entries ('x', 'L', 'K') said about the entry that follows them. */
interface Pending {
  pax: Map<string, Buffer> | null;
  longName: string;
  longLink: string;
}

/**
 * Yields the archive's entries. Each body must be consumed, or is skipped when the next entry is requested.
 * After the end-of-archive marker the rest of the input is pulled and discarded (never parsed), so a hash
 * computed upstream covers every byte. Stopping early (break) releases the input without draining it.
 */
export async function* readTar(input: AsyncIterable<Buffer>, opts: ReadTarOptions = {}): AsyncGenerator<TarEntry> {
  const src = new ByteSource(input);
  const limits: TarLimits = {
    maxSpecialBytes: opts.limits?.maxSpecialBytes ?? DEFAULT_TAR_LIMITS.maxSpecialBytes,
    maxSparseRegions: opts.limits?.maxSparseRegions ?? DEFAULT_TAR_LIMITS.maxSparseRegions,
  };
  const parser = new TarParser(src, opts.label ?? 'tar', limits);
  let drained = false;
  try {
    for (let entry = await parser.next(); entry; entry = await parser.next()) yield entry;
    await src.drain();
    drained = true;
  } finally {
    if (!drained) await src.close();
  }
}

function describeType(flag: string): string {
  const c = flag.charCodeAt(0);
  return c > 0x20 && c < 0x7f ? `'${flag}'` : `0x${c.toString(16).padStart(2, '0')}`;
}

class TarParser {
  private body: EntryBody | null = null;
  /** Padding owed after the last data read. */
  private pad = 0;
  private ended = false;

  constructor(
    private readonly src: ByteSource,
    private readonly label: string,
    private readonly limits: TarLimits,
  ) {}

  async next(): Promise<TarEntry | null> {
    if (this.ended) return null;
    const body = this.body;
    this.body = null;
    if (body && !body.skipRestBuffered()) await body.skipRest();
    const pending: Pending = { pax: null, longName: '', longLink: '' };
    for (;;) {
      const read = await this.readHeader();
      if (!read) {
        this.ended = true;
        return null;
      }
      const [raw, block, at] = read;
      const size = dataSize(raw, at, this.label);
      if (META_TYPES.has(raw.typeflag)) {
        await this.readMeta(raw, size, at, pending);
        continue;
      }
      return this.entry(raw, block, at, pending);
    }
  }

  private async readHeader(): Promise<[RawHeader, Buffer, number] | null> {
    if (this.pad > 0) await this.skipPadding();
    const at = this.src.offset;
    const block = this.src.takeExactBuffered(BLOCK) ?? (await this.src.readExact(BLOCK));
    if (block.length === 0) return null;
    const raw = decodeHeaderBlock(block, at, this.label);
    if (raw) return [raw, block, at];
    const second = await this.src.readExact(BLOCK);
    if (second.length === 0 || (second.length === BLOCK && isZeroBlock(second))) return null;
    if (second.length < BLOCK) decodeHeaderBlock(second, at + BLOCK, this.label); // throws: truncated
    throw new FormatError(`${this.label}: zero block followed by a non-zero header at offset ${at + BLOCK}`, {
      file: this.label,
      offset: at + BLOCK,
    });
  }

  /** Go would call running out of input here a clean end; GNU tar and Python call it truncation, as we do. */
  private async skipPadding(): Promise<void> {
    const want = this.pad;
    this.pad = 0;
    let got = this.src.skipBuffered(want);
    if (got < want) got += await this.src.skip(want - got);
    if (got < want) {
      throw new FormatError(`${this.label}: truncated tar padding: ${want - got} bytes missing at offset ${this.src.offset}`, {
        file: this.label,
        offset: this.src.offset,
      });
    }
  }

  /** 'x', 'g', 'L' and 'K': metadata for the entry that follows. */
  private async readMeta(raw: RawHeader, size: number, at: number, pending: Pending): Promise<void> {
    switch (raw.typeflag) {
      case 'x':
        pending.pax = parsePax(await this.readSpecial(size, at, 'PAX header'), this.label, at);
        return;
      case 'g':
        // Checked like Go, then dropped. Go hands it back as an entry of its own, so metadata seen before it
        // never reaches the next file; callers (containerd, moby) then skip it.
        parsePax(await this.readSpecial(size, at, 'PAX global header'), this.label, at);
        Object.assign(pending, { pax: null, longName: '', longLink: '' });
        return;
      default: {
        const data = await this.readSpecial(size, at, raw.typeflag === 'L' ? 'GNU long name' : 'GNU long link');
        const value = parseString(data, 0, data.length);
        if (raw.typeflag === 'L') pending.longName = value;
        else pending.longLink = value;
      }
    }
  }

  private async readSpecial(size: number, at: number, what: string): Promise<Buffer> {
    const max = this.limits.maxSpecialBytes;
    if (size > max) {
      throw new LimitError(`${this.label}: ${what} of ${size} bytes exceeds the ${max}-byte limit at offset ${at}`, {
        file: this.label,
        offset: at,
      });
    }
    const data = await this.src.readExact(size);
    if (data.length < size) {
      throw new FormatError(`${this.label}: truncated ${what}: ${size - data.length} bytes missing at offset ${this.src.offset}`, {
        file: this.label,
        offset: this.src.offset,
      });
    }
    this.pad = blockPadding(size);
    return data;
  }

  /** Builds the entry; a promise only when a sparse map has to be read first. */
  private entry(raw: RawHeader, block: Buffer, at: number, pending: Pending): TarEntry | Promise<TarEntry> {
    if (!KNOWN_TYPES.has(raw.typeflag)) {
      throw new UnsupportedError(
        `${this.label}: unhandled tar entry type ${describeType(raw.typeflag)} for ${JSON.stringify(raw.name)} at offset ${at}`,
        { file: this.label, offset: at, path: raw.name },
      );
    }
    const header = toHeader(raw);
    if (pending.pax) applyPax(header, pending.pax, this.label, at);
    if (pending.longName) header.name = pending.longName;
    if (pending.longLink) header.linkname = pending.longLink;
    // Go turns an old '\0' entry named "x/" into a directory before sizing its data, so it has none;
    // a '0' entry named "x/" is a directory to every extractor but keeps its data in the stream.
    const oldDir = raw.typeflag === '\0' && header.name.endsWith('/');
    const stored = oldDir ? 0 : storedSize(raw.typeflag, header.size, at, this.label);
    if ((raw.typeflag === '0' || raw.typeflag === '\0') && header.name.endsWith('/')) header.type = 'dir';
    const body = new EntryBody(this.src, stored, this.label, header.name, at);
    this.body = body;
    this.pad = blockPadding(stored);
    if (raw.typeflag === 'S' || (pending.pax && paxSparseVersion(pending.pax))) {
      const setup = { label: this.label, offset: at, limits: this.limits, src: this.src };
      return applySparse(header, raw, block, pending.pax, body, setup, oldDir).then(() => this.done(header, body, this.src.offset, true));
    }
    return this.done(header, body, this.src.offset, false);
  }

  private done(header: TarHeader, body: EntryBody, offset: number, sparse: boolean): TarEntry {
    if (header.type !== 'file') header.size = 0;
    return { header, body, offset, sparse };
  }
}
