// Planned trees built by hand for the writer tests, with their content files and the manifest they must produce.
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { ContentLocation } from '../../src/store/content.js';
import type { DirNode, Inode, Meta, PlannedTree, TreeNode } from '../../src/tree/types.js';
import type { ManifestRecord } from '../helpers/tree-manifest.js';

export const T2001 = Date.UTC(2001, 0, 1) / 1000;

export function meta(over: Partial<Meta> = {}): Meta {
  return { mode: 0o755, uid: 0, gid: 0, mtime: T2001, ...over };
}

/** Builds a PlannedTree; missing parents become 0755 root-owned directories, like implied ones. */
export class TreeFixture {
  readonly root: DirNode = { kind: 'dir', meta: meta(), children: new Map(), layer: -1 };
  readonly contentDir: string;
  private data = 0;

  constructor() {
    this.contentDir = mkdtempSync(path.join(os.tmpdir(), 'stratum-content-'));
    mkdirSync(this.contentDir, { recursive: true });
  }

  get tree(): PlannedTree {
    return { root: this.root, warnings: [] };
  }

  /** Each file's bytes sit between junk, as a file sits inside a stored layer.tar: a writer that copies from the
   *  wrong offset or past the end shows. */
  static readonly JUNK = Buffer.from('<junk!>');

  readonly contentFile = (inode: Inode): string => path.join(this.contentDir, String(inode.content!.data));
  readonly locate = (inode: Inode): ContentLocation => ({ file: this.contentFile(inode), offset: TreeFixture.JUNK.length, size: inode.size });

  dir(p: string, m: Partial<Meta> = {}): DirNode {
    const node = this.parent(p).children.get(base(p));
    if (node?.kind === 'dir') {
      node.meta = meta(m);
      return node;
    }
    const d: DirNode = { kind: 'dir', meta: meta(m), children: new Map(), layer: 0 };
    this.put(p, d);
    return d;
  }

  file(p: string, content: string | Buffer, m: Partial<Meta> = {}): Inode {
    const bytes = typeof content === 'string' ? Buffer.from(content) : content;
    const inode: Inode = { kind: 'file', meta: meta({ mode: 0o644, ...m }), size: bytes.length, layer: 0 };
    inode.sha256 = createHash('sha256').update(bytes).digest('hex');
    if (bytes.length > 0) {
      inode.content = { layer: 0, data: this.data++ };
      writeFileSync(this.contentFile(inode), Buffer.concat([TreeFixture.JUNK, bytes, TreeFixture.JUNK]));
    }
    return this.leaf(p, inode);
  }

  symlink(p: string, target: string, m: Partial<Meta> = {}): Inode {
    return this.leaf(p, { kind: 'symlink', meta: meta({ mode: 0o777, ...m }), size: 0, linkname: target, layer: 0 });
  }

  device(p: string, kind: 'char' | 'block', major: number, minor: number, m: Partial<Meta> = {}): Inode {
    return this.leaf(p, { kind, meta: meta({ mode: 0o666, ...m }), size: 0, devmajor: major, devminor: minor, layer: 0 });
  }

  fifo(p: string, m: Partial<Meta> = {}): Inode {
    return this.leaf(p, { kind: 'fifo', meta: meta({ mode: 0o644, ...m }), size: 0, layer: 0 });
  }

  /** Another name for an existing inode: the same object, which is what makes it a hardlink. */
  link(p: string, inode: Inode): Inode {
    return this.leaf(p, inode);
  }

  private leaf(p: string, inode: Inode): Inode {
    this.put(p, { kind: 'leaf', inode });
    return inode;
  }

  private put(p: string, node: TreeNode): void {
    this.parent(p).children.set(base(p), node);
  }

  private parent(p: string): DirNode {
    let d = this.root;
    const parts = p.split('/').slice(0, -1);
    for (const part of parts) {
      let next = d.children.get(part);
      if (next === undefined) {
        next = { kind: 'dir', meta: meta(), children: new Map(), layer: -1, implied: true };
        d.children.set(part, next);
      }
      if (next.kind !== 'dir') throw new Error(`fixture: ${part} in ${p} is not a directory`);
      d = next;
    }
    return d;
  }
}

function base(p: string): string {
  return p.slice(p.lastIndexOf('/') + 1);
}

/** What manifestOfDir must report for a faithful copy of `tree` (xattrs filtered by `keepXattr`). */
export function expectedManifest(tree: PlannedTree, keepXattr: (name: string) => boolean = (n) => n !== 'security.selinux'): ManifestRecord[] {
  const names = new Map<Inode, string[]>();
  const recs: Array<{ path: string; node: TreeNode }> = [];
  const visit = (d: DirNode, prefix: string): void => {
    for (const [name, node] of d.children) {
      const p = prefix === '' ? name : `${prefix}/${name}`;
      recs.push({ path: p, node });
      if (node.kind === 'dir') visit(node, p);
      else names.set(node.inode, [...(names.get(node.inode) ?? []), p]);
    }
  };
  visit(tree.root, '');
  return recs.map(({ path: p, node }) => toRecord(p, node, names, keepXattr)).sort((a, b) => (a.path < b.path ? -1 : 1));
}

function toRecord(p: string, node: TreeNode, names: Map<Inode, string[]>, keep: (n: string) => boolean): ManifestRecord {
  const m = node.kind === 'dir' ? node.meta : node.inode.meta;
  const xattrs = Object.fromEntries(Object.entries(m.xattrs ?? {}).filter(([n]) => keep(n)));
  const r: ManifestRecord = { path: p, type: 'dir', mode: m.mode & 0o7777, uid: m.uid, gid: m.gid, size: 0, mtime: Math.floor(m.mtime), xattrs };
  if (node.kind === 'dir') return r;
  const inode = node.inode;
  r.type = inode.kind;
  if (inode.kind === 'file') Object.assign(r, { size: inode.size, sha256: inode.sha256 });
  if (inode.kind === 'symlink') r.link = inode.linkname;
  if (inode.kind === 'char' || inode.kind === 'block') r.rdev = `${inode.devmajor}:${inode.devminor}`;
  const group = names.get(inode)!;
  if (group.length > 1) r.linkGroup = group.reduce((a, b) => (b < a ? b : a));
  return r;
}
