// Entry names that try to leave the image: '..', absolute, backslashes, empty, very long, whiteouts and opaque
// markers that climb out. Names are cleaned lexically with '..' clamped at the image root (containerd's and umoci's
// choice, EDGE #52), so each of these lands inside OUT or is refused; none is ever joined onto a host path.
import { describe, expect, it } from 'vitest';
import { describeOut, expectConfined, expectRefused, runAttack } from '../helpers/attack.js';
import { rawLayer, writeImage, type RawEntry } from '../helpers/hostile.js';
import { expectOneLineRefusal, type Jail } from '../helpers/jail.js';
import { EOA, file as tarFile, pax } from '../tar/build.js';

const image = (layers: (j: Jail) => RawEntry[][]) => (j: Jail) => writeImage(j.input, 'image.tar', layers(j).map(rawLayer));
const inRoot = (abs: string) => abs.replace(/^\/+/, '');
/** A path of `parts` components of `width` bytes each. */
const longPath = (parts: number, width: number) => Array.from({ length: parts }, (_, i) => String(i % 10).repeat(width)).join('/');

describe('security: entry names', () => {
  it('node-tar CVE-2021-37712 / EDGE #52: "../" names are clamped at the image root', async () => {
    const r = await runAttack(
      image(() => [
        [
          { name: '../victim/passwd', body: 'one' },
          { name: '../../../../../../../../etc/passwd', body: 'two' },
          { name: 'a/../../victim/dir/hello', body: 'three' },
        ],
      ]),
    );
    const out = expectConfined(r);
    expect(await describeOut(out, 'victim/passwd')).toBe('file:one');
    expect(await describeOut(out, 'etc/passwd')).toBe('file:two');
    expect(await describeOut(out, 'victim/dir/hello')).toBe('file:three');
    await r.done();
  });

  it('EDGE #53: "/../" names are clamped at the image root', async () => {
    const r = await runAttack(image(() => [[{ name: '/../victim/slash-dotdot', body: 'x' }, { name: '//..//..//victim//dir/', type: 'dir' }]]));
    const out = expectConfined(r);
    expect(await describeOut(out, 'victim/slash-dotdot')).toBe('file:x');
    expect(await describeOut(out, 'victim/dir')).toBe('dir');
    await r.done();
  });

  it('node-tar CVE-2021-32804: absolute names land below OUT', async () => {
    const r = await runAttack(image((j) => [[{ name: `${j.victim}/passwd`, body: 'abs-victim' }, { name: '/etc/passwd', body: 'abs-etc' }, { name: '///etc/shadow', body: 'abs-shadow' }]]));
    const out = expectConfined(r);
    expect(await describeOut(out, `${inRoot(r.jail.victim)}/passwd`)).toBe('file:abs-victim');
    expect(await describeOut(out, 'etc/passwd')).toBe('file:abs-etc');
    expect(await describeOut(out, 'etc/shadow')).toBe('file:abs-shadow');
    await r.done();
  });

  it('node-tar CVE-2021-37712 (win32 paths): backslashes are ordinary bytes of one name on Linux', async () => {
    const r = await runAttack(image(() => [[{ name: '..\\victim\\passwd', body: 'bs' }, { name: 'C:\\Windows\\evil', body: 'drive' }, { name: 'd\\..\\..\\x', body: 'x' }]]));
    const out = expectConfined(r);
    expect(await describeOut(out, '..\\victim\\passwd')).toBe('file:bs');
    expect(await describeOut(out, 'C:\\Windows\\evil')).toBe('file:drive');
    expect(await describeOut(out, 'd\\..\\..\\x')).toBe('file:x');
    await r.done();
  });

  it('containerd SymlinkEmptyFilename: empty names are the root and a non-directory root entry is ignored', async () => {
    const r = await runAttack(
      image((j) => [
        [
          { name: '', body: 'empty file' },
          { name: '', type: 'symlink', linkname: j.victim },
          { name: '', type: 'hardlink', linkname: 'x' },
          { name: 'x', body: 'x' },
        ],
      ]),
    );
    const out = expectConfined(r);
    expect(await describeOut(out, '')).toBe('dir');
    expect(await describeOut(out, 'x')).toBe('file:x');
    await r.done();
  });

  it('EDGE #55/#56: a 3000-byte NUL-free name is written exactly', async () => {
    const name = longPath(15, 199);
    const r = await runAttack(image(() => [[{ name, body: 'deep' }, { name: 'link', type: 'symlink', linkname: name }]]));
    const out = expectConfined(r);
    expect(await describeOut(out, 'link')).toBe(`symlink:${name}`);
    await r.done();
  });

  it('a component longer than NAME_MAX: the tar export keeps it, flatten refuses with one line and leaves nothing', async () => {
    const r = await runAttack(image(() => [[{ name: `d/${'n'.repeat(300)}`, body: 'x' }]]));
    expectOneLineRefusal(r.flatten, /ENAMETOOLONG|name too long/i);
    expect(r.export.code, r.export.stderr).toBe(0);
    expect(r.import.code, r.import.stderr).toBe(0);
    expect(await describeOut(r.jail.out, '')).toBe('absent');
    await r.done();
  });

  it('EDGE #60 (Go pax-nul-path): a PAX path holding a NUL is refused', async () => {
    const layer = Buffer.concat([pax([['path', 'ok\0../../victim/passwd']]), tarFile({ name: 'placeholder' }, 'pwned'), EOA]);
    const r = await runAttack((j) => writeImage(j.input, 'image.tar', [layer]));
    await expectRefused(r, /malformed PAX header \(NUL in path\)/);
    await r.done();
  });

  it('whiteouts whose names climb out only remove paths inside the image', async () => {
    const r = await runAttack(
      image((j) => [
        [{ name: 'victim/passwd', body: 'image copy' }, { name: 'keep', body: 'keep' }, { name: 'etc/hosts', body: 'hosts' }],
        [
          { name: '../victim/.wh.passwd' },
          { name: '../../../../.wh.etc' },
          { name: `${j.victim}/.wh.passwd` },
          { name: `${j.victim}/dir/.wh.hello` },
        ],
      ]),
    );
    const out = expectConfined(r);
    expect(await describeOut(out, 'victim/passwd')).toBe('absent');
    expect(await describeOut(out, 'etc')).toBe('absent');
    expect(await describeOut(out, 'keep')).toBe('file:keep');
    await r.done();
  });

  it('a whiteout reached through a symlink to the host removes nothing on the host', async () => {
    const r = await runAttack(
      image((j) => [
        [{ name: 'rel', type: 'symlink', linkname: '../victim' }, { name: 'abs', type: 'symlink', linkname: j.victim }],
        [{ name: 'rel/.wh.passwd' }, { name: 'abs/.wh.dir' }, { name: 'abs/.wh..wh..opq' }],
      ]),
    );
    expectConfined(r);
    await r.done();
  });

  it('an opaque marker at the root (plain, "./", "/" and climbing) hides only the lower layers', async () => {
    // One marker per layer: each must hide the file of the layer just below it, and only that.
    const markers = ['.wh..wh..opq', './.wh..wh..opq', '/.wh..wh..opq', '../../.wh..wh..opq'];
    const r = await runAttack(
      image(() => [
        [{ name: 'l0', body: 'l0' }, { name: 'd/f', body: 'f' }],
        ...markers.map((marker, i) => [{ name: marker }, { name: `l${i + 1}`, body: `l${i + 1}` }]),
      ]),
    );
    const out = expectConfined(r);
    for (const gone of ['l0', 'd', 'l1', 'l2', 'l3']) expect(await describeOut(out, gone), gone).toBe('absent');
    expect(await describeOut(out, 'l4')).toBe('file:l4');
    await r.done();
  });

  it('an invalid whiteout (".wh..." names its parent) is refused', async () => {
    const r = await runAttack(image(() => [[{ name: 'x', body: 'x' }], [{ name: '.wh...' }]]));
    await expectRefused(r, /layer 2 \(.*\): invalid whiteout "\.wh\.\.\."/);
    await r.done();
  });

  it('a non-UTF-8 and control-character name cannot break the one-line error', async () => {
    const r = await runAttack(image(() => [[{ name: 'a\nb\xff', type: 'symlink', linkname: 'a\nb\xff' }], [{ name: 'a\nb\xff/x', body: 'x' }]]));
    await expectRefused(r, /symlink loop/, { atPlan: true });
    await r.done();
  });
});
