// Opens an image archive, whatever its form: detects the format from content (never the file
// name), spools stdin and compressed archives to a temp file, and wires the matching reader to
// selection. Formats: docker-archive, oci-archive, docker-oci-archive (Docker 25+), oci-layout, and as
// directories an unpacked docker save and skopeo's dir:.
import { stat } from 'node:fs/promises';
import { FormatError, NotFoundError, StratumError, asStratumError } from '../errors.js';
import { dockerArchiveEntries } from './docker-archive.js';
import { toCandidates, type ImageEntry } from './entries.js';
import type { FileSet } from './file-set.js';
import { directoryFileSet, layoutDirFileSet } from './layout-dir.js';
import { checkLayoutVersion, ociEntries } from './oci-layout.js';
import { selectEntry } from './select.js';
import { skopeoDirFileSet } from './skopeo-dir.js';
import { sniffFile, spoolFile, spoolInput } from './spool.js';
import { tarFileSet } from './tar-files.js';
import { indexTar, type TarIndex } from './tar-index.js';
import { DEFAULT_SOURCE_LIMITS, type ImageArchive, type OpenOptions, type SourceFormat, type SourceLimits } from './types.js';

type Cleanup = () => Promise<void>;

/** Opens a tar (plain, gzip or zstd), an OCI layout directory, or '-' for stdin. */
export async function openArchive(input: string, opts: OpenOptions): Promise<ImageArchive> {
  return withIoErrors(input === '-' ? 'stdin' : input, () => openAny(input, opts));
}

/**
 * The filesystem's refusals (EACCES on an unreadable input or blob, EIO, EMFILE) as IoErrors naming the file,
 * so the user reads "permission denied" rather than an internal error; anything else is passed on untouched.
 */
async function withIoErrors<T>(label: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    if (!(err instanceof StratumError) && typeof e?.code === 'string' && typeof e.syscall === 'string') throw asStratumError(err, label);
    throw err;
  }
}

async function openAny(input: string, opts: OpenOptions): Promise<ImageArchive> {
  const limits: SourceLimits = { ...DEFAULT_SOURCE_LIMITS, ...opts.limits };
  if (input === '-') {
    const spool = await spoolInput(opts.stdin ?? process.stdin, opts.tmpDir, 'stdin');
    return openTar(spool.path, 'stdin', limits, spool.remove);
  }
  const st = await stat(input).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') throw new NotFoundError(`${input}: no such file or directory`, { file: input });
    throw asStratumError(err, input);
  });
  if (st.isDirectory()) return openDirectory(input, limits);
  const kind = await sniffFile(input);
  if (kind === 'none') return openTar(input, input, limits, async () => {});
  const spool = await spoolFile(input, kind, opts.tmpDir, input);
  return openTar(spool.path, input, limits, spool.remove);
}

/**
 * An OCI layout (oci-layout decides, as in a tar), else a skopeo dir: copy (its version file), else an unpacked
 * docker save (its manifest.json).
 */
async function openDirectory(dir: string, limits: SourceLimits): Promise<ImageArchive> {
  const none = async () => {};
  const files = await layoutDirFileSet(dir, dir);
  if ((await files.size('oci-layout')) !== undefined) {
    if ((await files.size('index.json')) === undefined) throw new FormatError(`${dir}: OCI layout without index.json`, { file: dir });
    await checkLayoutVersion(files, limits.maxJsonBytes);
    return makeArchive('oci-layout', dir, () => ociEntries(files, 'oci-layout', limits), none);
  }
  const copied = await skopeoDirFileSet(dir, dir, limits.maxJsonBytes);
  if (copied) return makeArchive('skopeo-dir', dir, () => ociEntries(copied, 'skopeo-dir', limits), none);
  // docker save's names are relative paths inside the archive; the file set still confines each to the directory.
  const saved = await directoryFileSet(dir, dir, isRelativeName);
  if ((await saved.size('manifest.json')) !== undefined) {
    return makeArchive('docker-archive-dir', dir, () => dockerArchiveEntries(saved, 'docker-archive-dir', limits), none);
  }
  throw new FormatError(`${dir}: not an image directory (no oci-layout, no manifest.json)`, { file: dir });
}

function isRelativeName(name: string): boolean {
  return name !== '' && !name.startsWith('/') && !name.includes('\0') && !name.split('/').includes('..');
}

async function openTar(path: string, label: string, limits: SourceLimits, cleanup: Cleanup): Promise<ImageArchive> {
  try {
    const index = await indexTar(path, label, limits.maxArchiveEntries);
    const files = tarFileSet(index);
    const format = detectTarFormat(index);
    if (format !== 'docker-archive') await checkLayoutVersion(files, limits.maxJsonBytes);
    return makeArchive(format, label, () => listTar(files, format, limits), cleanup);
  } catch (err) {
    await cleanup();
    throw err;
  }
}

/** containerd's rule: oci-layout makes it OCI even when a manifest.json is there too (EDGE #124). */
function detectTarFormat(index: TarIndex): SourceFormat {
  const has = (name: string) => index.entries.has(name);
  const label = index.label;
  if (has('oci-layout')) {
    if (!has('index.json')) throw new FormatError(`${label}: OCI layout without index.json`, { file: label });
    return has('manifest.json') ? 'docker-oci-archive' : 'oci-archive';
  }
  if (has('manifest.json')) return 'docker-archive';
  if (has('repositories') && [...index.entries.keys()].some((n) => /^[^/]+\/json$/.test(n))) {
    throw new FormatError(`${label}: pre-1.10 docker save (no manifest.json) is not supported`, { file: label });
  }
  throw notAnImage(label);
}

function notAnImage(label: string): FormatError {
  return new FormatError(`${label}: not an image archive (no manifest.json or oci-layout/index.json)`, { file: label });
}

async function listTar(files: FileSet, format: SourceFormat, limits: SourceLimits): Promise<ImageEntry[]> {
  if (format === 'docker-archive') return dockerArchiveEntries(files, format, limits);
  const oci = await ociEntries(files, format, limits);
  if (format !== 'docker-oci-archive') return oci;
  let docker: ImageEntry[];
  try {
    docker = await dockerArchiveEntries(files, format, limits);
  } catch (err) {
    if (err instanceof StratumError && oci.length > 0) return oci;
    throw err;
  }
  return mergeDockerItems(oci, docker);
}

/**
 * Docker 25+ lists every image in manifest.json but may leave an untagged one out of index.json:
 * RepoTags join the OCI entry with the same config, and items index.json lacks are added after.
 */
function mergeDockerItems(oci: ImageEntry[], docker: ImageEntry[]): ImageEntry[] {
  const extra: ImageEntry[] = [];
  for (const d of docker) {
    const same = oci.filter((o) => d.configDigest && o.configDigest === d.configDigest);
    for (const o of same) o.names = [...new Set([...o.names, ...d.names])];
    if (same.length === 0 && (oci.length === 0 || !d.unavailable)) extra.push(d);
  }
  return [...oci, ...extra];
}

function makeArchive(format: SourceFormat, label: string, list: () => Promise<ImageEntry[]>, cleanup: Cleanup): ImageArchive {
  let entries: Promise<ImageEntry[]> | undefined;
  let closed: Promise<void> | undefined;
  const all = () => (entries ??= list());
  return {
    format,
    label,
    candidates: () => withIoErrors(label, async () => toCandidates(await all())),
    select: (selector) =>
      withIoErrors(label, async () => {
        const entry = selectEntry(await all(), selector, label);
        const image = await entry.load();
        return { ...image, names: [...entry.names] };
      }),
    close: () => (closed ??= cleanup()),
  };
}
