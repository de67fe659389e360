// The CLI's import policy: while layers are decoded in the threadpool, the main thread (which hashes, parses and
// hands every chunk on) keeps its priority, and every other thread of the process (zlib's threadpool, V8's compiler
// and GC) yields to it; a layer decoded on the main thread itself (fzstd) changes nothing.
import { existsSync, readdirSync } from 'node:fs';
import { getPriority } from 'node:os';
import { describe, expect, it } from 'vitest';
import { importPolicy } from '../../src/cli/shared.js';

const linux = existsSync('/proc/self/task');
const otherThreads = (): number[] => readdirSync('/proc/self/task').map(Number).filter((tid) => tid !== process.pid);

describe('import policy', () => {
  it.skipIf(!linux)('a layer decoded in the threadpool gives every thread but the main one nice +10; one decoded on the heap does not', () => {
    const main = getPriority(process.pid);
    const before = new Map(otherThreads().map((tid) => [tid, getPriority(tid)]));
    importPolicy.beforeImport();
    importPolicy.onLayerDecode({ compression: 'zstd', onHeap: true });
    for (const [tid, nice] of before) expect(getPriority(tid), `thread ${tid}`).toBe(nice);
    importPolicy.onLayerDecode({ compression: 'gzip', onHeap: false });
    const others = otherThreads();
    expect(others.length).toBeGreaterThan(0);
    for (const tid of others) expect(getPriority(tid), `thread ${tid}`).toBe(Math.max(10, before.get(tid) ?? 0));
    expect(getPriority(process.pid)).toBe(main);
  });
  if (!linux) it('SKIPPED: no /proc/self/task here, so threads are not reniced', () => expect(linux).toBe(false));
});
