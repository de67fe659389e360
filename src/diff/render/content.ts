// --content output: the unified diff itself, as diff -u prints it, or one line saying why there is none.
import type { ContentDiff } from '../types.js';
import { paint } from './format.js';

export function renderContent(c: ContentDiff, color: boolean): string {
  const p = paint(color);
  if (c.identical) return '';
  if (c.binary) return `Binary file ${c.path} differs (old sha256 ${c.old.sha256 ?? '-'}, new sha256 ${c.new.sha256 ?? '-'})\n`;
  if (c.unified === undefined) return `${c.path}: ${side(c.old)} in old, ${side(c.new)} in new\n`;
  return c.unified
    .split('\n')
    .map((l) => (l.startsWith('@@') ? p.cyan(l) : l.startsWith('+') ? p.green(l) : l.startsWith('-') ? p.red(l) : l))
    .join('\n');
}

function side(s: ContentDiff['old']): string {
  if (!s.exists) return 'absent';
  return s.kind === 'file' ? `a file (sha256 ${s.sha256 ?? '-'})` : `a ${s.kind}`;
}
