// The command table: every command the help names exists and loads (their code is loaded on demand), and a
// name that is not a command, including the names every JS object has, is a one-line usage error.
import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';

async function helpCommands(): Promise<string[]> {
  const r = await runCli(['--help']);
  expect(r.code).toBe(0);
  return [...r.out.matchAll(/^ {2}([a-z]+) /gm)].map((m) => m[1]);
}

describe('the command table', () => {
  it('help lists the commands; with no command at all it is usage (exit 2)', async () => {
    const names = await helpCommands();
    expect(names).toEqual(expect.arrayContaining(['import', 'flatten', 'export', 'diff', 'inspect', 'ls', 'cat', 'waste']));
    const bare = await runCli([]);
    expect(bare.code).toBe(2);
    expect(bare.out).toContain('usage: stratum COMMAND');
  });

  it('every listed command loads and parses its own options (an unknown option is its usage error)', async () => {
    for (const name of await helpCommands()) {
      const r = await runCli([name, '--no-such-option']);
      expect(r.code, `${name}: ${r.stderr}`).toBe(2);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).not.toMatch(/unknown command/);
    }
  });

  it.each(['nope', 'toString', 'constructor', '__proto__', 'hasOwnProperty'])('"%s" is an unknown command: one line, exit 2', async (name) => {
    const r = await runCli([name]);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(`stratum: unknown command "${name}" (see stratum --help)\n`);
  });
});
