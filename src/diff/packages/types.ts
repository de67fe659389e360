// One package ecosystem: where its database lives in a tree and how to read it. A new ecosystem
// (rpm, npm, pip...) is one module implementing this, added to the list in packages/index.ts.
import type { PlannedTree } from '../../tree/types.js';

export interface PackageEcosystem {
  /** Short name shown in reports: "dpkg", "apk". */
  name: string;
  /** The cleaned paths of the regular files in this tree that hold the installed-package database. */
  paths(tree: PlannedTree): string[];
  /** Installed packages in one of those files: name → version. */
  parse(bytes: Buffer, path: string): Map<string, string>;
}
