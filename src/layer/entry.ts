// A layer's index: the table of its entries that merging, diff and inspect work from.
// Paths are latin1 "byte strings" (one char per byte) so non-UTF-8 names survive exactly
// and sort bytewise; see layer/names.ts for display.
import type { Digest } from '../spec/digest.js';

export type EntryKind = 'file' | 'dir' | 'symlink' | 'hardlink' | 'char' | 'block' | 'fifo' | 'whiteout' | 'opaque';

export interface LayerEntry {
  /** Cleaned path relative to the image root: no leading '/', no './', no '..', no trailing '/'; '' is the root.
   *  For a whiteout it is the path hidden (dir/NAME for dir/.wh.NAME); for an opaque marker, the directory. */
  path: string;
  kind: EntryKind;
  /** Permission and special bits (07777). */
  mode: number;
  uid: number;
  gid: number;
  /** Seconds since the epoch (may be fractional). */
  mtime: number;
  /** Size of a regular file's content; 0 for other kinds. */
  size: number;
  /** Symlink: the target exactly as stored. Hardlink: the cleaned path of the target inside the image. */
  linkname?: string;
  devmajor?: number;
  devminor?: number;
  /** Extended attributes: name (latin1) to base64 value. */
  xattrs?: Record<string, string>;
  /** Regular files: sha256 hex of the content. */
  sha256?: string;
  /** Regular files with content: ordinal of the content file in the layer's data area. */
  data?: number;
}

export interface LayerIndex {
  /** Format version of this index file. */
  version: 1;
  diffID: Digest;
  /** Bytes of the uncompressed tar stream (what the diffID hashes). */
  tarSize: number;
  entries: LayerEntry[];
  /** Recoverable oddities met while reading the layer (duplicates, clamped names...). */
  warnings: string[];
}
