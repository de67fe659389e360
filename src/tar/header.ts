// One 512-byte tar header block decoded the way Go's archive/tar reads it (V7, ustar, GNU and star layouts).
import { FormatError } from '../errors.js';

export const BLOCK = 512;

export type HeaderFormat = 'v7' | 'ustar' | 'gnu' | 'star';

/** A header block as written: no PAX records, long names or sparse maps applied yet. */
export interface RawHeader {
  /** latin1 byte string; the ustar/star prefix is already joined with '/'. */
  name: string;
  /** The whole mode field, type bits included when a writer put them there. */
  mode: number;
  uid: number;
  gid: number;
  /** As stored: may be negative (base-256), which only matters for entries that carry data. */
  size: number;
  mtime: number;
  /** The typeflag byte as a one-char latin1 string ('\0' for old regular files). */
  typeflag: string;
  linkname: string;
  uname: string;
  gname: string;
  devmajor: number;
  devminor: number;
  /** GNU and star headers can carry these (whole seconds). */
  atime?: number;
  ctime?: number;
  format: HeaderFormat;
}

// Field [start, end) offsets shared by all layouts.
const NAME = [0, 100] as const;
const MODE = [100, 108] as const;
const UID = [108, 116] as const;
const GID = [116, 124] as const;
const SIZE = [124, 136] as const;
const MTIME = [136, 148] as const;
const CHKSUM = [148, 156] as const;
const TYPEFLAG = 156;
const LINKNAME = [157, 257] as const;
const UNAME = [265, 297] as const;
const GNAME = [297, 329] as const;
const DEVMAJOR = [329, 337] as const;
const DEVMINOR = [337, 345] as const;
const USTAR_PREFIX = [345, 500] as const;
const STAR_PREFIX = [345, 476] as const;
const STAR_ATIME = [476, 488] as const;
const STAR_CTIME = [488, 500] as const;
const GNU_ATIME = [345, 357] as const;
const GNU_CTIME = [357, 369] as const;

const ZERO_BLOCK = Buffer.alloc(BLOCK);

export function isZeroBlock(block: Buffer): boolean {
  // Every real header has a non-zero checksum field, so this settles almost all blocks without a compare.
  if (block[148] !== 0 || block[149] !== 0 || block[154] !== 0 || block[155] !== 0) return false;
  return block.equals(ZERO_BLOCK);
}

/** Thrown by the number parsers; turned into a FormatError naming the field by the caller. */
class FieldError extends Error {}

/** Bytes up to the first NUL, as a latin1 byte string. */
export function parseString(b: Buffer, start: number, end: number): string {
  const nul = b.indexOf(0, start);
  return b.toString('latin1', start, nul === -1 || nul > end ? end : nul);
}

function isPad(c: number): boolean {
  return c === 0x20 || c === 0;
}

/** Octal with leading/trailing spaces and NULs trimmed; like Go, digits stop at an inner NUL. */
export function parseOctal(b: Buffer, start: number, end: number): number {
  while (start < end && isPad(b[start]!)) start++;
  while (end > start && isPad(b[end - 1]!)) end--;
  let x = 0;
  for (let i = start; i < end; i++) {
    const c = b[i]!;
    if (c === 0 && i > start) break;
    if (c < 0x30 || c > 0x37) throw new FieldError('invalid octal number');
    x = x * 8 + (c - 0x30);
  }
  return x;
}

/** GNU base-256: top bit set marks it, 0x40 in the first byte means negative (two's complement). */
function parseBase256(b: Buffer, start: number, end: number): number {
  const inv = b[start]! & 0x40 ? 0xff : 0;
  let x = 0n;
  for (let i = start; i < end; i++) {
    let c = b[i]! ^ inv;
    if (i === start) c &= 0x7f;
    if (x >> 56n > 0n) throw new FieldError('base-256 number overflows 64 bits');
    x = (x << 8n) | BigInt(c);
  }
  if (x >> 63n > 0n) throw new FieldError('base-256 number overflows 64 bits');
  const v = inv ? -x - 1n : x;
  if (v > BigInt(Number.MAX_SAFE_INTEGER) || v < BigInt(Number.MIN_SAFE_INTEGER)) {
    throw new FieldError('base-256 number too large');
  }
  return Number(v);
}

export function parseNumeric(b: Buffer, start: number, end: number): number {
  return b[start]! & 0x80 ? parseBase256(b, start, end) : parseOctal(b, start, end);
}

/** parseNumeric with errors turned into FormatErrors naming the field, the label and the offset. */
export function numericField(b: Buffer, start: number, end: number, field: string, label: string, offset: number): number {
  try {
    return parseNumeric(b, start, end);
  } catch (err) {
    if (!(err instanceof FieldError)) throw err;
    throw new FormatError(`${label}: ${err.message} in tar header field ${field} at offset ${offset}`, { file: label, offset });
  }
}

/** The unsigned sum with the checksum field counted as spaces. */
function unsignedSum(b: Buffer): number {
  let sum = 8 * 0x20;
  for (let i = 0; i < CHKSUM[0]; i++) sum += b[i]!;
  for (let i = CHKSUM[1]; i < BLOCK; i++) sum += b[i]!;
  return sum;
}

/** The signed sum Sun tar wrote: bytes >= 0x80 count negative. */
function signedSum(b: Buffer, unsigned: number): number {
  let high = 0;
  for (let i = 0; i < BLOCK; i++) if (b[i]! & 0x80 && (i < CHKSUM[0] || i >= CHKSUM[1])) high++;
  return unsigned - 256 * high;
}

function hasUstarMagic(b: Buffer): boolean {
  return b[257] === 0x75 && b[258] === 0x73 && b[259] === 0x74 && b[260] === 0x61 && b[261] === 0x72; // "ustar"
}

function detectFormat(b: Buffer): HeaderFormat {
  if (!hasUstarMagic(b)) return 'v7';
  if (b[262] === 0) return b[508] === 0x74 && b[509] === 0x61 && b[510] === 0x72 && b[511] === 0 ? 'star' : 'ustar'; // "tar\0"
  return b[262] === 0x20 && b[263] === 0x20 && b[264] === 0 ? 'gnu' : 'v7';
}

export function verifyChecksum(block: Buffer, offset: number, label: string): void {
  let stored: number;
  try {
    stored = parseOctal(block, CHKSUM[0], CHKSUM[1]);
  } catch {
    throw new FormatError(`${label}: unreadable tar header checksum at offset ${offset}`, { file: label, offset });
  }
  const unsigned = unsignedSum(block);
  if (stored === unsigned) return;
  const signed = signedSum(block, unsigned);
  if (stored !== signed) {
    throw new FormatError(
      `${label}: tar header checksum ${stored} matches neither ${unsigned} nor ${signed} at offset ${offset}`,
      { file: label, offset, expected: stored, actual: unsigned },
    );
  }
}

/** Decodes one header block; null for an all-zero block. Throws FormatError on a bad checksum or number. */
export function decodeHeaderBlock(block: Buffer, offset: number, label: string): RawHeader | null {
  if (block.length < BLOCK) {
    throw new FormatError(`${label}: truncated tar header (${block.length} of 512 bytes) at offset ${offset}`, { file: label, offset });
  }
  if (isZeroBlock(block)) return null;
  verifyChecksum(block, offset, label);
  const num = (f: readonly [number, number], field: string): number => numericField(block, f[0], f[1], field, label, offset);
  const format = detectFormat(block);
  const h: RawHeader = {
    name: parseString(block, NAME[0], NAME[1]),
    mode: num(MODE, 'mode'),
    uid: num(UID, 'uid'),
    gid: num(GID, 'gid'),
    size: num(SIZE, 'size'),
    mtime: num(MTIME, 'mtime'),
    typeflag: String.fromCharCode(block[TYPEFLAG]!),
    linkname: parseString(block, LINKNAME[0], LINKNAME[1]),
    uname: '',
    gname: '',
    devmajor: 0,
    devminor: 0,
    format,
  };
  if (format !== 'v7') decodeExtended(h, block, num);
  return h;
}

type NumFn = (f: readonly [number, number], field: string) => number;

function decodeExtended(h: RawHeader, block: Buffer, num: NumFn): void {
  h.uname = parseString(block, UNAME[0], UNAME[1]);
  h.gname = parseString(block, GNAME[0], GNAME[1]);
  h.devmajor = num(DEVMAJOR, 'devmajor');
  h.devminor = num(DEVMINOR, 'devminor');
  let prefix = '';
  if (h.format === 'ustar') {
    prefix = parseString(block, USTAR_PREFIX[0], USTAR_PREFIX[1]);
  } else if (h.format === 'star') {
    prefix = parseString(block, STAR_PREFIX[0], STAR_PREFIX[1]);
    h.atime = num(STAR_ATIME, 'atime');
    h.ctime = num(STAR_CTIME, 'ctime');
  } else {
    decodeGnuTimes(h, block);
  }
  if (prefix.length > 0) h.name = `${prefix}/${h.name}`;
}

/** Go ignores unparsable GNU atime/ctime: old Go writers put garbage there. */
function decodeGnuTimes(h: RawHeader, block: Buffer): void {
  try {
    if (block[GNU_ATIME[0]] !== 0) h.atime = parseNumeric(block, GNU_ATIME[0], GNU_ATIME[1]);
    if (block[GNU_CTIME[0]] !== 0) h.ctime = parseNumeric(block, GNU_CTIME[0], GNU_CTIME[1]);
  } catch {
    delete h.atime;
    delete h.ctime;
  }
}

/** Typeflags whose size field Go ignores: nothing follows the header. */
export function isHeaderOnly(typeflag: string): boolean {
  return typeflag >= '1' && typeflag <= '6';
}

/** Bytes of data that follow this header in the archive (before padding); throws on a negative size. */
export function dataSize(h: RawHeader, offset: number, label: string): number {
  return storedSize(h.typeflag, h.size, offset, label);
}

/** dataSize for a typeflag and a size that PAX may have replaced. */
export function storedSize(typeflag: string, size: number, offset: number, label: string): number {
  if (isHeaderOnly(typeflag)) return 0;
  if (size < 0) throw new FormatError(`${label}: negative tar entry size ${size} at offset ${offset}`, { file: label, offset });
  return size;
}

/** Zero bytes after `size` bytes of data up to the next block boundary. */
export function blockPadding(size: number): number {
  return (BLOCK - (size % BLOCK)) % BLOCK;
}
