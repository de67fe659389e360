// --content PATH: one file compared between the images as a unified diff (3 lines of context), the only
// place diff reads file bytes. A NUL in the first 8000 bytes means binary, as git decides.
import { LimitError } from '../errors.js';
import { cleanName } from '../layer/names.js';
import type { Inode, PlannedTree } from '../tree/types.js';
import { lookup } from '../tree/resolve.js';
import type { ReadInode } from './packages/index.js';
import { nodeKind, showPath } from './paths.js';
import { diffSequences, type Edit } from './sequence.js';
import type { ContentDiff } from './types.js';

const CONTEXT = 3;
const MAX_TEXT_BYTES = 32 * 1024 * 1024;

export interface ContentSide {
  tree: PlannedTree;
  read: ReadInode;
}

/** path is what the user typed (UTF-8, with or without a leading '/'). */
export async function diffContent(path: string, oldSide: ContentSide, newSide: ContentSide): Promise<ContentDiff> {
  const raw = cleanName(Buffer.from(path, 'utf8').toString('latin1')).path;
  const o = find(oldSide.tree, raw);
  const n = find(newSide.tree, raw);
  const result: ContentDiff = { path: showPath(raw), old: describe(o), new: describe(n), identical: false, binary: false };
  result.identical = result.old.exists === result.new.exists && result.old.kind === result.new.kind && result.old.sha256 === result.new.sha256;
  const oFile = o?.kind === 'file' ? o : undefined;
  const nFile = n?.kind === 'file' ? n : undefined;
  if (result.identical || (!oFile && !nFile)) {
    if (result.identical) result.unified = '';
    return result;
  }
  const ob = oFile ? await readText(oFile, oldSide.read, raw) : Buffer.alloc(0);
  const nb = nFile ? await readText(nFile, newSide.read, raw) : Buffer.alloc(0);
  result.binary = isBinary(ob) || isBinary(nb);
  if (!result.binary && (oFile || !o) && (nFile || !n)) {
    result.unified = unifiedDiff(ob.toString('utf8'), nb.toString('utf8'), oFile ? `old${result.path}` : '/dev/null', nFile ? `new${result.path}` : '/dev/null');
  }
  return result;
}

function find(tree: PlannedTree, raw: string): Inode | { kind: 'dir' } | undefined {
  const r = lookup(tree.root, raw, { followLast: true });
  if (!r) return undefined;
  return r.node.kind === 'dir' ? { kind: 'dir' } : r.node.inode;
}

function describe(x: Inode | { kind: 'dir' } | undefined): ContentDiff['old'] {
  if (!x) return { exists: false };
  if (x.kind === 'dir') return { exists: true, kind: 'dir' };
  const d: ContentDiff['old'] = { exists: true, kind: nodeKind({ kind: 'leaf', inode: x }) };
  if (x.kind === 'file') {
    d.size = x.size;
    if (x.sha256) d.sha256 = x.sha256;
  }
  return d;
}

async function readText(inode: Inode, read: ReadInode, raw: string): Promise<Buffer> {
  if (inode.size > MAX_TEXT_BYTES) throw new LimitError(`/${raw}: ${inode.size} bytes, over the ${MAX_TEXT_BYTES}-byte limit for --content`, { path: raw });
  return read(inode);
}

export function isBinary(b: Buffer): boolean {
  return b.subarray(0, 8000).includes(0);
}

interface Lines {
  lines: string[];
  /** The last line has no '\n' after it. */
  noEol: boolean;
}

function splitLines(text: string): Lines {
  if (text === '') return { lines: [], noEol: false };
  const lines = text.split('\n');
  const noEol = lines[lines.length - 1] !== '';
  if (!noEol) lines.pop();
  return { lines, noEol };
}

/** A unified diff of two texts; '' when they are equal. */
export function unifiedDiff(oldText: string, newText: string, oldName: string, newName: string): string {
  const a = splitLines(oldText);
  const b = splitLines(newText);
  // A last line without its newline differs from the same line with one, as in diff(1).
  const keyed = (x: Lines): string[] => x.lines.map((l, i) => (x.noEol && i === x.lines.length - 1 ? `${l}\0` : l));
  const edits = diffSequences(keyed(a), keyed(b), (s) => s);
  const hunks = groupHunks(edits);
  if (hunks.length === 0) return '';
  let out = `--- ${oldName}\n+++ ${newName}\n`;
  for (const h of hunks) out += formatHunk(h, a, b);
  return out;
}

function groupHunks(edits: Edit[]): Edit[][] {
  const hunks: Edit[][] = [];
  let start = -1;
  let lastChange = -1;
  for (let i = 0; i < edits.length; i++) {
    if (edits[i].op === '=') continue;
    if (start >= 0 && i - lastChange > 2 * CONTEXT) {
      hunks.push(edits.slice(start, lastChange + CONTEXT + 1));
      start = -1;
    }
    if (start < 0) start = Math.max(0, i - CONTEXT);
    lastChange = i;
  }
  if (start >= 0) hunks.push(edits.slice(start, Math.min(edits.length, lastChange + CONTEXT + 1)));
  return hunks;
}

function formatHunk(h: Edit[], a: Lines, b: Lines): string {
  const oldCount = h.filter((e) => e.op !== '+').length;
  const newCount = h.filter((e) => e.op !== '-').length;
  const range = (start: number, count: number): string => (count === 1 ? `${start + 1}` : `${count === 0 ? start : start + 1},${count}`);
  let out = `@@ -${range(h[0].a, oldCount)} +${range(h[0].b, newCount)} @@\n`;
  for (const e of h) {
    const [src, idx, mark] = e.op === '+' ? [b, e.b, '+'] : e.op === '-' ? [a, e.a, '-'] : [a, e.a, ' '];
    out += `${mark}${src.lines[idx]}\n`;
    if (src.noEol && idx === src.lines.length - 1) out += '\\ No newline at end of file\n';
  }
  return out;
}
