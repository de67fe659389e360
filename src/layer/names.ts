// Names inside an image: lexical cleaning of tar names, bytewise order, and a printable form.
// A name is a latin1 "byte string" (one char per byte), so nothing here decodes unless asked to.

export interface CleanedName {
  /** Relative, no '.', '..', '' components, no trailing '/'; '' is the root. */
  path: string;
  /** True when a '..' tried to climb above the root and was stopped there. */
  clamped: boolean;
}

/**
 * Cleans a tar name lexically. A '..' above the root is clamped at the root, as containerd's
 * RootPath and umoci's CleanPath do: the name stays inside the image and the caller can warn.
 */
export function cleanName(raw: string): CleanedName {
  const out: string[] = [];
  let clamped = false;
  for (const part of raw.split('/')) {
    if (part === '' || part === '.') continue;
    if (part !== '..') out.push(part);
    else if (out.length > 0) out.pop();
    else clamped = true;
  }
  return { path: out.join('/'), clamped };
}

/** Splits a cleaned path into its directory ('' for the root) and its last component. */
export function splitPath(path: string): [dir: string, base: string] {
  const i = path.lastIndexOf('/');
  return i < 0 ? ['', path] : [path.slice(0, i), path.slice(i + 1)];
}

/** Joins a cleaned directory path and a name. */
export function joinPath(dir: string, name: string): string {
  return dir === '' ? name : `${dir}/${name}`;
}

/** Bytewise order: each char is one byte, so UTF-16 code unit order is byte order. */
export function comparePaths(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

const PLAIN = /^[\x20-\x7e]*$/;

/**
 * A byte-string path for people: valid UTF-8 sequences are decoded, any other byte is shown as
 * \xNN. Control bytes are escaped too so a hostile name cannot break a one-line message.
 */
export function displayPath(p: string): string {
  if (PLAIN.test(p)) return p;
  const bytes = Buffer.from(p, 'latin1');
  let out = '';
  for (let i = 0; i < bytes.length; ) {
    const n = utf8Length(bytes, i);
    if (n === 0 || (n === 1 && isControl(bytes[i]))) {
      out += `\\x${bytes[i].toString(16).padStart(2, '0')}`;
      i += 1;
    } else {
      out += bytes.toString('utf8', i, i + n);
      i += n;
    }
  }
  return out;
}

function isControl(b: number): boolean {
  return b < 0x20 || b === 0x7f;
}

/** Length of the well-formed UTF-8 sequence starting at i (RFC 3629 table), or 0 if there is none. */
function utf8Length(bytes: Buffer, i: number): number {
  const b0 = bytes[i];
  if (b0 < 0x80) return 1;
  let n: number;
  let lo = 0x80;
  let hi = 0xbf;
  if (b0 >= 0xc2 && b0 <= 0xdf) n = 2;
  else if (b0 >= 0xe0 && b0 <= 0xef) {
    n = 3;
    if (b0 === 0xe0) lo = 0xa0; // overlong
    if (b0 === 0xed) hi = 0x9f; // surrogates
  } else if (b0 >= 0xf0 && b0 <= 0xf4) {
    n = 4;
    if (b0 === 0xf0) lo = 0x90; // overlong
    if (b0 === 0xf4) hi = 0x8f; // above U+10FFFF
  } else return 0;
  if (i + n > bytes.length) return 0;
  if (bytes[i + 1] < lo || bytes[i + 1] > hi) return 0;
  for (let k = 2; k < n; k++) if ((bytes[i + k] & 0xc0) !== 0x80) return 0;
  return n;
}
