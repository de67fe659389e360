// What every reader hands to selection: its images as entries, in archive order, each either
// loadable or carrying the reason (and the error) why it cannot be imported.
import { StratumError } from '../errors.js';
import type { Digest } from '../spec/digest.js';
import type { Platform } from '../spec/types.js';
import type { ImageCandidate, SourceImage } from './types.js';

export interface ImageEntry {
  names: string[];
  /** The top-level entry it came from: entries of one group are the platforms of one image. */
  group: string;
  manifestDigest?: Digest;
  configDigest?: Digest;
  /** Every digest that identifies it: manifest, config, and the indexes above it. */
  digests: Digest[];
  platform?: Platform;
  /** Why it cannot be imported; load() then throws the matching error. */
  unavailable?: string;
  /** Attestations and artifacts: listed, but never an image to unpack. */
  pseudo?: boolean;
  load(): Promise<SourceImage>;
}

export type EntryInfo = Omit<ImageEntry, 'load' | 'unavailable'>;

/** An entry that lists fine but whose load() throws the error found while checking it. */
export function brokenEntry(info: EntryInfo, err: StratumError, label: string): ImageEntry {
  const prefix = `${label}: `;
  const reason = err.message.startsWith(prefix) ? err.message.slice(prefix.length) : err.message;
  return { ...info, unavailable: reason, load: () => Promise.reject(err) };
}

export function toCandidates(entries: ImageEntry[]): ImageCandidate[] {
  return entries.map((e, position) => ({
    position,
    names: [...e.names],
    manifestDigest: e.manifestDigest,
    configDigest: e.configDigest,
    platform: e.platform,
    unavailable: e.unavailable,
  }));
}
