#!/usr/bin/env bash
# install-fuzz.sh — make cargo-fuzz available in the project's .tools/, idempotently.
#
# If $FUZZ_TOOLS_ROOT/bin/cargo-fuzz (default .tools/bin/cargo-fuzz) already reports the pinned
# version, do nothing; otherwise `cargo install --locked` that version there (a few minutes on
# 2 cores). Prints the binary's path on stdout.
#   CARGO_FUZZ_VERSION  (default 0.13.2)
#   FUZZ_TOOLS_ROOT     install root (default <repo>/.tools)
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=lib.sh
. "$SCRIPT_DIR/lib.sh"

ROOT="$HA_REPO_ROOT"
VERSION="${CARGO_FUZZ_VERSION:-0.13.2}"
TOOLS="${FUZZ_TOOLS_ROOT:-$ROOT/.tools}"
BIN="$TOOLS/bin/cargo-fuzz"

# The version a cargo-fuzz binary reports ("cargo-fuzz 0.13.2"), or nothing.
installed_version() {
    [[ -x "$BIN" ]] || return 0
    "$BIN" --version 2>/dev/null | awk '{print $2}'
}

main() {
    if [[ "$(installed_version)" == "$VERSION" ]]; then
        log "cargo-fuzz $VERSION ready: $BIN"
        printf '%s\n' "$BIN"
        return 0
    fi
    need_cmd cargo
    log "installing cargo-fuzz $VERSION into $TOOLS (cargo install --locked)"
    mkdir -p "$TOOLS"
    # Built from the repository root so that rust-toolchain.toml picks the toolchain.
    (cd "$ROOT" && cargo install --quiet --locked --root "$TOOLS" --version "$VERSION" cargo-fuzz) >&2
    [[ "$(installed_version)" == "$VERSION" ]] ||
        err "cargo install did not leave cargo-fuzz $VERSION at $BIN"
    log "cargo-fuzz $VERSION ready: $BIN"
    printf '%s\n' "$BIN"
}

main "$@"
