// What `stratum diff` must report for stratum-sample v1 → v2 (samples/README.md), written out in full.
// File contents are rebuilt here from make-samples.sh, so their hashes and sizes are checked against
// the script that made the images, not against stratum's own output.
import { createHash } from 'node:crypto';

const sha = (t: string): string => createHash('sha256').update(t).digest('hex');

const stanza = (name: string, version: string, size: number, description: string): string =>
  `Package: ${name}\nStatus: install ok installed\nPriority: optional\nSection: misc\nInstalled-Size: ${size}\n` +
  `Maintainer: Stratum Samples <samples@example.invalid>\nArchitecture: amd64\nVersion: ${version}\nDescription: ${description}\n\n`;

export const DPKG_V1 =
  stanza('base-files', '12.4+deb12u5', 396, 'Debian base system miscellaneous files') +
  stanza('hello', '2.10-3', 280, 'example package based on GNU hello') +
  stanza('tzdata', '2024a-0+deb12u1', 3000, 'time zone and daylight-saving time data');
export const DPKG_V2 = DPKG_V1.replace('Version: 2024a-0+deb12u1', 'Version: 2025b-0+deb12u1') + stanza('jq', '1.6-2.1', 102, 'lightweight and flexible command-line JSON processor');
/** layer1 wrote greeting=hello; layer2's sed made it bonjour; layer_v2 rewrote the file. */
export const APP_CONF_V1 = '# app configuration\ngreeting=bonjour\nworkers=2\n';
export const APP_CONF_V2 = '# app configuration (v2)\ngreeting=hallo\nworkers=4\nfeature=x\n';

export const DIFF_IDS = [
  'sha256:1eac612c6739ebbb6e96d2b0534c1fa09c3df436eb02f950f633a6bb7a9ba82a',
  'sha256:98e38ad8627c94c7694298ab0d493ac67ebaa06af91ac8e5263a202d93ab9d4e',
  'sha256:98cc925523f059bf538a185da9cbe1c651c3db83f6073f10be4d6d0346f33c9a',
  'sha256:ecb339f994030400a88fc7faab6d4e792e53dcc0747d86ca7a034fd636c3aa21',
];
const STEPS = [
  'make-samples.sh layer1: base rootfs',
  'make-samples.sh layer2: deletions, opaque dir, type changes',
  'make-samples.sh layer3: COPY app/ /opt/app/',
  'make-samples.sh layer_v2: app 2.0',
];
const V1_EMPTY = ['/bin/sh -c #(nop) ENV APP_MODE=prod APP_VERSION=1.0 ENTRYPOINT CMD WORKDIR USER EXPOSE', '/bin/sh -c #(nop) LABEL org.opencontainers.image.version=1'];
const V2_EMPTY = ['/bin/sh -c #(nop) ENV APP_VERSION=2.0 APP_FEATURE=x CMD ["--serve","--verbose"]', '/bin/sh -c #(nop) LABEL org.opencontainers.image.version=2'];

export interface SampleFormat {
  old: { ref: string; name: string; manifestDigest: string };
  new: { ref: string; name: string; manifestDigest: string };
  /** The stored blob of each of the 4 layers: digest, size, mediaType. */
  blobs: { digest: string; size: number; mediaType: string }[];
}

const TAR = 'application/vnd.oci.image.layer.v1.tar';
const GZIP = 'application/vnd.oci.image.layer.v1.tar+gzip';

export const DOCKER: SampleFormat = {
  old: { ref: 'samples/docker-archive.tar', name: 'docker.io/library/stratum-sample:v1', manifestDigest: 'sha256:30959c6b00e2b31c4ea67e267e30f6fcc783e4d4444720e71e73e295c32e94ac' },
  new: { ref: 'samples/docker-archive-v2.tar', name: 'docker.io/library/stratum-sample:v2', manifestDigest: 'sha256:c41753dedb53cb74f45c51631c10faeab671ae677f46c90b2c1d9f864b709be4' },
  // docker-archive layers are plain tars: the blob digest is the diffID
  blobs: [168960, 18944, 8704, 11776].map((size, i) => ({ digest: DIFF_IDS[i], size, mediaType: TAR })),
};

export const OCI: SampleFormat = {
  old: { ref: 'samples/oci-archive-gzip.tar', name: 'v1', manifestDigest: 'sha256:06709b79e11193e5dd2a9005f53863c1f98cc497f6453731c07bb3fb011b2247' },
  new: { ref: 'samples/oci-archive-v2.tar', name: 'v2', manifestDigest: 'sha256:8069099fabb5ae4660fddc9845b436563d907e86f9f2b39cb2c84585dff2b208' },
  blobs: [
    { digest: 'sha256:9244cee54cb5fecd1a2a83b90b34d213a0643d45f47223fc5f78e960dd0fbacb', size: 46810, mediaType: GZIP },
    { digest: 'sha256:fdbd79fe487cb62c69e267e896dacd3ae7de6934989199794a4829942d98d2ab', size: 864, mediaType: GZIP },
    { digest: 'sha256:aa90e0b0644b30819d4dc071c1627c1f396db7eb1189fb63c189a1d903d18432', size: 460, mediaType: GZIP },
    { digest: 'sha256:df39f270e8f71872d7bde65c41c12a89aa18748b44ea5e9f4579ca5ba8cbb03a', size: 954, mediaType: GZIP },
  ],
};

const side = (f: SampleFormat, i: number) => ({ position: i, ...f.blobs[i], diffID: DIFF_IDS[i], createdBy: STEPS[i] });
const byV2 = { side: 'new', layer: 3, diffID: DIFF_IDS[3], createdBy: STEPS[3] };
const byL3 = { side: 'old', layer: 2, diffID: DIFF_IDS[2], createdBy: STEPS[2] };
const step = (index: number, createdBy: string, emptyLayer: boolean) => ({ index, createdBy, emptyLayer });
const v1Steps = [...STEPS.slice(0, 3).map((s, i) => step(i, s, false)), ...V1_EMPTY.map((s, i) => step(3 + i, s, true))];

export function expectedJson(f: SampleFormat) {
  const image = (s: SampleFormat['old'], configDigest: string, layers: number) => ({ ref: s.ref, names: [s.name], manifestDigest: s.manifestDigest, configDigest, platform: 'linux/amd64', layers });
  return {
    schemaVersion: 1,
    old: image(f.old, 'sha256:62371f96548de3c1a2b83687c0d30a6ea6e8301f7619ac19fd65d2b9a4cd367f', 3),
    new: image(f.new, 'sha256:dab9859ddd2954236c375911d4c014cfc5a8ff327ff6a267aec94ca98f50f030', 4),
    identical: false,
    sections: ['layers', 'files', 'config', 'history', 'packages'],
    summary: {
      layers: { shared: 3, oldOnly: 0, newOnly: 1, recompressed: 0 },
      files: { added: 1, removed: 3, modified: 4, typeChanged: 0, sizeDelta: 253 },
      config: 4,
      history: { inserted: 3, removed: 0, changed: 0 },
      packages: { added: 1, removed: 0, changed: 1 },
    },
    layers: {
      rows: [0, 1, 2].map((i) => ({ status: 'shared', old: side(f, i), new: side(f, i), recompressed: false })).concat([{ status: 'new-only', new: side(f, 3), recompressed: false } as never]),
      shared: 3,
      oldOnly: 0,
      newOnly: 1,
      recompressed: 0,
      commonBase: 3,
    },
    files: [
      { status: 'M', path: '/etc/app/app.conf', kind: { old: 'file', new: 'file' }, size: { old: APP_CONF_V1.length, new: APP_CONF_V2.length }, details: [{ field: 'content', old: sha(APP_CONF_V1), new: sha(APP_CONF_V2) }, { field: 'size', old: 47, new: 60 }], attribution: byV2 },
      { status: 'A', path: '/opt/app/NEW.txt', kind: { new: 'file' }, size: { new: 'new in v2\n'.length }, details: [], attribution: byV2 },
      { status: 'M', path: '/opt/app/config.json', kind: { old: 'file', new: 'file' }, size: { old: 55, new: 55 }, details: [{ field: 'uid', old: 0, new: 1000 }, { field: 'gid', old: 0, new: 1000 }], attribution: byV2 },
      { status: 'D', path: '/opt/app/old-data', kind: { old: 'dir' }, size: { old: 0 }, details: [], attribution: byL3 },
      { status: 'D', path: '/opt/app/old-data/1.txt', kind: { old: 'file' }, size: { old: 'old data 1\n'.length }, details: [], attribution: byL3 },
      { status: 'D', path: '/opt/app/old-data/2.txt', kind: { old: 'file' }, size: { old: 'old data 2\n'.length }, details: [], attribution: byL3 },
      { status: 'M', path: '/opt/app/run.sh', kind: { old: 'file', new: 'file' }, size: { old: 74, new: 74 }, details: [{ field: 'mode', old: '0755', new: '0750' }], attribution: byV2 },
      { status: 'M', path: '/var/lib/dpkg/status', kind: { old: 'file', new: 'file' }, size: { old: DPKG_V1.length, new: DPKG_V2.length }, details: [{ field: 'content', old: sha(DPKG_V1), new: sha(DPKG_V2) }, { field: 'size', old: 739, new: 991 }], attribution: byV2 },
    ],
    size: {
      old: 111903,
      new: 112156,
      delta: 253,
      byTopLevel: [
        ['/var', 739, 991],
        ['/etc', 241, 254],
        ['/opt', 151, 139],
        ...['/data:17', '/del:5', '/hl:46', '/home:9', '/long:20', '/opq:4', '/ro-dir:23', '/tc:28', '/uni:21', '/usr:110599'].map((x) => [x.split(':')[0], Number(x.split(':')[1]), Number(x.split(':')[1])]),
      ].map(([path, o, n]) => ({ path, old: o, new: n, delta: (n as number) - (o as number) })),
      largest: [
        { path: '/var/lib/dpkg/status', status: 'M', old: 739, new: 991, delta: 252 },
        { path: '/etc/app/app.conf', status: 'M', old: 47, new: 60, delta: 13 },
        { path: '/opt/app/old-data/1.txt', status: 'D', old: 11, new: 0, delta: -11 },
        { path: '/opt/app/old-data/2.txt', status: 'D', old: 11, new: 0, delta: -11 },
        { path: '/opt/app/NEW.txt', status: 'A', old: 0, new: 10, delta: 10 },
      ],
    },
    config: [
      { field: 'env', key: 'APP_FEATURE', change: 'added', old: null, new: 'x' },
      { field: 'env', key: 'APP_VERSION', change: 'changed', old: '1.0', new: '2.0' },
      { field: 'cmd', change: 'changed', old: ['--serve'], new: ['--serve', '--verbose'] },
      { field: 'labels', key: 'org.opencontainers.image.version', change: 'changed', old: '1', new: '2' },
    ],
    history: [
      ...v1Steps.map((s) => ({ op: 'same', old: s, new: s })),
      { op: 'inserted', new: step(5, STEPS[3], false) },
      { op: 'inserted', new: step(6, V2_EMPTY[0], true) },
      { op: 'inserted', new: step(7, V2_EMPTY[1], true) },
    ],
    packages: [
      { ecosystem: 'dpkg', name: 'jq', change: 'added', old: null, new: '1.6-2.1' },
      { ecosystem: 'dpkg', name: 'tzdata', change: 'changed', old: '2024a-0+deb12u1', new: '2025b-0+deb12u1' },
    ],
    content: null,
    warnings: [],
  };
}

/** The human report, colors off (stdout is not a terminal in tests). */
export function expectedHuman(f: SampleFormat, sizes: string[]): string {
  const [o, n] = [f.old, f.new];
  const v2 = '[layer 4: make-samples.sh layer_v2: app 2.0]';
  return `differ: layers 3 shared, 0 only in old, 1 only in new; files 1 added, 3 removed, 4 modified (+253 B); config 4 changes; history 3 inserted; packages 1 added, 1 changed
old: ${o.ref} ${o.name} ${o.manifestDigest.slice(7, 19)} linux/amd64, 3 layers
new: ${n.ref} ${n.name} ${n.manifestDigest.slice(7, 19)} linux/amd64, 4 layers

Layers: 3 shared, 0 only in old, 1 only in new: base unchanged, 1 layer added on top
  = 1=1   1eac612c6739  ${sizes[0]}  make-samples.sh layer1: base rootfs
  = 2=2   98e38ad8627c  ${sizes[1]}  make-samples.sh layer2: deletions, opaque dir, type changes
  = 3=3   98cc925523f0  ${sizes[2]}  make-samples.sh layer3: COPY app/ /opt/app/
  + 4     ecb339f99403  ${sizes[3]}  make-samples.sh layer_v2: app 2.0

Files: 1 added, 3 removed, 4 modified (+253 B)
  M /etc/app/app.conf  content, size 47 B→60 B  ${v2}
  A /opt/app/NEW.txt  10 B  ${v2}
  M /opt/app/config.json  uid 0→1000, gid 0→1000  ${v2}
  D /opt/app/old-data/  (with 2 entries)  [old layer 3: make-samples.sh layer3: COPY app/ /opt/app/]
  M /opt/app/run.sh  mode 0755→0750  ${v2}
  M /var/lib/dpkg/status  content, size 739 B→991 B  ${v2}

Size: 111.9 kB → 112.2 kB (+253 B)
  by top-level directory:
    /var             739 B → 991 B (+252 B)
    /etc             241 B → 254 B (+13 B)
    /opt             151 B → 139 B (-12 B)
  largest changes:
        +252 B  M /var/lib/dpkg/status
         +13 B  M /etc/app/app.conf
         -11 B  D /opt/app/old-data/1.txt
         -11 B  D /opt/app/old-data/2.txt
         +10 B  A /opt/app/NEW.txt

Config: 4 changes
  + env APP_FEATURE=x
  ~ env APP_VERSION: 1.0 → 2.0
  ~ cmd: ["--serve"] → ["--serve","--verbose"]
  ~ label org.opencontainers.image.version: 1 → 2

History: 3 inserted
    … 5 unchanged steps
  + make-samples.sh layer_v2: app 2.0
  + ENV APP_VERSION=2.0 APP_FEATURE=x CMD ["--serve","--verbose"] (no layer)
  + LABEL org.opencontainers.image.version=2 (no layer)

Packages: 1 added, 1 changed
  + jq 1.6-2.1  dpkg
  ~ tzdata 2024a-0+deb12u1 → 2025b-0+deb12u1  dpkg
`;
}
