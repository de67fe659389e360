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
//   ingest    + readLayerEntries: content files and the index, as import does (sequential here)
//   ingestsync  the same, but each content file written with synchronous fd calls on the main thread
//             (open, write, close: no libuv pool round trips), to compare with ingest
//   import    importImage() of the oci-archive into an empty store: what the CLI's cold import does
//   plan      planImage() from the warm store (index JSON read + overlay merge)
//   write     writeDir() of that plan: the directory writer alone
//   copyonly  the writer's file syscalls without the rest: copyFile of every regular file, 32 in flight
//   meta      chmod + lutimes (+ lchown when not ours) of every entry, 32 in flight, on copyonly's output
//   direct    PROTOTYPE of a store-less cold flatten: pass 1 parses + hashes every layer (2 at once, no
//             content written), pass 2 decompresses again and writes only the plan's winning files
//             straight into OUT with synchronous fd calls (open, write, fchown, fchmod, futimes, close),
//             then symlinks, hardlinks and directory metadata. (It reuses the warm plan; add 'plan'.)
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
    stages: { type: 'string', default: 'read,gunzip,hash,parse,ingest,ingestsync,import,plan,write,copyonly,meta,direct' },
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
process.env.UV_THREADPOOL_SIZE ??= '16'; // as bin/stratum.js does; must be set before the first fs call that uses the pool
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
  const input = fs.createReadStream(file, { highWaterMark: 1 << 16 });
  if (hashes) input.on('data', (c) => hashes.compressed.update(c));
  const gz = input.pipe(zlib.createGunzip());
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
await stage('ingest', '+ content files + index (readLayerEntries)', async () => {
  const dir = path.join(WORK, 'ingest');
  rmrf(dir);
  let files = 0;
  for (const [i, f] of LAYERS.entries()) {
    const data = path.join(dir, String(i));
    fs.mkdirSync(data, { recursive: true });
    const hashes = { compressed: createHash('sha256'), tar: createHash('sha256') };
    const { entries } = await readLayerEntries(gunzipped(f, hashes), data, { label: `layer ${i}`, limits: new LayerLimits() });
    files += entries.filter((e) => e.data !== undefined).length;
  }
  rmrf(dir);
  return `${files} content files`;
});

await stage('ingestsync', '+ content files, written with sync fd calls', async () => {
  const dir = path.join(WORK, 'ingest');
  rmrf(dir);
  let files = 0;
  for (const [i, f] of LAYERS.entries()) {
    const data = path.join(dir, String(i));
    fs.mkdirSync(data, { recursive: true });
    const hashes = { compressed: createHash('sha256'), tar: createHash('sha256') };
    let n = 0;
    for await (const { header, body } of readTar(gunzipped(f, hashes))) {
      const c = classifyEntry(header, { overlayMarkers: true });
      if (!(c.entry && c.entry.kind === 'file' && c.entry.size > 0)) {
        for await (const _ of body);
        continue;
      }
      const h = createHash('sha256');
      const fd = fs.openSync(path.join(data, String(n++)), 'wx', 0o644);
      try {
        for await (const chunk of body) {
          h.update(chunk);
          for (let off = 0; off < chunk.length;) off += fs.writeSync(fd, chunk, off, chunk.length - off);
        }
      } finally {
        fs.closeSync(fd);
      }
      h.digest('hex');
      files++;
    }
  }
  rmrf(dir);
  return `${files} content files`;
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
if (!['write', 'copyonly', 'meta', 'direct'].some((s) => STAGES.has(s))) {
  rmrf(storeDir);
  report();
  process.exit(0);
}
planned ??= await planImage(await Store.open(storeDir), ref);

const out = path.join(WORK, 'out');
rmrf(out);
await stage('write', 'writeDir(): the directory writer', async () => {
  const r = await writeDir(planned.tree, out, { contentPath: planned.contentPath });
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
await stage('copyonly', 'mkdir + copyFile of every regular file', async () => {
  fs.mkdirSync(out);
  for (const d of dirs) fs.mkdirSync(P(d));
  await pool(regular, (l) => fs.promises.copyFile(planned.contentPath(l.inode.content), P(l.path), fs.constants.COPYFILE_EXCL));
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

// ---- direct: the prototype of a store-less cold flatten (see the header)
const { O_WRONLY, O_CREAT, O_EXCL, O_NOFOLLOW } = fs.constants;
async function eachLayer(fn, limit = 2) {
  let next = 0;
  await Promise.all(Array.from({ length: limit }, async () => {
    while (next < LAYERS.length) {
      const i = next++;
      await fn(LAYERS[i], i);
    }
  }));
}
/** Yields [entry, body, data ordinal or -1] exactly as readLayerEntries numbers content files. */
async function* classified(file, hashes) {
  let nextData = 0;
  for await (const { header, body } of readTar(gunzipped(file, hashes))) {
    const c = classifyEntry(header, { overlayMarkers: true });
    let data = -1;
    for (const e of [c.opaque, c.entry]) if (e && e.kind === 'file' && e.size > 0) data = nextData++;
    yield [c.entry, body, data];
  }
}
await stage('direct', 'PROTOTYPE: parse pass + write only the winners, sync fd calls', async () => {
  const uid = process.getuid();
  const gid = process.getgid();
  // pass 1: what import must learn (diffIDs, indexes) without writing any content
  const c0 = process.hrtime.bigint();
  await eachLayer(async (f) => {
    const hashes = { compressed: createHash('sha256'), tar: createHash('sha256') };
    for await (const [, body] of classified(f, hashes)) for await (const _ of body);
    hashes.compressed.digest();
    hashes.tar.digest();
  });
  const pass1 = Number(process.hrtime.bigint() - c0) / 1e9;
  // winners: (layer, data) -> the first name of the inode that owns it
  const winners = new Map();
  for (const l of regular) winners.set(`${l.inode.content.layer}:${l.inode.content.data}`, l);
  fs.mkdirSync(out);
  for (const d of dirs) fs.mkdirSync(P(d), 0o700);
  const c1 = process.hrtime.bigint();
  let written = 0;
  let bytes = 0;
  await eachLayer(async (f, li) => {
    for await (const [, body, data] of classified(f)) {
      const w = data >= 0 ? winners.get(`${li}:${data}`) : undefined;
      if (!w) {
        for await (const _ of body);
        continue;
      }
      const m = w.inode.meta;
      const fd = fs.openSync(P(w.path), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, 0o600);
      try {
        for await (const chunk of body) {
          for (let off = 0; off < chunk.length;) off += fs.writeSync(fd, chunk, off, chunk.length - off);
          bytes += chunk.length;
        }
        if (m.uid !== uid || m.gid !== gid) fs.fchownSync(fd, m.uid, m.gid);
        fs.fchmodSync(fd, m.mode & 0o7777);
        fs.futimesSync(fd, m.mtime, m.mtime);
      } finally {
        fs.closeSync(fd);
      }
      written++;
    }
  });
  const pass2 = Number(process.hrtime.bigint() - c1) / 1e9;
  // the rest from the plan: symlinks, empty files, hardlinks, then directories deepest first
  const first = new Map(regular.map((l) => [l.inode, l.path]));
  let links = 0;
  for (const l of leaves) {
    const m = l.inode.meta;
    if (l.inode.kind === 'symlink') {
      fs.symlinkSync(Buffer.from(l.inode.linkname ?? '', 'latin1'), P(l.path));
      if (m.uid !== uid || m.gid !== gid) fs.lchownSync(P(l.path), m.uid, m.gid);
      fs.lutimesSync(P(l.path), m.mtime, m.mtime);
    } else if (l.inode.kind === 'file' && first.get(l.inode) !== l.path) {
      if (first.has(l.inode)) {
        fs.linkSync(P(first.get(l.inode)), P(l.path));
        links++;
      } else {
        first.set(l.inode, l.path);
        const fd = fs.openSync(P(l.path), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, 0o600);
        if (m.uid !== uid || m.gid !== gid) fs.fchownSync(fd, m.uid, m.gid);
        fs.fchmodSync(fd, m.mode & 0o7777);
        fs.futimesSync(fd, m.mtime, m.mtime);
        fs.closeSync(fd);
      }
    } // devices and fifos: left out of the prototype (a handful of entries)
  }
  const dirNodes = new Map();
  (function walk(node, rel) {
    for (const [name, child] of node.children) {
      if (child.kind !== 'dir') continue;
      const p = rel ? `${rel}/${name}` : name;
      dirNodes.set(p, child);
      walk(child, p);
    }
  })(planned.tree.root, '');
  for (const d of [...dirs].reverse()) {
    const m = dirNodes.get(d).meta;
    fs.lchownSync(P(d), m.uid, m.gid);
    fs.chmodSync(P(d), m.mode & 0o7777);
    fs.lutimesSync(P(d), m.mtime, m.mtime);
  }
  const n = countTree(out);
  return `pass 1 ${pass1.toFixed(2)} s, pass 2 ${pass2.toFixed(2)} s; ${written} files (${(bytes / 2 ** 20).toFixed(0)} MiB), ${links} hardlinks; ${n} entries`;
});
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
