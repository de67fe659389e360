// Folds layer indexes bottom to top like tree/plan.ts does, but reports every change as it happens:
// which path appeared, was replaced or vanished, and why. Per-layer statistics, a path's history and
// the waste report are all listeners on this one fold, so they agree with each other and with the plan.
// Unlike the planner it never throws on a malformed layer: inspection should describe a broken image.
import type { LayerEntry, LayerIndex } from '../layer/entry.js';
import { displayPath, joinPath, splitPath } from '../layer/names.js';
import { impliedDir, inodeOf, metaOf, newDir } from '../tree/nodes.js';
import { layerMarkers, splitLayer } from '../tree/markers.js';
import { resolvePath } from '../tree/resolve.js';
import type { DirNode, Inode, LeafNode, Meta, TreeNode } from '../tree/types.js';

export type RemovalHow = 'whiteout' | 'opaque' | 'replaced';

/** Why a path went away: `at` is the whited-out path, the opaque directory, or the path an entry replaced. */
export interface Removal {
  layer: number;
  how: RemovalHow;
  at: string;
}

/** A regular file's stored bytes: the inode, the path it was stored under, and how many names still reach it. */
export interface StoredFile {
  inode: Inode;
  path: string;
  names: number;
  /** Set when the last name went away. */
  death?: Removal;
}

export interface FoldListener {
  layerStart?(layer: number): void;
  layerEnd?(layer: number): void;
  /** `path` now holds `node`; `prev` is what it held before (a snapshot for a directory merged in place). */
  set?(path: string, node: TreeNode, prev: TreeNode | undefined, layer: number): void;
  /** `path` (and so `prev`) left the tree. Emitted for every name of a removed subtree, parents first. */
  removed?(path: string, prev: TreeNode, cause: Removal): void;
}

export interface FoldResult {
  root: DirNode;
  /** Every regular file entry that became an inode, base layer first. */
  files: StoredFile[];
  warnings: string[];
}

/** Applies the first `upTo` layers (default all). Layer numbers in events are 0-based positions. */
export function fold(layers: ReadonlyArray<Pick<LayerIndex, 'entries'>>, listener: FoldListener = {}, upTo = layers.length): FoldResult {
  const state = new FoldState(listener);
  for (let i = 0; i < upTo; i++) {
    listener.layerStart?.(i);
    state.applyLayer(i, layers[i].entries);
    listener.layerEnd?.(i);
  }
  return { root: state.root, files: state.files, warnings: state.warnings };
}

class FoldState {
  readonly root: DirNode = newDir({ mode: 0o755, uid: 0, gid: 0, mtime: 0 }, -1);
  readonly files: StoredFile[] = [];
  readonly warnings: string[] = [];
  private readonly byInode = new Map<Inode, StoredFile>();
  private layer = 0;

  constructor(private readonly listener: FoldListener) {}

  applyLayer(layer: number, entries: readonly LayerEntry[]): void {
    this.layer = layer;
    // Markers act on the layers below only, so they all go before any entry of the same layer (tree/markers.ts).
    const split = splitLayer(entries);
    for (const { entry, replaced } of layerMarkers(this.root, split)) {
      if (replaced !== undefined) this.implyDirAt(replaced, entry);
      this.hide(entry);
    }
    for (const e of split.others) this.add(e);
  }

  private hide(e: LayerEntry): void {
    if (e.kind === 'opaque') {
      const dir = this.dirAt(e.path, e, true);
      if (!dir) return;
      const cause: Removal = { layer: this.layer, how: 'opaque', at: dir.path };
      for (const [name, child] of dir.node.children) this.removeSubtree(joinPath(dir.path, name), child, cause);
      dir.node.children = new Map();
      return;
    }
    const [parentPath, base] = splitPath(e.path);
    const parent = this.dirAt(parentPath, e, true);
    const child = parent?.node.children.get(base);
    if (!parent || !child) return;
    const at = joinPath(parent.path, base);
    this.removeSubtree(at, child, { layer: this.layer, how: 'whiteout', at });
    parent.node.children.delete(base);
  }

  private add(e: LayerEntry): void {
    if (e.path === '') return this.setRoot(e);
    const linked = e.kind === 'hardlink' ? this.hardlinkTarget(e) : undefined;
    if (e.kind === 'hardlink' && !linked) return;
    const [parentPath, base] = splitPath(e.path);
    const parent = this.dirAt(parentPath, e);
    if (!parent) return;
    const path = joinPath(parent.path, base);
    const existing = parent.node.children.get(base);
    if (e.kind === 'dir' && existing?.kind === 'dir') return this.mergeDir(path, existing, e);
    const node: TreeNode = linked ? { kind: 'leaf', inode: linked } : this.newNode(e, path);
    if (existing) this.replace(path, existing);
    parent.node.children.set(base, node);
    if (linked) this.addName(linked);
    this.listener.set?.(path, node, existing, this.layer);
  }

  private setRoot(e: LayerEntry): void {
    if (e.kind !== 'dir') return this.warn(e, `${e.kind} entry for the image root ignored`);
    this.mergeDir('', this.root, e);
  }

  private mergeDir(path: string, dir: DirNode, e: LayerEntry): void {
    const prev: DirNode = { ...dir };
    dir.meta = metaOf(e);
    dir.layer = this.layer;
    delete dir.implied;
    this.listener.set?.(path, dir, prev, this.layer);
  }

  /** The old node at a path loses its name; a directory's whole subtree goes with it. */
  private replace(path: string, old: TreeNode): void {
    const cause: Removal = { layer: this.layer, how: 'replaced', at: path };
    if (old.kind === 'dir') for (const [name, child] of old.children) this.removeSubtree(joinPath(path, name), child, cause);
    else this.release(old, cause);
  }

  private removeSubtree(path: string, node: TreeNode, cause: Removal): void {
    const stack: [string, TreeNode][] = [[path, node]];
    while (stack.length > 0) {
      const [p, n] = stack.pop()!;
      this.listener.removed?.(p, n, cause);
      if (n.kind === 'dir') for (const [name, child] of n.children) stack.push([joinPath(p, name), child]);
      else this.release(n, cause);
    }
  }

  private addName(inode: Inode): void {
    const file = this.byInode.get(inode);
    if (!file) return;
    file.names++;
    delete file.death;
  }

  private release(leaf: LeafNode, cause: Removal): void {
    const file = this.byInode.get(leaf.inode);
    if (file && --file.names === 0) file.death = cause;
  }

  private newNode(e: LayerEntry, path: string): TreeNode {
    if (e.kind === 'dir') return newDir(metaOf(e), this.layer);
    const inode = inodeOf(e, this.layer);
    if (e.kind === 'file') {
      const file: StoredFile = { inode, path, names: 1 };
      this.files.push(file);
      this.byInode.set(inode, file);
    }
    return { kind: 'leaf', inode };
  }

  /** As the planner: the last component is not followed, so a link to a symlink links the symlink. */
  private hardlinkTarget(e: LayerEntry): Inode | undefined {
    const r = resolvePath(this.root, e.linkname ?? '', { followLast: false });
    if (r.ok && r.node.kind === 'leaf') return r.node.inode;
    this.warn(e, `hardlink target "${displayPath(e.linkname ?? '')}" ${r.ok ? 'is a directory' : 'does not exist'}; entry skipped`);
    return undefined;
  }

  /**
   * The directory at `path`, every component followed inside the root, missing ones implied (as the
   * planner). For a marker, a lower non-directory in the way becomes an implied directory, as the
   * planner does (buildah writes `d/.wh..wh..opq` when a file became a directory).
   */
  private dirAt(path: string, e: LayerEntry, forMarker = false): { node: DirNode; path: string } | undefined {
    for (let guard = 0; guard < 256; guard++) {
      const r = this.resolveCreating(path);
      if (r.ok && r.node.kind === 'dir') return { node: r.node, path: r.path };
      const blocked = r.ok || r.reason === 'not-dir';
      if (!forMarker || !blocked || !this.implyOver(r.path)) {
        this.warn(e, blocked ? `parent "${displayPath(r.path)}" is not a directory; entry skipped` : `parent unreachable (${r.reason} at "${displayPath(r.path)}"); entry skipped`);
        return undefined;
      }
    }
    return undefined;
  }

  private resolveCreating(path: string): ReturnType<typeof resolvePath> {
    const made = new Set<DirNode>();
    const create = (): DirNode => {
      const dir = impliedDir();
      made.add(dir);
      return dir;
    };
    const r = resolvePath(this.root, path, { followLast: true, create });
    if (made.size > 0 && r.ok) this.announceImplied(r.path, made);
    return r;
  }

  /** As the planner does: `path`, which this layer replaces, becomes a directory of it, a lower symlink there unfollowed. */
  private implyDirAt(path: string, e: LayerEntry): void {
    const [dir, base] = splitPath(path);
    const parent = this.dirAt(dir, e, true);
    if (!parent) return;
    const at = joinPath(parent.path, base);
    if (parent.node.children.get(base) === undefined) this.resolveCreating(at);
    else if (parent.node.children.get(base)!.kind !== 'dir') this.implyOver(at);
  }

  /** Replaces the non-directory at `path` with an implied directory; false if its parent cannot be found. */
  private implyOver(path: string): boolean {
    const [dir, base] = splitPath(path);
    const parent = resolvePath(this.root, dir, { followLast: true });
    if (!parent.ok || parent.node.kind !== 'dir' || base === '') return false;
    const at = joinPath(parent.path, base);
    const old = parent.node.children.get(base);
    const implied = impliedDir();
    if (old) this.replace(at, old);
    parent.node.children.set(base, implied);
    this.listener.set?.(at, implied, old, this.layer);
    return true;
  }

  private announceImplied(path: string, made: Set<DirNode>): void {
    let node: TreeNode | undefined = this.root;
    let at = '';
    for (const name of path === '' ? [] : path.split('/')) {
      node = node?.kind === 'dir' ? node.children.get(name) : undefined;
      at = joinPath(at, name);
      if (node?.kind === 'dir' && made.has(node)) this.listener.set?.(at, node, undefined, this.layer);
    }
  }

  private warn(e: LayerEntry, message: string): void {
    this.warnings.push(`layer ${this.layer + 1}: "${displayPath(e.path)}": ${message}`);
  }
}


/** Mode, owner and xattrs: what a chmod/chown/setfattr changes. The mtime is left out on purpose. */
export function sameMeta(a: Meta, b: Meta): boolean {
  return a.mode === b.mode && a.uid === b.uid && a.gid === b.gid && JSON.stringify(a.xattrs ?? {}) === JSON.stringify(b.xattrs ?? {});
}
