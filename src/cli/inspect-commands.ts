// Looking inside an image: inspect, manifest, config, ls, cat, history, waste. Parsing and printing
// only; the answers come from src/inspect.
import { NotFoundError, UsageError } from '../errors.js';
import { displayPath } from '../layer/names.js';
import { planImage } from '../ops/flatten.js';
import { layerIndexes, resolveImage } from '../ops/resolve-image.js';
import { shortDigest } from '../spec/digest.js';
import type { ImageConfig } from '../spec/types.js';
import type { Store } from '../store/store.js';
import { copyContent, findFile, missingError, toBytes } from '../inspect/cat.js';
import { describeEvent, layerNamer, showPath, sizeBar, timeText } from '../inspect/describe.js';
import { alignHistory, historyRows } from '../inspect/history.js';
import { globMatcher, listLayer, listTree, modeString, type ListRow } from '../inspect/listing.js';
import { isArchiveRef, loadMeta, storedIndexes, storedMeta, storedTwin, withTwin } from '../inspect/load.js';
import { historyPath, pathHistory, type PathEvent } from '../inspect/path-history.js';
import { inspectReport, type ImageMeta, type InspectReport } from '../inspect/report.js';
import { analyzeWaste, checkThreshold, parseThreshold, type WasteReport } from '../inspect/waste.js';
import { lookup } from '../tree/resolve.js';
import { abortOnSignal, importProgress, openStore, parse, type Command } from './shared.js';
import { createProgress, formatBytes } from './progress.js';
import { formatTable } from './table.js';

const OPTIONS = {
  store: { type: 'string' },
  quiet: { type: 'boolean', short: 'q' },
  image: { type: 'string' },
  platform: { type: 'string' },
} as const;

type Values = { store?: string; quiet?: boolean; image?: string; platform?: string };

const out = (text: string | Buffer): boolean => process.stdout.write(text);
const json = (value: unknown): boolean => out(JSON.stringify(value, null, 2) + '\n');

/** Options for anything that may import IMAGE first: progress on a terminal, Ctrl-C cleans up. */
function importOptions(values: Values) {
  const progress = createProgress(!values.quiet);
  return { image: values.image, platform: values.platform, onProgress: importProgress(progress), signal: abortOnSignal(), done: () => progress.done() };
}

/** Metadata only for an archive (layers are never read), plus what an earlier import left in the store. */
async function metaFor(store: Store, ref: string, values: Values & { files?: boolean }): Promise<ImageMeta> {
  if (values.files && (await isArchiveRef(ref))) {
    const opts = importOptions(values);
    const { image } = await resolveImage(store, ref, opts);
    opts.done();
    return storedMeta(store, image);
  }
  const meta = await loadMeta(store, ref, { image: values.image, platform: values.platform });
  if (meta.from === 'store') return meta;
  const twin = await storedTwin(store, meta);
  return withTwin(meta, twin && (await storedMeta(store, twin)));
}

const inspectCommand: Command = async (argv) => {
  const { values, positionals } = parse(argv, { ...OPTIONS, json: { type: 'boolean' }, files: { type: 'boolean' } }, [1, 1], 'stratum inspect IMAGE [--json] [--files]');
  const store = await openStore(values);
  const meta = await metaFor(store, positionals[0], values);
  const report = inspectReport(meta, await storedIndexes(store, meta));
  if (values.json) return json(report), 0;
  out(inspectText(report, process.stdout.isTTY === true));
  warnAll(report.warnings);
  return 0;
};

const manifestCommand: Command = async (argv) => {
  const { values, positionals } = parse(argv, OPTIONS, [1, 1], 'stratum manifest IMAGE');
  const store = await openStore(values);
  const meta = await metaFor(store, positionals[0], values);
  if (!meta.manifestRaw) {
    throw new NotFoundError(`${positionals[0]}: a ${meta.format ?? 'docker-archive'} holds no image manifest (only manifest.json); "stratum import" it to get the one stratum stores`, { file: positionals[0] });
  }
  out(meta.manifestRaw);
  return 0;
};

const configCommand: Command = async (argv) => {
  const { values, positionals } = parse(argv, OPTIONS, [1, 1], 'stratum config IMAGE');
  const meta = await metaFor(await openStore(values), positionals[0], values);
  out(meta.configRaw);
  return 0;
};

const LS_OPTIONS = { ...OPTIONS, long: { type: 'boolean', short: 'l' }, recursive: { type: 'boolean', short: 'R' }, layer: { type: 'string' }, glob: { type: 'string' } } as const;

const lsCommand: Command = async (argv) => {
  const { values, positionals } = parse(argv, LS_OPTIONS, [1, 2], 'stratum ls IMAGE [PATH] [-l] [-R] [--layer N] [--glob PATTERN]');
  const store = await openStore(values);
  const opts = importOptions(values);
  const path = toBytes(positionals[1] ?? '/');
  const match = values.glob === undefined ? undefined : globMatcher(values.glob);
  let rows: ListRow[];
  if (values.layer !== undefined) {
    const { image } = await resolveImage(store, positionals[0], opts);
    opts.done();
    const n = layerNumber(values.layer, image.layers.length);
    rows = listLayer(await store.readLayerIndex(image.layers[n - 1].diffID), n - 1, path, { match });
  } else {
    const planned = await planImage(store, positionals[0], opts);
    opts.done();
    const found = lookup(planned.tree.root, path, { followLast: true });
    if (!found) throw missingError(planned.tree.root, await layerIndexes(store, planned.image), path, layerNamer(createdByOf(planned.config, planned.image.layers.length)));
    // A glob searches the whole subtree, as find does.
    rows = listTree(found.node, found.path, { recursive: values.recursive || match !== undefined, match });
  }
  out(values.long ? longListing(rows) : rows.map(shortLine).join(''));
  return 0;
};

function layerNumber(text: string, count: number): number {
  const n = Number(text);
  if (!/^\d+$/.test(text) || n < 1 || n > count) throw new UsageError(`--layer ${text}: the image has layers 1 to ${count}`);
  return n;
}

function shown(row: ListRow): string {
  const p = showPath(row.path);
  if (row.kind === 'whiteout') return `(whiteout) ${p}`;
  if (row.kind === 'opaque') return `(opaque) ${p === '/' ? '/' : `${p}/`}`;
  return p;
}

function shortLine(row: ListRow): string {
  return `${shown(row)}\n`;
}

function longListing(rows: ListRow[]): string {
  if (rows.length === 0) return '';
  const cells = rows.map((r) => {
    const marker = r.kind === 'whiteout' || r.kind === 'opaque';
    const size = r.kind === 'char' || r.kind === 'block' ? `${r.devmajor},${r.devminor}` : String(r.size);
    const link = r.kind === 'symlink' ? ` -> ${displayPath(r.linkname ?? '')}` : r.kind === 'hardlink' ? ` link to /${displayPath(r.linkname ?? '')}` : '';
    return [marker ? '-' : modeString(r.kind, r.mode), marker ? '-' : `${r.uid}/${r.gid}`, marker ? '-' : size, timeText(new Date(r.mtime * 1000).toISOString()), r.layer === undefined ? '-' : String(r.layer + 1), shown(r) + link];
  });
  return formatTable(['MODE', 'OWNER', 'SIZE', 'MODIFIED (UTC)', 'LAYER', 'PATH'], cells);
}

const catCommand: Command = async (argv) => {
  const { values, positionals } = parse(argv, OPTIONS, [2, 2], 'stratum cat IMAGE PATH');
  const store = await openStore(values);
  const opts = importOptions(values);
  const planned = await planImage(store, positionals[0], opts);
  opts.done();
  const indexes = await layerIndexes(store, planned.image);
  const file = findFile(planned.tree.root, indexes, positionals[1], layerNamer(createdByOf(planned.config, indexes.length)));
  await copyContent(file, planned.locate, process.stdout);
  return 0;
};

const historyCommand: Command = async (argv) => {
  const { values, positionals } = parse(argv, { ...OPTIONS, json: { type: 'boolean' }, 'no-trunc': { type: 'boolean' } }, [1, 2], 'stratum history IMAGE [PATH] [--json] [--no-trunc]');
  const store = await openStore(values);
  if (positionals.length === 2) return pathHistoryCommand(store, positionals[0], positionals[1], values);
  const meta = await metaFor(store, positionals[0], values);
  const indexes = await storedIndexes(store, meta);
  const rows = historyRows(meta.config, meta.layers.map((l) => l.size), indexes.map((i) => i?.tarSize));
  if (values.json) return json(rows), 0;
  const width = values['no-trunc'] ? Infinity : 60;
  const size = (r: (typeof rows)[number]) => (r.size === undefined ? '?' : formatBytes(r.size) + (r.sizeIs === 'compressed' ? '*' : ''));
  const cells = rows.map((r) => [r.layer === undefined ? '-' : String(r.layer), r.created ? timeText(r.created) : '', truncate(r.createdBy ?? '', width), size(r), r.comment ?? '']);
  out(formatTable(['LAYER', 'CREATED (UTC)', 'CREATED BY', 'SIZE', 'COMMENT'], cells));
  if (rows.some((r) => r.sizeIs === 'compressed')) warn('* compressed size: that layer is not in the store yet (import the image for unpacked sizes)');
  const problem = alignHistory(meta.config, meta.layers.length).problem;
  if (problem) warn(problem);
  return 0;
};

async function pathHistoryCommand(store: Store, ref: string, path: string, values: Values & { json?: boolean }): Promise<number> {
  const opts = importOptions(values);
  const { image, config } = await resolveImage(store, ref, opts);
  opts.done();
  const indexes = await layerIndexes(store, image);
  const target = historyPath(indexes, toBytes(path));
  const events = pathHistory(indexes, target);
  const label = showPath(target);
  if (events.length === 0) throw new NotFoundError(`${label}: not in any layer of the image`, { path: target });
  const createdBy = createdByOf(config, indexes.length);
  if (values.json) return json({ path: label, events: events.map((e: PathEvent) => ({ ...e, layer: e.layer + 1, createdBy: createdBy[e.layer], ...(e.cause ? { cause: { ...e.cause, layer: e.cause.layer + 1, at: showPath(e.cause.at) } } : {}) })) }), 0;
  out(`${label}\n`);
  out(formatTable(['LAYER', 'EVENT', 'DETAIL', 'CREATED BY'], events.map((e) => [String(e.layer + 1), e.kind, describeEvent(e, target, formatBytes), truncate(createdBy[e.layer], 60)])));
  return 0;
}

const wasteCommand: Command = async (argv) => {
  const { values, positionals } = parse(argv, { ...OPTIONS, json: { type: 'boolean' }, 'fail-over': { type: 'string' } }, [1, 1], 'stratum waste IMAGE [--json] [--fail-over BYTES|PERCENT]');
  const threshold = values['fail-over'] === undefined ? undefined : parseThreshold(values['fail-over']);
  const store = await openStore(values);
  const opts = importOptions(values);
  const { image, config } = await resolveImage(store, positionals[0], opts);
  opts.done();
  const report = analyzeWaste(await layerIndexes(store, image));
  const createdBy = createdByOf(config, image.layers.length);
  if (values.json) json(wasteJson(report, createdBy));
  else out(wasteText(report, createdBy));
  if (!threshold) return 0;
  const check = checkThreshold(report, threshold);
  if (!check.over) return 0;
  const limit = check.unit === 'percent' ? `${check.limit}%` : formatBytes(check.limit);
  const pct = report.totalBytes === 0 ? 0 : (100 * report.wastedBytes) / report.totalBytes;
  process.stderr.write(`stratum: waste ${formatBytes(report.wastedBytes)} (${pct.toFixed(1)}% of ${formatBytes(report.totalBytes)}) is over --fail-over ${limit}\n`);
  return 1;
};

/** JSON numbers layers from 1, as the text does. */
function wasteJson(report: WasteReport, createdBy: string[]) {
  const renumber = <T extends { layer: number; by: number; path?: string; at?: string; largest?: string; original?: { layer: number; path: string } }>(x: T) => ({
    ...x,
    layer: x.layer + 1,
    by: x.by + 1,
    ...(x.path !== undefined ? { path: showPath(x.path) } : {}),
    ...(x.at !== undefined ? { at: showPath(x.at) } : {}),
    ...(x.largest !== undefined ? { largest: showPath(x.largest) } : {}),
    ...(x.original ? { original: { layer: x.original.layer + 1, path: showPath(x.original.path) } } : {}),
  });
  return { ...report, items: report.items.map(renumber), groups: report.groups.map(renumber), layers: createdBy.map((c, i) => ({ number: i + 1, createdBy: c })) };
}

function inspectText(r: InspectReport, tty: boolean): string {
  const field = (k: string, v: string | undefined) => `${k.padEnd(14)}${v === undefined || v === '' ? '-' : v}\n`;
  const unpacked = r.unpackedSize === undefined ? '' : `, ${formatBytes(r.unpackedSize)} unpacked`;
  const c = r.config;
  const argv = (a: string[] | null) => (a === null ? undefined : JSON.stringify(a));
  const lines = [
    field('Names', r.names.join(', ') || '<none>'),
    field('Format', r.format),
    field('Manifest', r.manifestDigest),
    field('Image ID', r.configDigest),
    field('Platform', r.platform),
    field('Created', r.created),
    field('Author', r.author),
    field('Size', `${formatBytes(r.compressedSize)} compressed${unpacked}, ${r.layers.length} layers`),
    '\nConfig\n',
    field('  Entrypoint', argv(c.entrypoint)),
    field('  Cmd', argv(c.cmd)),
    field('  User', c.user),
    field('  Workdir', c.workdir),
    field('  Ports', c.ports.join(' ')),
    ...(c.volumes.length ? [field('  Volumes', c.volumes.join(' '))] : []),
    ...listField('  Env', c.env),
    ...listField('  Labels', Object.entries(c.labels).map(([k, v]) => `${k}=${v}`)),
    '\nLayers\n',
  ];
  return lines.join('') + layerTable(r, tty);
}

function listField(name: string, items: string[]): string[] {
  if (items.length === 0) return [`${name.padEnd(14)}-\n`];
  return items.map((item, i) => `${(i === 0 ? name : '').padEnd(14)}${item}\n`);
}

function layerTable(r: InspectReport, tty: boolean): string {
  const max = Math.max(0, ...r.layers.map((l) => l.unpackedSize ?? l.compressedSize));
  const n = (v: number | undefined) => (v === undefined ? '-' : String(v));
  const rows = r.layers.map((l) => [
    String(l.number),
    shortDigest(l.diffID),
    l.digest ? shortDigest(l.digest) : '-',
    formatBytes(l.compressedSize),
    l.unpackedSize === undefined ? '-' : formatBytes(l.unpackedSize),
    ...(tty ? [sizeBar(l.unpackedSize ?? l.compressedSize, max)] : []),
    n(l.files?.added),
    n(l.files?.changed),
    n(l.files?.removed),
    n(l.files && l.files.whiteouts + l.files.opaques),
    truncate(l.createdBy ?? '', 60),
  ]);
  const headers = ['#', 'DIFF ID', 'DIGEST', 'COMPRESSED', 'UNPACKED', ...(tty ? [''] : []), 'ADDED', 'CHANGED', 'REMOVED', 'WH', 'CREATED BY'];
  const note = r.files || r.layers.length === 0 ? '' : '(file counts need the layers in the store: run with --files, or stratum import, first)\n';
  return formatTable(headers, rows) + note;
}

function wasteText(r: WasteReport, createdBy: string[]): string {
  const pct = (x: number) => `${(100 * x).toFixed(1)}%`;
  const share = r.totalBytes === 0 ? 0 : r.wastedBytes / r.totalBytes;
  const layer = (i: number) => `${i + 1} ${truncate(createdBy[i] ?? '', 40)}`.trimEnd();
  const head = [
    `Stored file bytes  ${formatBytes(r.totalBytes)} in ${r.totalFiles} files`,
    `Final file bytes   ${formatBytes(r.finalBytes)}`,
    `Wasted             ${formatBytes(r.wastedBytes)} (${pct(share)}): ${formatBytes(r.deadBytes)} overwritten or deleted, ${formatBytes(r.duplicateBytes)} duplicated`,
    `Efficiency         ${pct(r.efficiency)}`,
  ].join('\n') + '\n';
  if (r.items.length === 0) return `${head}\nno wasted bytes\n`;
  const groups = r.groups.map((g) => [formatBytes(g.bytes), g.kind, layer(g.layer), g.kind === 'duplicate' ? '-' : layer(g.by), String(g.files), showPath(g.largest)]);
  const items = r.items.slice(0, 20).map((i) => [formatBytes(i.size), i.kind, showPath(i.path), String(i.layer + 1), i.original ? `copy of ${showPath(i.original.path)} (layer ${i.original.layer + 1})` : `layer ${i.by + 1}`]);
  const largest = `\nLargest${r.items.length > 20 ? ' 20' : ''}:\n`;
  return `${head}\n${formatTable(['BYTES', 'KIND', 'HELD BY LAYER', 'WASTED BY LAYER', 'FILES', 'LARGEST'], groups)}${largest}${formatTable(['BYTES', 'KIND', 'PATH', 'LAYER', 'BY'], items)}`;
}

/** Each layer's created_by ('' where the history has none). */
function createdByOf(config: ImageConfig, layers: number): string[] {
  return alignHistory(config, layers).byLayer.map((h) => h?.created_by ?? '');
}

function truncate(text: string, width: number): string {
  const one = text.replace(/\s+/g, ' ').trim();
  return one.length > width ? `${one.slice(0, width - 1)}…` : one;
}

function warn(message: string): void {
  process.stderr.write(`stratum: warning: ${message}\n`);
}

function warnAll(warnings: readonly string[]): void {
  for (const w of warnings.slice(0, 20)) warn(w);
  if (warnings.length > 20) warn(`… and ${warnings.length - 20} more`);
}

export const INSPECT_COMMANDS: Record<string, Command> = {
  inspect: inspectCommand,
  manifest: manifestCommand,
  config: configCommand,
  ls: lsCommand,
  cat: catCommand,
  history: historyCommand,
  waste: wasteCommand,
};

