// Small text helpers shared by the human renderers: colors, byte counts, commands, truncated lists.

export interface Paint {
  red(s: string): string;
  green(s: string): string;
  yellow(s: string): string;
  cyan(s: string): string;
  dim(s: string): string;
  bold(s: string): string;
}

const sgr = (code: string) => (s: string) => `\x1b[${code}m${s}\x1b[0m`;
const plain = (s: string): string => s;

export function paint(color: boolean): Paint {
  if (!color) return { red: plain, green: plain, yellow: plain, cyan: plain, dim: plain, bold: plain };
  return { red: sgr('31'), green: sgr('32'), yellow: sgr('33'), cyan: sgr('36'), dim: sgr('2'), bold: sgr('1') };
}

/** Decimal units as `stratum images` prints them (1.20 kB). */
export function bytes(n: number): string {
  const units = ['B', 'kB', 'MB', 'GB', 'TB'];
  let v = Math.abs(n);
  let i = 0;
  while (v >= 1000 && i < units.length - 1) {
    v /= 1000;
    i++;
  }
  const text = i === 0 ? `${v} B` : `${v.toFixed(v < 10 ? 2 : 1)} ${units[i]}`;
  return n < 0 ? `-${text}` : text;
}

export function signedBytes(n: number): string {
  return n > 0 ? `+${bytes(n)}` : n === 0 ? '±0 B' : bytes(n);
}

/** A history command as people read it: builders' "/bin/sh -c #(nop) " prefix dropped, one line, capped. */
export function shortCommand(cmd: string, max = 72): string {
  let s = cmd.replace(/^\/bin\/sh -c #\(nop\)\s*/, '').replace(/^\/bin\/sh -c /, 'RUN ');
  s = s.replace(/\s+/g, ' ').trim();
  return s.length > max ? `${s.slice(0, max - 1)}…` : s;
}

export function plural(n: number, word: string, many = `${word}s`): string {
  return `${n} ${n === 1 ? word : many}`;
}

/** At most limit lines, then one line saying how many were left out. */
export function truncate(lines: string[], limit: number | undefined, p: Paint): string[] {
  if (limit === undefined || lines.length <= limit) return lines;
  return [...lines.slice(0, limit), p.dim(`  … and ${lines.length - limit} more (--all shows everything)`)];
}

export function compression(mediaType: string): string {
  if (mediaType.endsWith('gzip')) return 'gzip';
  if (mediaType.endsWith('zstd')) return 'zstd';
  return mediaType.endsWith('tar') ? 'none' : mediaType;
}

export function shortHex(digest: string, n = 12): string {
  return digest.slice(digest.indexOf(':') + 1).slice(0, n);
}
