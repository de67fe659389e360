// Digests: a branded string that only parseDigest makes, so no unchecked value ever becomes a path.
import { createHash } from 'node:crypto';
import { FormatError } from '../errors.js';

export type Digest = string & { readonly __brand: 'Digest' };

const HEX_LENGTH: Record<string, number> = { sha256: 64, sha512: 128, blake3: 64 };

/** Validates the OCI digest grammar and, for registered algorithms, the encoded length (CVE-2024-3727). */
export function parseDigest(value: unknown, where = 'digest'): Digest {
  if (typeof value !== 'string') throw new FormatError(`${where}: not a digest string`, { digest: String(value) });
  const m = /^([a-z0-9]+(?:[+._-][a-z0-9]+)*):([a-zA-Z0-9=_-]+)$/.exec(value);
  if (!m) throw new FormatError(`${where}: malformed digest "${value.slice(0, 100)}"`, { digest: value });
  const [, alg, enc] = m;
  const len = HEX_LENGTH[alg];
  if (len !== undefined && (enc.length !== len || !/^[a-f0-9]+$/.test(enc))) {
    throw new FormatError(`${where}: malformed ${alg} digest "${value.slice(0, 100)}"`, { digest: value });
  }
  return value as Digest;
}

export function isSha256(d: Digest): boolean {
  return d.startsWith('sha256:');
}

/** The hex part of a sha256 digest (callers check isSha256 first). */
export function digestHex(d: Digest): string {
  return d.slice(d.indexOf(':') + 1);
}

export function sha256Digest(hex: string): Digest {
  return parseDigest(`sha256:${hex}`);
}

export function digestOf(bytes: Uint8Array | string): Digest {
  return (`sha256:` + createHash('sha256').update(bytes).digest('hex')) as Digest;
}

export function shortDigest(d: string, n = 12): string {
  const i = d.indexOf(':');
  return d.slice(i + 1, i + 1 + n);
}
