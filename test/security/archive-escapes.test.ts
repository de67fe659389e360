// The archive's own structure as an attack: manifest.json or index.json naming files outside the archive or layout,
// digests that are paths, and archive or layout symlinks (layer.tar, blobs) leading to host files. Each target on
// the host is given exactly the bytes the image expects, so following it would make the import *succeed*: a
// refusal here is the proof that stratum never read it.
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'vitest';
import { expectRefused, runAttack } from '../helpers/attack.js';
import { buildImage, dockerArchiveEntries, hexOf, ociIndex, ociLayoutEntries, packTar, withRefName, writeEntries, type BuiltImage, type TarSpec } from '../helpers/archive-builder.js';
import { rawLayer } from '../helpers/hostile.js';
import type { Jail } from '../helpers/jail.js';

async function smallImage(): Promise<BuiltImage> {
  return buildImage({ layers: [rawLayer([{ name: 'etc/hostname', body: 'box\n' }])] });
}

/** Docker archive entries with one file replaced (or dropped when `by` is undefined). */
function replace(entries: TarSpec[], name: string, by: TarSpec | undefined): TarSpec[] {
  const out = entries.filter((e) => e.name !== name);
  if (out.length === entries.length) throw new Error(`no ${name} in the archive`);
  return by ? [...out, by] : out;
}

async function writeArchive(j: Jail, entries: TarSpec[]): Promise<string> {
  const p = path.join(j.input, 'image.tar');
  await fs.writeFile(p, await packTar(entries));
  return p;
}

const LEGACY_LAYER = (img: BuiltImage) => `${hexOf(img.layers[0].descriptor.digest)}/layer.tar`;
const LEGACY_CONFIG = (img: BuiltImage) => `${hexOf(img.config.descriptor.digest)}.json`;

/** manifest.json with one item whose Config and Layers are as given. */
const manifestItem = (config: string, layers: string[]) => JSON.stringify([{ Config: config, RepoTags: ['hostile:latest'], Layers: layers }]);

describe('security: archive and layout structure', () => {
  for (const [label, target] of [
    ['relative', '../victim/config.json'],
    ['deep relative', '../../../../../../../../../../etc/passwd'],
    ['absolute', 'VICTIM/config.json'],
  ] as const) {
    it(`moby safePath (EDGE #120): manifest.json Config naming a host file (${label}) is not found, never read`, async () => {
      const r = await runAttack(async (j) => {
        const img = await smallImage();
        await fs.writeFile(path.join(j.victim, 'config.json'), img.config.bytes);
        const config = target.replace('VICTIM', j.victim);
        const entries = replace(dockerArchiveEntries([{ image: img, repoTags: ['hostile:latest'] }]), 'manifest.json', { name: 'manifest.json', content: manifestItem(config, [LEGACY_LAYER(img)]) });
        return writeArchive(j, replace(entries, LEGACY_CONFIG(img), undefined));
      });
      await expectRefused(r, /not found in the archive/);
      await r.done();
    });
  }

  it('EDGE #120: manifest.json Layers naming a host file (relative and absolute) is not found, never read', async () => {
    const r = await runAttack(async (j) => {
      const img = await smallImage();
      await fs.writeFile(path.join(j.victim, 'layer.tar'), img.layers[0].bytes);
      const entries = dockerArchiveEntries([{ image: img, repoTags: ['hostile:latest'] }]);
      const manifest = manifestItem(LEGACY_CONFIG(img), ['../victim/layer.tar']);
      return writeArchive(j, replace(replace(entries, 'manifest.json', { name: 'manifest.json', content: manifest }), LEGACY_LAYER(img), undefined));
    });
    await expectRefused(r, /layer 0 \(\.\.\/victim\/layer\.tar\) not found in the archive/);
    await r.done();
  });

  for (const [label, link] of [
    ['climbing', '../../victim/layer.tar'],
    ['deep climbing', '../../../../../../../../victim/layer.tar'],
    ['absolute', 'VICTIM/layer.tar'],
  ] as const) {
    it(`EDGE #118: a layer.tar symlink pointing out of the archive (${label}) is not followed onto the host`, async () => {
      const r = await runAttack(async (j) => {
        const img = await smallImage();
        await fs.writeFile(path.join(j.victim, 'layer.tar'), img.layers[0].bytes);
        const entries = dockerArchiveEntries([{ image: img, repoTags: ['hostile:latest'] }]);
        return writeArchive(j, replace(entries, LEGACY_LAYER(img), { name: LEGACY_LAYER(img), type: 'symlink', linkname: link.replace('VICTIM', j.victim) }));
      });
      await expectRefused(r, /not found in the archive/);
      await r.done();
    });
  }

  it('a layer.tar hardlink entry naming a host file is not followed onto the host', async () => {
    const r = await runAttack(async (j) => {
      const img = await smallImage();
      await fs.writeFile(path.join(j.victim, 'layer.tar'), img.layers[0].bytes);
      const entries = dockerArchiveEntries([{ image: img, repoTags: ['hostile:latest'] }]);
      return writeArchive(j, replace(entries, LEGACY_LAYER(img), { name: LEGACY_LAYER(img), type: 'link', linkname: `${j.victim}/layer.tar` }));
    });
    await expectRefused(r, /not found in the archive/);
    await r.done();
  });

  it('ggcr "link cycle detected" (EDGE #119): a layer.tar symlink cycle is refused', async () => {
    const r = await runAttack(async (j) => {
      const img = await smallImage();
      const entries = dockerArchiveEntries([{ image: img, repoTags: ['hostile:latest'] }]);
      const cycle: TarSpec[] = [
        { name: 'a/layer.tar', type: 'symlink', linkname: '../b/layer.tar' },
        { name: 'b/layer.tar', type: 'symlink', linkname: '../a/layer.tar' },
      ];
      const manifest = manifestItem(LEGACY_CONFIG(img), ['a/layer.tar']);
      return writeArchive(j, [...replace(replace(entries, 'manifest.json', { name: 'manifest.json', content: manifest }), LEGACY_LAYER(img), undefined), ...cycle]);
    });
    await expectRefused(r, /link loop/);
    await r.done();
  });

  it('CVE-2024-3727 (EDGE #131): index.json descriptor digest "sha256:../../etc/passwd" is refused before any path is built', async () => {
    const r = await runAttack(async (j) => {
      const img = await smallImage();
      const bad = withRefName({ ...img.manifest.descriptor, digest: 'sha256:../../../victim/passwd' as never }, 'latest');
      return writeArchive(j, ociLayoutEntries({ manifests: [bad], blobs: img.blobs }));
    });
    await expectRefused(r, /index\.json: manifests\[0\]: digest: malformed digest "sha256:\.\.\//);
    await r.done();
  });

  it('CVE-2024-3727: a manifest layer digest that is a path is refused', async () => {
    const r = await runAttack(async (j) => {
      const img = await smallImage();
      const manifest = JSON.parse(img.manifest.bytes.toString()) as { layers: Array<{ digest: string }> };
      manifest.layers[0].digest = `sha256:${'../'.repeat(8)}victim/layer.tar`;
      const bytes = Buffer.from(JSON.stringify(manifest));
      const { createHash } = await import('node:crypto');
      const digest = `sha256:${createHash('sha256').update(bytes).digest('hex')}` as never;
      const desc = withRefName({ mediaType: img.manifest.descriptor.mediaType, digest, size: bytes.length }, 'latest');
      return writeArchive(j, ociLayoutEntries({ manifests: [desc], blobs: [...img.blobs, { descriptor: { ...desc }, bytes }] }));
    });
    await expectRefused(r, /layers\[0\]: digest: malformed digest "sha256:\.\.\//);
    await r.done();
  });

  it('an OCI layout directory whose layer blob is a symlink to a host file with the right digest is refused', async () => {
    const r = await runAttack(async (j) => {
      const img = await smallImage();
      const dir = path.join(j.input, 'layout');
      await fs.writeFile(path.join(j.victim, 'layer-blob'), img.layers[0].bytes);
      const name = `blobs/sha256/${hexOf(img.layers[0].descriptor.digest)}`;
      const entries = ociLayoutEntries({ manifests: [withRefName(img.manifest.descriptor, 'latest')], blobs: img.blobs });
      await writeEntries(dir, replace(entries, name, { name, type: 'symlink', linkname: path.join(j.victim, 'layer-blob') }));
      return dir;
    });
    await expectRefused(r, /layer 0 blob sha256:[0-9a-f]{64} not in the archive/);
    await r.done();
  });

  it('an OCI layout directory whose blobs/ directory is a symlink out of the layout is refused', async () => {
    const r = await runAttack(async (j) => {
      const img = await smallImage();
      const dir = path.join(j.input, 'layout');
      await writeEntries(path.join(j.victim, 'outside'), ociLayoutEntries({ manifests: [withRefName(img.manifest.descriptor, 'latest')], blobs: img.blobs }));
      await fs.mkdir(dir);
      await fs.copyFile(path.join(j.victim, 'outside', 'index.json'), path.join(dir, 'index.json'));
      await fs.copyFile(path.join(j.victim, 'outside', 'oci-layout'), path.join(dir, 'oci-layout'));
      await fs.symlink('../../victim/outside/blobs', path.join(dir, 'blobs'));
      return dir;
    });
    await expectRefused(r, /manifest blob sha256:[0-9a-f]{64} not in the archive/);
    await r.done();
  });

  it('an OCI layout directory whose index.json is a symlink out of the layout is refused', async () => {
    const r = await runAttack(async (j) => {
      const img = await smallImage();
      const dir = path.join(j.input, 'layout');
      const entries = ociLayoutEntries({ manifests: [withRefName(img.manifest.descriptor, 'latest')], blobs: img.blobs });
      await fs.writeFile(path.join(j.victim, 'index.json'), JSON.stringify(ociIndex([withRefName(img.manifest.descriptor, 'latest')])));
      await writeEntries(dir, replace(entries, 'index.json', { name: 'index.json', type: 'symlink', linkname: path.join(j.victim, 'index.json') }));
      return dir;
    });
    await expectRefused(r, /OCI layout without index\.json/);
    await r.done();
  });

  it('an oci-archive whose blob entries are symlinks to host files with the right digests is refused', async () => {
    const r = await runAttack(async (j) => {
      const img = await smallImage();
      let entries = ociLayoutEntries({ manifests: [withRefName(img.manifest.descriptor, 'latest')], blobs: img.blobs });
      for (const [i, b] of img.blobs.entries()) {
        const host = path.join(j.victim, `blob-${i}`);
        await fs.writeFile(host, b.bytes);
        const name = `blobs/sha256/${hexOf(b.descriptor.digest)}`;
        entries = replace(entries, name, { name, type: 'symlink', linkname: i % 2 ? host : `../../../../../..${host}` });
      }
      return writeArchive(j, entries);
    });
    await expectRefused(r, /manifest blob sha256:[0-9a-f]{64} not in the archive/);
    await r.done();
  });
});
