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
import type { ContentLocation } from '../store/content.js';
import type { Inode, PlannedTree } from '../tree/types.js';
import type { LayerIndex } from '../layer/entry.js';
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
  return planFrom(store, await readIndexes(store, ref, opts), opts);
}

interface Indexed {
  resolved: ResolvedImage;
  indexes: LayerIndex[];
}

async function readIndexes(store: Store, ref: string, opts: PlanOptions): Promise<Indexed> {
  const resolved = await resolveImage(store, ref, opts);
  const total = resolved.image.layers.length;
  if (opts.layers !== undefined && (!Number.isInteger(opts.layers) || opts.layers < 0 || opts.layers > total)) {
    throw new UsageError(`--layers ${opts.layers}: the image has ${total} layers`);
  }
  return { resolved, indexes: await layerIndexes(store, resolved.image, { fileHashes: opts.fileHashes }) };
}

function planFrom(store: Store, { resolved, indexes }: Indexed, opts: PlanOptions): PlannedImage {
  const tree = planTree(indexes, { upTo: opts.layers });
  const diffIDs: Digest[] = resolved.image.layers.map((l) => l.diffID);
  const locate = (inode: Inode): ContentLocation => store.locate(diffIDs[inode.content!.layer], inode.content!, inode.size);
  const paths = opts.paths?.map((p) => cleanName(Buffer.from(p, 'utf8').toString('latin1')).path);
  return { ...resolved, tree, locate, paths };
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

/** Writers copy bytes and never look at a file's sha256: unless asked, none is computed (ImportOptions.fileHashes). */
const withoutHashes = <T extends PlanOptions>(opts: T): T => ({ ...opts, fileHashes: opts.fileHashes ?? false });

export async function flatten(store: Store, ref: string, out: string, opts: FlattenOptions = {}): Promise<{ planned: PlannedImage; report: WriteReport }> {
  const given = opts.helper instanceof HelperThread ? opts.helper : undefined;
  let helper = given;
  let planned: PlannedImage;
  let wanted: boolean;
  try {
    const plan = withoutHashes(opts);
    const indexed = await readIndexes(store, ref, plan);
    // Started before the merge, which it boots beside (50-200 ms), so that it is up about when the first file is
    // written. Not by default right after an import: there the write is a fifth of the time, its reads are the
    // read-ahead's, and the thread's ~20 MB came on top of what the import left (zstd: 143-155 MB peak against
    // 131 MB). With --path the part written may be small: writeDir decides then, by what it writes.
    const entries = indexed.indexes.reduce((n, i) => n + i.entries.length, 0);
    const byDefault = indexed.resolved.imported === undefined && entries >= HELPER_MIN_LEAVES;
    wanted = given !== undefined || opts.helper === true || (opts.helper === undefined && byDefault);
    if (helper === undefined && wanted && opts.paths === undefined) helper = HelperThread.start();
    planned = planFrom(store, indexed, plan);
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
  const planned = await planImage(store, ref, withoutHashes(opts));
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
