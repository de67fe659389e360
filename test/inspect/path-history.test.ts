import { describe, expect, it } from 'vitest';
import { describeEvent } from '../../src/inspect/describe.js';
import { historyPath, lastDeletion, pathHistory } from '../../src/inspect/path-history.js';
import { d, f, layer, opq, s, wh, type Item } from '../helpers/layers.js';

const story = (layers: Item[][], path: string) => pathHistory(layers.map((l) => layer(l)), path);
const bytes = (n: number) => `${n} B`;

describe('pathHistory', () => {
  it('tells created, chmod, modified, deleted, recreated and type changes with their layers', () => {
    const events = story(
      [
        [d('etc'), f('etc/conf', 'v1', { mode: 0o644 })],
        [f('etc/conf', 'v1', { mode: 0o600 })],
        [f('etc/conf', 'version 2', { mode: 0o600 })],
        [wh('etc/conf')],
        [f('etc/conf', 'v3')],
        [s('etc/conf', '/dev/null')],
      ],
      '/etc/conf',
    );
    expect(events.map((e) => [e.layer, e.kind])).toEqual([
      [0, 'created'],
      [1, 'metadata'],
      [2, 'modified'],
      [3, 'deleted'],
      [4, 'recreated'],
      [5, 'type-changed'],
    ]);
    expect(describeEvent(events[1], 'etc/conf', bytes)).toBe('chmod 0644 -> 0600');
    expect(describeEvent(events[2], 'etc/conf', bytes)).toBe('content, 2 B -> 9 B');
    expect(describeEvent(events[3], 'etc/conf', bytes)).toBe('whited out');
    expect(describeEvent(events[5], 'etc/conf', bytes)).toBe('file 2 B 0644 0:0 => symlink -> /dev/null');
  });

  it('names the ancestor that removed a path: whiteout, opaque, replacement', () => {
    const byWhiteout = story([[d('a'), d('a/b'), f('a/b/c', 'x')], [wh('a')]], 'a/b/c');
    expect(lastDeletion(byWhiteout)?.cause).toEqual({ layer: 1, how: 'whiteout', at: 'a' });
    const byOpaque = story([[d('a'), d('a/b'), f('a/b/c', 'x')], [opq('a/b')]], 'a/b/c');
    expect(lastDeletion(byOpaque)?.cause).toEqual({ layer: 1, how: 'opaque', at: 'a/b' });
    const byReplace = story([[d('a'), d('a/b'), f('a/b/c', 'x')], [s('a', '/tmp')]], 'a/b/c');
    expect(lastDeletion(byReplace)?.cause).toEqual({ layer: 1, how: 'replaced', at: 'a' });
    expect(describeEvent(lastDeletion(byReplace)!, 'a/b/c', bytes)).toBe('parent /a replaced by a non-directory');
  });

  it('calls a re-stored identical file touched, and has no deletion when the path lives', () => {
    const events = story([[f('x', 'same', { mtime: 1 })], [f('x', 'same', { mtime: 2 })]], 'x');
    expect(events.map((e) => e.kind)).toEqual(['created', 'touched']);
    expect(lastDeletion(events)).toBeUndefined();
  });

  it('is empty for a path no layer ever had', () => {
    expect(story([[f('x', '1')]], 'y')).toEqual([]);
  });

  it('follows symlinked parents of the final tree to the stored path', () => {
    const layers = [layer([d('usr'), d('usr/lib'), s('lib', 'usr/lib'), f('usr/lib/x', '1')])];
    expect(historyPath(layers, 'lib/x')).toBe('usr/lib/x');
    expect(historyPath(layers, '/nope/x')).toBe('nope/x');
  });
});
