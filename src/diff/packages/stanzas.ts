// RFC 822-style stanzas (dpkg status, apk installed): blocks of "Key: value" lines separated by blank lines.
// Continuation lines (leading space or tab) belong to the previous field and are not needed here.

export type Stanza = Map<string, string>;

export function parseStanzas(text: string, separator: ':' = ':', lowerKeys = true): Stanza[] {
  const out: Stanza[] = [];
  let current: Stanza | undefined;
  for (const line of text.split('\n')) {
    const l = line.endsWith('\r') ? line.slice(0, -1) : line;
    if (l.trim() === '') {
      current = undefined;
      continue;
    }
    if (l.startsWith(' ') || l.startsWith('\t')) continue;
    const i = l.indexOf(separator);
    if (i <= 0) continue;
    if (!current) out.push((current = new Map()));
    const key = l.slice(0, i).trim();
    current.set(lowerKeys ? key.toLowerCase() : key, l.slice(i + 1).trim());
  }
  return out;
}
