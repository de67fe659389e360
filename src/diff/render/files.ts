// The Files section: one line per change saying what differs and which layer made it so. Below an added
// or removed directory the entries that came or went with it are folded into its line.
import type { Attribution, Detail, FileChange } from '../types.js';
import { bytes, type Paint, plural, shortCommand, truncate } from './format.js';

export function renderFiles(changes: readonly FileChange[], p: Paint, limit: number | undefined): string[] {
  const lines: string[] = [];
  for (const { change, folded } of fold(changes)) lines.push(fileLine(change, folded, p));
  return truncate(lines, limit, p);
}

/** Entries below a directory that was added (or removed, or changed type) share its fate: one line. */
function fold(changes: readonly FileChange[]): { change: FileChange; folded: number }[] {
  const out: { change: FileChange; folded: number }[] = [];
  let open: { prefix: string; status: 'A' | 'D'; row: { folded: number } } | undefined;
  for (const c of changes) {
    if (open && c.path.startsWith(open.prefix) && c.status === open.status) {
      open.row.folded++;
      continue;
    }
    const row = { change: c, folded: 0 };
    out.push(row);
    const gone = c.kind.old === 'dir' && (c.status === 'D' || c.status === 'T');
    const came = c.kind.new === 'dir' && (c.status === 'A' || c.status === 'T');
    open = gone || came ? { prefix: c.path === '/' ? '/' : `${c.path}/`, status: gone ? 'D' : 'A', row } : open && c.path.startsWith(open.prefix) ? open : undefined;
  }
  return out;
}

const MARK: Record<FileChange['status'], (p: Paint) => (s: string) => string> = {
  A: (p) => p.green,
  D: (p) => p.red,
  M: (p) => p.yellow,
  T: (p) => p.cyan,
};

function fileLine(c: FileChange, folded: number, p: Paint): string {
  const color = MARK[c.status](p);
  const isDir = (c.kind.new ?? c.kind.old) === 'dir' && c.status !== 'T';
  const name = `${c.path}${isDir && c.path !== '/' ? '/' : ''}`;
  const what = c.status === 'A' || c.status === 'D' ? describeEntry(c, folded) : c.details.map((d) => (d.field === 'content' ? contentText(c, d) : detailText(d))).join(', ');
  const by = c.attribution ? `  ${p.dim(attributionText(c.attribution))}` : '';
  return `  ${color(c.status)} ${name}  ${what}${by}`;
}

function describeEntry(c: FileChange, folded: number): string {
  const kind = c.kind.new ?? c.kind.old ?? 'file';
  const size = c.size.new ?? c.size.old ?? 0;
  if (kind === 'file') return bytes(size);
  if (kind === 'dir') return folded > 0 ? `(with ${plural(folded, 'entry', 'entries')})` : '(empty dir)';
  return kind;
}

export function attributionText(a: Attribution): string {
  const cmd = a.createdBy !== undefined ? `: ${shortCommand(a.createdBy, 56)}` : '';
  return `[${a.side === 'old' ? 'old ' : ''}layer ${a.layer + 1}${cmd}]`;
}

export function detailText(d: Detail): string {
  switch (d.field) {
    case 'content':
      return 'content';
    case 'size':
      return `size ${bytes(Number(d.old))}→${bytes(Number(d.new))}`;
    case 'xattr':
      return `xattr ${d.name} ${d.old === null ? 'added' : d.new === null ? 'removed' : 'changed'}`;
    case 'links':
      return linksText(d.old as string[], d.new as string[]);
    case 'mtime':
      return `mtime ${isoTime(Number(d.old))}→${isoTime(Number(d.new))}`;
    case 'type':
      return `type ${d.old}→${d.new}`;
    default:
      return `${d.field} ${d.old}→${d.new}`;
  }
}

function linksText(o: string[], n: string[]): string {
  const joined = n.filter((x) => !o.includes(x)).map((x) => `+${x}`);
  const left = o.filter((x) => !n.includes(x)).map((x) => `-${x}`);
  return `hardlinks ${o.length}→${n.length} names (${[...joined, ...left].join(' ')})`;
}

function isoTime(seconds: number): string {
  return Number.isFinite(seconds) ? new Date(seconds * 1000).toISOString().replace('.000Z', 'Z') : String(seconds);
}

/** A size change tells the story; at the same size the hashes are the only evidence, so show them. */
function contentText(c: FileChange, d: Detail): string {
  if (c.details.some((x) => x.field === 'size')) return 'content';
  return `content sha256 ${String(d.old).slice(0, 8)}…→${String(d.new).slice(0, 8)}… (same size)`;
}
