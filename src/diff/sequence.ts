// A shortest edit script between two sequences (Myers, "An O(ND) difference algorithm", 1986).
// Used for text lines (--content), history steps and layer lists. Items are interned to integers
// so the inner loop compares numbers, and a common prefix/suffix is trimmed first (most edits are small).

export interface Edit {
  op: '=' | '-' | '+';
  /** Position in the old sequence ('=' and '-'); for '+', where the old side stands. */
  a: number;
  /** Position in the new sequence ('=' and '+'); for '-', where the new side stands. */
  b: number;
}

/** Past this many edits the trace (O(D²) memory) is not worth it: the middle is replaced wholesale. */
const DEFAULT_MAX_EDITS = 4000;

export function diffSequences<T>(a: readonly T[], b: readonly T[], key: (item: T) => string | number = String, maxEdits = DEFAULT_MAX_EDITS): Edit[] {
  const ids = new Map<string | number, number>();
  const intern = (xs: readonly T[]): Int32Array => Int32Array.from(xs, (x) => {
    const k = key(x);
    let id = ids.get(k);
    if (id === undefined) ids.set(k, (id = ids.size));
    return id;
  });
  return diffInts(intern(a), intern(b), maxEdits);
}

export function diffInts(a: Int32Array, b: Int32Array, maxEdits = DEFAULT_MAX_EDITS): Edit[] {
  let pre = 0;
  while (pre < a.length && pre < b.length && a[pre] === b[pre]) pre++;
  let suf = 0;
  while (suf < a.length - pre && suf < b.length - pre && a[a.length - 1 - suf] === b[b.length - 1 - suf]) suf++;
  const edits: Edit[] = [];
  for (let i = 0; i < pre; i++) edits.push({ op: '=', a: i, b: i });
  const midA = a.subarray(pre, a.length - suf);
  const midB = b.subarray(pre, b.length - suf);
  const mid = myers(midA, midB, maxEdits) ?? replaceAll(midA.length, midB.length);
  for (const e of mid) edits.push({ op: e.op, a: e.a + pre, b: e.b + pre });
  for (let i = suf; i > 0; i--) edits.push({ op: '=', a: a.length - i, b: b.length - i });
  return edits;
}

function replaceAll(n: number, m: number): Edit[] {
  const edits: Edit[] = [];
  for (let i = 0; i < n; i++) edits.push({ op: '-', a: i, b: 0 });
  for (let j = 0; j < m; j++) edits.push({ op: '+', a: n, b: j });
  return edits;
}

/** Forward greedy Myers; each round's V row (diagonals -d-1..d+1) is kept for the backtrack. */
function myers(a: Int32Array, b: Int32Array, maxEdits: number): Edit[] | undefined {
  const n = a.length;
  const m = b.length;
  if (n === 0 || m === 0) return replaceAll(n, m);
  const max = n + m;
  const off = max + 1;
  const v = new Int32Array(2 * max + 3);
  const trace: Int32Array[] = [];
  for (let d = 0; d <= max; d++) {
    if (d > maxEdits) return undefined;
    trace.push(v.slice(off - d - 1, off + d + 2));
    for (let k = -d; k <= d; k += 2) {
      let x = k === -d || (k !== d && v[off + k - 1] < v[off + k + 1]) ? v[off + k + 1] : v[off + k - 1] + 1;
      let y = x - k;
      while (x < n && y < m && a[x] === b[y]) {
        x++;
        y++;
      }
      v[off + k] = x;
      if (x >= n && y >= m) return backtrack(trace, n, m);
    }
  }
  return undefined;
}

function backtrack(trace: Int32Array[], n: number, m: number): Edit[] {
  const out: Edit[] = [];
  let x = n;
  let y = m;
  for (let d = trace.length - 1; d >= 0; d--) {
    const row = trace[d];
    const at = (k: number): number => row[k + d + 1];
    const k = x - y;
    const down = k === -d || (k !== d && at(k - 1) < at(k + 1));
    const prevK = down ? k + 1 : k - 1;
    const prevX = d === 0 ? 0 : at(prevK);
    const prevY = d === 0 ? 0 : prevX - prevK;
    while (x > prevX && y > prevY) {
      x--;
      y--;
      out.push({ op: '=', a: x, b: y });
    }
    if (d > 0) {
      if (down) out.push({ op: '+', a: x, b: prevY });
      else out.push({ op: '-', a: prevX, b: y });
    }
    x = prevX;
    y = prevY;
  }
  return out.reverse();
}
