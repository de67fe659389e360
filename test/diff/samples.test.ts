// End to end on the checked-in sample pairs (samples/README.md): the full report, human and JSON, for
// the docker-archive and the oci-archive exports; self-diffs; a re-compressed copy; --name-status.
import { execFileSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { diff, tempDir } from './run-diff.js';
import { DOCKER, expectedHuman, expectedJson, OCI } from './samples-expected.js';
import { REPO } from '../helpers/paths.js';

let store: string;
let work: string;
beforeAll(() => {
  store = tempDir('diff-store');
  work = tempDir('diff-work');
});
afterAll(() => {
  rmSync(store, { recursive: true, force: true });
  rmSync(work, { recursive: true, force: true });
});

describe.each([
  ['docker-archive', DOCKER, [' 169.0 kB', '  18.9 kB', '  8.70 kB', '  11.8 kB']],
  ['oci-archive', OCI, ['  46.8 kB', '    864 B', '    460 B', '    954 B']],
] as const)('stratum-sample v1 → v2 as %s', (_, format, sizes) => {
  it('prints the whole human report and exits 1', async () => {
    const r = await diff([format.old.ref, format.new.ref], store);
    expect(r.err).toBe('');
    expect(r.out).toBe(expectedHuman(format, [...sizes]));
    expect(r.code).toBe(1);
  });

  it('prints the whole JSON report', async () => {
    const r = await diff([format.old.ref, format.new.ref, '--json'], store);
    expect(r.code).toBe(1);
    expect(JSON.parse(r.out)).toEqual(expectedJson(format));
  });

  it('lists file changes for scripts with --name-status', async () => {
    const r = await diff([format.old.ref, format.new.ref, '--name-status'], store);
    expect(r.out).toBe(['M\t/etc/app/app.conf', 'A\t/opt/app/NEW.txt', 'M\t/opt/app/config.json', 'D\t/opt/app/old-data', 'D\t/opt/app/old-data/1.txt', 'D\t/opt/app/old-data/2.txt', 'M\t/opt/app/run.sh', 'M\t/var/lib/dpkg/status', ''].join('\n'));
    expect(r.code).toBe(1);
  });
});

describe('stratum-sample against itself', () => {
  it.each([['samples/docker-archive.tar'], ['samples/oci-layout-gzip'], ['samples/multi-image.tar']])('%s: exit 0, no changes', async (ref) => {
    const args = ref.endsWith('multi-image.tar') ? [ref, ref, '--image', 'localhost/stratum-sample:v1'] : [ref, ref];
    const r = await diff([...args, '--json'], store);
    expect(r.code).toBe(0);
    const j = JSON.parse(r.out);
    expect(j).toMatchObject({ identical: true, files: [], config: [], packages: [], summary: { layers: { shared: 3, oldOnly: 0, newOnly: 0, recompressed: 0 } } });
    expect(j.history.every((h: { op: string }) => h.op === 'same')).toBe(true);
    const human = await diff(args, store);
    expect(human.out.split('\n')[0]).toBe('identical: no differences in layers, files, config, history, packages');
    expect(human.code).toBe(0);
  });

  it('matches across export formats by diffID: only the blobs differ', async () => {
    const r = await diff(['samples/oci-layout-mixed', 'samples/docker-archive.tar', '--json'], store);
    const j = JSON.parse(r.out);
    expect(j.files).toEqual([]);
    expect(j.config).toEqual([]);
    expect(j.layers.rows.map((x: { recompressed: boolean }) => x.recompressed)).toEqual([true, true, false]);
    expect(r.code).toBe(1);
  });
});

describe('a re-compressed copy', () => {
  it('has no file changes and says the layer digests differ', async () => {
    const copy = path.join(work, 'zstd.tar');
    execFileSync('skopeo', ['copy', '-q', '--dest-compress-format', 'zstd', 'oci-archive:samples/oci-archive-gzip.tar', `oci-archive:${copy}:v1`], { cwd: REPO });
    const r = await diff(['samples/oci-archive-gzip.tar', copy, '--json'], store);
    const j = JSON.parse(r.out);
    expect(j.summary).toEqual({ layers: { shared: 3, oldOnly: 0, newOnly: 0, recompressed: 3 }, files: { added: 0, removed: 0, modified: 0, typeChanged: 0, sizeDelta: 0 }, config: 0, history: { inserted: 0, removed: 0, changed: 0 }, packages: { added: 0, removed: 0, changed: 0 } });
    for (const row of j.layers.rows) {
      expect(row.old.diffID).toBe(row.new.diffID);
      expect(row.old.digest).not.toBe(row.new.digest);
      expect([row.old.mediaType, row.new.mediaType]).toEqual(['application/vnd.oci.image.layer.v1.tar+gzip', 'application/vnd.oci.image.layer.v1.tar+zstd']);
    }
    expect(r.code).toBe(1);
    const human = await diff(['samples/oci-archive-gzip.tar', copy], store);
    expect(human.out).toContain('3 shared layers re-compressed: same diffID (same tar), different blob digest');
    expect(human.out).toContain('\nFiles: same (±0 B)\n');
    // only the layers differ: comparing the rest says so with exit 0
    expect((await diff(['samples/oci-archive-gzip.tar', copy, '--only', 'files,config,history,packages'], store)).code).toBe(0);
  });
});
