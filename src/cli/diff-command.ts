// stratum diff OLD NEW: parse, compare, print. Exit codes as diff(1): 0 same, 1 different, 2 trouble
// (every error, whatever its category, so a script can tell "differs" from "could not compare").
import { parseArgs } from 'node:util';
import { StratumError, UsageError } from '../errors.js';
import { diffImages, type DiffOptions } from '../diff/diff-images.js';
import { renderContent } from '../diff/render/content.js';
import { renderHuman } from '../diff/render/human.js';
import { renderNameStatus } from '../diff/render/name-status.js';
import { SECTIONS, type DiffReport, type Section } from '../diff/types.js';
import { Store } from '../store/store.js';
import { createProgress, formatBytes } from './progress.js';

// Declared here rather than imported from commands.ts: commands.ts imports this module, and a cycle
// would leave one side's constants uninitialised depending on which module loads first.
export type Command = (argv: string[]) => Promise<number>;

export const DIFF_USAGE =
  'stratum diff OLD NEW [--json | --name-status] [--only SECTION]... [--ignore GLOB]... [--mtime] [--all] [-p PATH] ' +
  '[--image REF] [--platform OS/ARCH] [--old-image REF] [--new-image REF] [--old-platform P] [--new-platform P]';

const OPTIONS = {
  store: { type: 'string' },
  quiet: { type: 'boolean', short: 'q' },
  image: { type: 'string' },
  platform: { type: 'string' },
  'old-image': { type: 'string' },
  'new-image': { type: 'string' },
  'old-platform': { type: 'string' },
  'new-platform': { type: 'string' },
  only: { type: 'string', multiple: true },
  ignore: { type: 'string', multiple: true },
  mtime: { type: 'boolean' },
  content: { type: 'string', short: 'p' },
  json: { type: 'boolean' },
  'name-status': { type: 'boolean' },
  all: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

type Values = ReturnType<typeof parseArgs<{ options: typeof OPTIONS; allowPositionals: true }>>['values'];

export const diffCommand: Command = async (argv) => {
  // A promise that never settles ends the process through 'exit' (main.ts reports it as status 1);
  // for diff, 1 means "the images differ", so trouble of that kind must still say 2.
  const onExit = (): void => {
    process.exitCode = 2;
  };
  process.once('exit', onExit);
  try {
    return await runDiff(argv);
  } catch (err) {
    return reportDiffError(err);
  } finally {
    process.off('exit', onExit);
  }
};

async function runDiff(argv: string[]): Promise<number> {
  const { values, positionals } = parseDiffArgs(argv);
  if (values.help) {
    process.stdout.write(`usage: ${DIFF_USAGE}\n`);
    return 0;
  }
  const store = await Store.open(values.store);
  const progress = createProgress(!values.quiet);
  const controller = new AbortController();
  const onSignal = (): void => controller.abort(new UsageError('interrupted'));
  process.once('SIGINT', onSignal);
  try {
    const report = await diffImages(store, positionals[0], positionals[1], {
      ...diffOptions(values),
      signal: controller.signal,
      onProgress: (p) => progress.update(`importing: layer ${p.layersDone}/${p.layersTotal}, ${formatBytes(p.bytesRead)} of ${formatBytes(p.bytesTotal)}`),
    });
    progress.done();
    process.stdout.write(render(report, values));
    return report.identical ? 0 : 1;
  } finally {
    process.off('SIGINT', onSignal);
  }
}

function parseDiffArgs(argv: string[]): { values: Values; positionals: string[] } {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: true });
  } catch (err) {
    throw new UsageError(`diff: ${(err as Error).message}`);
  }
  if (parsed.positionals.length !== 2 && !parsed.values.help) throw new UsageError(`usage: ${DIFF_USAGE}`);
  const v = parsed.values;
  if (v.json && v['name-status']) throw new UsageError('diff: --json and --name-status are exclusive');
  if (v.content !== undefined && v['name-status']) throw new UsageError('diff: --name-status lists files; it does not go with --content');
  if (v['name-status'] && v.only && !parseOnly(v.only).includes('files')) throw new UsageError('diff: --name-status needs the files section (--only files)');
  return { values: v, positionals: parsed.positionals };
}

export function parseOnly(values: readonly string[]): Section[] {
  const out = new Set<Section>();
  for (const v of values.flatMap((x) => x.split(','))) {
    const s = v.trim() as Section;
    if (!SECTIONS.includes(s)) throw new UsageError(`diff: --only "${v}": expected one of ${SECTIONS.join(', ')}`);
    out.add(s);
  }
  return SECTIONS.filter((s) => out.has(s));
}

function diffOptions(v: Values): DiffOptions {
  return {
    old: { image: v['old-image'] ?? v.image, platform: v['old-platform'] ?? v.platform },
    new: { image: v['new-image'] ?? v.image, platform: v['new-platform'] ?? v.platform },
    only: v.only ? parseOnly(v.only) : v['name-status'] ? ['files'] : undefined,
    ignore: v.ignore,
    mtime: v.mtime,
    content: v.content,
  };
}

function render(report: DiffReport, v: Values): string {
  if (v.json) return JSON.stringify(report, null, 2) + '\n';
  if (v['name-status']) return renderNameStatus(report);
  const color = useColor();
  if (report.content) return renderContent(report.content, color);
  return renderHuman(report, { color, all: v.all });
}

function useColor(env: NodeJS.ProcessEnv = process.env): boolean {
  return process.stdout.isTTY === true && !env.NO_COLOR;
}

/** One line on stderr as for every command, but always exit status 2: 1 means "the images differ". */
function reportDiffError(err: unknown): number {
  const message = err instanceof StratumError ? err.message : `internal error: ${(err as Error)?.message ?? String(err)}`;
  process.stderr.write(`stratum: ${message.replace(/\s*\n\s*/g, ' ')}\n`);
  if (process.argv.includes('--debug') && err instanceof Error && err.stack) process.stderr.write(`${err.stack}\n`);
  return 2;
}
