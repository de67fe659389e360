// Reads one tar header as a layer entry: cleans its name, recognises whiteout and opaque markers,
// drops what never belongs in a tree (AUFS metadata, a non-directory root) and range-checks devices.
import { FormatError } from '../errors.js';
import type { TarHeader } from '../tar/types.js';
import type { LayerEntry } from './entry.js';
import { cleanName, displayPath, joinPath, splitPath } from './names.js';

export type ClassifiedEntry = Omit<LayerEntry, 'sha256' | 'data'>;

export interface ClassifyOptions {
  /**
   * Also read overlayfs-format markers: a char device 0:0 is a whiteout of its own path and a
   * directory with xattr trusted.overlay.opaque=y is opaque. Off by default because in a tar layer
   * only `.wh.` names are markers (EDGE #81; containerd refuses trusted.* xattrs).
   */
  overlayMarkers?: boolean;
}

export interface Classified {
  /** The entry, or null when the header is dropped (see warnings). */
  entry: ClassifiedEntry | null;
  /** An opaque marker carried by an overlay-format directory; `entry` is then the directory itself. */
  opaque?: ClassifiedEntry;
  /** Recoverable oddities, one line each, naming the entry. */
  warnings: string[];
}

const WHITEOUT = '.wh.';
const AUFS_META = '.wh..wh.';
const OPAQUE = '.wh..wh..opq';
const OVERLAY_OPAQUE_XATTR = 'trusted.overlay.opaque';
/** `.wh.` + '', '.' or '..' would name nothing, the directory itself or its parent (containerd validateWhiteout). */
const INVALID_WHITEOUTS = new Set(['.wh.', '.wh..', '.wh...']);
const UINT32_MAX = 0xffffffff;

export function classifyEntry(h: TarHeader, opts: ClassifyOptions = {}): Classified {
  const warnings: string[] = [];
  const name = cleanName(h.name);
  if (name.clamped) warnings.push(`${quote(h.name)}: climbs above the image root; clamped to ${quote(name.path)}`);
  if (name.path === '' && h.type !== 'dir') {
    // A symlink named '.' or '..' would otherwise replace the root (CVE-2021-29136).
    warnings.push(`${quote(h.name)}: ${h.type} entry for the image root ignored`);
    return { entry: null, warnings };
  }
  const [dir, base] = splitPath(name.path);
  if (isUnderAufsMeta(dir) || (base.startsWith(AUFS_META) && base !== OPAQUE)) {
    warnings.push(`${quote(h.name)}: AUFS metadata entry dropped`);
    return { entry: null, warnings };
  }
  if (base.startsWith(WHITEOUT)) return { entry: markerEntry(h, dir, base), warnings };
  const entry = plainEntry(h, name.path, warnings);
  return opts.overlayMarkers ? readOverlayMarkers(h, entry, warnings) : { entry, warnings };
}

/** Only the basename is a marker (EDGE #18): a `.wh.x/` directory component is an ordinary name. */
function markerEntry(h: TarHeader, dir: string, base: string): ClassifiedEntry {
  if (base === OPAQUE) return marker(h, 'opaque', dir);
  if (INVALID_WHITEOUTS.has(base)) {
    throw new FormatError(`invalid whiteout ${quote(h.name)}: it names no file in its directory`, { path: h.name }, 'E_INVALID_WHITEOUT');
  }
  return marker(h, 'whiteout', joinPath(dir, base.slice(WHITEOUT.length)));
}

/** Everything under an AUFS metadata directory (`.wh..wh.plnk/...`, `.wh..wh.aufs/...`). */
function isUnderAufsMeta(dir: string): boolean {
  return dir.includes(AUFS_META) && dir.split('/').some((c) => c.startsWith(AUFS_META));
}

function marker(h: TarHeader, kind: 'whiteout' | 'opaque', path: string): ClassifiedEntry {
  return { path, kind, mode: h.mode & 0o7777, uid: h.uid, gid: h.gid, mtime: h.mtime, size: 0 };
}

function plainEntry(h: TarHeader, path: string, warnings: string[]): ClassifiedEntry {
  const e: ClassifiedEntry = {
    path,
    kind: h.type,
    mode: h.mode & 0o7777,
    uid: h.uid,
    gid: h.gid,
    mtime: h.mtime,
    size: h.type === 'file' ? h.size : 0,
  };
  if (h.type === 'symlink') e.linkname = h.linkname;
  if (h.type === 'hardlink') e.linkname = hardlinkTarget(h, warnings);
  if (h.type === 'char' || h.type === 'block') {
    e.devmajor = deviceNumber(h, 'major', h.devmajor);
    e.devminor = deviceNumber(h, 'minor', h.devminor);
  }
  const xattrs = encodeXattrs(h.xattrs);
  if (xattrs) e.xattrs = xattrs;
  return e;
}

/** Hardlink targets are names inside the image, cleaned like entry names and clamped the same way. */
function hardlinkTarget(h: TarHeader, warnings: string[]): string {
  const target = cleanName(h.linkname);
  if (target.clamped) {
    warnings.push(`${quote(h.name)}: hardlink target ${quote(h.linkname)} climbs above the image root; clamped to ${quote(target.path)}`);
  }
  return target.path;
}

/** Linux dev_t halves are 32-bit; larger values cannot be made and once wrapped silently (containerd 0205398ac). */
function deviceNumber(h: TarHeader, which: string, n: number): number {
  if (Number.isInteger(n) && n >= 0 && n <= UINT32_MAX) return n;
  throw new FormatError(`${quote(h.name)}: device ${which} number ${n} is outside 0..${UINT32_MAX}`, { path: h.name, actual: n }, 'E_DEVICE_RANGE');
}

function encodeXattrs(xattrs: ReadonlyMap<string, Buffer>): Record<string, string> | undefined {
  if (xattrs.size === 0) return undefined;
  const out: Record<string, string> = {};
  for (const [k, v] of xattrs) out[k] = v.toString('base64');
  return out;
}

function readOverlayMarkers(h: TarHeader, entry: ClassifiedEntry, warnings: string[]): Classified {
  if (entry.kind === 'char' && entry.devmajor === 0 && entry.devminor === 0) {
    return { entry: marker(h, 'whiteout', entry.path), warnings };
  }
  if (entry.kind === 'dir' && h.xattrs.get(OVERLAY_OPAQUE_XATTR)?.toString('latin1') === 'y') {
    // The xattr now lives on as the opaque entry; left in place a writer would set it again as a raw trusted.* xattr.
    const rest = { ...entry.xattrs };
    delete rest[OVERLAY_OPAQUE_XATTR];
    const dirEntry: ClassifiedEntry = { ...entry, xattrs: rest };
    if (Object.keys(rest).length === 0) delete dirEntry.xattrs;
    return { entry: dirEntry, opaque: marker(h, 'opaque', entry.path), warnings };
  }
  return { entry, warnings };
}

function quote(p: string): string {
  return `"${displayPath(p)}"`;
}
