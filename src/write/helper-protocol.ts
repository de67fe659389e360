// What the directory writer's two threads say to each other, and how they split the leaves without a lock: the
// leaves are cut into chunks, and each chunk belongs to whichever thread claims its slot first. The main thread
// claims from the front, the helper from the back, so they meet once, somewhere in the middle.
import type { PlainError } from '../errors.js';
import type { LeafTally, LeafTask } from './leaf-task.js';
import type { Identity } from './nodes.js';

export const MAIN = 1;
export const HELPER = 2;

/** Claims slot `index` for `who`; false when the other thread has it or the helper was told to stop. */
export function claim(claims: Int32Array<ArrayBufferLike>, index: number, who: typeof MAIN | typeof HELPER): boolean {
  if (who === HELPER && stopped(claims)) return false;
  return Atomics.compareExchange(claims, index, 0, who) === 0;
}

/** The last slot of the claims array is no chunk: it is the stop flag. */
export function stopped(claims: Int32Array<ArrayBufferLike>): boolean {
  return Atomics.load(claims, claims.length - 1) !== 0;
}

export function stop(claims: Int32Array<ArrayBufferLike>): void {
  Atomics.store(claims, claims.length - 1, 1);
}

export type ToHelper =
  | { type: 'init'; base: string; id: Identity; mask: number; claims: SharedArrayBuffer }
  | { type: 'chunk'; index: number; tasks: LeafTask[] }
  | { type: 'end' };

export type FromHelper =
  | { type: 'ready' }
  | { type: 'done'; index: number; tally: LeafTally }
  | { type: 'declined'; index: number }
  | { type: 'failed'; index: number; path: string; error: PlainError; tally: LeafTally };
