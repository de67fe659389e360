// --name-status: one "STATUS<TAB>/path" line per file change, as git diff --name-status prints them.
// displayPath escapes control bytes, so a tab or newline in a name cannot split a line.
import type { DiffReport } from '../types.js';

export function renderNameStatus(r: DiffReport): string {
  return (r.files ?? []).map((c) => `${c.status}\t${c.path}\n`).join('');
}
