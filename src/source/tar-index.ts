// Indexes an outer image archive by offsets: each 512-byte header is read in place and bodies are
// skipped by seeking, so a multi-gigabyte `docker save` costs one small read per entry. Blobs are
// later streamed straight from their offsets. Reading stops at the end-of-archive marker, like Go.
import { open, type FileHandle } from 'node:fs/promises';
import { FormatError, LimitError } from '../errors.js';
import { BLOCK, blockPadding, dataSize, decodeHeaderBlock, isHeaderOnly, type RawHeader } from '../tar/header.js';
import { parseDecimal, parsePax } from '../tar/pax.js';
import { cleanArchiveName } from './archive-names.js';

export type TarIndexType = 'file' | 'dir' | 'symlink' | 'hardlink' | 'other';

export interface TarIndexEntry {
  /** Cleaned archive name. */
  name: string;
  /** Offset of the entry's first data byte in the archive file. */
  offset: number;
  size: number;
  type: TarIndexType;
  /** Symlink target as stored, or a hardlink's archive name. */
  linkname: string;
}

export interface TarIndex {
  /** The tar file on disk (the input itself, or its decompressed spool). */
  path: string;
  label: string;
  /** By cleaned name; a later entry of the same name replaces an earlier one, as extraction would. */
  entries: Map<string, TarIndexEntry>;
}

/** Go's cap on PAX and GNU long-name bodies (CVE-2022-2879). */
const MAX_SPECIAL_BYTES = 1 << 20;

/** Names, link targets and sizes that PAX 'x' and GNU 'L'/'K' entries carry over to the next entry. */
interface Pending {
  name?: string;
  linkname?: string;
  size?: number;
}

export async function indexTar(path: string, label: string, maxEntries: number): Promise<TarIndex> {
  const fh = await open(path, 'r');
  try {
    const { size: fileSize } = await fh.stat();
    const entries = new Map<string, TarIndexEntry>();
    let pending: Pending = {};
    let offset = 0;
    const block = Buffer.alloc(BLOCK);
    while (offset < fileSize) {
      const { bytesRead } = await fh.read(block, 0, BLOCK, offset);
      const h = decodeAt(block.subarray(0, bytesRead), offset, label);
      if (!h) break;
      const size = entrySize(h, pending, offset, label);
      const dataOffset = offset + BLOCK;
      if (dataOffset + size > fileSize) {
        throw new FormatError(`${label}: truncated: entry at offset ${offset} needs ${size} bytes, the file ends first`, { file: label, offset });
      }
      if (isSpecial(h.typeflag)) {
        pending = await readSpecial(fh, h, dataOffset, size, pending, label, offset);
      } else {
        addEntry(entries, h, pending, dataOffset, size, maxEntries, label);
        pending = {};
      }
      offset = dataOffset + size + blockPadding(size);
    }
    return { path, label, entries };
  } finally {
    await fh.close();
  }
}

/** A header at offset 0 that does not decode means the input is not a tar at all. */
function decodeAt(block: Buffer, offset: number, label: string): RawHeader | null {
  try {
    return decodeHeaderBlock(block, offset, label);
  } catch (err) {
    if (offset !== 0 || !(err instanceof FormatError)) throw err;
    throw new FormatError(`${label}: not an image archive (not a tar file, OCI layout directory, or gzip/zstd stream)`, { file: label });
  }
}

/** A PAX size overrides the header's, except for specials and the types that never carry data. */
function entrySize(h: RawHeader, pending: Pending, offset: number, label: string): number {
  if (pending.size === undefined || isSpecial(h.typeflag) || isHeaderOnly(h.typeflag)) return dataSize(h, offset, label);
  return pending.size;
}

function isSpecial(typeflag: string): boolean {
  return typeflag === 'x' || typeflag === 'g' || typeflag === 'L' || typeflag === 'K';
}

async function readSpecial(fh: FileHandle, h: RawHeader, at: number, size: number, pending: Pending, label: string, offset: number): Promise<Pending> {
  if (h.typeflag === 'g') return pending;
  if (size > MAX_SPECIAL_BYTES) {
    throw new LimitError(`${label}: ${h.typeflag} header of ${size} bytes at offset ${offset} exceeds the ${MAX_SPECIAL_BYTES}-byte limit`, {
      file: label,
      expected: MAX_SPECIAL_BYTES,
      actual: size,
    });
  }
  const body = Buffer.alloc(size);
  await fh.read(body, 0, size, at);
  if (h.typeflag === 'L') return { ...pending, name: nulTrimmed(body) };
  if (h.typeflag === 'K') return { ...pending, linkname: nulTrimmed(body) };
  const pax = parsePax(body, label, offset);
  const next = { ...pending };
  const path = pax.get('path');
  const linkpath = pax.get('linkpath');
  const paxSize = pax.get('size');
  if (path) next.name = path.toString('latin1');
  if (linkpath) next.linkname = linkpath.toString('latin1');
  if (paxSize) next.size = parseDecimal(paxSize.toString('latin1'), 'size', label, offset);
  return next;
}

function nulTrimmed(body: Buffer): string {
  const nul = body.indexOf(0);
  return body.toString('latin1', 0, nul < 0 ? body.length : nul);
}

function addEntry(
  entries: Map<string, TarIndexEntry>,
  h: RawHeader,
  pending: Pending,
  offset: number,
  size: number,
  maxEntries: number,
  label: string,
): void {
  const raw = pending.name ?? h.name;
  const name = cleanArchiveName(raw);
  // A name above the archive root can never be looked up (EDGE #120); the root itself holds nothing.
  if (name === undefined || name === '') return;
  if (entries.size >= maxEntries && !entries.has(name)) {
    throw new LimitError(`${label}: more than ${maxEntries} entries in the archive`, { file: label, expected: maxEntries });
  }
  const type = entryType(h.typeflag, raw);
  entries.set(name, { name, offset, size: type === 'file' ? size : 0, type, linkname: pending.linkname ?? h.linkname });
}

function entryType(typeflag: string, rawName: string): TarIndexType {
  switch (typeflag) {
    case '0':
    case '\0':
    case '7':
      return rawName.endsWith('/') ? 'dir' : 'file';
    case '1':
      return 'hardlink';
    case '2':
      return 'symlink';
    case '5':
      return 'dir';
    default:
      return 'other';
  }
}
