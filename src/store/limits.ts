// Limits that keep a hostile layer from exhausting disk, memory or time; defaults no real image reaches.
import { LimitError } from '../errors.js';

export interface LayerLimitValues {
  /** Most uncompressed bytes one layer may hold. */
  maxUnpackedBytes: number;
  /** Largest uncompressed/compressed ratio, checked once a layer passes ratioFloorBytes. */
  maxRatio: number;
  ratioFloorBytes: number;
  /** Most entries in one layer. */
  maxEntries: number;
  /** Longest path, in bytes, and deepest path, in components. */
  maxPathBytes: number;
  maxPathDepth: number;
}

export const DEFAULT_LAYER_LIMITS: LayerLimitValues = {
  maxUnpackedBytes: 64 * 1024 ** 3,
  // gzip cannot exceed ~1032:1; a zstd bomb can. A 1 GiB file of zeros in zstd is ~30000:1, so the
  // ratio is only checked past 1 GiB, where real layers are never that compressible as a whole.
  maxRatio: 5000,
  ratioFloorBytes: 1024 ** 3,
  maxEntries: 2_000_000,
  maxPathBytes: 4096,
  maxPathDepth: 256,
};

export class LayerLimits {
  readonly values: LayerLimitValues;

  constructor(values: Partial<LayerLimitValues> = {}) {
    this.values = { ...DEFAULT_LAYER_LIMITS, ...values };
  }

  checkUnpacked(unpacked: number, compressed: number, label: string): void {
    const v = this.values;
    if (unpacked > v.maxUnpackedBytes) {
      throw new LimitError(`${label}: unpacks to more than ${v.maxUnpackedBytes} bytes (--max-unpacked)`, { expected: v.maxUnpackedBytes, actual: unpacked });
    }
    if (unpacked > v.ratioFloorBytes && compressed > 0 && unpacked / compressed > v.maxRatio) {
      throw new LimitError(`${label}: decompression ratio ${Math.round(unpacked / compressed)}:1 is over the ${v.maxRatio}:1 limit (--max-ratio); a decompression bomb?`, { expected: v.maxRatio });
    }
  }

  checkEntry(count: number, path: string, label: string): void {
    const v = this.values;
    if (count > v.maxEntries) throw new LimitError(`${label}: more than ${v.maxEntries} entries (--max-entries)`, { expected: v.maxEntries });
    if (path.length > v.maxPathBytes) throw new LimitError(`${label}: a path of ${path.length} bytes is over the ${v.maxPathBytes}-byte limit`, { expected: v.maxPathBytes, actual: path.length });
    let depth = 1;
    for (let i = path.indexOf('/'); i !== -1; i = path.indexOf('/', i + 1)) depth++;
    if (depth > v.maxPathDepth) throw new LimitError(`${label}: a path ${depth} directories deep is over the ${v.maxPathDepth} limit`, { expected: v.maxPathDepth, actual: depth });
  }
}
