// Path resolution inside a planned tree with chroot semantics: symlinks are followed inside the
// image root (absolute targets start at the root, '..' stops at it), never on the host.
import { type ErrorContext, FormatError, type StratumError, UnsafeEntryError } from '../errors.js';
import { displayPath, joinPath } from '../layer/names.js';
import type { DirNode, TreeNode } from './types.js';

/** Linux and continuity's RootPath give up after this many links in one resolution. */
export const MAX_SYMLINK_HOPS = 255;
/** Linux cannot store a longer target (PATH_MAX - 1); following one would only cost time. */
export const MAX_SYMLINK_TARGET = 4095;

export interface ResolveOptions {
  /** Follow a symlink in the last position too (parents are always followed). */
  followLast: boolean;
  /** Called for each missing component, which then becomes the returned directory (implied parents). */
  create?: () => DirNode;
}

export type ResolveFailure = 'missing' | 'not-dir' | 'loop' | 'target-too-long';

export type Resolved =
  | { ok: true; node: TreeNode; path: string }
  /** `path` is where resolution stopped, as resolved so far. */
  | { ok: false; reason: ResolveFailure; path: string };

/** Resolves `path` (any spelling: leading '/', '.', '..' are fine) starting at the root. */
export function resolvePath(root: DirNode, path: string, opts: ResolveOptions): Resolved {
  return resolveDirect(root, path, opts) ?? resolveGeneral(root, path, opts);
}

/**
 * The common case without the bookkeeping: a clean path (no '', '.' or '..' component) walked through directories
 * only. Undefined as soon as it meets anything else (a symlink to follow, an odd component); the general walk then
 * starts over, and sees the same tree, since the only change made here is implied directories it would create too.
 * Index paths are clean and mostly reach no symlink, and a planner that resolves each entry's parent in full spends
 * most of a first (not yet optimised) run allocating component arrays.
 */
function resolveDirect(root: DirNode, path: string, opts: ResolveOptions): Resolved | undefined {
  if (path === '') return { ok: true, node: root, path: '' };
  let dir = root;
  let start = 0;
  for (;;) {
    const slash = path.indexOf('/', start);
    const end = slash < 0 ? path.length : slash;
    const name = path.slice(start, end);
    if (name === '' || name === '.' || name === '..') return undefined;
    const child = childOf(dir, name, opts.create);
    if (child === undefined) return { ok: false, reason: 'missing', path: path.slice(0, end) };
    if (slash < 0) {
      if (child.kind === 'leaf' && opts.followLast && child.inode.kind === 'symlink') return undefined;
      return { ok: true, node: child, path };
    }
    if (child.kind !== 'dir') return child.inode.kind === 'symlink' ? undefined : { ok: false, reason: 'not-dir', path: path.slice(0, end) };
    dir = child;
    start = slash + 1;
  }
}

function resolveGeneral(root: DirNode, path: string, opts: ResolveOptions): Resolved {
  const dirs: DirNode[] = [root];
  const names: string[] = [];
  const pending = components(path).reverse();
  let hops = 0;
  while (pending.length > 0) {
    const name = pending.pop()!;
    if (name === '..') {
      if (names.length > 0) {
        dirs.pop();
        names.pop();
      }
      continue;
    }
    const child = childOf(dirs[dirs.length - 1], name, opts.create);
    if (child === undefined) return { ok: false, reason: 'missing', path: at(names, name) };
    if (child.kind === 'dir') {
      dirs.push(child);
      names.push(name);
      continue;
    }
    const last = pending.length === 0;
    const target = child.inode.kind === 'symlink' && (!last || opts.followLast) ? child.inode.linkname ?? '' : undefined;
    if (target === undefined) return last ? { ok: true, node: child, path: at(names, name) } : { ok: false, reason: 'not-dir', path: at(names, name) };
    if (++hops > MAX_SYMLINK_HOPS) return { ok: false, reason: 'loop', path: at(names, name) };
    if (target.length > MAX_SYMLINK_TARGET) return { ok: false, reason: 'target-too-long', path: at(names, name) };
    if (target.startsWith('/')) {
      dirs.length = 1;
      names.length = 0;
    }
    const parts = components(target);
    for (let i = parts.length - 1; i >= 0; i--) pending.push(parts[i]);
  }
  return { ok: true, node: dirs[dirs.length - 1], path: names.join('/') };
}

/**
 * Looks a path up for reading (`stratum cat`): undefined when it does not exist.
 * Throws for a symlink loop (UnsafeEntryError) or a target too long to follow.
 */
export function lookup(root: DirNode, path: string, opts: { followLast: boolean }): { node: TreeNode; path: string } | undefined {
  const r = resolvePath(root, path, { followLast: opts.followLast });
  if (r.ok) return { node: r.node, path: r.path };
  if (r.reason === 'loop' || r.reason === 'target-too-long') throw resolveError(r.reason, r.path, displayPath(path), { path });
  return undefined;
}

/** The error for a resolution that cannot end; `where` is display text (e.g. "layer 2: etc/x"), `at` where it stopped. */
export function resolveError(reason: 'loop' | 'target-too-long', at: string, where: string, context: ErrorContext): StratumError {
  const ctx = { ...context, at };
  if (reason === 'loop') {
    return new UnsafeEntryError(`${where}: symlink loop (more than ${MAX_SYMLINK_HOPS} links followed) at ${displayPath(at)}`, ctx, 'E_SYMLINK_LOOP');
  }
  return new FormatError(`${where}: symlink ${displayPath(at)} has a target longer than ${MAX_SYMLINK_TARGET} bytes`, ctx, 'E_SYMLINK_TOO_LONG');
}

function childOf(dir: DirNode, name: string, create: (() => DirNode) | undefined): TreeNode | undefined {
  const child = dir.children.get(name);
  if (child !== undefined || create === undefined) return child;
  const made = create();
  dir.children.set(name, made);
  return made;
}

function at(names: readonly string[], name: string): string {
  return joinPath(names.join('/'), name);
}

function components(path: string): string[] {
  return path.split('/').filter((c) => c !== '' && c !== '.');
}
