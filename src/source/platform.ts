// Platforms as `os/arch[/variant]` strings, normalised the way containerd does, and the host's own.
import { UsageError } from '../errors.js';
import type { Platform } from '../spec/types.js';

const ARCH_ALIASES: Record<string, { arch: string; variant?: string }> = {
  x86_64: { arch: 'amd64' },
  'x86-64': { arch: 'amd64' },
  aarch64: { arch: 'arm64' },
  armhf: { arch: 'arm', variant: 'v7' },
  armel: { arch: 'arm', variant: 'v6' },
  i386: { arch: '386' },
};

// Variants that mean the same as none at all for their architecture.
const DEFAULT_VARIANT: Record<string, string> = { arm64: 'v8', amd64: 'v1' };

/** Parses a user's `os/arch[/variant]`; UsageError on anything else. */
export function parsePlatform(text: string): Platform {
  const parts = text.trim().toLowerCase().split('/');
  if (parts.length < 2 || parts.length > 3 || parts.some((p) => !/^[a-z0-9._-]+$/.test(p))) {
    throw new UsageError(`invalid platform "${text}": expected os/arch[/variant], e.g. linux/arm64 or linux/arm/v7`);
  }
  const p: Platform = { os: parts[0], architecture: parts[1] };
  if (parts[2]) p.variant = parts[2];
  return p;
}

/** The platform this process runs on, in GOOS/GOARCH terms (images for it are linux ones). */
export function hostPlatform(arch: string = process.arch): Platform {
  const goarch: Record<string, string> = { x64: 'amd64', ia32: '386', ppc64: 'ppc64le' };
  const p: Platform = { os: 'linux', architecture: goarch[arch] ?? arch };
  if (arch === 'arm') {
    const v = (process.config.variables as Record<string, unknown>).arm_version;
    if (v !== undefined && v !== '') p.variant = `v${String(v)}`;
  }
  return p;
}

/** Whether an image's platform satisfies a wanted one; a wanted platform without a variant accepts any. */
export function platformMatches(want: Platform, have: Platform): boolean {
  const w = normalize(want);
  const h = normalize(have);
  if (w.os !== h.os || w.arch !== h.arch) return false;
  return !w.variant || w.variant === h.variant;
}

export function formatPlatform(p: Platform | undefined): string {
  if (!p) return 'unknown platform';
  const n = normalize(p);
  return [n.os, n.arch, n.variant].filter(Boolean).join('/');
}

function normalize(p: Platform): { os: string; arch: string; variant: string } {
  const rawArch = String(p.architecture ?? '').toLowerCase();
  const alias = ARCH_ALIASES[rawArch];
  const arch = alias?.arch ?? rawArch;
  let variant = String(p.variant ?? alias?.variant ?? '').toLowerCase();
  if (/^\d+$/.test(variant)) variant = `v${variant}`;
  if (DEFAULT_VARIANT[arch] === variant) variant = '';
  return { os: String(p.os ?? '').toLowerCase(), arch, variant };
}
