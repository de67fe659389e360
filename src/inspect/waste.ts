// Bytes an image carries that its final filesystem does not need: file content a later layer
// overwrote or deleted, and content stored again by a later layer while an earlier copy still lives.
import { UsageError } from '../errors.js';
import type { LayerIndex } from '../layer/entry.js';
import { fold, type RemovalHow, type StoredFile } from './fold.js';

export type WasteKind = 'overwritten' | 'deleted' | 'duplicate';

export interface WasteItem {
  kind: WasteKind;
  /** Where the wasted bytes are stored. */
  path: string;
  size: number;
  sha256?: string;
  /** 0-based position of the layer that holds the bytes. */
  layer: number;
  /** 0-based position of the layer that wasted them: the one that overwrote or deleted them, or stored the copy. */
  by: number;
  /** overwritten/deleted: what removed the last name, and the path it acted on. */
  how?: RemovalHow;
  at?: string;
  /** duplicate: the earlier copy that lives on. */
  original?: { layer: number; path: string };
}

export interface WasteGroup {
  kind: WasteKind;
  layer: number;
  by: number;
  bytes: number;
  files: number;
  largest: string;
}

export interface WasteReport {
  /** Regular-file content bytes stored across all layers (hardlinks count once). */
  totalBytes: number;
  totalFiles: number;
  /** Bytes of stored files the final tree still reaches. */
  finalBytes: number;
  /** Overwritten or deleted content. */
  deadBytes: number;
  /** Live content also stored, live, in an earlier layer. */
  duplicateBytes: number;
  wastedBytes: number;
  /** (total - wasted) / total; 1 when the image stores no file bytes. */
  efficiency: number;
  /** Largest first. */
  items: WasteItem[];
  /** Items summed by kind, holder and waster; largest first. */
  groups: WasteGroup[];
}

export function analyzeWaste(indexes: ReadonlyArray<Pick<LayerIndex, 'entries'>>): WasteReport {
  const { files } = fold(indexes);
  const items = [...deadItems(files), ...duplicateItems(files)].sort((a, b) => b.size - a.size || a.layer - b.layer || cmp(a.path, b.path));
  const sum = (list: { size: number }[]) => list.reduce((n, x) => n + x.size, 0);
  const totalBytes = files.reduce((n, f) => n + f.inode.size, 0);
  const deadBytes = sum(items.filter((i) => i.kind !== 'duplicate'));
  const duplicateBytes = sum(items.filter((i) => i.kind === 'duplicate'));
  const wastedBytes = deadBytes + duplicateBytes;
  return {
    totalBytes,
    totalFiles: files.length,
    finalBytes: totalBytes - deadBytes,
    deadBytes,
    duplicateBytes,
    wastedBytes,
    efficiency: totalBytes === 0 ? 1 : (totalBytes - wastedBytes) / totalBytes,
    items,
    groups: groupItems(items),
  };
}

function deadItems(files: readonly StoredFile[]): WasteItem[] {
  const out: WasteItem[] = [];
  for (const f of files) {
    if (!f.death || f.inode.size === 0) continue;
    const kind: WasteKind = f.death.how === 'replaced' && f.death.at === f.path ? 'overwritten' : 'deleted';
    out.push({ kind, path: f.path, size: f.inode.size, sha256: f.inode.sha256, layer: f.inode.layer, by: f.death.layer, how: f.death.how, at: f.death.at });
  }
  return out;
}

/** Copies within one layer are not counted: that layer could only have avoided them with a hardlink. */
function duplicateItems(files: readonly StoredFile[]): WasteItem[] {
  const first = new Map<string, StoredFile>();
  const out: WasteItem[] = [];
  for (const f of files) {
    const sha = f.inode.sha256;
    if (f.death || f.inode.size === 0 || sha === undefined) continue;
    const original = first.get(sha);
    if (!original) first.set(sha, f);
    else if (original.inode.layer < f.inode.layer) {
      out.push({ kind: 'duplicate', path: f.path, size: f.inode.size, sha256: sha, layer: f.inode.layer, by: f.inode.layer, original: { layer: original.inode.layer, path: original.path } });
    }
  }
  return out;
}

function groupItems(items: readonly WasteItem[]): WasteGroup[] {
  const groups = new Map<string, WasteGroup>();
  for (const i of items) {
    const key = `${i.kind} ${i.layer} ${i.by}`;
    const g = groups.get(key) ?? { kind: i.kind, layer: i.layer, by: i.by, bytes: 0, files: 0, largest: i.path };
    g.bytes += i.size;
    g.files++;
    groups.set(key, g);
  }
  return [...groups.values()].sort((a, b) => b.bytes - a.bytes || a.layer - b.layer || a.by - b.by);
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

export type Threshold = { bytes: number } | { percent: number };

const UNITS: Record<string, number> = {
  '': 1, b: 1,
  k: 1e3, kb: 1e3, m: 1e6, mb: 1e6, g: 1e9, gb: 1e9, t: 1e12, tb: 1e12,
  kib: 1024, mib: 1024 ** 2, gib: 1024 ** 3, tib: 1024 ** 4,
};

/** `10MB`, `1.5GiB`, `4096` (bytes) or `5%` (of all stored file bytes). Units are decimal, as formatBytes prints. */
export function parseThreshold(text: string): Threshold {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(%|[a-z]*)\s*$/i.exec(text);
  const unit = m?.[2].toLowerCase();
  if (m && unit === '%') return { percent: Number(m[1]) };
  if (m && unit !== undefined && unit in UNITS) return { bytes: Math.round(Number(m[1]) * UNITS[unit]) };
  throw new UsageError(`--fail-over "${text}": expected bytes (like 10MB, 512KiB, 4096) or a percentage (like 5%)`);
}

/** How the waste compares with the threshold: `over` is true only when strictly above it. */
export function checkThreshold(report: WasteReport, t: Threshold): { over: boolean; actual: number; limit: number; unit: 'bytes' | 'percent' } {
  if ('percent' in t) {
    const actual = report.totalBytes === 0 ? 0 : (report.wastedBytes / report.totalBytes) * 100;
    return { over: actual > t.percent, actual, limit: t.percent, unit: 'percent' };
  }
  return { over: report.wastedBytes > t.bytes, actual: report.wastedBytes, limit: t.bytes, unit: 'bytes' };
}
