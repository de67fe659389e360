// TEMPORARY probe: prints what stratum does with each hostile layer. Deleted once the real tests pin it.
import path from 'node:path';
import { it } from 'vitest';
import { rawLayer, writeImage, type RawEntry } from '../helpers/hostile.js';
import { makeJail, removeJail, snapshot, expectUntouched, stratum } from '../helpers/jail.js';
import { manifestOfDir } from '../helpers/tree-manifest.js';

const cases: Record<string, (v: string) => RawEntry[][]> = {
  dotdot: () => [[{ name: '../victim/passwd', body: 'pwned' }]],
  abs: (v) => [[{ name: `${v}/passwd`, body: 'pwned' }, { name: '/etc/passwd', body: 'pwned' }]],
  symlinkSame: () => [[{ name: 'link', type: 'symlink', linkname: '../victim' }, { name: 'link/passwd', body: 'pwned' }]],
  symlinkEarlier: (v) => [[{ name: 'link', type: 'symlink', linkname: v }], [{ name: 'link/passwd', body: 'pwned' }]],
  loop: () => [[{ name: 'a', type: 'symlink', linkname: 'b' }, { name: 'b', type: 'symlink', linkname: 'a' }], [{ name: 'a/x', body: 'x' }]],
  hardOut: () => [[{ name: 'hl', type: 'hardlink', linkname: '../victim/passwd' }]],
  hardSym: (v) => [[{ name: 'evil', type: 'symlink', linkname: `${v}/passwd` }, { name: 'hl', type: 'hardlink', linkname: 'evil' }, { name: 'hl', body: 'pwned' }]],
  whClimb: () => [[{ name: '../victim/.wh.passwd' }]],
  opqRoot: () => [[{ name: 'a', body: 'a' }], [{ name: '.wh..wh..opq' }, { name: 'b', body: 'b' }]],
  rootSym: (v) => [[{ name: '.', type: 'symlink', linkname: v }], [{ name: 'passwd', body: 'pwned' }]],
  rootFile: () => [[{ name: './', body: 'x' }, { name: 'x', body: 'x' }]],
  backslash: () => [[{ name: '..\\victim\\passwd', body: 'pwned' }]],
  empty: () => [[{ name: '', body: 'x' }, { name: 'y', body: 'y' }]],
  long3000: () => [[{ name: Array.from({ length: 15 }, () => 'a'.repeat(199)).join('/'), body: 'x' }]],
  long4090: () => [[{ name: Array.from({ length: 20 }, () => 'a'.repeat(203)).join('/') + '/bbbbbbbbbbbbbbbbbbbbbbbbbbbbb', body: 'x' }]],
  longComponent: () => [[{ name: 'a'.repeat(300), body: 'x' }]],
};

for (const [name, layers] of Object.entries(cases)) {
  it(name, async () => {
    const j = await makeJail();
    const input = await writeImage(j.input, 'img.tar', layers(j.victim).map(rawLayer));
    const before = await snapshot(j);
    const f = await stratum(['flatten', input, j.out, '--store', j.store, '-q']);
    let tree = '';
    try {
      tree = (await manifestOfDir(j.out)).map((r) => `${r.path} ${r.type}${r.link ? ` -> ${r.link}` : ''}`).join(', ');
    } catch {}
    const e = await stratum(['export', input, j.outTar, '--store', path.join(j.root, 'store'), '-q']);
    console.log(`${name}: flatten ${f.code} ${f.stderr.trim()} | ${tree.slice(0, 300)} | export ${e.code} ${e.stderr.trim()}`);
    await expectUntouched(j, before);
    await removeJail(j);
  });
}
