// GNU tar as an independent oracle: extract into a temp dir and describe what it produced, with names
// kept as latin1 byte strings like the reader's.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export interface Extracted {
  type: 'file' | 'dir' | 'symlink' | 'other';
  mode: number;
  uid: number;
  gid: number;
  mtimeMs: number;
  size: number;
  sha256?: string;
  linkname?: string;
  xattrs: Map<string, Buffer>;
}

export function tempDir(prefix = 'stratum-tar-'): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

/** Runs GNU tar; extra args go before -f. */
export function gnuTarExtract(archive: string, dir: string, extra: string[] = []): void {
  execFileSync('tar', [...extra, '-xf', archive, '-C', dir], { stdio: ['ignore', 'ignore', 'pipe'] });
}

/** Raw xattrs of each path, in one python3 run (its startup is slow); python adds no text decoding. */
function xattrsOf(paths: Buffer[]): Map<string, Buffer>[] {
  const script =
    'import os,sys,json\n' +
    'out=[]\n' +
    'for h in sys.stdin.read().split():\n' +
    '  p=bytes.fromhex(h)\n' +
    '  out.append({os.fsencode(k).hex(): os.getxattr(p,k,follow_symlinks=False).hex() for k in os.listxattr(p,follow_symlinks=False)})\n' +
    'print(json.dumps(out))';
  const input = paths.map((p) => p.toString('hex')).join('\n');
  const out = JSON.parse(execFileSync('python3', ['-c', script], { input, encoding: 'utf8' })) as Record<string, string>[];
  return out.map((o) => new Map(Object.entries(o).map(([k, v]) => [Buffer.from(k, 'hex').toString('latin1'), Buffer.from(v, 'hex')])));
}

/** Every path under `dir` (relative, latin1 byte strings) with what GNU tar made of it. */
export function describeTree(dir: string, withXattrs = false): Map<string, Extracted> {
  const out = new Map<string, Extracted>();
  const pending: [Buffer, Extracted][] = [];
  const walk = (rel: Buffer): void => {
    const abs = Buffer.concat([Buffer.from(dir + '/'), rel]);
    for (const name of fs.readdirSync(abs, { encoding: 'buffer' })) {
      const childRel = rel.length ? Buffer.concat([rel, Buffer.from('/'), name]) : name;
      const childAbs = Buffer.concat([abs, Buffer.from('/'), name]);
      const st = fs.lstatSync(childAbs);
      const e: Extracted = {
        type: st.isFile() ? 'file' : st.isDirectory() ? 'dir' : st.isSymbolicLink() ? 'symlink' : 'other',
        mode: st.mode & 0o7777,
        uid: st.uid,
        gid: st.gid,
        mtimeMs: st.mtimeMs,
        size: st.size,
        xattrs: new Map(),
      };
      if (st.isFile()) e.sha256 = createHash('sha256').update(fs.readFileSync(childAbs)).digest('hex');
      if (st.isSymbolicLink()) e.linkname = fs.readlinkSync(childAbs, { encoding: 'buffer' }).toString('latin1');
      out.set(childRel.toString('latin1'), e);
      if (withXattrs && !st.isSymbolicLink()) pending.push([childAbs, e]);
      if (st.isDirectory()) walk(childRel);
    }
  };
  walk(Buffer.alloc(0));
  if (pending.length > 0) xattrsOf(pending.map(([p]) => p)).forEach((x, i) => (pending[i]![1].xattrs = x));
  return out;
}
