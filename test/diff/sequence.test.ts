// The edit script must rebuild both sequences and be minimal (its '=' count is the LCS length).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { diffInts, diffSequences, type Edit } from '../../src/diff/sequence.js';

function lcsLength(a: ArrayLike<number>, b: ArrayLike<number>): number {
  const dp: number[][] = Array.from({ length: a.length + 1 }, () => new Array(b.length + 1).fill(0));
  for (let i = 1; i <= a.length; i++) for (let j = 1; j <= b.length; j++) dp[i][j] = a[i - 1] === b[j - 1] ? dp[i - 1][j - 1] + 1 : Math.max(dp[i - 1][j], dp[i][j - 1]);
  return dp[a.length][b.length];
}

function check(a: number[], b: number[], edits: Edit[]): void {
  const olds = edits.filter((e) => e.op !== '+').map((e) => e.a);
  const news = edits.filter((e) => e.op !== '-').map((e) => e.b);
  expect(olds).toEqual(a.map((_, i) => i));
  expect(news).toEqual(b.map((_, i) => i));
  for (const e of edits) if (e.op === '=') expect(a[e.a]).toBe(b[e.b]);
  // the '+' and '-' say where the other side stands, so hunks can be numbered
  let i = 0;
  let j = 0;
  for (const e of edits) {
    if (e.op === '+') expect(e.a).toBe(i);
    if (e.op === '-') expect(e.b).toBe(j);
    if (e.op !== '+') i++;
    if (e.op !== '-') j++;
  }
}

describe('diffSequences', () => {
  it('is a minimal edit script (property)', () => {
    const seq = fc.array(fc.integer({ min: 0, max: 4 }), { maxLength: 30 });
    fc.assert(
      fc.property(seq, seq, (a, b) => {
        const edits = diffInts(Int32Array.from(a), Int32Array.from(b));
        check(a, b, edits);
        expect(edits.filter((e) => e.op === '=').length).toBe(lcsLength(a, b));
      }),
      { numRuns: 500 },
    );
  });

  it('stays correct, if not minimal, past the edit limit', () => {
    const a = Array.from({ length: 200 }, (_, i) => i);
    const b = Array.from({ length: 200 }, (_, i) => i + 1000);
    b[100] = 100;
    const edits = diffInts(Int32Array.from(a), Int32Array.from(b), 10);
    check(a, b, edits);
  });

  it('aligns strings by key', () => {
    const ops = diffSequences(['FROM x', 'RUN a', 'COPY .', 'CMD 1'], ['FROM x', 'RUN b', 'COPY .', 'ENV y', 'CMD 2']).map((e) => e.op).join('');
    expect(ops).toBe('=-+=-++');
  });
});
