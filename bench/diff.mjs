#!/usr/bin/env node
// bench/diff.mjs — stratum diff of two versions of one image that share a base: warm (both already in
// the store) and cold (empty store), beside what a cold diff has to cost at least (importing OLD, then
// NEW's changed layers) and one cold `stratum flatten` of NEW.
//
//   node bench/diff.mjs [--runs N] [--old IMAGE --new IMAGE] [--work DIR] [--json FILE]
//
// The default pair is app-v1/app-v2 of ../shared/corpus/make-corpus.sh app (built when missing, as root).
// If that cannot be built, a pair is derived from the debian bench image with umoci: v2 = v1 + one small
// layer + a changed env. stratum itself must be built (dist/).
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { REPO, checkBuilt, die, fmtMB, fmtS, hostInfo, isRoot, log, median, rmrf, run, snapshotStratum, table, timed } from './lib.mjs';

const HELP = `usage: node bench/diff.mjs [--runs N] [--old IMAGE --new IMAGE] [--work DIR] [--json FILE]\n`;
let opts;
try {
  opts = parseArgs({
    options: {
      runs: { type: 'string', default: '5' },
      old: { type: 'string' },
      new: { type: 'string' },
      work: { type: 'string', default: process.env.STRATUM_BENCH_WORK || '/tmp/stratum-bench-diff' },
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
const RUNS = Number(opts.runs);
if (!Number.isInteger(RUNS) || RUNS < 1) die(`--runs takes a whole number ≥ 1, not "${opts.runs}"`, 2);
const WORK = path.resolve(opts.work);
const CORPUS = path.join(process.env.TMPDIR || '/tmp', 'stratum-corpus', 'corpus');
const MAKE_CORPUS = path.resolve(REPO, '..', 'shared', 'corpus', 'make-corpus.sh');

// ------------------------------------------------------------------------------------ the pair
function corpusPair() {
  const p = (v) => path.join(CORPUS, `app-v${v}`, `app-v${v}.oci.tar`);
  return fs.existsSync(p(1)) && fs.existsSync(p(2)) ? { old: p(1), new: p(2), what: 'make-corpus.sh app: app-v1 → app-v2 (oci-archive, gzip)' } : null;
}

/** v2 = the debian bench image + one layer (a config edit, a new file, a removal) + a changed env, by umoci. */
function derivedPair() {
  const layout = path.join(CORPUS, 'debian', 'oci');
  if (!fs.existsSync(path.join(layout, 'index.json'))) return null;
  const dir = path.join(WORK, 'derived');
  const v2 = path.join(dir, 'oci');
  if (!fs.existsSync(path.join(v2, 'index.json'))) {
    log(`deriving a v2 from ${layout} with umoci`);
    rmrf(dir);
    fs.mkdirSync(path.join(dir, 'layer', 'etc'), { recursive: true });
    fs.mkdirSync(path.join(dir, 'layer', 'opt', 'app'), { recursive: true });
    fs.writeFileSync(path.join(dir, 'layer', 'etc', 'motd'), 'stratum diff bench v2\n');
    fs.writeFileSync(path.join(dir, 'layer', 'opt', 'app', 'config.yaml'), 'name: corpus\nport: 9090\n');
    fs.writeFileSync(path.join(dir, 'layer', 'opt', 'app', '.wh.blob.bin'), '');
    run(['cp', '-a', layout, v2]);
    const tag = JSON.parse(fs.readFileSync(path.join(v2, 'index.json'), 'utf8')).manifests[0].annotations['org.opencontainers.image.ref.name'];
    run(['tar', '-C', path.join(dir, 'layer'), '--owner=0', '--group=0', '-cf', path.join(dir, 'layer.tar'), '.']);
    run(['umoci', 'raw', 'add-layer', '--image', `${v2}:${tag}`, '--tag', 'v2', path.join(dir, 'layer.tar')]);
    run(['umoci', 'config', '--image', `${v2}:v2`, '--config.env', 'APP_VERSION=2', '--history.created_by', 'bench: ENV APP_VERSION=2']);
    run(['umoci', 'rm', '--image', `${v2}:${tag}`]);
  }
  return { old: layout, new: v2, what: 'debian bench image → + 1 umoci layer and an env change (OCI layouts)' };
}

/** The pairs to measure: --old/--new, else app-v1/app-v2 (built when missing, as root) and the derived debian pair. */
function findPairs() {
  if (opts.old || opts.new) {
    if (!opts.old || !opts.new) die('give both --old and --new', 2);
    return [{ id: 'given', old: path.resolve(opts.old), new: path.resolve(opts.new), what: 'given on the command line' }];
  }
  let app = corpusPair();
  if (!app && isRoot() && fs.existsSync(MAKE_CORPUS)) {
    log(`app-v1/app-v2 are missing; building them with ${MAKE_CORPUS} app (a few minutes)`);
    try {
      run(['bash', MAKE_CORPUS, 'app'], { stdio: ['ignore', 'inherit', 'inherit'], env: { ...process.env, OUT: CORPUS } });
    } catch (err) {
      log(`make-corpus.sh app failed: ${err.message}`);
    }
    app = corpusPair();
  }
  const pairs = [app && { id: 'app', ...app }, (() => { const d = derivedPair(); return d && { id: 'debian', ...d }; })()].filter(Boolean);
  if (!pairs.length) die(`no image pair: build one with sudo ${MAKE_CORPUS} app (or debian), or pass --old and --new`);
  return pairs;
}

// ------------------------------------------------------------------------------------ measuring
checkBuilt();
fs.mkdirSync(WORK, { recursive: true });
const pairs = findPairs();
const BIN = snapshotStratum(WORK);
const stratum = (args, store) => timed([process.execPath, BIN, ...args, '--store', store, '-q']);

async function row(id, what, prepare, args) {
  const results = [];
  for (let i = 0; i < RUNS; i++) {
    const store = prepare();
    const r = await stratum(args, store);
    if (!r.ok && !(args[0] === 'diff' && r.code === 1)) die(`${id}: ${args.join(' ')} exited ${r.code}: ${r.stderr.trim()}`);
    results.push(r);
  }
  return { id, what, wall: median(results.map((r) => r.wall)), cpu: median(results.map((r) => r.cpu)), rssKB: median(results.map((r) => r.rssKB)), exit: results[0].code };
}

async function measure(pair) {
  const dir = path.join(WORK, pair.id);
  const store = (name) => path.join(dir, name);
  const fresh = (name) => () => (rmrf(store(name)), store(name));
  const importTo = (s, ref) => run([process.execPath, BIN, 'import', ref, '--store', s, '-q']).trim().split('\t');
  fresh('warm')();
  const [, oldDigest] = importTo(store('warm'), pair.old);
  const [, newDigest, , unpacked] = importTo(store('warm'), pair.new);
  log(`${pair.id}: ${pair.what}; NEW import on OLD: ${unpacked}`);
  const warm = () => store('warm');
  const withOld = () => (fresh('half')(), importTo(store('half'), pair.old), store('half'));
  const out = store('flat');
  const rows = [
    await row('diff-warm', 'warm diff of stored digests (both in the store)', warm, ['diff', oldDigest, newDigest]),
    await row('diff-warm-name-status', 'the same, --name-status (files only)', warm, ['diff', oldDigest, newDigest, '--name-status']),
    await row('diff-warm-paths', 'warm diff of the archive paths (re-opened, nothing unpacked)', warm, ['diff', pair.old, pair.new]),
    await row('diff-cold', 'cold diff of the archive paths, empty store', fresh('cold'), ['diff', pair.old, pair.new]),
    await row('import-old', 'import OLD into an empty store', fresh('cold'), ['import', pair.old]),
    await row('import-new-on-old', "import NEW with OLD stored (NEW's changed layers only)", withOld, ['import', pair.new]),
    await row('flatten-new-cold', 'one cold flatten of NEW (import all + write the tree)', () => (rmrf(out), fresh('cold')()), ['flatten', pair.new, out]),
  ];
  rmrf(dir);
  return { ...pair, rows };
}

const results = [];
for (const pair of pairs) results.push(await measure(pair));

// ------------------------------------------------------------------------------------ report
process.stdout.write(`stratum diff bench, ${RUNS} runs per row, medians\n${JSON.stringify(hostInfo(WORK))}\n`);
for (const r of results) {
  const by = Object.fromEntries(r.rows.map((x) => [x.id, x]));
  const floor = by['import-old'].wall + by['import-new-on-old'].wall;
  const floorCpu = by['import-old'].cpu + by['import-new-on-old'].cpu;
  process.stdout.write(`\n${r.id}: ${r.what}\n  old ${r.old}\n  new ${r.new}\n\n`);
  process.stdout.write(table(['row', 'what', 'wall', 'cpu', 'rss'], r.rows.map((x) => [x.id, x.what, fmtS(x.wall), fmtS(x.cpu), fmtMB(x.rssKB)]), 'llrrr') + '\n\n');
  process.stdout.write(`cold diff ${fmtS(by['diff-cold'].wall)} = ${(by['diff-cold'].wall / floor).toFixed(2)}× (import OLD + NEW's changed layers = ${fmtS(floor)}), ` +
    `${(by['diff-cold'].wall / by['flatten-new-cold'].wall).toFixed(2)}× one cold flatten of NEW (${fmtS(by['flatten-new-cold'].wall)})\n`);
  // CPU time is the steadier measure on a shared machine: wall time also counts waiting for other processes.
  process.stdout.write(`  in CPU time: ${fmtS(by['diff-cold'].cpu)} = ${(by['diff-cold'].cpu / floorCpu).toFixed(2)}× the imports (${fmtS(floorCpu)}), ` +
    `${(by['diff-cold'].cpu / by['flatten-new-cold'].cpu).toFixed(2)}× one cold flatten (${fmtS(by['flatten-new-cold'].cpu)})\n`);
  process.stdout.write(`warm diff ${fmtS(by['diff-warm'].wall)} wall, ${fmtS(by['diff-warm'].cpu)} cpu (target: well under 1 s)\n`);
}
if (opts.json) fs.writeFileSync(opts.json, JSON.stringify({ host: hostInfo(WORK), runs: RUNS, results }, null, 2) + '\n');
