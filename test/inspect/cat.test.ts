import { describe, expect, it } from 'vitest';
import { findFile } from '../../src/inspect/cat.js';
import { layerNamer } from '../../src/inspect/describe.js';
import { c, d, f, layer, opq, plan, s, wh, type Item } from '../helpers/layers.js';

function setup(layers: Item[][], createdBy: string[] = []) {
  const tree = plan(layers);
  const indexes = layers.map((l) => layer(l));
  return (path: string) => findFile(tree.root, indexes, path, layerNamer(createdBy));
}

describe('findFile', () => {
  it('finds a file through absolute and relative symlinks, clamped at the root', () => {
    const find = setup([[d('etc'), f('etc/os-release', 'x'), s('etc/link', '/etc/os-release'), s('up', '../../../etc/os-release'), s('e', 'etc')]]);
    expect(find('/etc/link').path).toBe('etc/os-release');
    expect(find('up').path).toBe('etc/os-release');
    expect(find('/e/link').inode.size).toBe(1);
  });

  it('names the topmost layer that deleted the path, with its history command', () => {
    const find = setup([[d('a'), f('a/x', '1')], [wh('a/x')], [f('a/x', '2')], [opq('a')]], ['ADD', 'RUN rm', 'RUN echo', 'RUN rm -rf /a/*']);
    expect(() => find('/a/x')).toThrow('/a/x: deleted by layer 4 (RUN rm -rf /a/*): parent /a made opaque (emptied)');
  });

  it('reports a deleted symlink target under the name asked for', () => {
    const find = setup([[d('etc'), f('etc/real', '1'), s('etc/link', 'real')], [wh('etc/real')]]);
    expect(() => find('/etc/link')).toThrow('/etc/link (resolves to /etc/real): deleted by layer 2: whited out');
  });

  it('says so when the path never existed', () => {
    const find = setup([[f('a', '1')]]);
    expect(() => find('/b')).toThrow('/b: no such file in the image');
  });

  it('refuses directories and devices', () => {
    const find = setup([[d('dev'), c('dev/null', 1, 3)]]);
    expect(() => find('/dev')).toThrow(/is a directory/);
    expect(() => find('/dev/null')).toThrow(/is a char device/);
  });
});
