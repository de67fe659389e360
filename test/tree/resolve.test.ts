import { expect, it } from 'vitest';
import { UnsafeEntryError } from '../../src/errors.js';
import { lookup, resolvePath } from '../../src/tree/resolve.js';
import { d, f, plan, s } from '../helpers/layers.js';

const t = plan([
  [d('etc/'), f('etc/passwd', 'p'), s('abs', '/etc/passwd'), s('rel', 'etc'), s('up', '../../../etc'), s('dangling', '/nope'), s('dir', 'etc/'), s('loop1', 'loop2'), s('loop2', 'loop1')],
]);

it('finds a path in any spelling', () => {
  expect(lookup(t.root, '/etc/./passwd', { followLast: false })?.path).toBe('etc/passwd');
  expect(lookup(t.root, 'etc/../../etc/passwd', { followLast: false })?.path).toBe('etc/passwd');
  expect(lookup(t.root, '/', { followLast: false })).toEqual({ node: t.root, path: '' });
});

it('follows the last component only when asked', () => {
  expect(lookup(t.root, 'abs', { followLast: false })).toMatchObject({ path: 'abs', node: { kind: 'leaf', inode: { kind: 'symlink' } } });
  expect(lookup(t.root, 'abs', { followLast: true })).toMatchObject({ path: 'etc/passwd', node: { kind: 'leaf', inode: { kind: 'file' } } });
  expect(lookup(t.root, 'dir', { followLast: true })?.path).toBe('etc');
});

it('resolves parents with chroot semantics', () => {
  expect(lookup(t.root, 'rel/passwd', { followLast: false })?.path).toBe('etc/passwd');
  expect(lookup(t.root, 'up/passwd', { followLast: false })?.path).toBe('etc/passwd');
  expect(lookup(t.root, 'rel/../rel/passwd', { followLast: false })?.path).toBe('etc/passwd');
});

it('returns undefined for missing paths and paths through files', () => {
  expect(lookup(t.root, 'nope', { followLast: false })).toBeUndefined();
  expect(lookup(t.root, 'dangling', { followLast: true })).toBeUndefined();
  expect(lookup(t.root, 'dangling/x', { followLast: false })).toBeUndefined();
  expect(lookup(t.root, 'etc/passwd/x', { followLast: false })).toBeUndefined();
  expect(lookup(t.root, 'abs/x', { followLast: false })).toBeUndefined();
});

it('throws on a symlink loop, but a loop in the last position is fine unfollowed', () => {
  expect(() => lookup(t.root, 'loop1', { followLast: true })).toThrow(UnsafeEntryError);
  expect(lookup(t.root, 'loop1', { followLast: false })?.path).toBe('loop1');
});

it('says where resolution stopped', () => {
  expect(resolvePath(t.root, 'rel/nope/x', { followLast: false })).toEqual({ ok: false, reason: 'missing', path: 'etc/nope' });
  expect(resolvePath(t.root, 'abs/x', { followLast: false })).toEqual({ ok: false, reason: 'not-dir', path: 'etc/passwd' });
});

it('never creates anything unless asked', () => {
  lookup(t.root, 'dangling/a/b', { followLast: false });
  expect(t.root.children.has('nope')).toBe(false);
});
