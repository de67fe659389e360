// `stratum export IMAGE file.tar` unpacked by GNU tar (as root: owners, modes, devices, xattrs) is the same tree
// as `stratum flatten IMAGE OUT`; `export IMAGE -` writes the same bytes to stdout; export is byte-identical from
// run to run, also from a fresh store. Images: samples v1 (whiteouts, opaque dirs, hardlinks, xattrs, setuid,
// read-only dirs, long and UTF-8 names), docker-archive v2, busybox (hundreds of hardlinks) and one built here with
// GNU tar holding what the samples lack (device nodes, a fifo, a hardlink to a symlink, security.capability).
import { createHash } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compareWithOracle, fastOracle, formatComparison, ociLayoutOfLayers, overlayStatus, removeTree, run, tmpDir, warnSkipped } from '../helpers/overlay-oracle.js';
import { stratum } from '../helpers/oracle-images.js';
import { PUBLIC, SAMPLES } from '../helpers/paths.js';
import { diffManifests, manifestOfDir } from '../helpers/tree-manifest.js';

const root = process.getuid?.() === 0;
if (!root) warnSkipped('export | tar -x = flatten', 'needs root to unpack owners, devices and xattrs');

const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

/** A one-layer OCI layout built with GNU tar from a staged directory (as root). */
async function builtLayout(work: string): Promise<string> {
  const stage = path.join(work, 'stage');
  await fsp.mkdir(stage);
  const script = `
    set -e; cd "$1"
    mkdir -p dev run usr/bin etc/app
    mknod dev/null c 1 3; mknod dev/sda b 8 0; mkfifo run/fifo; chmod 0620 dev/sda
    printf 'ping' > usr/bin/ping; chmod 0755 usr/bin/ping
    setfattr -n security.capability -v 0sAQAAAgAgAAAAAAAAAAAAAAAAAAA= usr/bin/ping
    printf 'conf' > etc/app/app.conf; setfattr -n user.comment -v 'kept' etc/app/app.conf
    ln -s ../etc/app/app.conf usr/bin/conf-link; ln usr/bin/conf-link usr/bin/conf-link-hard
    printf 'two names' > usr/bin/a; ln usr/bin/a usr/bin/b
    chown -h 1000:1000 usr/bin/a run/fifo; chmod 4750 usr/bin/a
    touch -h -d @1000000000 usr/bin/conf-link dev/null run/fifo usr/bin/a usr/bin/ping etc/app/app.conf
    touch -d @1100000000 dev run usr/bin etc/app etc usr .
    tar --numeric-owner --xattrs --xattrs-include='*' --sort=name -cf "$2" .
  `;
  const layer = path.join(work, 'layer.tar');
  await run('sh', ['-c', script, 'sh', stage, layer]);
  const layout = path.join(work, 'built-layout');
  await ociLayoutOfLayers(layout, [await fsp.readFile(layer)], 'built');
  return layout;
}

describe.skipIf(!root)('export | tar -x = flatten; export - = export FILE; export is deterministic', () => {
  let work = '';
  const images: Array<{ name: string; input: string; args?: string[] }> = [
    { name: 'samples/oci-layout-gzip (v1)', input: path.join(SAMPLES, 'oci-layout-gzip') },
    { name: 'samples/docker-archive-v2.tar', input: path.join(SAMPLES, 'docker-archive-v2.tar') },
    { name: 'fixtures/public busybox-1.31.1 (400 hardlinks)', input: path.join(PUBLIC, 'snyk-docker-plugin--busybox-1.31.1.tar') },
    { name: 'built here: devices, fifo, link to a symlink, security.capability', input: '' },
  ];
  beforeAll(async () => {
    work = await tmpDir('export');
    images[3].input = await builtLayout(work);
  });
  afterAll(async () => {
    if (work) await removeTree(work);
  });

  for (const [i, img] of images.entries()) {
    it(img.name, async () => {
      const dir = path.join(work, `img${i}`);
      await fsp.mkdir(dir);
      const store = path.join(dir, 'store');
      const out = path.join(dir, 'out');
      const file = path.join(dir, 'export.tar');
      const f = await stratum(['flatten', '-q', '--store', store, img.input, out]);
      expect(f.code, f.stderr).toBe(0);
      const e = await stratum(['export', '-q', '--store', store, img.input, file]);
      expect(e.code, e.stderr).toBe(0);
      expect(e.stdout.length, 'export FILE writes nothing to stdout').toBe(0);

      const x = path.join(dir, 'x');
      await fsp.mkdir(x);
      const t = await run('tar', ['-x', '-p', '--numeric-owner', '--same-owner', '--xattrs', '--xattrs-include=*', '-f', file, '-C', x], { allowFail: true });
      expect(t.code, `GNU tar could not unpack the export: ${t.stderr}`).toBe(0);
      expect(t.stderr, 'GNU tar warned about the export').toBe('');
      // the root itself is not compared: the export has no './' member, so tar -x leaves the directory it was
      // given as it was (flatten gives OUT the image root's mode, owner and mtime)
      const [a, b] = await Promise.all([manifestOfDir(out), manifestOfDir(x)]);
      const diff = diffManifests(a, b, { labels: ['flatten', 'export|tar -x'] });
      expect(diff, diff.join('\n')).toEqual([]);
      expect(a.length).toBeGreaterThan(0);

      // to stdout: the same bytes
      const bytes = await fsp.readFile(file);
      const s = await stratum(['export', '-q', '--store', store, img.input, '-']);
      expect(s.code, s.stderr).toBe(0);
      expect(sha(s.stdout), 'export - differs from export FILE').toBe(sha(bytes));
      // again, and from a fresh store: byte-identical
      const again = path.join(dir, 'again.tar');
      const fresh = path.join(dir, 'fresh.tar');
      expect((await stratum(['export', '-q', '--store', store, img.input, again])).code).toBe(0);
      expect((await stratum(['export', '-q', '--store', path.join(dir, 'store2'), img.input, fresh])).code).toBe(0);
      expect(sha(await fsp.readFile(again)), 'a second export differs').toBe(sha(bytes));
      expect(sha(await fsp.readFile(fresh)), 'an export from a fresh store differs').toBe(sha(bytes));
      // no temp file left beside the export
      expect((await fsp.readdir(dir)).filter((n) => n.startsWith('.'))).toEqual([]);
      await removeTree(dir);
    }, 120_000);
  }

  it('built here: flatten = overlayfs merge too (the samples have no devices, fifos or security.* xattrs)', async () => {
    const status = await overlayStatus();
    if (!status.ok) {
      warnSkipped('built image against overlayfs', status.reason);
      return;
    }
    const oracle = await fastOracle([path.join(work, 'layer.tar')]);
    try {
      const out = path.join(work, 'built-out');
      const f = await stratum(['flatten', '-q', '--store', path.join(work, 'store-built'), images[3].input, out]);
      expect(f.code, f.stderr).toBe(0);
      const c = await compareWithOracle(out, oracle);
      expect(c.differences, formatComparison('built image', c)).toEqual([]);
    } finally {
      await oracle.cleanup();
    }
  }, 120_000);
});
