// Real image archives against the overlayfs oracle: find the image's layers the way reference tools do (OCI layouts
// read as they are, docker-archives converted by skopeo), merge them with the kernel, run the stratum CLI on the
// original archive, compare, and keep one row per image for the table the test prints.
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import pLimit from 'p-limit';
import { CLI, REPO } from './paths.js';
import {
  compareWithOracle,
  fastOracle,
  run,
  scriptOracle,
  selectManifest,
  tmpDir,
  removeTree,
  type Comparison,
  type CompareOptions,
  type OracleTree,
  type RunResult,
} from './overlay-oracle.js';

/** Which oracle judges real images: 'fast' (default) or 'script' (overlay-rootfs.sh itself; slow). */
export const ORACLE_KIND: 'fast' | 'script' = process.env.STRATUM_ORACLE === 'script' ? 'script' : 'fast';

export interface ImageCase {
  /** Row label. */
  name: string;
  /** What stratum is given: an archive or a layout directory. */
  input: string;
  /** --image / --platform for stratum. */
  args?: string[];
  /** The ref.name to pick in an OCI layout, or the skopeo docker-archive source suffix ('@1', 'name:tag'). */
  tag?: string;
  /** os/arch[/variant] when the image is a platform of an index (default linux/amd64). */
  platform?: string;
}

export interface OracleInput {
  /** An OCI layout whose index.json has exactly the chosen image, tagged 'oracle' (for the script). */
  layout: string;
  /** Layer blob files, base first. */
  layers: string[];
  diffIDs: string[];
  /** How the layers were found, for the table. */
  via: string;
}

async function exists(p: string): Promise<boolean> {
  return fsp.access(p).then(() => true, () => false);
}

async function magic(file: string): Promise<Buffer> {
  const fh = await fsp.open(file, 'r');
  try {
    const b = Buffer.alloc(4);
    await fh.read(b, 0, 4, 0);
    return b;
  } finally {
    await fh.close();
  }
}

interface Desc {
  mediaType?: string;
  digest: string;
  size?: number;
  annotations?: Record<string, string>;
}

/**
 * The layers of the image a case names, found without stratum: an OCI layout (directory, or an archive unpacked by
 * GNU tar) is read directly; a docker-archive is converted to an OCI layout by `skopeo copy`.
 */
export async function oracleInput(c: ImageCase, work: string): Promise<OracleInput> {
  let layout: string;
  let via: string;
  let tag = c.tag;
  const st = await fsp.stat(c.input);
  if (st.isDirectory()) {
    layout = c.input;
    via = 'OCI layout';
  } else {
    let file = c.input;
    const m = await magic(file);
    if (m[0] === 0x1f && m[1] === 0x8b) {
      file = path.join(work, 'outer.tar');
      await run('sh', ['-c', 'gzip -dc < "$1" > "$2"', 'sh', c.input, file]);
    }
    const x = path.join(work, 'x');
    await fsp.mkdir(x);
    await run('tar', ['-x', '-f', file, '-C', x]);
    const index = (await exists(path.join(x, 'oci-layout'))) ? (JSON.parse(await fsp.readFile(path.join(x, 'index.json'), 'utf8')) as { manifests?: Desc[] | null }) : undefined;
    if (index && Array.isArray(index.manifests) && index.manifests.length > 0) {
      layout = x;
      via = 'OCI layout in the archive';
    } else {
      layout = path.join(work, 'skopeo');
      const source = `docker-archive:${file}${tag ? `:${tag}` : ''}`;
      await run('skopeo', ['copy', '-q', source, `oci:${layout}:oracle`], { timeoutMs: 300_000 });
      tag = 'oracle';
      via = 'skopeo copy docker-archive: oci:';
    }
  }
  const index = JSON.parse(await fsp.readFile(path.join(layout, 'index.json'), 'utf8')) as { manifests: Desc[] };
  const desc = tag === undefined ? index.manifests[0] : index.manifests.find((d) => d.annotations?.['org.opencontainers.image.ref.name'] === tag);
  if (!desc) throw new Error(`${c.input}: no image tagged ${tag} for the oracle`);
  const blob = (d: string): string => path.join(layout, 'blobs', ...d.split(':'));
  const manifest = await selectManifest(blob, desc.digest, c.platform ?? 'linux/amd64');
  const config = JSON.parse(await fsp.readFile(blob(manifest.config.digest), 'utf8')) as { rootfs?: { diff_ids?: string[] } };
  // a layout with just this image manifest, tagged 'oracle', over the same blobs (what overlay-rootfs.sh reads)
  const own = path.join(work, 'layout');
  await fsp.mkdir(own);
  await fsp.symlink(path.resolve(layout, 'blobs'), path.join(own, 'blobs'));
  await fsp.writeFile(path.join(own, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  const ownDesc = { mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: manifest.digest, size: (await fsp.stat(blob(manifest.digest))).size, annotations: { 'org.opencontainers.image.ref.name': 'oracle' } };
  await fsp.writeFile(path.join(own, 'index.json'), JSON.stringify({ schemaVersion: 2, manifests: [ownDesc] }));
  return { layout: own, layers: manifest.layers.map((l) => blob(l.digest)), diffIDs: config.rootfs?.diff_ids ?? [], via };
}

/** Images checked at once within one test file (vitest runs two files at once): STRATUM_ORACLE_JOBS, default 2. */
export const imageJobs = pLimit(Number(process.env.STRATUM_ORACLE_JOBS ?? 2));

/** Per-image test timeout: the image waits its turn in imageJobs, so this covers the queue too. */
export const IMAGE_TIMEOUT = 300_000;

/** Oracle trees shared by every case with the same layers (all v1 exports, for instance), until closed. */
export class OracleCache {
  private readonly trees = new Map<string, Promise<OracleTree>>();

  get(input: OracleInput, layers?: number): Promise<OracleTree> {
    const ids = input.diffIDs.length === input.layers.length ? input.diffIDs : input.layers;
    const key = `${ORACLE_KIND} ${ids.slice(0, layers ?? ids.length).join(' ')}`;
    let t = this.trees.get(key);
    if (!t) {
      t = ORACLE_KIND === 'script' && layers === undefined ? scriptOracle(input.layout, 'oracle') : fastOracle(input.layers.slice(0, layers ?? input.layers.length));
      this.trees.set(key, t);
    }
    return t;
  }

  async close(): Promise<void> {
    for (const t of this.trees.values()) await t.then((x) => x.cleanup(), () => undefined);
    this.trees.clear();
  }
}

/** Runs bin/stratum.js (built dist/) with these arguments. */
export function stratum(args: readonly string[], opts: { input?: Buffer; env?: NodeJS.ProcessEnv } = {}): Promise<RunResult> {
  return run(process.execPath, [CLI, ...args], { allowFail: true, cwd: REPO, input: opts.input, env: opts.env, timeoutMs: 600_000 });
}

export interface CaseResult {
  name: string;
  via: string;
  layers: number;
  status: 'equal' | 'DIFFERENT' | 'stratum failed' | 'oracle failed';
  comparison?: Comparison;
  detail: string;
  seconds: number;
}

/** One image: oracle and stratum, compared. Never throws; the result says what happened. */
export function checkImage(c: ImageCase, cache: OracleCache, opts: CompareOptions & { layers?: number } = {}): Promise<CaseResult> {
  return imageJobs(() => checkImageNow(c, cache, opts));
}

async function checkImageNow(c: ImageCase, cache: OracleCache, opts: CompareOptions & { layers?: number }): Promise<CaseResult> {
  const started = Date.now();
  const work = await tmpDir('case');
  const result = (r: Omit<CaseResult, 'name' | 'seconds'>): CaseResult => ({ name: c.name, seconds: (Date.now() - started) / 1000, ...r });
  try {
    let input: OracleInput;
    let oracle: OracleTree;
    try {
      input = await oracleInput(c, work);
      oracle = await cache.get(input, opts.layers);
    } catch (err) {
      return result({ via: '', layers: 0, status: 'oracle failed', detail: (err as Error).message });
    }
    const out = path.join(work, 'out');
    const args = ['flatten', '--store', path.join(work, 'store'), '-q', c.input, out, ...(c.args ?? [])];
    if (opts.layers !== undefined) args.push('--layers', String(opts.layers));
    for (const p of opts.only ?? []) args.push('--path', `/${p}`);
    const r = await stratum(args);
    const layers = opts.layers ?? input.layers.length;
    if (r.code !== 0) return result({ via: input.via, layers, status: 'stratum failed', detail: `exit ${r.code}: ${r.stderr.trim()}` });
    const comparison = await compareWithOracle(out, oracle, opts);
    const warnings = r.stderr.trim();
    return result({
      via: input.via,
      layers,
      status: comparison.differences.length === 0 ? 'equal' : 'DIFFERENT',
      comparison,
      detail: warnings === '' ? '' : `stratum said: ${warnings.split('\n').slice(0, 5).join(' | ')}`,
    });
  } finally {
    await removeTree(work);
  }
}

/** The fixture-by-fixture table, plus every difference and exclusion below it. */
export function resultTable(title: string, rows: readonly CaseResult[]): string {
  const head = ['image', 'layers', 'oracle input', 'paths', 'not compared', 'result', 's'];
  const body = rows.map((r) => [
    r.name,
    String(r.layers),
    r.via,
    String(r.comparison?.compared ?? '-'),
    String(r.comparison?.excluded.length ?? '-'),
    r.status === 'equal' ? 'equal' : r.status === 'DIFFERENT' ? `DIFFERENT (${r.comparison?.differences.length})` : r.status,
    r.seconds.toFixed(1),
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
  const line = (cells: string[]): string => `| ${cells.map((c, i) => c.padEnd(widths[i])).join(' | ')} |`;
  const out = [`${title} (oracle: ${ORACLE_KIND === 'script' ? 'overlay-rootfs.sh' : 'fastOracle, same recipe as overlay-rootfs.sh'})`, line(head), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...body.map(line)];
  for (const r of rows) {
    const notes = [...(r.comparison?.excluded ?? []).map((e) => `not compared: ${e}`), ...(r.comparison?.differences ?? []).slice(0, 40), ...(r.detail ? [r.detail] : [])];
    if (notes.length > 0) out.push(`${r.name}:`, ...notes.map((n) => `    ${n}`));
  }
  return out.join('\n');
}
