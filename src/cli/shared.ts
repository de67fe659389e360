// What every command shares: argument parsing, the store option, Ctrl-C, import progress.
import { existsSync, readdirSync } from 'node:fs';
import { getPriority, setPriority } from 'node:os';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { UsageError } from '../errors.js';
import type { LayerLimitValues } from '../store/limits.js';
import type { LayerDecode } from '../store/unpack-layer.js';
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

/** The layer limits a user may tighten (or loosen) for one import; defaults in store/limits.ts. */
export const LIMITS = {
  'max-unpacked': { type: 'string' },
  'max-ratio': { type: 'string' },
  'max-entries': { type: 'string' },
} as const;

export const LIMITS_USAGE = '[--max-unpacked BYTES] [--max-ratio N] [--max-entries N]';

const BYTE_SUFFIX: Record<string, number> = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4 };

/** A positive whole number; for bytes, an optional K/M/G/T suffix (powers of 1024, an optional trailing B or iB). */
function positive(flag: string, text: string, bytes: boolean): number {
  const m = bytes ? /^(\d+)\s*([kmgt]?)(?:i?b)?$/i.exec(text.trim()) : /^(\d+)$/.exec(text.trim());
  const n = m ? Number(m[1]) * BYTE_SUFFIX[(m[2] ?? '').toLowerCase()] : NaN;
  if (!Number.isSafeInteger(n) || n <= 0) {
    throw new UsageError(`--${flag} takes a positive whole number${bytes ? ' of bytes (suffixes K, M, G, T)' : ''}, not "${text}"`);
  }
  return n;
}

export function limitValues(values: { 'max-unpacked'?: string; 'max-ratio'?: string; 'max-entries'?: string }): Partial<LayerLimitValues> {
  const limits: Partial<LayerLimitValues> = {};
  if (values['max-unpacked'] !== undefined) limits.maxUnpackedBytes = positive('max-unpacked', values['max-unpacked'], true);
  if (values['max-ratio'] !== undefined) limits.maxRatio = positive('max-ratio', values['max-ratio'], false);
  if (values['max-entries'] !== undefined) limits.maxEntries = positive('max-entries', values['max-entries'], false);
  return limits;
}

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


/**
 * One full garbage collection between a one-shot flatten's import and its write. V8 keeps the import's garbage
 * (chunk buffers, parse objects) until its heap is under pressure, so the plan and the writer were allocated on
 * top of it: on a 60k-file, 3.8 GiB image the cold flatten peaked at 207–245 MB RSS, against 183–189 MB with this.
 * A CLI-only measure (the library leaves the process's GC alone); a no-op where the runtime refuses it.
 */
export function collectGarbage(): void {
  settleHeapGrowth();
  try {
    setFlagsFromString('--expose-gc');
    (runInNewContext('gc') as () => void)();
  } catch {
    // not available: the flatten only peaks higher
  }
}

/**
 * While an image is imported, V8 may let the old generation grow to 4x what survived its last mark-compact. Left to
 * itself, it picks a factor near its minimum for the import's small heap (about 10 MB live on the bench image) and
 * marks and compacts every 1-2 MB promoted: 12 mark-compacts in a cold flatten of the bench image against 4, and
 * 0.3-0.4 s of a 2-core machine's main thread (bench/README.md has the pairs). The import's own peak RSS did not
 * move (scale-1 memory bench image: 188 against 191 MB); the plan and the writer would (232 against 191 MB at scale
 * 1), so collectGarbage() gives V8 its own choice back before them, and so does a layer decoded on the JS heap
 * (fzstd), whose garbage took the zstd bench row to 149-157 MB against 131-138 MB. A layer decoded in the
 * threadpool has the other threads give the main thread way (deferOtherThreads). CLI-only measures, like the two
 * below (a library must not retune its host's process); a no-op where the runtime refuses them.
 */
export const importPolicy = {
  beforeImport(): void {
    setHeapGrowth(300);
  },
  onLayerDecode(d: LayerDecode): void {
    if (d.onHeap) settleHeapGrowth();
    else deferOtherThreads();
  },
};

const DEFERRED_NICE = 10;
let deferred = false;

/**
 * During an import the main thread hashes, parses and hands every chunk on, and the decoders in the threadpool wait
 * for it; with fewer cores than busy threads, the kernel's fair share let them (and V8's compiler and GC threads)
 * take the core it needed. So every other thread of the process gets nice +10 (a process may lower its own threads'
 * priority without privilege), once, when the first layer is decoded in the threadpool. 16 interleaved cold flattens
 * of the bench image on 2 cores: median 2.125 against 2.205 s, 14 of 16 pairs faster. Not for fzstd, which decodes
 * on the main thread itself (5 pairs of the zstd image: no gain). Linux lists a process's threads in
 * /proc/self/task; elsewhere nothing changes.
 */
function deferOtherThreads(): void {
  if (deferred) return;
  deferred = true;
  let tids: string[];
  try {
    tids = readdirSync('/proc/self/task');
  } catch {
    return; // not Linux: nothing changes
  }
  for (const tid of tids) {
    try {
      // Never the other way: a thread already below (the whole process under `nice`, say) stays where it is.
      if (Number(tid) !== process.pid && getPriority(Number(tid)) < DEFERRED_NICE) setPriority(Number(tid), DEFERRED_NICE);
    } catch {
      // gone meanwhile, or refused: that thread keeps its priority
    }
  }
}

function settleHeapGrowth(): void {
  setHeapGrowth(0);
}

function setHeapGrowth(percent: number): void {
  try {
    setFlagsFromString(`--heap-growing-percent=${percent}`);
  } catch {
    // an engine without the flag: only slower
  }
}

/**
 * V8 starts the young generation at 1 MB semispaces and doubles them, up to 16 MB, while much of what is allocated
 * survives a scavenge, which import's stream of chunk buffers looks like. Those pages stay resident. Not letting it
 * grow kept a cold flatten of the bench image's zstd form at 132-138 MB peak RSS against 149-165 MB, and gzip at
 * 117-121 MB against 128-130 MB, with no slower runs (measured in README's bench). A CLI-only measure, set before
 * the work starts; read at run time by V8, unlike --max-semi-space-size, which only a flag on the node command
 * line could set.
 */
export function keepYoungGenerationSmall(): void {
  try {
    setFlagsFromString('--semi-space-growth-factor=1');
  } catch {
    // an engine without the flag: only the peak is higher
  }
}

/**
 * A flatten or export of an image already in the store is over in well under a second on most images, and V8's
 * optimizing compiler spends more on its background compiles than its code saves in that time: the bench image's
 * warm flatten took 0.58-0.79 s (median 0.68) with `--no-opt` against 0.64-0.86 s (median 0.81), and 0.92-1.25 s of
 * CPU against 1.03-1.41 s. Only then: an import's hot loops (tar parsing over hundreds of MB) need it, and a cold
 * flatten ran 3.57-3.98 s without it against 3.14-3.43 s. On a 44,767-entry tree from the store it cost 0.3 s of
 * CPU and no wall time (5.8-6.2 s either way). A CLI-only measure; a no-op where the runtime refuses the flag.
 */
export function compileLessFromStore(image: string): void {
  if (image === '-' || existsSync(image)) return;
  try {
    setFlagsFromString('--no-opt');
  } catch {
    // an engine without the flag: only slower
  }
}
