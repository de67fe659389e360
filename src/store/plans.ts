// The store's planned trees, one per layer chain: plans/sha256/<chainID hex>.json. A layer chain (OCI ChainID: the
// diffIDs in order) fixes the merged tree, as it fixes containerd's snapshot of it, so a tree planned once is
// planned for good. A cache: an absent, old-format or damaged plan only means planning again.
import { createHash } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { digestHex, parseDigest, type Digest } from '../spec/digest.js';
import { decodePlan, PLAN_FORMAT, planRows } from '../tree/plan-codec.js';
import type { PlannedTree } from '../tree/types.js';
import { latin1Safe } from './latin1-json.js';
import { exists, type Store } from './store.js';

/** ChainID(L0) = DiffID(L0); ChainID(L0..Ln) = sha256(ChainID(L0..Ln-1) + " " + DiffID(Ln)) (OCI image-spec config.md). */
export function chainIDs(diffIDs: readonly Digest[]): Digest[] {
  const chains: Digest[] = [];
  for (const d of diffIDs) {
    const prev = chains.at(-1);
    chains.push(prev === undefined ? d : parseDigest(`sha256:${createHash('sha256').update(`${prev} ${d}`).digest('hex')}`));
  }
  return chains;
}

export function planDir(store: Store): string {
  return path.join(store.root, 'plans', 'sha256');
}

/** Where the plan of some layers (base first) is kept, found once per command. */
export interface PlanSlot {
  file: string;
  /** How many layers the plan applies. */
  layers: number;
}

/** The slots of the plans of `diffIDs`' first 1, 2, ... n layers: the only names a stored image's plans can have. */
export function chainSlots(store: Store, diffIDs: readonly Digest[]): PlanSlot[] {
  return chainIDs(diffIDs).map((c, i) => ({ file: path.join(planDir(store), `${digestHex(c)}.json`), layers: i + 1 }));
}

/** The slot for the plan of `diffIDs`, or undefined for none (no layers: nothing to plan). */
export function planSlot(store: Store, diffIDs: readonly Digest[]): PlanSlot | undefined {
  return chainSlots(store, diffIDs).at(-1);
}

/** About what a stored plan takes per node (the bench image's: 413,213 bytes for 6,338), to judge its size unread. */
export const PLAN_BYTES_PER_NODE = 64;

/** The size of the stored plan, if there is one. */
export async function storedPlanBytes(slot: PlanSlot): Promise<number | undefined> {
  return fsp.stat(slot.file).then(
    (st) => st.size,
    () => undefined,
  );
}

/** The stored plan, or undefined when there is none this stratum can use. */
export async function readPlan(slot: PlanSlot): Promise<PlannedTree | undefined> {
  try {
    return decodePlan(JSON.parse((await fsp.readFile(slot.file)).toString('latin1')), slot.layers);
  } catch {
    return undefined;
  }
}

export function hasPlan(slot: PlanSlot): Promise<boolean> {
  return exists(slot.file);
}

/** Keeps a plan. Best effort: a store this user may read but not write still flattens. */
export async function writePlan(store: Store, slot: PlanSlot, tree: PlannedTree): Promise<void> {
  try {
    await fsp.mkdir(path.dirname(slot.file), { recursive: true });
    await store.writeAtomic(slot.file, planBytes(tree, slot.layers));
  } catch {
    // planned again next time
  }
}

/**
 * A plan file's bytes, in pieces of about 64 KiB: the JSON of an EncodedPlan (tree/plan-codec.ts), made one node at a
 * time, so that keeping the plan of a big image costs no second copy of it in memory.
 */
export function* planBytes(tree: PlannedTree, layers: number): Generator<Buffer> {
  let text = `{"format":${PLAN_FORMAT},"layers":${layers},"warnings":${JSON.stringify(tree.warnings)},"nodes":[`;
  let sep = '';
  for (const row of planRows(tree)) {
    text += sep + JSON.stringify(row);
    sep = ',';
    if (text.length < 65536) continue;
    // latin1Json's escaping, once per piece rather than once per node: a cold flatten writes its plan before its tree.
    yield Buffer.from(latin1Safe(text), 'latin1');
    text = '';
  }
  yield Buffer.from(latin1Safe(`${text}]}`), 'latin1');
}

/** Checks one stored plan the way a flatten would read it; the reason it would be planned again, or undefined. */
export async function checkPlanFile(file: string): Promise<string | undefined> {
  try {
    const value = JSON.parse((await fsp.readFile(file)).toString('latin1')) as { layers?: unknown };
    decodePlan(value, typeof value.layers === 'number' ? value.layers : -1);
    return undefined;
  } catch (err) {
    return (err as Error).message;
  }
}
