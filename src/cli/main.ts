// The CLI: a thin shell over the library. Only this folder prints or exits.
import { StratumError, UsageError } from '../errors.js';
import { COMMANDS, usage } from './commands.js';
import { keepYoungGenerationSmall } from './shared.js';

export async function main(argv: string[]): Promise<number> {
  const debug = argv.includes('--debug');
  const [name, ...rest] = argv.filter((a) => a !== '--debug');
  try {
    if (!name || name === '--help' || name === '-h' || name === 'help') {
      process.stdout.write(usage());
      return name ? 0 : 2;
    }
    if (name === '--version' || name === '-V') {
      process.stdout.write('stratum 0.1.0\n');
      return 0;
    }
    const load = Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined;
    if (!load) throw new UsageError(`unknown command "${name}" (see stratum --help)`);
    return await (await load())(rest);
  } catch (err) {
    return reportError(err, debug);
  }
}

/** One line on stderr, never a stack trace unless --debug; the exit code comes from the error's category. */
export function reportError(err: unknown, debug: boolean): number {
  if (err instanceof StratumError) {
    process.stderr.write(`stratum: ${oneLine(err.message)}\n`);
    if (debug && err.stack) process.stderr.write(`${err.stack}\n`);
    return err.exitCode;
  }
  const e = err as Error;
  process.stderr.write(`stratum: internal error: ${oneLine(e?.message ?? String(err))}\n`);
  if (debug && e?.stack) process.stderr.write(`${e.stack}\n`);
  return 1;
}

function oneLine(s: string): string {
  return s.replace(/\s*\n\s*/g, ' ');
}

export function run(argv: string[]): void {
  keepYoungGenerationSmall();
  let settled = false;
  const debug = argv.includes('--debug');
  // A promise nobody will ever settle lets Node run out of work and exit 0 as if the command had
  // succeeded; say so instead, so a silently skipped import can never pass for a good one.
  process.once('exit', (code) => {
    if (settled || code !== 0) return;
    process.stderr.write('stratum: internal error: stopped with work still pending (a stream that never ended)\n');
    process.exitCode = 1;
  });
  // A stray stream 'error' is a bug, but the user still gets one line (the stack with --debug), never a dump.
  process.on('uncaughtException', (err) => {
    settled = true;
    process.exitCode = reportError(err, debug);
    process.exit();
  });
  main(argv).then(
    (code) => {
      settled = true;
      process.exitCode = code;
    },
    (err) => {
      settled = true;
      process.exitCode = reportError(err, debug);
    },
  );
}
