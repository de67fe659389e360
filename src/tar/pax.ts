// PAX extended header records ("%d %s=%s\n"), kept as raw bytes, and how Go merges them into a header.
import { FormatError } from '../errors.js';

export const SCHILY_XATTR = 'SCHILY.xattr.';
const SPARSE_OFFSET = 'GNU.sparse.offset';
const SPARSE_NUMBYTES = 'GNU.sparse.numbytes';
export const SPARSE_MAP = 'GNU.sparse.map';

/** Keys whose values name things: a NUL in them would truncate the name somewhere downstream. */
const NAME_KEYS = new Set(['path', 'linkpath', 'uname', 'gname']);

function paxError(label: string, offset: number, what: string): FormatError {
  return new FormatError(`${label}: malformed PAX header (${what}) at offset ${offset}`, { file: label, offset });
}

/** The decimal record length at `pos` and where its digits end (at the space); null when malformed. */
function recordLength(data: Buffer, pos: number): { len: number; digitsEnd: number } | null {
  let i = pos;
  let len = 0;
  while (i < data.length && data[i]! >= 0x30 && data[i]! <= 0x39 && i - pos < 16) {
    len = len * 10 + (data[i]! - 0x30);
    i++;
  }
  if (i === pos || i >= data.length || data[i] !== 0x20) return null;
  return { len, digitsEnd: i };
}

/**
 * Parses the body of a PAX 'x' or 'g' entry. Values stay raw bytes (xattrs are binary; paths may not be UTF-8);
 * keys are latin1 strings. An empty value deletes the key. GNU sparse 0.0 offset/numbytes pairs are folded
 * into one GNU.sparse.map value, as Go does. `offset` (of the entry's header) only feeds error messages.
 */
export function parsePax(data: Buffer, label: string, offset = 0): Map<string, Buffer> {
  const records = new Map<string, Buffer>();
  const sparse: string[] = [];
  let pos = 0;
  while (pos < data.length) {
    const head = recordLength(data, pos);
    if (!head) throw paxError(label, offset, `bad record length at byte ${pos}`);
    const end = pos + head.len;
    if (head.len < 5 || end > data.length || end <= head.digitsEnd + 1 || data[end - 1] !== 0x0a) {
      throw paxError(label, offset, `bad record length at byte ${pos}`);
    }
    const eq = data.indexOf(0x3d, head.digitsEnd + 1);
    if (eq === -1 || eq >= end - 1 || eq === head.digitsEnd + 1) throw paxError(label, offset, `record without key at byte ${pos}`);
    const key = data.toString('latin1', head.digitsEnd + 1, eq);
    const value = data.subarray(eq + 1, end - 1);
    checkRecord(key, value, label, offset);
    if (key === SPARSE_OFFSET || key === SPARSE_NUMBYTES) {
      addSparsePair(sparse, key, value, label, offset);
    } else if (value.length === 0) {
      records.delete(key);
    } else {
      records.set(key, Buffer.from(value));
    }
    pos = end;
  }
  if (sparse.length > 0) records.set(SPARSE_MAP, Buffer.from(sparse.join(','), 'latin1'));
  return records;
}

function checkRecord(key: string, value: Buffer, label: string, offset: number): void {
  if (key.includes('\0')) throw paxError(label, offset, 'NUL in key');
  if (NAME_KEYS.has(key) && value.includes(0)) throw paxError(label, offset, `NUL in ${key}`);
}

/** Sparse 0.0 repeats these two keys in order; anything else is a broken map. */
function addSparsePair(sparse: string[], key: string, value: Buffer, label: string, offset: number): void {
  const want = sparse.length % 2 === 0 ? SPARSE_OFFSET : SPARSE_NUMBYTES;
  const v = value.toString('latin1');
  if (key !== want || v.includes(',')) throw paxError(label, offset, 'GNU sparse 0.0 map out of order');
  sparse.push(v);
}

/** A decimal integer as Go's strconv.ParseInt accepts it, limited to what a JS number holds exactly. */
export function parseDecimal(v: string, what: string, label: string, offset: number): number {
  if (!/^[+-]?[0-9]+$/.test(v)) throw paxError(label, offset, `${what} is not a number`);
  const n = Number(v);
  if (!Number.isSafeInteger(n)) throw paxError(label, offset, `${what} out of range`);
  return n;
}

/** "secs[.frac]" with at most nanosecond precision kept (Go truncates the rest). */
export function parsePaxTime(v: string, what: string, label: string, offset: number): number {
  const dot = v.indexOf('.');
  const secs = dot === -1 ? v : v.slice(0, dot);
  const frac = dot === -1 ? '' : v.slice(dot + 1);
  const whole = parseDecimal(secs, what, label, offset);
  if (frac === '') return whole;
  if (!/^[0-9]+$/.test(frac)) throw paxError(label, offset, `${what} is not a time`);
  return Number(`${secs}.${frac.slice(0, 9)}`);
}
