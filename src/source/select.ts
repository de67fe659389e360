// Choosing one image among an archive's candidates: by name, digest (or unique prefix) or
// position, then by platform; the first platform match within one index wins (ISPEC image-index).
import { NotFoundError, UsageError } from '../errors.js';
import { shortDigest, type Digest } from '../spec/digest.js';
import type { Platform } from '../spec/types.js';
import { formatPlatform, hostPlatform, parsePlatform, platformMatches } from './platform.js';
import { nameMatches } from './reference.js';
import type { ImageEntry } from './entries.js';
import type { ImageSelector } from './types.js';

/** Resolves a selector to exactly one entry or throws a one-line error listing the candidates. */
export function selectEntry(entries: ImageEntry[], selector: ImageSelector, label: string, host: Platform = hostPlatform()): ImageEntry {
  const list = (pool: ImageEntry[]) => describeEntries(entries, pool);
  const images = entries.filter((e) => !e.pseudo);
  if (entries.length === 0) throw new NotFoundError(`${label} holds no images`, { file: label });
  const pool = selector.image === undefined ? images : matchImage(entries, selector.image, label);
  if (pool.length === 0) throw new NotFoundError(`${label}: no image matches "${selector.image}"; candidates: ${list(entries)}`, { file: label });
  if (selector.platform !== undefined) return byPlatform(pool, parsePlatform(selector.platform), label, list);
  const usable = pool.filter((e) => !e.unavailable);
  if (usable.length === 1) return usable[0];
  if (usable.length === 0) {
    if (pool.length === 1) return pool[0];
    throw new NotFoundError(`${label}: none of the matching images is complete in the archive: ${list(pool)}`, { file: label });
  }
  const forHost = usable.filter((e) => !e.platform || platformMatches(host, e.platform));
  if (forHost.length > 0 && sameGroup(forHost)) return forHost[0];
  const count = `${label} holds ${images.length} images`;
  if (forHost.length === 0) {
    throw new UsageError(`${count}, none for ${formatPlatform(host)} (this host); pick one with --platform or --image: ${list(usable)}`, { file: label });
  }
  throw new UsageError(`${count}; pick one with --image: ${list(forHost)}`, { file: label });
}

function byPlatform(pool: ImageEntry[], want: Platform, label: string, list: (p: ImageEntry[]) => string): ImageEntry {
  const real = pool.filter((e) => !e.pseudo);
  const matches = real.filter((e) => !e.platform || platformMatches(want, e.platform));
  if (matches.length === 0) {
    throw new NotFoundError(`${label}: no image for ${formatPlatform(want)}; candidates: ${list(pool)}`, { file: label });
  }
  if (!sameGroup(matches)) {
    throw new UsageError(`${label} holds ${matches.length} images for ${formatPlatform(want)}; pick one with --image: ${list(matches)}`, { file: label });
  }
  return matches.find((e) => !e.unavailable) ?? matches[0];
}

/** Names first, then digests, then positions, so a tag that looks like a number or hex still wins. */
function matchImage(entries: ImageEntry[], wanted: string, label: string): ImageEntry[] {
  const byName = entries.filter((e) => e.names.some((n) => nameMatches(wanted, n)));
  if (byName.length > 0) return byName;
  const byDigest = matchDigest(entries, wanted, label);
  if (byDigest.length > 0) return byDigest;
  const pos = /^@?(\d+)$/.exec(wanted);
  if (pos && Number(pos[1]) < entries.length) return [entries[Number(pos[1])]];
  return [];
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

function sameGroup(entries: ImageEntry[]): boolean {
  return entries.every((e) => e.group === entries[0].group);
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
