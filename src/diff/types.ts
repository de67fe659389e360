// The diff report: one plain object, the same one `--json` prints (docs/diff-json.md is its contract).
// Paths here are display strings with a leading '/' (layer/names.ts displayPath), never raw byte strings,
// so the report is valid JSON text whatever bytes the image's names hold.

export const SECTIONS = ['layers', 'files', 'config', 'history', 'packages'] as const;
export type Section = (typeof SECTIONS)[number];

export interface ImageSummary {
  /** The argument as given (a path or a stored name). */
  ref: string;
  names: string[];
  manifestDigest: string;
  configDigest: string;
  /** os/arch[/variant] */
  platform: string;
  layers: number;
}

/** Which layer made a path what it is, and the history step that built that layer. */
export interface Attribution {
  side: 'old' | 'new';
  /** 0-based layer position in that image. */
  layer: number;
  diffID: string;
  createdBy?: string;
}

export type FileStatus = 'A' | 'D' | 'M' | 'T';
export type NodeKind = 'dir' | 'file' | 'symlink' | 'char' | 'block' | 'fifo';

export type DetailField = 'type' | 'content' | 'size' | 'mode' | 'uid' | 'gid' | 'target' | 'device' | 'xattr' | 'links' | 'mtime';

export interface Detail {
  field: DetailField;
  /** For xattr: the attribute name. */
  name?: string;
  /** null when absent on that side (an xattr added or removed). mode is an octal string like "0755";
   *  content a sha256 hex; device "major,minor"; links the sorted names sharing the inode; xattr base64. */
  old: string | number | string[] | null;
  new: string | number | string[] | null;
}

export interface FileChange {
  status: FileStatus;
  path: string;
  kind: { old?: NodeKind; new?: NodeKind };
  /** Regular file sizes (0 for other kinds) on each side that has the path. */
  size: { old?: number; new?: number };
  details: Detail[];
  attribution?: Attribution;
}

export interface SizeEntry {
  /** A top-level directory like "/usr", or "/" for the files directly in the root. */
  path: string;
  old: number;
  new: number;
  delta: number;
}

export interface SizeReport {
  old: number;
  new: number;
  delta: number;
  /** Largest |delta| first. */
  byTopLevel: SizeEntry[];
  /** The file changes with the largest |size delta|, largest first (at most 20). */
  largest: { path: string; status: FileStatus; old: number; new: number; delta: number }[];
}

export interface LayerSide {
  position: number;
  digest: string;
  diffID: string;
  size: number;
  mediaType: string;
  createdBy?: string;
}

export interface LayerRow {
  status: 'shared' | 'old-only' | 'new-only';
  old?: LayerSide;
  new?: LayerSide;
  /** Shared diffID (same uncompressed tar) stored under a different compressed digest. */
  recompressed: boolean;
}

export interface LayerReport {
  rows: LayerRow[];
  shared: number;
  oldOnly: number;
  newOnly: number;
  recompressed: number;
  /** How many bottom layers are the same diffIDs in the same order in both. */
  commonBase: number;
}

export type ChangeKind = 'added' | 'removed' | 'changed';

export interface ConfigChange {
  field: 'env' | 'entrypoint' | 'cmd' | 'user' | 'workdir' | 'exposedPorts' | 'volumes' | 'labels' | 'stopSignal' | 'platform';
  /** env variable, label, port or volume the change is about; absent for whole-value fields. */
  key?: string;
  change: ChangeKind;
  old: string | string[] | null;
  new: string | string[] | null;
}

export interface HistoryStep {
  op: 'same' | 'inserted' | 'removed' | 'changed';
  old?: { index: number; createdBy: string; emptyLayer: boolean };
  new?: { index: number; createdBy: string; emptyLayer: boolean };
}

export interface PackageChange {
  ecosystem: string;
  name: string;
  change: ChangeKind;
  old: string | null;
  new: string | null;
}

export interface ContentDiff {
  path: string;
  old: { exists: boolean; sha256?: string; size?: number; kind?: NodeKind };
  new: { exists: boolean; sha256?: string; size?: number; kind?: NodeKind };
  identical: boolean;
  binary: boolean;
  /** The unified diff text (empty when identical, absent when binary or not both files). */
  unified?: string;
}

export interface DiffSummary {
  layers: { shared: number; oldOnly: number; newOnly: number; recompressed: number } | null;
  files: { added: number; removed: number; modified: number; typeChanged: number; sizeDelta: number } | null;
  config: number | null;
  history: { inserted: number; removed: number; changed: number } | null;
  packages: { added: number; removed: number; changed: number } | null;
}

export interface DiffReport {
  schemaVersion: 1;
  old: ImageSummary;
  new: ImageSummary;
  /** True when no compared section holds a difference (the exit status is 0 exactly then). */
  identical: boolean;
  sections: Section[];
  summary: DiffSummary;
  layers: LayerReport | null;
  files: FileChange[] | null;
  size: SizeReport | null;
  config: ConfigChange[] | null;
  history: HistoryStep[] | null;
  packages: PackageChange[] | null;
  content: ContentDiff | null;
  warnings: string[];
}
