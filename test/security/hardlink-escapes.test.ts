// Hardlinks that try to reach a host file: by a climbing or absolute target, through a symlinked directory, or by
// linking a symlink that points out and then writing the same name. A hardlink target is a name inside the image,
// resolved in the merged tree with its last component not followed; what is not there is refused, never looked up
// on the host. link(2) in the writer only ever joins two names inside the staging directory.
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { describeOut, expectConfined, expectRefused, runAttack } from '../helpers/attack.js';
import { rawLayer, writeImage, type RawEntry } from '../helpers/hostile.js';
import type { Jail } from '../helpers/jail.js';

const image = (layers: (j: Jail) => RawEntry[][]) => (j: Jail) => writeImage(j.input, 'image.tar', layers(j).map(rawLayer));

async function sameInode(out: string, a: string, b: string): Promise<boolean> {
  const [sa, sb] = await Promise.all([fs.lstat(path.join(out, a)), fs.lstat(path.join(out, b))]);
  return sa.ino === sb.ino && sa.dev === sb.dev;
}

describe('security: hardlink escapes', () => {
  it('CVE-2014-6407 / EDGE #69: hardlink to a host file by a climbing relative target is refused', async () => {
    const r = await runAttack(image(() => [[{ name: 'hl', type: 'hardlink', linkname: '../victim/passwd' }]]));
    await expectRefused(r, /hl: hardlink target victim\/passwd does not exist/, { atPlan: true });
    await r.done();
  });

  it('EDGE #69: the same climbing target links the image\'s own file when the image has one', async () => {
    const r = await runAttack(image(() => [[{ name: 'victim/passwd', body: 'inside' }, { name: 'hl', type: 'hardlink', linkname: '../../victim/passwd' }]]));
    const out = expectConfined(r);
    expect(await describeOut(out, 'hl')).toBe('file:inside');
    expect(await sameInode(out, 'hl', 'victim/passwd')).toBe(true);
    await r.done();
  });

  it('node-tar CVE-2021-32804: hardlink to an absolute host path is refused', async () => {
    const r = await runAttack(image((j) => [[{ name: 'hl', type: 'hardlink', linkname: `${j.victim}/passwd` }, { name: 'etc-hl', type: 'hardlink', linkname: '/etc/passwd' }]]));
    await expectRefused(r, /hl: hardlink target .*passwd does not exist/, { atPlan: true });
    await r.done();
  });

  it('GHSA-qffp-2rhf-9h96 (node-tar): hardlink target reached through a symlinked directory pointing out', async () => {
    const r = await runAttack(
      image((j) => [
        [
          { name: 'rel', type: 'symlink', linkname: '../victim' },
          { name: 'abs', type: 'symlink', linkname: j.victim },
        ],
        [{ name: 'hl', type: 'hardlink', linkname: 'rel/passwd' }],
        [{ name: 'hl2', type: 'hardlink', linkname: 'abs/passwd' }],
      ]),
    );
    await expectRefused(r, /hl: hardlink target rel\/passwd does not exist/, { atPlan: true });
    await r.done();
  });

  it('containerd HardlinkRelative (EDGE #70): a target through an in-root symlinked directory links the in-root file', async () => {
    const r = await runAttack(
      image(() => [
        [
          { name: 'etc/', type: 'dir' },
          { name: 'etc/passwd', body: 'image passwd' },
          { name: 'breakouts/', type: 'dir' },
          { name: 'breakouts/d1', type: 'symlink', linkname: '../../etc' },
          { name: 'breakouts/mypasswd', type: 'hardlink', linkname: '/breakouts/d1/passwd' },
        ],
      ]),
    );
    const out = expectConfined(r);
    expect(await sameInode(out, 'breakouts/mypasswd', 'etc/passwd')).toBe(true);
    await r.done();
  });

  it('EDGE #71/#72: hardlink to a symlink pointing out, then a write of the same name, replaces it', async () => {
    const r = await runAttack(
      image((j) => [
        [
          { name: 'evil', type: 'symlink', linkname: `${j.victim}/passwd` },
          { name: 'evil-rel', type: 'symlink', linkname: '../victim/passwd' },
          { name: 'hl', type: 'hardlink', linkname: 'evil' },
          { name: 'hl-rel', type: 'hardlink', linkname: 'evil-rel' },
          { name: 'hl-same-layer', type: 'hardlink', linkname: 'evil' },
          { name: 'hl-same-layer', body: 'pwned-same-layer' },
        ],
        [
          { name: 'hl', body: 'pwned' },
          { name: 'hl-rel', body: 'pwned-rel' },
        ],
      ]),
    );
    const out = expectConfined(r);
    expect(await describeOut(out, 'evil')).toBe(`symlink:${r.jail.victim}/passwd`);
    expect(await describeOut(out, 'hl')).toBe('file:pwned');
    expect(await describeOut(out, 'hl-rel')).toBe('file:pwned-rel');
    expect(await describeOut(out, 'hl-same-layer')).toBe('file:pwned-same-layer');
    await r.done();
  });

  it('EDGE #71: a hardlink to a symlink stays a link to the symlink and is never followed', async () => {
    const r = await runAttack(
      image((j) => [
        [
          { name: 'evil', type: 'symlink', linkname: `${j.victim}/passwd` },
          { name: 'hl', type: 'hardlink', linkname: '/evil' },
        ],
      ]),
    );
    const out = expectConfined(r);
    expect(await describeOut(out, 'hl')).toBe(`symlink:${r.jail.victim}/passwd`);
    expect(await sameInode(out, 'hl', 'evil')).toBe(true);
    await r.done();
  });

  it('containerd HardlinkSymlinkChmod (CVE-2021-32760, EDGE #73): a hardlink header\'s mode never reaches the host file', async () => {
    const r = await runAttack(
      image((j) => [
        [
          { name: `${j.victim}/also-exists-outside-root`, type: 'symlink', linkname: `${j.victim}/perm400` },
          { name: 'sketchylink', type: 'hardlink', linkname: `${j.victim}/also-exists-outside-root`, mode: 0o7777 },
        ],
      ]),
    );
    const out = expectConfined(r);
    expect(await describeOut(out, 'sketchylink')).toBe(`symlink:${r.jail.victim}/perm400`);
    // The jail snapshot already holds the host perm400 at 0400; this says why the test exists.
    expect((await fs.stat(path.join(r.jail.victim, 'perm400'))).mode & 0o7777).toBe(0o400);
    await r.done();
  });

  it('EDGE #67: a hardlink to a directory is refused', async () => {
    const r = await runAttack(image(() => [[{ name: 'd/', type: 'dir' }], [{ name: 'h', type: 'hardlink', linkname: 'd' }]]));
    await expectRefused(r, /h: hardlink target d is a directory/, { atPlan: true });
    await r.done();
  });

  it('a hardlink to itself, or to the root, is refused', async () => {
    const r = await runAttack(image(() => [[{ name: 'self', type: 'hardlink', linkname: 'self' }, { name: 'root', type: 'hardlink', linkname: '../..' }]]));
    await expectRefused(r, /self: hardlink target self does not exist/, { atPlan: true });
    await r.done();
  });
});
