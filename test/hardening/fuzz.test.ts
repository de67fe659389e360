// Property test over mutated real archives: bit flips, truncations, inserted bytes, and tar header fields replaced
// (with and without a fixed-up checksum, so a change gets past the checksum into the parser behind it). Two sources of
// inputs: whole real archives mutated as they are (the outer tar, compression, JSON), and real layer tars mutated and
// then re-wrapped with digests that match, so the layer parser, the planner and the writers meet the damage too.
// Whatever the input, the CLI must exit 0, 1 or 2, say one line when it fails (never an internal error or a stack),
// finish within FUZZ_TIMEOUT_MS, and write nothing outside its OUT and its store.
//
//   STRATUM_FUZZ_RUNS=2000 npx vitest run test/hardening/fuzz.test.ts    a long run (default 40: the CI budget)
//   STRATUM_FUZZ_SEED=1234 ...                                           replay the seed a failure printed
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Digest } from '../../src/spec/digest.js';
import { readTar } from '../../src/tar/reader.js';
import { imageOfBlobs, writeBuilt } from '../helpers/hostile.js';
import { expectUntouched, makeJail, removeJail, snapshot, stderrLines, stratum, type Jail } from '../helpers/jail.js';
import { PUBLIC, SAMPLES } from '../helpers/paths.js';

const RUNS = Number(process.env.STRATUM_FUZZ_RUNS ?? 40);
const SEED = process.env.STRATUM_FUZZ_SEED === undefined ? undefined : Number(process.env.STRATUM_FUZZ_SEED);
const FUZZ_TIMEOUT_MS = 20_000;

const SEEDS = [
  path.join(SAMPLES, 'docker-archive.tar'),
  path.join(SAMPLES, 'docker-archive.tar.gz'),
  path.join(SAMPLES, 'oci-archive-gzip.tar'),
  path.join(SAMPLES, 'oci-archive-zstd.tar'),
  path.join(PUBLIC, 'go-containerregistry--whiteout_image.tar'),
  path.join(PUBLIC, 'snyk-docker-plugin--nodes-fake-multi.tar'),
  path.join(PUBLIC, 'go-containerregistry--hello-world-v25.tar'),
  path.join(PUBLIC, 'jib--jib-image.tar'),
];

/** Header fields as [offset, length] (ustar), and values worth trying in them beside random bytes. */
const FIELDS: Record<string, [number, number]> = {
  name: [0, 100],
  mode: [100, 8],
  uid: [108, 8],
  size: [124, 12],
  mtime: [136, 12],
  chksum: [148, 8],
  typeflag: [156, 1],
  linkname: [157, 100],
  magic: [257, 8],
  devmajor: [329, 8],
  prefix: [345, 155],
};
const INTERESTING = [
  '../../../../victim/passwd',
  '/etc/passwd',
  '',
  '.',
  '..',
  'manifest.json',
  'index.json',
  '.wh..wh..opq',
  '.wh...',
  '77777777777\0',
  '00000000000\0',
  '\x80\x00\x00\x00\x00\x00\x00\x01\x00\x00\x00\x00',
  '\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff',
  ...'0125678xgLKSVDMN'.split(''),
  'a'.repeat(100),
];

type Mutation =
  | { kind: 'flip'; at: number[]; bit: number }
  | { kind: 'truncate'; at: number }
  | { kind: 'insert'; at: number; bytes: Uint8Array }
  | { kind: 'header'; entry: number; field: string; value: string | Uint8Array; fixChecksum: boolean };

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant('flip' as const), at: fc.array(fc.nat(), { minLength: 1, maxLength: 8 }), bit: fc.nat(7) }),
  fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), bytes: fc.uint8Array({ minLength: 1, maxLength: 64 }) }),
  fc.record({
    kind: fc.constant('header' as const),
    entry: fc.nat(),
    field: fc.constantFrom(...Object.keys(FIELDS)),
    value: fc.oneof(fc.constantFrom(...INTERESTING), fc.uint8Array({ minLength: 1, maxLength: 100 })),
    fixChecksum: fc.boolean(),
  }),
);

/** Offsets of the header blocks of a plain tar (PAX and long-name entries count as entries; that is fine here). */
function headerOffsets(tar: Buffer): number[] {
  const out: number[] = [];
  for (let at = 0; at + 512 <= tar.length && out.length < 10_000; ) {
    const h = tar.subarray(at, at + 512);
    if (h.every((b) => b === 0)) break;
    out.push(at);
    const size = parseInt(h.toString('latin1', 124, 136).replace(/[^0-7].*$/s, '') || '0', 8);
    at += 512 + Math.ceil(size / 512) * 512;
  }
  return out;
}

function fixChecksum(tar: Buffer, at: number): void {
  tar.fill(0x20, at + 148, at + 156);
  let sum = 0;
  for (let i = at; i < at + 512; i++) sum += tar[i];
  tar.write(`${sum.toString(8).padStart(6, '0')}\0 `, at + 148, 8, 'latin1');
}

export function mutate(input: Buffer, m: Mutation): Buffer {
  const len = Math.max(1, input.length);
  switch (m.kind) {
    case 'flip': {
      const out = Buffer.from(input);
      for (const a of m.at) out[a % len] ^= 1 << m.bit;
      return out;
    }
    case 'truncate':
      return input.subarray(0, m.at % len);
    case 'insert': {
      const at = m.at % len;
      return Buffer.concat([input.subarray(0, at), Buffer.from(m.bytes), input.subarray(at)]);
    }
    case 'header': {
      const out = Buffer.from(input);
      const headers = headerOffsets(out);
      if (headers.length === 0) return out;
      const at = headers[m.entry % headers.length];
      const [off, size] = FIELDS[m.field];
      const value = typeof m.value === 'string' ? Buffer.from(m.value, 'latin1') : Buffer.from(m.value);
      out.fill(0, at + off, at + off + size);
      value.copy(out, at + off, 0, Math.min(size, value.length));
      if (m.fixChecksum && m.field !== 'chksum') fixChecksum(out, at);
      return out;
    }
  }
}

/** The shown form of a mutation in a failure message (byte arrays as hex). */
function show(m: Mutation): string {
  return JSON.stringify(m, (_k, v: unknown) => (v instanceof Uint8Array ? Buffer.from(v).toString('hex') : v));
}

/** What the runs came to, printed after each property so a run that only ever hit one refusal shows it. */
const outcomes = new Map<string, number>();
function tally(code: number | null, stderr: string): void {
  const msg = stderr.trim().replace(/^stratum: /, '').replace(/\/[^\s:]+/g, '…').replace(/sha256:[0-9a-f]+/g, '…').replace(/\d+/g, 'N');
  const key = code === 0 ? 'exit 0' : `exit ${code}: ${msg.slice(0, 70)}`;
  outcomes.set(key, (outcomes.get(key) ?? 0) + 1);
}
function report(what: string): void {
  const top = [...outcomes].sort((a, b) => b[1] - a[1]).slice(0, 8);
  console.log(`fuzz (${what}): ${top.map(([k, v]) => `${v}× ${k}`).join(' | ')}`);
  outcomes.clear();
}

let jail: Jail;
let seeds: Array<{ name: string; bytes: Buffer }>;
let layers: Array<{ name: string; bytes: Buffer }>;
let n = 0;

beforeAll(async () => {
  jail = await makeJail('stratum-fuzz-');
  seeds = await Promise.all(SEEDS.map(async (p) => ({ name: path.basename(p), bytes: await fs.readFile(p) })));
  // The real layer tars of a real image (a podman docker-archive: plain layers), to damage one at a time.
  layers = [];
  const handle = await fs.open(path.join(SAMPLES, 'docker-archive.tar'));
  try {
    for await (const { header, body } of readTar(handle.createReadStream(), { label: 'sample' })) {
      const parts: Buffer[] = [];
      for await (const c of body) parts.push(Buffer.from(c));
      if (/^[0-9a-f]{64}\.tar$/.test(header.name)) layers.push({ name: header.name, bytes: Buffer.concat(parts) });
    }
  } finally {
    await handle.close();
  }
  expect(layers.length).toBeGreaterThan(0);
});
afterAll(async () => {
  if (process.env.STRATUM_FUZZ_KEEP) console.log(`fuzz: jail kept at ${jail.root}`);
  else await removeJail(jail);
});

/** Runs the CLI on one input inside the jail and checks the contract; leaves the jail clean for the next run. */
async function check(input: string, command: 'flatten' | 'export', what: string): Promise<void> {
  const before = await snapshot(jail);
  const target = command === 'flatten' ? jail.out : jail.outTar;
  const r = await stratum([command, input, target, '--store', jail.store, '-q'], { timeoutMs: FUZZ_TIMEOUT_MS });
  const shown = `${what}\n${command} exit ${r.code}${r.timedOut ? ' (timed out)' : ''}:\n${r.stderr}`;
  tally(r.code, r.stderr);
  expect(r.timedOut, shown).toBe(false);
  expect([0, 1, 2], shown).toContain(r.code);
  expect(r.stderr, shown).not.toMatch(/internal error|^ {4}at /m);
  if (r.code !== 0) expect(stderrLines(r), shown).toHaveLength(1);
  for (const line of stderrLines(r)) expect(line, shown).toMatch(/^stratum: /);
  await expectUntouched(jail, before);
  expect((await fs.readdir(jail.root)).filter((e) => e.includes('.stratum-')), shown).toEqual([]);
  await fs.rm(target, { recursive: true, force: true });
  await fs.rm(jail.store, { recursive: true, force: true });
  await fs.rm(input, { force: true });
}

const params = (runs: number) => ({ numRuns: runs, seed: SEED, endOnFailure: true, verbose: 1 as const });

describe('fuzz', () => {
  it(`mutated real archives (${Math.ceil(RUNS / 2)} runs): exit 0/1/2, one line, bounded time, nothing written outside`, async () => {
    await fc.assert(
      fc.asyncProperty(fc.nat(SEEDS.length - 1), mutation, fc.constantFrom('flatten' as const, 'export' as const), async (s, m, command) => {
        const seed = seeds[s];
        const input = path.join(jail.input, `${++n}-${seed.name}`);
        await fs.writeFile(input, mutate(seed.bytes, m));
        await check(input, command, `seed ${seed.name}, mutation ${show(m)}`);
      }),
      params(Math.ceil(RUNS / 2)),
    );
    report('archives');
  }, 600_000);

  it(`real layers mutated and re-wrapped with matching digests (${Math.floor(RUNS / 2)} runs)`, async () => {
    await fc.assert(
      fc.asyncProperty(fc.nat(layers.length - 1), fc.array(mutation, { minLength: 1, maxLength: 3 }), fc.constantFrom('flatten' as const, 'export' as const), fc.nat(9), async (l, ms, command, fix) => {
        const layer = Buffer.from(ms.reduce((b, m) => mutate(b, m), layers[l].bytes));
        // Mostly, make every header's checksum right again: the damage then reaches the parser behind the check.
        if (fix < 7) for (const at of headerOffsets(layer)) fixChecksum(layer, at);
        const diffID = `sha256:${createHash('sha256').update(layer).digest('hex')}` as Digest;
        const input = await writeBuilt(jail.input, `${++n}-layer.tar`, imageOfBlobs([{ bytes: layer, diffID }]));
        await check(input, command, `layer ${layers[l].name}, mutations ${ms.map(show).join(' ')}${fix < 7 ? ', checksums fixed' : ''}`);
      }),
      params(Math.floor(RUNS / 2)),
    );
    report('layers');
  }, 600_000);
});
