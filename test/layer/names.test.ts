import { describe, expect, it } from 'vitest';
import { cleanName, comparePaths, displayPath, joinPath, splitPath } from '../../src/layer/names.js';

const utf8 = (s: string) => Buffer.from(s, 'utf8').toString('latin1');
const bytes = (hex: string) => Buffer.from(hex, 'hex').toString('latin1');

describe('cleanName', () => {
  it.each([
    ['etc/passwd', 'etc/passwd'],
    ['/etc/passwd', 'etc/passwd'],
    ['./etc/passwd', 'etc/passwd'],
    ['etc//passwd', 'etc/passwd'],
    ['etc/passwd/', 'etc/passwd'],
    ['.//etc/./x/../passwd//', 'etc/passwd'],
    ['dne/../.wh.etc', '.wh.etc'],
    ['a/..', ''],
    ['.', ''],
    ['./', ''],
    ['/', ''],
    ['', ''],
    ['...', '...'],
    ['..a/b..', '..a/b..'],
  ])('%j -> %j', (raw, path) => {
    expect(cleanName(raw)).toEqual({ path, clamped: false });
  });

  it.each([
    ['..', ''],
    ['../victim/dotdot', 'victim/dotdot'],
    ['/../victim/slash-dotdot', 'victim/slash-dotdot'],
    ['a/../../b', 'b'],
    ['../../../../../etc/passwd', 'etc/passwd'],
  ])('clamps %j at the root -> %j', (raw, path) => {
    expect(cleanName(raw)).toEqual({ path, clamped: true });
  });

  it('keeps non-UTF-8 bytes as they are', () => {
    expect(cleanName('/caf\xe9/\xff').path).toBe('caf\xe9/\xff');
  });
});

describe('splitPath and joinPath', () => {
  it('split a cleaned path into directory and name', () => {
    expect(splitPath('a/b/c')).toEqual(['a/b', 'c']);
    expect(splitPath('a')).toEqual(['', 'a']);
    expect(splitPath('')).toEqual(['', '']);
    expect(joinPath('', 'a')).toBe('a');
    expect(joinPath('a/b', 'c')).toBe('a/b/c');
  });
});

describe('displayPath', () => {
  it('leaves printable ASCII alone', () => {
    expect(displayPath('etc/passwd')).toBe('etc/passwd');
  });

  it('decodes valid UTF-8', () => {
    expect(displayPath(utf8('café/日本/😀'))).toBe('café/日本/😀');
  });

  it('escapes bytes that are not UTF-8 and keeps the valid parts', () => {
    expect(displayPath('caf\xe9')).toBe('caf\\xe9');
    expect(displayPath(utf8('é') + '\xff' + utf8('日'))).toBe('é\\xff日');
  });

  it.each([
    ['overlong', 'c0af', '\\xc0\\xaf'],
    ['surrogate', 'eda080', '\\xed\\xa0\\x80'],
    ['above U+10FFFF', 'f4908080', '\\xf4\\x90\\x80\\x80'],
    ['truncated', 'e697', '\\xe6\\x97'],
    ['lone continuation', '80', '\\x80'],
  ])('escapes a %s sequence', (_what, hex, shown) => {
    expect(displayPath(bytes(hex))).toBe(shown);
  });

  it('escapes control bytes so a name cannot break a one-line message', () => {
    expect(displayPath('a\nb\x1b[31m\x7f')).toBe('a\\x0ab\\x1b[31m\\x7f');
  });
});

describe('comparePaths', () => {
  it('orders bytewise', () => {
    const sorted = ['caf\xe9', 'a/x', 'Z', 'a', 'a-b', 'caf\xe8', utf8('é')].sort(comparePaths);
    expect(sorted).toEqual(['Z', 'a', 'a-b', 'a/x', 'caf\xe8', 'caf\xe9', utf8('é')]);
    expect(comparePaths('a', 'a')).toBe(0);
  });
});
