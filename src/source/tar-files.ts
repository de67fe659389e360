// The files of an indexed tar: names resolved inside the archive (symlinks and hardlinks followed,
// never out of it: EDGE #118-#120), bodies read or streamed from their offsets.
import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { FormatError, NotFoundError } from '../errors.js';
import { cleanArchiveName, symlinkTarget } from './archive-names.js';
import type { FileSet } from './file-set.js';
import type { TarIndex, TarIndexEntry } from './tar-index.js';

/** Links followed while resolving one name before it counts as a loop (Linux's MAXSYMLINKS). */
const MAX_HOPS = 40;

export function tarFileSet(index: TarIndex): FileSet {
  const label = index.label;
  const find = (name: string) => resolveFile(index, name);
  const mustFind = (name: string) => {
    const e = find(name);
    if (!e) throw new NotFoundError(`${label}: ${name} not found in the archive`, { file: label, path: name });
    return e;
  };
  return {
    label,
    size: async (name) => find(name)?.size,
    read: async (name, length) => readRange(index.path, mustFind(name), length),
    open: async (name) => openRange(index.path, mustFind(name)),
  };
}

/** The regular file a name leads to, or undefined when nothing (inside the archive) is there. */
export function resolveFile(index: TarIndex, name: string): TarIndexEntry | undefined {
  const e = resolveEntry(index, name);
  if (!e) return undefined;
  if (e.type !== 'file') {
    throw new FormatError(`${index.label}: ${name} is a ${e.type === 'other' ? 'special file' : e.type}, expected a regular file`, {
      file: index.label,
      path: name,
    });
  }
  return e;
}

/** Walks the name a component at a time so links in parent directories are followed too. */
function resolveEntry(index: TarIndex, name: string): TarIndexEntry | undefined {
  let rest = splitName(cleanArchiveName(name));
  let done: string[] = [];
  let hops = 0;
  while (rest && rest.length > 0) {
    const here = [...done, rest[0]].join('/');
    const e = index.entries.get(here);
    const last = rest.length === 1;
    const link = e?.type === 'symlink' ? symlinkTarget(here, e.linkname) : e?.type === 'hardlink' && last ? cleanArchiveName(e.linkname) : null;
    if (link === null) {
      done.push(rest[0]);
      rest = rest.slice(1);
      continue;
    }
    if (++hops > MAX_HOPS) throw new FormatError(`${index.label}: link loop resolving ${name}`, { file: index.label, path: name });
    const target = splitName(link);
    rest = target && [...target, ...rest.slice(1)];
    done = [];
  }
  return rest ? index.entries.get(done.join('/')) : undefined;
}

function splitName(name: string | undefined): string[] | undefined {
  if (name === undefined) return undefined;
  return name === '' ? [] : name.split('/');
}

async function readRange(path: string, e: TarIndexEntry, length: number): Promise<Buffer> {
  const n = Math.min(length, e.size);
  const buf = Buffer.alloc(n);
  const fh = await open(path, 'r');
  try {
    const { bytesRead } = await fh.read(buf, 0, n, e.offset);
    return buf.subarray(0, bytesRead);
  } finally {
    await fh.close();
  }
}

function openRange(path: string, e: TarIndexEntry): Readable {
  if (e.size === 0) return Readable.from([]);
  // 1 MiB reads: with the default 64 KiB, gunzip costs twice the CPU (1068 vs 552 ms for a 95 MB layer).
  return createReadStream(path, { start: e.offset, end: e.offset + e.size - 1, highWaterMark: 1024 * 1024 });
}
