// The benchmark image (../shared/corpus/make-corpus.sh debian: debootstrap minbase + 4 buildah layers, 400 MB of
// layer tars, 6,338 paths, 235 whiteouts), flattened by the stratum CLI from three of its exports, equals the kernel's
// overlayfs merge that make-corpus.sh recorded: groundtruth/manifest.tsv (tree-manifest.sh of the overlay mount) and
// groundtruth/xattrs.txt. It is not in the repository: when $STRATUM_BENCH_IMAGE (default
// $TMPDIR/stratum-corpus/corpus/debian) is missing this says SKIPPED. Root only (owners and device nodes).
// The OCI layout (cold store) and the docker save (warm store) run always; the zstd oci-archive (another 20-40 s,
// zstd decoded in JavaScript on Node 20) with STRATUM_DEBIAN_ALL=1.
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { removeTree, run, tmpDir, TREE_MANIFEST_SH, warnSkipped } from '../helpers/overlay-oracle.js';
import { stratum } from '../helpers/oracle-images.js';

const IMAGE = path.resolve(process.env.STRATUM_BENCH_IMAGE ?? path.join(process.env.TMPDIR ?? '/tmp', 'stratum-corpus', 'corpus', 'debian'));
const GROUND = path.join(IMAGE, 'groundtruth', 'manifest.tsv');
const present = await fsp.access(GROUND).then(() => true, () => false);
const root = process.getuid?.() === 0;
if (!present) warnSkipped(`the debian benchmark image (${IMAGE})`, 'not built: run ../shared/corpus/make-corpus.sh debian as root, or npm run bench');
else if (!root) warnSkipped('the debian benchmark image', 'needs root to write owners and devices');

/** Lines only in a or only in b, as "- line" / "+ line". */
function lineDiff(a: string[], b: string[]): string[] {
  const sa = new Set(a);
  const sb = new Set(b);
  return [...a.filter((l) => !sb.has(l)).map((l) => `- stratum:   ${l}`), ...b.filter((l) => !sa.has(l)).map((l) => `+ overlayfs: ${l}`)];
}

describe.skipIf(!present || !root)('flatten of the debian benchmark image = its overlayfs ground truth', () => {
  let work = '';
  afterAll(async () => {
    if (work) await removeTree(work);
  });

  // one store: the first flatten unpacks the layers, the others find them there (same diff_ids)
  const inputs: Array<[string, string[]]> = [
    ['oci/ (OCI layout, gzip, tag corpus)', ['oci']],
    ['debian.docker.tar (docker save)', ['debian.docker.tar']],
    ...(process.env.STRATUM_DEBIAN_ALL ? [['debian.oci-zstd.tar (oci-archive, zstd)', ['debian.oci-zstd.tar']] as [string, string[]]] : []),
  ];
  for (const [label, [file]] of inputs) {
    it(label, async () => {
      work ||= await tmpDir('debian');
      const out = path.join(work, `out-${file}`);
      const started = Date.now();
      const r = await stratum(['flatten', '-q', '--store', path.join(work, 'store'), path.join(IMAGE, file), out]);
      expect(r.code, r.stderr).toBe(0);
      const seconds = (Date.now() - started) / 1000;
      const mine = path.join(work, `${file}.tsv`);
      await run('bash', [TREE_MANIFEST_SH, out, mine]);
      const [a, b] = await Promise.all([fsp.readFile(mine, 'latin1'), fsp.readFile(GROUND, 'latin1')]);
      const diff = lineDiff(a.split('\n'), b.split('\n'));
      const xattrs = await run('sh', ['-c', `cd "$1" && getfattr -R -h -d -m '^(user|security)\\.' --absolute-names . 2>/dev/null || true`, 'sh', out]);
      const xdiff = lineDiff(xattrs.stdout.toString('latin1').split('\n'), (await fsp.readFile(path.join(IMAGE, 'groundtruth', 'xattrs.txt'), 'latin1')).split('\n'));
      console.log(`debian ${label}: flatten ${seconds.toFixed(1)} s; ${b.split('\n').length - 1} ground-truth paths; ${diff.length + xdiff.length === 0 ? 'equal' : `${diff.length} manifest lines and ${xdiff.length} xattr lines differ`}`);
      expect([...diff, ...xdiff].slice(0, 50)).toEqual([]);
      await removeTree(out);
    }, 600_000);
  }
});
