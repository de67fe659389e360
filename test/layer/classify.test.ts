import { describe, expect, it } from 'vitest';
import { FormatError } from '../../src/errors.js';
import { classifyEntry } from '../../src/layer/classify.js';
import { header } from '../helpers/layers.js';

describe('classifyEntry: plain entries', () => {
  it('turns a file header into an entry, keeping only permission bits', () => {
    const r = classifyEntry(header('/usr/bin/x', 'file', { mode: 0o104755, uid: 1, gid: 2, mtime: 1700000000.5 }, { size: 12, uname: 'u' }));
    expect(r).toEqual({ entry: { path: 'usr/bin/x', kind: 'file', mode: 0o4755, uid: 1, gid: 2, mtime: 1700000000.5, size: 12 }, warnings: [] });
  });

  it('gives non-files size 0 and no link fields they do not use', () => {
    const r = classifyEntry(header('./d/', 'dir', {}, { size: 99, linkname: 'junk', devmajor: 5 }));
    expect(r.entry).toEqual({ path: 'd', kind: 'dir', mode: 0o755, uid: 0, gid: 0, mtime: 0, size: 0 });
  });

  it('stores a symlink target verbatim', () => {
    expect(classifyEntry(header('l', 'symlink', {}, { linkname: '../../x//y/' })).entry?.linkname).toBe('../../x//y/');
  });

  it('cleans a hardlink target like an entry name', () => {
    const r = classifyEntry(header('b', 'hardlink', {}, { linkname: '/./etc//passwd' }));
    expect(r.entry).toMatchObject({ kind: 'hardlink', linkname: 'etc/passwd', size: 0 });
    expect(r.warnings).toEqual([]);
  });

  it('clamps a hardlink target that climbs above the root and warns', () => {
    const r = classifyEntry(header('b', 'hardlink', {}, { linkname: '../../etc/passwd' }));
    expect(r.entry?.linkname).toBe('etc/passwd');
    expect(r.warnings).toEqual(['"b": hardlink target "../../etc/passwd" climbs above the image root; clamped to "etc/passwd"']);
  });

  it('clamps an entry name that climbs above the root and warns', () => {
    const r = classifyEntry(header('../victim/dotdot', 'file'));
    expect(r.entry?.path).toBe('victim/dotdot');
    expect(r.warnings).toEqual(['"../victim/dotdot": climbs above the image root; clamped to "victim/dotdot"']);
  });

  it('records xattrs as base64 of their exact bytes', () => {
    const cap = Buffer.from([1, 0, 0, 2, 0xff, 0xc0, 0x80]);
    const r = classifyEntry(header('ping', 'file', { xattrs: { 'security.capability': cap, 'user.a': '' } }));
    expect(r.entry?.xattrs).toEqual({ 'security.capability': cap.toString('base64'), 'user.a': '' });
  });

  it('keeps non-UTF-8 names as bytes', () => {
    expect(classifyEntry(header('caf\xe9', 'file')).entry?.path).toBe('caf\xe9');
  });
});

describe('classifyEntry: devices', () => {
  it('keeps major and minor numbers of char and block devices', () => {
    expect(classifyEntry(header('dev/null', 'char', {}, { devmajor: 1, devminor: 3 })).entry).toMatchObject({ kind: 'char', devmajor: 1, devminor: 3 });
    expect(classifyEntry(header('dev/sda', 'block', {}, { devmajor: 0xffffffff, devminor: 0 })).entry).toMatchObject({ kind: 'block', devmajor: 0xffffffff });
  });

  it.each([
    ['major', 2 ** 32, 0],
    ['minor', 0, 2 ** 40],
    ['major', -1, 0],
  ])('rejects a device %s number outside uint32 (EDGE #85)', (which, devmajor, devminor) => {
    const run = () => classifyEntry(header('dev/x', 'char', {}, { devmajor, devminor }));
    expect(run).toThrow(FormatError);
    expect(run).toThrow(new RegExp(`"dev/x": device ${which} number`));
  });

  it('ignores device fields of a fifo', () => {
    expect(classifyEntry(header('p', 'fifo', {}, { devmajor: 2 ** 40 })).entry).not.toHaveProperty('devmajor');
  });
});

describe('classifyEntry: whiteouts and opaque markers', () => {
  it.each([
    ['etc/.wh.a', 'etc/a'],
    ['./.wh.x', 'x'],
    ['/a/b/.wh..hidden', 'a/b/.hidden'],
    ['dne/../.wh.etc', 'etc'],
    ['etc//.wh.passwd', 'etc/passwd'],
  ])('%j is a whiteout of %j', (name, path) => {
    expect(classifyEntry(header(name, 'file')).entry).toEqual({ path, kind: 'whiteout', mode: 0o644, uid: 0, gid: 0, mtime: 0, size: 0 });
  });

  it('matches the basename whatever the entry type', () => {
    expect(classifyEntry(header('.wh.x', 'dir')).entry?.kind).toBe('whiteout');
    expect(classifyEntry(header('.wh.x', 'symlink', {}, { linkname: 't' })).entry).not.toHaveProperty('linkname');
  });

  it.each([
    ['a/b/.wh..wh..opq', 'a/b'],
    ['.wh..wh..opq', ''],
    ['./.wh..wh..opq', ''],
  ])('%j is an opaque marker for %j', (name, path) => {
    expect(classifyEntry(header(name, 'file')).entry).toMatchObject({ path, kind: 'opaque', size: 0 });
  });

  it('reads .wh. only in the basename (EDGE #18)', () => {
    expect(classifyEntry(header('.wh.etc/somefile', 'file', {}, { size: 9 })).entry).toMatchObject({ path: '.wh.etc/somefile', kind: 'file' });
  });

  it.each(['.wh.', '.wh..', '.wh...', 'etc/.wh.', 'etc/.wh..', 'etc/.wh...'])('rejects the invalid whiteout %j', (name) => {
    const run = () => classifyEntry(header(name, 'file'));
    expect(run).toThrow(FormatError);
    expect(run).toThrow(`invalid whiteout "${name}"`);
  });

  it.each(['.wh..wh.plnk', '.wh..wh.plnk/1234.5678', '.wh..wh.aufs', '.wh..wh.orph/x', 'x/.wh..wh.foo', '.wh..wh.plnk/.wh..wh..opq'])('drops AUFS metadata %j with a warning', (name) => {
    const r = classifyEntry(header(name, 'file'));
    expect(r.entry).toBeNull();
    expect(r.warnings).toEqual([`"${name}": AUFS metadata entry dropped`]);
  });
});

describe('classifyEntry: the root', () => {
  it.each([
    ['.', 'symlink'],
    ['/', 'symlink'],
    ['./', 'symlink'],
    ['..', 'symlink'],
    ['.', 'file'],
    ['', 'hardlink'],
  ] as const)('drops a %j %s entry with a warning (EDGE #48, #50)', (name, type) => {
    const r = classifyEntry(header(name, type, {}, { linkname: '/tmp/evil' }));
    expect(r.entry).toBeNull();
    expect(r.warnings.at(-1)).toBe(`"${name}": ${type} entry for the image root ignored`);
  });

  it('keeps a directory entry for the root as path "" (EDGE #51)', () => {
    expect(classifyEntry(header('./', 'dir', { mode: 0o700 })).entry).toMatchObject({ path: '', kind: 'dir', mode: 0o700 });
  });
});

describe('classifyEntry: overlayfs-format markers', () => {
  const opaqueDir = () => header('d/', 'dir', { xattrs: { 'trusted.overlay.opaque': 'y', 'user.x': '1' } });

  it('are plain entries by default (EDGE #81)', () => {
    expect(classifyEntry(header('x', 'char', {}, { devmajor: 0, devminor: 0 })).entry).toMatchObject({ kind: 'char', devmajor: 0, devminor: 0 });
    const r = classifyEntry(opaqueDir());
    expect(r.opaque).toBeUndefined();
    expect(r.entry?.xattrs).toHaveProperty(['trusted.overlay.opaque'], 'eQ==');
  });

  it('read a char device 0:0 as a whiteout of its own path', () => {
    const r = classifyEntry(header('a/x', 'char', { uid: 5 }, { devmajor: 0, devminor: 0 }), { overlayMarkers: true });
    expect(r.entry).toEqual({ path: 'a/x', kind: 'whiteout', mode: 0o644, uid: 5, gid: 0, mtime: 0, size: 0 });
    expect(classifyEntry(header('null', 'char', {}, { devmajor: 1, devminor: 3 }), { overlayMarkers: true }).entry?.kind).toBe('char');
  });

  it('read an opaque xattr as the directory plus an opaque marker, dropping the xattr', () => {
    const r = classifyEntry(opaqueDir(), { overlayMarkers: true });
    expect(r.entry).toMatchObject({ path: 'd', kind: 'dir', xattrs: { 'user.x': 'MQ==' } });
    expect(r.opaque).toMatchObject({ path: 'd', kind: 'opaque' });
  });

  it('leave no empty xattr record behind and ignore other values', () => {
    const only = classifyEntry(header('d', 'dir', { xattrs: { 'trusted.overlay.opaque': 'y' } }), { overlayMarkers: true });
    expect(only.entry).not.toHaveProperty('xattrs');
    const no = classifyEntry(header('d', 'dir', { xattrs: { 'trusted.overlay.opaque': 'n' } }), { overlayMarkers: true });
    expect(no.opaque).toBeUndefined();
  });
});
