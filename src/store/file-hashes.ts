// Each regular file's sha256, read back from the store. An index imported by a flatten or export has none
// (LayerIndex.unhashed: the diffID already covered every byte, and a flatten never looks at them); diff and
// inspect compare and show them, so the store fills them in on their first read, in one front-to-back pass over
// layer.tar, and keeps them.
import { createHash } from 'node:crypto';
import type { LayerIndex } from '../layer/entry.js';
import { displayPath } from '../layer/names.js';
import { ContentFiles, shortContent, type ContentLocation } from './content.js';

const scratch = Buffer.allocUnsafe(1024 * 1024);

/** sha256 and length of the stored bytes at `loc` (fewer than loc.size if the store file is short); throws on read errors. */
export function hashStored(files: ContentFiles, loc: ContentLocation): { hex: string; size: number } {
  const hash = createHash('sha256');
  let size = 0;
  for (let got = files.read(loc, scratch, 0); got > 0; got = files.read(loc, scratch, size)) {
    hash.update(scratch.subarray(0, got));
    size += got;
  }
  return { hex: hash.digest('hex'), size };
}

/**
 * Sets sha256 on every regular file of `index` that lacks one and clears `unhashed`. Synchronous reads in the
 * index's order, which is layer.tar's own: the kernel's readahead (or one direct read per window) serves many files.
 */
export function fillFileHashes(index: LayerIndex, locate: (entry: { offset?: number; data?: number }, size: number) => ContentLocation): void {
  const files = new ContentFiles();
  try {
    for (const e of index.entries) {
      if (e.kind !== 'file' || e.sha256 !== undefined) continue;
      const loc = locate(e, e.size);
      const { hex, size } = hashStored(files, loc);
      if (size !== e.size) throw shortContent(loc, size, displayPath(e.path));
      e.sha256 = hex;
    }
  } finally {
    files.close();
  }
  delete index.unhashed;
}
