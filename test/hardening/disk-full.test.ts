// The filesystem says no: a disk that fills up (a 2 MiB tmpfs, mounted by the test as root), an unreadable input,
// an unwritable store or output directory. Each is one line naming the problem, exit 1, and whatever was half
// written is removed. Mounting needs root, so does running the CLI as another user to make permissions bite
// (root ignores them); without root those tests say SKIPPED on the console instead of passing silently.
import { execFileSync, spawnSync } from 'node:child_process';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from '../helpers/archive-builder.js';
import { expectOneLineRefusal, expectStoreUnchanged, storeState, stratum } from '../helpers/jail.js';
import { writeMediumImage } from '../helpers/medium-image.js';

const ROOT = process.getuid?.() === 0;
/** Who the CLI runs as for the permission tests: nobody when we are root, ourselves otherwise. */
const NOBODY = 65534;
const as = ROOT ? { uid: NOBODY, gid: NOBODY } : {};

let root: string;
let image: string;
const mounts: string[] = [];

/** A 2 MiB tmpfs at dir, or undefined (with a loud SKIPPED) when this process cannot mount. */
function smallDisk(dir: string, what: string): boolean {
  if (!ROOT) {
    console.warn(`SKIPPED: ${what}: mounting a small tmpfs needs root`);
    return false;
  }
  const r = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=2m,mode=0755', 'tmpfs', dir], { encoding: 'utf8' });
  if (r.status !== 0) {
    console.warn(`SKIPPED: ${what}: mount -t tmpfs failed: ${r.stderr.trim()}`);
    return false;
  }
  mounts.push(dir);
  return true;
}

beforeAll(async () => {
  root = await tempDir('stratum-diskfull-');
  await fs.chmod(root, 0o755);
  // About 4 MiB of file content: twice what the small disk holds.
  image = (await writeMediumImage(root, 1000)).file;
  await fs.chmod(image, 0o644);
}, 60_000);

afterAll(async () => {
  for (const m of mounts.reverse()) spawnSync('umount', ['-l', m]);
  await fs.rm(root, { recursive: true, force: true });
});

describe('disk full', () => {
  it('flatten into a filesystem that fills up: one line (ENOSPC), the partial output removed', async () => {
    const small = path.join(root, 'small-out');
    await fs.mkdir(small);
    if (!smallDisk(small, 'flatten onto a full disk')) return;
    const r = await stratum(['flatten', image, path.join(small, 'out'), '--store', path.join(root, 'store-1'), '-q']);
    expectOneLineRefusal(r, /no space left on device/);
    expect(await fs.readdir(small), 'partial output or staging left on the full disk').toEqual([]);
  });

  it('export to a file on a filesystem that fills up: one line, no partial file', async () => {
    const small = path.join(root, 'small-tar');
    await fs.mkdir(small);
    if (!smallDisk(small, 'export onto a full disk')) return;
    const r = await stratum(['export', image, path.join(small, 'out.tar'), '--store', path.join(root, 'store-2'), '-q']);
    expectOneLineRefusal(r, /no space left on device|ENOSPC/);
    expect(await fs.readdir(small)).toEqual([]);
  });

  it('import into a store on a filesystem that fills up: one line, the store as it was, its tmp/ empty', async () => {
    const small = path.join(root, 'small-store');
    await fs.mkdir(small);
    if (!smallDisk(small, 'import into a full store')) return;
    const store = path.join(small, 'store');
    expect((await stratum(['images', '--store', store])).code).toBe(0);
    const before = await storeState(store);
    const r = await stratum(['import', image, '--store', store, '-q']);
    expectOneLineRefusal(r, /no space left on device|ENOSPC/);
    await expectStoreUnchanged(store, before);
    expect(await fs.readdir(path.join(store, 'tmp'))).toEqual([]);
  });
});

describe('permissions', () => {
  if (!ROOT) console.warn('SKIPPED (partly): permission tests run the CLI as ourselves; as root they run it as uid 65534');

  it('an unreadable input: one line (permission denied), nothing created', async () => {
    const dir = path.join(root, 'unreadable');
    await fs.mkdir(dir, { mode: 0o777 });
    await fs.chmod(dir, 0o777);
    const input = path.join(dir, 'image.tar');
    await fs.copyFile(image, input);
    await fs.chmod(input, 0o000);
    const r = await stratum(['flatten', input, path.join(dir, 'out'), '--store', path.join(dir, 'store'), '-q'], as);
    expectOneLineRefusal(r, /permission denied/);
    expect((await fs.readdir(dir)).sort()).toEqual(['image.tar', 'store']);
  });

  it('an unwritable store directory: one line (permission denied or read-only), nothing created', async () => {
    const store = path.join(root, 'locked-store');
    await fs.mkdir(store, { mode: 0o755 });
    await fs.chmod(store, 0o555);
    const r = await stratum(['import', image, '--store', store, '-q'], as);
    if (ROOT && r.code === 0) throw new Error('ran as root after all: the test cannot show anything');
    expectOneLineRefusal(r, /permission denied|read-only/);
    expect(await fs.readdir(store)).toEqual([]);
  });

  it('a store on a read-only mount (root too is refused): one line, nothing changed', async () => {
    if (!ROOT) return void console.warn('SKIPPED: read-only bind mount of a store needs root');
    const store = path.join(root, 'ro-store');
    expect((await stratum(['images', '--store', store])).code).toBe(0);
    const before = await storeState(store);
    execFileSync('mount', ['--bind', store, store]);
    mounts.push(store);
    execFileSync('mount', ['-o', 'remount,bind,ro', store]);
    const r = await stratum(['import', image, '--store', store, '-q']);
    expectOneLineRefusal(r, /read-only filesystem|EROFS/);
    await expectStoreUnchanged(store, before);
  });

  it('an OUT whose parent is not writable: one line, no staging directory', async () => {
    const parent = path.join(root, 'locked-parent');
    await fs.mkdir(parent, { mode: 0o755 });
    await fs.chmod(parent, 0o555);
    const store = path.join(root, 'nobody-store');
    await fs.mkdir(store, { mode: 0o777 });
    await fs.chmod(store, 0o777);
    const r = await stratum(['flatten', image, path.join(parent, 'out'), '--store', store, '-q'], as);
    if (ROOT && r.code === 0) throw new Error('ran as root after all: the test cannot show anything');
    expectOneLineRefusal(r, /permission denied/);
    expect(await fs.readdir(parent)).toEqual([]);
  });
});
