// The flatten command line: --layers N equals the overlayfs merge of the first N layers; --path keeps only those
// subtrees (and equals the oracle there); an existing non-empty OUT is a usage error (exit 2, one line, OUT
// untouched) unless --force; the second bin `flatten IMAGE OUT`; a name already in the store is flattened without
// touching any layer; a failed flatten leaves no OUT and no temp directory.
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compareWithOracle, fastOracle, formatComparison, layoutLayerFiles, overlayStatus, removeTree, run, tmpDir, warnSkipped, type OracleTree } from '../helpers/overlay-oracle.js';
import { stratum } from '../helpers/oracle-images.js';
import { REPO, SAMPLES } from '../helpers/paths.js';
import { manifestOfDir } from '../helpers/tree-manifest.js';

const LAYOUT = path.join(SAMPLES, 'oci-layout-gzip');
const ARCHIVE = path.join(SAMPLES, 'oci-archive-gzip.tar');
const status = await overlayStatus();
if (!status.ok) warnSkipped('flatten --layers / --path / second bin against overlayfs', status.reason);

let work = '';
const oracles = new Map<number, Promise<OracleTree>>();
/** The overlayfs merge of the first n layers of samples v1. */
function oracleOf(n: number): Promise<OracleTree> {
  let o = oracles.get(n);
  if (!o) {
    o = layoutLayerFiles(LAYOUT, 'v1').then((files) => fastOracle(files.slice(0, n)));
    oracles.set(n, o);
  }
  return o;
}

beforeAll(async () => {
  work = await tmpDir('flatten-cli');
});
afterAll(async () => {
  for (const o of oracles.values()) await o.then((t) => t.cleanup(), () => undefined);
  if (work) await removeTree(work);
});

async function fresh(name: string): Promise<string> {
  const d = path.join(work, name);
  await fsp.mkdir(d);
  return d;
}

describe.skipIf(!status.ok)('against the overlayfs oracle', () => {
  for (const n of [1, 2, 3]) {
    it(`--layers ${n} = overlayfs merge of the first ${n} layers`, async () => {
      const d = await fresh(`layers${n}`);
      const out = path.join(d, 'out');
      const r = await stratum(['flatten', '-q', '--store', path.join(d, 'store'), LAYOUT, out, '--layers', String(n)]);
      expect(r.code, r.stderr).toBe(0);
      const c = await compareWithOracle(out, await oracleOf(n));
      expect(c.differences, formatComparison(`--layers ${n}`, c)).toEqual([]);
    }, 120_000);
  }

  it('--layers 2 differs from the full image (the option is not ignored)', async () => {
    const d = await fresh('layers-differ');
    const out = path.join(d, 'out');
    expect((await stratum(['flatten', '-q', '--store', path.join(d, 'store'), LAYOUT, out, '--layers', '2'])).code).toBe(0);
    const c = await compareWithOracle(out, await oracleOf(3));
    expect(c.differences.some((l) => l.startsWith('opt'))).toBe(true);
  }, 120_000);

  it('--path /etc gives only /etc, equal to the oracle there; --path is repeatable', async () => {
    const d = await fresh('path');
    const store = path.join(d, 'store');
    const out = path.join(d, 'out');
    const r = await stratum(['flatten', '-q', '--store', store, LAYOUT, out, '--path', '/etc']);
    expect(r.code, r.stderr).toBe(0);
    const names = (await manifestOfDir(out)).map((m) => m.path);
    expect(names).toContain('etc/app/app.conf');
    expect(names.filter((p) => p !== 'etc' && !p.startsWith('etc/'))).toEqual([]);
    const c = await compareWithOracle(out, await oracleOf(3), { only: ['etc'] });
    expect(c.differences, formatComparison('--path /etc', c)).toEqual([]);

    const out2 = path.join(d, 'out2');
    expect((await stratum(['flatten', '-q', '--store', store, LAYOUT, out2, '--path', '/etc', '--path', 'opt/app'])).code).toBe(0);
    const names2 = (await manifestOfDir(out2)).map((m) => m.path);
    expect(names2).toContain('opt/app/run.sh');
    expect(names2.filter((p) => !/^(etc|opt)(\/|$)/.test(p))).toEqual([]);
    const c2 = await compareWithOracle(out2, await oracleOf(3), { only: ['etc', 'opt/app'] });
    expect(c2.differences, formatComparison('--path /etc --path opt/app', c2)).toEqual([]);
  }, 120_000);

  it('the second bin: node bin/flatten.js IMAGE OUT', async () => {
    const d = await fresh('bin');
    const out = path.join(d, 'out');
    const r = await run(process.execPath, [path.join(REPO, 'bin', 'flatten.js'), '-q', LAYOUT, out], {
      allowFail: true,
      env: { ...process.env, STRATUM_STORE: path.join(d, 'store') },
    });
    expect(r.code, r.stderr).toBe(0);
    const c = await compareWithOracle(out, await oracleOf(3));
    expect(c.differences, formatComparison('bin/flatten.js', c)).toEqual([]);
    // and it used the store it was told, not ~/.cache
    expect((await fsp.readdir(path.join(d, 'store', 'layers', 'sha256'))).length).toBe(3);
  }, 120_000);
});

describe('OUT handling', () => {
  it('OUT exists and is not empty: exit 2, one line, OUT untouched; --force replaces it', async () => {
    const d = await fresh('out-exists');
    const store = path.join(d, 'store');
    const out = path.join(d, 'out');
    await fsp.mkdir(out);
    await fsp.writeFile(path.join(out, 'precious'), 'keep me');
    const r = await stratum(['flatten', '--store', store, LAYOUT, out]);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n'), r.stderr).toHaveLength(1);
    expect(r.stderr).toContain(out);
    expect(await fsp.readdir(out)).toEqual(['precious']);
    expect(await fsp.readFile(path.join(out, 'precious'), 'utf8')).toBe('keep me');

    const f = await stratum(['flatten', '-q', '--store', store, LAYOUT, out, '--force']);
    expect(f.code, f.stderr).toBe(0);
    const names = await fsp.readdir(out);
    expect(names).not.toContain('precious');
    expect(names).toContain('opt');
    expect((await fsp.readdir(d)).sort()).toEqual(['out', 'store']);
  }, 120_000);

  it('OUT exists and is empty: fine', async () => {
    const d = await fresh('out-empty');
    const out = path.join(d, 'out');
    await fsp.mkdir(out);
    const r = await stratum(['flatten', '-q', '--store', path.join(d, 'store'), LAYOUT, out]);
    expect(r.code, r.stderr).toBe(0);
    expect(await fsp.readdir(out)).toContain('etc');
  }, 120_000);

  it('a failed flatten (bad --layers, missing image) leaves no OUT and no temp directory', async () => {
    const d = await fresh('out-fail');
    const out = path.join(d, 'out');
    const bad = await stratum(['flatten', '--store', path.join(d, 'store'), LAYOUT, out, '--layers', '9']);
    expect(bad.code).toBe(2);
    expect(bad.stderr.trim().split('\n')).toHaveLength(1);
    const missing = await stratum(['flatten', '--store', path.join(d, 'store'), path.join(d, 'no-such-image.tar'), out]);
    expect(missing.code).toBe(1);
    expect(missing.stderr.trim().split('\n')).toHaveLength(1);
    expect(await fsp.readdir(d)).toEqual(['store']);
  }, 120_000);
});

describe('a name already in the store', () => {
  it('is flattened without reading an archive or unpacking a layer', async () => {
    const d = await fresh('by-name');
    const store = path.join(d, 'store');
    const imp = await stratum(['import', '--store', store, ARCHIVE]);
    expect(imp.code, imp.stderr).toBe(0);
    expect(imp.stdout.toString()).toMatch(/3 layers unpacked/);
    const name = imp.stdout.toString().split('\t')[0];
    const digest = imp.stdout.toString().split('\t')[1];

    // a snapshot of the store: every path with its mtime
    const snapshot = async (): Promise<string[]> => {
      const out: string[] = [];
      const walk = async (p: string): Promise<void> => {
        const st = await fsp.lstat(p, { bigint: true });
        out.push(`${path.relative(store, p)} ${st.mtimeNs}`);
        if (st.isDirectory()) for (const n of await fsp.readdir(p)) if (n !== 'tmp') await walk(path.join(p, n));
      };
      await walk(path.join(store, 'layers'));
      await walk(path.join(store, 'blobs'));
      return out.sort();
    };
    const before = await snapshot();
    for (const [i, ref] of [name, digest.slice(0, 19)].entries()) {
      const out = path.join(d, `out${i}`);
      const started = Date.now();
      const r = await stratum(['flatten', '--store', store, ref, out]);
      const seconds = (Date.now() - started) / 1000;
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr, 'no import progress or import line').not.toMatch(/import|unpack/i);
      console.log(`flatten ${ref} from the store: ${seconds.toFixed(2)} s`);
      expect(await fsp.readdir(out)).toContain('opt');
    }
    expect(await snapshot(), 'the store changed: a layer or blob was rewritten').toEqual(before);
    // and the result equals a flatten of the archive itself
    const fromArchive = path.join(d, 'from-archive');
    expect((await stratum(['flatten', '-q', '--store', path.join(d, 'store2'), ARCHIVE, fromArchive])).code).toBe(0);
    const [a, b] = await Promise.all([manifestOfDir(path.join(d, 'out0'), { root: true }), manifestOfDir(fromArchive, { root: true })]);
    expect(a).toEqual(b);
  }, 120_000);
});
