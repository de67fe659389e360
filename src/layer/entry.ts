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
  /** Regular files: sha256 hex of the content (absent while the index is `unhashed`). */
  sha256?: string;
  /** Regular files with content: byte offset of the content in the layer's stored tar (layer.tar). */
  offset?: number;
  /** Sparse files with content, whose bytes are not one run of the tar: ordinal of the expanded copy in data/. */
  data?: number;
}

export interface LayerIndex {
  /** Format version of this index file (2: contents are byte ranges of the stored layer.tar). */
  version: 2;
  diffID: Digest;
  /** Bytes of the uncompressed tar stream (what the diffID hashes). */
  tarSize: number;
  entries: LayerEntry[];
  /** Recoverable oddities met while reading the layer (duplicates, clamped names...). */
  warnings: string[];
  /**
   * Set when the layer came in through a flatten or export, which read no file's sha256 (the diffID already covers
   * every byte): the store fills them in from layer.tar the first time a reader asks (store/file-hashes.ts).
   */
  unhashed?: true;
}
