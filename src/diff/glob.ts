// --ignore patterns: '*' (within one name), '**' (any number of names), '?' (one byte), matched
// against cleaned image paths. As in .gitignore, a pattern without '/' matches a name at any depth,
// and a pattern that matches a directory also covers everything below it.
import { UsageError } from '../errors.js';

export type PathMatcher = (path: string) => boolean;

export function compileGlobs(patterns: readonly string[]): PathMatcher {
  const res = patterns.map(compileGlob);
  if (res.length === 0) return () => false;
  return (path) => res.some((re) => re.test(path));
}

/** A pattern given as UTF-8 text, compiled against latin1 byte-string paths. */
export function compileGlob(pattern: string): RegExp {
  const bytes = Buffer.from(pattern, 'utf8').toString('latin1');
  const anchored = bytes.replace(/\/+$/, '').includes('/');
  const body = bytes.replace(/^\/+/, '').replace(/\/+$/, '');
  if (body === '') throw new UsageError(`--ignore "${pattern}": the pattern matches nothing`);
  const prefix = anchored ? '^' : '^(?:.*/)?';
  return new RegExp(`${prefix}${translate(body)}(?:/.*)?$`, 's');
}

function translate(glob: string): string {
  let re = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i];
    if (c === '*' && glob[i + 1] === '*') {
      const slash = glob[i + 2] === '/';
      // '**/' matches zero or more whole names; a bare '**' anything at all
      re += slash ? '(?:.*/)?' : '.*';
      i += slash ? 2 : 1;
    } else if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else re += escapeChar(c);
  }
  return re;
}

function escapeChar(c: string): string {
  return /[\\^$.|+()[\]{}]/.test(c) ? `\\${c}` : c;
}
