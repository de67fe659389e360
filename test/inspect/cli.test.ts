// End to end: the built CLI on real fixtures and on small archives built here. Run `npx tsc -p tsconfig.json` first.
import { createHash, randomBytes } from 'node:crypto';
import { readdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildImage, dockerArchiveEntries, packTar, tempDir, writeTar, type TarSpec } from '../helpers/archive-builder.js';
import { runCli, runJson } from '../helpers/cli.js';
import { PUBLIC } from '../helpers/paths.js';

const fixture = (name: string) => path.join(PUBLIC, name);
const sha = (b: Buffer | string) => `sha256:${createHash('sha256').update(b).digest('hex')}`;
const dirs: string[] = [];
const fresh = async () => {
  const dir = await tempDir('stratum-inspect-');
  dirs.push(dir);
  return dir;
};
afterAll(() => Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true }))));

/** A docker-archive from layer tars (entries per layer) and an optional config patch. */
async function archive(layers: TarSpec[][], config: Record<string, unknown> = {}): Promise<string> {
  const image = await buildImage({ layers: await Promise.all(layers.map((l) => packTar(l))), config });
  return writeTar(await fresh(), 'image.tar', dockerArchiveEntries([{ image, repoTags: ['test/inspect:1'] }]));
}

describe('inspect: the layer table follows the config history', () => {
  const cases: [string, string, string[]][] = [
    ['docker classic (bazel)', 'go-containerregistry--whiteout_image.tar', ['bazel build ...', 'bazel build ...', 'bazel build ...']],
    ['docker classic (jib)', 'jib--docker-save.tar', ['jib-gradle-plugin:1.4.1-SNAPSHOT', 'jib-gradle-plugin:1.4.1-SNAPSHOT']],
    ['containerd export, classic builder', 'snyk-docker-plugin--alpine.tar', ['/bin/sh -c #(nop) ADD file:a41bb436701fd0adf99a3157d19f172b3e54ea033f5c617009e2d1bdeac206d7 in / ']],
    ['buildkit', 'snyk-docker-plugin--busybox.amd64.tar', ['ADD busybox.tar.xz / # buildkit']],
    ['buildkit over a classic base', 'snyk-docker-plugin--yarn-with-lock-file.tar', [
      '/bin/sh -c #(nop) ADD file:37a76ec18f9887751cd8473744917d08b7431fc4085097bb6a09d81b41775473 in / ',
      'COPY package.json /goof/ # buildkit',
      'COPY yarn.lock /goof/ # buildkit',
      'WORKDIR /goof',
    ]],
    ['kaniko', 'snyk-docker-plugin--kaniko-busybox.tar', ['ADD busybox.tar.gz /']],
  ];

  for (const [label, file, createdBy] of cases) {
    it(`${label}: ${file}`, async () => {
      const store = await fresh();
      const r = await runCli(['inspect', '--json', fixture(file)], { store });
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      const report = JSON.parse(r.out);
      const config = await runJson(['config', fixture(file)], { store });
      expect(report.layers.map((l: { createdBy: string }) => l.createdBy)).toEqual(createdBy);
      expect(report.layers.map((l: { diffID: string }) => l.diffID)).toEqual(config.rootfs.diff_ids);
      expect(report.history).toHaveLength(config.history.length);
      expect(report.warnings).toEqual([]);
      // Metadata only: nothing was unpacked, so no file statistics.
      expect(await readdir(path.join(store, 'layers', 'sha256'))).toEqual([]);
      expect(report.files).toBe(false);

      const full = await runJson(['inspect', '--json', '--files', fixture(file)], { store });
      expect(full.files).toBe(true);
      expect(full.layers.map((l: { createdBy: string }) => l.createdBy)).toEqual(createdBy);
      for (const l of full.layers) expect(l.unpackedSize).toBeGreaterThan(0);

      const history = await runJson(['history', '--json', fixture(file)], { store });
      expect(history).toHaveLength(config.history.length);
      for (const row of history) if (row.layer === undefined) expect(row).toMatchObject({ size: 0, sizeIs: 'empty' });
      expect(history.filter((h: { layer?: number }) => h.layer !== undefined).map((h: { createdBy: string }) => h.createdBy).reverse()).toEqual(createdBy);
    });
  }

  it('reports a history with more layer entries than layers instead of failing', async () => {
    const history = [{ created_by: 'one' }, { created_by: 'ENV x=1', empty_layer: true }, { created_by: 'two' }, { created_by: 'three' }];
    const file = await archive([[{ name: 'a', content: '1' }], [{ name: 'b', content: '2' }]], { history });
    const r = await runCli(['inspect', file], { store: await fresh() });
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/warning: the config's history has 3 entries that made a layer but the image has 2 layers/);
    expect(r.out).toMatch(/\n1 .* one\n2 .* two\n/);
  });

  it('counts added, changed and removed files per layer once the layers are stored', async () => {
    const store = await fresh();
    const file = await archive([
      [{ name: 'etc/', type: 'directory' }, { name: 'etc/a', content: '1' }, { name: 'etc/b', content: '2' }],
      [{ name: 'etc/a', content: 'changed' }, { name: 'etc/.wh.b' }, { name: 'etc/c', content: '3' }],
    ]);
    expect((await runCli(['import', '-q', file], { store })).code).toBe(0);
    const report = await runJson(['inspect', '--json', 'test/inspect:1'], { store });
    expect(report.layers.map((l: { files: object }) => l.files)).toEqual([
      expect.objectContaining({ added: 3, changed: 0, removed: 0, whiteouts: 0 }),
      expect.objectContaining({ added: 1, changed: 1, removed: 1, whiteouts: 1 }),
    ]);
  });
});

describe('manifest and config', () => {
  it('print the stored JSON byte for byte', async () => {
    const store = await fresh();
    const file = fixture('snyk-docker-plugin--busybox-1.31.1.tar');
    const manifest = await runCli(['manifest', file], { store });
    expect(sha(manifest.stdout)).toBe('sha256:320034a9c54581568f3df5587ab46296bdd3eb06435fd7c9dd567bbb71bf0b36');
    const config = await runCli(['config', file], { store });
    const report = await runJson(['inspect', '--json', file], { store });
    expect(sha(config.stdout)).toBe(report.configDigest);
  });

  it('explain that a docker-archive has no manifest until imported', async () => {
    const store = await fresh();
    const file = fixture('go-containerregistry--whiteout_image.tar');
    const before = await runCli(['manifest', file], { store });
    expect(before.code).toBe(1);
    expect(before.stderr).toMatch(/holds no image manifest/);
    await runCli(['import', '-q', file], { store });
    const after = await runCli(['manifest', file], { store });
    expect(after.code).toBe(0);
    expect(sha(after.stdout)).toBe((await runJson(['inspect', '--json', file], { store })).manifestDigest);
  });
});

describe('cat', () => {
  it('names the layer that deleted a file (whiteout of the file)', async () => {
    const store = await fresh();
    const file = fixture('go-containerregistry--whiteout_image.tar');
    const r = await runCli(['cat', file, '/foo.txt'], { store });
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('stratum: /foo.txt: deleted by layer 2 (bazel build ...): whited out\n');
    expect((await runCli(['cat', file, '/bar.txt'], { store })).out).toBe('bar\n');
  });

  it('names the layer that deleted a file (whiteout of its directory)', async () => {
    const r = await runCli(['cat', fixture('go-containerregistry--whiteout_dir.tar'), 'a/foo'], { store: await fresh() });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^stratum: \/a\/foo: deleted by layer 3 \(\/bin\/sh -c #\(nop\) COPY file:0ec0821496bc.*\): parent \/a whited out\n$/);
  });

  describe('symlinks resolve inside the image', () => {
    let file: string;
    let store: string;
    beforeAll(async () => {
      store = await fresh();
      file = await archive([
        [
          { name: 'etc/', type: 'directory' },
          { name: 'etc/hostname', content: 'inside the image\n' },
          { name: 'etc/real.conf', content: 'real\n' },
          { name: 'etc/link', type: 'symlink', linkname: '/etc/real.conf' },
          { name: 'escape', type: 'symlink', linkname: '../../../../../../etc/hostname' },
          { name: 'conf', type: 'symlink', linkname: '/etc' },
          { name: 'chain', type: 'symlink', linkname: '/conf/link' },
        ],
      ]);
    });

    it('follows an absolute symlink from the image root', async () => {
      expect((await runCli(['cat', file, '/etc/link'], { store })).out).toBe('real\n');
      expect((await runCli(['cat', file, '/chain'], { store })).out).toBe('real\n');
      expect((await runCli(['cat', file, '/conf/real.conf'], { store })).out).toBe('real\n');
    });

    it('never climbs out to the host', async () => {
      expect((await runCli(['cat', file, '/escape'], { store })).out).toBe('inside the image\n');
    });

    it('refuses a directory', async () => {
      const r = await runCli(['cat', file, '/conf'], { store });
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/\/conf is a directory/);
    });
  });

  it('follows busybox /bin/sh to the shared binary', async () => {
    const store = await fresh();
    const file = fixture('snyk-docker-plugin--busybox.amd64.tar');
    const sh = await runCli(['cat', file, '/bin/sh'], { store });
    const busybox = await runCli(['cat', file, '/bin/busybox'], { store });
    expect(sh.code).toBe(0);
    expect(sh.stdout.length).toBeGreaterThan(100_000);
    expect(sh.stdout.equals(busybox.stdout)).toBe(true);
  });
});

describe('ls and history PATH', () => {
  it('lists the merged tree and one layer with its whiteouts', async () => {
    const store = await fresh();
    const file = fixture('go-containerregistry--whiteout_image.tar');
    expect((await runCli(['ls', file], { store })).out).toBe('/bar.txt\n');
    expect((await runCli(['ls', file, '--layer', '2'], { store })).out).toBe('/\n(whiteout) /foo.txt\n');
    const long = (await runCli(['ls', '-l', file, '--layer', '1'], { store })).out;
    expect(long).toMatch(/-r-xr-xr-x\s+0\/0\s+4\s+1970-01-01 00:00:00\s+1\s+\/foo\.txt/);
  });

  it("tells a path's story across layers", async () => {
    const r = await runCli(['history', '--json', fixture('go-containerregistry--whiteout_dir.tar'), '/a/foo'], { store: await fresh() });
    const { events } = JSON.parse(r.out);
    expect(events.map((e: { layer: number; kind: string }) => [e.layer, e.kind])).toEqual([
      [1, 'created'],
      [3, 'deleted'],
    ]);
    expect(events[1].cause).toEqual({ layer: 3, how: 'whiteout', at: '/a' });
  });
});

describe('waste', () => {
  it('charges a rewritten large file to the layer that holds it and the one that rewrote it', async () => {
    const size = 2 * 1024 * 1024;
    const file = await archive(
      [[{ name: 'data/', type: 'directory' }, { name: 'data/big.bin', content: randomBytes(size) }, { name: 'data/small', content: 'x' }], [{ name: 'data/big.bin', content: randomBytes(size) }]],
      { history: [{ created_by: 'COPY big.bin' }, { created_by: 'RUN regenerate big.bin' }] },
    );
    const store = await fresh();
    const r = await runCli(['waste', '--json', file], { store });
    expect(r.code).toBe(0);
    const report = JSON.parse(r.out);
    expect(report.items).toEqual([expect.objectContaining({ kind: 'overwritten', path: '/data/big.bin', size, layer: 1, by: 2 })]);
    expect(report.wastedBytes).toBe(size);
    const text = await runCli(['waste', file], { store });
    expect(text.out).toMatch(/2\.10 MB\s+overwritten\s+1 COPY big\.bin\s+2 RUN regenerate big\.bin\s+1\s+\/data\/big\.bin/);

    const over = await runCli(['waste', file, '--fail-over', '1MB'], { store });
    expect(over.code).toBe(1);
    expect(over.stderr).toMatch(/waste 2\.10 MB \(50\.0% of 4\.19 MB\) is over --fail-over 1\.00 MB/);
    expect((await runCli(['waste', file, '--fail-over', '60%'], { store })).code).toBe(0);
    expect((await runCli(['waste', file, '--fail-over', 'lots'], { store })).code).toBe(2);
  });

  it('reports the overwritten file of go-containerregistry overwritten_file.tar', async () => {
    const r = await runCli(['waste', '--json', fixture('go-containerregistry--overwritten_file.tar')], { store: await fresh() });
    const report = JSON.parse(r.out);
    expect(report.items).toEqual([expect.objectContaining({ kind: 'overwritten', path: '/foo.txt', size: 4, layer: 1, by: 2 })]);
  });
});
