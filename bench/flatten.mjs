#!/usr/bin/env node
// bench/flatten.mjs — stratum flatten against umoci, GNU tar and the cost of writing the result.
//
//   node bench/flatten.mjs [--runs N] [--only REGEX] [--work DIR] [--json FILE]
//   npm run bench -- --runs 5
//
// See bench/README.md for what each row means. Plain Node ESM: no build step of its own
// (stratum itself must be built: dist/).
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import {
  REPO, TIME, checkBuilt, snapshotStratum, countTree, die, ensureTool, fmtMB, fmtS, hostInfo, isRoot, log, median, rmrf, run, sync, table, timed,
} from './lib.mjs';

const HELP = `usage: node bench/flatten.mjs [options]

  --runs N       runs per row (default 3); the table shows medians
  --only REGEX   only the rows whose id matches (ids: stratum-cold, stratum-cold-docker,
                 stratum-cold-zstd, stratum-import, stratum-warm, umoci, tar-replay, floor, gunzip)
  --work DIR     scratch directory for stores and outputs (default $STRATUM_BENCH_WORK or /tmp/stratum-bench)
  --json FILE    also write the results as JSON
  --settle S     seconds to wait before each run once the page cache is reset (default 3): see "Noise"
                 in bench/README.md
  --drop-caches  as root, empty the page cache before each run and re-read only the row's inputs (writes then
                 land in memory the kernel just freed, which this VM makes 5x cheaper: a different regime)
  --baseline DIR another stratum checkout, built (say \`git worktree add /tmp/old REV && cd /tmp/old &&
                 npm ci\`): adds its cold, import and warm rows to the same run, so a change is measured
                 against what it replaced under the same machine conditions
  --keep-node-env
                 run the rows with NODE_EXTRA_CA_CERTS if it is set (by default it is removed: see
                 "Node's start" in bench/README.md)
  --delete-between
                 remove each run's output and store right after it (the old way; needs less disk, but
                 the next rows then pay for ext4 skipping freshly freed inodes)
  -h, --help

env: STRATUM_BENCH_IMAGE   directory of the bench image (default $TMPDIR/stratum-corpus/corpus/debian,
                           built with ../shared/corpus/make-corpus.sh debian when missing)
`;

/** Wall seconds of one short command, without /usr/bin/time. */
function timedSync(argv, env) {
  const t0 = process.hrtime.bigint();
  spawnSync(argv[0], argv.slice(1), { env, stdio: 'ignore' });
  return Number(process.hrtime.bigint() - t0) / 1e9;
}

const TARGETS = { coldVsUmoci: 0.6, coldVsTar: 1.3, warmVsFloor: 1.2, rssMB: 150 };

// ------------------------------------------------------------------------------------ options
let opts;
try {
  opts = parseArgs({
    options: {
      runs: { type: 'string', default: '3' },
      only: { type: 'string' },
      work: { type: 'string', default: process.env.STRATUM_BENCH_WORK || '/tmp/stratum-bench' },
      json: { type: 'string' },
      settle: { type: 'string', default: '3' },
      'delete-between': { type: 'boolean', default: false },
      'keep-node-env': { type: 'boolean', default: false },
      'drop-caches': { type: 'boolean', default: false },
      baseline: { type: 'string' },
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
const RUNS = Number(opts.runs);
if (!Number.isInteger(RUNS) || RUNS < 1) die(`--runs takes a whole number ≥ 1, not "${opts.runs}"`, 2);
const ONLY = opts.only ? new RegExp(opts.only) : null;
const SETTLE = Number(opts.settle);
if (!(SETTLE >= 0)) die(`--settle takes a number of seconds, not "${opts.settle}"`, 2);
const WORK = path.resolve(opts.work);

// ------------------------------------------------------------------------------------ the image
const DEFAULT_IMAGE = path.join(process.env.TMPDIR || '/tmp', 'stratum-corpus', 'corpus', 'debian');
const IMAGE_DIR = path.resolve(process.env.STRATUM_BENCH_IMAGE || DEFAULT_IMAGE);
const MAKE_CORPUS = path.resolve(REPO, '..', 'shared', 'corpus', 'make-corpus.sh');

function findImage(dir) {
  const files = fs.existsSync(dir) ? fs.readdirSync(dir) : [];
  const pick = (re) => {
    const f = files.filter((n) => re.test(n) && !n.includes('podman')).sort()[0];
    return f ? path.join(dir, f) : null;
  };
  const img = {
    dir,
    ociTar: pick(/\.oci\.tar$/),
    dockerTar: pick(/\.docker\.tar$/),
    zstdTar: pick(/\.oci-zstd\.tar$/),
    layout: fs.existsSync(path.join(dir, 'oci', 'index.json')) ? path.join(dir, 'oci') : null,
    rootfsZst: fs.existsSync(path.join(dir, 'groundtruth', 'rootfs.tar.zst')) ? path.join(dir, 'groundtruth', 'rootfs.tar.zst') : null,
    manifestTsv: fs.existsSync(path.join(dir, 'groundtruth', 'manifest.tsv')) ? path.join(dir, 'groundtruth', 'manifest.tsv') : null,
  };
  img.complete = !!(img.ociTar && img.layout && img.rootfsZst);
  return img;
}

let image = findImage(IMAGE_DIR);
if (!image.complete) {
  const missing = ['ociTar', 'layout', 'rootfsZst'].filter((k) => !image[k]).join(', ');
  if (process.env.STRATUM_BENCH_IMAGE) die(`STRATUM_BENCH_IMAGE=${IMAGE_DIR} lacks ${missing} (want NAME.oci.tar, oci/ and groundtruth/rootfs.tar.zst)`);
  if (!isRoot()) die(`the bench image is missing (${IMAGE_DIR}: no ${missing}); build it as root: sudo ${MAKE_CORPUS} debian`);
  if (!fs.existsSync(MAKE_CORPUS)) die(`the bench image is missing and ${MAKE_CORPUS} does not exist`);
  log(`the bench image is missing (${IMAGE_DIR}); building it with ${MAKE_CORPUS} debian.`);
  log('This takes about 3 minutes on a 2-core machine (debootstrap ~1 min, 4 buildah layers, exports, overlayfs ground truth),');
  log('longer the first time: it apt-installs umoci, skopeo, buildah, podman, debootstrap… and downloads Debian packages.');
  const t0 = Date.now();
  try {
    run(['bash', MAKE_CORPUS, 'debian'], { stdio: ['ignore', 'inherit', 'inherit'], env: { ...process.env, OUT: path.dirname(IMAGE_DIR) } });
  } catch (err) {
    die(`make-corpus.sh failed: ${err.message}`);
  }
  log(`built in ${((Date.now() - t0) / 1000).toFixed(0)} s`);
  image = findImage(IMAGE_DIR);
  if (!image.complete) die(`make-corpus.sh ran but ${IMAGE_DIR} is still incomplete; see its make-corpus.log`);
}

// the OCI layout: tag and layer blobs (for umoci, tar replay and gunzip)
const layoutIndex = JSON.parse(fs.readFileSync(path.join(image.layout, 'index.json'), 'utf8'));
const top = layoutIndex.manifests[0];
const TAG = top.annotations?.['org.opencontainers.image.ref.name'] ?? 'corpus';
const blobPath = (d) => path.join(image.layout, 'blobs', ...d.split(':'));
const manifest = JSON.parse(fs.readFileSync(blobPath(top.digest), 'utf8'));
const LAYERS = manifest.layers.map((l) => ({ path: blobPath(l.digest), size: l.size, gzip: /gzip/.test(l.mediaType) }));
if (!LAYERS.every((l) => l.gzip)) die(`${image.layout}: the tar replay and gunzip rows want gzip layers`);
const EXPECTED_ENTRIES = image.manifestTsv ? fs.readFileSync(image.manifestTsv, 'utf8').trim().split('\n').filter((l) => l && !l.startsWith('/\t')).length : null;

// ------------------------------------------------------------------------------------ tools
if (!ensureTool(TIME, 'time')) die(`${TIME} is needed to measure CPU time and peak RSS`);
if (!ensureTool('zstd', 'zstd')) die('zstd is needed to unpack groundtruth/rootfs.tar.zst');
const haveUmoci = ensureTool('umoci', 'umoci');
if (!haveUmoci) log('umoci is missing: its row is skipped');

fs.mkdirSync(WORK, { recursive: true });
const FINAL_TAR = path.join(WORK, 'final.tar');
if (!fs.existsSync(FINAL_TAR) || fs.statSync(FINAL_TAR).mtimeMs < fs.statSync(image.rootfsZst).mtimeMs) {
  log(`making ${FINAL_TAR} from ${image.rootfsZst}`);
  run(['sh', '-c', 'zstd -dcq "$1" > "$2.tmp" && mv "$2.tmp" "$2"', 'sh', image.rootfsZst, FINAL_TAR]);
}
const OUT_ROOT = path.join(WORK, 'out');
const STORES = path.join(WORK, 'stores');
const STORE_WARM = path.join(WORK, 'store-warm');
rmrf(OUT_ROOT);
rmrf(STORES);
fs.mkdirSync(OUT_ROOT);
fs.mkdirSync(STORES);

// ------------------------------------------------------------------------------------ rows
const node = process.execPath;
const stratum = (...args) => [node, STRATUM, ...args];
const baseline = (...args) => [node, BASELINE, ...args];
let warmRef = null;
const BASELINE_DIR = opts.baseline ? path.resolve(opts.baseline) : null;
const STORE_WARM_BASELINE = path.join(WORK, 'store-warm-baseline');

/**
 * Each row: argv(out, store) is the measured command (store: a fresh store directory for this run); before(out) is
 * setup, not measured.
 * check: the output directory whose entry count must equal the final tree's (sanity: a fast wrong answer is no win).
 */
const ROWS = [
  {
    id: 'stratum-cold', label: 'stratum flatten, cold store, oci-archive gzip', input: image.ociTar,
    argv: (out, store) => stratum('flatten', '-q', '--store', store, image.ociTar, out), check: (out) => out,
  },
  {
    id: 'stratum-cold-docker', label: 'stratum flatten, cold store, docker-archive', input: image.dockerTar,
    argv: (out, store) => stratum('flatten', '-q', '--store', store, image.dockerTar, out), check: (out) => out,
  },
  {
    id: 'stratum-cold-zstd', label: 'stratum flatten, cold store, oci-archive zstd', input: image.zstdTar,
    argv: (out, store) => stratum('flatten', '-q', '--store', store, image.zstdTar, out), check: (out) => out,
  },
  {
    id: 'stratum-import', label: 'stratum import only, cold store, oci gzip', input: image.ociTar,
    argv: (_out, store) => stratum('import', '-q', '--store', store, image.ociTar),
  },
  {
    id: 'stratum-warm', label: 'stratum flatten, warm store', input: image.ociTar,
    argv: (out) => stratum('flatten', '-q', '--store', STORE_WARM, warmRef, out), check: (out) => out,
  },
  {
    id: 'umoci', label: 'umoci raw unpack', input: haveUmoci ? image.layout : null,
    argv: (out) => ['umoci', 'raw', 'unpack', '--image', `${image.layout}:${TAG}`, out], check: (out) => out,
  },
  {
    id: 'tar-replay', label: 'GNU tar -xzf of each layer in order', input: image.layout,
    before: (out) => fs.mkdirSync(out),
    argv: (out) => ['sh', '-c', 'out=$1; shift; for b; do tar -xzf "$b" -C "$out" || exit; done', 'sh', out, ...LAYERS.map((l) => l.path)],
  },
  {
    id: 'floor', label: 'GNU tar -xf of the final tree (floor)', input: FINAL_TAR,
    before: (out) => fs.mkdirSync(out), argv: (out) => ['tar', '-xf', FINAL_TAR, '-C', out], check: (out) => out,
  },
  {
    id: 'gunzip', label: 'gzip -dc of each layer > /dev/null', input: image.layout,
    argv: () => ['sh', '-c', 'for b; do gzip -dc "$b" > /dev/null || exit; done', 'sh', ...LAYERS.map((l) => l.path)],
  },
  ...(BASELINE_DIR ? [
    { id: 'baseline-cold', label: 'baseline: flatten, cold store, oci gzip', input: image.ociTar, argv: (out, store) => baseline('flatten', '-q', '--store', store, image.ociTar, out), check: (out) => out },
    { id: 'baseline-import', label: 'baseline: import only, oci gzip', input: image.ociTar, argv: (_out, store) => baseline('import', '-q', '--store', store, image.ociTar) },
    { id: 'baseline-warm', label: 'baseline: flatten, warm store', input: image.ociTar, argv: (out) => baseline('flatten', '-q', '--store', STORE_WARM_BASELINE, warmRef, out), check: (out) => out },
  ] : []),
].filter((r) => r.input && (!ONLY || ONLY.test(r.id)));
if (!ROWS.length) die(`no rows match --only ${opts.only}`, 2);
let STRATUM = null;
if (ROWS.some((r) => r.id.startsWith('stratum'))) {
  checkBuilt();
  STRATUM = snapshotStratum(WORK);
}
const BASELINE = BASELINE_DIR ? snapshotStratum(WORK, BASELINE_DIR, 'baseline') : null;

// ------------------------------------------------------------------------------------ run
const host = hostInfo(WORK);
// NODE_EXTRA_CA_CERTS makes every node process parse that certificate bundle before any script runs (~90 ms on
// the dev VM, whose shell sets it): a cost of the machine's setup, not of stratum, which opens no TLS connection.
const ROW_ENV = { ...process.env };
if (process.env.NODE_EXTRA_CA_CERTS !== undefined) {
  const start = (env) => median([0, 1, 2, 3, 4].map(() => timedSync([node, '-e', '0'], env)));
  const withIt = start(process.env);
  if (!opts['keep-node-env']) delete ROW_ENV.NODE_EXTRA_CA_CERTS;
  const { NODE_EXTRA_CA_CERTS: _, ...bare } = process.env;
  const without = start(bare);
  host.nodeStart = `node -e 0: ${fmtS(opts['keep-node-env'] ? withIt : without)} (${fmtS(withIt)} with NODE_EXTRA_CA_CERTS, ${opts['keep-node-env'] ? 'kept' : 'removed from the rows\' environment'})`;
  log(`NODE_EXTRA_CA_CERTS is set: node -e 0 takes ${fmtS(withIt)} with it and ${fmtS(without)} without; ${opts['keep-node-env'] ? 'kept (--keep-node-env)' : 'the rows run without it (--keep-node-env keeps it)'}`);
} else {
  host.nodeStart = `node -e 0: ${fmtS(median([0, 1, 2, 3, 4].map(() => timedSync([node, '-e', '0'], process.env))))}`;
}
log(`image ${IMAGE_DIR} (${LAYERS.length} layers${EXPECTED_ENTRIES ? `, ${EXPECTED_ENTRIES} entries in the final tree` : ''}); work dir ${WORK}`);
if (host.loadavg[0] > host.cpus * 0.5) log(`warning: the machine is busy (load ${host.loadavg[0]} on ${host.cpus} CPUs): wall times will be noisy`);
if (host.workFsJournal === false && ROWS.some((r) => r.id === 'umoci' || r.id === 'tar-replay')) {
  // umoci removes what whiteouts hide and tar unlinks a name before writing it again: thousands of deletes a run.
  log(`warning: ${WORK} is on ext4 without a journal, where a create skips every inode freed in the last 60-360 s: the rows after umoci and tar-replay create files slower (see bench/README.md); --work on a journaled filesystem avoids it`);
}

if (ROWS.some((r) => r.id === 'stratum-warm')) {
  rmrf(STORE_WARM);
  const t0 = Date.now();
  const out = run(stratum('import', '-q', '--store', STORE_WARM, image.ociTar));
  warmRef = out.trim().split('\n').pop().split('\t')[1];
  if (!/^sha256:[0-9a-f]{64}$/.test(warmRef ?? '')) die(`stratum import printed no manifest digest: ${JSON.stringify(out)}`);
  log(`warm store: imported ${path.basename(image.ociTar)} as ${warmRef.slice(0, 19)} in ${((Date.now() - t0) / 1000).toFixed(1)} s (not measured)`);
}
if (ROWS.some((r) => r.id === 'baseline-warm')) {
  rmrf(STORE_WARM_BASELINE);
  const out = run(baseline('import', '-q', '--store', STORE_WARM_BASELINE, image.ociTar));
  warmRef ??= out.trim().split('\n').pop().split('\t')[1];
}

// What each row reads. All of it is read into the page cache once up front, so the first row does not pay for
// disk reads the others do not (a warm store's layers too: the import wrote them around the cache, O_DIRECT),
// and again before each run with --drop-caches.
const INPUTS = {
  'stratum-cold': [image.ociTar], 'stratum-cold-docker': [image.dockerTar], 'stratum-cold-zstd': [image.zstdTar],
  'stratum-import': [image.ociTar], 'stratum-warm': [path.join(STORE_WARM, 'layers')],
  'baseline-cold': [image.ociTar], 'baseline-import': [image.ociTar], 'baseline-warm': [path.join(STORE_WARM_BASELINE, 'layers')],
  umoci: [image.layout], 'tar-replay': LAYERS.map((l) => l.path), floor: [FINAL_TAR], gunzip: LAYERS.map((l) => l.path),
};
const filesUnder = (p) => (fs.statSync(p).isDirectory() ? fs.readdirSync(p).flatMap((n) => filesUnder(path.join(p, n))) : [p]);
const readInputs = (rows) => {
  for (const f of new Set(rows.flatMap((r) => INPUTS[r.id].flatMap(filesUnder)))) run(['sh', '-c', 'cat "$1" > /dev/null', 'sh', f]);
};
readInputs(ROWS);
const canDropCaches = opts['drop-caches'] && isRoot() && fs.existsSync('/proc/sys/vm/drop_caches');
if (opts['drop-caches'] && !canDropCaches) log('not root: the page cache is not reset between runs');

// Outputs and stores stay until the end: on ext4 without a journal (this VM), every inode created in the
// minute after a mass delete first skips all the freshly freed ones, and a row ran up to 2x slower after a
// row that had just removed 10,000 files. Keeping them needs about 1 GB per run and row.
let DELETE_BETWEEN = opts['delete-between'];
const needGB = ROWS.length * RUNS * 1.2;
const freeGB = fs.statfsSync(WORK).bavail * fs.statfsSync(WORK).bsize / 2 ** 30;
if (!DELETE_BETWEEN && freeGB < needGB + 5) {
  log(`only ${freeGB.toFixed(0)} GB free in ${WORK}, keeping every output needs about ${needGB.toFixed(0)} GB: removing each run's output after it`);
  DELETE_BETWEEN = true;
}

log(`${host.cpus} CPUs, load average ${host.loadavg.join(' ')}, nice ${host.nice}; ${ROWS.length} rows × ${RUNS} runs, ${canDropCaches ? 'page cache reset to the row\'s inputs' : 'warm page cache'} and ${SETTLE} s settle before each run, outputs ${DELETE_BETWEEN ? 'removed after each run' : 'kept until the end'}`);
const results = Object.fromEntries(ROWS.map((r) => [r.id, { id: r.id, label: r.label, argv: null, runs: [], errors: [], sanity: null }]));
for (let i = 0; i < RUNS; i++) {
  for (const row of ROWS) {
    const res = results[row.id];
    const out = path.join(OUT_ROOT, `${row.id}-${i + 1}`);
    const store = path.join(STORES, `${row.id}-${i + 1}`);
    rmrf(out);
    row.before?.(out);
    // Every run starts from the same state: nothing dirty, nothing freed lately, memory settled. On this VM memory
    // the kernel freed is reused cheaply for a few seconds, then the host takes it back and touching it again costs
    // ~2.6 ms per MB; when outputs were removed between runs, a row ran faster or slower depending on how much the
    // row before it had just freed.
    sync();
    if (canDropCaches) {
      fs.writeFileSync('/proc/sys/vm/drop_caches', '1');
      readInputs([row]);
    }
    await new Promise((r) => setTimeout(r, SETTLE * 1000));
    const argv = row.argv(out, store);
    res.argv ??= argv.map((a) => a.replace(out, '$OUT').replace(store, '$STORE'));
    const r = await timed(argv, { cwd: REPO, env: ROW_ENV });
    if (!r.ok) {
      const msg = `exit ${r.code}: ${(r.stderr || r.stdout).trim().split('\n').slice(-3).join(' | ')}`;
      res.errors.push(msg);
      log(`${row.id} run ${i + 1}: FAILED ${msg}`);
    } else {
      res.runs.push({ wall: r.wall, user: r.user, sys: r.sys, cpu: r.cpu, rssKB: r.rssKB });
      log(`${row.id} run ${i + 1}: ${fmtS(r.wall)} wall, ${fmtS(r.cpu)} CPU, ${fmtMB(r.rssKB)}`);
      if (i === 0 && row.check && EXPECTED_ENTRIES !== null) {
        const n = countTree(row.check(out));
        res.sanity = { entries: n, expected: EXPECTED_ENTRIES, ok: n === EXPECTED_ENTRIES };
        if (n !== EXPECTED_ENTRIES) log(`warning: ${row.id} wrote ${n} entries, the final tree has ${EXPECTED_ENTRIES}`);
      }
    }
    if (DELETE_BETWEEN) {
      rmrf(out);
      rmrf(store);
    }
  }
}
rmrf(STORES);
rmrf(STORE_WARM);
rmrf(STORE_WARM_BASELINE);
rmrf(OUT_ROOT);
host.loadavgAfter = (await import('node:os')).default.loadavg().map((x) => +x.toFixed(2));

// ------------------------------------------------------------------------------------ report
for (const res of Object.values(results)) {
  const rs = res.runs;
  res.median = rs.length ? {
    wall: median(rs.map((x) => x.wall)),
    cpu: median(rs.map((x) => x.cpu)),
    user: median(rs.map((x) => x.user)),
    sys: median(rs.map((x) => x.sys)),
    rssKB: Math.max(...rs.map((x) => x.rssKB)),
  } : null;
  res.min = rs.length ? Math.min(...rs.map((x) => x.wall)) : undefined;
  res.max = rs.length ? Math.max(...rs.map((x) => x.wall)) : undefined;
}
const m = (id) => results[id]?.median ?? null;
const ratio = (a, b, k = 'wall') => (m(a) && m(b) ? +(m(a)[k] / m(b)[k]).toFixed(2) : null);

const rows = Object.values(results).map((r) => [
  r.id,
  r.label,
  r.median ? fmtS(r.median.wall) : 'failed',
  r.median && r.runs.length > 1 ? `${r.min.toFixed(2)}–${r.max.toFixed(2)}` : '',
  r.median ? fmtS(r.median.cpu) : '-',
  r.median ? `${r.median.user.toFixed(2)}+${r.median.sys.toFixed(2)}` : '-',
  r.median ? fmtMB(r.median.rssKB) : '-',
  `${r.runs.length}/${RUNS}`,
]);
const lines = [];
lines.push(`stratum flatten bench — ${host.date.slice(0, 16).replace('T', ' ')} UTC, ${host.cpus} × ${host.cpuModel}, node ${host.node}, ${host.workFs} work dir, load ${host.loadavg[0]} → ${host.loadavgAfter[0]}`);
lines.push(`image: ${IMAGE_DIR} (${LAYERS.length} layers, ${EXPECTED_ENTRIES ?? '?'} entries); stratum ${host.stratum || '?'}; ${RUNS} runs per row, warm page cache; ${host.nodeStart}`);
lines.push('');
lines.push(table(['row', 'what', 'wall (median)', 'wall range', 'CPU', 'user+sys', 'peak RSS', 'ok'], rows, 'llrrrrrr'));
lines.push('');

const PAIRS = {
  'stratum cold / umoci': ['stratum-cold', 'umoci'],
  'stratum cold / tar replay': ['stratum-cold', 'tar-replay'],
  'stratum warm / write floor': ['stratum-warm', 'floor'],
  'umoci / tar replay': ['umoci', 'tar-replay'],
  'umoci / write floor': ['umoci', 'floor'],
  'stratum import / stratum cold': ['stratum-import', 'stratum-cold'],
  'stratum cold / baseline cold': ['stratum-cold', 'baseline-cold'],
  'stratum import / baseline import': ['stratum-import', 'baseline-import'],
  'stratum warm / baseline warm': ['stratum-warm', 'baseline-warm'],
};
const ratios = Object.fromEntries(Object.entries(PAIRS).map(([k, [a, b]]) => [k, ratio(a, b)]));
const cpuRatios = Object.fromEntries(Object.entries(PAIRS).map(([k, [a, b]]) => [k, ratio(a, b, 'cpu')]));
// Run i of every row ran within the same minute or so (round-robin): the ratio within each round is less at the mercy
// of the machine drifting over the whole bench. For information: the targets are judged on the ratio of medians.
const paired = (a, b) => {
  const ra = results[a]?.runs ?? [];
  const rb = results[b]?.runs ?? [];
  if (ra.length !== RUNS || rb.length !== RUNS || RUNS < 2) return '';
  const each = ra.map((r, i) => r.wall / rb[i].wall).sort((x, y) => x - y);
  return `${median(each).toFixed(2)}× (${each[0].toFixed(2)}–${each.at(-1).toFixed(2)})`;
};
lines.push(table(
  ['ratio of medians', 'wall', 'CPU (info)', 'per round (info)'],
  Object.keys(PAIRS).filter((k) => ratios[k] !== null).map((k) => [k, `${ratios[k].toFixed(2)}×`, `${cpuRatios[k].toFixed(2)}×`, paired(...PAIRS[k])]),
  'lrrr',
));
lines.push('');

const stratumRss = Object.values(results).filter((r) => r.id.startsWith('stratum') && r.median).map((r) => [r.id, r.median.rssKB]);
const worstRss = stratumRss.sort((a, b) => b[1] - a[1])[0];
const verdict = (v, limit) => (v === null || v === undefined ? 'n/a ' : v <= limit ? 'PASS' : 'MISS');
const targets = [
  { target: `stratum cold ≤ ${TARGETS.coldVsUmoci}× umoci raw unpack`, value: ratios['stratum cold / umoci'], limit: TARGETS.coldVsUmoci, unit: '×' },
  { target: `stratum cold ≤ ${TARGETS.coldVsTar}× GNU tar replay`, value: ratios['stratum cold / tar replay'], limit: TARGETS.coldVsTar, unit: '×' },
  { target: `stratum warm ≤ ${TARGETS.warmVsFloor}× write floor`, value: ratios['stratum warm / write floor'], limit: TARGETS.warmVsFloor, unit: '×' },
  { target: `stratum peak RSS ≤ ${TARGETS.rssMB} MB (worst row${worstRss ? `: ${worstRss[0]}` : ''})`, value: worstRss ? Math.round(worstRss[1] / 1024) : null, limit: TARGETS.rssMB, unit: ' MB' },
];
for (const t of targets) t.verdict = verdict(t.value, t.limit).trim();
lines.push(table(['target (issue 3)', 'measured', 'verdict'], targets.map((t) => [t.target, t.value === null ? '-' : `${t.value}${t.unit}`, t.verdict]), 'lrl'));
const sanityBad = Object.values(results).filter((r) => r.sanity && !r.sanity.ok);
if (sanityBad.length) {
  lines.push('');
  for (const r of sanityBad) lines.push(`WARNING: ${r.id} wrote ${r.sanity.entries} entries; the final tree has ${r.sanity.expected}`);
}
const failed = Object.values(results).filter((r) => r.errors.length);
if (failed.length) {
  lines.push('');
  for (const r of failed) lines.push(`FAILED ${r.id}: ${r.errors[0]}`);
}
process.stdout.write(lines.join('\n') + '\n');

if (opts.json) {
  const doc = { host, image: { dir: IMAGE_DIR, tag: TAG, layers: LAYERS, entries: EXPECTED_ENTRIES }, runs: RUNS, rows: results, ratios, cpuRatios, targets, table: lines.join('\n') };
  fs.writeFileSync(opts.json, JSON.stringify(doc, null, 2) + '\n');
  log(`results written to ${opts.json}`);
}
