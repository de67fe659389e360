// What every command shares: argument parsing, the store option, Ctrl-C, import progress.
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { UsageError } from '../errors.js';
import { Store } from '../store/store.js';
import { formatBytes, type Progress } from './progress.js';

export type Command = (argv: string[]) => Promise<number>;

export const COMMON = {
  store: { type: 'string' },
  quiet: { type: 'boolean', short: 'q' },
} as const;

export const SELECT = {
  image: { type: 'string' },
  platform: { type: 'string' },
} as const;

export type Options = NonNullable<ParseArgsConfig['options']>;
export type ParsedArgs<O extends Options> = ReturnType<typeof parseArgs<{ args: string[]; options: O; allowPositionals: true; strict: true }>>;

// eslint-disable-next-line @typescript-eslint/explicit-module-boundary-types
export function parse<O extends Options>(argv: string[], options: O, positionals: [min: number, max: number], what: string): ParsedArgs<O> {
  let parsed: ParsedArgs<O>;
  try {
    parsed = parseArgs({ args: argv, options, allowPositionals: true, strict: true });
  } catch (err) {
    throw new UsageError(`${what}: ${(err as Error).message}`);
  }
  const n = parsed.positionals.length;
  if (n < positionals[0] || n > positionals[1]) throw new UsageError(`usage: ${what}`);
  return parsed;
}

export async function openStore(values: { store?: string }): Promise<Store> {
  return Store.open(values.store);
}

/** Aborts long work on Ctrl-C so staging directories are removed before exit. */
export function abortOnSignal(): AbortSignal {
  const controller = new AbortController();
  const onSignal = (): void => controller.abort(new UsageError('interrupted'));
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  return controller.signal;
}

export function importProgress(progress: Progress) {
  return (p: { bytesRead: number; bytesTotal: number; layersDone: number; layersTotal: number }): void =>
    progress.update(`importing: layer ${p.layersDone}/${p.layersTotal}, ${formatBytes(p.bytesRead)} of ${formatBytes(p.bytesTotal)}`);
}

