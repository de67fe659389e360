// Short human phrases for inspect's findings; the CLI lays them out. Byte counts are formatted by
// the caller's function so this folder does not depend on the CLI's.
import { displayPath } from '../layer/names.js';
import type { Removal } from './fold.js';
import type { PathEvent } from './path-history.js';

export type FormatBytes = (n: number) => string;

export function showPath(path: string): string {
  return `/${displayPath(path)}`;
}

/** Why `path` left the tree, in words. */
export function removalText(cause: Removal, path: string): string {
  const at = showPath(cause.at);
  if (cause.how === 'whiteout') return cause.at === path ? 'whited out' : `parent ${at} whited out`;
  if (cause.how === 'opaque') return `parent ${at} made opaque (emptied)`;
  return cause.at === path ? 'replaced' : `parent ${at} replaced by a non-directory`;
}

/** `file 1.20 kB 0644 0:0`, `symlink -> target`, `dir 0755 0:0`. */
export function stateText(s: Pick<PathEvent, 'type' | 'size' | 'linkname' | 'mode' | 'uid' | 'gid'>, bytes: FormatBytes): string {
  const mode = s.mode === undefined ? '' : ` ${octal(s.mode)} ${s.uid}:${s.gid}`;
  if (s.type === 'file') return `file ${bytes(s.size ?? 0)}${mode}`;
  if (s.type === 'symlink') return `symlink -> ${displayPath(s.linkname ?? '')}`;
  return `${s.type}${mode}`;
}

export function describeEvent(e: PathEvent, path: string, bytes: FormatBytes): string {
  const b = e.before;
  switch (e.kind) {
    case 'created':
    case 'recreated':
      return stateText(e, bytes) + (e.implied ? ' (implied by a deeper entry)' : '');
    case 'deleted':
      return e.cause ? removalText(e.cause, path) : 'deleted';
    case 'type-changed':
      return `${b ? stateText(b, bytes) : '?'} => ${stateText(e, bytes)}`;
    case 'modified':
      if (e.type === 'symlink') return `target ${displayPath(b?.linkname ?? '')} -> ${displayPath(e.linkname ?? '')}`;
      return e.type === 'file' ? `content, ${bytes(b?.size ?? 0)} -> ${bytes(e.size ?? 0)}` : 'device numbers';
    case 'metadata':
      return metadataText(e);
    case 'touched':
      return e.type === 'dir' ? 'declared again (same mode and owner)' : 'stored again, same content and metadata';
  }
}

function metadataText(e: PathEvent): string {
  const b = e.before;
  const parts: string[] = [];
  if (b && b.mode !== e.mode) parts.push(`chmod ${octal(b.mode)} -> ${octal(e.mode ?? 0)}`);
  if (b && (b.uid !== e.uid || b.gid !== e.gid)) parts.push(`chown ${b.uid}:${b.gid} -> ${e.uid}:${e.gid}`);
  return parts.length > 0 ? parts.join(', ') : 'xattrs changed';
}

function octal(mode: number): string {
  return mode.toString(8).padStart(4, '0');
}

/** `2024-01-17 21:49:12` from an RFC 3339 time (UTC, seconds); anything unparsable as given. */
export function timeText(rfc3339: string): string {
  const m = /^(\d{4,}-\d\d-\d\d)T(\d\d:\d\d:\d\d)/.exec(rfc3339);
  if (!m) return rfc3339;
  const d = new Date(rfc3339);
  if (Number.isNaN(d.getTime()) || /[zZ]$/.test(rfc3339)) return `${m[1]} ${m[2]}`;
  return d.toISOString().replace('T', ' ').slice(0, 19);
}

/** `layer 3 (RUN rm -rf /x)` namer for messages, from the config's history. */
export function layerNamer(createdBy: readonly (string | undefined)[]): (layer: number) => string {
  return (layer) => {
    const by = createdBy[layer]?.replace(/\s+/g, ' ').trim();
    return `layer ${layer + 1}${by ? ` (${by.length > 80 ? `${by.slice(0, 79)}…` : by})` : ''}`;
  };
}

/** A bar of up to `width` cells for value/max, at least one cell for any non-zero value. */
export function sizeBar(value: number, max: number, width = 12): string {
  if (max <= 0 || value <= 0) return '';
  const eighths = Math.max(1, Math.round((value / max) * width * 8));
  const partial = ['', '▏', '▎', '▍', '▌', '▋', '▊', '▉'][eighths % 8];
  return '█'.repeat(Math.floor(eighths / 8)) + partial;
}
