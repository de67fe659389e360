// The `stratum inspect` report: identity, config summary and a layer table lined up with history.
import type { LayerIndex } from '../layer/entry.js';
import type { Digest } from '../spec/digest.js';
import type { ImageConfig, Platform } from '../spec/types.js';
import { layerChanges, type LayerChanges } from './changes.js';
import { alignHistory } from './history.js';

/** What inspect knows about an image without reading a layer. */
export interface ImageMeta {
  /** 'store' when it was read from the store, else the archive it was read from. */
  from: 'store' | 'archive';
  format?: string;
  names: string[];
  manifestDigest?: Digest;
  manifestRaw?: Buffer;
  configDigest: Digest;
  configRaw: Buffer;
  config: ImageConfig;
  platform?: Platform;
  layers: MetaLayer[];
}

export interface MetaLayer {
  /** The blob digest; undefined when the archive does not say and it cannot be known without reading the blob. */
  digest?: Digest;
  size: number;
  mediaType: string;
  diffID: Digest;
}

export interface LayerRow {
  /** 1-based, as printed. */
  number: number;
  diffID: Digest;
  digest?: Digest;
  mediaType: string;
  compressedSize: number;
  /** Bytes of the uncompressed tar (LayerIndex.tarSize); known once the layer is in the store. */
  unpackedSize?: number;
  files?: LayerChanges;
  created?: string;
  createdBy?: string;
  comment?: string;
  author?: string;
}

export interface ConfigSummary {
  env: string[];
  entrypoint: string[] | null;
  cmd: string[] | null;
  user: string;
  workdir: string;
  ports: string[];
  volumes: string[];
  labels: Record<string, string>;
  stopSignal?: string;
}

export interface InspectReport {
  from: 'store' | 'archive';
  format?: string;
  names: string[];
  manifestDigest?: Digest;
  /** The image id. */
  configDigest: Digest;
  platform?: string;
  created?: string;
  author?: string;
  compressedSize: number;
  /** Undefined unless every layer is in the store. */
  unpackedSize?: number;
  config: ConfigSummary;
  layers: LayerRow[];
  /** Every history entry in config order, with the 1-based layer it describes (none for an empty-layer step). */
  history: { layer?: number; created?: string; createdBy?: string; comment?: string; emptyLayer: boolean }[];
  /** True when per-layer file statistics are filled in. */
  files: boolean;
  warnings: string[];
}

/** indexes[i] is layer i's index when the store has it. File statistics need all of them. */
export function inspectReport(meta: ImageMeta, indexes: readonly (LayerIndex | undefined)[] = []): InspectReport {
  const aligned = alignHistory(meta.config, meta.layers.length);
  const complete = meta.layers.length > 0 && meta.layers.every((_, i) => indexes[i] !== undefined) ? (indexes as LayerIndex[]) : undefined;
  const changes = complete ? layerChanges(complete) : undefined;
  const layers = meta.layers.map((l, i): LayerRow => {
    const h = aligned.byLayer[i];
    const row: LayerRow = { number: i + 1, diffID: l.diffID, digest: l.digest, mediaType: l.mediaType, compressedSize: l.size };
    if (indexes[i]) row.unpackedSize = indexes[i]!.tarSize;
    if (changes) row.files = changes.changes[i];
    if (h) Object.assign(row, defined({ created: h.created, createdBy: h.created_by, comment: h.comment, author: h.author }));
    return row;
  });
  const warnings = [...(aligned.problem ? [aligned.problem] : []), ...(changes?.warnings ?? [])];
  return {
    from: meta.from,
    ...defined({ format: meta.format, manifestDigest: meta.manifestDigest }),
    names: meta.names,
    configDigest: meta.configDigest,
    ...defined({ platform: platformString(meta.platform), created: str(meta.config.created), author: str(meta.config.author) }),
    compressedSize: meta.layers.reduce((n, l) => n + Math.max(0, l.size), 0),
    unpackedSize: layers.every((l) => l.unpackedSize !== undefined) ? layers.reduce((n, l) => n + l.unpackedSize!, 0) : undefined,
    config: configSummary(meta.config),
    layers,
    history: aligned.steps.map((st) => ({
      ...(st.layer !== undefined ? { layer: st.layer + 1 } : {}),
      ...defined({ created: st.entry?.created, createdBy: st.entry?.created_by, comment: st.entry?.comment }),
      emptyLayer: st.entry?.empty_layer === true,
    })),
    files: changes !== undefined,
    warnings,
  };
}

export function configSummary(config: ImageConfig): ConfigSummary {
  const c = config.config ?? {};
  const list = (v: unknown): string[] | null => (Array.isArray(v) ? v.map(String) : null);
  const keys = (v: unknown): string[] => (v && typeof v === 'object' ? Object.keys(v).sort() : []);
  const summary: ConfigSummary = {
    env: list(c.Env) ?? [],
    entrypoint: list(c.Entrypoint),
    cmd: list(c.Cmd),
    user: str(c.User) ?? '',
    workdir: str(c.WorkingDir) ?? '',
    ports: keys(c.ExposedPorts),
    volumes: keys(c.Volumes),
    labels: c.Labels && typeof c.Labels === 'object' ? { ...c.Labels } : {},
  };
  if (str(c.StopSignal)) summary.stopSignal = c.StopSignal;
  return summary;
}

export function platformString(p: Platform | undefined): string | undefined {
  if (!p) return undefined;
  return [p.os, p.architecture, p.variant].filter(Boolean).join('/') + (p['os.version'] ? ` (${p['os.version']})` : '');
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' && v !== '' ? v : undefined;
}

/** Drops undefined fields so the JSON output has no `"x": undefined` holes and no nulls by accident. */
function defined<T extends Record<string, unknown>>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
