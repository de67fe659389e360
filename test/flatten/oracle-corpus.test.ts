// The corpus's real images (../shared/corpus/make-corpus.sh), flattened by the stratum CLI from every export the
// corpus has of each (OCI layout gzip and zstd, oci-archive gzip and zstd, docker-archive, buildah push, dockerd's
// docker save, skopeo dir:), must equal the kernel's overlayfs merge that make-corpus.sh recorded:
// groundtruth/manifest.tsv and groundtruth/xattrs.txt.
// - `edge-umoci`, `edge-buildah-overlay`, `edge-buildah-vfs`: one 3-layer image of deletions, opaque dirs, type
//   changes, hardlinks, symlinks, setuid, odd names, devices, a fifo and xattrs, made by three layer differs that
//   disagree on opaque markers and hardlinks. CI builds these (`make-corpus.sh edge`, about a minute).
// - `app-v1`, `app-v2` (buildah bud of Debian packages), `multiarch` (per platform), `publicgt/*` (public test
//   archives re-merged by the kernel): checked when built (`make-corpus.sh all`, about 10 minutes).
// Missing images say SKIPPED. Root only (owners and device nodes). The debian image has its own test.
import { existsSync, promises as fsp, readdirSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { stratum } from '../helpers/oracle-images.js';
import { removeTree, run, tmpDir, TREE_MANIFEST_SH, warnSkipped } from '../helpers/overlay-oracle.js';

const CORPUS = path.resolve(process.env.STRATUM_CORPUS ?? path.join(process.env.TMPDIR ?? '/tmp', 'stratum-corpus', 'corpus'));
const root = process.getuid?.() === 0;

interface CorpusImage {
  /** Directory under the corpus holding the exports. */
  dir: string;
  /** Ground-truth directory under the corpus. */
  truth: string;
  args?: string[];
}

const EDGE = ['edge-umoci', 'edge-buildah-overlay', 'edge-buildah-vfs'];
const publicGt = existsSync(path.join(CORPUS, 'publicgt')) ? readdirSync(path.join(CORPUS, 'publicgt')).sort().map((n) => `publicgt/${n}`) : [];
const IMAGES: CorpusImage[] = [
  ...[...EDGE, 'app-v1', 'app-v2', ...publicGt].map((dir) => ({ dir, truth: `${dir}/groundtruth` })),
  ...['amd64', 'arm64'].map((arch) => ({ dir: 'multiarch', truth: `multiarch/groundtruth-${arch}`, args: ['--platform', `linux/${arch}`] })),
];

/** Each export of an image: archives, OCI layouts and skopeo dir: copies (not groundtruth/ or crosscheck/). */
function exportsOf(image: string): string[] {
  const dir = path.join(CORPUS, image);
  const isImageDir = (name: string) => ['oci-layout', 'version'].some((f) => existsSync(path.join(dir, name, f)));
  return readdirSync(dir, { withFileTypes: true })
    .filter((d) => (d.isFile() && d.name.endsWith('.tar')) || (d.isDirectory() && isImageDir(d.name)))
    .map((d) => d.name)
    .sort();
}

const built = IMAGES.filter((i) => existsSync(path.join(CORPUS, i.truth, 'manifest.tsv')));
const missing = IMAGES.filter((i) => !built.includes(i)).map((i) => i.truth.replace(/\/groundtruth.*$/, ''));
if (publicGt.length === 0) missing.push('publicgt/*');
if (!root) warnSkipped('the corpus images', 'need root to write owners and devices');
else if (missing.length > 0) {
  warnSkipped(`the corpus images ${[...new Set(missing)].join(', ')}`, `not built under ${CORPUS}: run ../shared/corpus/make-corpus.sh as root`);
}

function lineDiff(mine: string[], truth: string[]): string[] {
  const a = new Set(mine);
  const b = new Set(truth);
  return [...mine.filter((l) => !b.has(l)).map((l) => `- stratum:   ${l}`), ...truth.filter((l) => !a.has(l)).map((l) => `+ overlayfs: ${l}`)];
}

describe.skipIf(!root)('flatten of the corpus images = their overlayfs ground truth', () => {
  let work = '';
  afterAll(async () => {
    if (work) await removeTree(work);
  });

  for (const image of built) {
    for (const file of exportsOf(image.dir)) {
      const label = `${image.dir}: ${file}${image.args ? ` ${image.args.join(' ')}` : ''}`;
      it(label, async () => {
        work ||= await tmpDir('corpus');
        const name = label.replace(/[^a-zA-Z0-9.-]+/g, '_');
        const out = path.join(work, name);
        const r = await stratum(['flatten', '-q', '--store', path.join(work, 'store'), ...(image.args ?? []), path.join(CORPUS, image.dir, file), out]);
        expect(r.code, r.stderr).toBe(0);
        const mine = path.join(work, `${name}.tsv`);
        await run('bash', [TREE_MANIFEST_SH, out, mine]);
        const truth = path.join(CORPUS, image.truth);
        const [a, b] = await Promise.all([fsp.readFile(mine, 'latin1'), fsp.readFile(path.join(truth, 'manifest.tsv'), 'latin1')]);
        const xattrs = await run('sh', ['-c', `cd "$1" && getfattr -R -h -d -m '^(user|security)\\.' --absolute-names . 2>/dev/null || true`, 'sh', out]);
        const xtruth = await fsp.readFile(path.join(truth, 'xattrs.txt'), 'latin1').catch(() => '');
        const diff = [...lineDiff(a.split('\n'), b.split('\n')), ...lineDiff(xattrs.stdout.toString('latin1').split('\n'), xtruth.split('\n'))];
        expect(b.split('\n').length).toBeGreaterThan(2);
        expect(diff.slice(0, 50)).toEqual([]);
        await removeTree(out);
      }, 120_000);
    }
  }
});
