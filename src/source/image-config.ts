// The image config checks every source needs before a layer is read: it is a JSON object,
// rootfs.type is "layers" (ISPEC: MUST error otherwise) and diff_ids are well-formed digests.
import { FormatError, IntegrityError } from '../errors.js';
import { parseDigest, type Digest } from '../spec/digest.js';
import type { ImageConfig, Platform } from '../spec/types.js';
import { asObject, parseJson } from './json.js';

export function parseImageConfig(raw: Buffer, where: string): ImageConfig {
  const cfg = asObject(parseJson(raw, where), where);
  const rootfs = asObject(cfg.rootfs ?? null, `${where}: rootfs`);
  if (rootfs.type !== 'layers') {
    throw new FormatError(`${where}: rootfs.type is ${JSON.stringify(rootfs.type)}, expected "layers"`, {
      expected: 'layers',
      actual: String(rootfs.type),
    });
  }
  if (!Array.isArray(rootfs.diff_ids)) throw new FormatError(`${where}: rootfs.diff_ids is not an array`);
  const diffIDs = rootfs.diff_ids.map((d, i) => parseDigest(d, `${where}: rootfs.diff_ids[${i}]`));
  return { ...cfg, rootfs: { type: 'layers', diff_ids: diffIDs } } as ImageConfig;
}

/** The platform an image config declares, if it names at least an os and an architecture. */
export function configPlatform(cfg: ImageConfig): Platform | undefined {
  if (typeof cfg.os !== 'string' || typeof cfg.architecture !== 'string' || !cfg.os || !cfg.architecture) return undefined;
  const p: Platform = { os: cfg.os, architecture: cfg.architecture };
  if (typeof cfg.variant === 'string' && cfg.variant) p.variant = cfg.variant;
  if (typeof cfg['os.version'] === 'string') p['os.version'] = cfg['os.version'];
  return p;
}

/** EDGE #116: every loader refuses an image whose layer list and diff_ids disagree in length. */
export function checkLayerCount(where: string, layers: number, cfg: ImageConfig): Digest[] {
  const diffIDs = cfg.rootfs.diff_ids;
  if (layers !== diffIDs.length) {
    throw new IntegrityError(`${where}: ${layers} layers but the config lists ${diffIDs.length} diff_ids`, {
      expected: diffIDs.length,
      actual: layers,
    });
  }
  return diffIDs;
}
