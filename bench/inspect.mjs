#!/usr/bin/env node
// bench/inspect.mjs: `stratum inspect`, `manifest` and `config` read only an archive's JSON, so a
// 1 GB archive should answer about as fast as a 10 MB one (issue 5: big/small ≤ 1.5).
//
//   node bench/inspect.mjs [--runs N] [--big-mb N] [--work DIR] [--keep]
//
// Builds two Docker 25-style archives (OCI layout + manifest.json, one uncompressed layer of
// pseudo-random bytes) under --work (removed afterwards unless --keep), runs each command N times
// against each, interleaved, with one private store, and prints the median wall time, the child's
// CPU time and bytes read, and the big/small ratios. Exits 1 when a wall ratio is over 1.5, or if a
// command unpacked a layer. Needs a built stratum (npm run build).
import { spawnSync } from 'node:child_process';
import { createCipheriv, createHash } from 'node:crypto';
import fs from 'node:fs';
import { once } from 'node:events';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const { values: opts } = parseArgs({
  options: {
    runs: { type: 'string', default: '5' },
    'big-mb': { type: 'string', default: '1024' },
    work: { type: 'string', default: path.join(process.env.TMPDIR || '/tmp', 'stratum-bench-inspect') },
    keep: { type: 'boolean' },
  },
});
const RUNS = Number(opts.runs);
const MB = 1024 * 1024;
const COMMANDS = ['inspect', 'manifest', 'config'];
const TARGET = 1.5;

if (!fs.existsSync(path.join(REPO, 'dist', 'cli', 'main.js'))) {
  console.error('bench/inspect: build stratum first (npm run build)');
  process.exit(2);
}

// ---------------------------------------------------------------- archive generation
/** Pseudo-random bytes, fast and repeatable: AES-CTR over zeros (the same key gives the same stream). */
function* randomChunks(total, key) {
  const cipher = createCipheriv('aes-128-ctr', key, Buffer.alloc(16));
  const zeros = Buffer.alloc(4 * MB);
  for (let left = total; left > 0; left -= zeros.length) yield cipher.update(left >= zeros.length ? zeros : zeros.subarray(0, left));
}

function tarHeader(name, size) {
  const h = Buffer.alloc(512);
  const put = (text, off, len) => h.write(text, off, len, 'latin1');
  const octal = (n, len) => n.toString(8).padStart(len - 1, '0') + '\0';
  put(name, 0, 100);
  put(octal(0o644, 8), 100, 8);
  put(octal(0, 8), 108, 8);
  put(octal(0, 8), 116, 8);
  put(octal(size, 12), 124, 12);
  put(octal(0, 12), 136, 12);
  put('        ', 148, 8);
  put('0', 156, 1);
  put('ustar\x0000', 257, 8);
  let sum = 0;
  for (const b of h) sum += b;
  put(octal(sum, 7) + ' ', 148, 8);
  return h;
}

const pad = (size) => Buffer.alloc((512 - (size % 512)) % 512);
const sha256 = (b) => createHash('sha256').update(b).digest('hex');

/** The layer tar (one file of `bytes`), as chunks. */
function* layerChunks(bytes, key) {
  yield tarHeader('data.bin', bytes);
  yield* randomChunks(bytes, key);
  yield pad(bytes);
  yield Buffer.alloc(1024);
}

async function makeArchive(file, bytes) {
  if (fs.existsSync(file)) return;
  const key = Buffer.alloc(16, bytes % 251);
  const layerSize = 512 + bytes + pad(bytes).length + 1024;
  const hash = createHash('sha256');
  for (const c of layerChunks(bytes, key)) hash.update(c); // first pass: the digest names the blob
  const layerHex = hash.digest('hex');
  const config = Buffer.from(JSON.stringify({
    architecture: 'amd64', os: 'linux', created: '2024-01-01T00:00:00Z', config: { Cmd: ['/bin/sh'] },
    rootfs: { type: 'layers', diff_ids: [`sha256:${layerHex}`] },
    history: [{ created_by: `ADD data.bin / (${bytes} bytes)` }, { created_by: 'CMD ["/bin/sh"]', empty_layer: true }],
  }));
  const manifest = Buffer.from(JSON.stringify({
    schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: `sha256:${sha256(config)}`, size: config.length },
    layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: `sha256:${layerHex}`, size: layerSize }],
  }));
  const index = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.index.v1+json', manifests: [{
    mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: `sha256:${sha256(manifest)}`, size: manifest.length,
    annotations: { 'io.containerd.image.name': 'docker.io/library/bench:latest', 'org.opencontainers.image.ref.name': 'latest' },
  }] }));
  const dockerManifest = Buffer.from(JSON.stringify([{ Config: `blobs/sha256/${sha256(config)}`, RepoTags: ['bench:latest'], Layers: [`blobs/sha256/${layerHex}`] }]));
  const tmp = `${file}.partial`;
  const out = fs.createWriteStream(tmp);
  const write = async (chunk) => { if (!out.write(chunk)) await once(out, 'drain'); };
  const small = async (name, bytesOf) => { await write(tarHeader(name, bytesOf.length)); await write(bytesOf); await write(pad(bytesOf.length)); };
  await small('oci-layout', Buffer.from('{"imageLayoutVersion":"1.0.0"}'));
  await write(tarHeader(`blobs/sha256/${layerHex}`, layerSize));
  for (const c of layerChunks(bytes, key)) await write(c);
  await write(pad(layerSize));
  await small(`blobs/sha256/${sha256(config)}`, config);
  await small(`blobs/sha256/${sha256(manifest)}`, manifest);
  await small('index.json', index);
  await small('manifest.json', dockerManifest);
  await write(Buffer.alloc(1024));
  out.end();
  await once(out, 'finish');
  fs.renameSync(tmp, file);
}

// ---------------------------------------------------------------- timing
/**
 * One run of the CLI's main() in a fresh node: wall time as seen from here, plus the child's own CPU
 * time and bytes read (rchar from /proc/self/io), which a busy machine does not blur.
 */
function timeRun(args) {
  const probe = `const { main } = await import(${JSON.stringify(path.join(REPO, 'dist', 'cli', 'main.js'))});
    const code = await main(${JSON.stringify(args)});
    const cpu = process.cpuUsage();
    let rchar = -1;
    try { rchar = Number(/rchar: (\\d+)/.exec((await import('node:fs')).readFileSync('/proc/self/io', 'utf8'))[1]); } catch {}
    process.stderr.write('\\n' + JSON.stringify({ code, cpu: (cpu.user + cpu.system) / 1e6, rchar }));`;
  const start = process.hrtime.bigint();
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', probe], { stdio: ['ignore', 'ignore', 'pipe'] });
  const wall = Number(process.hrtime.bigint() - start) / 1e9;
  const lines = r.stderr.toString().trim().split('\n');
  const stats = JSON.parse(lines.pop());
  if (r.status !== 0 || stats.code !== 0) throw new Error(`stratum ${args.join(' ')} failed: ${lines.join(' ')}`);
  return { wall, cpu: stats.cpu, rchar: stats.rchar };
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

function layersUnpacked(store) {
  const dir = path.join(store, 'layers', 'sha256');
  return fs.existsSync(dir) ? fs.readdirSync(dir).length : 0;
}

async function main() {
  fs.mkdirSync(opts.work, { recursive: true });
  const archives = { small: [10 * MB, path.join(opts.work, 'small-10MB.tar')], big: [Number(opts['big-mb']) * MB, path.join(opts.work, `big-${opts['big-mb']}MB.tar`)] };
  for (const [name, [bytes, file]] of Object.entries(archives)) {
    process.stderr.write(`making ${name} archive ${file} ...\n`);
    await makeArchive(file, bytes);
  }
  const store = fs.mkdtempSync(path.join(opts.work, 'store-'));
  const rows = [];
  try {
    for (const cmd of COMMANDS) {
      const args = (name) => [cmd, archives[name][1], '--store', store];
      const runs = { small: [], big: [] };
      timeRun(args('small')); // warm the page cache and the store's skeleton
      timeRun(args('big'));
      // Interleaved, so both sizes see the same background load.
      for (let i = 0; i < RUNS; i++) for (const name of ['small', 'big']) runs[name].push(timeRun(args(name)));
      if (layersUnpacked(store) !== 0) throw new Error(`${cmd} unpacked layers into ${store}: it must read metadata only`);
      const pick = (name, key) => median(runs[name].map((r) => r[key]));
      rows.push({ cmd, small: pick('small', 'wall'), big: pick('big', 'wall'), cpuSmall: pick('small', 'cpu'), cpuBig: pick('big', 'cpu'), readSmall: pick('small', 'rchar'), readBig: pick('big', 'rchar') });
    }
  } finally {
    fs.rmSync(store, { recursive: true, force: true });
    if (!opts.keep) for (const [, file] of Object.values(archives)) fs.rmSync(file, { force: true });
  }
  report(rows, archives);
}

function report(rows, archives) {
  const sizeOf = (f) => (fs.existsSync(f) ? `${(fs.statSync(f).size / MB).toFixed(0)} MiB` : '');
  const kb = (n) => (n < 0 ? '?' : `${(n / 1024).toFixed(0)} KiB`);
  console.log(`stratum metadata-only commands, median of ${RUNS} runs each (archives: ${sizeOf(archives.small[1]) || '10 MiB'}, ${sizeOf(archives.big[1]) || `${opts['big-mb']} MiB`})`);
  const headers = ['command', 'wall small', 'wall big', 'big/small', 'cpu small', 'cpu big', 'cpu ratio', 'read small', 'read big'];
  console.log(headers.map((h, i) => (i === 0 ? h.padEnd(10) : h.padStart(11))).join(''));
  let ok = true;
  for (const r of rows) {
    const ratio = r.big / r.small;
    ok &&= ratio <= TARGET;
    const cells = [`${r.small.toFixed(3)}s`, `${r.big.toFixed(3)}s`, ratio.toFixed(2), `${r.cpuSmall.toFixed(3)}s`, `${r.cpuBig.toFixed(3)}s`, (r.cpuBig / r.cpuSmall).toFixed(2), kb(r.readSmall), kb(r.readBig)];
    console.log(r.cmd.padEnd(10) + cells.map((c) => c.padStart(11)).join('') + (ratio <= TARGET ? '' : `  over ${TARGET}`));
  }
  if (!ok) console.log('(wall time over target: if cpu and bytes read agree, the machine was busy; rerun)');
  process.exitCode = ok ? 0 : 1;
}

await main();
