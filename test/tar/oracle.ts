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

function xattrsOf(p: Buffer): Map<string, Buffer> {
  // python3 reads raw xattr bytes without any text decoding; getfattr would need escaping rules.
  const script =
    'import os,sys,json\np=bytes.fromhex(sys.argv[1])\n' +
    "print(json.dumps({k: os.getxattr(p,k,follow_symlinks=False).hex() for k in os.listxattr(p,follow_symlinks=False)}))";
  const out = execFileSync('python3', ['-c', script, p.toString('hex')], { encoding: 'utf8' });
  const obj = JSON.parse(out) as Record<string, string>;
  return new Map(Object.entries(obj).map(([k, v]) => [Buffer.from(k, 'utf8').toString('latin1'), Buffer.from(v, 'hex')]));
}

/** Every path under `dir` (relative, latin1 byte strings) with what GNU tar made of it. */
export function describeTree(dir: string, withXattrs = false): Map<string, Extracted> {
  const out = new Map<string, Extracted>();
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
        xattrs: withXattrs && !st.isSymbolicLink() ? xattrsOf(childAbs) : new Map(),
      };
      if (st.isFile()) e.sha256 = createHash('sha256').update(fs.readFileSync(childAbs)).digest('hex');
      if (st.isSymbolicLink()) e.linkname = fs.readlinkSync(childAbs, { encoding: 'buffer' }).toString('latin1');
      out.set(childRel.toString('latin1'), e);
      if (st.isDirectory()) walk(childRel);
    }
  };
  walk(Buffer.alloc(0));
  return out;
}
