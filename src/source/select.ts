// Choosing one image among an archive's candidates: by name, digest (or unique prefix) or
// position, then by platform; the first platform match within one index wins (ISPEC image-index).
import { NotFoundError, UsageError } from '../errors.js';
import { shortDigest, type Digest } from '../spec/digest.js';
import type { Platform } from '../spec/types.js';
import { formatPlatform, hostPlatform, parsePlatform, platformMatches } from './platform.js';
import { nameMatches, tagMatches } from './reference.js';
import type { ImageEntry } from './entries.js';
import type { ImageSelector } from './types.js';

/** Resolves a selector to exactly one entry or throws a one-line error listing the candidates. */
export function selectEntry(entries: ImageEntry[], selector: ImageSelector, label: string, host: Platform = hostPlatform()): ImageEntry {
  const list = (shown: ImageEntry[]) => describeEntries(entries, shown);
  if (entries.length === 0) throw new NotFoundError(`${label} holds no images`, { file: label });
  const pool = selector.image === undefined ? entries : matchImage(entries, selector.image, label);
  const real = pool.filter((e) => !e.pseudo);
  if (real.length === 0) {
    // A lone artifact or attestation: loading it gives the precise "nothing to unpack" error.
    if (pool.length === 1) return pool[0];
    const what = selector.image === undefined ? 'holds no image to unpack' : `has no image matching "${selector.image}"`;
    throw new NotFoundError(`${label} ${what}; candidates: ${list(entries)}`, { file: label });
  }
  if (selector.platform !== undefined) return byPlatform(real, parsePlatform(selector.platform), label, list);
  if (!sameImage(real)) throw new UsageError(`${label} holds ${real.length} images; pick one with --image: ${list(real)}`, { file: label });
  return byHost(real, host, label, list);
}

/** Among the platforms of one image: the only complete one, else the first for this host. */
function byHost(real: ImageEntry[], host: Platform, label: string, list: (shown: ImageEntry[]) => string): ImageEntry {
  const usable = real.filter((e) => !e.unavailable);
  if (usable.length === 0) return real[0];
  if (usable.length === 1) return usable[0];
  const forHost = usable.find((e) => !e.platform || platformMatches(host, e.platform));
  if (forHost) return forHost;
  throw new UsageError(`${label} has no image for ${formatPlatform(host)} (this host); pick one with --platform: ${list(usable)}`, { file: label });
}

function byPlatform(real: ImageEntry[], want: Platform, label: string, list: (shown: ImageEntry[]) => string): ImageEntry {
  const matches = real.filter((e) => !e.platform || platformMatches(want, e.platform));
  if (matches.length === 0) {
    throw new NotFoundError(`${label}: no image for ${formatPlatform(want)}; candidates: ${list(real)}`, { file: label });
  }
  if (!sameImage(matches)) {
    throw new UsageError(`${label} holds ${matches.length} images for ${formatPlatform(want)}; pick one with --image: ${list(matches)}`, { file: label });
  }
  return matches.find((e) => !e.unavailable) ?? matches[0];
}

/**
 * Whether entries are the platforms of one image: they came from one index entry, or (layouts that
 * list platform manifests at the top level) they share their names and differ in platform.
 */
function sameImage(entries: ImageEntry[]): boolean {
  if (entries.every((e) => e.group === entries[0].group)) return true;
  const names = (e: ImageEntry) => [...e.names].sort().join('\n');
  const platforms = entries.map((e) => (e.platform ? formatPlatform(e.platform) : undefined));
  return entries.every((e) => names(e) === names(entries[0])) && platforms.every((p) => p) && new Set(platforms).size === entries.length;
}

/**
 * Names first, then digests, positions, and last a bare tag of a full name, so that a ref.name "1"
 * beats position 1 while "--image 1" on images tagged a:1 and b:2 still means position 1.
 */
function matchImage(entries: ImageEntry[], wanted: string, label: string): ImageEntry[] {
  const byName = entries.filter((e) => e.names.some((n) => nameMatches(wanted, n)));
  if (byName.length > 0) return byName;
  const byDigest = matchDigest(entries, wanted, label);
  if (byDigest.length > 0) return byDigest;
  const pos = /^@?(\d+)$/.exec(wanted);
  if (pos && Number(pos[1]) < entries.length) return [entries[Number(pos[1])]];
  return entries.filter((e) => e.names.some((n) => tagMatches(wanted, n)));
}

function matchDigest(entries: ImageEntry[], wanted: string, label: string): ImageEntry[] {
  const text = wanted.toLowerCase();
  const prefix = /^(?:sha256:)?([0-9a-f]{4,64})$/.exec(text)?.[1];
  const hit = (d: Digest) => d === text || (prefix !== undefined && d.startsWith(`sha256:${prefix}`));
  const found = entries.filter((e) => e.digests.some(hit));
  const distinct = new Set(found.flatMap((e) => e.digests.filter(hit)));
  if (distinct.size > 1) {
    const shown = [...distinct].map((d) => `sha256:${shortDigest(d)}…`).join(', ');
    throw new UsageError(`${label}: digest prefix "${wanted}" is ambiguous (${shown}); give more characters`, { file: label });
  }
  return found;
}

const MAX_LISTED = 10;

/** `[0] a:1 (linux/amd64 sha256:ab12…), [1] …` for the given entries, numbered by their position in `all`. */
export function describeEntries(all: ImageEntry[], shown: ImageEntry[]): string {
  const parts = shown.slice(0, MAX_LISTED).map((e) => describeEntry(all.indexOf(e), e));
  if (shown.length > MAX_LISTED) parts.push(`… ${shown.length - MAX_LISTED} more`);
  return parts.join(', ');
}

function describeEntry(position: number, e: ImageEntry): string {
  const names = e.names.length > 0 ? e.names.join(' ') : '<untagged>';
  const digest = e.manifestDigest ?? e.configDigest;
  const id = digest ? ` ${digest.slice(0, digest.indexOf(':'))}:${shortDigest(digest)}…` : '';
  const why = e.unavailable ? `; ${e.unavailable}` : '';
  return `[${position}] ${names} (${formatPlatform(e.platform)}${id}${why})`;
}
