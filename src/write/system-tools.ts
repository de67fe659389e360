// What Node cannot do itself — mknod and setxattr — done by the stock tools, once per write rather than once per node.
import { spawn } from 'node:child_process';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { FormatError, IoError } from '../errors.js';
import { displayPath } from '../layer/names.js';
import type { Inode } from '../tree/types.js';

interface RunResult {
  code: number;
  stderr: string;
}

/** 'missing' when the tool is not installed, so callers can skip and count instead of failing the write. */
function run(cmd: string, args: string[], cwd: string, input?: Buffer): Promise<RunResult | 'missing'> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd, stdio: [input ? 'pipe' : 'ignore', 'ignore', 'pipe'], env: { ...process.env, LC_ALL: 'C' } });
    // A tool that exits before reading all of it (or is missing) closes the pipe: its exit status tells.
    child.stdin?.on('error', () => undefined).end(input);
    let stderr = '';
    child.stderr!.setEncoding('latin1').on('data', (s: string) => (stderr += s));
    child.on('error', (err: NodeJS.ErrnoException) => (err.code === 'ENOENT' ? resolve('missing') : reject(err)));
    child.on('close', (code) => resolve({ code: code ?? 1, stderr }));
  });
}

export interface SpecialNode {
  path: string;
  inode: Inode;
}

/**
 * Creates device nodes and FIFOs in `scratch` under plain ASCII names with one shell, then links each into place.
 * Plain names because argv cannot carry non-UTF-8 bytes from Node; link rather than rename because link refuses
 * to replace anything that is already there. Root without CAP_MKNOD (a user namespace) gets EPERM for devices:
 * then, as containerd does there, the devices are skipped and returned, and only the FIFOs are made.
 */
export async function makeSpecialNodes(target: (rel: string) => Buffer, scratch: string, nodes: readonly SpecialNode[]): Promise<SpecialNode[]> {
  const first = await makeInScratch(scratch, 'a', nodes);
  if (first === 'ok') return linkIntoPlace(target, scratch, 'a', nodes).then(() => []);
  const fifos = nodes.filter((n) => n.inode.kind === 'fifo');
  if (!/Operation not permitted/.test(first) || fifos.length === nodes.length) throw mknodFailed(nodes, first);
  const second = await makeInScratch(scratch, 'b', fifos);
  if (second !== 'ok') throw mknodFailed(fifos, second);
  await linkIntoPlace(target, scratch, 'b', fifos);
  return nodes.filter((n) => n.inode.kind !== 'fifo');
}

/** 'ok', or why not. */
async function makeInScratch(scratch: string, prefix: string, nodes: readonly SpecialNode[]): Promise<string> {
  if (nodes.length === 0) return 'ok';
  const lines = nodes.map(({ inode }, i) =>
    inode.kind === 'fifo'
      ? `mkfifo -m 600 ${prefix}${i}`
      : `mknod -m 600 ${prefix}${i} ${inode.kind === 'char' ? 'c' : 'b'} ${deviceNumber(inode.devmajor)} ${deviceNumber(inode.devminor)}`,
  );
  const res = await run('sh', ['-ec', lines.join('\n')], scratch);
  if (res === 'missing') return 'sh is not installed';
  return res.code === 0 ? 'ok' : res.stderr.trim();
}

async function linkIntoPlace(target: (rel: string) => Buffer, scratch: string, prefix: string, nodes: readonly SpecialNode[]): Promise<void> {
  for (const [i, { path: rel }] of nodes.entries()) {
    const tmp = path.join(scratch, `${prefix}${i}`);
    await fs.link(tmp, target(rel));
    await fs.unlink(tmp);
  }
}

function mknodFailed(nodes: readonly SpecialNode[], why: string): IoError {
  const first = displayPath(nodes[0].path);
  return new IoError(`cannot create ${nodes.length} device nodes/FIFOs (the first is ${first}): ${why}`, { path: nodes[0].path }, 'E_IO_MKNOD');
}

function deviceNumber(n: number | undefined): number {
  const v = n ?? 0;
  if (!Number.isInteger(v) || v < 0 || v > 0xffffffff) throw new FormatError(`device number ${v} is out of range`);
  return v;
}

/** Host policy labels that would be wrong on this host: never applied, and not reported as lost (as umoci does). */
const NEVER = new Set(['security.selinux', 'system.nfs4_acl']);

/** 'never': left out by policy; 'skip': cannot be set here (kept out and counted). */
export function xattrDecision(name: string, kind: Inode['kind'] | 'dir', privileged: boolean): 'apply' | 'skip' | 'never' {
  if (NEVER.has(name)) return 'never';
  // The kernel refuses user.* on anything but regular files and directories, root or not.
  if (name.startsWith('user.')) return kind === 'file' || kind === 'dir' ? 'apply' : 'skip';
  return privileged ? 'apply' : 'skip';
}

export interface XattrTarget {
  /** Relative to the staging dir; '.' for its root. */
  path: string;
  xattrs: Array<[name: string, base64: string]>;
}

/** Returns how many attributes were not set (all of them when setfattr is missing). */
export async function restoreXattrs(staging: string, targets: readonly XattrTarget[]): Promise<number> {
  const total = targets.reduce((n, t) => n + t.xattrs.length, 0);
  if (total === 0) return 0;
  // -h: set on the name itself, never through a symlink. The dump goes through a pipe: no file to write and remove.
  const res = await run('setfattr', ['-h', '--restore=-'], staging, Buffer.from(targets.map(dumpRecord).join(''), 'latin1'));
  if (res === 'missing') return total;
  return res.stderr.split('\n').filter((l) => l.startsWith('setfattr:')).length;
}

function dumpRecord(t: XattrTarget): string {
  const attrs = t.xattrs.map(([name, b64]) => {
    const bytes = Buffer.from(b64, 'base64');
    // setfattr reads an empty "0s" as a decoding error and silently sets nothing; "" is its spelling of empty.
    const value = bytes.length === 0 ? '""' : `0s${bytes.toString('base64')}`;
    return `${quote(name)}=${value}\n`;
  });
  return `# file: ${quote(t.path)}\n${attrs.join('')}\n`;
}

/** getfattr's escaping, which setfattr --restore undoes: \ooo for separators, blanks and control bytes. */
function quote(s: string): string {
  return s.replace(/[\x00-\x20\\=\x7f]/g, (c) => `\\${c.charCodeAt(0).toString(8).padStart(3, '0')}`);
}
