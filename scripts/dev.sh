#!/usr/bin/env bash
# dev.sh — the main job for a developer: build the plugin, start a dev server
# on loopback with the plugin registered (SHA256 + version) and mounted at
# crypto/, print how to use it, and stay in the foreground until Ctrl-C.
#
#   DEV_LISTEN   listen address (default 127.0.0.1:8200)
#   DEV_TOKEN    dev root token (default "root"; a dev server keeps everything in memory)
#   VAULT_BIN    server binary (default: .tools/bin/bao, else bao/vault on PATH,
#                else OpenBao is installed into .tools/ by scripts/install-bao.sh)
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=lib.sh
. "$SCRIPT_DIR/lib.sh"

ROOT="$HA_REPO_ROOT"
LISTEN="${DEV_LISTEN:-127.0.0.1:8200}"
TOKEN="${DEV_TOKEN:-root}"
DEV_DIR="$ROOT/.dev"
PLUGIN=vault-plugin-crypto

case "$LISTEN" in
    127.*:*|localhost:*) ;;
    *) err "DEV_LISTEN must be a loopback address (got $LISTEN)" ;;
esac

crate_version() {
    # The workspace version is the one the plugin reports (as v<version>).
    sed -n '/^\[workspace.package\]/,/^\[/s/^version *= *"\(.*\)"/\1/p' "$ROOT/Cargo.toml" | head -n 1
}

main() {
    need_cmd cargo curl sha256sum
    log "building $PLUGIN"
    (cd "$ROOT" && cargo build --quiet -p vault-plugin-crypto)
    local bin
    bin="$("$SCRIPT_DIR/install-bao.sh")"

    mkdir -p "$DEV_DIR/plugins"
    # Install by rename: a running plugin file cannot be overwritten (ETXTBSY).
    cp "$ROOT/target/debug/$PLUGIN" "$DEV_DIR/plugins/.$PLUGIN.new"
    mv -f "$DEV_DIR/plugins/.$PLUGIN.new" "$DEV_DIR/plugins/$PLUGIN"
    printf 'plugin_directory = "%s"\n' "$DEV_DIR/plugins" >"$DEV_DIR/config.hcl"

    local pidfile="$DEV_DIR/server.pid" logfile="$DEV_DIR/server.log"
    if pid_alive "$pidfile" server; then
        err "a dev server from an earlier run is still running (PID $(<"$pidfile")); stop it first"
    fi
    : >"$logfile"
    pid_start "$pidfile" "$logfile" "$bin" server -dev \
        "-dev-root-token-id=$TOKEN" "-dev-listen-address=$LISTEN" -dev-no-store-token \
        "-config=$DEV_DIR/config.hcl" >/dev/null
    # Stop the server we started (by its PID) however this script ends.
    trap 'pid_stop "$pidfile" server 20 || true' EXIT
    trap 'log "stopping"; exit 0' INT TERM

    export VAULT_ADDR="http://$LISTEN" BAO_ADDR="http://$LISTEN"
    export VAULT_TOKEN="$TOKEN" BAO_TOKEN="$TOKEN"
    if ! wait_until 30 "the dev server to answer" curl -sf "$VAULT_ADDR/v1/sys/health"; then
        tail -n 20 "$logfile" >&2
        err "the dev server did not start (log: $logfile)"
    fi

    local version sha
    version="v$(crate_version)"
    sha="$(sha256_of "$DEV_DIR/plugins/$PLUGIN")"
    "$bin" plugin register -sha256="$sha" -version="$version" secret "$PLUGIN" >&2
    "$bin" secrets enable -path=crypto -plugin-version="$version" "$PLUGIN" >&2

    cat <<MSG

The crypto/ engine ($PLUGIN $version) is mounted on a dev server (in memory; data is lost on exit).

    export VAULT_ADDR=$VAULT_ADDR BAO_ADDR=$VAULT_ADDR
    export VAULT_TOKEN=$TOKEN BAO_TOKEN=$TOKEN

Try:
    $bin write crypto/wallets/demo words=12
    $bin read crypto/wallets/demo/addresses/ethereum
    $bin path-help crypto/wallets/demo

Server log: $logfile. Press Ctrl-C to stop.
MSG
    # Foreground until the server exits or Ctrl-C.
    local pid
    pid="$(<"$pidfile")"
    while pid_alive "$pidfile" server; do
        wait "$pid" 2>/dev/null || sleep 1
    done
    log "the dev server exited (log: $logfile)"
}

main "$@"
