// Exports a planned tree as one tar: lossless (owners, modes, devices, xattrs, hardlinks) and byte-for-byte deterministic.
import { encodeEntryHeader, END_OF_ARCHIVE, padding, type EncodeHeader } from '../tar/writer.js';
import { ContentFiles, shortContent, type ContentLocation } from '../store/content.js';
import { displayPath } from '../layer/names.js';
import type { Inode, Meta, PlannedTree } from '../tree/types.js';
import { firstNames, listEntries, type WriteEntry } from './entries.js';
import { TarOutput, type Output } from './tar-output.js';

export interface WriteTarOptions {
  /** Where a regular file's bytes are in the store. */
  locate: (inode: Inode) => ContentLocation;
  /** Only these subtrees (cleaned relative paths) and the directories leading to them. */
  paths?: string[];
  signal?: AbortSignal;
}

/** Files up to this size are read in one go; bigger ones in chunks of this size, never whole. */
const CHUNK = 1024 * 1024;

/**
 * Writes the entries in tree order, then the end-of-archive blocks. Does not end `output` (it may be stdout);
 * resolves once everything has been handed to it and taken, having waited for 'drain' whenever it asked us to.
 * The root has no entry: names carry no './', so there is nothing to name it with.
 */
export async function writeTar(tree: PlannedTree, output: Output, opts: WriteTarOptions): Promise<void> {
  const entries = listEntries(tree, opts.paths);
  const first = firstNames(entries);
  const out = new TarOutput(output);
  const files = new ContentFiles();
  try {
    for (const entry of entries) {
      opts.signal?.throwIfAborted();
      const h = headerFor(entry, first);
      await out.add(encodeEntryHeader(h));
      if (h.type === 'file' && h.size > 0 && entry.node.kind === 'leaf') {
        await putContent(out, files, entry.path, entry.node.inode, opts);
        await out.add(padding(h.size));
      }
    }
  } finally {
    files.close();
  }
  await out.add(END_OF_ARCHIVE);
  await out.close();
}

/** The first name of an inode carries it; later names are hardlink entries pointing back at that name. */
function headerFor({ path, node }: WriteEntry, first: Map<Inode, string>): EncodeHeader {
  if (node.kind === 'dir') return { ...metaFields(node.meta), name: path, type: 'dir', size: 0 };
  const inode = node.inode;
  const firstName = first.get(inode)!;
  // Same owner, mode and time as the first name, as GNU tar writes them; xattrs travel once, with the content.
  if (firstName !== path) return { ...metaFields(inode.meta), name: path, type: 'hardlink', size: 0, linkname: firstName, xattrs: undefined };
  const h: EncodeHeader = { ...metaFields(inode.meta), name: path, type: inode.kind, size: inode.kind === 'file' ? inode.size : 0 };
  if (inode.kind === 'symlink') h.linkname = inode.linkname ?? '';
  if (inode.kind === 'char' || inode.kind === 'block') Object.assign(h, { devmajor: inode.devmajor ?? 0, devminor: inode.devminor ?? 0 });
  return h;
}

function metaFields(m: Meta): Pick<EncodeHeader, 'mode' | 'uid' | 'gid' | 'mtime' | 'xattrs'> {
  const xattrs = m.xattrs === undefined ? undefined : new Map(Object.entries(m.xattrs).map(([k, v]) => [k, Buffer.from(v, 'base64')]));
  return { mode: m.mode & 0o7777, uid: m.uid, gid: m.gid, mtime: m.mtime, xattrs: xattrs?.size ? xattrs : undefined };
}

/** Exactly inode.size bytes, read into the output's slabs chunk by chunk: a short read would shift every later entry. */
async function putContent(out: TarOutput, files: ContentFiles, path: string, inode: Inode, opts: WriteTarOptions): Promise<void> {
  const loc = opts.locate(inode);
  for (let pos = 0; pos < inode.size; ) {
    opts.signal?.throwIfAborted();
    const buf = out.reserve(Math.min(CHUNK, inode.size - pos));
    const got = files.read(loc, buf, pos, displayPath(path));
    if (got !== buf.length) throw shortContent(loc, pos + got, displayPath(path));
    await out.add(buf);
    pos += got;
  }
}
