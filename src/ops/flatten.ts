// flatten and export: plan the final tree from the layer indexes, then hand it to one writer.
import { once } from 'node:events';
import { createWriteStream, promises as fsp } from 'node:fs';
import path from 'node:path';
import type { Writable } from 'node:stream';
import { asStratumError, UsageError } from '../errors.js';
import { cleanName } from '../layer/names.js';
import type { Digest } from '../spec/digest.js';
import type { Store } from '../store/store.js';
import { planTree } from '../tree/plan.js';
import { hasPlan, PLAN_BYTES_PER_NODE, planSlot, readPlan, storedPlanBytes, writePlan } from '../store/plans.js';
import type { StoredImage } from '../store/images.js';
import type { ContentLocation } from '../store/content.js';
import type { Inode, PlannedTree } from '../tree/types.js';
import { HELPER_MIN_LEAVES, writeDir, type WriteReport } from '../write/dir-writer.js';
import { HelperThread } from '../write/helper-thread.js';
import { removeStaleSiblings, siblingName } from '../write/staging.js';
import type { ImportOptions } from './import-image.js';
import { layerIndexes, resolveImage, type ResolvedImage } from './resolve-image.js';

export interface PlanOptions extends ImportOptions {
  /** Only the first N layers. */
  layers?: number;
  /** Only these subtrees (image paths like /etc). */
  paths?: string[];
}

export interface PlannedImage extends ResolvedImage {
  tree: PlannedTree;
  /** Where a regular file's bytes are in the store (inode.content must be set). */
  locate: (inode: Inode) => ContentLocation;
  paths?: string[];
}

export async function planImage(store: Store, ref: string, opts: PlanOptions = {}): Promise<PlannedImage> {
  const resolved = await resolveImage(store, ref, opts);
  const upTo = layersWanted(resolved, opts);
  return planned(store, resolved, await mergeLayers(store, resolved.image, { fileHashes: opts.fileHashes, upTo }), opts);
}

function layersWanted(resolved: ResolvedImage, opts: PlanOptions): number {
  const total = resolved.image.layers.length;
  if (opts.layers === undefined) return total;
  if (!Number.isInteger(opts.layers) || opts.layers < 0 || opts.layers > total) throw new UsageError(`--layers ${opts.layers}: the image has ${total} layers`);
  return opts.layers;
}

/** The tree of the image's first `upTo` layers (all by default), merged from their indexes; `beforeMerge` gets their entry count. */
async function mergeLayers(store: Store, image: StoredImage, opts: { fileHashes?: boolean; upTo?: number }, beforeMerge?: (entries: number) => void): Promise<PlannedTree> {
  const indexes = await layerIndexes(store, image, opts);
  beforeMerge?.(indexes.reduce((n, i) => n + i.entries.length, 0));
  return planTree(indexes, { upTo: opts.upTo });
}

function planned(store: Store, resolved: ResolvedImage, tree: PlannedTree, opts: PlanOptions): PlannedImage {
  const diffIDs: Digest[] = diffIDsOf(resolved.image);
  const locate = (inode: Inode): ContentLocation => store.locate(diffIDs[inode.content!.layer], inode.content!, inode.size);
  const paths = opts.paths?.map((p) => cleanName(Buffer.from(p, 'utf8').toString('latin1')).path);
  return { ...resolved, tree, locate, paths };
}

const diffIDsOf = (image: StoredImage): Digest[] => image.layers.map((l) => l.diffID);

/**
 * The writers' plan: the store's, when it has one for these layers (store/plans.ts), else merged from the layer
 * indexes and kept for next time (unless this call unpacked them). Writers copy bytes and never look at a file's
 * sha256: none is computed. `beforeMerge` gets the number of entries the tree is made of: the index entries to
 * merge or, about, a stored plan's nodes.
 */
async function writersPlan(store: Store, ref: string, opts: PlanOptions, beforeMerge?: (resolved: ResolvedImage, entries: number) => void): Promise<PlannedImage> {
  const resolved = await resolveImage(store, ref, { ...opts, fileHashes: opts.fileHashes ?? false });
  const upTo = layersWanted(resolved, opts);
  const slot = planSlot(store, diffIDsOf(resolved.image).slice(0, upTo));
  // Told before the stored plan is read: the helper thread boots meanwhile.
  const bytes = slot && (await storedPlanBytes(slot));
  if (bytes !== undefined) beforeMerge?.(resolved, Math.floor(bytes / PLAN_BYTES_PER_NODE));
  const stored = slot && bytes !== undefined ? await readPlan(slot) : undefined;
  if (stored !== undefined) return planned(store, resolved, stored, opts);
  const tree = await mergeLayers(store, resolved.image, { fileHashes: false, upTo }, (entries) => beforeMerge?.(resolved, entries));
  // Right after layers were unpacked (a cold flatten), keeping the plan would cost this call 40-75 ms of main-thread
  // CPU (bench image) for a later call's 60-90 ms: that call keeps it, as does `stratum import`.
  if (slot && !(resolved.imported !== undefined && resolved.imported.layersUnpacked > 0)) await writePlan(store, slot, tree);
  return planned(store, resolved, tree, opts);
}

/**
 * Merges an image's layers and keeps the tree in the store (store/plans.ts), unless it is there already, so that its
 * first flatten reads it (`stratum import` does this). An image whose layers do not merge is left for flatten to report.
 */
export async function keepPlan(store: Store, image: StoredImage): Promise<void> {
  const slot = planSlot(store, diffIDsOf(image));
  if (slot === undefined || (await hasPlan(slot))) return;
  let tree: PlannedTree;
  try {
    tree = await mergeLayers(store, image, { fileHashes: false });
  } catch {
    return;
  }
  await writePlan(store, slot, tree);
}

export interface FlattenOptions extends PlanOptions {
  force?: boolean;
  onWriteProgress?: (p: { files: number; bytes: number }) => void;
  /**
   * Write with a second thread (WriteDirOptions.helper). By default when the layers hold HELPER_MIN_LEAVES entries and
   * were already in the store (not imported by this call).
   */
  helper?: boolean | HelperThread;
}

export async function flatten(store: Store, ref: string, out: string, opts: FlattenOptions = {}): Promise<{ planned: PlannedImage; report: WriteReport }> {
  const given = opts.helper instanceof HelperThread ? opts.helper : undefined;
  let helper = given;
  let wanted = given !== undefined || opts.helper === true;
  let planned: PlannedImage;
  try {
    planned = await writersPlan(store, ref, opts, (resolved, entries) => {
      // Started before the stored plan is read or the layers are merged, which it boots beside (50-150 ms), so that
      // it is up about when the first file is written. Not by default right after an import: there the write is a fifth of the time, its reads are the
      // read-ahead's, and the thread's ~20 MB came on top of what the import left (zstd: 143-155 MB peak against
      // 131 MB). With --path the part written may be small: writeDir decides then, by what it writes.
      wanted ||= opts.helper === undefined && resolved.imported === undefined && entries >= HELPER_MIN_LEAVES;
      if (helper === undefined && wanted && opts.paths === undefined) helper = HelperThread.start();
    });
  } catch (err) {
    await helper?.close();
    throw err;
  }
  const report = await writeDir(planned.tree, out, {
    locate: planned.locate,
    force: opts.force,
    paths: planned.paths,
    onProgress: opts.onWriteProgress,
    signal: opts.signal,
    // Undefined only with --path and no thread started yet: writeDir decides by the size of what it writes.
    helper: helper ?? (wanted && opts.paths !== undefined ? undefined : false),
  });
  return { planned, report };
}

export async function exportTar(store: Store, ref: string, output: Writable, opts: PlanOptions = {}): Promise<PlannedImage> {
  const planned = await writersPlan(store, ref, opts);
  const { writeTar } = await import('../write/tar-writer.js');
  await writeTar(planned.tree, output, { locate: planned.locate, paths: planned.paths });
  return planned;
}

/** export to a file is complete or absent: written under a temp name beside it, renamed at the end. */
export async function exportToFile(store: Store, ref: string, file: string, opts: PlanOptions = {}): Promise<PlannedImage> {
  if (file === '-') return exportTar(store, ref, process.stdout, opts);
  await removeStaleSiblings(file);
  const tmp = siblingName(file, '');
  const out = createWriteStream(tmp, { flags: 'wx', mode: 0o644 });
  try {
    const planned = await exportTar(store, ref, out, opts);
    out.end();
    await once(out, 'finish');
    await fsp.rename(tmp, file);
    return planned;
  } catch (err) {
    out.destroy();
    await fsp.rm(tmp, { force: true });
    throw asStratumError(err, file);
  }
}
