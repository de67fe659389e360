// The kernel's overlayfs as the judge of `stratum flatten`: the layers of an image are unpacked one by one with
// GNU tar, their OCI whiteouts turned into overlayfs ones, and `mount -t overlay` merges them; what the mount shows
// is what a container runtime shows. Two ways to get there:
// - scriptOracle(): runs ../shared/corpus/tools/overlay-rootfs.sh (the reference tool) on an OCI layout + tag and
//   unpacks the merged tree it writes (GT_TAR). Slow here: dozens of processes per layer, 5-15 s per image.
// - fastOracle(): the same recipe with a handful of processes per layer (GNU tar still unpacks every layer, Node
//   only finds and edits the .wh. names, the kernel still merges): layer blob files or generated tars. A test holds
//   it against the script (test/flatten/oracle-selfcheck.test.ts).
// Both report what the oracle cannot be trusted on (the script's DISAGREEMENT cases: entries below a lower layer's
// symlink, real 0/0 char devices; hardlinks to lower layers, which it copies) and which directories took their
// metadata from an implicit parent (their mtime is tar's clock, so it is not compared). compareWithOracle() applies
// all that and returns the differences as lines.
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { EOA, file, pax, type BlockSpec } from '../tar/build.js';
import { buildImage, ociLayoutEntries, withRefName, writeEntries } from './archive-builder.js';
import { SHARED } from './paths.js';
import { diffManifests, manifestOfDir, type ManifestRecord } from './tree-manifest.js';

export const TOOLS = path.join(SHARED, 'corpus', 'tools');
export const OVERLAY_ROOTFS = path.join(TOOLS, 'overlay-rootfs.sh');
export const TREE_MANIFEST_SH = path.join(TOOLS, 'tree-manifest.sh');

// ---------------------------------------------------------------------------------------------------------------
// processes

export interface RunResult {
  code: number;
  stdout: Buffer;
  stderr: string;
}

export interface RunOptions {
  input?: Buffer;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Do not throw on a non-zero exit. */
  allowFail?: boolean;
  timeoutMs?: number;
}

/** Runs a program (no shell), collects its output; throws with stderr when it fails unless allowFail. */
export function run(cmd: string, args: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd: opts.cwd, env: opts.env ?? process.env, stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    let err = '';
    let timer: NodeJS.Timeout | undefined;
    if (opts.timeoutMs) timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs);
    child.stdout.on('data', (c: Buffer) => out.push(c));
    child.stderr.on('data', (c: Buffer) => (err += c.toString('latin1')));
    child.on('error', (e) => {
      if (timer) clearTimeout(timer);
      reject(new Error(`${cmd}: ${e.message}`));
    });
    child.on('close', (code, signal) => {
      if (timer) clearTimeout(timer);
      const r = { code: code ?? (signal ? 128 : 1), stdout: Buffer.concat(out), stderr: err };
      if (r.code !== 0 && !opts.allowFail) reject(new Error(`${cmd} ${args.join(' ')}: exit ${r.code}${signal ? ` (${signal})` : ''}: ${err.trim().slice(0, 2000)}`));
      else resolve(r);
    });
    child.stdin.on('error', () => undefined); // a program that exits early must not crash the test with EPIPE
    child.stdin.end(opts.input ?? Buffer.alloc(0));
  });
}

export async function tmpDir(prefix: string): Promise<string> {
  return fsp.mkdtemp(path.join(os.tmpdir(), `stratum-${prefix}-`));
}

/** rm -rf that first unmounts anything still mounted below (a crashed oracle must not leave mounts behind). */
export async function removeTree(dir: string): Promise<void> {
  const mounts = (await fsp.readFile('/proc/self/mounts', 'latin1').catch(() => ''))
    .split('\n')
    .map((l) => l.split(' ')[1]?.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8))))
    .filter((m): m is string => m !== undefined && (m === dir || m.startsWith(`${dir}/`)))
    .sort((a, b) => b.length - a.length);
  for (const m of mounts) await run('umount', [m], { allowFail: true });
  await fsp.rm(dir, { recursive: true, force: true });
}

// ---------------------------------------------------------------------------------------------------------------
// availability

export interface OracleStatus {
  ok: boolean;
  reason: string;
}

let status: Promise<OracleStatus> | undefined;

/** Whether this process can run the oracle: root, the tools, and a real `mount -t overlay`. Checked once. */
export function overlayStatus(): Promise<OracleStatus> {
  status ??= checkOverlay();
  return status;
}

async function checkOverlay(): Promise<OracleStatus> {
  if (process.env.STRATUM_NO_OVERLAY) return { ok: false, reason: 'STRATUM_NO_OVERLAY is set' };
  if (process.platform !== 'linux') return { ok: false, reason: `not Linux (${process.platform})` };
  if (process.getuid?.() !== 0) return { ok: false, reason: `not root (uid ${process.getuid?.()})` };
  for (const tool of ['tar', 'zstd', 'jq', 'setfattr', 'getfattr', 'perl', 'mount', 'umount', 'gzip']) {
    const r = await run('sh', ['-c', `command -v ${tool}`], { allowFail: true });
    if (r.code !== 0) return { ok: false, reason: `${tool} is not installed` };
  }
  try {
    await fsp.access(OVERLAY_ROOTFS);
  } catch {
    return { ok: false, reason: `${OVERLAY_ROOTFS} is missing (CI needs ../shared beside the clone, or STRATUM_SHARED)` };
  }
  const dir = await tmpDir('mountcheck');
  try {
    for (const d of ['a', 'b', 'm']) await fsp.mkdir(path.join(dir, d));
    const r = await run('mount', ['-t', 'overlay', 'overlay', '-o', `ro,lowerdir=${dir}/a:${dir}/b`, `${dir}/m`], { allowFail: true });
    if (r.code !== 0) return { ok: false, reason: `mount -t overlay failed: ${r.stderr.trim()}` };
    await run('umount', [`${dir}/m`]);
    return { ok: true, reason: '' };
  } finally {
    await removeTree(dir);
  }
}

/** The loud line every skipped oracle test prints. */
export function warnSkipped(what: string, reason: string): void {
  console.warn(`\n${'!'.repeat(100)}\nSKIPPED: ${what} NOT CHECKED (${reason})\n${'!'.repeat(100)}\n`);
}

// ---------------------------------------------------------------------------------------------------------------
// what an oracle run gives

export interface OracleTree {
  /** The merged tree: an unpacked copy (script) or the read-only overlay mount itself (fast). */
  dir: string;
  /** The oracle's own notes, one line each. */
  notes: string[];
  /** Subtrees the oracle cannot be trusted on (cleaned paths; the path itself and everything below). */
  untrusted: Array<{ path: string; why: string }>;
  /** For a DISAGREEMENT "entries below a lower symlink": the layer's names below that path (relative to it). */
  belowSymlink: Array<{ layer: number; dir: string; names: string[] }>;
  /** Directories whose metadata came from an implicit parent in their topmost layer: mtime is tar's clock. */
  implicitDirs: Set<string>;
  /**
   * Directories whose mtime the oracle itself changed after unpacking (the script removes .wh. files and makes the
   * whiteout devices inside them): their mtime is the script's clock, not the image's.
   */
  touchedDirs: Set<string>;
  /** Hardlinks whose target lay in a lower layer: the oracle copied the file, so they are not linked there. */
  lowerLinks: Array<{ name: string; target: string }>;
  cleanup(): Promise<void>;
}

/** What the oracle needs to know about one unpacked layer directory to emulate an overlayfs lookup. */
interface LayerDirInfo {
  root: string;
  /** Cleaned names of the layer's own entries (after whiteout conversion: the names the tar declared). */
  explicit: Set<string>;
  /** Cleaned paths of directories carrying trusted.overlay.opaque. */
  opaque: Set<string>;
}

type Kind = 'dir' | 'whiteout' | 'other';

/** The directories above a cleaned path, outermost first ('a/b/c' -> 'a', 'a/b'). */
function parentsOf(p: string): string[] {
  const out: string[] = [];
  for (let i = p.indexOf('/'); i >= 0; i = p.indexOf('/', i + 1)) out.push(p.slice(0, i));
  return out;
}

function abs(root: string, rel: string): Buffer {
  return Buffer.from(rel === '' ? root : `${root}/${rel}`, 'latin1');
}

async function kindIn(layer: LayerDirInfo, p: string): Promise<Kind | undefined> {
  try {
    const st = await fsp.lstat(Buffer.from(path.join(layer.root, '/') + p, 'latin1'));
    if (st.isDirectory()) return 'dir';
    if (st.isCharacterDevice() && st.rdev === 0) return 'whiteout';
    return 'other';
  } catch {
    return undefined;
  }
}

/**
 * For each directory of the merged tree, which layer its metadata came from, by the overlayfs lookup rules: the
 * topmost layer holding the name as a directory, looking down only while the names found are directories that are
 * not opaque; a whiteout or non-directory stops it. Returns the directories whose topmost layer did not declare them.
 */
async function implicitDirsOf(layers: readonly LayerDirInfo[], mergedDirs: readonly string[]): Promise<Set<string>> {
  return topmostIn(layers, mergedDirs, layers.map((l) => l.explicit), true);
}

/** The merged directories whose topmost layer has them in (or, with negate, not in) that layer's set. */
async function topmostIn(layers: readonly LayerDirInfo[], mergedDirs: readonly string[], sets: ReadonlyArray<Set<string>>, negate = false): Promise<Set<string>> {
  const memo = new Map<string, Promise<number[]>>();
  const contributors = (p: string): Promise<number[]> => {
    let m = memo.get(p);
    if (!m) {
      m = (async () => {
        if (p === '') return layers.map((_, i) => layers.length - 1 - i);
        const slash = p.lastIndexOf('/');
        const parent = slash < 0 ? '' : p.slice(0, slash);
        const out: number[] = [];
        for (const i of await contributors(parent)) {
          const k = await kindIn(layers[i], p);
          if (k === undefined) continue;
          if (k !== 'dir') break;
          out.push(i);
          if (layers[i].opaque.has(p)) break;
        }
        return out;
      })();
      memo.set(p, m);
    }
    return m;
  };
  const found = new Set<string>();
  for (const d of mergedDirs) {
    const c = await contributors(d);
    if (c.length > 0 && sets[c[0]].has(d) !== negate) found.add(d);
  }
  return found;
}

/** Cleans a tar name the way the oracle script does: no leading ./ or /, no trailing /; '' for the root. */
export function cleanTarName(n: string): string {
  const parts: string[] = [];
  for (const part of n.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') parts.pop();
    else parts.push(part);
  }
  return parts.join('/');
}

/** All paths with trusted.overlay.opaque below these roots, one getfattr run. */
async function opaqueDirs(roots: readonly string[]): Promise<Array<Set<string>>> {
  const sets = roots.map(() => new Set<string>());
  if (roots.length === 0) return sets;
  const r = await run('getfattr', ['-R', '-P', '-h', '-n', 'trusted.overlay.opaque', '--absolute-names', ...roots], {
    allowFail: true,
    env: { ...process.env, LC_ALL: 'C' },
  });
  for (const line of r.stdout.toString('latin1').split('\n')) {
    if (!line.startsWith('# file: ')) continue;
    const p = line.slice(8).replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
    roots.forEach((root, i) => {
      const rootL = Buffer.from(root).toString('latin1');
      if (p === rootL) sets[i].add('');
      else if (p.startsWith(`${rootL}/`)) sets[i].add(p.slice(rootL.length + 1));
    });
  }
  return sets;
}

/** The directories of a tree (root '' included), without reading any file. */
async function mergedDirsOf(root: string): Promise<string[]> {
  const dirs: string[] = [];
  const visit = async (rel: string): Promise<void> => {
    dirs.push(rel);
    for (const d of await fsp.readdir(abs(root, rel), { withFileTypes: true, encoding: 'buffer' })) {
      if (d.isDirectory()) await visit(rel === '' ? d.name.toString('latin1') : `${rel}/${d.name.toString('latin1')}`);
    }
  };
  await visit('');
  return dirs;
}

// ---------------------------------------------------------------------------------------------------------------
// the reference script

export interface ScriptOracleOptions {
  /** os/arch when the tag names an image index (the script's PLATFORM; it ignores variants). */
  platform?: string;
}

/** Runs overlay-rootfs.sh on LAYOUT:TAG and unpacks the merged tree it wrote. Call cleanup() when done. */
export async function scriptOracle(layout: string, tag: string, opts: ScriptOracleOptions = {}): Promise<OracleTree> {
  const base = await tmpDir('oracle');
  const work = path.join(base, 'work');
  const outd = path.join(base, 'out');
  const tree = path.join(base, 'tree');
  const gtTar = path.join(base, 'tree.tar.zst');
  const cleanup = (): Promise<void> => removeTree(base);
  try {
    const env: NodeJS.ProcessEnv = { ...process.env, GT_TAR: gtTar, LC_ALL: 'C' };
    if (opts.platform) env.PLATFORM = opts.platform;
    else delete env.PLATFORM;
    await run('bash', [OVERLAY_ROOTFS, layout, tag, work, outd], { env, timeoutMs: 600_000 });
    await fsp.mkdir(tree);
    await run('sh', [
      '-c',
      `zstd -dcq "$1" | tar -x --numeric-owner --same-owner -p --xattrs --xattrs-include='*' -C "$2" -f -`,
      'sh',
      gtTar,
      tree,
    ]);
    const notes = (await fsp.readFile(path.join(outd, 'notes.txt'), 'latin1')).split('\n').filter((l) => l !== '');
    const count = Number(/, (\d+) layers$/.exec(notes.find((l) => l.startsWith('image ')) ?? '')?.[1] ?? NaN);
    if (!Number.isInteger(count)) throw new Error(`overlay-rootfs.sh notes do not say how many layers: ${notes[0]}`);

    const layers: LayerDirInfo[] = [];
    const roots = Array.from({ length: count }, (_, i) => path.join(work, `L${i}`));
    const opaque = await opaqueDirs(roots);
    for (let i = 0; i < count; i++) {
      const names = (await fsp.readFile(path.join(work, `L${i}.entries`), 'latin1')).split('\0').filter((n) => n !== '');
      layers.push({ root: roots[i], explicit: new Set(names.map(cleanTarName)), opaque: opaque[i] });
    }
    const parsed = parseNotes(notes);
    if (layers.some((l, i) => i > 0 && l.explicit.has('.wh..wh..opq'))) {
      parsed.untrusted.push({ path: '', why: 'an opaque marker at a layer root: overlayfs ignores trusted.overlay.opaque there (fastOracle handles it)' });
    }
    const belowSymlink = parsed.belowSymlink.map((b) => ({
      ...b,
      names: [...layers[b.layer].explicit].filter((n) => n.startsWith(`${b.dir}/`)).map((n) => n.slice(b.dir.length + 1)),
    }));
    const dirs = await mergedDirsOf(tree);
    const implicitDirs = await implicitDirsOf(layers, dirs);
    // the script edits directories after tar restored their times: whiteout files removed, devices made, copies
    const touched = layers.map((l) => {
      const t = new Set<string>();
      for (const n of l.explicit) if (n.slice(n.lastIndexOf('/') + 1).startsWith('.wh.')) t.add(n.lastIndexOf('/') < 0 ? '' : n.slice(0, n.lastIndexOf('/')));
      return t;
    });
    for (const { layer, name } of parsed.lowerLinks) for (const p of parentsOf(name)) touched[layer].add(p);
    const touchedDirs = await topmostIn(layers, dirs, touched);
    return { dir: tree, notes, untrusted: parsed.untrusted, belowSymlink, implicitDirs, touchedDirs, lowerLinks: parsed.lowerLinks.map(({ name, target }) => ({ name, target })), cleanup };
  } catch (err) {
    await cleanup();
    throw err;
  }
}

function parseNotes(notes: readonly string[]): {
  untrusted: OracleTree['untrusted'];
  belowSymlink: Array<{ layer: number; dir: string }>;
  lowerLinks: Array<{ layer: number; name: string; target: string }>;
} {
  const untrusted: OracleTree['untrusted'] = [];
  const belowSymlink: Array<{ layer: number; dir: string }> = [];
  const lowerLinks: Array<{ layer: number; name: string; target: string }> = [];
  for (const line of notes) {
    let m = /^layer (\d+): DISAGREEMENT entries below (.*), which is a symlink in the layers below:/.exec(line);
    if (m) {
      const dir = cleanTarName(m[2]);
      untrusted.push({ path: dir, why: `layer ${m[1]} has entries below ${m[2]}, a symlink in the layers below` });
      belowSymlink.push({ layer: Number(m[1]), dir });
      continue;
    }
    m = /^layer (\d+): DISAGREEMENT char device 0\/0 stored in the layer, overlayfs treats it as a whiteout: (.*)$/.exec(line);
    if (m) {
      untrusted.push({ path: cleanTarName(m[2]), why: `layer ${m[1]} stores a real 0/0 char device, a whiteout to overlayfs` });
      continue;
    }
    m = /^layer (\d+): hardlink (.*) -> (.*) targets a lower layer; copied from lower view$/.exec(line);
    if (m) lowerLinks.push({ layer: Number(m[1]), name: cleanTarName(m[2]), target: cleanTarName(m[3]) });
  }
  return { untrusted, belowSymlink, lowerLinks };
}

// ---------------------------------------------------------------------------------------------------------------
// the same recipe with a few processes per layer (GNU tar unpacks, Node edits, one fixup tar, the kernel merges)

/** A layer: uncompressed tar bytes, or a blob file (plain, gzip or zstd: GNU tar sniffs a file's compression). */
export type LayerSource = Buffer | string;

interface Listed {
  type: string;
  name: string;
  link?: string;
}

/** GNU tar's --quoting-style=escape back to bytes (latin1 string). */
function unescapeGnu(s: string): string {
  const simple: Record<string, string> = { '\\': '\\', n: '\n', t: '\t', a: '\x07', b: '\b', f: '\f', r: '\r', v: '\v', '?': '?', '"': '"', "'": "'", ' ': ' ' };
  return s.replace(/\\([0-7]{3}|.)/g, (_, e: string) => (e.length === 3 ? String.fromCharCode(parseInt(e, 8)) : (simple[e] ?? e)));
}

/** `tar -xvv --quoting-style=escape` lines: type, cleaned name, hardlink target. */
function parseListing(out: Buffer): Listed[] {
  const entries: Listed[] = [];
  for (const line of out.toString('latin1').split('\n')) {
    const m = /^(\S)\S*\s+\S+\s+\S+\s+\S+\s+\S+\s(.*)$/.exec(line);
    if (!m) continue;
    let rest = m[2];
    let link: string | undefined;
    if (m[1] === 'h') {
      const h = /^(.*) link to (.*)$/.exec(rest);
      if (h) [rest, link] = [h[1], h[2]];
    } else if (m[1] === 'l') {
      const i = rest.indexOf(' -> ');
      if (i >= 0) rest = rest.slice(0, i);
    }
    entries.push({ type: m[1], name: cleanTarName(unescapeGnu(rest)), link: link === undefined ? undefined : cleanTarName(unescapeGnu(link)) });
  }
  return entries;
}

interface Walked {
  path: string;
  st: import('node:fs').BigIntStats;
}

async function walkLayer(root: string): Promise<Walked[]> {
  const out: Walked[] = [];
  const visit = async (rel: string): Promise<void> => {
    const st = await fsp.lstat(Buffer.from(rel === '' ? root : `${root}/${rel}`, 'latin1'), { bigint: true });
    out.push({ path: rel, st });
    if (!st.isDirectory()) return;
    for (const n of await fsp.readdir(Buffer.from(rel === '' ? root : `${root}/${rel}`, 'latin1'), { encoding: 'buffer' })) {
      const name = n.toString('latin1');
      await visit(rel === '' ? name : `${rel}/${name}`);
    }
  };
  await visit('');
  return out;
}


interface FixDir {
  mode: number;
  uid: number;
  gid: number;
  /** mtime as "sec.nsec" for a PAX record */
  mtime: string;
  opaque?: boolean;
}

function nsTime(ns: bigint): string {
  const sec = ns / 1_000_000_000n;
  const frac = ns % 1_000_000_000n;
  return frac === 0n ? `${sec}` : `${sec}.${frac.toString().padStart(9, '0')}`;
}

/** One tar member with PAX records for the name (always, so any byte survives), mtime and xattrs. */
function fixupMember(spec: BlockSpec, records: Array<[string, Buffer | string]>, body: Buffer = Buffer.alloc(0)): Buffer {
  const name = spec.name ?? '';
  const paxRecs: Array<[string, Buffer | string]> = [...records];
  let header = { ...spec };
  if (Buffer.byteLength(name, 'latin1') >= 100) {
    paxRecs.push(['path', name]);
    header = { ...header, name: name.slice(0, 99) };
  }
  if (spec.linkname !== undefined && Buffer.byteLength(spec.linkname, 'latin1') >= 100) {
    paxRecs.push(['linkpath', spec.linkname]);
    header = { ...header, linkname: spec.linkname.slice(0, 99) };
  }
  return Buffer.concat([paxRecs.length > 0 ? pax(paxRecs) : Buffer.alloc(0), file(header, body)]);
}

async function mountOverlay(lowers: readonly string[], target: string, emptyDir: string): Promise<void> {
  // lowerdir lists the top layer first; overlay needs two lowers when there is no upper
  const list = [...lowers].reverse();
  if (list.length === 1) list.push(emptyDir);
  await run('mount', ['-t', 'overlay', 'overlay', '-o', `ro,lowerdir=${list.join(':')}`, target]);
}

const TAR_X = ['--numeric-owner', '--same-owner', '-p', '--delay-directory-restore', '--xattrs'];

/**
 * The overlayfs merge of these layers (base first), following overlay-rootfs.sh step by step but with a few
 * processes per layer instead of dozens: GNU tar unpacks each layer (user.* and security.* xattrs, like the script)
 * and lists it; Node finds the .wh. names; one small fixup tar, unpacked by GNU tar, makes the whiteout devices,
 * sets trusted.overlay.opaque, gives implicit parents the lower layers' mode/owner, copies hardlink targets from
 * below and puts back the times of the directories it touched; `mount -t overlay` merges. The result's dir is the
 * read-only mount; cleanup() unmounts and removes everything.
 */
export async function fastOracle(layerSources: readonly LayerSource[]): Promise<OracleTree> {
  const base = await tmpDir('fastoracle');
  const cleanup = (): Promise<void> => removeTree(base);
  try {
    const empty = path.join(base, 'empty');
    const lowerMnt = path.join(base, 'lowermnt');
    const mnt = path.join(base, 'mnt');
    for (const d of [empty, lowerMnt, mnt]) await fsp.mkdir(d);
    const notes: string[] = [];
    const untrusted: OracleTree['untrusted'] = [];
    const belowSymlink: OracleTree['belowSymlink'] = [];
    const lowerLinks: OracleTree['lowerLinks'] = [];
    const layers: LayerDirInfo[] = [];
    /** overlayfs ignores trusted.overlay.opaque on a layer's root, so a root opaque marker starts a new stack */
    let bottom = 0;
    const env = { ...process.env, LC_ALL: 'C' };

    for (let i = 0; i < layerSources.length; i++) {
      const root = path.join(base, `L${i}`);
      await fsp.mkdir(root);
      const src = layerSources[i];
      // (1) unpack, listing every member
      const r = await run('tar', ['-x', '-vv', '--quoting-style=escape', ...TAR_X, '--xattrs-include=user.*', '--xattrs-include=security.*', '-C', root, '-f', typeof src === 'string' ? src : '-'], {
        input: typeof src === 'string' ? undefined : src,
        allowFail: true,
        env,
      });
      if (r.code !== 0) notes.push(`layer ${i}: GNU tar exit ${r.code}: ${r.stderr.trim().split('\n').slice(0, 5).join(' | ')}`);
      const listing = parseListing(r.stdout);
      const explicit = new Set(listing.map((e) => e.name));
      const walked = await walkLayer(root);
      if (walked.some((w) => w.path === '.wh..wh..opq')) {
        bottom = i;
        notes.push(`layer ${i}: opaque marker at the root: the layers below are left out (overlayfs ignores trusted.overlay.opaque on a layer root)`);
      }
      const below = layers.slice(bottom);

      // the lower view, made only when needed: nothing, the single layer below, or a mount of all of them
      let lower: string | undefined;
      const lowerView = async (): Promise<string | undefined> => {
        if (below.length === 0) return undefined;
        if (lower === undefined) {
          if (below.length === 1) lower = below[0].root;
          else {
            await mountOverlay(below.map((l) => l.root), lowerMnt, empty);
            lower = lowerMnt;
          }
        }
        return lower;
      };
      const fixDirs = new Map<string, FixDir>();
      const fixOther: Buffer[] = [];
      const metaOf = (st: import('node:fs').BigIntStats): FixDir => ({ mode: Number(st.mode & 0o7777n), uid: Number(st.uid), gid: Number(st.gid), mtime: nsTime(st.mtimeNs) });
      const keepTime = async (dir: string): Promise<void> => {
        if (fixDirs.has(dir)) return;
        const st = await fsp.lstat(abs(root, dir), { bigint: true }).catch(() => undefined);
        if (st?.isDirectory()) fixDirs.set(dir, metaOf(st));
      };

      // (3) real 0/0 character devices: overlayfs would read them as whiteouts
      for (const w of walked) {
        if (w.st.isCharacterDevice() && w.st.rdev === 0n) {
          untrusted.push({ path: w.path, why: `layer ${i} stores a real 0/0 char device, a whiteout to overlayfs` });
          notes.push(`layer ${i}: DISAGREEMENT char device 0/0 stored in the layer, overlayfs treats it as a whiteout: /${w.path}`);
        }
      }
      // (4) markers: .wh..wh..opq -> opaque; AUFS metadata dropped; .wh.NAME -> a whiteout, unless NAME is an
      // entry of this same layer (it stays; a directory becomes opaque instead)
      const opaque = new Set<string>();
      const whiteouts: string[] = [];
      for (const w of walked) {
        const slash = w.path.lastIndexOf('/');
        const dir = slash < 0 ? '' : w.path.slice(0, slash);
        const baseName = w.path.slice(slash + 1);
        if (!baseName.startsWith('.wh.')) continue;
        await keepTime(dir);
        await fsp.rm(abs(root, w.path), { recursive: true, force: true });
        if (baseName === '.wh..wh..opq') opaque.add(dir);
        else if (baseName.startsWith('.wh..wh.')) notes.push(`layer ${i}: dropped AUFS metadata /${w.path}`);
        else {
          const target = dir === '' ? baseName.slice(4) : `${dir}/${baseName.slice(4)}`;
          const st = await fsp.lstat(abs(root, target), { bigint: true }).catch(() => undefined);
          if (st?.isDirectory()) {
            opaque.add(target);
            notes.push(`layer ${i}: whiteout and directory /${target} in the same layer -> opaque`);
          } else if (st) notes.push(`layer ${i}: whiteout and entry /${target} in the same layer -> entry kept`);
          else whiteouts.push(target);
        }
      }
      /**
       * What the layers below have at p, seen from this layer: nothing below one of this layer's opaque
       * directories, nor below a name this layer declares as a directory over a lower non-directory. A lower
       * symlink in the way of a directory this layer did not declare is the DISAGREEMENT case.
       */
      const lowerAt = async (p: string): Promise<{ st?: import('node:fs').BigIntStats; symlinkAt?: string }> => {
        // the root: overlayfs shows the top layer's root directory, and an opaque marker never hides the root itself
        if (p === '') return i === 0 ? {} : { st: await fsp.lstat(layers[i - 1].root, { bigint: true }) };
        const lv = await lowerView();
        if (lv === undefined) return {};
        let cur = '';
        for (const part of p.split('/')) {
          if (opaque.has(cur)) return {};
          cur = cur === '' ? part : `${cur}/${part}`;
          const st = await fsp.lstat(abs(lv, cur), { bigint: true }).catch(() => undefined);
          // (layer 0 is read directly, not through a mount: its 0/0 char devices are whiteouts, i.e. nothing)
          if (!st || (st.isCharacterDevice() && st.rdev === 0n)) return {};
          if (cur === p) return st.isSymbolicLink() && !explicit.has(cur) ? { symlinkAt: cur } : { st };
          if (!st.isDirectory()) return st.isSymbolicLink() && !explicit.has(cur) ? { symlinkAt: cur } : {};
        }
        return {};
      };
      // (5) implicit parents: the lower layers' directory gives mode and owner
      for (const w of walked) {
        if (!w.st.isDirectory() || explicit.has(w.path)) continue;
        if (untrusted.some((u) => under(w.path, u.path))) continue;
        const ls = await lowerAt(w.path);
        if (ls.symlinkAt !== undefined) {
          const at = ls.symlinkAt;
          untrusted.push({ path: at, why: `layer ${i} has entries below /${at}, a symlink in the layers below` });
          belowSymlink.push({ layer: i, dir: at, names: [...explicit].filter((x) => x.startsWith(`${at}/`)).map((x) => x.slice(at.length + 1)) });
          notes.push(`layer ${i}: DISAGREEMENT entries below /${at}, which is a symlink in the layers below`);
        } else if (ls.st?.isDirectory()) {
          fixDirs.set(w.path, { ...metaOf(w.st), mode: Number(ls.st.mode & 0o7777n), uid: Number(ls.st.uid), gid: Number(ls.st.gid) });
        }
      }
      // (6) whiteouts -> char device 0/0, but only where the layers below show something: a whiteout of nothing
      // hides nothing, and overlayfs lists a whiteout device in a directory only one layer has (readdir shows it,
      // lookup says ENOENT)
      const devices: string[] = [];
      for (const target of whiteouts) {
        const ls = await lowerAt(target);
        if (ls.st || ls.symlinkAt !== undefined) devices.push(target);
        else notes.push(`layer ${i}: whiteout of /${target}, which the layers below do not show: no-op`);
      }
      // (7) hardlinks whose target is not in this layer: a copy of the target from the layers below
      for (const e of listing) {
        if (e.type !== 'h' || e.link === undefined) continue;
        if (await fsp.lstat(abs(root, e.name)).catch(() => undefined)) continue;
        const ls = await lowerAt(e.link);
        const lv = await lowerView();
        if (!ls.st || lv === undefined) {
          notes.push(`layer ${i}: hardlink ${e.name} -> ${e.link} has no target in this layer or below`);
          continue;
        }
        lowerLinks.push({ name: e.name, target: e.link });
        notes.push(`layer ${i}: hardlink ${e.name} -> ${e.link} targets a lower layer; copied from lower view`);
        for (const p of parentsOf(e.name)) await keepTime(p);
        const m = metaOf(ls.st);
        const spec: BlockSpec = { name: e.name, mode: m.mode, uid: m.uid, gid: m.gid };
        const recs: Array<[string, string]> = [['mtime', m.mtime]];
        if (ls.st.isSymbolicLink()) fixOther.push(fixupMember({ ...spec, typeflag: '2', linkname: (await fsp.readlink(abs(lv, e.link), { encoding: 'buffer' })).toString('latin1') }, recs));
        else if (ls.st.isFile()) fixOther.push(fixupMember({ ...spec, typeflag: '0' }, recs, await fsp.readFile(abs(lv, e.link))));
        else notes.push(`layer ${i}: hardlink ${e.name} -> ${e.link}: the lower target is not a file or symlink; not copied`);
      }
      for (const o of opaque) {
        await keepTime(o);
        const f = fixDirs.get(o);
        if (f) f.opaque = true;
      }
      const fix: Buffer[] = [...fixOther];
      for (const d of devices) fix.push(fixupMember({ name: d, typeflag: '3', mode: 0o644, devmajor: 0, devminor: 0 }, []));
      for (const [d, m] of [...fixDirs].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
        const recs: Array<[string, string]> = [['mtime', m.mtime]];
        if (m.opaque) recs.push(['SCHILY.xattr.trusted.overlay.opaque', 'y']);
        fix.push(fixupMember({ name: d === '' ? './' : `${d}/`, typeflag: '5', mode: m.mode, uid: m.uid, gid: m.gid }, recs));
      }
      if (lower === lowerMnt) await run('umount', [lowerMnt]);
      if (fix.length > 0) {
        await run('tar', ['-x', ...TAR_X, '--xattrs-include=*', '-C', root, '-f', '-'], { input: Buffer.concat([...fix, EOA]), env });
      }
      layers.push({ root, explicit, opaque });
    }

    await mountOverlay(layers.slice(bottom).map((l) => l.root), mnt, empty);
    const implicitDirs = await implicitDirsOf(layers.slice(bottom), await mergedDirsOf(mnt));
    return { dir: mnt, notes, untrusted, belowSymlink, implicitDirs, touchedDirs: new Set(), lowerLinks, cleanup };
  } catch (err) {
    await cleanup();
    throw err;
  }
}

/** The layer blob files of LAYOUT:TAG (an image index is resolved by platform), base first. */
export async function layoutLayerFiles(layout: string, tag: string, platform = 'linux/amd64'): Promise<string[]> {
  const blob = (d: string): string => path.join(layout, 'blobs', ...d.split(':'));
  const index = JSON.parse(await fsp.readFile(path.join(layout, 'index.json'), 'utf8')) as OciIndex;
  const desc = (index.manifests ?? []).find((m) => m.annotations?.['org.opencontainers.image.ref.name'] === tag);
  if (!desc) throw new Error(`${layout}: no tag ${tag}`);
  const manifest = await selectManifest(blob, desc.digest, platform);
  return manifest.layers.map((l) => blob(l.digest));
}

interface OciDescriptor {
  mediaType?: string;
  digest: string;
  size?: number;
  annotations?: Record<string, string>;
  platform?: { os?: string; architecture?: string; variant?: string };
}
interface OciIndex {
  manifests?: OciDescriptor[] | null;
}
interface OciManifest {
  config: OciDescriptor;
  layers: OciDescriptor[];
}

/** The image manifest a descriptor leads to: an index (OCI or Docker list) is resolved to os/arch[/variant]. */
export async function selectManifest(blob: (d: string) => string, digest: string, platform = 'linux/amd64'): Promise<OciManifest & { digest: string }> {
  const doc = JSON.parse(await fsp.readFile(blob(digest), 'utf8')) as OciManifest & OciIndex;
  if (!Array.isArray(doc.manifests)) return { ...doc, digest };
  const [os, arch, variant] = platform.split('/');
  const present = async (d: OciDescriptor): Promise<boolean> => fsp.access(blob(d.digest)).then(() => true, () => false);
  for (const m of doc.manifests) {
    const p = m.platform;
    if (p?.os !== os || p?.architecture !== arch || (variant !== undefined && p.variant !== variant)) continue;
    if (await present(m)) return selectManifest(blob, m.digest, platform);
  }
  throw new Error(`${digest}: no ${platform} image among ${doc.manifests.map((m) => `${m.platform?.os}/${m.platform?.architecture}${m.platform?.variant ? `/${m.platform.variant}` : ''}`).join(', ')}`);
}

// ---------------------------------------------------------------------------------------------------------------
// comparing stratum's output with the oracle

export interface CompareOptions {
  /** Only these subtrees (cleaned paths), as `--path` gives. */
  only?: string[];
  /** Extra paths (and everything below) not to compare, with the reason. */
  skip?: Array<{ path: string; why: string }>;
}

export interface Comparison {
  /** Every difference, one line each; empty means equal. */
  differences: string[];
  /** What was not compared and why, for the test output. */
  excluded: string[];
  /** Records compared (after exclusions). */
  compared: number;
}

/** The path of `p` inside `root` with every symlink followed chroot-style (absolute targets from root, '..' stops at it). */
export async function resolveInRoot(root: string, p: string): Promise<string> {
  let parts = p.split('/').filter((x) => x !== '');
  const done: string[] = [];
  for (let hops = 0; parts.length > 0; ) {
    const part = parts.shift()!;
    if (part === '.') continue;
    if (part === '..') {
      done.pop();
      continue;
    }
    const cur = [...done, part].join('/');
    const st = await fsp.lstat(Buffer.from(`${root}/${cur}`, 'latin1')).catch(() => undefined);
    if (st?.isSymbolicLink()) {
      if (++hops > 255) throw new Error(`${p}: too many symlinks`);
      const target = (await fsp.readlink(Buffer.from(`${root}/${cur}`, 'latin1'), { encoding: 'buffer' })).toString('latin1');
      if (target.startsWith('/')) done.length = 0;
      parts = [...target.split('/').filter((x) => x !== ''), ...parts];
    } else done.push(part);
  }
  return done.join('/');
}

function under(p: string, prefix: string): boolean {
  return prefix === '' || p === prefix || p.startsWith(`${prefix}/`);
}

/**
 * stratum's output directory against the oracle tree: path, type, mode, uid, gid, size, sha256, link target, mtime,
 * device numbers, xattrs and hardlink groups; minus what the oracle cannot know (see OracleTree).
 */
export async function compareWithOracle(out: string, oracle: OracleTree, opts: CompareOptions = {}): Promise<Comparison> {
  const excluded: string[] = [];
  const skipPrefixes: string[] = [];
  const skipExact = new Set<string>();
  for (const u of [...oracle.untrusted, ...(opts.skip ?? [])]) {
    skipPrefixes.push(u.path);
    excluded.push(`/${u.path} and below: ${u.why}`);
  }
  // stratum wrote those names through the lower symlink: they land at its resolved target, which the oracle lacks
  for (const b of oracle.belowSymlink) {
    const resolved = await resolveInRoot(out, b.dir);
    for (const n of b.names) skipExact.add(resolved === '' ? n : `${resolved}/${n}`);
    if (b.names.length > 0) excluded.push(`${b.names.length} names of layer ${b.layer} below /${b.dir}, which stratum wrote below /${resolved}`);
  }
  const ignorePaths = (p: string): boolean =>
    skipExact.has(p) || skipPrefixes.some((x) => under(p, x)) || (opts.only !== undefined && !opts.only.some((o) => under(p, o) || under(o, p)));

  // the root too: overlayfs shows the top layer's root directory, stratum gives OUT the image root's metadata
  const [mine, theirs] = await Promise.all([manifestOfDir(out, { root: true }), manifestOfDir(oracle.dir, { root: true })]);
  const implicit = [...oracle.implicitDirs].filter((d) => !ignorePaths(d));
  const touched = [...oracle.touchedDirs].filter((d) => !ignorePaths(d) && !oracle.implicitDirs.has(d));
  if (touched.length > 0) {
    excluded.push(`mtime of ${touched.length} directories holding whiteouts or opaque markers (overlay-rootfs.sh changes them after tar restored their times): ${touched.slice(0, 8).map((d) => `/${d}`).join(' ')}${touched.length > 8 ? ' …' : ''}`);
  }
  if (implicit.length > 0) {
    excluded.push(`mtime and xattrs of ${implicit.length} directories that are implicit parents in their topmost layer (overlayfs shows tar's clock; the oracle, like overlay-rootfs.sh, copies only mode and owner from below): ${implicit.slice(0, 8).map((d) => `/${d}`).join(' ')}${implicit.length > 8 ? ' …' : ''}`);
  }
  // hardlinks into a lower layer: the oracle copied the file, so only the link grouping of those names is unknown
  const unlinked = new Set<string>();
  for (const { name, target } of oracle.lowerLinks) {
    unlinked.add(name);
    unlinked.add(target);
  }
  if (unlinked.size > 0) {
    for (const side of [mine, theirs]) for (const r of side) if (r.linkGroup !== undefined && unlinked.has(r.linkGroup)) unlinked.add(r.path);
    for (const side of [mine, theirs]) {
      const groups = new Set([...side].filter((r) => unlinked.has(r.path) && r.linkGroup !== undefined).map((r) => r.linkGroup!));
      for (const r of side) if (r.linkGroup !== undefined && groups.has(r.linkGroup)) unlinked.add(r.path);
    }
    excluded.push(`hardlink groups of ${[...unlinked].map((p) => `/${p}`).join(' ')}: hardlinks into a lower layer, which the oracle copies`);
  }
  const normalise = (rs: ManifestRecord[]): ManifestRecord[] =>
    rs.map((r) => {
      const c = { ...r };
      if (c.type === 'dir' && (oracle.implicitDirs.has(c.path) || oracle.touchedDirs.has(c.path))) c.mtime = 0;
      if (c.type === 'dir' && oracle.implicitDirs.has(c.path)) c.xattrs = {};
      if (unlinked.has(c.path)) delete c.linkGroup;
      return c;
    });
  const a = normalise(mine);
  const b = normalise(theirs);
  const differences = diffManifests(a, b, { labels: ['stratum', 'overlayfs'], ignorePaths });
  return { differences, excluded, compared: a.filter((r) => !ignorePaths(r.path)).length };
}

/** A readable report for a failed or passed comparison. */
export function formatComparison(label: string, c: Comparison, max = 60): string {
  const lines = [`${label}: ${c.differences.length === 0 ? 'equal' : `${c.differences.length} differences`} (${c.compared} paths compared)`];
  for (const e of c.excluded) lines.push(`  not compared: ${e}`);
  for (const d of c.differences.slice(0, max)) lines.push(`  ${d}`);
  if (c.differences.length > max) lines.push(`  … and ${c.differences.length - max} more`);
  return lines.join('\n');
}

// ---------------------------------------------------------------------------------------------------------------
// image layouts for the oracle

/** A copy of LAYOUT whose TAG has only the first N layers (blobs hardlinked or copied), tagged `first<N>`. */
export async function truncatedLayout(layout: string, tag: string, n: number, dest: string): Promise<string> {
  const index = JSON.parse(await fsp.readFile(path.join(layout, 'index.json'), 'utf8')) as { manifests: Array<{ digest: string; annotations?: Record<string, string> }> };
  const desc = index.manifests.find((m) => m.annotations?.['org.opencontainers.image.ref.name'] === tag);
  if (!desc) throw new Error(`${layout}: no tag ${tag}`);
  await fsp.cp(layout, dest, { recursive: true });
  const blob = (d: string): string => path.join(dest, 'blobs', ...d.split(':'));
  const manifest = JSON.parse(await fsp.readFile(blob(desc.digest), 'utf8')) as { layers: unknown[] };
  manifest.layers = manifest.layers.slice(0, n);
  const raw = Buffer.from(JSON.stringify(manifest));
  const digest = `sha256:${createHash('sha256').update(raw).digest('hex')}`;
  await fsp.writeFile(blob(digest), raw);
  const newTag = `first${n}`;
  index.manifests.push({ ...desc, digest, size: raw.length, annotations: { 'org.opencontainers.image.ref.name': newTag } } as never);
  await fsp.writeFile(path.join(dest, 'index.json'), JSON.stringify(index));
  return newTag;
}

/** An OCI image layout of uncompressed layer tars (base first) tagged TAG, made by the archive builder. */
export async function ociLayoutOfLayers(dir: string, layers: readonly Buffer[], tag = 'latest'): Promise<void> {
  const img = await buildImage({ layers: [...layers] });
  await fsp.mkdir(dir, { recursive: true });
  await writeEntries(dir, ociLayoutEntries({ manifests: [withRefName(img.manifest.descriptor, tag)], blobs: img.blobs }));
}

export function randomName(): string {
  return randomBytes(6).toString('hex');
}
