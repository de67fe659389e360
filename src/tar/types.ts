// What one tar header means once GNU and PAX extensions are applied, the way Go's archive/tar reads it.

export type TarEntryType = 'file' | 'hardlink' | 'symlink' | 'char' | 'block' | 'dir' | 'fifo';

export interface TarHeader {
  /** Entry name as raw bytes in a latin1 string (one char per byte), PAX path / GNU long name applied. */
  name: string;
  type: TarEntryType;
  /** Permission and special bits (07777); file-type bits stripped. */
  mode: number;
  uid: number;
  gid: number;
  uname: string;
  gname: string;
  /** Logical size in bytes (the expanded size for sparse files). */
  size: number;
  /** Seconds since the epoch; fractional when a PAX record says so. */
  mtime: number;
  atime?: number;
  ctime?: number;
  /** Link target as raw bytes in a latin1 string. */
  linkname: string;
  devmajor: number;
  devminor: number;
  /** PAX SCHILY.xattr.* records: name (latin1 bytes) to exact value bytes. */
  xattrs: Map<string, Buffer>;
}

export interface TarEntry {
  header: TarHeader;
  /** The entry's bytes (holes of sparse files filled with zeros). Must be consumed or skipped before the next entry. */
  body: AsyncIterable<Buffer>;
  /** Offset in the input of the entry's stored data (past its header blocks and any sparse map). For an entry
   *  that is not sparse, the body is exactly the `header.size` bytes found there, so a caller that keeps the
   *  input can find them again. */
  offset: number;
  /** Whether the data is sparse-packed: the body is an expansion, not a copy of the bytes at `offset`. */
  sparse: boolean;
}
