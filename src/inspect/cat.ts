// `stratum cat`: find one regular file in the planned tree (symlinks followed inside the image only)
// and copy its bytes from the one stored layer that holds them, checking the sha256 on the way.
import { createHash } from 'node:crypto';
import type { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { asStratumError, IntegrityError, NotFoundError, UnsupportedError, UsageError } from '../errors.js';
import type { LayerIndex } from '../layer/entry.js';
import { cleanName } from '../layer/names.js';
import { contentStream, type ContentLocation } from '../store/content.js';
import { lookup, resolvePath } from '../tree/resolve.js';
import type { DirNode, Inode } from '../tree/types.js';
import { removalText, showPath } from './describe.js';
import { lastDeletion, pathHistory } from './path-history.js';

export interface FoundFile {
  inode: Inode;
  /** The path the lookup ended at, symlinks resolved. */
  path: string;
}

/**
 * The regular file at `path`. `layerName(i)` names 0-based layer i in messages (e.g. `layer 3 (RUN rm x)`).
 * Throws NotFoundError naming the layer that deleted it when an upper layer did.
 */
export function findFile(root: DirNode, indexes: ReadonlyArray<Pick<LayerIndex, 'entries'>>, path: string, layerName: (layer: number) => string): FoundFile {
  const shown = showPath(cleanName(toBytes(path)).path);
  const found = lookup(root, toBytes(path), { followLast: true });
  if (!found) throw missingError(root, indexes, toBytes(path), layerName);
  const { node } = found;
  if (node.kind === 'dir') throw new UsageError(`${shown} is a directory (see stratum ls)`, { path: found.path });
  if (node.inode.kind !== 'file') {
    throw new UnsupportedError(`${shown} is a ${node.inode.kind === 'fifo' ? 'fifo' : `${node.inode.kind} device`}; only regular files have bytes`, { path: found.path });
  }
  return { inode: node.inode, path: found.path };
}

/** A UTF-8 path as typed becomes the byte string the tree is keyed by. */
export function toBytes(typed: string): string {
  return Buffer.from(typed, 'utf8').toString('latin1');
}

/** Why `path` (a byte string) is not in the final tree: the layer that deleted it, when one did. */
export function missingError(root: DirNode, indexes: ReadonlyArray<Pick<LayerIndex, 'entries'>>, path: string, layerName: (layer: number) => string): NotFoundError {
  const shown = showPath(cleanName(path).path);
  for (const candidate of candidates(root, path)) {
    const deletion = lastDeletion(pathHistory(indexes, candidate));
    if (deletion?.cause) {
      const why = removalText(deletion.cause, candidate);
      const what = candidate === cleanName(path).path ? shown : `${shown} (resolves to ${showPath(candidate)})`;
      return new NotFoundError(`${what}: deleted by ${layerName(deletion.layer)}: ${why}`, { path: candidate, layer: deletion.layer + 1 });
    }
  }
  return new NotFoundError(`${shown}: no such file in the image`, { path });
}

/** The path as written, then as resolved through the image's symlinks up to where it went missing. */
function candidates(root: DirNode, path: string): string[] {
  const literal = cleanName(path).path;
  const r = resolvePath(root, path, { followLast: true });
  return !r.ok && r.reason === 'missing' && r.path !== literal ? [literal, r.path] : [literal];
}

/** Copies the file's content to `out` and checks it against the sha256 in the layer index. */
export async function copyContent(file: FoundFile, locate: (inode: Inode) => ContentLocation, out: Writable): Promise<void> {
  const { inode } = file;
  if (!inode.content || inode.size === 0) return;
  const loc = locate(inode);
  const source = loc.file;
  const hash = createHash('sha256');
  let size = 0;
  try {
    await pipeline(
      await contentStream(loc),
      async function* (chunks: AsyncIterable<Buffer>) {
        for await (const chunk of chunks) {
          hash.update(chunk);
          size += chunk.length;
          yield chunk;
        }
      },
      out,
      { end: false },
    );
  } catch (err) {
    throw asStratumError(err, source);
  }
  const actual = hash.digest('hex');
  const shown = showPath(file.path);
  if (size !== inode.size) throw new IntegrityError(`${shown}: store content ${source} has ${size} bytes, the layer index says ${inode.size}`, { path: file.path, expected: inode.size, actual: size });
  if (inode.sha256 && actual !== inode.sha256) {
    throw new IntegrityError(`${shown}: store content ${source} hashes to ${actual}, the layer index says ${inode.sha256}`, { path: file.path, expected: inode.sha256, actual });
  }
}
