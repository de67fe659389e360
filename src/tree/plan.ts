// Folds layer indexes, bottom to top, into the final tree. Each layer's whiteouts and opaque markers
// act on the layers below it (OCI layer.md), then its entries apply in tar order the way containerd
// applies them: parents resolve through symlinks inside the root, dir over dir merges, anything else
// replaces. Pure: no filesystem, no content bytes.
import { FormatError, UsageError } from '../errors.js';
import type { LayerEntry } from '../layer/entry.js';
import { displayPath, splitPath } from '../layer/names.js';
import { layerMarkers, splitLayer } from './markers.js';
import { impliedDir, inodeOf, metaOf, newDir } from './nodes.js';
import { resolveError, resolvePath, type Resolved } from './resolve.js';
import type { DirNode, Inode, LeafNode, Meta, PlannedTree, PlanWarning } from './types.js';

export interface PlanLayer {
  entries: readonly LayerEntry[];
}

export interface PlanOptions {
  /** Apply only the first N layers. */
  upTo?: number;
}

export function planTree(layers: ReadonlyArray<PlanLayer>, opts: PlanOptions = {}): PlannedTree {
  const count = layerCount(layers.length, opts.upTo);
  const root = newDir({ mode: 0o755, uid: 0, gid: 0, mtime: 0 }, -1);
  const warnings: PlanWarning[] = [];
  for (let i = 0; i < count; i++) new LayerApplier(root, i, warnings).apply(layers[i].entries);
  return { root, warnings };
}

function layerCount(available: number, upTo: number | undefined): number {
  if (upTo === undefined) return available;
  if (Number.isInteger(upTo) && upTo >= 0 && upTo <= available) return upTo;
  throw new UsageError(`cannot plan the first ${upTo} layers of an image with ${available}`, { expected: available, actual: upTo });
}

class LayerApplier {
  /** Paths of this layer's entries so far, to spot duplicates. */
  private readonly seen = new Set<string>();
  /**
   * The directory the last entry's parent path resolved to. A tar lists a directory's entries together, so most
   * entries share the previous one's parent; it stays valid until an entry replaces a directory or a symlink,
   * which are all a resolution goes through (see add).
   */
  private lastParent: { path: string; dir: DirNode } | undefined;

  constructor(
    private readonly root: DirNode,
    private readonly layer: number,
    private readonly warnings: PlanWarning[],
  ) {}

  apply(entries: readonly LayerEntry[]): void {
    const split = splitLayer(entries);
    for (const { entry, replaced } of layerMarkers(this.root, split)) {
      if (replaced !== undefined) this.implyDirAt(replaced, entry);
      this.hideLower(entry);
    }
    for (const e of split.others) this.add(e);
  }

  /**
   * Makes `path`, which this layer's own entry replaces, a directory of this layer: its parent resolved as any
   * marker's, a lower symlink or file at `path` itself replaced by an implied directory and never followed.
   */
  private implyDirAt(path: string, e: LayerEntry): void {
    const [dir, base] = splitPath(path);
    const parent = this.markerDirAt(dir, e);
    if (parent.children.get(base)?.kind !== 'dir') parent.children.set(base, impliedDir());
  }

  /** Runs before any entry of the layer is added, so it only ever removes lower-layer content. */
  private hideLower(e: LayerEntry): void {
    if (e.kind === 'opaque') {
      // Dropping the map is O(1) however large the subtree: many markers stay linear (GHSA-rp3h-jf77-q9p4).
      this.markerDirAt(e.path, e).children = new Map();
      return;
    }
    const [dir, base] = splitPath(e.path);
    if (base === '') return;
    this.markerDirAt(dir, e).children.delete(base);
  }

  /**
   * Like dirAt, but a lower non-directory in the way is replaced by an implied directory: the
   * marker's own layer holds that directory, and overlayfs shows it over the lower file
   * (buildah writes `d/.wh..wh..opq` when a file became a directory).
   */
  private markerDirAt(path: string, e: LayerEntry): DirNode {
    for (;;) {
      const r = resolvePath(this.root, path, { followLast: true, create: impliedDir });
      if (r.ok && r.node.kind === 'dir') return r.node;
      if (!r.ok && r.reason !== 'not-dir') throw this.parentError(r, e);
      const [dir, base] = splitPath(r.path);
      const parent = resolvePath(this.root, dir, { followLast: true });
      if (!parent.ok || parent.node.kind !== 'dir') throw this.parentError(r, e);
      parent.node.children.set(base, impliedDir());
    }
  }

  private add(e: LayerEntry): void {
    if (this.seen.has(e.path)) this.warn('W_DUPLICATE_ENTRY', e.path, 'duplicate entry in one layer; the last one wins');
    this.seen.add(e.path);
    if (e.path === '') return this.setRoot(e);
    const linked = e.kind === 'hardlink' ? this.hardlinkTarget(e) : undefined;
    // Not splitPath: destructuring a tuple goes through the iterator protocol until V8 optimises the caller,
    // which a single planning run mostly does not live to see.
    const slash = e.path.lastIndexOf('/');
    const parent = this.dirAt(slash < 0 ? '' : e.path.slice(0, slash), e);
    const base = slash < 0 ? e.path : e.path.slice(slash + 1);
    const existing = parent.children.get(base);
    if (e.kind === 'dir' && existing?.kind === 'dir') return this.setDir(existing, e);
    if (existing !== undefined && (existing.kind === 'dir' || existing.inode.kind === 'symlink')) this.lastParent = undefined;
    // A new node even when a leaf is replaced: other hardlinked names keep the old inode.
    parent.children.set(base, linked ? { kind: 'leaf', inode: linked } : this.newNode(e));
  }

  private setRoot(e: LayerEntry): void {
    if (e.kind === 'dir') return this.setDir(this.root, e);
    this.warn('W_ROOT_ENTRY', e.path, `${e.kind} entry for the image root ignored`);
  }

  private setDir(dir: DirNode, e: LayerEntry): void {
    dir.meta = metaOf(e);
    dir.layer = this.layer;
    delete dir.implied;
  }

  private newNode(e: LayerEntry): DirNode | LeafNode {
    if (e.kind === 'dir') return newDir(metaOf(e), this.layer);
    return { kind: 'leaf', inode: this.newInode(e) };
  }

  private newInode(e: LayerEntry): Inode {
    if (e.kind === 'hardlink' || e.kind === 'whiteout' || e.kind === 'opaque' || e.kind === 'dir') {
      throw new FormatError(`${this.where(e.path)}: a ${e.kind} entry cannot be an inode`, this.context(e.path));
    }
    return inodeOf(e, this.layer);
  }

  /** The last component is not followed, so a link to a symlink links the symlink (EDGE #71). */
  private hardlinkTarget(e: LayerEntry): Inode {
    const target = e.linkname ?? '';
    const r = resolvePath(this.root, target, { followLast: false });
    if (r.ok && r.node.kind === 'leaf') return r.node.inode;
    if (!r.ok && (r.reason === 'loop' || r.reason === 'target-too-long')) throw resolveError(r.reason, r.path, this.where(e.path), this.context(e.path));
    const problem = r.ok ? 'is a directory' : 'does not exist';
    throw new FormatError(`${this.where(e.path)}: hardlink target ${show(target)} ${problem}`, { ...this.context(e.path), target }, 'E_HARDLINK_TARGET');
  }

  /** The directory at `path`, every component followed, missing ones implied (containerd mkparent). */
  private dirAt(path: string, e: LayerEntry): DirNode {
    if (this.lastParent?.path === path) return this.lastParent.dir;
    const r = resolvePath(this.root, path, { followLast: true, create: impliedDir });
    if (r.ok && r.node.kind === 'dir') {
      this.lastParent = { path, dir: r.node };
      return r.node;
    }
    throw this.parentError(r, e);
  }

  private parentError(r: Resolved, e: LayerEntry): Error {
    if (!r.ok && (r.reason === 'loop' || r.reason === 'target-too-long')) return resolveError(r.reason, r.path, this.where(e.path), this.context(e.path));
    const at = r.path;
    return new FormatError(`${this.where(e.path)}: parent is not a directory (${show(at)} is not one)`, { ...this.context(e.path), parent: at }, 'E_NOT_DIR');
  }

  private warn(code: string, path: string, message: string): void {
    this.warnings.push({ code, message: `${this.where(path)}: ${message}`, layer: this.layer, path });
  }

  private where(path: string): string {
    return `layer ${this.layer}: ${show(path)}`;
  }

  private context(path: string): { layer: number; path: string } {
    return { layer: this.layer, path };
  }
}

function show(path: string): string {
  return path === '' ? '/' : displayPath(path);
}
