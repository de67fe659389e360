// Where the repository and the read-only shared folder (fixtures, corpus) are.
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const SHARED = process.env.STRATUM_SHARED ?? path.resolve(REPO, '../shared');
export const FIXTURES = path.join(SHARED, 'fixtures');
export const PITFALLS = path.join(FIXTURES, 'tar-pitfalls');
export const PUBLIC = path.join(FIXTURES, 'public');
export const SAMPLES = path.join(REPO, 'samples');
export const CLI = path.join(REPO, 'bin', 'stratum.js');
