// Rows for `stratum ls`: the merged tree (or a subtree) and one layer's own changeset.
import type { EntryKind, LayerIndex } from '../layer/entry.js';
import { cleanName, comparePaths, joinPath } from '../layer/names.js';
import type { DirNode, TreeNode } from '../tree/types.js';
import { walkTree } from '../tree/walk.js';

export interface ListRow {
  /** Cleaned byte-string path ('' is the root). */
  path: string;
  kind: EntryKind;
  mode: number;
  uid: number;
  gid: number;
  size: number;
  mtime: number;
  linkname?: string;
  devmajor?: number;
  devminor?: number;
  /** 0-based layer that made it what it is; undefined for an implied directory or the root. */
  layer?: number;
}

export interface ListOptions {
  recursive?: boolean;
  /** Keeps only rows whose path matches (see globMatcher). */
  match?: (path: string) => boolean;
}

/** A directory lists its children (all descendants when recursive); anything else lists itself. */
export function listTree(node: TreeNode, path: string, opts: ListOptions = {}): ListRow[] {
  if (node.kind !== 'dir') return keep([treeRow(path, node)], opts);
  const rows: ListRow[] = [];
  if (opts.recursive) for (const item of walkTree(node)) rows.push(treeRow(joinPath(path, item.path), item.node));
  else for (const name of [...node.children.keys()].sort(comparePaths)) rows.push(treeRow(joinPath(path, name), node.children.get(name)!));
  return keep(rows, opts);
}

export function treeRow(path: string, node: TreeNode): ListRow {
  if (node.kind === 'dir') return { path, kind: 'dir', ...metaFields(node), size: 0, layer: node.layer >= 0 ? node.layer : undefined };
  const i = node.inode;
  const row: ListRow = { path, kind: i.kind, mode: i.meta.mode, uid: i.meta.uid, gid: i.meta.gid, mtime: i.meta.mtime, size: i.size, layer: i.layer };
  if (i.linkname !== undefined) row.linkname = i.linkname;
  if (i.devmajor !== undefined) (row.devmajor = i.devmajor), (row.devminor = i.devminor);
  return row;
}

function metaFields(dir: DirNode): Pick<ListRow, 'mode' | 'uid' | 'gid' | 'mtime'> {
  return { mode: dir.meta.mode, uid: dir.meta.uid, gid: dir.meta.gid, mtime: dir.meta.mtime };
}

/**
 * One layer's entries at or under `under`, sorted: a changeset is flat, so this is always recursive.
 * Whiteouts and opaque markers are rows of their own kind.
 */
export function listLayer(index: LayerIndex, layer: number, under: string, opts: ListOptions = {}): ListRow[] {
  const root = cleanName(under).path;
  const inside = (p: string) => root === '' || p === root || p.startsWith(`${root}/`);
  const rows = index.entries
    .filter((e) => inside(e.path))
    .map((e): ListRow => {
      const row: ListRow = { path: e.path, kind: e.kind, mode: e.mode, uid: e.uid, gid: e.gid, size: e.size, mtime: e.mtime, layer };
      if (e.linkname !== undefined) row.linkname = e.linkname;
      if (e.devmajor !== undefined) (row.devmajor = e.devmajor), (row.devminor = e.devminor);
      return row;
    })
    .sort((a, b) => comparePaths(a.path, b.path) || markerFirst(a.kind) - markerFirst(b.kind));
  return keep(rows, opts);
}

function markerFirst(kind: EntryKind): number {
  return kind === 'whiteout' || kind === 'opaque' ? 0 : 1;
}

function keep(rows: ListRow[], opts: ListOptions): ListRow[] {
  return opts.match ? rows.filter((r) => opts.match!(r.path)) : rows;
}

const TYPE_CHAR: Record<EntryKind, string> = { dir: 'd', file: '-', symlink: 'l', hardlink: 'h', char: 'c', block: 'b', fifo: 'p', whiteout: 'w', opaque: 'o' };

/** `drwxr-xr-x`, with s/S/t/T for setuid, setgid and sticky, as ls prints them. */
export function modeString(kind: EntryKind, mode: number): string {
  const rwx = (shift: number, special: boolean, on: string, off: string): string => {
    const bits = (mode >> shift) & 7;
    const x = bits & 1 ? (special ? on : 'x') : special ? off : '-';
    return `${bits & 4 ? 'r' : '-'}${bits & 2 ? 'w' : '-'}${x}`;
  };
  return TYPE_CHAR[kind] + rwx(6, (mode & 0o4000) !== 0, 's', 'S') + rwx(3, (mode & 0o2000) !== 0, 's', 'S') + rwx(0, (mode & 0o1000) !== 0, 't', 'T');
}

/**
 * A shell-style glob over image paths. A pattern with a `/` matches the whole path (a leading `/`
 * is optional); one without matches the last component, as `find -name`. `*` and `?` stay within
 * one component, `**` crosses them, `[...]` is a byte class. The pattern is UTF-8, paths are byte strings.
 */
export function globMatcher(pattern: string): (path: string) => boolean {
  const bytes = Buffer.from(pattern, 'utf8').toString('latin1');
  const whole = bytes.includes('/');
  const re = new RegExp(`^${globSource(whole ? bytes.replace(/^\/+/, '') : bytes)}$`, 's');
  return (path) => re.test(whole ? path : path.slice(path.lastIndexOf('/') + 1));
}

function globSource(glob: string): string {
  let out = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i];
    if (c === '*' && glob[i + 1] === '*') {
      // `**/` also matches no directory at all, so `a/**/b` matches `a/b`.
      const slash = glob[i + 2] === '/';
      out += slash ? '(?:.*/)?' : '.*';
      i += slash ? 2 : 1;
    } else if (c === '*') out += '[^/]*';
    else if (c === '?') out += '[^/]';
    else if (c === '[') {
      const end = glob.indexOf(']', i + 2);
      if (end < 0) out += '\\[';
      else {
        const body = glob.slice(i + 1, end).replace(/^!/, '^').replace(/\\/g, '\\\\');
        out += `[${body}]`;
        i = end;
      }
    } else if (c === '\\' && i + 1 < glob.length) out += escape(glob[++i]);
    else out += escape(c);
  }
  return out;
}

function escape(c: string): string {
  return /[.*+?^${}()|[\]\\/]/.test(c) ? `\\${c}` : c;
}
