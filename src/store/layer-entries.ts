// Reads one uncompressed layer tar into its index. The tar itself is kept whole by the caller (layer.tar), so a
// regular file is recorded as its offset there and only hashed; a sparse file, whose stored bytes are not its
// content, gets an expanded copy in dataDir/<n>.
import { createHash } from 'node:crypto';
import { createWriteStream, promises as fsp } from 'node:fs';
import { once } from 'node:events';
import path from 'node:path';
import { StratumError } from '../errors.js';
import { classifyEntry } from '../layer/classify.js';
import type { TarHeader } from '../tar/types.js';
import type { LayerEntry } from '../layer/entry.js';
import { readTar } from '../tar/reader.js';
import type { LayerLimits } from './limits.js';

const SMALL_FILE = 1024 * 1024;
const MAX_IN_FLIGHT = 32;
const MAX_BYTES_IN_FLIGHT = 64 * 1024 * 1024;

export interface ReadEntriesOptions {
  label: string;
  limits: LayerLimits;
  signal?: AbortSignal;
  /** Hash each regular file kept in layer.tar (default true); without, such entries get no sha256. */
  fileHashes?: boolean;
}

export async function readLayerEntries(tar: AsyncIterable<Buffer>, dataDir: string, opts: ReadEntriesOptions): Promise<{ entries: LayerEntry[]; warnings: string[] }> {
  const entries: LayerEntry[] = [];
  const warnings: string[] = [];
  const writes = new WritePool();
  let nextData = 0;
  const hashFiles = opts.fileHashes ?? true;
  try {
    for await (const { header, body, offset, sparse } of readTar(tar, { label: opts.label })) {
      opts.signal?.throwIfAborted();
      const classified = classifyOrSay(header, opts.label);
      for (const w of classified.warnings) warnings.push(w);
      for (const base of [classified.opaque, classified.entry]) {
        if (!base) continue;
        opts.limits.checkEntry(entries.length + 1, base.path, opts.label);
        const entry: LayerEntry = { ...base };
        if (entry.kind === 'file' && entry.size > 0 && !sparse) {
          entry.offset = offset;
          // Unhashed, the body is skipped by the reader: the bytes still pass the diffID's hash on their way to layer.tar.
          if (hashFiles) entry.sha256 = await hashBody(body);
        } else if (entry.kind === 'file' && entry.size > 0) {
          if (nextData === 0) await fsp.mkdir(dataDir, { mode: 0o700 });
          entry.data = nextData++;
          entry.sha256 = await writeContent(body, path.join(dataDir, String(entry.data)), entry.size, writes);
        } else if (entry.kind === 'file') {
          entry.sha256 = EMPTY_SHA256;
        }
        entries.push(entry);
      }
    }
    await writes.drain();
  } catch (err) {
    await writes.drain().catch(() => undefined);
    throw err;
  }
  return { entries, warnings };
}

/** classifyEntry, with the layer named in its refusals: "invalid whiteout" alone does not say where. */
function classifyOrSay(header: TarHeader, label: string): ReturnType<typeof classifyEntry> {
  try {
    // Overlay-format markers (char 0/0, trusted.overlay.opaque) are read too: that is what the
    // kernel makes of such a layer once unpacked, and what the issue asks for.
    return classifyEntry(header, { overlayMarkers: true });
  } catch (err) {
    if (err instanceof StratumError && !err.message.startsWith(label)) err.message = `${label}: ${err.message}`;
    throw err;
  }
}

export const EMPTY_SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';

async function hashBody(body: AsyncIterable<Buffer>): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of body) hash.update(chunk);
  return hash.digest('hex');
}

async function writeContent(body: AsyncIterable<Buffer>, file: string, size: number, pool: WritePool): Promise<string> {
  const hash = createHash('sha256');
  if (size <= SMALL_FILE) {
    const parts: Buffer[] = [];
    for await (const chunk of body) {
      hash.update(chunk);
      parts.push(chunk);
    }
    // The chunks may be views into the parser's buffers: copy once so the write owns its bytes.
    const bytes = parts.length === 1 ? Buffer.from(parts[0]) : Buffer.concat(parts);
    await pool.add(bytes.length, () => fsp.writeFile(file, bytes, { mode: 0o644 }));
    return hash.digest('hex');
  }
  const out = createWriteStream(file, { mode: 0o644 });
  for await (const chunk of body) {
    hash.update(chunk);
    if (!out.write(chunk)) await once(out, 'drain');
  }
  out.end();
  await once(out, 'finish');
  return hash.digest('hex');
}

/** Bounds the writes in flight by count and bytes; the first failure is rethrown. */
class WritePool {
  private readonly pending = new Set<Promise<void>>();
  private bytes = 0;
  private failure: unknown;

  async add(bytes: number, write: () => Promise<void>): Promise<void> {
    if (this.failure) throw this.failure;
    while (this.pending.size >= MAX_IN_FLIGHT || (this.bytes + bytes > MAX_BYTES_IN_FLIGHT && this.pending.size > 0)) {
      await Promise.race(this.pending);
      if (this.failure) throw this.failure;
    }
    this.bytes += bytes;
    const p: Promise<void> = write()
      .catch((err) => {
        this.failure ??= err;
      })
      .finally(() => {
        this.bytes -= bytes;
        this.pending.delete(p);
      });
    this.pending.add(p);
  }

  async drain(): Promise<void> {
    await Promise.all(this.pending);
    if (this.failure) throw this.failure;
  }
}
