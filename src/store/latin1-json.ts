// The store's JSON files (layer indexes) hold paths as latin1 byte strings and are written as latin1 bytes.

/** JSON whose strings are latin1 byte strings: anything above U+00FF is escaped so the latin1 write is lossless. */
export function latin1Json(value: unknown): string {
  return JSON.stringify(value).replace(/[\u0100-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

