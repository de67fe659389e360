// Tar header encoding for lossless export: ustar headers, preceded by a PAX 'x' header whenever a value
// does not fit (names and link targets too long for ustar, big ids and sizes, fractional or negative times,
// long user/group names, xattrs).
// Deterministic: the same input always gives the same bytes (no atime/ctime, no pid in names).
import { UsageError } from '../errors.js';
import { BLOCK, blockPadding } from './header.js';
import { SCHILY_XATTR } from './pax.js';
import type { TarEntryType } from './types.js';

export interface EncodeHeader {
  /** latin1 byte string; directories get a trailing '/' if missing. */
  name: string;
  type: TarEntryType;
  mode: number;
  uid: number;
  gid: number;
  /** Bytes of content that will follow (regular files only; ignored for other types). */
  size: number;
  /** Seconds since the epoch, possibly fractional or negative. */
  mtime: number;
  linkname?: string;
  devmajor?: number;
  devminor?: number;
  xattrs?: Map<string, Buffer> | undefined;
  uname?: string;
  gname?: string;
}

const TYPEFLAGS: Record<TarEntryType, string> = {
  file: '0',
  hardlink: '1',
  symlink: '2',
  char: '3',
  block: '4',
  dir: '5',
  fifo: '6',
};

const MAX_OCTAL7 = 0o7777777;
const MAX_OCTAL11 = 0o77777777777;

export const END_OF_ARCHIVE: Buffer = Buffer.alloc(2 * BLOCK);

/** The zero bytes that follow `size` bytes of content up to the block boundary. */
export function padding(size: number): Buffer {
  return Buffer.alloc(blockPadding(size));
}

/** The header block(s) for one entry: a PAX 'x' header and its records when needed, then the ustar header. */
export function encodeEntryHeader(h: EncodeHeader): Buffer {
  const name = entryName(h);
  const size = h.type === 'file' ? h.size : 0;
  checkInput(h, name, size);
  const split = splitName(name);
  const linkname = h.linkname ?? '';
  const pax = paxRecordsFor(h, name, size, split === null);
  const ustar = ustarBlock({
    name: split ?? { prefix: '', name: name.slice(0, 100) },
    mode: h.mode & 0o7777,
    uid: fitsOctal(h.uid, MAX_OCTAL7) ? h.uid : 0,
    gid: fitsOctal(h.gid, MAX_OCTAL7) ? h.gid : 0,
    size: fitsOctal(size, MAX_OCTAL11) ? size : 0,
    mtime: clampTime(h.mtime),
    typeflag: TYPEFLAGS[h.type],
    linkname: linkname.slice(0, 100),
    uname: (h.uname ?? '').slice(0, 32),
    gname: (h.gname ?? '').slice(0, 32),
    devmajor: h.devmajor ?? 0,
    devminor: h.devminor ?? 0,
  });
  if (pax.length === 0) return ustar;
  return Buffer.concat([paxHeader(name, pax, clampTime(h.mtime)), ustar]);
}

/** The PAX records for whatever the ustar fields cannot hold; xattrs sorted so output is deterministic. */
function paxRecordsFor(h: EncodeHeader, name: string, size: number, needsPath: boolean): [string, Buffer][] {
  const pax: [string, Buffer][] = [];
  if (needsPath) pax.push(['path', Buffer.from(name, 'latin1')]);
  if ((h.linkname ?? '').length > 100) pax.push(['linkpath', Buffer.from(h.linkname!, 'latin1')]);
  if (!fitsOctal(h.uid, MAX_OCTAL7)) pax.push(['uid', ascii(String(h.uid))]);
  if (!fitsOctal(h.gid, MAX_OCTAL7)) pax.push(['gid', ascii(String(h.gid))]);
  if (!fitsOctal(size, MAX_OCTAL11)) pax.push(['size', ascii(String(size))]);
  if (!fitsOctal(h.mtime, MAX_OCTAL11)) pax.push(['mtime', ascii(formatPaxTime(h.mtime))]);
  if (h.uname !== undefined && h.uname.length > 32) pax.push(['uname', Buffer.from(h.uname, 'latin1')]);
  if (h.gname !== undefined && h.gname.length > 32) pax.push(['gname', Buffer.from(h.gname, 'latin1')]);
  const xattrs = [...(h.xattrs ?? [])].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  for (const [key, value] of xattrs) pax.push([SCHILY_XATTR + key, value]);
  return pax;
}

function entryName(h: EncodeHeader): string {
  if (h.type !== 'dir' || h.name.endsWith('/')) return h.name;
  return h.name === '' ? './' : `${h.name}/`;
}

function checkInput(h: EncodeHeader, name: string, size: number): void {
  const bad = (what: string): UsageError => new UsageError(`cannot encode tar entry ${JSON.stringify(name)}: ${what}`, { path: name });
  for (const s of [name, h.linkname ?? '', h.uname ?? '', h.gname ?? '']) {
    if (s.includes('\0')) throw bad('NUL byte in a name');
    if (/[^\x00-\xff]/.test(s)) throw bad('name is not a latin1 byte string');
  }
  if (!Number.isSafeInteger(size) || size < 0) throw bad(`invalid size ${size}`);
  if (!Number.isSafeInteger(h.uid) || !Number.isSafeInteger(h.gid)) throw bad(`invalid owner ${h.uid}:${h.gid}`);
  if (!Number.isFinite(h.mtime)) throw bad(`invalid mtime ${h.mtime}`);
  for (const d of [h.devmajor ?? 0, h.devminor ?? 0]) if (!fitsOctal(d, MAX_OCTAL7)) throw bad(`device number ${d} out of range`);
  for (const k of h.xattrs?.keys() ?? []) if (k === '' || k.includes('\0') || k.includes('=')) throw bad(`invalid xattr name ${JSON.stringify(k)}`);
}

function fitsOctal(n: number, max: number): boolean {
  return Number.isInteger(n) && n >= 0 && n <= max;
}

function clampTime(t: number): number {
  return Math.min(Math.max(Math.floor(t), 0), MAX_OCTAL11);
}

function ascii(s: string): Buffer {
  return Buffer.from(s, 'latin1');
}

/** Go's formatPAXTime: sign, whole seconds, up to 9 fractional digits with trailing zeros dropped. */
export function formatPaxTime(t: number): string {
  const sign = t < 0 ? '-' : '';
  const abs = Math.abs(t);
  let secs = Math.floor(abs);
  let nanos = Math.round((abs - secs) * 1e9);
  if (nanos >= 1e9) {
    secs += 1;
    nanos -= 1e9;
  }
  if (nanos === 0) return `${sign}${secs}`;
  return `${sign}${secs}.${String(nanos).padStart(9, '0').replace(/0+$/, '')}`;
}

/** ustar name/prefix split at a '/', or null when the name needs a PAX path record. */
function splitName(name: string): { prefix: string; name: string } | null {
  if (name.length <= 100) return { prefix: '', name };
  // The rightmost usable '/' gives the shortest name part; a directory's trailing '/' is not usable.
  const i = name.lastIndexOf('/', Math.min(name.length - 2, 155));
  if (i <= 0 || name.length - i - 1 > 100) return null;
  return { prefix: name.slice(0, i), name: name.slice(i + 1) };
}

/** One "%d key=value\n" record; the length counts its own digits. */
function paxRecord(key: string, value: Buffer): Buffer {
  const body = Buffer.byteLength(key, 'latin1') + value.length + 3; // ' ', '=', '\n'
  let len = body + String(body).length;
  if (String(len).length !== String(body).length) len = body + String(len).length;
  return Buffer.concat([Buffer.from(`${len} ${key}=`, 'latin1'), value, Buffer.from('\n')]);
}

function paxHeader(name: string, records: [string, Buffer][], mtime: number): Buffer {
  const data = Buffer.concat(records.map(([k, v]) => paxRecord(k, v)));
  const base = name.replace(/\/+$/, '').split('/').pop() ?? '';
  const header = ustarBlock({
    name: { prefix: '', name: `PaxHeaders.0/${base}`.slice(0, 100) },
    mode: 0o644,
    uid: 0,
    gid: 0,
    size: data.length,
    mtime,
    typeflag: 'x',
    linkname: '',
    uname: '',
    gname: '',
    devmajor: 0,
    devminor: 0,
  });
  return Buffer.concat([header, data, padding(data.length)]);
}

interface UstarFields {
  name: { prefix: string; name: string };
  mode: number;
  uid: number;
  gid: number;
  size: number;
  mtime: number;
  typeflag: string;
  linkname: string;
  uname: string;
  gname: string;
  devmajor: number;
  devminor: number;
}

function octal(b: Buffer, start: number, width: number, n: number): void {
  // width-1 digits then a NUL, as GNU tar and Go write them.
  b.write(n.toString(8).padStart(width - 1, '0'), start, width - 1, 'latin1');
}

function ustarBlock(f: UstarFields): Buffer {
  const b = Buffer.alloc(BLOCK);
  b.write(f.name.name, 0, 100, 'latin1');
  octal(b, 100, 8, f.mode);
  octal(b, 108, 8, f.uid);
  octal(b, 116, 8, f.gid);
  octal(b, 124, 12, f.size);
  octal(b, 136, 12, f.mtime);
  b.write(f.typeflag, 156, 1, 'latin1');
  b.write(f.linkname, 157, 100, 'latin1');
  b.write('ustar\x0000', 257, 8, 'latin1');
  b.write(f.uname, 265, 32, 'latin1');
  b.write(f.gname, 297, 32, 'latin1');
  octal(b, 329, 8, f.devmajor);
  octal(b, 337, 8, f.devminor);
  b.write(f.name.prefix, 345, 155, 'latin1');
  b.fill(0x20, 148, 156);
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += b[i]!;
  b.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 8, 'latin1');
  return b;
}
