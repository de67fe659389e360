// diff OLD NEW: resolve both images into the store (old first, so the new one finds every shared layer
// already unpacked), plan both trees from the layer indexes, then compare section by section.
import { readContent } from '../store/content.js';
import { planImage, type PlannedImage } from '../ops/flatten.js';
import type { ImportOptions } from '../ops/import-image.js';
import { resolveImage, type ResolvedImage } from '../ops/resolve-image.js';
import type { Store } from '../store/store.js';
import type { Inode } from '../tree/types.js';
import { labelsFor, type LayerLabels } from './attribution.js';
import { diffConfigs } from './config.js';
import { diffContent } from './content.js';
import { diffFiles } from './files.js';
import { compileGlobs } from './glob.js';
import { diffHistory } from './history.js';
import { diffLayers } from './layers.js';
import { diffPackages, type ReadInode } from './packages/index.js';
import { summarize } from './summary.js';
import { SECTIONS, type DiffReport, type ImageSummary, type Section } from './types.js';

export interface SideOptions {
  image?: string;
  platform?: string;
}

export interface DiffOptions {
  old?: SideOptions;
  new?: SideOptions;
  /** Sections to compare; default all. */
  only?: Section[];
  ignore?: string[];
  mtime?: boolean;
  /** Compare this one file's content instead of the whole images. */
  content?: string;
  /** Layer limits for what has to be imported. */
  limits?: ImportOptions['limits'];
  onProgress?: ImportOptions['onProgress'];
  signal?: AbortSignal;
}

type Side = ResolvedImage & Partial<Pick<PlannedImage, 'tree' | 'locate'>> & { ref: string; labels: LayerLabels };

export async function diffImages(store: Store, oldRef: string, newRef: string, opts: DiffOptions = {}): Promise<DiffReport> {
  const sections = opts.content !== undefined ? [] : (opts.only ?? [...SECTIONS]);
  const needTree = opts.content !== undefined || sections.includes('files') || sections.includes('packages');
  const ignore = compileGlobs(opts.ignore ?? []); // a bad pattern fails before any import work
  const o = await loadSide(store, oldRef, 'old', needTree, opts);
  const n = await loadSide(store, newRef, 'new', needTree, opts);
  const has = (s: Section): boolean => sections.includes(s);
  const files = has('files') ? diffFiles(o.tree!, n.tree!, { oldLabels: o.labels, newLabels: n.labels, mtime: opts.mtime, ignore }) : undefined;
  const report: DiffReport = {
    schemaVersion: 1,
    old: summary(o),
    new: summary(n),
    identical: true,
    sections,
    summary: { layers: null, files: null, config: null, history: null, packages: null },
    layers: has('layers') ? diffLayers({ layers: o.image.layers, labels: o.labels }, { layers: n.image.layers, labels: n.labels }) : null,
    files: files?.changes ?? null,
    size: files?.size ?? null,
    config: has('config') ? diffConfigs(o.config, n.config) : null,
    history: has('history') ? diffHistory(o.config, n.config) : null,
    packages: has('packages') ? await diffPackages({ tree: o.tree!, read: reader(o) }, { tree: n.tree!, read: reader(n) }) : null,
    content: opts.content !== undefined ? await diffContent(opts.content, { tree: o.tree!, read: reader(o) }, { tree: n.tree!, read: reader(n) }) : null,
    warnings: needTree ? [...warningsOf(o, 'old'), ...warningsOf(n, 'new')] : [],
  };
  return summarize(report);
}

async function loadSide(store: Store, ref: string, side: 'old' | 'new', needTree: boolean, opts: DiffOptions): Promise<Side> {
  const importOpts: ImportOptions = { ...opts[side], limits: opts.limits, onProgress: opts.onProgress, signal: opts.signal };
  const resolved = needTree ? await planImage(store, ref, importOpts) : await resolveImage(store, ref, importOpts);
  return { ...resolved, ref, labels: labelsFor(side, resolved.config, resolved.image.layers.map((l) => l.diffID)) };
}

function reader(side: Side): ReadInode {
  return async (inode: Inode) => (inode.content && side.locate ? readContent(side.locate(inode)) : Buffer.alloc(0));
}

function summary(side: Side): ImageSummary {
  const p = side.image.platform;
  return {
    ref: side.ref,
    names: side.image.names,
    manifestDigest: side.image.manifestDigest,
    configDigest: side.image.configDigest,
    platform: p ? [p.os, p.architecture, p.variant].filter(Boolean).join('/') : '',
    layers: side.image.layers.length,
  };
}

function warningsOf(side: Side, name: string): string[] {
  return (side.tree?.warnings ?? []).map((w) => `${name}: ${w.message}`);
}
