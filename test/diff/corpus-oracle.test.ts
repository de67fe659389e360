// app-v1 → app-v2 of ../shared/corpus/make-corpus.sh app (buildah bud, vfs driver), checked against the
// kernel: the file changes must be exactly what the two overlayfs-merged ground-truth manifests differ
// by (groundtruth/manifest.tsv), and the config, history, layers and packages what config.diff shows.
// Skipped when the corpus has not been built (it lives under $TMPDIR/stratum-corpus).
import { existsSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { warnSkipped } from '../helpers/overlay-oracle.js';
import { diff, tempDir } from './run-diff.js';

const CORPUS = path.join(process.env.TMPDIR || '/tmp', 'stratum-corpus', 'corpus');
const archive = (v: number) => path.join(CORPUS, `app-v${v}`, `app-v${v}.oci.tar`);
const manifest = (v: number) => path.join(CORPUS, `app-v${v}`, 'groundtruth', 'manifest.tsv');
const present = [1, 2].every((v) => existsSync(archive(v)) && existsSync(manifest(v)));

interface Row {
  type: string;
  fields: string;
  group: string;
}

/** path → row; linkgroup names the smallest path of a hardlink group, so groups are compared as name sets. */
function readManifest(file: string): { rows: Map<string, Row>; groups: Map<string, string[]> } {
  const rows = new Map<string, Row>();
  const groups = new Map<string, string[]>();
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    if (!line) continue;
    const [p, type, mode, uid, gid, size, sha, target, group] = line.split('\t');
    rows.set(p, { type, fields: [mode, uid, gid, size, sha, target].join(' '), group });
    if (group !== '-') groups.set(group, [...(groups.get(group) ?? []), p]);
  }
  return { rows, groups };
}

function expectedChanges(): string[] {
  const [a, b] = [readManifest(manifest(1)), readManifest(manifest(2))];
  const linkSet = (m: typeof a, r: Row | undefined) => (r && r.group !== '-' ? m.groups.get(r.group)!.join(' ') : '');
  const out: string[] = [];
  for (const p of [...new Set([...a.rows.keys(), ...b.rows.keys()])]) {
    const o = a.rows.get(p);
    const n = b.rows.get(p);
    if (!o) out.push(`A\t${p}`);
    else if (!n) out.push(`D\t${p}`);
    else if (o.type !== n.type) out.push(`T\t${p}`);
    else if (o.fields !== n.fields || linkSet(a, o) !== linkSet(b, n)) out.push(`M\t${p}`);
  }
  return out.sort();
}

const store = tempDir('diff-corpus');
afterAll(() => rmSync(store, { recursive: true, force: true }));

if (!present) warnSkipped(`the app-v1 → app-v2 diff (${CORPUS}/app-v1, app-v2)`, 'not built: run ../shared/corpus/make-corpus.sh app as root');

describe.skipIf(!present)('app-v1 → app-v2 against the overlayfs ground truth', () => {
  it('finds exactly the file changes the kernel-merged trees differ by', async () => {
    const r = await diff([archive(1), archive(2), '--name-status'], store);
    expect(r.code).toBe(1);
    expect(r.out.trim().split('\n').sort()).toEqual(expectedChanges());
  }, 300_000);

  it('reports the layers, config, history and packages that config.diff shows', async () => {
    const j = JSON.parse((await diff([archive(1), archive(2), '--json', '--only', 'layers,config,history,packages'], store)).out);
    expect(j.summary.layers).toEqual({ shared: 1, oldOnly: 2, newOnly: 2, recompressed: 0 });
    expect(j.layers.commonBase).toBe(1);
    expect(j.config.map((c: { field: string; key?: string; change: string; old: unknown; new: unknown }) => [c.field, c.key ?? '', c.change, c.old, c.new])).toEqual([
      ['env', 'APP_FEATURE', 'added', null, 'x'],
      ['env', 'APP_VERSION', 'changed', '1.0', '2.0'],
      ['cmd', '', 'changed', ['/opt/app/run.sh'], ['/opt/app/run.sh', '--verbose']],
      ['exposedPorts', '8080/tcp', 'added', null, null],
      ['labels', 'com.example.new', 'added', null, 'yes'],
      ['labels', 'org.opencontainers.image.version', 'changed', '1.0', '2.0'],
    ]);
    const steps = j.history.filter((h: { op: string }) => h.op !== 'same').map((h: { op: string; old?: { createdBy: string }; new?: { createdBy: string } }) => `${h.op}: ${(h.new ?? h.old)!.createdBy.replace('/bin/sh -c ', '').slice(0, 40)}`);
    expect(steps).toEqual(
      [
        'changed: apt-get update && DEBIAN_FRONTEND=noninteractive',
        'changed: #(nop) COPY dir:70e6d8b732f20b02e6238985f06ace3b',
        'changed: #(nop) ENV APP_VERSION=2.0 APP_MODE=prod APP_FEATURE=x',
        'changed: #(nop) LABEL org.opencontainers.image.version',
        'inserted: #(nop) EXPOSE 8080',
        'changed: #(nop) CMD ["/opt/app/run.sh", "--verbose"]',
      ].map((s) => `${s.split(': ')[0]}: ${s.slice(s.indexOf(': ') + 2).slice(0, 40)}`),
    );
    expect(j.packages).toEqual([{ ecosystem: 'dpkg', name: 'tree', change: 'added', old: null, new: '2.1.0-1' }]);
  }, 300_000);

  it('is identical to itself across export formats except for the blobs', async () => {
    const zstd = path.join(CORPUS, 'app-v2', 'app-v2.oci-zstd.tar');
    const docker = path.join(CORPUS, 'app-v2', 'app-v2.docker.tar');
    const r = JSON.parse((await diff([zstd, docker, '--json'], store)).out);
    expect(r.summary).toMatchObject({ layers: { shared: 3, oldOnly: 0, newOnly: 0, recompressed: 3 }, config: 0, packages: { added: 0, removed: 0, changed: 0 } });
    expect(r.files).toEqual([]);
  }, 300_000);
});
