// The CLI's import policy: while an import runs, the main thread (which hashes, parses and hands every chunk on)
// keeps its priority, and every other thread of the process (zlib's threadpool, V8's compiler and GC) yields to it.
import { existsSync, readdirSync } from 'node:fs';
import { getPriority } from 'node:os';
import { describe, expect, it } from 'vitest';
import { importPolicy } from '../../src/cli/shared.js';

const linux = existsSync('/proc/self/task');

describe('import policy', () => {
  it.skipIf(!linux)('every thread but the main one gets nice +10; the main thread keeps its own', () => {
    const before = getPriority(process.pid);
    importPolicy.beforeImport();
    const others = readdirSync('/proc/self/task').map(Number).filter((tid) => tid !== process.pid);
    expect(others.length).toBeGreaterThan(0);
    for (const tid of others) expect(getPriority(tid), `thread ${tid}`).toBe(10);
    expect(getPriority(process.pid)).toBe(before);
  });
  if (!linux) it('SKIPPED: no /proc/self/task here, so threads are not reniced', () => expect(linux).toBe(false));
});
