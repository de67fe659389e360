#!/usr/bin/env node
// bench/profile.mjs — where does stratum's flatten time go? Runs the pipeline's stages one by one in
// this process, through the library in dist/ (a snapshot, like the other benches), and prints wall
// time, CPU time (all threads: main + libuv pool + zlib) and RSS per stage.
//
//   node bench/profile.mjs [--work DIR] [--stages LIST]
//
// Stages (default all), on the bench image's OCI gzip layers, one layer after the other:
//   read      read every layer blob from disk
//   gunzip    + zlib gunzip
//   hash      + sha256 of the compressed and the uncompressed bytes (digest and diffID)
//   parse     + the tar reader (bodies read and dropped)
//   ingest    + readLayerEntries: the index, each file's body hashed (sequential here; nothing written)
//   import    importImage() of the oci-archive into an empty store: what the CLI's cold import does
//   plan      planImage() from the warm store (index JSON read + overlay merge)
//   write     writeDir() of that plan: the directory writer alone
//   copyonly  the writer's file syscalls without the rest: open, pread from layer.tar, write, close
//   meta      chmod + lutimes (+ lchown when not ours) of every entry, 32 in flight, on copyonly's output
// For a CPU profile of the CLI itself: node --cpu-prof --cpu-prof-dir=DIR bin/stratum.js flatten ...
// (then node bench/cpuprofile-summary.mjs DIR/*.cpuprofile).
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import zlib from 'node:zlib';
import { countTree, die, log, rmrf, snapshotStratum, sync, table } from './lib.mjs';

const { values: opts } = parseArgs({
  options: {
    work: { type: 'string', default: path.join(process.env.STRATUM_BENCH_WORK || '/tmp/stratum-bench', 'profile') },
    stages: { type: 'string', default: 'read,gunzip,hash,parse,ingest,import,plan,write,copyonly,meta' },
  },
});
const WORK = path.resolve(opts.work);
const STAGES = new Set(opts.stages.split(','));
const IMAGE_DIR = path.resolve(process.env.STRATUM_BENCH_IMAGE || path.join(process.env.TMPDIR || '/tmp', 'stratum-corpus', 'corpus', 'debian'));
const ociTar = fs.readdirSync(IMAGE_DIR).find((n) => n.endsWith('.oci.tar') && !n.includes('podman'));
if (!ociTar) die(`no *.oci.tar in ${IMAGE_DIR}; run bench/flatten.mjs once to build the bench image`);
const layout = path.join(IMAGE_DIR, 'oci');
const blob = (d) => path.join(layout, 'blobs', ...d.split(':'));
const top = JSON.parse(fs.readFileSync(path.join(layout, 'index.json'), 'utf8')).manifests[0];
const LAYERS = JSON.parse(fs.readFileSync(blob(top.digest), 'utf8')).layers.map((l) => blob(l.digest));

fs.mkdirSync(WORK, { recursive: true });
const bin = snapshotStratum(WORK);
const dist = path.join(path.dirname(bin), '..', 'dist');
const lib = async (p) => import(pathToFileURL(path.join(dist, p)).href);
const { Store } = await lib('store/store.js');
const { importImage } = await lib('ops/import-image.js');
const { planImage } = await lib('ops/flatten.js');
const { writeDir } = await lib('write/dir-writer.js');
const { readTar } = await lib('tar/reader.js');
const { readLayerEntries } = await lib('store/layer-entries.js');
const { LayerLimits } = await lib('store/limits.js');
const { classifyEntry } = await lib('layer/classify.js');

const results = [];
async function stage(name, what, fn) {
  if (!STAGES.has(name)) return undefined;
  sync();
  const c0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  const extra = await fn();
  const wall = Number(process.hrtime.bigint() - t0) / 1e9;
  const c = process.cpuUsage(c0);
  const r = { name, what, wall, user: c.user / 1e6, sys: c.system / 1e6, rssMB: process.memoryUsage().rss / 2 ** 20, extra };
  results.push(r);
  log(`${name}: ${wall.toFixed(2)} s wall, ${(r.user + r.sys).toFixed(2)} s CPU${extra ? ` (${extra})` : ''}`);
  return r;
}

async function* gunzipped(file, hashes) {
  const input = fs.createReadStream(file, { highWaterMark: 1 << 20 }); // as the archive readers
  if (hashes) input.on('data', (c) => hashes.compressed.update(c));
  const gz = input.pipe(zlib.createGunzip({ chunkSize: 256 * 1024 })); // as src/compress/decompress.ts
  for await (const chunk of gz) {
    hashes?.tar.update(chunk);
    yield chunk;
  }
}

await stage('read', 'read the layer blobs', async () => {
  let n = 0;
  for (const f of LAYERS) for await (const c of fs.createReadStream(f, { highWaterMark: 1 << 16 })) n += c.length;
  return `${(n / 2 ** 20).toFixed(0)} MiB`;
});
await stage('gunzip', '+ gunzip (zlib)', async () => {
  let n = 0;
  for (const f of LAYERS) for await (const c of gunzipped(f)) n += c.length;
  return `${(n / 2 ** 20).toFixed(0)} MiB of tar`;
});
await stage('hash', '+ sha256 of blob and tar', async () => {
  for (const f of LAYERS) {
    const hashes = { compressed: createHash('sha256'), tar: createHash('sha256') };
    for await (const _ of gunzipped(f, hashes));
    hashes.compressed.digest();
    hashes.tar.digest();
  }
});
await stage('parse', '+ tar reader, bodies dropped', async () => {
  let entries = 0;
  for (const f of LAYERS) {
    const hashes = { compressed: createHash('sha256'), tar: createHash('sha256') };
    for await (const { body } of readTar(gunzipped(f, hashes))) {
      entries++;
      for await (const _ of body);
    }
  }
  return `${entries} entries`;
});
await stage('ingest', '+ index and body hashes (readLayerEntries)', async () => {
  const dir = path.join(WORK, 'ingest');
  rmrf(dir);
  let files = 0;
  for (const [i, f] of LAYERS.entries()) {
    const data = path.join(dir, String(i));
    fs.mkdirSync(data, { recursive: true });
    const hashes = { compressed: createHash('sha256'), tar: createHash('sha256') };
    const { entries } = await readLayerEntries(gunzipped(f, hashes), data, { label: `layer ${i}`, limits: new LayerLimits() });
    files += entries.filter((e) => e.sha256 !== undefined).length;
  }
  rmrf(dir);
  return `${files} files hashed`;
});

const storeDir = path.join(WORK, 'store');
rmrf(storeDir);
let ref = null;
await stage('import', 'importImage(): cold store (layers in parallel, blob kept)', async () => {
  const store = await Store.open(storeDir);
  const r = await importImage(store, path.join(IMAGE_DIR, ociTar));
  ref = r.image.manifestDigest;
});
if (!ref && ['plan', 'write', 'copyonly', 'meta'].some((s) => STAGES.has(s))) {
  const store = await Store.open(storeDir);
  ref = (await importImage(store, path.join(IMAGE_DIR, ociTar))).image.manifestDigest;
}
let planned = null;
await stage('plan', 'planImage(): indexes + merge', async () => {
  planned = await planImage(await Store.open(storeDir), ref);
});
if (!['write', 'copyonly', 'meta'].some((s) => STAGES.has(s))) {
  rmrf(storeDir);
  report();
  process.exit(0);
}
planned ??= await planImage(await Store.open(storeDir), ref);

const out = path.join(WORK, 'out');
rmrf(out);
await stage('write', 'writeDir(): the directory writer', async () => {
  const r = await writeDir(planned.tree, out, { locate: planned.locate });
  return `${r.files} files, ${r.dirs} dirs, ${r.symlinks} symlinks`;
});
rmrf(out);

// The writer's costs one at a time: the same leaves, 32 in flight, into a plain tree.
const leaves = [];
const dirs = [];
(function walk(node, rel) {
  for (const [name, child] of node.children) {
    const p = rel ? `${rel}/${name}` : name;
    if (child.kind === 'dir') {
      dirs.push(p);
      walk(child, p);
    } else leaves.push({ path: p, inode: child.inode });
  }
})(planned.tree.root, '');
const P = (rel) => Buffer.from(`${out}/${rel}`, 'latin1');
async function pool(items, fn, limit = 32) {
  let next = 0;
  await Promise.all(Array.from({ length: limit }, async () => {
    while (next < items.length) await fn(items[next++]);
  }));
}
const seen = new Set();
const regular = leaves.filter((l) => l.inode.kind === 'file' && l.inode.content !== undefined && !seen.has(l.inode) && seen.add(l.inode));
await stage('copyonly', 'mkdir + pread/write of every regular file from the stored layer tars', async () => {
  fs.mkdirSync(out);
  for (const d of dirs) fs.mkdirSync(P(d));
  const fds = new Map();
  const buf = Buffer.allocUnsafe(1 << 20);
  for (const l of regular) {
    const loc = planned.locate(l.inode);
    if (!fds.has(loc.file)) fds.set(loc.file, fs.openSync(loc.file, 'r'));
    const fd = fs.openSync(P(l.path), 'wx', 0o600);
    for (let pos = 0; pos < loc.size; ) {
      const n = fs.readSync(fds.get(loc.file), buf, 0, Math.min(buf.length, loc.size - pos), loc.offset + pos);
      fs.writeSync(fd, buf, 0, n);
      pos += n;
    }
    fs.closeSync(fd);
  }
  for (const fd of fds.values()) fs.closeSync(fd);
  return `${regular.length} files`;
});
await stage('meta', 'chmod + lutimes (+ lchown if needed) of every file and dir', async () => {
  const uid = process.getuid();
  let chowns = 0;
  const items = [...regular.map((l) => ({ path: l.path, meta: l.inode.meta })), ...dirs.map((d) => ({ path: d, meta: null }))];
  await pool(items, async (it) => {
    const meta = it.meta ?? { mode: 0o755, uid, gid: uid, mtime: 1_700_000_000 };
    if (meta.uid !== uid || meta.gid !== uid) {
      chowns++;
      await fs.promises.lchown(P(it.path), meta.uid, meta.gid);
    }
    await fs.promises.chmod(P(it.path), meta.mode & 0o7777);
    await fs.promises.lutimes(P(it.path), meta.mtime, meta.mtime);
  });
  return `${items.length} entries, ${chowns} chowns`;
});
rmrf(out);

rmrf(out);
rmrf(storeDir);

report();

function report() {
  process.stdout.write(table(
  ['stage', 'what', 'wall', 'user', 'sys', 'RSS', 'note'],
  results.map((r) => [r.name, r.what, `${r.wall.toFixed(2)} s`, `${r.user.toFixed(2)}`, `${r.sys.toFixed(2)}`, `${r.rssMB.toFixed(0)} MB`, r.extra ?? '']),
  'llrrrrl',
) + '\n');
}
