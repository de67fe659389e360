// Materialises a planned tree as a directory: built in a private staging dir, renamed to OUT only when complete.
import { linkSync, mkdirSync, promises as fs } from 'node:fs';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { UsageError } from '../errors.js';
import { ContentFiles, type ContentLocation } from '../store/content.js';
import type { DirNode, Inode, PlannedTree } from '../tree/types.js';
import { firstNames, listEntries, type WriteEntry } from './entries.js';
import { writeFailure, type Progress } from './failure.js';
import { HelperThread } from './helper-thread.js';
import { emptyTally, leafTask, writeLeafTask, type LeafTally, type LeafWriter } from './leaf-task.js';
import { applyModeAndTimes, applyOwner, applyTimes, creationMask, stagingPath, type ContentCopier, type Identity } from './nodes.js';
import { runSliced } from './sliced.js';
import { createStaging, inspectOut, installStaging, removeTree } from './staging.js';
import { makeSpecialNodes, restoreXattrs, xattrDecision, type XattrTarget } from './system-tools.js';

export type { Progress } from './failure.js';

export interface WriteDirOptions {
  /** Where a regular file's bytes are in the store. */
  locate: (inode: Inode) => ContentLocation;
  /** Replace a non-empty OUT — only once the new tree is complete. */
  force?: boolean;
  /** Only these subtrees (cleaned relative paths) and the directories leading to them. */
  paths?: string[];
  onProgress?: (p: Progress) => void;
  signal?: AbortSignal;
  /** Whether to set owners, make device nodes and set non-user xattrs; defaults to running as root. */
  privileged?: boolean;
  /**
   * Write the files and symlinks with a second thread: by default when there are at least HELPER_MIN_LEAVES. A
   * HelperThread started beforehand (HelperThread.start) has booted by the time the write begins; writeDir closes it.
   */
  helper?: boolean | HelperThread;
}

/** Below this many entries the helper's start (~50 ms of CPU) costs more than it saves. */
export const HELPER_MIN_LEAVES = 1000;

/** What was written, and what could not be kept so the CLI can say so once. Hardlinks count extra names only. */
export interface WriteReport {
  files: number;
  dirs: number;
  symlinks: number;
  hardlinks: number;
  /** Character and block devices and FIFOs. */
  devices: number;
  bytes: number;
  /** Not kept: owners (not root), device nodes (not root; FIFOs are always made), xattrs (privilege, kernel refusal,
   * or no setfattr). security.selinux and system.nfs4_acl are left out by policy and not counted. */
  skipped: { owners: number; devices: number; xattrs: number };
}

interface Leaf {
  path: string;
  inode: Inode;
}

interface Job {
  out: string;
  base: Buffer;
  opts: WriteDirOptions;
  id: Identity;
  report: WriteReport;
  scratch?: string;
  /** Device nodes we may not create; their other names are skipped too. */
  skipped: Set<Inode>;
  /** Files whose mode and times wait until their xattrs are set: a read-only mode would refuse user.* xattrs. */
  deferred: Leaf[];
  content: ContentCopier & { locate: WriteDirOptions['locate'] };
  /** What the kernel masks off a new file's mode (creationMask). */
  mask: number;
  helper?: HelperThread;
}

export async function writeDir(tree: PlannedTree, out: string, opts: WriteDirOptions): Promise<WriteReport> {
  let entries: WriteEntry[];
  const target = path.resolve(out);
  try {
    entries = listEntries(tree, opts.paths);
    if (path.basename(target) === '') throw new UsageError(`output ${out} is the filesystem root; choose a directory below it`, { file: out });
  } catch (err) {
    if (opts.helper instanceof HelperThread) await opts.helper.close();
    throw err;
  }
  const report = emptyReport();
  let staging: string | undefined;
  // Started first, so that it boots while the directories are made.
  const helper = opts.helper instanceof HelperThread ? opts.helper : (opts.helper ?? entries.length >= HELPER_MIN_LEAVES) ? HelperThread.start() : undefined;
  try {
    const state = await inspectOut(target, opts.force ?? false);
    staging = await createStaging(target);
    const content = { locate: opts.locate, files: new ContentFiles(), buf: Buffer.allocUnsafe(1024 * 1024) };
    const job: Job = { out, base: Buffer.from(staging), opts, id: identity(opts), report, skipped: new Set(), deferred: [], content, mask: creationMask(staging), helper };
    try {
      await build(job, tree.root, entries);
    } finally {
      await helper?.close();
      await content.files.settle();
      content.files.close();
    }
    opts.signal?.throwIfAborted();
    await installStaging(staging, target, state);
    return report;
  } catch (err) {
    const failure = opts.signal?.aborted ? opts.signal.reason : writeFailure(err, out, undefined, report);
    await helper?.close();
    if (staging !== undefined) await cleanUp(staging, failure);
    throw failure;
  }
}

/** Removes the staging dir; if even that fails, the error the user sees says where the debris is. */
async function cleanUp(staging: string, failure: unknown): Promise<void> {
  try {
    await removeTree(staging);
  } catch {
    if (failure instanceof Error) failure.message += `; the partial output in ${staging} could not be removed`;
  }
}

function emptyReport(): WriteReport {
  return { files: 0, dirs: 0, symlinks: 0, hardlinks: 0, devices: 0, bytes: 0, skipped: { owners: 0, devices: 0, xattrs: 0 } };
}

function identity(opts: WriteDirOptions): Identity {
  const uid = process.geteuid?.() ?? -1;
  return { privileged: opts.privileged ?? uid === 0, uid, gid: process.getegid?.() ?? -1 };
}

async function build(job: Job, root: DirNode, entries: WriteEntry[]): Promise<void> {
  const { signal } = job.opts;
  const dirs = entries.filter((e): e is WriteEntry & { node: DirNode } => e.node.kind === 'dir');
  // Top-down, each with a mode its children can be made under; the final mode is set last where it differs.
  await runSliced(dirs, signal, (d) => guard(job, d.path, () => makeDir(job, d.path, d.node)));
  const first = firstNames(entries);
  const leaves: Leaf[] = [...first].map(([inode, p]) => ({ path: p, inode }));
  const specials = leaves.filter((l) => isSpecial(l.inode));
  // mknod runs in a child process (~50 ms of fork and exec here): the other leaves are written meanwhile. The
  // specials' owners, modes and times wait for it, and nothing removes the staging dir while it may still write.
  const making = makeSpecials(job, root, specials);
  try {
    await writeLeaves(job, inContentOrder(leaves.filter((l) => !isSpecial(l.inode))));
  } finally {
    await making.catch(() => undefined);
  }
  await making;
  await runSliced(specials, signal, (l) => guard(job, l.path, () => finishSpecial(job, l)));
  const links = entries.filter((e) => e.node.kind === 'leaf' && first.get(e.node.inode) !== e.path);
  await runSliced(links, signal, (e) => guard(job, e.path, () => writeLink(job, e, first)));
  await setXattrs(job, root, dirs, leaves);
  await runSliced(job.deferred, signal, (l) => guard(job, l.path, () => finishLeaf(job, l)));
  if (job.scratch !== undefined) await fs.rm(job.scratch, { recursive: true, force: true });
  // Deepest first (the reverse of parents-first), the root last: a directory that becomes 0000 must not stand
  // in the way of a descendant still waiting for its metadata, and a directory's times are the last thing set in it.
  const finishing: Array<[string, DirNode]> = dirs.map((d) => [d.path, d.node]);
  finishing.reverse().push(['', root]);
  await runSliced(finishing, signal, ([rel, dir]) => guard(job, rel, () => finishDir(job, rel, dir)));
}

/**
 * The files and symlinks, in chunks (helper.chunk): the main thread takes them from the front, the helper thread (if any)
 * from the back. A leaf whose xattrs must be set first gets its mode and times later, from the main thread.
 */
async function writeLeaves(job: Job, ordered: Leaf[]): Promise<void> {
  const { files, locate } = job.content;
  const defer = (l: Leaf): boolean => l.inode.kind !== 'symlink' && applicableXattrs(job, l.inode.kind, l.inode.meta.xattrs).length > 0;
  const task = (l: Leaf) => leafTask(l.path, l.inode, l.inode.content === undefined ? undefined : locate(l.inode), !defer(l));
  for (const l of ordered) if (defer(l)) job.deferred.push(l);
  const { helper } = job;
  const size = helper?.chunk ?? Math.max(1, ordered.length);
  const chunks = Math.ceil(ordered.length / size);
  helper?.share({ base: job.base.toString(), id: job.id, mask: job.mask }, chunks, (i) => ordered.slice(i * size, (i + 1) * size).map(task));
  const ahead = files.plan(contentLocations(ordered, locate));
  const writer: LeafWriter = { ...job.content, base: job.base, id: job.id, mask: job.mask };
  const mine = emptyTally();
  const progress = job.opts.onProgress;
  try {
    await runSliced(
      ownChunks(ordered, size, helper),
      job.opts.signal,
      (l) => {
        guard(job, l.path, () => writeLeafTask(writer, task(l), mine), mine);
        if (progress === undefined) return;
        const theirs = helper?.written;
        progress({ files: job.report.files + mine.files + (theirs?.files ?? 0), bytes: job.report.bytes + mine.bytes + (theirs?.bytes ?? 0) });
      },
      // A warm store's layers are read through the page cache: no per-file lookup for windows never planned.
      ahead ? (l) => (l.inode.content === undefined ? undefined : files.ready(locate(l.inode))) : undefined,
    );
  } finally {
    addTally(job.report, mine);
  }
  const shared = await helper?.finish();
  if (shared === undefined) return;
  addTally(job.report, shared.tally);
  if (shared.failure) throw writeFailure(shared.failure.error, job.out, shared.failure.path, job.report);
}

/** The leaves of the chunks (of `size`) the main thread claims, in order; it stops early if the helper fails. */
function* ownChunks(ordered: readonly Leaf[], size: number, helper: HelperThread | undefined): Generator<Leaf> {
  if (helper === undefined) return yield* ordered;
  for (let i = 0; i * size < ordered.length; i++) {
    if (!helper.mine(i)) {
      if (helper.failed) return;
      continue;
    }
    for (let j = i * size; j < Math.min(ordered.length, (i + 1) * size); j++) yield ordered[j];
  }
}

function addTally(report: WriteReport, t: LeafTally): void {
  report.files += t.files;
  report.bytes += t.bytes;
  report.symlinks += t.symlinks;
  report.skipped.owners += t.ownersLost;
}

/**
 * Regular files in the order their bytes lie in the store (layer, then offset in its tar), the rest after them.
 * Reads then run front to back through each layer.tar: the kernel's readahead, or one direct read per window,
 * serves many files.
 */
function inContentOrder(leaves: readonly Leaf[]): Leaf[] {
  // One number per leaf (layer, then offset; a sparse file's copy before the layer's tar): no pair to allocate.
  // Exact below 4,096 layers and 1 TiB per layer.tar; past that only the order of reads suffers.
  const keys = new Float64Array(leaves.length);
  for (let i = 0; i < leaves.length; i++) {
    const c = leaves[i].inode.content;
    keys[i] = c === undefined ? Infinity : c.layer * 2 ** 41 + (c.offset !== undefined ? 2 ** 40 + c.offset : (c.data ?? 0));
  }
  const order = Array.from(leaves.keys()).sort((a, b) => keys[a] - keys[b] || a - b);
  return order.map((i) => leaves[i]);
}

/** Lazily: an array would hold a location per file for the whole write (60,000 at the memory bench's scale 1). */
function* contentLocations(leaves: readonly Leaf[], locate: (inode: Inode) => ContentLocation): Generator<ContentLocation> {
  for (const l of leaves) if (l.inode.content !== undefined) yield locate(l.inode);
}

function guard(job: Job, rel: string, fn: () => void, pending?: LeafTally): void {
  try {
    fn();
  } catch (err) {
    const done = pending === undefined ? job.report : { files: job.report.files + pending.files, bytes: job.report.bytes + pending.bytes };
    throw writeFailure(err, job.out, rel, done);
  }
}

function makeDir(job: Job, rel: string, dir: DirNode): void {
  mkdirSync(stagingPath(job.base, rel), finalAtMkdir(job, dir) ? dir.meta.mode : 0o700);
  job.report.dirs++;
}

/**
 * Whether a directory is made with its final mode, which saves its chmod: when its owner may write and search it
 * (its children are made as that owner: us), it has no special bit (setgid would hand its group to the children),
 * and the creation mask takes nothing from it. Most directories of an image are 0755.
 */
function finalAtMkdir(job: Job, dir: DirNode): boolean {
  const mode = dir.meta.mode;
  return (mode & 0o7700) === 0o700 && (mode & job.mask) === 0;
}

/** A private scratch dir at the staging root, named so it cannot meet a name of the tree. */
async function scratchDir(job: Job, root: DirNode): Promise<string> {
  if (job.scratch !== undefined) return job.scratch;
  let name: string;
  do name = `.stratum-scratch-${randomBytes(6).toString('hex')}`;
  while (root.children.has(name));
  job.scratch = path.join(job.base.toString(), name);
  await fs.mkdir(job.scratch, 0o700);
  return job.scratch;
}

function isSpecial(inode: Inode): boolean {
  return inode.kind === 'char' || inode.kind === 'block' || inode.kind === 'fifo';
}

async function makeSpecials(job: Job, root: DirNode, specials: readonly Leaf[]): Promise<void> {
  // Anyone may make a FIFO; device nodes need CAP_MKNOD, and without it we skip them as containerd does in a userns.
  const allowed = specials.filter((l) => l.inode.kind === 'fifo' || job.id.privileged);
  for (const l of specials) if (!allowed.includes(l)) job.skipped.add(l.inode);
  if (allowed.length > 0) {
    const scratch = await scratchDir(job, root);
    const refused = await makeSpecialNodes((rel) => stagingPath(job.base, rel), scratch, allowed);
    for (const l of refused) job.skipped.add(l.inode);
  }
  job.report.skipped.devices += job.skipped.size;
}

/** A device node or FIFO, made by makeSpecials: its owner, then (unless xattrs come first) its mode and times. */
function finishSpecial(job: Job, { path: rel, inode }: Leaf): void {
  if (job.skipped.has(inode)) return;
  const dst = stagingPath(job.base, rel);
  const defer = applicableXattrs(job, inode.kind, inode.meta.xattrs).length > 0;
  if (defer) job.deferred.push({ path: rel, inode });
  if (applyOwner(dst, inode.meta, job.id)) job.report.skipped.owners++;
  if (!defer) applyModeAndTimes(dst, inode.kind, inode.meta);
  job.report.devices++;
}

function finishLeaf(job: Job, { path: rel, inode }: Leaf): void {
  applyModeAndTimes(stagingPath(job.base, rel), inode.kind, inode.meta);
}

/** link(2) to the first name: it does not follow a symlink, so a hardlinked symlink stays one. */
function writeLink(job: Job, e: WriteEntry, first: Map<Inode, string>): void {
  if (e.node.kind !== 'leaf' || job.skipped.has(e.node.inode)) return;
  linkSync(stagingPath(job.base, first.get(e.node.inode)!), stagingPath(job.base, e.path));
  job.report.hardlinks++;
}

function applicableXattrs(job: Job, kind: Inode['kind'] | 'dir', xattrs: Record<string, string> | undefined): Array<[string, string]> {
  if (xattrs === undefined) return [];
  return Object.entries(xattrs).filter(([name]) => xattrDecision(name, kind, job.id.privileged) === 'apply');
}

/** One setfattr run for the whole tree, after owners (chown drops security.capability) and before modes and times. */
async function setXattrs(job: Job, root: DirNode, dirs: readonly WriteEntry[], leaves: readonly Leaf[]): Promise<void> {
  const targets: XattrTarget[] = [];
  const add = (rel: string, kind: Inode['kind'] | 'dir', xattrs: Record<string, string> | undefined): void => {
    const names = Object.keys(xattrs ?? {});
    const ok = applicableXattrs(job, kind, xattrs);
    job.report.skipped.xattrs += names.filter((n) => xattrDecision(n, kind, job.id.privileged) === 'skip').length;
    if (ok.length > 0) targets.push({ path: rel === '' ? '.' : rel, xattrs: ok });
  };
  add('', 'dir', root.meta.xattrs);
  for (const d of dirs) add(d.path, 'dir', d.node.kind === 'dir' ? d.node.meta.xattrs : undefined);
  for (const l of leaves) if (!job.skipped.has(l.inode)) add(l.path, l.inode.kind, l.inode.meta.xattrs);
  if (targets.length === 0) return;
  job.report.skipped.xattrs += await restoreXattrs(job.base.toString(), targets);
}

function finishDir(job: Job, rel: string, dir: DirNode): void {
  const dst = stagingPath(job.base, rel);
  // The staging root takes its group from a setgid parent of OUT: always chowned as root. The directories below it
  // are made with our own ids, in parents that never carry a setgid bit while they are filled.
  if (applyOwner(dst, dir.meta, job.id, rel === '')) job.report.skipped.owners++;
  if (rel === '' || !finalAtMkdir(job, dir)) applyModeAndTimes(dst, 'dir', dir.meta);
  else applyTimes(dst, dir.meta);
}
