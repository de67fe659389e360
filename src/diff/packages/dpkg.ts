// Debian and Ubuntu: /var/lib/dpkg/status, and the one-file-per-package status.d/ of distroless images
// (those stanzas have no Status field: being there means installed).
import type { PlannedTree } from '../../tree/types.js';
import { childAt } from '../lookup.js';
import { parseStanzas } from './stanzas.js';
import type { PackageEcosystem } from './types.js';

const STATUS = 'var/lib/dpkg/status';
const STATUS_D = 'var/lib/dpkg/status.d';

export const dpkg: PackageEcosystem = {
  name: 'dpkg',
  paths(tree: PlannedTree): string[] {
    const out: string[] = [];
    if (isFile(childAt(tree.root, STATUS))) out.push(STATUS);
    const dir = childAt(tree.root, STATUS_D);
    if (dir?.kind === 'dir') {
      for (const [name, node] of [...dir.children].sort(([a], [b]) => (a < b ? -1 : 1))) {
        if (isFile(node) && !name.endsWith('.md5sums')) out.push(`${STATUS_D}/${name}`);
      }
    }
    return out;
  },
  parse(bytes: Buffer): Map<string, string> {
    const installed = parseStanzas(bytes.toString('utf8')).filter((s) => s.has('package') && isInstalled(s.get('status')));
    const counts = new Map<string, number>();
    for (const s of installed) counts.set(s.get('package')!, (counts.get(s.get('package')!) ?? 0) + 1);
    const out = new Map<string, string>();
    for (const s of installed) {
      const name = s.get('package')!;
      // Multi-Arch: same packages (libc6:amd64 + libc6:i386) need the architecture to stay apart.
      const key = (counts.get(name) ?? 0) > 1 ? `${name}:${s.get('architecture') ?? '?'}` : name;
      out.set(key, s.get('version') ?? '');
    }
    return out;
  },
};

/** "install ok installed" is installed; "deinstall ok config-files" and half-done states are not. */
function isInstalled(status: string | undefined): boolean {
  if (status === undefined) return true;
  return status.split(/\s+/)[2] === 'installed';
}

function isFile(node: ReturnType<typeof childAt>): boolean {
  return node?.kind === 'leaf' && node.inode.kind === 'file';
}
