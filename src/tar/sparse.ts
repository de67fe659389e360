// GNU sparse files: the maps (old 'S' headers with extension blocks, PAX 0.0/0.1/1.0) and the expanded body
// streamed with zero-filled holes, following Go's archive/tar (sparse.go, reader.go).
import { FormatError, LimitError } from '../errors.js';
import { BLOCK, numericField } from './header.js';
import { parseDecimal, SPARSE_MAP } from './pax.js';

export interface SparseRegion {
  offset: number;
  length: number;
}

export interface SparseLimits {
  maxSpecialBytes: number;
  maxSparseRegions: number;
}

/** Where a sparse map is read from and what errors name. */
export interface SparseContext {
  label: string;
  /** Offset of the entry's header. */
  offset: number;
  limits: SparseLimits;
  /** The next 512 bytes after what was read so far (extension blocks, or the 1.0 map inside the data). */
  readBlock(): Promise<Buffer>;
}

const OLD_ENTRIES = 386; // 4 entries of 12-byte offset + 12-byte length in the GNU header
const OLD_EXTENDED = 482;
const OLD_REALSIZE = [483, 495] as const;
const EXT_ENTRIES = 21; // per extension block, isextended flag at 504

function tooMany(ctx: SparseContext, n: number): LimitError {
  const max = ctx.limits.maxSparseRegions;
  return new LimitError(`${ctx.label}: sparse map with ${n} regions exceeds the limit of ${max} at offset ${ctx.offset}`, {
    file: ctx.label,
    offset: ctx.offset,
  });
}

function mapTooLong(ctx: SparseContext): LimitError {
  const max = ctx.limits.maxSpecialBytes;
  return new LimitError(`${ctx.label}: sparse map exceeds ${max} bytes at offset ${ctx.offset}`, { file: ctx.label, offset: ctx.offset });
}

function readEntries(b: Buffer, start: number, count: number, into: SparseRegion[], ctx: SparseContext): void {
  for (let i = 0; i < count; i++) {
    const at = start + i * 24;
    if (b[at] === 0) break; // the GNU and BSD tar terminator
    const offset = numericField(b, at, at + 12, 'sparse offset', ctx.label, ctx.offset);
    const length = numericField(b, at + 12, at + 24, 'sparse length', ctx.label, ctx.offset);
    into.push({ offset, length });
    if (into.length > ctx.limits.maxSparseRegions) throw tooMany(ctx, into.length);
  }
}

/** Old GNU format: up to 4 regions in the header, more in extension blocks between the header and the data. */
export async function readOldGnuSparse(block: Buffer, ctx: SparseContext): Promise<{ regions: SparseRegion[]; size: number }> {
  const size = numericField(block, OLD_REALSIZE[0], OLD_REALSIZE[1], 'realsize', ctx.label, ctx.offset);
  const regions: SparseRegion[] = [];
  readEntries(block, OLD_ENTRIES, 4, regions, ctx);
  let extended = block[OLD_EXTENDED] !== 0;
  for (let bytes = 0; extended; ) {
    bytes += BLOCK;
    if (bytes > ctx.limits.maxSpecialBytes) throw mapTooLong(ctx);
    const ext = await ctx.readBlock();
    readEntries(ext, 0, EXT_ENTRIES, regions, ctx);
    extended = ext[EXT_ENTRIES * 24] !== 0;
  }
  return { regions, size };
}

export type PaxSparseVersion = '0.x' | '1.0';

/** Which PAX sparse dialect the records use, or null when the entry is not (knowingly) sparse. */
export function paxSparseVersion(pax: Map<string, Buffer>): PaxSparseVersion | null {
  const major = pax.get('GNU.sparse.major')?.toString('latin1') ?? '';
  const minor = pax.get('GNU.sparse.minor')?.toString('latin1') ?? '';
  if (major === '0' && (minor === '0' || minor === '1')) return '0.x';
  if (major === '1' && minor === '0') return '1.0';
  if (major !== '' || minor !== '') return null; // an unknown version stays a plain file, as in Go
  return pax.has(SPARSE_MAP) ? '0.x' : null;
}

/** 0.0 and 0.1 keep the map in the records: GNU.sparse.numblocks and "off,len,off,len...". */
export function readPaxSparseMap0x(pax: Map<string, Buffer>, ctx: SparseContext): SparseRegion[] {
  const count = parseDecimal(pax.get('GNU.sparse.numblocks')?.toString('latin1') ?? '', 'GNU.sparse.numblocks', ctx.label, ctx.offset);
  if (count < 0) throw badMap(ctx, 'negative region count');
  if (count > ctx.limits.maxSparseRegions) throw tooMany(ctx, count);
  const raw = pax.get(SPARSE_MAP)?.toString('latin1') ?? '';
  const parts = raw === '' ? [] : raw.split(',');
  if (parts.length !== 2 * count) throw badMap(ctx, `${parts.length} numbers for ${count} regions`);
  return pairs(parts, ctx);
}

/** 1.0 puts the map at the start of the data: decimal numbers one per line, padded to whole blocks. */
export async function readPaxSparseMap1x0(ctx: SparseContext): Promise<SparseRegion[]> {
  let text = '';
  let newlines = 0;
  let bytes = 0;
  const feed = async (want: number): Promise<void> => {
    while (newlines < want) {
      bytes += BLOCK;
      if (bytes > ctx.limits.maxSpecialBytes) throw mapTooLong(ctx);
      const chunk = (await ctx.readBlock()).toString('latin1');
      text += chunk;
      for (let i = chunk.indexOf('\n'); i !== -1; i = chunk.indexOf('\n', i + 1)) newlines++;
    }
  };
  await feed(1);
  const count = parseDecimal(text.slice(0, text.indexOf('\n')), 'sparse region count', ctx.label, ctx.offset);
  if (count < 0) throw badMap(ctx, 'negative region count');
  if (count > ctx.limits.maxSparseRegions) throw tooMany(ctx, count);
  await feed(1 + 2 * count);
  return pairs(text.split('\n').slice(1, 1 + 2 * count), ctx);
}

function pairs(parts: string[], ctx: SparseContext): SparseRegion[] {
  const regions: SparseRegion[] = [];
  for (let i = 0; i + 1 < parts.length; i += 2) {
    regions.push({
      offset: parseDecimal(parts[i]!, 'sparse offset', ctx.label, ctx.offset),
      length: parseDecimal(parts[i + 1]!, 'sparse length', ctx.label, ctx.offset),
    });
  }
  return regions;
}

function badMap(ctx: SparseContext, what: string): FormatError {
  return new FormatError(`${ctx.label}: invalid sparse map (${what}) at offset ${ctx.offset}`, { file: ctx.label, offset: ctx.offset });
}

/** Regions must be non-negative, in order, non-overlapping, inside the file, and cover exactly the stored data. */
export function checkSparse(regions: SparseRegion[], size: number, stored: number, ctx: SparseContext): void {
  if (size < 0) throw badMap(ctx, `negative size ${size}`);
  let end = 0;
  let data = 0;
  for (const r of regions) {
    if (r.offset < 0 || r.length < 0) throw badMap(ctx, 'negative region');
    if (r.offset < end) throw badMap(ctx, `region at ${r.offset} overlaps or is out of order`);
    end = r.offset + r.length;
    if (end > size) throw badMap(ctx, `region ends at ${end}, past the size ${size}`);
    data += r.length;
  }
  if (data !== stored) throw badMap(ctx, `regions hold ${data} bytes but the entry stores ${stored}`);
}

const ZERO_CHUNK = 64 * 1024;

async function* zeros(n: number): AsyncGenerator<Buffer> {
  // Fresh buffers each time: a consumer may keep or modify what it is given.
  for (let left = n; left > 0; left -= ZERO_CHUNK) yield Buffer.alloc(Math.min(left, ZERO_CHUNK));
}

/** The logical file: holes as zeros, data regions read in order through `readData` (at most `max` bytes each call). */
export async function* expandSparse(
  regions: SparseRegion[],
  size: number,
  readData: (max: number) => Promise<Buffer>,
): AsyncGenerator<Buffer> {
  let pos = 0;
  for (const r of regions) {
    yield* zeros(r.offset - pos);
    for (let left = r.length; left > 0; ) {
      const chunk = await readData(left);
      left -= chunk.length;
      yield chunk;
    }
    pos = r.offset + r.length;
  }
  yield* zeros(size - pos);
}
