// One path's story across the layers: when it appeared, changed, lost its name and came back.
import type { LayerIndex } from '../layer/entry.js';
import { cleanName } from '../layer/names.js';
import { resolvePath } from '../tree/resolve.js';
import type { Meta, TreeNode } from '../tree/types.js';
import { fold, sameMeta, type FoldListener, type Removal } from './fold.js';

export type PathEventKind =
  | 'created'
  | 'recreated' // present again after a deletion
  | 'modified' // content (or symlink target, device numbers) changed
  | 'metadata' // only mode, owner or xattrs changed: chmod, chown
  | 'touched' // stored again with the same content and metadata (often only the mtime differs)
  | 'type-changed'
  | 'deleted';

export interface PathEvent {
  /** 0-based layer position. */
  layer: number;
  kind: PathEventKind;
  /** What the path is after the event (before it, for 'deleted'). */
  type: NodeType;
  size?: number;
  sha256?: string;
  linkname?: string;
  mode?: number;
  uid?: number;
  gid?: number;
  /** modified/metadata/type-changed: the state before. */
  before?: { type: NodeType; size?: number; mode: number; uid: number; gid: number; linkname?: string };
  /** deleted: what removed it (whiteout of the path or an ancestor, an opaque ancestor, an ancestor replaced). */
  cause?: Removal;
  /** True for a directory only implied by a deeper entry. */
  implied?: boolean;
}

export type NodeType = 'dir' | 'file' | 'symlink' | 'char' | 'block' | 'fifo';

/** The events for `path` (any spelling; cleaned lexically, symlinks in it are not followed). */
export function pathHistory(indexes: ReadonlyArray<Pick<LayerIndex, 'entries'>>, path: string): PathEvent[] {
  const target = cleanName(path).path;
  const listener = new PathWatcher(target);
  fold(indexes, listener);
  return listener.events;
}

/**
 * The path whose history to tell for what the user typed: resolved through the final tree's
 * symlinks when it exists there (so /lib/x finds usr/lib/x on a merged-/usr image), else as written.
 */
export function historyPath(indexes: ReadonlyArray<Pick<LayerIndex, 'entries'>>, path: string): string {
  const r = resolvePath(fold(indexes).root, path, { followLast: false });
  return r.ok ? r.path : cleanName(path).path;
}

/** The removal that explains why `path` is absent at the top, if the path ever existed and its last event is a deletion. */
export function lastDeletion(events: readonly PathEvent[]): PathEvent | undefined {
  const last = events[events.length - 1];
  return last?.kind === 'deleted' ? last : undefined;
}

class PathWatcher implements FoldListener {
  readonly events: PathEvent[] = [];
  private existed = false;

  constructor(private readonly target: string) {}

  set(path: string, node: TreeNode, prev: TreeNode | undefined, layer: number): void {
    if (path !== this.target) return;
    const last = this.events[this.events.length - 1];
    if (last && last.layer === layer && last.kind !== 'deleted') {
      // One layer, one event: a marker's implied directory then declared, or a duplicate entry.
      const { implied: _, ...rest } = last;
      this.events[this.events.length - 1] = { ...rest, ...describe(node), layer, kind: last.kind };
      return;
    }
    const kind = classify(node, prev, this.existed);
    this.existed = true;
    const event: PathEvent = { layer, kind, ...describe(node) };
    if (prev && kind !== 'touched') event.before = { ...describe(prev), ...metaOf(prev) };
    this.events.push(event);
  }

  removed(path: string, prev: TreeNode, cause: Removal): void {
    if (path !== this.target) return;
    this.events.push({ layer: cause.layer, kind: 'deleted', ...describe(prev), cause });
  }
}

function classify(node: TreeNode, prev: TreeNode | undefined, existed: boolean): PathEventKind {
  if (!prev) return existed ? 'recreated' : 'created';
  const a = describe(prev);
  const b = describe(node);
  if (a.type !== b.type) return 'type-changed';
  if (a.size !== b.size || a.sha256 !== b.sha256 || a.linkname !== b.linkname || !sameDevice(node, prev)) return 'modified';
  return sameMeta(metaOf(node), metaOf(prev)) ? 'touched' : 'metadata';
}

function describe(node: TreeNode): Omit<PathEvent, 'layer' | 'kind'> {
  const meta = metaOf(node);
  const base = { mode: meta.mode, uid: meta.uid, gid: meta.gid };
  if (node.kind === 'dir') return { type: 'dir', ...base, ...(node.implied ? { implied: true } : {}) };
  const i = node.inode;
  const out: Omit<PathEvent, 'layer' | 'kind'> = { type: i.kind, ...base };
  if (i.kind === 'file') Object.assign(out, { size: i.size, sha256: i.sha256 });
  if (i.linkname !== undefined) out.linkname = i.linkname;
  return out;
}

function metaOf(node: TreeNode): Meta {
  return node.kind === 'dir' ? node.meta : node.inode.meta;
}

function sameDevice(a: TreeNode, b: TreeNode): boolean {
  if (a.kind === 'dir' || b.kind === 'dir') return true;
  return a.inode.devmajor === b.inode.devmajor && a.inode.devminor === b.inode.devminor;
}
