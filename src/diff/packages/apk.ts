// Alpine: /lib/apk/db/installed (or /usr/lib/... on merged-/usr Alpine), one stanza per package with
// one-letter keys (P: name, V: version).
import type { PlannedTree } from '../../tree/types.js';
import { lookup } from '../../tree/resolve.js';
import { parseStanzas } from './stanzas.js';
import type { PackageEcosystem } from './types.js';

const CANDIDATES = ['lib/apk/db/installed', 'usr/lib/apk/db/installed'];

export const apk: PackageEcosystem = {
  name: 'apk',
  paths(tree: PlannedTree): string[] {
    const found = new Set<string>();
    for (const p of CANDIDATES) {
      const r = lookup(tree.root, p, { followLast: true });
      if (r?.node.kind === 'leaf' && r.node.inode.kind === 'file') found.add(r.path);
    }
    return [...found];
  },
  parse(bytes: Buffer): Map<string, string> {
    const out = new Map<string, string>();
    // Keys are case-sensitive here (a: and A: mean different things).
    for (const s of parseStanzas(bytes.toString('utf8'), ':', false)) {
      const name = s.get('P');
      if (name) out.set(name, s.get('V') ?? '');
    }
    return out;
  },
};
