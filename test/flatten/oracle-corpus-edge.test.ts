// The corpus's edge images (../shared/corpus/make-corpus.sh: one 3-layer image of deletions, opaque dirs, type
// changes, hardlinks, symlinks, setuid, odd names, devices, a fifo and xattrs, made by three layer differs: umoci,
// buildah with the overlay driver, buildah with vfs), flattened by the stratum CLI from every export the corpus has
// of each (OCI layout gzip and zstd, oci-archive gzip and zstd, docker-archive, buildah push), must equal the
// kernel's overlayfs merge that make-corpus.sh recorded: groundtruth/manifest.tsv and groundtruth/xattrs.txt.
// The three differs disagree on opaque markers and hardlinks, which is what makes them worth checking one by one.
// Not in the repository: when the corpus is missing this says SKIPPED. Root only (owners and device nodes).
import { existsSync, promises as fsp, readdirSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { stratum } from '../helpers/oracle-images.js';
import { removeTree, run, tmpDir, TREE_MANIFEST_SH, warnSkipped } from '../helpers/overlay-oracle.js';

const CORPUS = path.resolve(process.env.STRATUM_CORPUS ?? path.join(process.env.TMPDIR ?? '/tmp', 'stratum-corpus', 'corpus'));
const IMAGES = ['edge-umoci', 'edge-buildah-overlay', 'edge-buildah-vfs'];
const root = process.getuid?.() === 0;

/** Each export of an image that is an image: archives, and layout directories (skopeo's dir: copy is not one). */
function exportsOf(image: string): string[] {
  const dir = path.join(CORPUS, image);
  return readdirSync(dir, { withFileTypes: true })
    .filter((d) => (d.isFile() && d.name.endsWith('.tar')) || (d.isDirectory() && existsSync(path.join(dir, d.name, 'oci-layout'))))
    .map((d) => d.name)
    .sort();
}

const built = IMAGES.filter((i) => existsSync(path.join(CORPUS, i, 'groundtruth', 'manifest.tsv')));
if (built.length < IMAGES.length) {
  warnSkipped(`the corpus edge images ${IMAGES.filter((i) => !built.includes(i)).join(', ')}`, `not built under ${CORPUS}: run ../shared/corpus/make-corpus.sh as root`);
} else if (!root) warnSkipped('the corpus edge images', 'need root to write owners and devices');

function lineDiff(mine: string[], truth: string[]): string[] {
  const a = new Set(mine);
  const b = new Set(truth);
  return [...mine.filter((l) => !b.has(l)).map((l) => `- stratum:   ${l}`), ...truth.filter((l) => !a.has(l)).map((l) => `+ overlayfs: ${l}`)];
}

describe.skipIf(!root)('flatten of the corpus edge images = their overlayfs ground truth', () => {
  let work = '';
  afterAll(async () => {
    if (work) await removeTree(work);
  });

  for (const image of built) {
    for (const file of exportsOf(image)) {
      it(`${image}: ${file}`, async () => {
        work ||= await tmpDir('edge');
        const out = path.join(work, `${image}-${file}`);
        const r = await stratum(['flatten', '-q', '--store', path.join(work, 'store'), path.join(CORPUS, image, file), out]);
        expect(r.code, r.stderr).toBe(0);
        const mine = path.join(work, `${image}-${file}.tsv`);
        await run('bash', [TREE_MANIFEST_SH, out, mine]);
        const truth = path.join(CORPUS, image, 'groundtruth');
        const [a, b] = await Promise.all([fsp.readFile(mine, 'latin1'), fsp.readFile(path.join(truth, 'manifest.tsv'), 'latin1')]);
        const xattrs = await run('sh', ['-c', `cd "$1" && getfattr -R -h -d -m '^(user|security)\\.' --absolute-names . 2>/dev/null || true`, 'sh', out]);
        const xtruth = await fsp.readFile(path.join(truth, 'xattrs.txt'), 'latin1');
        const diff = [...lineDiff(a.split('\n'), b.split('\n')), ...lineDiff(xattrs.stdout.toString('latin1').split('\n'), xtruth.split('\n'))];
        expect(b.split('\n').length).toBeGreaterThan(20);
        expect(diff.slice(0, 50)).toEqual([]);
        await removeTree(out);
      }, 120_000);
    }
  }
});
