#!/usr/bin/env bash
# release-test.sh — the release artifact, end to end: build the static musl artifact with
# scripts/release.sh, check it is static, verify SHA256SUMS, register it on a real dev server by
# the SHA256 read from SHA256SUMS, mount it, and use it (create a wallet, sign, verify the
# version it reports is the release version).
#
# usage: scripts/release-test.sh [--reuse]
#   --reuse   use the artifact already in RELEASE_TEST_OUT instead of building (after make release)
# env:     RELEASE_TEST_OUT (default dist), VAULT_BIN, RELEASE_TEST_LISTEN (127.0.0.1:8299)
# Prints "release test: PASS" and exits 0 only when every check held.
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=lib.sh
. "$SCRIPT_DIR/lib.sh"
ROOT="$HA_REPO_ROOT"
OUT="${RELEASE_TEST_OUT:-$ROOT/dist}"
LISTEN="${RELEASE_TEST_LISTEN:-127.0.0.1:8299}"
REUSE=0
[[ "${1:-}" == --reuse ]] && REUSE=1

case "$LISTEN" in
    127.*:*) ;;
    *) err "RELEASE_TEST_LISTEN must be a loopback address (got $LISTEN)" ;;
esac

version() {
    sed -n '/^\[workspace.package\]/,/^\[/s/^version *= *"\(.*\)"/\1/p' "$ROOT/Cargo.toml" | head -n 1
}

main() {
    need_cmd readelf sha256sum curl jq
    local v name art bin work t0
    v="$(version)"
    name="vault-plugin-crypto_v${v}_linux_amd64_musl"
    if ((REUSE == 0)); then
        t0="$(now_ms)"
        "$SCRIPT_DIR/release.sh" --target musl --out "$OUT"
        log "musl artifact built in $(fmt_ms $(( $(now_ms) - t0 ))) s"
    fi
    art="$OUT/$name"
    [[ -f "$art" && -f "$OUT/SHA256SUMS" ]] || err "no $name or SHA256SUMS in $OUT (run without --reuse)"

    # Static: no interpreter, no shared library, and it runs with an empty environment.
    ! readelf -l "$art" | grep -q INTERP || err "$name has an ELF interpreter"
    ! readelf -d "$art" 2>/dev/null | grep -q '(NEEDED)' || err "$name needs shared libraries"
    log "static: no INTERP, no NEEDED ($(stat -c %s "$art") bytes)"

    # The checksum file verifies, and names the artifact.
    (cd "$OUT" && sha256sum --quiet -c SHA256SUMS) || err "SHA256SUMS does not verify"
    local sha
    sha="$(awk -v n="$name" '$2 == n || $2 == "*"n {print $1}' "$OUT/SHA256SUMS")"
    [[ "$sha" =~ ^[0-9a-f]{64}$ ]] || err "$name is not listed in SHA256SUMS"

    # A real server with the artifact as its plugin, registered by the published SHA256.
    bin="$(vault_bin)" || bin="$("$SCRIPT_DIR/install-bao.sh")"
    work="$(mktemp -d "${TMPDIR:-/tmp}/release-test.XXXXXX")"
    mkdir "$work/plugins"
    install -m 755 "$art" "$work/plugins/$name"
    printf 'plugin_directory = "%s"\n' "$work/plugins" >"$work/config.hcl"
    pid_start "$work/server.pid" "$work/server.log" "$bin" server -dev -dev-root-token-id=root \
        "-dev-listen-address=$LISTEN" -dev-no-store-token "-config=$work/config.hcl" >/dev/null
    trap 'pid_stop "'"$work"'/server.pid" server 20 || true; rm -rf -- "'"$work"'"' EXIT
    export VAULT_ADDR="http://$LISTEN" BAO_ADDR="http://$LISTEN" VAULT_TOKEN=root BAO_TOKEN=root HOME="$work"
    wait_until 30 "the dev server to answer" curl -sf "$VAULT_ADDR/v1/sys/health" \
        || { tail -n 20 "$work/server.log" >&2; err "the dev server did not start"; }

    "$bin" plugin register -sha256="$sha" -command="$name" -version="v$v" secret vault-plugin-crypto >&2
    "$bin" secrets enable -path=crypto -plugin-version="v$v" vault-plugin-crypto >&2
    local running addr sig
    running="$("$bin" read -format=json sys/mounts/crypto | jq -r '.data.running_plugin_version')"
    [[ "$running" == "v$v" ]] || err "the mount runs $running, not v$v"
    [[ "$("$bin" read -format=json sys/mounts/crypto | jq -r '.data.running_sha256')" == "$sha" ]] \
        || err "the mount does not run the artifact's SHA256"
    "$bin" write -format=json crypto/wallets/release-test words=12 >/dev/null
    addr="$("$bin" read -format=json crypto/wallets/release-test/addresses/ethereum | jq -r '.data.address')"
    sig="$("$bin" write -format=json crypto/wallets/release-test/ethereum/sign-message message=release \
        | jq -r '.data.address + " " + .data.signature')"
    [[ "$addr" =~ ^0x[0-9a-fA-F]{40}$ && "$sig" == "$addr 0x"* ]] || err "signing with the artifact failed: $sig"
    log "registered by SHA256SUMS ($sha), running v$v, signed as $addr"
    echo "release test: PASS ($name, $(stat -c %s "$art") bytes, sha256 $sha)"
}

main "$@"
