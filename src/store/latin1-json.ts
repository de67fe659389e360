// The store's JSON files (layer indexes) hold paths as latin1 byte strings and are written as latin1 bytes.

/** JSON whose strings are latin1 byte strings: anything above U+00FF is escaped so the latin1 write is lossless. */
export function latin1Json(value: unknown): string {
  return latin1Safe(JSON.stringify(value));
}

/** JSON text with every char above U+00FF escaped: what latin1Json does after stringifying, for text joined by hand. */
export function latin1Safe(json: string): string {
  return json.replace(/[\u0100-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}
