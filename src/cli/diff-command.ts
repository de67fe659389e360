// stratum diff OLD NEW: parse, compare, print. Exit codes as diff(1): 0 same, 1 different, 2 trouble
// (every error, whatever its category, so a script can tell "differs" from "could not compare").
import { StratumError, UsageError } from '../errors.js';
import { diffImages, type DiffOptions } from '../diff/diff-images.js';
import { renderContent } from '../diff/render/content.js';
import { renderHuman } from '../diff/render/human.js';
import { renderNameStatus } from '../diff/render/name-status.js';
import { SECTIONS, type DiffReport, type Section } from '../diff/types.js';
import { createProgress } from './progress.js';
import { abortOnSignal, COMMON, importProgress, limitValues, LIMITS, LIMITS_USAGE, openStore, parse, type Command, type ParsedArgs, SELECT } from './shared.js';

export const DIFF_USAGE =
  'stratum diff OLD NEW [--json | --name-status] [--only SECTION]... [--ignore GLOB]... [--mtime] [--all] [-p PATH] ' +
  `[--image REF] [--platform OS/ARCH] [--old-image REF] [--new-image REF] [--old-platform P] [--new-platform P] ${LIMITS_USAGE}`;

const OPTIONS = {
  ...COMMON,
  ...SELECT,
  ...LIMITS,
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

type Values = ParsedArgs<typeof OPTIONS>['values'];

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
  const store = await openStore(values);
  const progress = createProgress(!values.quiet);
  const report = await diffImages(store, positionals[0], positionals[1], { ...diffOptions(values), signal: abortOnSignal(), onProgress: importProgress(progress) });
  progress.done();
  process.stdout.write(render(report, values));
  return report.identical ? 0 : 1;
}

function parseDiffArgs(argv: string[]): { values: Values; positionals: string[] } {
  const { values: v, positionals } = parse(argv, OPTIONS, [0, Infinity], 'diff');
  if (positionals.length !== 2 && !v.help) throw new UsageError(`usage: ${DIFF_USAGE}`);
  if (v.json && v['name-status']) throw new UsageError('diff: --json and --name-status are exclusive');
  if (v.content !== undefined && v['name-status']) throw new UsageError('diff: --name-status lists files; it does not go with --content');
  if (v['name-status'] && v.only && !parseOnly(v.only).includes('files')) throw new UsageError('diff: --name-status needs the files section (--only files)');
  return { values: v, positionals };
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
    limits: limitValues(v),
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
