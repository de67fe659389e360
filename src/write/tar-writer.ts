// Exports a planned tree as one tar: lossless (owners, modes, devices, xattrs, hardlinks) and byte-for-byte deterministic.
import { encodeEntryHeader, END_OF_ARCHIVE, padding, type EncodeHeader } from '../tar/writer.js';
import type { ContentRef, Inode, Meta, PlannedTree } from '../tree/types.js';
import { firstNames, listEntries, type WriteEntry } from './entries.js';
import { openContent, readRange, readSmall, TarOutput, type Output } from './tar-output.js';

export interface WriteTarOptions {
  contentPath: (ref: ContentRef) => string;
  /** Only these subtrees (cleaned relative paths) and the directories leading to them. */
  paths?: string[];
  signal?: AbortSignal;
}

/** Files up to this size are read whole, ahead of their turn; bigger ones are streamed in chunks of this size. */
const SMALL = 1024 * 1024;
/** Entries prepared ahead: the reads overlap each other and the writes, memory stays under READ_AHEAD * SMALL. */
const READ_AHEAD = 16;

interface Prepared {
  entry: WriteEntry;
  header: Buffer;
  /** The whole content of a small file; undefined for a big one (streamed) or an entry without content. */
  body?: Buffer;
  /** Content to stream: size > SMALL. */
  big?: Inode;
}

/**
 * Writes the entries in tree order, then the end-of-archive blocks. Does not end `output` (it may be stdout);
 * resolves once everything has been handed to it, having waited for 'drain' whenever it asked us to.
 * The root has no entry: names carry no './', so there is nothing to name it with.
 */
export async function writeTar(tree: PlannedTree, output: Output, opts: WriteTarOptions): Promise<void> {
  const entries = listEntries(tree, opts.paths);
  const first = firstNames(entries);
  const out = new TarOutput(output);
  for await (const p of prepareAhead(entries, first, opts)) {
    opts.signal?.throwIfAborted();
    await out.add(p.header);
    if (p.body !== undefined) await out.add(p.body);
    if (p.big !== undefined) await streamBig(out, p.entry.path, p.big, opts);
    const size = p.body?.length ?? p.big?.size ?? 0;
    await out.add(padding(size));
  }
  await out.add(END_OF_ARCHIVE);
  await out.flush();
}

/** Yields prepared entries in order while up to READ_AHEAD later ones are being read. */
async function* prepareAhead(entries: readonly WriteEntry[], first: Map<Inode, string>, opts: WriteTarOptions): AsyncGenerator<Prepared> {
  const queue: Array<Promise<Prepared>> = [];
  let next = 0;
  const fill = (): void => {
    while (queue.length < READ_AHEAD && next < entries.length) {
      const p = prepare(entries[next++], first, opts);
      // Reads still queued when the export stops must not surface as unhandled rejections; the awaited one rethrows.
      p.catch(() => undefined);
      queue.push(p);
    }
  };
  fill();
  while (queue.length > 0) {
    const p = await queue.shift()!;
    fill();
    yield p;
  }
}

async function prepare(entry: WriteEntry, first: Map<Inode, string>, opts: WriteTarOptions): Promise<Prepared> {
  const h = headerFor(entry, first);
  const prepared: Prepared = { entry, header: encodeEntryHeader(h) };
  if (h.type !== 'file' || h.size === 0 || entry.node.kind !== 'leaf') return prepared;
  const inode = entry.node.inode;
  if (inode.size > SMALL) prepared.big = inode;
  else prepared.body = await readSmall(opts.contentPath(inode.content!), entry.path, inode);
  return prepared;
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

/** Big files chunk by chunk, the next chunk read while the previous one is written; never a whole file in memory. */
async function streamBig(out: TarOutput, path: string, inode: Inode, opts: WriteTarOptions): Promise<void> {
  const src = opts.contentPath(inode.content!);
  const fh = await openContent(src, path, inode);
  try {
    const read = (pos: number): Promise<Buffer> => readRange(fh, src, path, pos, Math.min(SMALL, inode.size - pos));
    let chunk = read(0);
    for (let pos = 0; pos < inode.size; ) {
      opts.signal?.throwIfAborted();
      const buf = await chunk;
      pos += buf.length;
      chunk = pos < inode.size ? read(pos) : Promise.resolve(Buffer.alloc(0));
      chunk.catch(() => undefined);
      await out.add(buf);
    }
  } finally {
    await fh.close();
  }
}
