// Small JSON documents of an archive (manifest.json, index.json, manifests, configs): size-capped
// before a byte is read (CVE-2023-25153), digest-checked when a descriptor names them.
import { createHash } from 'node:crypto';
import { FormatError, IntegrityError, LimitError, NotFoundError, UnsupportedError } from '../errors.js';
import type { Digest } from '../spec/digest.js';
import type { Descriptor } from '../spec/types.js';
import { blobName, type FileSet } from './file-set.js';

export interface JsonDoc {
  raw: Buffer;
  value: unknown;
}

/** Reads and parses an archive file by name; NotFoundError when absent, LimitError when over the cap. */
export async function readJsonFile(files: FileSet, name: string, maxBytes: number): Promise<JsonDoc> {
  const size = await files.size(name);
  if (size === undefined) throw new NotFoundError(`${files.label}: ${name} not found in the archive`, { file: files.label, path: name });
  checkCap(files.label, name, size, maxBytes);
  const raw = await files.read(name, size);
  return { raw, value: parseJson(raw, `${files.label}: ${name}`) };
}

/**
 * Reads the blob a descriptor names (or its embedded `data`), checking size then digest.
 * Returns undefined when the blob is absent, which layouts allow.
 */
export async function readBlob(files: FileSet, desc: Descriptor, maxBytes: number): Promise<Buffer | undefined> {
  const where = `${files.label}: blob ${desc.digest}`;
  if (typeof desc.data === 'string') {
    const raw = Buffer.from(desc.data, 'base64');
    checkSize(where, raw.length, desc.size);
    verifyBytes(raw, desc.digest, where);
    return raw;
  }
  const name = blobName(desc.digest);
  const size = await files.size(name);
  if (size === undefined) return undefined;
  checkSize(where, size, desc.size);
  checkCap(files.label, name, size, maxBytes);
  const raw = await files.read(name, size);
  verifyBytes(raw, desc.digest, where);
  return raw;
}

export function parseJson(raw: Buffer, where: string): unknown {
  try {
    return JSON.parse(raw.toString('utf8'));
  } catch (err) {
    throw new FormatError(`${where}: invalid JSON (${(err as Error).message})`, { file: where });
  }
}

export function checkSize(where: string, actual: number, expected: number): void {
  if (actual !== expected) {
    throw new IntegrityError(`${where}: size is ${actual} bytes, the descriptor says ${expected}`, { expected, actual });
  }
}

/** Hashes bytes with the digest's algorithm and throws IntegrityError naming both digests when they differ. */
export function verifyBytes(raw: Buffer, digest: Digest, where: string): void {
  const alg = digest.slice(0, digest.indexOf(':'));
  if (alg !== 'sha256' && alg !== 'sha512') throw new UnsupportedError(`${where}: digest algorithm ${alg} is not supported`, { digest });
  const actual = `${alg}:${createHash(alg).update(raw).digest('hex')}`;
  if (actual !== digest) {
    throw new IntegrityError(`${where}: content hashes to ${actual}, expected ${digest}`, {
      digest,
      expected: digest,
      actual,
    });
  }
}

function checkCap(label: string, name: string, size: number, maxBytes: number): void {
  if (size > maxBytes) {
    throw new LimitError(`${label}: ${name} is ${size} bytes, over the ${maxBytes}-byte limit for JSON documents`, {
      file: label,
      path: name,
      expected: maxBytes,
      actual: size,
    });
  }
}

/** A JSON object or a FormatError naming what was expected. */
export function asObject(value: unknown, where: string): Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new FormatError(`${where}: expected a JSON object, found ${describeJson(value)}`);
  }
  return value as Record<string, unknown>;
}

export function describeJson(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}
