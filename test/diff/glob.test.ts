// --ignore patterns: gitignore-like anchoring, *, **, ?, directories covering what is below them.
import { describe, expect, it } from 'vitest';
import { compileGlob, compileGlobs } from '../../src/diff/glob.js';
import { UsageError } from '../../src/errors.js';

const m = (pattern: string, path: string) => compileGlob(pattern).test(path);

describe('compileGlob', () => {
  it('anchors patterns with a slash at the root, others match a name at any depth', () => {
    expect(m('/var/cache', 'var/cache')).toBe(true);
    expect(m('var/cache', 'var/cache/apt/x.bin')).toBe(true);
    expect(m('var/cache', 'opt/var/cache')).toBe(false);
    expect(m('*.pyc', 'usr/lib/python3/a.pyc')).toBe(true);
    expect(m('*.pyc', 'a.pyc')).toBe(true);
    expect(m('__pycache__', 'usr/lib/x/__pycache__/m.cpython-311.pyc')).toBe(true);
  });

  it('keeps * and ? inside one name, ** across names', () => {
    expect(m('/usr/*/x', 'usr/lib/x')).toBe(true);
    expect(m('/usr/*/x', 'usr/lib/sub/x')).toBe(false);
    expect(m('/usr/**/x', 'usr/lib/sub/x')).toBe(true);
    expect(m('/usr/**/x', 'usr/x')).toBe(true);
    expect(m('/usr/**', 'usr/a/b')).toBe(true);
    expect(m('/etc/?.conf', 'etc/a.conf')).toBe(true);
    expect(m('/etc/?.conf', 'etc/ab.conf')).toBe(false);
    expect(m('/a.b', 'axb')).toBe(false);
  });

  it('matches UTF-8 patterns against byte-string paths', () => {
    expect(m('café.txt', 'uni/caf\xc3\xa9.txt')).toBe(true);
  });

  it('rejects an empty pattern, and no pattern matches nothing', () => {
    expect(() => compileGlob('/')).toThrow(UsageError);
    expect(compileGlobs([])('anything')).toBe(false);
  });
});
