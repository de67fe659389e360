// Image directories made by the real tools read as the archives they came from: `skopeo copy ... dir:` (one image,
// and an index with --all) and a docker save unpacked with tar. `stratum export` of each must be byte-identical to
// the export of the original archive (export is deterministic, and carries every owner, mode, mtime and xattr).
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { warnSkipped } from '../helpers/overlay-oracle.js';
import { SAMPLES } from '../helpers/paths.js';

const hasSkopeo = spawnSync('skopeo', ['--version']).status === 0;
if (!hasSkopeo) warnSkipped('skopeo dir: copies of the samples', 'skopeo is not installed (apt-get install skopeo)');

let tmp = '';
beforeAll(async () => {
  tmp = await mkdtemp(path.join(tmpdir(), 'stratum-dirs-'));
});
afterAll(async () => {
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

async function exportDigest(input: string, extra: string[] = []): Promise<string> {
  const r = await runCli(['export', ...extra, input, '-'], { store: path.join(tmp, 'store') });
  expect(r.code, r.stderr).toBe(0);
  expect(r.stdout.length).toBeGreaterThan(1024);
  return createHash('sha256').update(r.stdout).digest('hex');
}

function run(cmd: string, args: string[]): void {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')}: exit ${r.status}: ${r.stderr}`);
}

describe('image directories from the real tools', () => {
  it('a docker save unpacked with tar', async () => {
    const dir = path.join(tmp, 'unpacked');
    await mkdir(dir);
    run('tar', ['-xf', path.join(SAMPLES, 'docker-archive.tar'), '-C', dir]);
    const r = await runCli(['inspect', dir], { store: path.join(tmp, 'store') });
    expect(r.out).toMatch(/Format\s+docker-archive-dir/);
    expect(await exportDigest(dir)).toBe(await exportDigest(path.join(SAMPLES, 'docker-archive.tar')));
  });

  it.skipIf(!hasSkopeo)('skopeo copy oci: dir:', async () => {
    const dir = path.join(tmp, 'skopeo-one');
    run('skopeo', ['copy', '-q', `oci:${path.join(SAMPLES, 'oci-layout-gzip')}`, `dir:${dir}`]);
    const r = await runCli(['inspect', dir], { store: path.join(tmp, 'store') });
    expect(r.out).toMatch(/Format\s+skopeo-dir/);
    expect(await exportDigest(dir)).toBe(await exportDigest(path.join(SAMPLES, 'oci-layout-gzip')));
  });

  it.skipIf(!hasSkopeo)('skopeo copy --all of a two-platform index, each platform', async () => {
    const dir = path.join(tmp, 'skopeo-all');
    run('skopeo', ['copy', '-q', '--all', `oci:${path.join(SAMPLES, 'multiarch')}`, `dir:${dir}`]);
    for (const platform of ['linux/amd64', 'linux/arm64/v8']) {
      const args = ['--platform', platform];
      expect(await exportDigest(dir, args)).toBe(await exportDigest(path.join(SAMPLES, 'multiarch'), args));
    }
  });
});
