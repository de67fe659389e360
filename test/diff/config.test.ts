// Config and history: per-key env/labels/ports/volumes, whole values, platform; created_by alignment.
import { describe, expect, it } from 'vitest';
import { diffConfigs, envMap } from '../../src/diff/config.js';
import { diffHistory } from '../../src/diff/history.js';
import type { ImageConfig } from '../../src/spec/types.js';

const img = (config: ImageConfig['config'], extra: Partial<ImageConfig> = {}): ImageConfig =>
  ({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [] }, config, ...extra }) as ImageConfig;

describe('diffConfigs', () => {
  it('compares env as KEY=VALUE per key, later duplicates winning', () => {
    expect([...envMap(['A=1', 'B=x=y', 'A=2', 'C'])]).toEqual([['A', '2'], ['B', 'x=y'], ['C', '']]);
    const r = diffConfigs(img({ Env: ['PATH=/bin', 'A=1', 'GONE=1'] }), img({ Env: ['A=2', 'PATH=/bin', 'NEW=x'] }));
    expect(r).toEqual([
      { field: 'env', key: 'A', change: 'changed', old: '1', new: '2' },
      { field: 'env', key: 'GONE', change: 'removed', old: '1', new: null },
      { field: 'env', key: 'NEW', change: 'added', old: null, new: 'x' },
    ]);
  });

  it('covers entrypoint, cmd, user, workdir, ports, volumes, labels, stop signal and platform', () => {
    const a = img({ Entrypoint: ['/a'], Cmd: ['x'], User: 'app', WorkingDir: '/w', ExposedPorts: { '80/tcp': {} }, Volumes: { '/data': {} }, Labels: { k: 'v', gone: '1' }, StopSignal: 'SIGTERM' });
    const b = img({ Entrypoint: null, Cmd: ['x', 'y'], WorkingDir: '/w2', ExposedPorts: { '443/tcp': {} }, Labels: { k: 'w' }, StopSignal: 'SIGINT' }, { architecture: 'arm64', variant: 'v8' });
    expect(diffConfigs(a, b).map((c) => [c.field, c.key ?? '', c.change, JSON.stringify(c.old), JSON.stringify(c.new)].join(' '))).toEqual([
      'entrypoint  removed ["/a"] null',
      'cmd  changed ["x"] ["x","y"]',
      'user  removed "app" null',
      'workdir  changed "/w" "/w2"',
      'exposedPorts 443/tcp added null null',
      'exposedPorts 80/tcp removed null null',
      'volumes /data removed null null',
      'labels gone removed "1" null',
      'labels k changed "v" "w"',
      'stopSignal  changed "SIGTERM" "SIGINT"',
      'platform  changed "linux/amd64" "linux/arm64/v8"',
    ]);
  });

  it('finds nothing in equal configs, or a missing config section against an empty one', () => {
    expect(diffConfigs(img({ Env: ['A=1'], Cmd: ['x'] }), img({ Cmd: ['x'], Env: ['A=1'] }))).toEqual([]);
    expect(diffConfigs(img(undefined), img({ Env: [], Labels: {} }))).toEqual([]);
  });
});

describe('diffHistory', () => {
  const hist = (...steps: string[]) => img({}, { history: steps.map((s) => (s.startsWith('#') ? { created_by: s.slice(1), empty_layer: true } : { created_by: s })) });

  it('aligns created_by lists: same, changed in place, inserted, removed', () => {
    const r = diffHistory(hist('FROM base', 'RUN apt-get install jq', 'COPY app', '#ENV A=1', '#CMD x'), hist('FROM base', 'RUN apt-get install jq tree', 'COPY app', '#ENV A=2', '#EXPOSE 80', '#CMD x'));
    expect(r.map((s) => `${s.op} ${s.old?.createdBy ?? ''} | ${s.new?.createdBy ?? ''}`)).toEqual([
      'same FROM base | FROM base',
      'changed RUN apt-get install jq | RUN apt-get install jq tree',
      'same COPY app | COPY app',
      'changed ENV A=1 | ENV A=2',
      'inserted  | EXPOSE 80',
      'same CMD x | CMD x',
    ]);
    expect(r[4].new).toEqual({ index: 4, createdBy: 'EXPOSE 80', emptyLayer: true });
  });

  it('tells a step that made a layer from the same text that did not', () => {
    expect(diffHistory(hist('RUN x'), hist('#RUN x')).map((s) => s.op)).toEqual(['changed']);
    expect(diffHistory(hist('a', 'b'), hist('b')).map((s) => s.op)).toEqual(['removed', 'same']);
  });
});

describe('history pairing', () => {
  const hist = (...steps: string[]) => img({}, { history: steps.map((s) => ({ created_by: s, empty_layer: true })) });
  it('pairs a changed step with the same instruction, not with whatever comes next', () => {
    const r = diffHistory(hist('/bin/sh -c #(nop) WORKDIR /a', '/bin/sh -c #(nop)  CMD ["x"]'), hist('/bin/sh -c #(nop) WORKDIR /a', '/bin/sh -c #(nop)  EXPOSE 8080', '/bin/sh -c #(nop)  CMD ["x", "-v"]'));
    expect(r.map((s) => `${s.op} ${s.old?.createdBy ?? ''} | ${s.new?.createdBy ?? ''}`)).toEqual([
      'same /bin/sh -c #(nop) WORKDIR /a | /bin/sh -c #(nop) WORKDIR /a',
      'inserted  | /bin/sh -c #(nop)  EXPOSE 8080',
      'changed /bin/sh -c #(nop)  CMD ["x"] | /bin/sh -c #(nop)  CMD ["x", "-v"]',
    ]);
  });
});
