// Each command: parse its arguments, call the library, print the result.
import { UsageError } from '../errors.js';
import { listImages, removeImage } from '../store/images.js';
import { shortDigest } from '../spec/digest.js';
import { exportToFile, flatten, keepPlan } from '../ops/flatten.js';
import { createProgress, formatBytes } from './progress.js';
import { abortOnSignal, collectGarbage, compileLessFromStore, COMMON, importPolicy, importProgress, limitValues, LIMITS, LIMITS_USAGE, openStore, parse, SELECT, type Command } from './shared.js';
export type { Command } from './shared.js';
import { printTable } from './table.js';

const importCommand: Command = async (argv) => {
  const { values, positionals } = parse(argv, { ...COMMON, ...SELECT, ...LIMITS }, [1, Infinity], `stratum import IMAGE... [--image REF] [--platform OS/ARCH] ${LIMITS_USAGE}`);
  const limits = limitValues(values);
  const store = await openStore(values);
  const progress = createProgress(!values.quiet);
  const { importImage } = await import('../ops/import-image.js');
  for (const input of positionals) {
    importPolicy.beforeImport();
    const r = await importImage(store, input, { image: values.image, platform: values.platform, limits, onProgress: importProgress(progress), signal: abortOnSignal(), onLayerDecode: importPolicy.onLayerDecode });
    progress.update('planning the final tree');
    // As between a cold flatten's import and its plan (collectGarbage): the plan is not allocated on the import's garbage.
    collectGarbage();
    await keepPlan(store, r.image);
    progress.done();
    const name = r.image.names[0] ?? shortDigest(r.image.manifestDigest);
    process.stdout.write(`${name}\t${r.image.manifestDigest}\t${r.format}\t${r.layersUnpacked} layers unpacked, ${r.layersReused} already in the store\n`);
  }
  return 0;
};

const imagesCommand: Command = async (argv) => {
  const { values } = parse(argv, { ...COMMON, json: { type: 'boolean' } }, [0, 0], 'stratum images [--json]');
  const images = await listImages(await openStore(values));
  if (values.json) {
    process.stdout.write(JSON.stringify(images, null, 2) + '\n');
    return 0;
  }
  const rows = images.map((img) => [
    img.names.join(', ') || '<none>',
    shortDigest(img.manifestDigest),
    img.platform ? [img.platform.os, img.platform.architecture, img.platform.variant].filter(Boolean).join('/') : '',
    formatBytes(img.layers.reduce((n, l) => n + l.size, 0)),
    String(img.layers.length),
  ]);
  printTable(['NAME', 'DIGEST', 'PLATFORM', 'SIZE', 'LAYERS'], rows);
  return 0;
};

const rmCommand: Command = async (argv) => {
  const { values, positionals } = parse(argv, COMMON, [1, Infinity], 'stratum rm NAME...');
  const store = await openStore(values);
  for (const ref of positionals) {
    const image = await removeImage(store, ref);
    process.stdout.write(`removed ${ref} (${shortDigest(image.manifestDigest)}); run "stratum gc" to free its blobs\n`);
  }
  return 0;
};

const gcCommand: Command = async (argv) => {
  const { values } = parse(argv, COMMON, [0, 0], 'stratum gc');
  const { gc } = await import('../store/maintenance.js');
  const r = await gc(await openStore(values));
  process.stdout.write(`removed ${r.blobsRemoved} blobs, ${r.layersRemoved} unpacked layers and ${r.plansRemoved} plans, freed ${formatBytes(r.bytesFreed)}\n`);
  return 0;
};

const verifyCommand: Command = async (argv) => {
  const { values } = parse(argv, COMMON, [0, 0], 'stratum verify');
  const progress = createProgress(!values.quiet);
  const { verifyStore } = await import('../store/maintenance.js');
  const r = await verifyStore(await openStore(values), (what) => progress.update(`verifying ${what}`));
  progress.done();
  for (const p of r.problems) process.stdout.write(`DAMAGED ${p.what} ${p.digest ?? ''}: ${p.detail}\n`);
  process.stdout.write(`${r.blobs} blobs, ${r.layers} layers, ${r.files} files, ${r.plans} plans checked: ${r.problems.length ? `${r.problems.length} problems` : 'ok'}\n`);
  return r.problems.length ? 1 : 0;
};

const PLAN_OPTIONS = {
  ...COMMON,
  ...SELECT,
  ...LIMITS,
  layers: { type: 'string' },
  path: { type: 'string', multiple: true },
} as const;

function planValues(values: { image?: string; platform?: string; layers?: string; path?: string[]; 'max-unpacked'?: string; 'max-ratio'?: string; 'max-entries'?: string }) {
  let layers: number | undefined;
  if (values.layers !== undefined) {
    layers = Number(values.layers);
    if (!/^\d+$/.test(values.layers)) throw new UsageError(`--layers takes a whole number, not "${values.layers}"`);
  }
  return { image: values.image, platform: values.platform, layers, paths: values.path, limits: limitValues(values) };
}

export const flattenCommand: Command = async (argv) => {
  const { values, positionals } = parse(argv, { ...PLAN_OPTIONS, force: { type: 'boolean' } }, [2, 2], `flatten IMAGE OUT [--force] [--layers N] [--path P]... [--image REF] [--platform OS/ARCH] ${LIMITS_USAGE}`);
  compileLessFromStore(positionals[0]);
  const store = await openStore(values);
  const progress = createProgress(!values.quiet);
  const { planned, report } = await flatten(store, positionals[0], positionals[1], {
    ...planValues(values),
    force: values.force,
    signal: abortOnSignal(),
    onProgress: importProgress(progress),
    ...importPolicy,
    afterImport: collectGarbage,
    onWriteProgress: (p) => progress.update(() => `writing: ${p.files} files, ${formatBytes(p.bytes)}`),
  });
  progress.done();
  const skipped = Object.entries(report.skipped as Record<string, number>).filter(([, n]) => n > 0);
  if (skipped.length) {
    process.stderr.write(`stratum: ${positionals[1]}: could not keep ${skipped.map(([k, n]) => `${n} ${k}`).join(', ')} (not permitted here; the store's index has them, and "stratum export" keeps them all)\n`);
  }
  for (const w of planned.tree.warnings.slice(0, 20)) process.stderr.write(`stratum: warning: ${w.message}\n`);
  if (planned.tree.warnings.length > 20) process.stderr.write(`stratum: … and ${planned.tree.warnings.length - 20} more warnings\n`);
  if (!values.quiet) {
    process.stderr.write(`${positionals[1]}: ${report.files} files, ${report.dirs} directories, ${report.symlinks} symlinks, ${report.hardlinks} hardlinks, ${formatBytes(report.bytes)}\n`);
  }
  return 0;
};

const exportCommand: Command = async (argv) => {
  const { values, positionals } = parse(argv, PLAN_OPTIONS, [2, 2], `stratum export IMAGE FILE|- [--layers N] [--path P]... ${LIMITS_USAGE}`);
  compileLessFromStore(positionals[0]);
  const store = await openStore(values);
  const progress = createProgress(!values.quiet);
  await exportToFile(store, positionals[0], positionals[1], { ...planValues(values), signal: abortOnSignal(), onProgress: importProgress(progress), ...importPolicy, afterImport: collectGarbage });
  progress.done();
  return 0;
};

const now = (c: Command) => async (): Promise<Command> => c;
const inspect = (name: string) => async (): Promise<Command> => (await import('./inspect-commands.js')).INSPECT_COMMANDS[name];

/**
 * Each command's code, loaded when it runs: diff and the inspect commands are ~40 ms of module loading a flatten need
 * not pay. For the same reason the archive readers (ops/import-image) and store maintenance load only when used.
 */
export const COMMANDS: Record<string, () => Promise<Command>> = {
  import: now(importCommand),
  images: now(imagesCommand),
  rm: now(rmCommand),
  gc: now(gcCommand),
  verify: now(verifyCommand),
  flatten: now(flattenCommand),
  export: now(exportCommand),
  diff: async () => (await import('./diff-command.js')).diffCommand,
  ...Object.fromEntries(['inspect', 'manifest', 'config', 'ls', 'cat', 'history', 'waste'].map((n) => [n, inspect(n)])),
};

const INSPECT_USAGE = `  inspect IMAGE            identity, config, layers with history (--json; --files imports for file counts)
  manifest IMAGE           the manifest JSON, byte-exact
  config IMAGE             the config JSON, byte-exact
  ls IMAGE [PATH]          the merged tree (-l long, -R recursive, --glob PATTERN, --layer N one layer's changes)
  cat IMAGE PATH           one file's bytes (symlinks followed inside the image)
  history IMAGE [PATH]     like docker history; with PATH, that path's story across layers
  waste IMAGE              bytes overwritten, deleted or duplicated by later layers (--fail-over 10MB|5%)
`;

export function usage(): string {
  return `stratum: take container images apart without Docker

usage: stratum COMMAND [options]

  import IMAGE...          read archives into the store (verify, unpack each layer once)
  images                   list stored images
  rm NAME...               forget an image (blobs stay until gc)
  gc                       remove blobs and layers no image references
  verify                   re-hash the store and report damage
  flatten IMAGE OUT        write the final root filesystem into directory OUT
  export IMAGE FILE|-      the same tree as one tar
  diff OLD NEW             compare layers, files, config, history, packages (exit 0 same, 1 differ, 2 trouble)
${INSPECT_USAGE}
IMAGE is an archive (docker save, docker-archive, oci-archive; gzip/zstd ok), a directory (OCI layout,
skopeo dir:, unpacked docker save), - for stdin, or a name or digest already in the store.

common options: --store DIR   --image REF   --platform OS/ARCH[/VARIANT]   -q   --debug
limits (import, flatten, export): --max-unpacked BYTES (per layer, default 64G)   --max-ratio N (default 5000)
                                  --max-entries N (per layer, default 2000000)
exit codes: 0 ok, 1 failure (bad input, integrity, not found...), 2 usage
`;
}
