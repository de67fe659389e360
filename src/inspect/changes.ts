// What each layer did to the tree below it: names added, changed and removed, and its markers.
import type { LayerIndex } from '../layer/entry.js';
import type { TreeNode } from '../tree/types.js';
import { fold, sameMeta, type FoldListener } from './fold.js';

export interface LayerChanges {
  /** Names (of any kind, directories included) that did not exist below. */
  added: number;
  /**
   * Names that existed below and were stored again: any non-directory (even with the same bytes,
   * since the layer paid for them again), or a directory whose mode, owner or xattrs changed.
   * A name removed by a marker and put back by the same layer counts here, not as removed + added.
   */
  changed: number;
  /** Names that left the tree: whited out, under an opaque directory, or under a replaced directory. */
  removed: number;
  /** `.wh.NAME` entries. */
  whiteouts: number;
  /** `.wh..wh..opq` entries. */
  opaques: number;
  /** Bytes of regular-file content the layer stores. */
  fileBytes: number;
  /** Entries in the layer's tar (markers included). */
  entries: number;
}

/** One record per layer, base first. Pure: reads only the indexes. */
export function layerChanges(indexes: ReadonlyArray<Pick<LayerIndex, 'entries'>>): { changes: LayerChanges[]; warnings: string[] } {
  const changes = indexes.map(markerCounts);
  const counter = new ChangeCounter(changes);
  const { warnings } = fold(indexes, counter);
  return { changes, warnings };
}

function markerCounts(index: Pick<LayerIndex, 'entries'>): LayerChanges {
  const c: LayerChanges = { added: 0, changed: 0, removed: 0, whiteouts: 0, opaques: 0, fileBytes: 0, entries: index.entries.length };
  for (const e of index.entries) {
    if (e.kind === 'whiteout') c.whiteouts++;
    else if (e.kind === 'opaque') c.opaques++;
    else if (e.kind === 'file') c.fileBytes += e.size;
  }
  return c;
}

class ChangeCounter implements FoldListener {
  /** Names this layer already counted (a duplicate entry or an implied parent made explicit counts once). */
  private seen = new Set<string>();
  /** Names this layer removed, so putting one back reads as a change. */
  private gone = new Set<string>();

  constructor(private readonly changes: LayerChanges[]) {}

  layerStart(): void {
    this.seen = new Set();
    this.gone = new Set();
  }

  set(path: string, node: TreeNode, prev: TreeNode | undefined, layer: number): void {
    if (path === '' || this.seen.has(path)) return;
    this.seen.add(path);
    const c = this.changes[layer];
    if (prev === undefined && this.gone.has(path)) {
      c.removed--;
      c.changed++;
    } else if (prev === undefined) c.added++;
    else if (isChange(node, prev)) c.changed++;
  }

  removed(path: string, _prev: TreeNode, cause: { layer: number }): void {
    if (this.seen.has(path)) return;
    this.gone.add(path);
    this.changes[cause.layer].removed++;
  }
}

function isChange(node: TreeNode, prev: TreeNode): boolean {
  if (node.kind === 'dir' && prev.kind === 'dir') return !sameMeta(node.meta, prev.meta);
  return true;
}
