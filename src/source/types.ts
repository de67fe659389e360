// What every source (docker save, OCI layout, oci-archive) hands to the importer:
// a list of image candidates and, for the chosen one, lazily opened blobs.
import type { Readable } from 'node:stream';
import type { Digest } from '../spec/digest.js';
import type { Descriptor, ImageConfig, Platform } from '../spec/types.js';

export type SourceFormat =
  | 'docker-archive' // legacy docker save / podman / skopeo docker-archive (manifest.json, no oci-layout)
  | 'docker-oci-archive' // Docker 25+ save: OCI layout plus manifest.json
  | 'oci-archive' // a tar of an OCI layout
  | 'oci-layout' // an OCI layout directory
  | 'docker-archive-dir' // an unpacked docker save: a directory with manifest.json and no oci-layout
  | 'skopeo-dir'; // skopeo's dir: transport (version, manifest.json, blobs by bare hex digest)

export interface LayerSource {
  /** Position in the image, base first. */
  index: number;
  /** The descriptor as the manifest states it; for docker-archive a synthesized one (digest of the stored file). */
  descriptor: Descriptor;
  /** From the config's rootfs.diff_ids. */
  diffID: Digest;
  /** True when the blob's digest must be checked against descriptor.digest (false only when the source had no digest to claim). */
  verifyDigest: boolean;
  /** Opens the stored (possibly compressed) blob bytes. Throws NotFoundError naming the digest when absent. */
  open(): Promise<Readable>;
}

export interface SourceImage {
  format: SourceFormat;
  /** Names this image is known by in the archive (RepoTags, ref.name, io.containerd.image.name). */
  names: string[];
  /** Raw manifest bytes when the source holds a manifest (OCI); undefined for docker-archive. */
  manifestRaw?: Buffer;
  manifestDigest?: Digest;
  manifestMediaType?: string;
  configRaw: Buffer;
  configDigest: Digest;
  config: ImageConfig;
  platform?: Platform;
  layers: LayerSource[];
}

export interface ImageCandidate {
  /** Position among the candidates (stable for --image N). */
  position: number;
  names: string[];
  manifestDigest?: Digest;
  configDigest?: Digest;
  platform?: Platform;
  /** Why it cannot be chosen (blobs missing, attestation, artifact), if so. */
  unavailable?: string;
}

export interface ImageSelector {
  /** Tag, name:tag, full reference, digest, digest prefix, or a position number. */
  image?: string;
  /** os/arch[/variant]; default: the host's. */
  platform?: string;
}

export interface ImageArchive {
  format: SourceFormat;
  /** Human name of the input (path, or "stdin"). */
  label: string;
  candidates(): Promise<ImageCandidate[]>;
  /** Resolves the selector to exactly one image, or throws a NotFoundError / UsageError listing the candidates. */
  select(selector: ImageSelector): Promise<SourceImage>;
  close(): Promise<void>;
}

export interface OpenOptions {
  /** Where stdin or a compressed archive may be spooled (the store's temp area). */
  tmpDir: string;
  limits?: Partial<SourceLimits>;
  /** The stream read for input '-' (default process.stdin); injectable for tests. */
  stdin?: Readable;
}

export interface SourceLimits {
  /** Largest JSON document read (manifest.json, index.json, manifests, configs). */
  maxJsonBytes: number;
  /** Most entries indexed in an outer archive. */
  maxArchiveEntries: number;
  /** Deepest chain of nested indexes. */
  maxIndexDepth: number;
}

export const DEFAULT_SOURCE_LIMITS: SourceLimits = {
  maxJsonBytes: 20 * 1024 * 1024,
  maxArchiveEntries: 1_000_000,
  maxIndexDepth: 8,
};
