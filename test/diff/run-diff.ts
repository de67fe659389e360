// Runs `stratum diff` through the built CLI from the repository root, so relative sample paths appear
// in the report exactly as typed.
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CLI, REPO } from '../helpers/paths.js';

export interface DiffRun {
  code: number | null;
  out: string;
  err: string;
}

export function tempDir(prefix: string): string {
  return mkdtempSync(path.join(os.tmpdir(), `stratum-${prefix}-`));
}

export function stratum(args: string[], store: string, env: NodeJS.ProcessEnv = {}): Promise<DiffRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args, '--store', store], { cwd: REPO, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (c: Buffer) => out.push(c));
    child.stderr.on('data', (c: Buffer) => err.push(c));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, out: Buffer.concat(out).toString('utf8'), err: Buffer.concat(err).toString('utf8') }));
  });
}

export const diff = (args: string[], store: string, env?: NodeJS.ProcessEnv): Promise<DiffRun> => stratum(['diff', ...args], store, env);
