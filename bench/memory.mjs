#!/usr/bin/env node
// bench/memory.mjs — peak RSS of `stratum import` and `stratum flatten` on an image ~10x the bench
// image (issue 6: under 200 MB, flat as the image grows).
//
//   node bench/memory.mjs [--scale S] [--work DIR] [--skip-cold] [--clean] [--json FILE]
//
// Generates a docker-archive (uncompressed layers) under the work dir, streaming: many small files
// across layers, overwrites, whiteouts, an opaque directory, symlinks, a hardlink, and one huge file
// of incompressible bytes (AES-CTR keystream), never held in memory. --scale 1 is ~60,000 small
// files plus a 3.5 GiB file, ~3.9 GB of layer tars (the bench image has ~400 MB); run --scale 0.05
// first. The archive is kept for reruns (same scale = same bytes); stores and outputs are removed.
import { createCipheriv, createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { TIME, checkBuilt, snapshotStratum, countTree, die, ensureTool, fmtBytes, fmtMB, fmtS, hostInfo, log, rmrf, run, sync, table, timed } from './lib.mjs';

const HELP = `usage: node bench/memory.mjs [options]

  --scale S      image size relative to the default (~3.9 GB of layers, 60k small files, one 3.5 GiB file);
                 try 0.05 first (default 1)
  --work DIR     where the archive, stores and outputs go (default $STRATUM_BENCH_WORK/memory or /tmp/stratum-bench/memory)
  --files N      override the number of small files (default 60000 × scale)
  --huge-mib N   override the size of the huge file in MiB (default 3584 × scale)
  --skip-cold    do not measure the one-shot "flatten ARCHIVE OUT" into an empty store
  --clean        also delete the generated archive at the end
  --json FILE    also write the results as JSON
  -h, --help
`;
const TARGET_MB = 200;

let opts;
try {
  opts = parseArgs({
    options: {
      scale: { type: 'string', default: '1' },
      work: { type: 'string', default: path.join(process.env.STRATUM_BENCH_WORK || '/tmp/stratum-bench', 'memory') },
      files: { type: 'string' },
      'huge-mib': { type: 'string' },
      'skip-cold': { type: 'boolean' },
      clean: { type: 'boolean' },
      json: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  }).values;
} catch (err) {
  die(`${err.message}\n${HELP}`, 2);
}
if (opts.help) {
  process.stdout.write(HELP);
  process.exit(0);
}
const SCALE = Number(opts.scale);
if (!(SCALE > 0) || SCALE > 20) die(`--scale takes a number in (0, 20], not "${opts.scale}"`, 2);
const WORK = path.resolve(opts.work);

// ------------------------------------------------------------------------------------ the plan
// Deterministic: the same scale always gives the same archive (a seeded PRNG for sizes, AES-CTR with a fixed key for bytes).
const SMALL_FILES = opts.files ? Number(opts.files) : Math.max(200, Math.round(60_000 * SCALE));
const HUGE_BYTES = opts['huge-mib'] ? Math.round(Number(opts['huge-mib']) * 2 ** 20) : Math.max(1 << 20, Math.round(3.5 * 2 ** 30 * SCALE));
if (!(SMALL_FILES >= 4) || !(HUGE_BYTES >= 1)) die('--files takes a number ≥ 4 and --huge-mib a positive number', 2);
const HUGE_CHUNK = 4 * 2 ** 30; // one file per ≤ 4 GiB, each in its own layer: every size fits a ustar header
const FILES_PER_DIR = 400;
const MTIME = 1_700_000_000;

function mulberry32(seed) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const rand = mulberry32(42);
const smallSize = () => {
  const r = rand();
  if (r < 0.05) return 0;
  if (r < 0.7) return Math.floor(rand() * 2048);
  if (r < 0.95) return 2048 + Math.floor(rand() * 14336);
  return 16384 + Math.floor(rand() * 49152);
};

/** Entries: { name, type: '0' file | '5' dir | '2' symlink | '1' hardlink, size, mode, uid, gid, link, content: 'small'|'huge'|null, seed } */
const layers = [];
const dir = (name, mode = 0o755, uid = 0) => ({ name: `${name}/`, type: '5', size: 0, mode, uid, gid: uid });
const file = (name, size, seed, mode = 0o644, uid = 0) => ({ name, type: '0', size, mode, uid, gid: uid, content: 'small', seed });

// layers 1-4: the small files, in directories of FILES_PER_DIR, plus some symlinks
const SMALL_LAYERS = 4;
let seed = 0;
for (let l = 0; l < SMALL_LAYERS; l++) {
  const entries = [dir('srv'), dir(`srv/l${l}`)];
  const n = Math.round(SMALL_FILES / SMALL_LAYERS);
  for (let i = 0; i < n; i++) {
    if (i % FILES_PER_DIR === 0) entries.push(dir(`srv/l${l}/d${String(i / FILES_PER_DIR).padStart(4, '0')}`, 0o755, i % 3 === 0 ? 1000 : 0));
    const d = `srv/l${l}/d${String(Math.floor(i / FILES_PER_DIR)).padStart(4, '0')}`;
    entries.push(file(`${d}/f${String(i).padStart(6, '0')}.dat`, smallSize(), seed++, i % 10 === 0 ? 0o755 : 0o644, i % 5 === 0 ? 1000 : 0));
    if (i % 1000 === 999) entries.push({ name: `${d}/link${i}`, type: '2', size: 0, mode: 0o777, uid: 0, gid: 0, link: `f${String(i - 1).padStart(6, '0')}.dat` });
  }
  layers.push(entries);
}
// the huge file(s), one layer each; the first also gets a hardlink
for (let off = 0, k = 0; off < HUGE_BYTES; off += HUGE_CHUNK, k++) {
  const size = Math.min(HUGE_CHUNK, HUGE_BYTES - off);
  const entries = [dir('huge'), { name: `huge/blob-${k}.bin`, type: '0', size, mode: 0o644, uid: 0, gid: 0, content: 'huge', seed: k }];
  if (k === 0) entries.push({ name: 'huge/blob-0.link', type: '1', size: 0, mode: 0o644, uid: 0, gid: 0, link: 'huge/blob-0.bin' });
  layers.push(entries);
}
// the last layer: overwrite 5% of layer 1's files, delete one directory of layer 2 with a whiteout, make layer 3's top dir opaque
{
  const entries = [dir('srv'), dir('srv/l0')];
  const l0 = layers[0].filter((e) => e.type === '0');
  const touched = new Set();
  for (let i = 0; i < l0.length; i += 20) {
    const d = l0[i].name.slice(0, l0[i].name.lastIndexOf('/'));
    if (!touched.has(d)) entries.push(dir(d));
    touched.add(d);
    entries.push(file(l0[i].name, smallSize(), seed++));
  }
  entries.push(dir('srv/l1'), { name: 'srv/l1/.wh.d0000', type: '0', size: 0, mode: 0o644, uid: 0, gid: 0 });
  entries.push(dir('srv/l2'), { name: 'srv/l2/.wh..wh..opq', type: '0', size: 0, mode: 0o644, uid: 0, gid: 0 }, file('srv/l2/after-opaque.txt', 100, seed++));
  layers.push(entries);
}

const pad512 = (n) => (512 - (n % 512)) % 512;
const layerTarSize = (entries) => entries.reduce((n, e) => n + 512 + e.size + pad512(e.size), 0) + 1024;
const LAYER_SIZES = layers.map(layerTarSize);
const TOTAL = LAYER_SIZES.reduce((a, b) => a + b, 0);

/** The final tree's entry count (what flatten must write): apply the layers like overlayfs would, on names only. */
function finalEntries() {
  const tree = new Map();
  for (const entries of layers) {
    const mine = new Set(entries.map((e) => e.name.replace(/\/$/, '')));
    for (const e of entries) {
      const name = e.name.replace(/\/$/, '');
      const base = name.slice(name.lastIndexOf('/') + 1);
      const parent = name.slice(0, Math.max(0, name.lastIndexOf('/')));
      if (base === '.wh..wh..opq') {
        for (const k of [...tree.keys()]) if (k.startsWith(`${parent}/`) && !mine.has(k)) tree.delete(k);
      } else if (base.startsWith('.wh.')) {
        const gone = `${parent}/${base.slice(4)}`;
        for (const k of [...tree.keys()]) if (k === gone || k.startsWith(`${gone}/`)) tree.delete(k);
      } else tree.set(name, e.type);
    }
  }
  return tree.size;
}
const EXPECTED = finalEntries();

// ------------------------------------------------------------------------------------ writing the archive
class Out {
  constructor(file) {
    this.fd = fs.openSync(file, 'w');
    this.buf = Buffer.allocUnsafe(4 << 20);
    this.n = 0;
    this.hashes = [];
    this.written = 0;
  }
  write(b) {
    for (const h of this.hashes) h.update(b);
    this.written += b.length;
    if (b.length >= 1 << 20) {
      this.flush();
      this.writeAll(b);
      return;
    }
    if (this.n + b.length > this.buf.length) this.flush();
    b.copy(this.buf, this.n);
    this.n += b.length;
  }
  writeAll(b) {
    for (let off = 0; off < b.length;) off += fs.writeSync(this.fd, b, off, b.length - off);
  }
  flush() {
    if (this.n) this.writeAll(this.buf.subarray(0, this.n));
    this.n = 0;
  }
  close() {
    this.flush();
    fs.fsyncSync(this.fd);
    fs.closeSync(this.fd);
  }
}

function octal(b, off, len, v) {
  const s = v.toString(8);
  if (s.length > len - 1) throw new Error(`${v} does not fit a ${len}-byte tar field`);
  b.write(s.padStart(len - 1, '0') + '\0', off, len, 'latin1');
}

function header({ name, type = '0', size = 0, mode = 0o644, uid = 0, gid = 0, link = '' }) {
  if (Buffer.byteLength(name) > 100 || Buffer.byteLength(link) > 100) throw new Error(`name too long for ustar: ${name}`);
  const b = Buffer.alloc(512);
  b.write(name, 0, 100, 'utf8');
  octal(b, 100, 8, mode);
  octal(b, 108, 8, uid);
  octal(b, 116, 8, gid);
  octal(b, 124, 12, size);
  octal(b, 136, 12, MTIME);
  b.fill(0x20, 148, 156);
  b.write(type, 156, 1, 'latin1');
  b.write(link, 157, 100, 'utf8');
  b.write('ustar\u000000', 257, 8, 'latin1');
  b.write(uid ? 'user' : 'root', 265, 32, 'latin1');
  b.write(gid ? 'user' : 'root', 297, 32, 'latin1');
  let sum = 0;
  for (let i = 0; i < 512; i++) sum += b[i];
  b.write(sum.toString(8).padStart(6, '0') + '\u0000 ', 148, 8, 'latin1');
  return b;
}

const ZERO = Buffer.alloc(1 << 20);
const POOL = (() => {
  const c = createCipheriv('aes-128-ctr', Buffer.alloc(16, 7), Buffer.alloc(16, 0));
  return c.update(ZERO);
})();

function writeSmall(out, e) {
  if (!e.size) return;
  const tag = Buffer.from(`#${e.seed} ${e.name}\n`);
  const head = tag.subarray(0, Math.min(tag.length, e.size));
  out.write(head);
  const rest = e.size - head.length;
  if (rest > 0) {
    const off = (e.seed * 7919) % (POOL.length - rest);
    out.write(POOL.subarray(off, off + rest));
  }
}

function writeHuge(out, e) {
  const c = createCipheriv('aes-128-ctr', Buffer.alloc(16, 11), Buffer.alloc(16, e.seed));
  let left = e.size;
  while (left > 0) {
    const n = Math.min(left, ZERO.length);
    out.write(c.update(n === ZERO.length ? ZERO : ZERO.subarray(0, n)));
    left -= n;
  }
}

function generate(archive) {
  const tmp = `${archive}.tmp`;
  const out = new Out(tmp);
  const diffIDs = [];
  const layerPaths = [];
  let done = 0;
  let lastLog = Date.now();
  for (let l = 0; l < layers.length; l++) {
    const name = `layers/${l}.tar`;
    out.write(header({ name, size: LAYER_SIZES[l] }));
    const h = createHash('sha256');
    out.hashes = [h];
    const start = out.written;
    for (const e of layers[l]) {
      out.write(header(e));
      if (e.content === 'small') writeSmall(out, e);
      else if (e.content === 'huge') writeHuge(out, e);
      if (pad512(e.size)) out.write(ZERO.subarray(0, pad512(e.size)));
      done += 512 + e.size;
      if (Date.now() - lastLog > 10_000) {
        log(`  ${fmtBytes(done)} of ${fmtBytes(TOTAL)}`);
        lastLog = Date.now();
      }
    }
    out.write(ZERO.subarray(0, 1024));
    out.hashes = [];
    if (out.written - start !== LAYER_SIZES[l]) throw new Error(`layer ${l}: wrote ${out.written - start} bytes, planned ${LAYER_SIZES[l]}`);
    if (pad512(LAYER_SIZES[l])) out.write(ZERO.subarray(0, pad512(LAYER_SIZES[l])));
    diffIDs.push(`sha256:${h.digest('hex')}`);
    layerPaths.push(name);
  }
  const arch = { x64: 'amd64', arm64: 'arm64', arm: 'arm', ia32: '386', ppc64: 'ppc64le', s390x: 's390x', riscv64: 'riscv64' }[process.arch] ?? process.arch;
  const config = Buffer.from(JSON.stringify({
    architecture: arch,
    os: 'linux',
    created: new Date(MTIME * 1000).toISOString(),
    config: { Env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'], Cmd: ['/bin/sh'] },
    rootfs: { type: 'layers', diff_ids: diffIDs },
    history: layers.map((_, i) => ({ created: new Date(MTIME * 1000).toISOString(), created_by: `bench/memory.mjs layer ${i}` })),
  }));
  const configName = `${createHash('sha256').update(config).digest('hex')}.json`;
  const manifest = Buffer.from(JSON.stringify([{ Config: configName, RepoTags: [`stratum-memory:scale-${SCALE}`], Layers: layerPaths }]));
  for (const [name, body] of [[configName, config], ['manifest.json', manifest]]) {
    out.write(header({ name, size: body.length }));
    out.write(body);
    out.write(ZERO.subarray(0, pad512(body.length)));
  }
  out.write(ZERO.subarray(0, 1024));
  out.close();
  fs.renameSync(tmp, archive);
}

// ------------------------------------------------------------------------------------ main
checkBuilt();
if (!ensureTool(TIME, 'time')) die(`${TIME} is needed to measure peak RSS`);
fs.mkdirSync(WORK, { recursive: true });
const ARCHIVE = path.join(WORK, `memory-scale-${SCALE}${opts.files ? `-files-${SMALL_FILES}` : ''}${opts['huge-mib'] ? `-huge-${opts['huge-mib']}` : ''}.docker.tar`);
const STORE = path.join(WORK, 'store');
const OUT_DIR = path.join(WORK, 'out');
rmrf(STORE);
rmrf(OUT_DIR);

const smallBytes = layers.flat().filter((e) => e.content === 'small').reduce((n, e) => n + e.size, 0);
log(`scale ${SCALE}: ${layers.length} layers, ${layers.flat().filter((e) => e.type === '0').length} files (${fmtBytes(smallBytes)} of small files) + ${fmtBytes(HUGE_BYTES)} incompressible; ${fmtBytes(TOTAL)} of layer tars; ${EXPECTED} entries in the final tree`);
const need = TOTAL * 3 + (1 << 30); // archive + store (blob + content) + output, at most at once
const free = (() => {
  const s = fs.statfsSync(WORK);
  return s.bavail * s.bsize;
})();
const haveArchive = fs.existsSync(ARCHIVE);
if (free + (haveArchive ? fs.statSync(ARCHIVE).size : 0) < need) die(`${WORK} has ${fmtBytes(free)} free; this scale needs about ${fmtBytes(need)}`);

if (!haveArchive) {
  log(`generating ${ARCHIVE} …`);
  const t0 = Date.now();
  generate(ARCHIVE);
  log(`generated ${fmtBytes(fs.statSync(ARCHIVE).size)} in ${((Date.now() - t0) / 1000).toFixed(0)} s`);
} else log(`reusing ${ARCHIVE} (${fmtBytes(fs.statSync(ARCHIVE).size)})`);

const host = hostInfo(WORK);
const node = process.execPath;
const STRATUM = snapshotStratum(WORK);
const results = [];
async function step(id, what, argv, check) {
  sync();
  const r = await timed(argv);
  const res = { id, what, ok: r.ok, wall: r.wall, cpu: r.cpu, rssKB: r.rssKB };
  if (!r.ok) res.error = `exit ${r.code}: ${(r.stderr || r.stdout).trim().split('\n').slice(-3).join(' | ')}`;
  else if (check) res.sanity = check();
  log(`${id}: ${r.ok ? `${fmtS(r.wall)} wall, ${fmtS(r.cpu)} CPU, peak RSS ${fmtMB(r.rssKB)}` : `FAILED ${res.error}`}${res.sanity ? ` (${res.sanity})` : ''}`);
  results.push(res);
  return r;
}
const checkOut = () => {
  const n = countTree(OUT_DIR);
  const huge = fs.statSync(path.join(OUT_DIR, 'huge', 'blob-0.bin')).size;
  const ok = n === EXPECTED && huge === Math.min(HUGE_CHUNK, HUGE_BYTES);
  return `${ok ? 'ok' : 'WRONG'}: ${n} entries (want ${EXPECTED}), huge/blob-0.bin ${huge} bytes`;
};

const imp = await step('import', 'stratum import ARCHIVE (empty store)', [node, STRATUM, 'import', '-q', '--store', STORE, ARCHIVE]);
const ref = imp.ok ? imp.stdout.trim().split('\n').pop().split('\t')[1] : null;
if (ref) await step('flatten-warm', 'stratum flatten DIGEST OUT (from the store)', [node, STRATUM, 'flatten', '-q', '--store', STORE, ref, OUT_DIR], checkOut);
rmrf(OUT_DIR);
rmrf(STORE);
if (!opts['skip-cold']) {
  await step('flatten-cold', 'stratum flatten ARCHIVE OUT (empty store: import + write)', [node, STRATUM, 'flatten', '-q', '--store', STORE, ARCHIVE, OUT_DIR], checkOut);
  rmrf(OUT_DIR);
  rmrf(STORE);
}
if (opts.clean) rmrf(ARCHIVE);

const lines = [];
lines.push(`stratum memory bench — ${host.date.slice(0, 16).replace('T', ' ')} UTC, ${host.cpus} × ${host.cpuModel}, node ${host.node}, stratum ${host.stratum || '?'}`);
lines.push(`image: scale ${SCALE}, ${layers.length} layers, ${fmtBytes(TOTAL)} of layer tars, ${layers.flat().length} tar entries, one ${fmtBytes(Math.min(HUGE_CHUNK, HUGE_BYTES))} file; final tree ${EXPECTED} entries`);
lines.push('');
lines.push(table(
  ['step', 'what', 'wall', 'CPU', 'peak RSS', `< ${TARGET_MB} MB`],
  results.map((r) => [r.id, r.what, r.ok ? fmtS(r.wall) : 'failed', r.ok ? fmtS(r.cpu) : '-', r.ok ? fmtMB(r.rssKB) : '-', r.ok ? (r.rssKB / 1024 < TARGET_MB ? 'PASS' : 'MISS') : 'n/a']),
  'llrrrl',
));
for (const r of results) {
  if (r.error) lines.push(`FAILED ${r.id}: ${r.error}`);
  if (r.sanity && !r.sanity.startsWith('ok')) lines.push(`WARNING ${r.id}: ${r.sanity}`);
}
process.stdout.write(lines.join('\n') + '\n');
if (opts.json) {
  fs.writeFileSync(opts.json, JSON.stringify({ host, scale: SCALE, layerBytes: TOTAL, layers: layers.length, entries: layers.flat().length, finalEntries: EXPECTED, targetMB: TARGET_MB, results, table: lines.join('\n') }, null, 2) + '\n');
  log(`results written to ${opts.json}`);
}
