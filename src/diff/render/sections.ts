// Human text for the layers, size, config, history and packages sections.
import type { ConfigChange, HistoryStep, LayerReport, LayerRow, PackageChange, SizeReport } from '../types.js';
import { bytes, compression, type Paint, plural, shortCommand, shortHex, signedBytes, truncate } from './format.js';

export function layersHeadline(r: LayerReport, oldCount: number, newCount: number): string {
  const counts = `${r.shared} shared, ${r.oldOnly} only in old, ${r.newOnly} only in new`;
  const base = r.commonBase;
  let shape: string;
  if (base === oldCount && base === newCount) shape = 'same layers';
  else if (base === 0) shape = 'no common base';
  else if (base === oldCount) shape = `base unchanged, ${plural(newCount - base, 'layer')} added on top`;
  else if (base === newCount) shape = `base unchanged, top ${plural(oldCount - base, 'layer')} dropped`;
  else if (oldCount - base === newCount - base) shape = `base unchanged, top ${plural(oldCount - base, 'layer')} rebuilt`;
  else shape = `base unchanged, top ${plural(oldCount - base, 'layer')} replaced by ${newCount - base}`;
  return `${counts}: ${shape}`;
}

export function renderLayers(r: LayerReport, p: Paint): string[] {
  const lines = r.rows.map((row) => layerLine(row, p));
  if (r.recompressed > 0) {
    lines.push(`  ${p.yellow(`${plural(r.recompressed, 'shared layer')} re-compressed: same diffID (same tar), different blob digest`)}`);
  }
  return lines;
}

function layerLine(row: LayerRow, p: Paint): string {
  const l = (row.new ?? row.old)!;
  const pos = row.status === 'shared' ? `${row.old!.position + 1}=${row.new!.position + 1}` : row.status === 'old-only' ? `${row.old!.position + 1}` : `${row.new!.position + 1}`;
  const mark = row.status === 'shared' ? (row.recompressed ? p.yellow('~') : p.dim('=')) : row.status === 'old-only' ? p.red('-') : p.green('+');
  const cmd = l.createdBy !== undefined ? `  ${shortCommand(l.createdBy, 60)}` : '';
  let line = `  ${mark} ${pos.padEnd(5)} ${shortHex(l.diffID)}  ${bytes(l.size).padStart(9)}${cmd}`;
  if (row.recompressed) {
    line += p.yellow(`  (re-compressed: ${compression(row.old!.mediaType)} ${shortHex(row.old!.digest)} → ${compression(row.new!.mediaType)} ${shortHex(row.new!.digest)})`);
  }
  return line;
}

export function renderSize(s: SizeReport, p: Paint, limit: number | undefined): string[] {
  const lines: string[] = [];
  const dirs = s.byTopLevel.filter((e) => e.delta !== 0);
  if (dirs.length) lines.push('  by top-level directory:', ...truncate(dirs.map((e) => `    ${e.path.padEnd(16)} ${bytes(e.old)} → ${bytes(e.new)} (${signedBytes(e.delta)})`), limit, p));
  if (s.largest.length) {
    const rows = s.largest.slice(0, limit === undefined ? undefined : 10).map((e) => `    ${signedBytes(e.delta).padStart(10)}  ${e.status} ${e.path}`);
    lines.push('  largest changes:', ...rows);
  }
  return lines;
}

const FIELD_NAMES: Record<ConfigChange['field'], string> = {
  env: 'env',
  entrypoint: 'entrypoint',
  cmd: 'cmd',
  user: 'user',
  workdir: 'workdir',
  exposedPorts: 'port',
  volumes: 'volume',
  labels: 'label',
  stopSignal: 'stop signal',
  platform: 'platform',
};

export function renderConfig(changes: readonly ConfigChange[], p: Paint, limit: number | undefined): string[] {
  return truncate(changes.map((c) => configLine(c, p)), limit, p);
}

function configLine(c: ConfigChange, p: Paint): string {
  const name = FIELD_NAMES[c.field];
  const show = (v: string | string[] | null): string => (v === null ? '(none)' : Array.isArray(v) ? JSON.stringify(v) : v);
  if (c.field === 'exposedPorts' || c.field === 'volumes') {
    return c.change === 'added' ? `  ${p.green('+')} ${name} ${c.key}` : `  ${p.red('-')} ${name} ${c.key}`;
  }
  if (c.key !== undefined) {
    if (c.change === 'added') return `  ${p.green('+')} ${name} ${c.key}=${c.new}`;
    if (c.change === 'removed') return `  ${p.red('-')} ${name} ${c.key}=${c.old}`;
    return `  ${p.yellow('~')} ${name} ${c.key}: ${c.old} → ${c.new}`;
  }
  return `  ${p.yellow('~')} ${name}: ${show(c.old)} → ${show(c.new)}`;
}

/** Runs of unchanged steps longer than this are folded to one line. */
const SAME_RUN = 2;

export function renderHistory(steps: readonly HistoryStep[], p: Paint, limit: number | undefined): string[] {
  const lines: string[] = [];
  for (let i = 0; i < steps.length; ) {
    let j = i;
    while (j < steps.length && steps[j].op === 'same') j++;
    if (j - i > SAME_RUN) lines.push(p.dim(`    … ${j - i} unchanged steps`));
    else for (let k = i; k < j; k++) lines.push(historyLine(steps[k], p));
    if (j < steps.length) lines.push(historyLine(steps[j], p));
    i = j + 1;
  }
  return truncate(lines, limit, p);
}

function historyLine(s: HistoryStep, p: Paint): string {
  const text = (x: NonNullable<HistoryStep['old']>): string => `${shortCommand(x.createdBy, 90)}${x.emptyLayer ? p.dim(' (no layer)') : ''}`;
  if (s.op === 'same') return p.dim(`    ${text(s.new!)}`);
  if (s.op === 'inserted') return `  ${p.green('+')} ${text(s.new!)}`;
  if (s.op === 'removed') return `  ${p.red('-')} ${text(s.old!)}`;
  const [o, n] = differingWindows(shortCommand(s.old!.createdBy, Infinity), shortCommand(s.new!.createdBy, Infinity), 90);
  const tag = (x: NonNullable<HistoryStep['old']>): string => (x.emptyLayer ? p.dim(' (no layer)') : '');
  return `  ${p.yellow('~')} ${o}${tag(s.old!)}\n    ${p.yellow('→')} ${n}${tag(s.new!)}`;
}

/** Two long commands that differ near their end are shown around the first difference, not cut before it. */
export function differingWindows(a: string, b: string, max: number): [string, string] {
  let i = 0;
  while (i < a.length && i < b.length && a[i] === b[i]) i++;
  const start = i > max - 30 ? i - 30 : 0;
  const cut = (s: string): string => {
    const body = start > 0 ? `${s.slice(0, 24)} … ${s.slice(start)}` : s;
    return body.length > max ? `${body.slice(0, max - 1)}…` : body;
  };
  return [cut(a), cut(b)];
}

export function renderPackages(changes: readonly PackageChange[], p: Paint, limit: number | undefined): string[] {
  const lines = changes.map((c) => {
    if (c.change === 'added') return `  ${p.green('+')} ${c.name} ${c.new}  ${p.dim(c.ecosystem)}`;
    if (c.change === 'removed') return `  ${p.red('-')} ${c.name} ${c.old}  ${p.dim(c.ecosystem)}`;
    return `  ${p.yellow('~')} ${c.name} ${c.old} → ${c.new}  ${p.dim(c.ecosystem)}`;
  });
  return truncate(lines, limit, p);
}
