// Turning a raw header plus the metadata entries before it into a TarHeader, the way Go's Reader.Next does.
import { FormatError } from '../errors.js';
import type { EntryBody } from './body.js';
import { BLOCK, isHeaderOnly, type RawHeader } from './header.js';
import { parseDecimal, parsePaxTime, SCHILY_XATTR } from './pax.js';
import {
  checkSparse,
  expandSparse,
  paxSparseVersion,
  readOldGnuSparse,
  readPaxSparseMap0x,
  readPaxSparseMap1x0,
  type SparseContext,
  type SparseLimits,
  type SparseRegion,
} from './sparse.js';
import type { ByteSource } from './source.js';
import type { TarEntryType, TarHeader } from './types.js';

const TYPES: Record<string, TarEntryType> = {
  '0': 'file',
  '\0': 'file',
  '7': 'file',
  S: 'file',
  '1': 'hardlink',
  '2': 'symlink',
  '3': 'char',
  '4': 'block',
  '5': 'dir',
  '6': 'fifo',
};

export function toHeader(raw: RawHeader): TarHeader {
  const h: TarHeader = {
    name: raw.name,
    type: TYPES[raw.typeflag] ?? 'file',
    mode: raw.mode & 0o7777,
    uid: raw.uid,
    gid: raw.gid,
    uname: raw.uname,
    gname: raw.gname,
    size: raw.size,
    mtime: raw.mtime,
    linkname: raw.linkname,
    devmajor: raw.devmajor,
    devminor: raw.devminor,
    xattrs: new Map(),
  };
  if (raw.atime !== undefined) h.atime = raw.atime;
  if (raw.ctime !== undefined) h.ctime = raw.ctime;
  return h;
}

/** Go's mergePAX: the standard keys override the header, SCHILY.xattr.* become xattrs, the rest is ignored. */
export function applyPax(h: TarHeader, pax: Map<string, Buffer>, label: string, offset: number): void {
  for (const [key, buf] of pax) {
    const v = buf.toString('latin1');
    switch (key) {
      case 'path': h.name = v; break;
      case 'linkpath': h.linkname = v; break;
      case 'uname': h.uname = v; break;
      case 'gname': h.gname = v; break;
      case 'uid': h.uid = parseDecimal(v, 'PAX uid', label, offset); break;
      case 'gid': h.gid = parseDecimal(v, 'PAX gid', label, offset); break;
      case 'size': h.size = parseDecimal(v, 'PAX size', label, offset); break;
      case 'mtime': h.mtime = parsePaxTime(v, 'PAX mtime', label, offset); break;
      case 'atime': h.atime = parsePaxTime(v, 'PAX atime', label, offset); break;
      case 'ctime': h.ctime = parsePaxTime(v, 'PAX ctime', label, offset); break;
      default:
        if (key.startsWith(SCHILY_XATTR)) h.xattrs.set(key.slice(SCHILY_XATTR.length), buf);
    }
  }
}

/** Context for applySparse: error naming, limits, and the input (old GNU extension blocks precede the data). */
export interface SparseSetup {
  label: string;
  offset: number;
  limits: SparseLimits;
  src: ByteSource;
}

/**
 * Reads the sparse map, if the entry has one, and makes the body yield the expanded file.
 * Old GNU extension blocks sit between the header and the data (read from the input, not the body);
 * the 1.0 map is the first blocks of the stored data.
 */
export async function applySparse(
  h: TarHeader,
  raw: RawHeader,
  block: Buffer,
  pax: Map<string, Buffer> | null,
  body: EntryBody,
  setup: SparseSetup,
  oldDir: boolean,
): Promise<void> {
  const ctx: SparseContext = { label: setup.label, offset: setup.offset, limits: setup.limits, readBlock: () => body.readStoredBlock() };
  let regions: SparseRegion[];
  if (raw.typeflag === 'S') {
    if (raw.format !== 'gnu') throw notGnu(setup);
    const old = await readOldGnuSparse(block, { ...ctx, readBlock: () => readWholeBlock(setup) });
    regions = old.regions;
    h.size = old.size;
  } else {
    const version = pax ? paxSparseVersion(pax) : null;
    if (!pax || !version) return;
    applyPaxSparseHeader(h, pax, setup);
    regions = version === '1.0' ? await readPaxSparseMap1x0(ctx) : readPaxSparseMap0x(pax, ctx);
  }
  if (oldDir || isHeaderOnly(raw.typeflag) || h.type !== 'file') throw notFile(setup);
  checkSparse(regions, h.size, body.storedRemaining, ctx);
  const size = h.size;
  body.setView(() => expandSparse(regions, size, (max) => body.readStored(max)));
}

function applyPaxSparseHeader(h: TarHeader, pax: Map<string, Buffer>, setup: SparseSetup): void {
  const name = pax.get('GNU.sparse.name');
  if (name) h.name = name.toString('latin1');
  const size = pax.get('GNU.sparse.size') ?? pax.get('GNU.sparse.realsize');
  if (size) h.size = parseDecimal(size.toString('latin1'), 'GNU.sparse.realsize', setup.label, setup.offset);
}

async function readWholeBlock(setup: SparseSetup): Promise<Buffer> {
  const b = await setup.src.readExact(BLOCK);
  if (b.length < BLOCK) {
    throw new FormatError(`${setup.label}: truncated GNU sparse extension header at offset ${setup.offset}`, {
      file: setup.label,
      offset: setup.offset,
    });
  }
  return b;
}

function notGnu(setup: SparseSetup): FormatError {
  return new FormatError(`${setup.label}: sparse entry 'S' in a non-GNU header at offset ${setup.offset}`, {
    file: setup.label,
    offset: setup.offset,
  });
}

function notFile(setup: SparseSetup): FormatError {
  return new FormatError(`${setup.label}: sparse map on an entry that is not a regular file at offset ${setup.offset}`, {
    file: setup.label,
    offset: setup.offset,
  });
}
