// Selection rules on plain entries: names, digests, positions, platforms, the host default, and
// the one-line errors that list candidates.
import { describe, expect, it } from 'vitest';
import { NotFoundError, UsageError } from '../../src/errors.js';
import type { Digest } from '../../src/spec/digest.js';
import type { Platform } from '../../src/spec/types.js';
import type { ImageEntry } from '../../src/source/entries.js';
import { hostPlatform, parsePlatform, platformMatches } from '../../src/source/platform.js';
import { nameMatches, tagMatches } from '../../src/source/reference.js';
import { selectEntry } from '../../src/source/select.js';

const AMD: Platform = { os: 'linux', architecture: 'amd64' };
const ARM: Platform = { os: 'linux', architecture: 'arm64' };
const ARMV7: Platform = { os: 'linux', architecture: 'arm', variant: 'v7' };

let seq = 0;
function entry(group: string, names: string[], platform?: Platform, extra: Partial<ImageEntry> = {}): ImageEntry {
  const hex = (++seq).toString(16).padStart(4, '0').repeat(16);
  const manifestDigest = `sha256:${hex}` as Digest;
  return { group, names, platform, manifestDigest, digests: [manifestDigest], load: () => Promise.reject(new Error('not used')), ...extra };
}

const pick = (entries: ImageEntry[], image?: string, platform?: string, host: Platform = AMD) =>
  entries.indexOf(selectEntry(entries, { image, platform }, 'x.tar', host));

describe('selectEntry', () => {
  it('takes the only usable image whatever its platform', () => {
    expect(pick([entry('a', [], ARMV7)])).toBe(0);
    expect(pick([entry('a', ['v3'], ARM), entry('a', ['v3'], { os: 'unknown', architecture: 'unknown' }, { pseudo: true, unavailable: 'attestation manifest' })])).toBe(0);
    expect(pick([entry('a', [], ARM, { unavailable: 'blobs missing' }), entry('a', [], AMD)], undefined, undefined, ARM)).toBe(1);
  });

  it('uses the host platform to choose among the platforms of one image, first match winning', () => {
    const idx = [entry('i', ['latest'], AMD), entry('i', ['latest'], ARM), entry('i', ['latest'], AMD)];
    expect(pick(idx, undefined, undefined, AMD)).toBe(0);
    expect(pick(idx, undefined, undefined, ARM)).toBe(1);
    expect(() => pick(idx, undefined, undefined, { os: 'linux', architecture: 's390x' })).toThrow(/x\.tar has no image for linux\/s390x \(this host\); pick one with --platform: \[0\]/);
  });

  it('uses an explicit platform as a filter, variants included', () => {
    const idx = [entry('i', [], AMD), entry('i', [], ARMV7), entry('i', [], ARM)];
    expect(pick(idx, undefined, 'linux/arm64/v8')).toBe(2);
    expect(pick(idx, undefined, 'linux/arm/v7')).toBe(1);
    expect(pick(idx, undefined, 'linux/arm')).toBe(1);
    expect(() => pick(idx, undefined, 'linux/arm/v6')).toThrow(NotFoundError);
    expect(() => pick(idx, undefined, 'arm64')).toThrow(UsageError);
  });

  it('treats top-level platform manifests with the same names as one image', () => {
    const flat = [entry('m0', ['app'], AMD), entry('m1', ['app'], ARM)];
    expect(pick(flat, undefined, undefined, ARM)).toBe(1);
    expect(() => pick([entry('m0', ['app'], AMD), entry('m1', ['app'], AMD)])).toThrow(UsageError);
    expect(() => pick([entry('m0', ['a'], AMD), entry('m1', ['b'], ARM)], undefined, undefined, ARM)).toThrow(/holds 2 images; pick one with --image/);
    expect(pick([entry('m0', ['a'], AMD), entry('m1', ['b'], ARM)], undefined, 'linux/arm64')).toBe(1);
  });

  it('asks for --image when several images remain, listing them on one line', () => {
    const two = [entry('m0', ['a:1'], AMD), entry('m1', ['b:2', 'b:latest'], AMD)];
    let err: Error | undefined;
    try {
      pick(two);
    } catch (e) {
      err = e as Error;
    }
    expect(err).toBeInstanceOf(UsageError);
    expect(err?.message).toMatch(/^x\.tar holds 2 images; pick one with --image: \[0\] a:1 \(linux\/amd64 sha256:[0-9a-f]{12}…\), \[1\] b:2 b:latest \(linux\/amd64 sha256:[0-9a-f]{12}…\)$/);
    expect(pick(two, 'b')).toBe(1);
    expect(pick(two, 'latest')).toBe(1);
    expect(pick(two, '1')).toBe(1);
    expect(pick(two, '@0')).toBe(0);
  });

  it('ranks names, then digests, then positions, then bare tags of full names', () => {
    const e = [entry('m0', ['1']), entry('m1', ['0'])];
    expect(pick(e, '0')).toBe(1);
    expect(pick([entry('m0', ['x:1']), entry('m1', ['x:0'])], '0')).toBe(0);
    expect(pick([entry('m0', ['x:1']), entry('m1', ['x:7'])], '7')).toBe(1);
    const hexTag = [entry('m0', ['app:beef']), entry('m1', [], undefined, { manifestDigest: `sha256:beef${'0'.repeat(60)}` as Digest, digests: [`sha256:beef${'0'.repeat(60)}` as Digest] })];
    expect(pick(hexTag, 'beef')).toBe(1);
    expect(pick(hexTag, 'app:beef')).toBe(0);
    const hexRef = [entry('m0', ['beef']), hexTag[1]];
    expect(pick(hexRef, 'beef')).toBe(0);
    expect(pick(hexRef, 'sha256:beef')).toBe(1);
  });

  it('refuses an ambiguous digest prefix and a short one', () => {
    const d1 = `sha256:abcd1${'0'.repeat(59)}` as Digest;
    const d2 = `sha256:abcd2${'0'.repeat(59)}` as Digest;
    const e = [entry('m0', [], undefined, { digests: [d1] }), entry('m1', [], undefined, { digests: [d2] })];
    expect(() => pick(e, 'abcd')).toThrow(/digest prefix "abcd" is ambiguous/);
    expect(pick(e, 'abcd2')).toBe(1);
    expect(() => pick(e, 'abc')).toThrow(/has no image matching "abc"/);
  });

  it('names what is missing', () => {
    expect(() => pick([], undefined)).toThrow(/x\.tar holds no images/);
    expect(() => pick([entry('a', ['a:1'])], 'b:1')).toThrow(/x\.tar has no image matching "b:1"; candidates: \[0\] a:1 \(unknown platform sha256:/);
    const arts = [entry('a', [], undefined, { pseudo: true, unavailable: 'artifact' }), entry('b', [], undefined, { pseudo: true, unavailable: 'artifact' })];
    expect(() => pick(arts)).toThrow(/holds no image to unpack/);
  });
});

describe('names and platforms', () => {
  it('matches names the way users type them', () => {
    expect(nameMatches('busybox:latest', 'docker.io/library/busybox:latest')).toBe(true);
    expect(nameMatches('docker.io/library/busybox:latest', 'busybox:latest')).toBe(true);
    expect(nameMatches('busybox', 'busybox:latest')).toBe(true);
    expect(nameMatches('latest', 'latest')).toBe(true);
    expect(nameMatches('latest', 'busybox:latest')).toBe(false);
    expect(tagMatches('latest', 'busybox:latest')).toBe(true);
    expect(tagMatches('latest', 'latest')).toBe(false);
    expect(nameMatches('localhost:5000/whiteout', 'localhost:5000/whiteout:latest')).toBe(true);
    expect(nameMatches('busybox', 'latest')).toBe(false);
    expect(nameMatches('busybox:1', 'busybox:latest')).toBe(false);
    // podman and buildah save names as localhost/...: the name without a registry finds them
    expect(nameMatches('stratum-sample:v2', 'localhost/stratum-sample:v2')).toBe(true);
    expect(nameMatches('team/app', 'quay.io/team/app:latest')).toBe(true);
    expect(nameMatches('stratum-sample:v1', 'localhost/stratum-sample:v2')).toBe(false);
    expect(nameMatches('other/stratum-sample:v2', 'localhost/stratum-sample:v2')).toBe(false);
    expect(nameMatches('localhost/stratum-sample:v2', 'quay.io/stratum-sample:v2')).toBe(false);
  });

  it('maps the host to GOARCH names', () => {
    expect(hostPlatform('x64')).toEqual({ os: 'linux', architecture: 'amd64' });
    expect(hostPlatform('arm64')).toEqual({ os: 'linux', architecture: 'arm64' });
    expect(hostPlatform('arm').architecture).toBe('arm');
    expect(platformMatches(parsePlatform('linux/amd64'), { os: 'linux', architecture: 'x86_64' })).toBe(true);
  });
});
