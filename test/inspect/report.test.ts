import { describe, expect, it } from 'vitest';
import { inspectReport, type ImageMeta } from '../../src/inspect/report.js';
import type { LayerIndex } from '../../src/layer/entry.js';
import type { Digest } from '../../src/spec/digest.js';
import type { ImageConfig } from '../../src/spec/types.js';
import { d, f, layer, wh, type Item } from '../helpers/layers.js';

const digest = (n: number) => `sha256:${String(n).repeat(64).slice(0, 64)}` as Digest;
const config: ImageConfig = {
  architecture: 'arm64',
  os: 'linux',
  variant: 'v8',
  created: '2024-01-01T00:00:00Z',
  author: 'me',
  config: { Env: ['A=1'], Entrypoint: ['/init'], Cmd: null, User: 'app', WorkingDir: '/srv', ExposedPorts: { '80/tcp': {}, '443/tcp': {} }, Labels: { a: 'b' } },
  rootfs: { type: 'layers', diff_ids: [digest(1), digest(2)] },
  history: [{ created_by: 'ADD root' }, { created_by: 'ENV A=1', empty_layer: true }, { created_by: 'RUN rm x', comment: 'c' }],
};
const meta: ImageMeta = {
  from: 'archive',
  format: 'docker-archive',
  names: ['x:1'],
  configDigest: digest(9),
  configRaw: Buffer.from('{}'),
  config,
  platform: { os: 'linux', architecture: 'arm64', variant: 'v8' },
  layers: [
    { digest: digest(3), size: 100, mediaType: 'm', diffID: digest(1) },
    { size: 50, mediaType: 'm', diffID: digest(2) },
  ],
};
const index = (items: Item[], tarSize: number, diffID: Digest): LayerIndex => ({ version: 1, diffID, tarSize, ...layer(items) });

describe('inspectReport', () => {
  it('summarises identity, config and layers aligned with history, without file counts from metadata alone', () => {
    const r = inspectReport(meta);
    expect(r).toMatchObject({ platform: 'linux/arm64/v8', created: '2024-01-01T00:00:00Z', author: 'me', compressedSize: 150, files: false, warnings: [] });
    expect(r.unpackedSize).toBeUndefined();
    expect(r.config).toEqual({ env: ['A=1'], entrypoint: ['/init'], cmd: null, user: 'app', workdir: '/srv', ports: ['443/tcp', '80/tcp'], volumes: [], labels: { a: 'b' } });
    expect(r.layers.map((l) => [l.number, l.createdBy, l.digest])).toEqual([
      [1, 'ADD root', digest(3)],
      [2, 'RUN rm x', undefined],
    ]);
    expect(r.history.map((h) => [h.layer, h.emptyLayer])).toEqual([[1, false], [undefined, true], [2, false]]);
  });

  it('adds unpacked sizes and file counts when every layer index is at hand', () => {
    const indexes = [index([d('etc'), f('etc/x', '1'), f('etc/y', '2')], 3072, digest(1)), index([wh('etc/x')], 1536, digest(2))];
    const r = inspectReport(meta, indexes);
    expect(r.files).toBe(true);
    expect(r.unpackedSize).toBe(4608);
    expect(r.layers[1].files).toMatchObject({ added: 0, changed: 0, removed: 1, whiteouts: 1 });
    const partial = inspectReport(meta, [indexes[0], undefined]);
    expect(partial.files).toBe(false);
    expect(partial.layers[0].unpackedSize).toBe(3072);
    expect(partial.unpackedSize).toBeUndefined();
  });
});
