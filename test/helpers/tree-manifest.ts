// A real directory tree as comparable records, and their differences as readable lines: how tests check an output
// against another tool's (GNU tar, umoci, the kernel's overlayfs) without trusting either side's own account.
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream, promises as fs, type BigIntStats } from 'node:fs';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { displayPath } from '../../src/layer/names.js';

export type ManifestType = 'file' | 'dir' | 'symlink' | 'char' | 'block' | 'fifo' | 'socket';

/**
 * One name in a tree, as lstat sees it (symlinks are never followed).
 * - path: relative, a latin1 byte string (one char per byte, so non-UTF-8 names are exact); '' is the root itself.
 * - mode: permission and special bits only (07777).
 * - size: bytes for regular files; 0 for everything else, since directory and symlink sizes vary by filesystem.
 * - sha256: hex digest of a regular file's content. link: a symlink's target (latin1 byte string).
 * - mtime: whole seconds, floored (toward -infinity), because tar headers and some filesystems keep no more.
 * - rdev: 'major:minor' for character and block devices.
 * - xattrs: name (latin1) -> base64 value, as getfattr reads them; security.selinux left out (host policy, not image).
 * - linkGroup: for non-directories with two or more names in this tree sharing one inode, the bytewise-smallest of
 *   those names; so two trees agree on it exactly when they link the same names together, whatever the inode numbers.
 */
export interface ManifestRecord {
  path: string;
  type: ManifestType;
  mode: number;
  uid: number;
  gid: number;
  size: number;
  sha256?: string;
  link?: string;
  mtime: number;
  rdev?: string;
  xattrs: Record<string, string>;
  linkGroup?: string;
}

export interface ManifestOptions {
  /** Include the root directory itself as path ''. Off by default: a tar carries no entry for it. */
  root?: boolean;
}

/** Reads a directory into records sorted bytewise by path. Needs read access everywhere (run as root for 0000 dirs). */
export async function manifestOfDir(dir: string, opts: ManifestOptions = {}): Promise<ManifestRecord[]> {
  const abs = path.resolve(dir);
  const found: Array<{ path: string; st: BigIntStats }> = [];
  await walk(Buffer.from(abs), '', found);
  const xattrs = await readXattrs(abs);
  const groups = linkGroups(found);
  const wanted = found.filter(({ path: rel }) => rel !== '' || opts.root);
  const records: ManifestRecord[] = [];
  // Sixteen files hashed at a time: whole images (thousands of files) take seconds, not tens of them.
  for (let i = 0; i < wanted.length; i += 16) {
    const batch = wanted.slice(i, i + 16).map(({ path: rel, st }) => toRecord(abs, rel, st, xattrs.get(rel) ?? {}, groups.get(rel)));
    records.push(...(await Promise.all(batch)));
  }
  return records.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

async function walk(base: Buffer, rel: string, found: Array<{ path: string; st: BigIntStats }>): Promise<void> {
  const full = join(base, rel);
  const st = await fs.lstat(full, { bigint: true });
  found.push({ path: rel, st });
  if (!st.isDirectory()) return;
  for (const name of await fs.readdir(full, { encoding: 'buffer' })) {
    const n = name.toString('latin1');
    await walk(base, rel === '' ? n : `${rel}/${n}`, found);
  }
}

function join(base: Buffer, rel: string): Buffer {
  return rel === '' ? base : Buffer.concat([base, Buffer.from(`/${rel}`, 'latin1')]);
}

function linkGroups(found: ReadonlyArray<{ path: string; st: BigIntStats }>): Map<string, string> {
  const byInode = new Map<string, string[]>();
  for (const { path: p, st } of found) {
    if (st.isDirectory() || st.nlink < 2n) continue;
    const key = `${st.dev}:${st.ino}`;
    byInode.set(key, [...(byInode.get(key) ?? []), p]);
  }
  const groups = new Map<string, string>();
  for (const names of byInode.values()) {
    if (names.length < 2) continue;
    const id = names.reduce((m, p) => (p < m ? p : m));
    for (const p of names) groups.set(p, id);
  }
  return groups;
}

async function toRecord(abs: string, rel: string, st: BigIntStats, xattrs: Record<string, string>, group?: string): Promise<ManifestRecord> {
  const full = join(Buffer.from(abs), rel);
  const type = typeOf(st);
  const r: ManifestRecord = {
    path: rel,
    type,
    mode: Number(st.mode & 0o7777n),
    uid: Number(st.uid),
    gid: Number(st.gid),
    size: type === 'file' ? Number(st.size) : 0,
    mtime: floorSeconds(st.mtimeNs),
    xattrs,
  };
  if (type === 'file') r.sha256 = st.nlink > 1n ? await sha256OfInode(full, st) : await sha256Of(full);
  if (type === 'symlink') r.link = (await fs.readlink(full, { encoding: 'buffer' })).toString('latin1');
  if (type === 'char' || type === 'block') r.rdev = deviceNumbers(st.rdev);
  if (group !== undefined) r.linkGroup = group;
  return r;
}

function typeOf(st: BigIntStats): ManifestType {
  if (st.isFile()) return 'file';
  if (st.isDirectory()) return 'dir';
  if (st.isSymbolicLink()) return 'symlink';
  if (st.isCharacterDevice()) return 'char';
  if (st.isBlockDevice()) return 'block';
  if (st.isFIFO()) return 'fifo';
  return 'socket';
}

function floorSeconds(ns: bigint): number {
  const s = ns / 1_000_000_000n;
  return Number(ns < 0n && s * 1_000_000_000n !== ns ? s - 1n : s);
}

/** glibc's encoding of dev_t: 12+20 bits of major, 8+24 bits of minor. */
function deviceNumbers(rdev: bigint): string {
  const major = ((rdev >> 8n) & 0xfffn) | ((rdev >> 32n) & ~0xfffn);
  const minor = (rdev & 0xffn) | ((rdev >> 12n) & ~0xffn);
  return `${major}:${minor}`;
}

/** Hardlinked names share one hash: busybox-style images link one 1 MB file hundreds of times. */
const inodeHashes = new Map<string, Promise<string>>();
function sha256OfInode(file: Buffer, st: BigIntStats): Promise<string> {
  const key = `${st.dev}:${st.ino}:${st.size}:${st.mtimeNs}:${st.ctimeNs}`;
  let h = inodeHashes.get(key);
  if (!h) {
    h = sha256Of(file);
    inodeHashes.set(key, h);
  }
  return h;
}

async function sha256Of(file: Buffer): Promise<string> {
  const hash = createHash('sha256');
  await pipeline(createReadStream(file), hash);
  return hash.digest('hex');
}

/**
 * All xattrs under `abs` in one getfattr run: -R recurse, -P do not descend through symlinks, -h read a symlink's
 * own attributes. getfattr escapes '\', '=', newlines and such as \ooo; other bytes come through raw.
 */
async function readXattrs(abs: string): Promise<Map<string, Record<string, string>>> {
  const out = await runGetfattr(['-R', '-P', '-h', '-d', '-m', '-', '-e', 'base64', '--absolute-names', abs]);
  const prefix = Buffer.from(abs).toString('latin1');
  const result = new Map<string, Record<string, string>>();
  let current: Record<string, string> | undefined;
  for (const line of out.toString('latin1').split('\n')) {
    if (line.startsWith('# file: ')) {
      const p = unquote(line.slice(8));
      const rel = p === prefix ? '' : p.slice(prefix.length + 1);
      current = {};
      result.set(rel, current);
    } else if (current !== undefined && line.includes('=')) {
      const eq = line.indexOf('=');
      const name = unquote(line.slice(0, eq));
      if (name !== 'security.selinux') current[name] = decodeValue(line.slice(eq + 1));
    }
  }
  return result;
}

function unquote(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_, oct: string) => String.fromCharCode(parseInt(oct, 8)));
}

function decodeValue(v: string): string {
  if (v.startsWith('0s')) return Buffer.from(v.slice(2), 'base64').toString('base64');
  if (v.startsWith('0x')) return Buffer.from(v.slice(2), 'hex').toString('base64');
  const text = v.startsWith('"') && v.endsWith('"') && v.length >= 2 ? v.slice(1, -1) : v;
  return Buffer.from(unquote(text), 'latin1').toString('base64');
}

function runGetfattr(args: string[]): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const child = spawn('getfattr', args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, LC_ALL: 'C' } });
    const chunks: Buffer[] = [];
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => chunks.push(c));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('error', (err) => reject(new Error(`getfattr could not run (install the attr package): ${err.message}`)));
    child.on('close', (code) => {
      const real = stderr.split('\n').filter((l) => l !== '' && !l.includes('Removing leading'));
      if (code !== 0 || real.length > 0) reject(new Error(`getfattr failed (${code}): ${real.join('; ')}`));
      else resolve(Buffer.concat(chunks));
    });
  });
}

export interface DiffOptions {
  /** Fields not compared, e.g. ['mtime'] against a tool that does not keep times. */
  ignore?: Array<keyof ManifestRecord>;
  /** Paths left out on both sides, e.g. (p) => p === '' || p.startsWith('proc/'). */
  ignorePaths?: (p: string) => boolean;
  /** What to call the two sides in messages; default ['a', 'b']. */
  labels?: [string, string];
}

const FIELDS = ['type', 'mode', 'uid', 'gid', 'size', 'sha256', 'link', 'mtime', 'rdev', 'linkGroup', 'xattrs'] as const;

/**
 * Every difference as one line, sorted by path; empty means equal. Paths are shown with non-UTF-8 bytes as \xNN.
 * When the types differ, the other fields of that path are not compared (they would only be noise).
 */
export function diffManifests(a: readonly ManifestRecord[], b: readonly ManifestRecord[], opts: DiffOptions = {}): string[] {
  const [la, lb] = opts.labels ?? ['a', 'b'];
  const skip = opts.ignorePaths ?? (() => false);
  const ignore = new Set<string>(opts.ignore ?? []);
  const mapB = new Map(b.filter((r) => !skip(r.path)).map((r) => [r.path, r]));
  const lines: string[] = [];
  for (const ra of a) {
    if (skip(ra.path)) continue;
    const rb = mapB.get(ra.path);
    mapB.delete(ra.path);
    if (rb === undefined) lines.push(`${show(ra.path)}: only in ${la} (${ra.type})`);
    else lines.push(...diffRecord(ra, rb, ignore, la, lb));
  }
  for (const rb of mapB.values()) lines.push(`${show(rb.path)}: only in ${lb} (${rb.type})`);
  return lines.sort();
}

function diffRecord(a: ManifestRecord, b: ManifestRecord, ignore: Set<string>, la: string, lb: string): string[] {
  const out: string[] = [];
  for (const f of FIELDS) {
    if (ignore.has(f)) continue;
    if (f === 'xattrs') out.push(...diffXattrs(a, b, la, lb));
    else if (a[f] !== b[f]) out.push(`${show(a.path)}: ${f} ${la}=${fmt(f, a[f])} ${lb}=${fmt(f, b[f])}`);
    if (f === 'type' && a.type !== b.type) break;
  }
  return out;
}

function diffXattrs(a: ManifestRecord, b: ManifestRecord, la: string, lb: string): string[] {
  const names = [...new Set([...Object.keys(a.xattrs), ...Object.keys(b.xattrs)])].sort();
  return names
    .filter((n) => a.xattrs[n] !== b.xattrs[n])
    .map((n) => `${show(a.path)}: xattr ${show(n)} ${la}=${a.xattrs[n] ?? '(none)'} ${lb}=${b.xattrs[n] ?? '(none)'}`);
}

function fmt(field: string, v: unknown): string {
  if (v === undefined) return '(none)';
  if (field === 'mode' && typeof v === 'number') return `0${v.toString(8).padStart(3, '0')}`;
  if (field === 'link' || field === 'linkGroup') return JSON.stringify(show(String(v)));
  return String(v);
}

function show(p: string): string {
  return p === '' ? '/' : displayPath(p);
}
