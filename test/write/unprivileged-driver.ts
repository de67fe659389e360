// Run as an ordinary user by unprivileged.test.ts: writes a tree that needs deferred modes and reports what it kept.
import { writeDir } from '../../src/write/dir-writer.js';
import { T2001, TreeFixture } from './tree-fixture.js';

export function unprivilegedTree(): TreeFixture {
  const fx = new TreeFixture();
  fx.dir('ro', { mode: 0o500, mtime: T2001 + 1 });
  fx.dir('ro/none', { mode: 0o000, mtime: T2001 + 2 });
  fx.file('ro/none/f', 'hidden', { mode: 0o400 });
  fx.file('ro/none/x', 'xattr on a read-only file', { mode: 0o444, xattrs: { 'user.k': 'AP/AgA==' } });
  fx.dir('ro/none/d', { mode: 0o555, xattrs: { 'user.d': 'eQ==' } });
  fx.file('owned', 'by 1000', { uid: 1000, gid: 1000, mode: 0o4755 });
  fx.device('dev/null', 'char', 1, 3);
  fx.fifo('fifo');
  fx.symlink('ro/l', 'none/f');
  return fx;
}

if (process.argv[2] !== undefined) {
  const fx = unprivilegedTree();
  await writeDir(fx.tree, process.argv[2], { locate: fx.locate });
  // Again with force: replacing our own earlier output means removing its 0000 directories as a non-root user.
  const report = await writeDir(fx.tree, process.argv[2], { locate: fx.locate, force: true });
  process.stdout.write(JSON.stringify(report));
}
