import { describe, it, expect } from 'vitest';
import { FormatError } from '../../src/errors.js';
import { parsePax } from '../../src/tar/pax.js';
import { paxRecords } from './build.js';

describe('parsePax', () => {
  it('keeps values as raw bytes', () => {
    const cap = Buffer.from('01000002ffc08000000000000000000000000000', 'hex');
    const m = parsePax(paxRecords([['path', 'caf\xe9'], ['SCHILY.xattr.security.capability', cap]]), 't');
    expect(m.get('path')).toEqual(Buffer.from([0x63, 0x61, 0x66, 0xe9]));
    expect(m.get('SCHILY.xattr.security.capability')).toEqual(cap);
  });

  it('allows "=" and newlines inside values', () => {
    const m = parsePax(paxRecords([['comment', 'a=b\nc']]), 't');
    expect(m.get('comment')!.toString()).toBe('a=b\nc');
  });

  it('lets a later record override, and an empty value delete', () => {
    const m = parsePax(paxRecords([['path', 'a'], ['path', 'b'], ['uid', '5'], ['uid', '']]), 't');
    expect(m.get('path')!.toString()).toBe('b');
    expect(m.has('uid')).toBe(false);
  });

  it('rejects a NUL in path, linkpath, uname and gname but not in other values', () => {
    for (const key of ['path', 'linkpath', 'uname', 'gname']) {
      expect(() => parsePax(paxRecords([[key, 'a\0b']]), 't', 99)).toThrow(/at offset 99/);
    }
    expect(parsePax(paxRecords([['SCHILY.xattr.user.x', 'a\0b']]), 't').get('SCHILY.xattr.user.x')).toEqual(Buffer.from('a\0b'));
  });

  it.each([
    ['no space', '30path=x\n'],
    ['length too long', '30 path=x\n'],
    ['length too short', '3 path=x\n'],
    ['no newline', '11 path=xy\0'],
    ['no equals', '10 pathxy\n'],
    ['empty key', '7 =abc\n'],
    ['not a number', 'ab path=x\n'],
  ])('rejects a malformed record (%s)', (_what, text) => {
    expect(() => parsePax(Buffer.from(text, 'latin1'), 'lay')).toThrow(FormatError);
  });

  it('folds GNU sparse 0.0 offset/numbytes pairs into GNU.sparse.map', () => {
    const m = parsePax(
      paxRecords([
        ['GNU.sparse.numblocks', '2'],
        ['GNU.sparse.offset', '0'],
        ['GNU.sparse.numbytes', '5'],
        ['GNU.sparse.offset', '100'],
        ['GNU.sparse.numbytes', '3'],
      ]),
      't',
    );
    expect(m.get('GNU.sparse.map')!.toString()).toBe('0,5,100,3');
  });

  it('rejects sparse 0.0 pairs out of order', () => {
    expect(() => parsePax(paxRecords([['GNU.sparse.numbytes', '5']]), 't')).toThrow(FormatError);
  });
});
