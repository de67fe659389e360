// Layer alignment (shared, only-in, re-compressed, common base) and the package ecosystems.
import { describe, expect, it } from 'vitest';
import { labelsFor } from '../../src/diff/attribution.js';
import { diffLayers } from '../../src/diff/layers.js';
import { apk } from '../../src/diff/packages/apk.js';
import { dpkg } from '../../src/diff/packages/dpkg.js';
import { diffPackages } from '../../src/diff/packages/index.js';
import type { StoredLayer } from '../../src/store/images.js';
import type { ImageConfig } from '../../src/spec/types.js';
import type { Digest } from '../../src/spec/digest.js';
import type { Inode } from '../../src/tree/types.js';
import { d, f, plan, s, sha256 } from '../helpers/layers.js';

const dg = (tag: string) => `sha256:${sha256(tag)}` as Digest;
const layer = (diff: string, blob = `gz-${diff}`, mediaType = 'application/vnd.oci.image.layer.v1.tar+gzip'): StoredLayer => ({ diffID: dg(diff), digest: dg(blob), size: 10, mediaType });
const input = (side: 'old' | 'new', layers: StoredLayer[]) => {
  const config = { history: layers.map((_, i) => ({ created_by: `${side} ${i + 1}` })) } as ImageConfig;
  return { layers, labels: labelsFor(side, config, layers.map((l) => l.diffID)) };
};

describe('diffLayers', () => {
  it('sees an unchanged base and the rebuilt top', () => {
    const r = diffLayers(input('old', [layer('a'), layer('b'), layer('c'), layer('d')]), input('new', [layer('a'), layer('b'), layer('x'), layer('y')]));
    expect(r.rows.map((x) => x.status)).toEqual(['shared', 'shared', 'old-only', 'old-only', 'new-only', 'new-only']);
    expect(r).toMatchObject({ shared: 2, oldOnly: 2, newOnly: 2, recompressed: 0, commonBase: 2 });
    expect(r.rows[4].new).toMatchObject({ position: 2, createdBy: 'new 3' });
  });

  it('says when a shared diffID sits in another blob (re-compressed)', () => {
    const r = diffLayers(input('old', [layer('a'), layer('b')]), input('new', [layer('a', 'zs-a', 'application/vnd.oci.image.layer.v1.tar+zstd'), layer('b')]));
    expect(r).toMatchObject({ shared: 2, oldOnly: 0, newOnly: 0, recompressed: 1, commonBase: 2 });
    expect(r.rows[0]).toMatchObject({ status: 'shared', recompressed: true });
  });
});

const stanza = (name: string, version: string, extra = '') => `Package: ${name}\nStatus: install ok installed\nArchitecture: amd64\n${extra}Version: ${version}\nDescription: x\n continuation line\n\n`;

describe('package ecosystems', () => {
  it('dpkg reads installed stanzas only, and keeps Multi-Arch twins apart', () => {
    const text =
      stanza('base-files', '12.4') +
      'Package: gone\nStatus: deinstall ok config-files\nVersion: 1\n\n' +
      stanza('libc6', '2.36') +
      stanza('libc6', '2.36', '').replace('amd64', 'i386');
    expect([...dpkg.parse(Buffer.from(text), 'var/lib/dpkg/status')]).toEqual([['base-files', '12.4'], ['libc6:amd64', '2.36'], ['libc6:i386', '2.36']]);
  });

  it('dpkg finds status and distroless status.d files, not their md5sums', () => {
    const t = plan([[d('var/'), d('var/lib/'), d('var/lib/dpkg/'), f('var/lib/dpkg/status', 'x'), d('var/lib/dpkg/status.d/'), f('var/lib/dpkg/status.d/tzdata', 'y'), f('var/lib/dpkg/status.d/tzdata.md5sums', 'z'), f('var/lib/dpkg/status.d/base', 'w')]]);
    expect(dpkg.paths(t)).toEqual(['var/lib/dpkg/status', 'var/lib/dpkg/status.d/base', 'var/lib/dpkg/status.d/tzdata']);
    expect([...dpkg.parse(Buffer.from('Package: tzdata\nVersion: 2024a\nArchitecture: all\n'), 'x')]).toEqual([['tzdata', '2024a']]);
  });

  it('apk reads P:/V: stanzas, through a merged-/usr symlink too', () => {
    const db = 'C:Q1abc=\nP:musl\nV:1.2.4-r2\nA:x86_64\n\nP:busybox\nV:1.36.1-r5\na:0:0:755\n';
    expect([...apk.parse(Buffer.from(db), 'lib/apk/db/installed')]).toEqual([['musl', '1.2.4-r2'], ['busybox', '1.36.1-r5']]);
    const t = plan([[d('usr/'), d('usr/lib/'), d('usr/lib/apk/'), d('usr/lib/apk/db/'), f('usr/lib/apk/db/installed', db), s('lib', 'usr/lib')]]);
    expect(apk.paths(t)).toEqual(['usr/lib/apk/db/installed']);
  });

  it('reads a database only when its sha256 differs, and reports added/removed/changed', async () => {
    const v1 = stanza('hello', '2.10-3') + stanza('tzdata', '2024a');
    const v2 = stanza('jq', '1.6') + stanza('tzdata', '2025b');
    const bodies = new Map([v1, v2].map((t) => [sha256(t), t]));
    const reads: string[] = [];
    const read = async (i: Inode) => {
      reads.push(i.sha256!);
      return Buffer.from(bodies.get(i.sha256!)!);
    };
    const tree = (t: string) => plan([[d('var/'), d('var/lib/'), d('var/lib/dpkg/'), f('var/lib/dpkg/status', t)]]);
    expect(await diffPackages({ tree: tree(v1), read }, { tree: tree(v1), read })).toEqual([]);
    expect(reads).toEqual([]);
    expect(await diffPackages({ tree: tree(v1), read }, { tree: tree(v2), read })).toEqual([
      { ecosystem: 'dpkg', name: 'hello', change: 'removed', old: '2.10-3', new: null },
      { ecosystem: 'dpkg', name: 'jq', change: 'added', old: null, new: '1.6' },
      { ecosystem: 'dpkg', name: 'tzdata', change: 'changed', old: '2024a', new: '2025b' },
    ]);
    expect(reads).toHaveLength(2);
  });
});
