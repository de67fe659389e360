#!/bin/bash
# make-samples.sh - build the small sample image archives in this folder with real tools.
#
# WHAT IT MAKES (all in the folder of this script; see README.md for the table)
#   stratum-sample:v1, one small image: 3 filesystem layers + 2 config-only (empty_layer) history entries.
#     layer 1 "base":    merged-usr rootfs (bin -> usr/bin, lib -> usr/lib, sbin -> usr/sbin), a tiny static
#                        ELF /usr/bin/hello (+ setuid copy), /etc files (one with xattr user.comment),
#                        dpkg status, hardlinks, relative/absolute/dangling symlinks, a read-only dir
#                        with a file, UTF-8 names, a >100-char path and a >100-char file name, an empty
#                        file and dir, and bait trees that the next layer deletes or changes type of;
#     layer 2 "changes": deleted file, deleted directory, opaque directory (rm -rf + mkdir, which
#                        overlayfs/containers-storage record as .wh..wh..opq), file->dir, dir->file,
#                        dir->symlink, symlink->file, a file written through the lib -> usr/lib symlink
#                        (recorded under usr/lib/), a new hardlink to a lower-layer file (copy-up),
#                        an edit of the xattr'd file;
#     layer 3 "app":     /opt/app (config, script, a dir that v2 removes), /home/app owned by 1000;
#     config:            Env, Entrypoint, Cmd, WorkingDir, User, Labels, ExposedPorts set by `umoci config`
#                        (each call appends an empty_layer history entry).
#   stratum-sample:v2, v1 + 1 layer (edited /etc/app/app.conf, removed /opt/app/old-data, chmod, chown,
#     a package added to and one upgraded in /var/lib/dpkg/status) + changed Env, Cmd and label.
#   Exports: OCI layout (gzip), OCI layout with mixed layer codecs (gzip/zstd/none), oci-archive (gzip,
#   zstd), docker-archive (plain and gzipped), v2 as docker-archive and oci-archive, a docker-archive
#   holding both images (podman save -m), and a 2-platform OCI index (buildah manifest).
#
# HOW
#   Layers are made by buildah with the overlay storage driver (its differ is the kernel's overlayfs
#   upper dir, as with Docker's overlay2: it writes opaque markers and keeps hardlinks); `buildah commit
#   --timestamp` pins every mtime and the history dates. The config is finished by `umoci config` on the
#   OCI layout that skopeo exports; every other export is made by skopeo (or podman) from that layout.
#   The /usr/bin/hello binary is a 536-byte static x86-64 program compiled here by gcc from the C source
#   below (busybox-static is 2 MB, ~1 MB gzipped, and would put this folder at ~13 MB); run with
#   BUSYBOX=1 to use /bin/busybox from busybox-static instead (and /usr/bin/sh -> busybox).
#
# USAGE   sudo ./make-samples.sh            (root; needs buildah, skopeo, umoci, podman, gcc, attr, jq, gzip)
#         OUT=/somewhere ./make-samples.sh  (default OUT: this folder; WORK: /tmp/stratum-samples)
# Reproducible as far as the tools allow: file mtimes and history/config dates are fixed; the digests
# depend on the versions of buildah/containers-storage (layer tar bytes), the gzip/zstd encoders of
# containers/image and gcc. Made with Debian bookworm: buildah 1.28.2, skopeo 1.9.3, umoci 0.4.7,
# podman 4.3.1, gcc 12.2.0.
set -euo pipefail
export LC_ALL=C.UTF-8 TZ=UTC
umask 022
HERE=$(cd "$(dirname "$0")" && pwd)
OUT=${OUT:-$HERE}
WORK=${WORK:-/tmp/stratum-samples}
TS1=1704067200   # 2024-01-01T00:00:00Z, v1 layers
TS2=1706745600   # 2024-02-01T00:00:00Z, v2 layer
D1=2024-01-01T00:00:00Z; D2=2024-02-01T00:00:00Z
NAME=localhost/stratum-sample
S=(--root "$WORK/storage" --runroot "$WORK/run" --storage-driver overlay)
CS="containers-storage:[overlay@$WORK/storage+$WORK/run]"

[ "$(id -u)" = 0 ] || { echo "run as root" >&2; exit 1; }
log() { echo "== $*" >&2; }

# ------------------------------------------------------------------ clean start
if [ -d "$WORK" ]; then
    buildah "${S[@]}" rm --all > /dev/null 2>&1 || true
    findmnt -rn -o TARGET | grep "^$WORK/" | sort -r | xargs -r umount -l || true
    rm -rf "$WORK"
fi
mkdir -p "$WORK"
rm -rf "$OUT/oci-layout-gzip" "$OUT/oci-layout-mixed" "$OUT/oci-layout-mislabeled" "$OUT/multiarch" \
       "$OUT/oci-archive-gzip.tar" "$OUT/oci-archive-zstd.tar" "$OUT/docker-archive.tar" \
       "$OUT/docker-archive.tar.gz" "$OUT/docker-archive-v2.tar" "$OUT/oci-archive-v2.tar" "$OUT/multi-image.tar"

# ------------------------------------------------------------------ the binary
if [ "${BUSYBOX:-0}" = 1 ]; then
    BIN=/bin/busybox; BIN_NAME=busybox
else
    cat > "$WORK/hello.c" << 'EOF'
/* stratum sample binary: a static x86-64 Linux program without libc */
static const char msg[] = "hello from stratum-sample\n";
void _start(void) {
    long r;
    __asm__ volatile ("syscall" : "=a"(r) : "a"(1L), "D"(1L), "S"(msg), "d"(sizeof msg - 1) : "rcx", "r11", "memory");
    __asm__ volatile ("syscall" : : "a"(60L), "D"(0L) : "rcx", "r11", "memory");
    for (;;) {}
}
EOF
    gcc -Os -static -nostdlib -fno-asynchronous-unwind-tables -fno-ident -Wl,--build-id=none -Wl,-n -s \
        -o "$WORK/hello" "$WORK/hello.c"
    BIN=$WORK/hello; BIN_NAME=hello
fi

# ------------------------------------------------------------------ layer contents
L40=$(printf 'd%.0s' {1..40})                 # long/<40>/<40>/<40>/<file>: a path of 150+ chars
F120=$(printf 'f%.0s' {1..116}).txt           # a 120-char file name

dpkg_stanza() {  # dpkg_stanza NAME VERSION SIZE DESCRIPTION
    printf 'Package: %s\nStatus: install ok installed\nPriority: optional\nSection: misc\nInstalled-Size: %s\nMaintainer: Stratum Samples <samples@example.invalid>\nArchitecture: amd64\nVersion: %s\nDescription: %s\n\n' \
        "$1" "$3" "$2" "$4"
}

layer1() {  # base rootfs in $1
    local r=$1; cd "$r"
    mkdir -p usr/bin usr/sbin usr/lib usr/share/sample etc/app var/lib/dpkg tmp root home
    ln -s usr/bin bin; ln -s usr/lib lib; ln -s usr/sbin sbin          # merged /usr, relative symlinks
    chmod 1777 tmp; chmod 0700 root
    install -m 0755 "$BIN" "usr/bin/$BIN_NAME"
    ln -s "$BIN_NAME" usr/bin/sh
    install -m 4755 "$BIN" usr/bin/su-hello                            # setuid root
    install -m 2755 -g 42 "$BIN" usr/bin/sg-hello                      # setgid (gid 42 shadow)
    printf 'root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000:app:/home/app:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n' > etc/passwd
    printf 'root:x:0:\nshadow:x:42:\napp:x:1000:\nnogroup:x:65534:\n' > etc/group
    printf 'PRETTY_NAME="Stratum Sample 1"\nNAME="Stratum Sample"\nID=stratum-sample\nVERSION_ID=1\n' > usr/lib/os-release
    ln -s ../usr/lib/os-release etc/os-release                         # relative symlink into /usr
    echo 'stratum-sample' > etc/hostname
    printf '# app configuration\ngreeting=hello\nworkers=2\n' > etc/app/app.conf
    setfattr -n user.comment -v 'sample config, kept by overlay copy-up' etc/app/app.conf
    { dpkg_stanza base-files 12.4+deb12u5 396 'Debian base system miscellaneous files'
      dpkg_stanza hello 2.10-3 280 'example package based on GNU hello'
      dpkg_stanza tzdata 2024a-0+deb12u1 3000 'time zone and daylight-saving time data'; } > var/lib/dpkg/status
    seq 1 20000 > usr/share/sample/numbers.txt                         # ~109 KB of text
    # to be deleted by layer 2
    mkdir -p del/dir-to-delete/nested/deeper
    echo 'delete me' > del/file-to-delete.txt; echo keep > del/keep.txt
    echo a > del/dir-to-delete/a.txt; echo b > del/dir-to-delete/nested/deeper/b.txt
    # to be replaced by an opaque directory in layer 2
    mkdir -p opq/sub; echo 1 > opq/old1; echo 2 > opq/old2; echo 3 > opq/sub/old3
    # type changes in layer 2
    mkdir -p tc/dir2file tc/dir2link/inner
    echo file > tc/file2dir; echo z > tc/dir2file/z; echo x > tc/dir2link/x; echo y > tc/dir2link/inner/y
    ln -s ../etc/hostname tc/link2file
    # hardlinks: three names, one inode
    mkdir hl; echo 'one inode, three names' > hl/orig; ln hl/orig hl/link1; ln hl/orig hl/link2
    # symlinks
    mkdir sym
    ln -s ../etc/app/app.conf sym/rel; ln -s /etc/app/app.conf sym/abs
    ln -s /nonexistent/target sym/dangling; ln -s ../usr/share sym/dir-rel
    # read-only directory holding a file (an extractor must create the file before applying 0555)
    mkdir ro-dir; echo 'inside a read-only dir' > ro-dir/file; chmod 0444 ro-dir/file; chmod 0555 ro-dir
    # odd names, long paths, empty things
    mkdir uni; echo 'NFC e-acute' > uni/café.txt; mkdir uni/日本語; echo 'japanese' > uni/日本語/ファイル.txt
    mkdir -p "long/$L40/$L40/$L40"; echo 'long path' > "long/$L40/$L40/$L40/file-at-depth.txt"
    echo 'long name' > "long/$F120"
    mkdir -p data/empty-dir; : > data/empty-file
}

layer2() {  # deletions, opaque dir, type changes
    local r=$1; cd "$r"
    rm del/file-to-delete.txt                                          # -> del/.wh.file-to-delete.txt
    rm -rf del/dir-to-delete                                           # -> del/.wh.dir-to-delete
    rm -rf opq; mkdir opq; echo new > opq/new                          # -> opq/.wh..wh..opq
    rm tc/file2dir; mkdir tc/file2dir; echo child > tc/file2dir/child  # file -> dir
    rm -rf tc/dir2file; echo 'now a file' > tc/dir2file                # dir -> file
    rm -rf tc/dir2link; ln -s ../etc tc/dir2link                       # dir -> symlink
    rm tc/link2file; echo 'now a file' > tc/link2file                  # symlink -> file
    echo 'fake library' > lib/libsample.so.1                           # written through lib -> usr/lib
    ln -s libsample.so.1 usr/lib/libsample.so
    ln hl/orig hl/upper-link                                           # new name for a lower inode (copy-up)
    printf '# app configuration\ngreeting=bonjour\nworkers=2\n' > etc/app/app.conf  # in-place edit: keeps the xattr
    echo 'added in layer 2' > data/layer2.txt
}

layer3() {  # the application
    local r=$1; cd "$r"
    mkdir -p opt/app/old-data home/app
    printf '{"name": "stratum-sample", "port": 8080, "workers": 2}\n' > opt/app/config.json
    printf '#!/bin/sh\necho "stratum sample app $APP_VERSION"\nexec /usr/bin/hello "$@"\n' > opt/app/run.sh
    chmod 0755 opt/app/run.sh
    echo 'old data 1' > opt/app/old-data/1.txt; echo 'old data 2' > opt/app/old-data/2.txt
    echo 'app home' > home/app/.profile; chown -R 1000:1000 home/app; chmod 0750 home/app
}

layer_v2() {  # v2 changes on top of v1
    local r=$1; cd "$r"
    printf '# app configuration (v2)\ngreeting=hallo\nworkers=4\nfeature=x\n' > etc/app/app.conf   # modified (xattr kept)
    rm -rf opt/app/old-data                                            # removed directory
    chmod 0750 opt/app/run.sh                                          # mode change
    chown 1000:1000 opt/app/config.json                                # owner change
    sed -i 's/^Version: 2024a-0+deb12u1$/Version: 2025b-0+deb12u1/' var/lib/dpkg/status   # upgraded package
    dpkg_stanza jq 1.6-2.1 102 'lightweight and flexible command-line JSON processor' >> var/lib/dpkg/status  # added package
    echo 'new in v2' > opt/app/NEW.txt
}

build_layer() {  # build_layer FROM TAG TIMESTAMP CREATED_BY FUNC
    local c m
    c=$(buildah "${S[@]}" from --pull=never "$1"); m=$(buildah "${S[@]}" mount "$c")
    ( "$5" "$m" )
    buildah "${S[@]}" config --created-by "$4" "$c"
    buildah "${S[@]}" commit -q --identity-label=false --timestamp "$3" --rm "$c" "$2" > /dev/null
}

# ------------------------------------------------------------------ v1
log "building $NAME:v1 layers with buildah (overlay)"
c=$(buildah "${S[@]}" from scratch); m=$(buildah "${S[@]}" mount "$c")
( layer1 "$m" )
buildah "${S[@]}" config --os linux --arch amd64 --created-by 'make-samples.sh layer1: base rootfs' "$c"
buildah "${S[@]}" commit -q --identity-label=false --timestamp $TS1 --rm "$c" "$NAME:l1" > /dev/null
sleep 1.1   # safety for size+mtime based differs
build_layer "$NAME:l1" "$NAME:l2" $TS1 'make-samples.sh layer2: deletions, opaque dir, type changes' layer2
sleep 1.1
build_layer "$NAME:l2" "$NAME:l3" $TS1 'make-samples.sh layer3: COPY app/ /opt/app/' layer3

log "finishing the v1 config with umoci config"
L=$OUT/oci-layout-gzip
skopeo copy -q "$CS$NAME:l3" "oci:$L:v1"
umoci config --image "$L:v1" --created $D1 --author 'stratum samples' \
    --config.env 'PATH=/usr/local/bin:/usr/bin:/bin' --config.env APP_MODE=prod --config.env APP_VERSION=1.0 \
    --config.entrypoint /opt/app/run.sh --config.cmd --serve --config.workingdir /opt/app --config.user app \
    --config.exposedports 8080/tcp --config.exposedports 9090/udp \
    --history.created $D1 --history.created_by '/bin/sh -c #(nop) ENV APP_MODE=prod APP_VERSION=1.0 ENTRYPOINT CMD WORKDIR USER EXPOSE'
umoci config --image "$L:v1" --created $D1 \
    --config.label org.opencontainers.image.title=stratum-sample --config.label org.opencontainers.image.version=1 \
    --config.label com.example.tier=backend \
    --history.created $D1 --history.created_by '/bin/sh -c #(nop) LABEL org.opencontainers.image.version=1'
umoci gc --layout "$L"
skopeo copy -q "oci:$L:v1" "$CS$NAME:v1"

# ------------------------------------------------------------------ v2
log "building $NAME:v2"
sleep 1.1
build_layer "$NAME:v1" "$NAME:v2-layer" $TS2 'make-samples.sh layer_v2: app 2.0' layer_v2
V2=$WORK/oci-v2
skopeo copy -q "$CS$NAME:v2-layer" "oci:$V2:v2"
umoci config --image "$V2:v2" --created $D2 --config.env APP_VERSION=2.0 --config.env APP_FEATURE=x \
    --config.cmd --serve --config.cmd --verbose \
    --history.created $D2 --history.created_by '/bin/sh -c #(nop) ENV APP_VERSION=2.0 APP_FEATURE=x CMD ["--serve","--verbose"]'
umoci config --image "$V2:v2" --created $D2 --config.label org.opencontainers.image.version=2 \
    --history.created $D2 --history.created_by '/bin/sh -c #(nop) LABEL org.opencontainers.image.version=2'
umoci gc --layout "$V2"
skopeo copy -q "oci:$V2:v2" "$CS$NAME:v2"

# ------------------------------------------------------------------ exports
log "exporting"
skopeo copy -q "oci:$L:v1" "oci-archive:$OUT/oci-archive-gzip.tar:v1"
skopeo copy -q --dest-compress-format zstd "oci:$L:v1" "oci-archive:$OUT/oci-archive-zstd.tar:v1"
skopeo copy -q "oci:$L:v1" "docker-archive:$OUT/docker-archive.tar:stratum-sample:v1"
gzip -9n < "$OUT/docker-archive.tar" > "$OUT/docker-archive.tar.gz"
skopeo copy -q "oci:$V2:v2" "docker-archive:$OUT/docker-archive-v2.tar:stratum-sample:v2"
skopeo copy -q "oci:$V2:v2" "oci-archive:$OUT/oci-archive-v2.tar:v2"
podman "${S[@]}" save -q -m --format docker-archive -o "$OUT/multi-image.tar" "$NAME:v1" "$NAME:v2"

# mixed codecs: layer 1 gzip, layer 2 zstd, layer 3 uncompressed. skopeo compresses a whole image one way,
# so the blobs come from skopeo (gzip: the layout above; zstd: a zstd copy of it; plain tar: a dir: copy
# with --dest-decompress) and the manifest that mixes them is written with jq; umoci gc drops the rest.
log "oci-layout-mixed"
M=$OUT/oci-layout-mixed
cp -a "$L" "$M"
skopeo copy -q --dest-compress-format zstd "oci:$L:v1" "oci:$WORK/oci-zstd:v1"
skopeo copy -q --dest-decompress "oci:$L:v1" "dir:$WORK/dir-plain"
zl=$(skopeo inspect --raw "oci:$WORK/oci-zstd:v1" | jq -c '.layers[1]')
cp "$WORK/oci-zstd/blobs/sha256/$(jq -r '.digest[7:]' <<< "$zl")" "$M/blobs/sha256/"
pd=$(skopeo inspect --raw "dir:$WORK/dir-plain" | jq -r '.layers[2].digest[7:]')
cp "$WORK/dir-plain/$pd" "$M/blobs/sha256/$pd"
pl=$(jq -nc --arg d "sha256:$pd" --argjson s "$(stat -c %s "$WORK/dir-plain/$pd")" \
    '{mediaType: "application/vnd.oci.image.layer.v1.tar", digest: $d, size: $s}')
skopeo inspect --raw "oci:$L:v1" | jq -c --argjson z "$zl" --argjson p "$pl" '.layers[1] = $z | .layers[2] = $p' \
    | tr -d '\n' > "$WORK/mixed-manifest.json"
md=$(sha256sum < "$WORK/mixed-manifest.json" | cut -d' ' -f1)
cp "$WORK/mixed-manifest.json" "$M/blobs/sha256/$md"
jq -c --arg d "sha256:$md" --argjson s "$(stat -c %s "$WORK/mixed-manifest.json")" \
    '.manifests[0].digest = $d | .manifests[0].size = $s' "$L/index.json" > "$M/index.json"
umoci gc --layout "$M"

# a quirk of skopeo 1.9 (containers/image 5.23), kept as a sample: copying from containers-storage with
# --dest-oci-accept-uncompressed-layers writes plain tar blobs but leaves the media type "tar+gzip".
log "oci-layout-mislabeled"
skopeo copy -q --dest-oci-accept-uncompressed-layers "$CS$NAME:v1" "oci:$OUT/oci-layout-mislabeled:v1"

# ------------------------------------------------------------------ multi-platform index
log "multiarch"
for arch in amd64 arm64; do
    c=$(buildah "${S[@]}" from scratch); m=$(buildah "${S[@]}" mount "$c")
    mkdir -p "$m/etc" "$m/usr/bin"
    echo "$arch" > "$m/etc/arch"; printf 'ID=stratum-multiarch\nVERSION_ID=1\n' > "$m/etc/os-release"
    # only amd64 gets the (x86-64) binary: the arm64 image has text files only
    [ "$arch" = amd64 ] && install -m 0755 "$BIN" "$m/usr/bin/$BIN_NAME"
    variant=(); [ "$arch" = arm64 ] && variant=(--variant v8)
    buildah "${S[@]}" config --os linux --arch "$arch" "${variant[@]}" \
        --cmd "/bin/cat /etc/arch" --label "org.example.arch=$arch" --created-by "make-samples.sh multiarch $arch" "$c"
    buildah "${S[@]}" commit -q --identity-label=false --timestamp $TS1 --rm "$c" "localhost/stratum-multiarch:$arch" > /dev/null
done
buildah "${S[@]}" manifest create localhost/stratum-multiarch:list > /dev/null
for arch in amd64 arm64; do
    buildah "${S[@]}" manifest add localhost/stratum-multiarch:list "containers-storage:localhost/stratum-multiarch:$arch" > /dev/null
done
buildah "${S[@]}" manifest push -q --all --format oci localhost/stratum-multiarch:list "oci:$OUT/multiarch:latest"

# ------------------------------------------------------------------ checks
log "checks"
chmod -R a+rX "$OUT"
for t in oci-layout-gzip:v1 oci-layout-mixed:v1 oci-layout-mislabeled:v1; do
    rm -rf "$WORK/unpack"
    if umoci raw unpack --image "$OUT/$t" "$WORK/unpack" > "$WORK/unpack.log" 2>&1; then
        echo "umoci raw unpack $t: ok, $(find "$WORK/unpack" | wc -l) entries"
    else echo "umoci raw unpack $t: FAILED: $(tail -n1 "$WORK/unpack.log")"; fi
done
for ref in "oci:$OUT/oci-layout-gzip:v1" "oci:$OUT/oci-layout-mixed:v1" "oci:$OUT/oci-layout-mislabeled:v1" "oci-archive:$OUT/oci-archive-gzip.tar" \
           "oci-archive:$OUT/oci-archive-zstd.tar" "docker-archive:$OUT/docker-archive.tar" \
           "docker-archive:$OUT/docker-archive-v2.tar" "oci-archive:$OUT/oci-archive-v2.tar" \
           "docker-archive:$OUT/multi-image.tar:localhost/stratum-sample:v1" "docker-archive:$OUT/multi-image.tar:localhost/stratum-sample:v2" \
           "oci:$OUT/multiarch:latest"; do
    echo "$ref: $(skopeo inspect --raw "$ref" | jq -c '[.layers[]?.mediaType] + [.manifests[]?.platform.architecture]') diff_ids=$(skopeo inspect --config "$ref" | jq -c '[.rootfs.diff_ids[] | .[7:19]]')"
done
rm -rf "$WORK/unpack"
du -sh "$OUT"
