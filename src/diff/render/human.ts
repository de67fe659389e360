// The human report: a one-line summary, the two images, then one group per compared section.
import type { DiffReport, DiffSummary, ImageSummary } from '../types.js';
import { renderFiles } from './files.js';
import { bytes, paint, type Paint, plural, shortHex, signedBytes } from './format.js';
import { layersHeadline, renderConfig, renderHistory, renderLayers, renderPackages, renderSize } from './sections.js';

export interface HumanOptions {
  color: boolean;
  /** Show every line instead of the first `limit` of each list. */
  all?: boolean;
  limit?: number;
}

const DEFAULT_LIMIT = 40;

export function renderHuman(r: DiffReport, opts: HumanOptions): string {
  const p = paint(opts.color);
  const limit = opts.all ? undefined : (opts.limit ?? DEFAULT_LIMIT);
  const out: string[] = [p.bold(summaryLine(r)), imageLine('old', r.old, p), imageLine('new', r.new, p)];
  const group = (title: string, body: string[]): void => {
    out.push('', `${p.bold(title)}`, ...body);
  };
  if (r.layers) group(`Layers: ${layersHeadline(r.layers, r.old.layers, r.new.layers)}`, r.summary.layers && differs(r.summary.layers) ? renderLayers(r.layers, p) : []);
  if (r.files && r.summary.files) group(`Files: ${filesHeadline(r.summary.files)}`, renderFiles(r.files, p, limit));
  if (r.size && r.size.delta !== 0) group(`Size: ${bytes(r.size.old)} → ${bytes(r.size.new)} (${signedBytes(r.size.delta)})`, renderSize(r.size, p, limit));
  if (r.config) group(`Config: ${r.config.length ? plural(r.config.length, 'change') : 'same'}`, renderConfig(r.config, p, limit));
  if (r.history && r.summary.history) group(`History: ${countsText(r.summary.history, ['inserted', 'removed', 'changed']) || 'same'}`, r.history.some((h) => h.op !== 'same') ? renderHistory(r.history, p, limit) : []);
  if (r.packages && r.summary.packages) group(`Packages: ${countsText(r.summary.packages, ['added', 'removed', 'changed']) || 'same'}`, renderPackages(r.packages, p, limit));
  if (r.warnings.length) group(`Warnings: ${r.warnings.length}`, r.warnings.slice(0, limit).map((w) => `  ${p.dim(w)}`));
  return out.join('\n') + '\n';
}

function differs(l: NonNullable<DiffSummary['layers']>): boolean {
  return l.oldOnly + l.newOnly + l.recompressed > 0;
}

/** The first line: what differs in one breath, or that nothing compared does. */
export function summaryLine(r: DiffReport): string {
  if (r.identical) return `identical: no differences in ${r.sections.join(', ') || 'content'}`;
  const s = r.summary;
  const parts: string[] = [];
  if (s.layers && differs(s.layers)) {
    const re = s.layers.recompressed ? `, ${s.layers.recompressed} re-compressed` : '';
    parts.push(`layers ${s.layers.shared} shared, ${s.layers.oldOnly} only in old, ${s.layers.newOnly} only in new${re}`);
  }
  if (s.files && (r.files?.length ?? 0) > 0) parts.push(`files ${filesHeadline(s.files)}`);
  if (s.config) parts.push(`config ${plural(s.config, 'change')}`);
  if (s.history) {
    const h = countsText(s.history, ['inserted', 'removed', 'changed']);
    if (h) parts.push(`history ${h}`);
  }
  if (s.packages) {
    const pk = countsText(s.packages, ['added', 'removed', 'changed']);
    if (pk) parts.push(`packages ${pk}`);
  }
  if (r.content && !r.content.identical) parts.push(`${r.content.path} differs`);
  return `differ: ${parts.join('; ')}`;
}

function filesHeadline(f: NonNullable<DiffSummary['files']>): string {
  const counts = countsText(f, ['added', 'removed', 'modified', 'typeChanged']).replace('typeChanged', 'type changed');
  return `${counts || 'same'} (${signedBytes(f.sizeDelta)})`;
}

function countsText<K extends string>(c: Record<K, number>, keys: K[]): string {
  return keys
    .filter((k) => c[k] > 0)
    .map((k) => `${c[k]} ${k}`)
    .join(', ');
}

function imageLine(side: 'old' | 'new', img: ImageSummary, p: Paint): string {
  const name = img.names[0] ? ` ${img.names[0]}` : '';
  return p.dim(`${side}: ${img.ref}${name} ${shortHex(img.manifestDigest)} ${img.platform}, ${plural(img.layers, 'layer')}`);
}
