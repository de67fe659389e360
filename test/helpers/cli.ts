// Runs the built CLI (bin/stratum.js → dist/) as a user would, with a private store.
import { spawn } from 'node:child_process';
import { CLI } from './paths.js';

export interface CliResult {
  code: number | null;
  stdout: Buffer;
  stderr: string;
  /** stdout as UTF-8 text. */
  out: string;
}

export function runCli(args: string[], opts: { store?: string; env?: NodeJS.ProcessEnv } = {}): Promise<CliResult> {
  const argv = opts.store ? [...args, '--store', opts.store] : args;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...argv], { env: { ...process.env, ...opts.env }, stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (c: Buffer) => out.push(c));
    child.stderr.on('data', (c: Buffer) => err.push(c));
    child.on('error', reject);
    child.on('close', (code) => {
      const stdout = Buffer.concat(out);
      resolve({ code, stdout, stderr: Buffer.concat(err).toString('utf8'), out: stdout.toString('utf8') });
    });
  });
}

/** Runs a command that prints JSON; fails with its exit code and stderr when it does not. */
export async function runJson<T = any>(args: string[], opts: { store?: string } = {}): Promise<T> {
  const r = await runCli(args, opts);
  if (r.code !== 0 || r.out.trim() === '') throw new Error(`stratum ${args.join(' ')}: exit ${r.code}, stderr: ${r.stderr || '(empty)'}, stdout: ${r.out.slice(0, 200) || '(empty)'}`);
  return JSON.parse(r.out) as T;
}
