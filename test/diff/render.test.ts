// The human renderer: folding below added/removed directories, truncation and --all, colors.
import { describe, expect, it } from 'vitest';
import { labelsFor } from '../../src/diff/attribution.js';
import { diffFiles } from '../../src/diff/files.js';
import { renderHuman, summaryLine } from '../../src/diff/render/human.js';
import { renderNameStatus } from '../../src/diff/render/name-status.js';
import { summarize } from '../../src/diff/summary.js';
import type { DiffReport } from '../../src/diff/types.js';
import type { ImageConfig } from '../../src/spec/types.js';
import { d, f, type Item, plan, wh } from '../helpers/layers.js';

const img = { ref: 'x', names: [], manifestDigest: `sha256:${'a'.repeat(64)}`, configDigest: `sha256:${'b'.repeat(64)}`, platform: 'linux/amd64', layers: 1 };

function report(oldItems: Item[], newItems: Item[]): DiffReport {
  const labels = (side: 'old' | 'new') => labelsFor(side, { history: [{ created_by: `/bin/sh -c #(nop) COPY ${side}` }] } as ImageConfig, [`sha256:${'c'.repeat(64)}`]);
  const files = diffFiles(plan([oldItems]), plan([newItems]), { oldLabels: labels('old'), newLabels: labels('new') });
  return summarize({
    schemaVersion: 1, old: img, new: img, identical: true, sections: ['files'],
    summary: { layers: null, files: null, config: null, history: null, packages: null },
    layers: null, files: files.changes, size: files.size, config: null, history: null, packages: null, content: null, warnings: [],
  });
}

const many = (n: number, prefix: string) => Array.from({ length: n }, (_, i) => f(`${prefix}/f${String(i).padStart(3, '0')}`, `${i}`));

describe('renderHuman', () => {
  it('folds the entries below an added or removed directory into its line', () => {
    const r = report([d('gone/'), ...many(3, 'gone'), f('keep', 'k')], [d('new/'), d('new/sub/'), ...many(2, 'new/sub'), f('keep', 'k'), wh('gone')]);
    const text = renderHuman(r, { color: false });
    expect(text.split('\n').filter((l) => l.startsWith('  ') && /^ {2}[ADMT] /.test(l))).toEqual([
      '  D /gone/  (with 3 entries)  [old layer 1: COPY old]',
      '  A /new/  (with 3 entries)  [layer 1: COPY new]',
    ]);
    expect(renderNameStatus(r).split('\n')).toHaveLength(3 + 1 + 4 + 1);
  });

  it('truncates long lists with a count, and --all shows everything', () => {
    const r = report([d('a/')], [d('a/'), ...many(55, 'a')]);
    const lines = renderHuman(r, { color: false }).split('\n');
    expect(lines.filter((l) => /^ {2}A /.test(l))).toHaveLength(40);
    expect(lines).toContain('  … and 15 more (--all shows everything)');
    expect(renderHuman(r, { color: false, all: true }).split('\n').filter((l) => /^ {2}A /.test(l))).toHaveLength(55);
  });

  it('colors statuses only when asked', () => {
    const r = report([f('x', '1')], [f('x', '2'), f('y', '3')]);
    const colored = renderHuman(r, { color: true });
    expect(colored).toContain('\x1b[32mA\x1b[0m /y');
    expect(colored).toContain('\x1b[33mM\x1b[0m /x');
    expect(renderHuman(r, { color: false })).not.toContain('\x1b[');
  });

  it('starts with a one-line summary', () => {
    expect(summaryLine(report([f('x', '1')], [f('x', '1')]))).toBe('identical: no differences in files');
    expect(summaryLine(report([f('x', '1')], [f('x', '22'), f('y', '3')]))).toBe('differ: files 1 added, 1 modified (+2 B)');
  });
});
