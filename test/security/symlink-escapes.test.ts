// Symlinks that try to carry a write out of the image: planted in the same layer or an earlier one, relative or
// absolute, chained, looping, or named so that they replace the root. stratum resolves every parent inside the
// image root (chroot semantics, as containerd and umoci do), so each of these is either confined to OUT or refused.
// Each test runs flatten, export and import in a jail and checks nothing outside OUT and the store changed.
import { describe, expect, it } from 'vitest';
import { describeOut, expectConfined, expectRefused, runAttack } from '../helpers/attack.js';
import { rawLayer, writeImage, type RawEntry } from '../helpers/hostile.js';
import type { Jail } from '../helpers/jail.js';

/** The image built from these layers (written as raw tars, so names are exactly as given). */
const image = (layers: (j: Jail) => RawEntry[][]) => (j: Jail) => writeImage(j.input, 'image.tar', layers(j).map(rawLayer));
/** An absolute host path as it lands inside OUT: the leading '/' is the image root. */
const inRoot = (abs: string) => abs.replace(/^\/+/, '');

describe('security: symlink escapes', () => {
  it('CVE-2025-45582 (GNU tar): relative symlink climbing out in one layer, file written through it in the next', async () => {
    const r = await runAttack(image(() => [[{ name: 'link', type: 'symlink', linkname: '../victim' }], [{ name: 'link/passwd', body: 'pwned' }]]));
    const out = expectConfined(r);
    // '..' stops at the image root: the write lands in the image's own victim/ directory.
    expect(await describeOut(out, 'link')).toBe('symlink:../victim');
    expect(await describeOut(out, 'victim/passwd')).toBe('file:pwned');
    await r.done();
  });

  it('CVE-2014-9356: absolute symlink to a host directory in an earlier layer, file written through it', async () => {
    const r = await runAttack(image((j) => [[{ name: 'link', type: 'symlink', linkname: j.victim }], [{ name: 'link/passwd', body: 'pwned' }]]));
    const out = expectConfined(r);
    expect(await describeOut(out, 'link')).toBe(`symlink:${r.jail.victim}`);
    expect(await describeOut(out, `${inRoot(r.jail.victim)}/passwd`)).toBe('file:pwned');
    await r.done();
  });

  it('node-tar CVE-2021-32803: symlink and a write through it in the same layer', async () => {
    const r = await runAttack(
      image((j) => [
        [
          { name: 'rel', type: 'symlink', linkname: '../victim' },
          { name: 'rel/passwd', body: 'pwned-rel' },
          { name: 'abs', type: 'symlink', linkname: j.victim },
          { name: 'abs/dir/hello', body: 'pwned-abs' },
        ],
      ]),
    );
    const out = expectConfined(r);
    expect(await describeOut(out, 'victim/passwd')).toBe('file:pwned-rel');
    expect(await describeOut(out, `${inRoot(r.jail.victim)}/dir/hello`)).toBe('file:pwned-abs');
    await r.done();
  });

  it('symlink to the host root, then etc/passwd written through it', async () => {
    const r = await runAttack(image(() => [[{ name: 'hostroot', type: 'symlink', linkname: '/' }], [{ name: 'hostroot/etc/passwd', body: 'pwned' }]]));
    const out = expectConfined(r);
    expect(await describeOut(out, 'etc/passwd')).toBe('file:pwned');
    await r.done();
  });

  it('containerd SymlinkMultipleRelative/Absolute: a chain of relative and absolute links climbing out', async () => {
    const r = await runAttack(
      image((j) => [
        [
          { name: 'dummy/', type: 'dir' },
          { name: 'dummy/etc', type: 'symlink', linkname: '/../../../victim' },
          { name: 'localetc', type: 'symlink', linkname: './dummy/etc' },
          { name: 'a', type: 'symlink', linkname: 'b' },
          { name: 'b', type: 'symlink', linkname: '../../c' },
          { name: 'c', type: 'symlink', linkname: j.victim },
        ],
        [
          { name: 'localetc/passwd', body: 'via-chain' },
          { name: 'a/dir/hello', body: 'via-abc' },
        ],
      ]),
    );
    const out = expectConfined(r);
    expect(await describeOut(out, 'victim/passwd')).toBe('file:via-chain');
    expect(await describeOut(out, `${inRoot(r.jail.victim)}/dir/hello`)).toBe('file:via-abc');
    expect(await describeOut(out, 'dummy/etc')).toBe('symlink:/../../../victim');
    await r.done();
  });

  it('EDGE #47: a symlink loop is refused, not followed forever', async () => {
    const r = await runAttack(
      image(() => [
        [
          { name: 'a', type: 'symlink', linkname: 'b' },
          { name: 'b', type: 'symlink', linkname: '/a' },
        ],
        [{ name: 'a/x', body: 'x' }],
      ]),
    );
    await expectRefused(r, /a\/x: symlink loop/, { atPlan: true });
    await r.done();
  });

  it('containerd SymlinkOverridePath: a symlink planted and used within one layer, then replaced by a directory', async () => {
    const r = await runAttack(
      image((j) => [
        [
          { name: 'foo/', type: 'dir' },
          { name: 'foo/tmp/', type: 'dir' },
          { name: 'foo/tmp/f', body: '012' },
          { name: 'foo', type: 'symlink', linkname: j.victim },
          { name: 'foo/tmp/f', body: '345' },
          { name: 'foo/', type: 'dir' },
          { name: 'foo/tmp/', type: 'dir' },
          { name: 'foo/tmp/f', body: '678' },
        ],
      ]),
    );
    const out = expectConfined(r);
    expect(await describeOut(out, 'foo/tmp/f')).toBe('file:678');
    expect(await describeOut(out, `${inRoot(r.jail.victim)}/tmp/f`)).toBe('file:345');
    await r.done();
  });

  it('a file written over a symlink to a host file replaces the link instead of writing through it', async () => {
    const r = await runAttack(
      image((j) => [
        [{ name: 'x', body: 'original' }],
        [{ name: 'x', type: 'symlink', linkname: `${j.victim}/passwd` }, { name: 'y', type: 'symlink', linkname: '../victim/passwd' }],
        [{ name: 'x', body: 'pwned-x' }, { name: 'y', body: 'pwned-y' }],
      ]),
    );
    const out = expectConfined(r);
    expect(await describeOut(out, 'x')).toBe('file:pwned-x');
    expect(await describeOut(out, 'y')).toBe('file:pwned-y');
    await r.done();
  });

  it('a directory entry over a symlink to a host directory (its mode must not land on the host: CVE-2021-32760)', async () => {
    const r = await runAttack(
      image((j) => [
        [{ name: 'd', type: 'symlink', linkname: `${j.victim}/dir` }],
        [{ name: 'd/', type: 'dir', mode: 0o7777 }, { name: 'd/hello', body: 'pwned', mode: 0o6777 }],
      ]),
    );
    const out = expectConfined(r);
    expect(await describeOut(out, 'd')).toBe('dir');
    expect(await describeOut(out, 'd/hello')).toBe('file:pwned');
    await r.done();
  });

  for (const name of ['.', './', '/', '..', '../..']) {
    it(`umoci CVE-2021-29136: a symlink named ${JSON.stringify(name)} cannot replace the root`, async () => {
      const r = await runAttack(image((j) => [[{ name, type: 'symlink', linkname: j.victim }], [{ name: 'passwd', body: 'pwned' }]]));
      const out = expectConfined(r);
      expect(await describeOut(out, '')).toBe('dir');
      expect(await describeOut(out, 'passwd')).toBe('file:pwned');
      await r.done();
    });
  }

  it('an entry that turns the root into a regular file, a hardlink or a device is ignored', async () => {
    const r = await runAttack(
      image(() => [
        [{ name: 'a', body: 'a' }],
        [
          { name: './', body: 'root as a file' },
          { name: '.', type: 'hardlink', linkname: 'a' },
          { name: '/', type: 'fifo' },
          { name: 'b', body: 'b' },
        ],
      ]),
    );
    const out = expectConfined(r);
    expect(await describeOut(out, '')).toBe('dir');
    expect(await describeOut(out, 'a')).toBe('file:a');
    expect(await describeOut(out, 'b')).toBe('file:b');
    await r.done();
  });
});
