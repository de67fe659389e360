// The files of an image archive as the readers see them: names looked up inside the archive
// (a tar indexed by offsets, or an OCI layout directory), never paths on the host.
import type { Readable } from 'node:stream';
import type { Digest } from '../spec/digest.js';

export interface FileSet {
  /** Human name of the archive, used in every message. */
  readonly label: string;
  /** Size of the regular file stored under `name` (archive symlinks followed), or undefined when absent. */
  size(name: string): Promise<number | undefined>;
  /** The first `length` bytes of the file (fewer if it is shorter). Throws NotFoundError when absent. */
  read(name: string, length: number): Promise<Buffer>;
  /** Streams the whole file. Throws NotFoundError when absent. */
  open(name: string): Promise<Readable>;
}

/** The layout path of a blob. Only a parsed Digest gets here, so the name cannot climb out (CVE-2024-3727). */
export function blobName(digest: Digest): string {
  const i = digest.indexOf(':');
  return `blobs/${digest.slice(0, i)}/${digest.slice(i + 1)}`;
}
