// Shared helpers for the benchmarks in bench/: run a command under /usr/bin/time, medians, tables.
// Plain Node ESM, no build step, no dependencies beyond Node itself.
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const STRATUM = path.join(REPO, 'bin', 'stratum.js');

/**
 * Copies bin/ and dist/ into DIR/stratum (node_modules linked) and returns the copy's bin/stratum.js,
 * so every run of one bench measures the same build even while others rebuild dist/. Checks that the copy loads.
 */
export function snapshotStratum(dir, from = REPO, name = 'stratum') {
  const snap = path.join(dir, name);
  rmrf(snap);
  fs.mkdirSync(snap, { recursive: true });
  for (const d of ['bin', 'dist']) fs.cpSync(path.join(from, d), path.join(snap, d), { recursive: true });
  fs.copyFileSync(path.join(from, 'package.json'), path.join(snap, 'package.json'));
  fs.symlinkSync(path.join(REPO, 'node_modules'), path.join(snap, 'node_modules'));
  const bin = path.join(snap, 'bin', 'stratum.js');
  const r = spawnSync(process.execPath, [bin, 'images', '--store', path.join(dir, 'snapshot-check-store')], { encoding: 'utf8' });
  rmrf(path.join(dir, 'snapshot-check-store'));
  if (r.status !== 0) die(`the build in ${from}/dist does not run (${(r.stderr || '').trim().split('\n')[0]}); is a build still writing it? try again`);
  return bin;
}
export const TIME = '/usr/bin/time';

export const isRoot = () => typeof process.getuid === 'function' && process.getuid() === 0;

export function log(msg) {
  process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${msg}\n`);
}

export function die(msg, code = 1) {
  process.stderr.write(`bench: ${msg}\n`);
  process.exit(code);
}

export function which(cmd) {
  const r = spawnSync('sh', ['-c', `command -v ${cmd}`], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : null;
}

/** Makes sure a program exists, installing its Debian package with apt-get when root. Returns false if it cannot. */
export function ensureTool(file, aptPackage) {
  if (fs.existsSync(file) || (!file.includes('/') && which(file))) return true;
  if (!isRoot()) {
    log(`${file} is missing and we are not root: apt-get install ${aptPackage}`);
    return false;
  }
  log(`${file} is missing: apt-get install -y ${aptPackage}`);
  let r = spawnSync('apt-get', ['install', '-y', '--no-install-recommends', aptPackage], { stdio: ['ignore', 'ignore', 'inherit'], env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
  if (r.status !== 0) {
    spawnSync('apt-get', ['update'], { stdio: ['ignore', 'ignore', 'inherit'] });
    r = spawnSync('apt-get', ['install', '-y', '--no-install-recommends', aptPackage], { stdio: ['ignore', 'ignore', 'inherit'], env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
  }
  return fs.existsSync(file) || (!file.includes('/') && !!which(file));
}

/** Checks that the CLI is built; warns when src/ has files newer than dist/. */
export function checkBuilt() {
  // The CLI runs from the bundle (rolldown.config.mjs), made after tsc: its entry is the newest of the build.
  const main = path.join(REPO, 'dist', 'bin', 'stratum.js');
  if (!fs.existsSync(main)) die(`${main} is missing: build first (cd ${REPO} && npm run build)`);
  const built = fs.statSync(main).mtimeMs;
  let newest = 0;
  let newestFile = '';
  const walk = (dir) => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name.endsWith('.ts')) {
        const m = fs.statSync(p).mtimeMs;
        if (m > newest) [newest, newestFile] = [m, p];
      }
    }
  };
  walk(path.join(REPO, 'src'));
  if (newest > built) log(`warning: ${path.relative(REPO, newestFile)} is newer than dist/: the bench runs the last build`);
}

/**
 * Runs argv under `/usr/bin/time -f '%e %U %S %M'`. Resolves to
 * { ok, code, wall, user, sys, cpu, rssKB, stdout, stderr } (seconds, KiB).
 * The rusage is the child's plus its waited-for descendants' (so `sh -c 'a; b'` counts a and b; RSS is the largest).
 */
export function timed(argv, { cwd, env, timeFile } = {}) {
  return new Promise((resolve, reject) => {
    const tf = timeFile ?? path.join(os.tmpdir(), `stratum-bench-time-${process.pid}.txt`);
    fs.rmSync(tf, { force: true });
    const child = spawn(TIME, ['-f', '%e %U %S %M', '-o', tf, ...argv], { cwd, env: env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
    const out = [];
    const err = [];
    let outLen = 0;
    let errLen = 0;
    // keep only the first 64 KiB of each stream: enough for an error message
    child.stdout.on('data', (d) => { if (outLen < 65536) { out.push(d); outLen += d.length; } });
    child.stderr.on('data', (d) => { if (errLen < 65536) { err.push(d); errLen += d.length; } });
    child.on('error', reject);
    child.on('close', (code, signal) => {
      let line = '';
      try {
        const lines = fs.readFileSync(tf, 'utf8').trim().split('\n');
        line = lines[lines.length - 1];
      } catch { /* no time output: the command could not start */ }
      fs.rmSync(tf, { force: true });
      const m = /^([\d.]+) ([\d.]+) ([\d.]+) (\d+)$/.exec(line);
      const r = {
        ok: code === 0 && !!m,
        code: code ?? signal,
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8'),
      };
      if (m) Object.assign(r, { wall: +m[1], user: +m[2], sys: +m[3], cpu: +(+m[2] + +m[3]).toFixed(2), rssKB: +m[4] });
      resolve(r);
    });
  });
}

/** Runs a command to completion for setup work (not measured); throws with its stderr on failure. */
export function run(argv, opts = {}) {
  const r = spawnSync(argv[0], argv.slice(1), { encoding: 'utf8', maxBuffer: 64 << 20, ...opts });
  if (r.error) throw r.error;
  if (r.status !== 0) throw new Error(`${argv.join(' ')} exited ${r.status ?? r.signal}: ${(r.stderr ?? '').trim().split('\n').slice(-5).join(' | ')}`);
  return r.stdout;
}

export function rmrf(p) {
  fs.rmSync(p, { recursive: true, force: true, maxRetries: 3 });
}

/** Flushes dirty pages (not the page cache) so one row's writeback does not land in the next row's time. */
export function sync() {
  spawnSync('sync', [], { stdio: 'ignore' });
}

export function median(xs) {
  const s = xs.filter((x) => typeof x === 'number' && Number.isFinite(x)).sort((a, b) => a - b);
  if (!s.length) return undefined;
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

export function fmtS(x) {
  return x === undefined ? '-' : `${x.toFixed(2)} s`;
}

export function fmtMB(kb) {
  return kb === undefined ? '-' : `${(kb / 1024).toFixed(0)} MB`;
}

export function fmtBytes(n) {
  if (n >= 1 << 30) return `${(n / (1 << 30)).toFixed(2)} GiB`;
  if (n >= 1 << 20) return `${(n / (1 << 20)).toFixed(1)} MiB`;
  if (n >= 1 << 10) return `${(n / (1 << 10)).toFixed(1)} KiB`;
  return `${n} B`;
}

/** A plain-text table; `align` is a string of 'l'/'r' per column. */
export function table(header, rows, align) {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => String(r[i]).length)));
  const fmt = (r) => r.map((c, i) => (align?.[i] === 'r' ? String(c).padStart(widths[i]) : String(c).padEnd(widths[i]))).join('  ').trimEnd();
  return [fmt(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(fmt)].join('\n');
}

/** A short description of the machine and the moment, printed above every result and stored in --json. */
export function hostInfo(workDir) {
  const cpus = os.cpus();
  let fsType = '';
  try {
    fsType = run(['stat', '-f', '-c', '%T', workDir]).trim();
  } catch { /* ignore */ }
  let journal = null;
  try {
    // ext4 keeps a journal's state in /proc/fs/jbd2/<device>-<n>; "ext2/ext3" is what stat calls any ext4.
    const [source, type] = run(['findmnt', '-n', '-o', 'SOURCE,FSTYPE', '--target', workDir]).trim().split(/\s+/);
    if (type === 'ext4') journal = fs.readdirSync('/proc/fs/jbd2').some((d) => d.startsWith(`${path.basename(source)}-`));
  } catch { /* no findmnt or no /proc/fs/jbd2: unknown */ }
  let commit = '';
  try {
    commit = run(['git', '-C', REPO, 'rev-parse', '--short', 'HEAD']).trim();
    const dirty = run(['git', '-C', REPO, 'status', '--porcelain', '--', 'src']).trim();
    if (dirty) commit += ` + uncommitted src changes (${dirty.split('\n').length} files)`;
  } catch { /* not a git checkout */ }
  return {
    date: new Date().toISOString(),
    node: process.version,
    cpus: cpus.length,
    cpuModel: cpus[0]?.model ?? '',
    memGB: +(os.totalmem() / 2 ** 30).toFixed(1),
    kernel: os.release(),
    workFs: journal === false ? 'ext4 (no journal)' : journal === true ? 'ext4' : fsType,
    workFsJournal: journal,
    uid: process.getuid?.(),
    nice: os.getPriority(),
    loadavg: os.loadavg().map((x) => +x.toFixed(2)),
    stratum: commit,
  };
}

/** Counts the entries of a tree (excluding its root), without following symlinks. */
export function countTree(dir) {
  let n = 0;
  const slash = Buffer.from('/');
  const walk = (d) => {
    // names as bytes: images hold names that are not UTF-8
    for (const e of fs.readdirSync(d, { withFileTypes: true, encoding: 'buffer' })) {
      n++;
      if (e.isDirectory()) walk(Buffer.concat([d, slash, e.name]));
    }
  };
  walk(Buffer.from(dir));
  return n;
}
