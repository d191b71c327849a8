#!/usr/bin/env bash
# setup-ha.sh — build and operate one node of a 3-node Vault/OpenBao raft cluster that runs the
# vault-plugin-crypto secrets engine. Run it on each server (or, natively on one machine, once per
# node directory). See DEPLOY_HA.md for the procedure and scripts/ha/.env.example for settings.
#
# Invariants:
#   * no secret (unseal/recovery key, token) is printed to stdout, logged, or put on a command
#     line: init output goes to a 0600 file, keys are sent to the server through stdin, tokens
#     come from VAULT_TOKEN/BAO_TOKEN or that file and reach the CLI through its environment;
#   * register-plugin/upgrade-plugin touch the catalog only after every node holds the identical
#     binary (same sha256) and every node is unsealed — on OpenBao 2.7.2 a standby that cannot
#     start a mounted plugin panics (protocol.md §9.4);
#   * processes are stopped by the PID recorded at start, never by name; every wait has a deadline.
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=lib.sh
. "$SCRIPT_DIR/lib.sh"
HA_DIR="$SCRIPT_DIR/ha"

usage() {
    cat >&2 <<'EOF'
usage: setup-ha.sh [--env FILE] COMMAND [ARGS]

Settings come from the .env of the node directory the operator names: --env <node dir>/.env, else
$ENV_FILE, else $NODE_DIR/.env (never ./.env of whatever directory the command runs in);
see scripts/ha/.env.example. Commands, in the order of the guide:

  init-dirs                     create config/ data/ tls/ plugins/ logs/ backups/ secrets/ in the node dir
  gen-ca                        (node 1) create tls/ca.pem + tls/ca-key.pem; copy both to the other nodes
  gen-cert                      create tls/key.pem + tls/cert.pem signed by the CA (SANs: FQDN, node id, IPs)
  install-plugin SRC VERSION [FILE]
                                copy a plugin build into plugins/ as FILE (default <PLUGIN_NAME>-<VERSION>),
                                atomically (never overwrites a binary that may be running); prints its sha256
  prepare-config                render config/vault.hcl from the template for SEAL_TYPE
  start | stop                  start/stop this node (native: background process + pid file; docker: compose)
  vault-init                    (node 1) initialise the cluster; keys + root token go to a 0600 file
  vault-unseal                  unseal this node (keys from UNSEAL_KEYS_FILE, or typed in); waits for the join
  register-plugin VERSION [FILE]
                                verify the binary on every node, register it with -sha256/-version, mount it
                                at PLUGIN_MOUNT/, reload it cluster-wide
  upgrade-plugin VERSION [FILE] same checks, register the new version, tune the mount to it, reload globally
  verify-plugin [VERSION|FILE]  compare the plugin binary on every node; show catalog and mount versions
  raft-status [--expect-voters N] [--timeout S]
                                raft peers (node, address, leader/follower, voter); optionally wait for N voters
  status                        health of every node (initialized, sealed, active/standby, version)
  backup                        raft snapshot into BACKUP_DIR (0600, with .sha256); prints its path
  restore FILE [--force] [--yes]
                                restore a raft snapshot into the whole cluster
  step-down                     ask the active node to step down; waits for an active node, prints its URL
  remove-peer NODE_ID [--force] remove a (dead or replaced) node from the raft configuration
  transit-unsealer-setup        (on the unsealer cluster) transit key + policy + periodic token for the
                                transit seal of another cluster; token written to TRANSIT_SEAL_TOKEN_FILE
  logs [ARGS]                   docker mode: docker compose logs of this node (server log + stdout audit log)
  reload                        SIGHUP this node (re-reads TLS certificates and the audit file), native mode
  help                          this text
EOF
}

# --- settings -------------------------------------------------------------------

load_env() {
    local f="${ENV_FILE:-}"
    if [[ -z "$f" && -n "${NODE_DIR:-}" && -f "${NODE_DIR}/.env" ]]; then
        f="${NODE_DIR}/.env"
    fi
    if [[ -n "$f" ]]; then
        [[ -f "$f" ]] || err "env file not found: $f"
        f="$(cd "$(dirname "$f")" && pwd)/$(basename "$f")"
        set -a
        # shellcheck disable=SC1090
        . "$f"
        set +a
        ENV_FILE="$f"
        : "${NODE_DIR:=$(dirname "$f")}"
    fi
    [[ -n "${NODE_DIR:-}" ]] || err "name the node: --env <node dir>/.env (or NODE_DIR=<node dir>); ./.env is not read"
    [[ "$NODE_DIR" == /* ]] || NODE_DIR="$PWD/$NODE_DIR"
    NODE_DIR="${NODE_DIR%/}"

    : "${HA_MODE:=native}"
    [[ -n "${NODE_ID:-}" ]] || err "NODE_ID is not set: give --env <node dir>/.env (see scripts/ha/.env.example)"
    [[ -n "${NODE_IP:-}" ]] || err "NODE_IP is not set (per-node .env)"
    : "${NODE_FQDN:=$NODE_ID}"
    : "${NODE_ADDR:=$NODE_IP}"
    [[ -n "${HA_PEERS:-}" ]] || err "HA_PEERS is not set (e.g. \"node1=10.0.0.1 node2=10.0.0.2 node3=10.0.0.3\")"
    : "${HA_PEER_PLUGIN_DIRS:=}"
    : "${API_PORT:=8200}"
    : "${CLUSTER_PORT:=8201}"
    : "${CLUSTER_NAME:=vault-ha}"
    : "${SEAL_TYPE:=shamir}"
    : "${KEY_SHARES:=5}"
    : "${KEY_THRESHOLD:=3}"
    : "${INIT_KEYS_FILE:=$NODE_DIR/vault-init-keys.json}"
    # The root token is kept apart from the keys, and out of secrets/ (mounted into the container).
    : "${ROOT_TOKEN_FILE:=$NODE_DIR/root-token}"
    : "${UNSEAL_KEYS_FILE:=$INIT_KEYS_FILE}"
    : "${RAFT_PERFORMANCE_MULTIPLIER:=1}"
    : "${LOG_LEVEL:=info}"
    # Must be the same text on every node (see the audit stanza in the templates).
    : "${AUDIT_FILE_PATH:=logs/audit.log}"
    : "${PLUGIN_NAME:=vault-plugin-crypto}"
    : "${PLUGIN_MOUNT:=crypto}"
    PLUGIN_MOUNT="${PLUGIN_MOUNT%/}"
    : "${BACKUP_DIR:=$NODE_DIR/backups}"
    : "${BACKUP_KEEP:=14}"
    : "${CA_DAYS:=3650}"
    : "${CERT_DAYS:=825}"
    : "${CERT_EXTRA_SANS:=}"
    : "${CA_FILE:=$NODE_DIR/tls/ca.pem}"
    : "${START_TIMEOUT:=30}"
    : "${UNSEAL_TIMEOUT:=90}"
    : "${CLUSTER_TIMEOUT:=120}"
    : "${CURL_MAX_TIME:=5}"
    : "${TRANSIT_ADDR:=}"
    : "${TRANSIT_MOUNT:=transit}"
    TRANSIT_MOUNT="${TRANSIT_MOUNT%/}"
    : "${TRANSIT_KEY_NAME:=autounseal}"
    : "${TRANSIT_CA_FILE:=ca.pem}"
    : "${TRANSIT_SEAL_TOKEN_FILE:=$NODE_DIR/secrets/transit-seal-token}"
    : "${AWSKMS_REGION:=}"
    : "${AWSKMS_KEY_ID:=}"
    : "${CONTAINER_NAME:=vault-$NODE_ID}"
    : "${DATA_VOLUME:=vault-$NODE_ID-data}"
    : "${VAULT_IMAGE:=openbao/openbao:2.7.2}"
    : "${VAULT_CMD:=bao}"
    : "${COMPOSE_PROJECT:=vault-ha-$NODE_ID}"
    case "$HA_MODE" in
        native)
            : "${LISTEN_ADDR:=$NODE_IP}"
            SRV_DIR="$NODE_DIR"
            ;;
        docker)
            : "${LISTEN_ADDR:=0.0.0.0}"
            SRV_DIR="/vault"
            ;;
        *) err "HA_MODE must be native or docker, not '$HA_MODE'" ;;
    esac
    case "$SEAL_TYPE" in
        shamir | awskms | transit) ;;
        *) err "SEAL_TYPE must be shamir, awskms or transit, not '$SEAL_TYPE'" ;;
    esac
    [[ "$RAFT_PERFORMANCE_MULTIPLIER" =~ ^([1-9]|10)$ ]] \
        || err "RAFT_PERFORMANCE_MULTIPLIER must be 1..10 (0 is invalid), not '$RAFT_PERFORMANCE_MULTIPLIER'"
    PID_FILE="$NODE_DIR/vault.pid"
    CONFIG_FILE="$NODE_DIR/config/vault.hcl"
    SEAL_CONFIG_FILE="$NODE_DIR/secrets/seal.hcl"
    SERVER_LOG="$NODE_DIR/logs/server.log"
    SELF_URL="https://$NODE_ADDR:$API_PORT"
}

# HA_PEERS: "name=address ..." (address = IP or FQDN that the others and clients dial)
peer_names() {
    local p
    for p in $HA_PEERS; do
        printf '%s\n' "${p%%=*}"
    done
}

peer_addr() {
    local want="$1" p
    for p in $HA_PEERS; do
        if [[ "${p%%=*}" == "$want" ]]; then
            printf '%s\n' "${p#*=}"
            return 0
        fi
    done
    return 1
}

peer_url() {
    local a
    a="$(peer_addr "$1")" || return 1
    printf 'https://%s:%s\n' "$a" "$API_PORT"
}

# --- clients --------------------------------------------------------------------

BIN=""
ensure_bin() {
    if [[ -z "$BIN" ]]; then
        BIN="$(vault_bin)" || err "no vault/bao binary found: set VAULT_BIN, put bao or vault on PATH, or run scripts/install-bao.sh"
    fi
}

flavor() {
    if [[ -n "${VAULT_FLAVOR:-}" ]]; then
        printf '%s\n' "$VAULT_FLAVOR"
    elif [[ "$HA_MODE" == docker ]]; then
        if [[ "$VAULT_CMD" == vault ]]; then printf 'vault\n'; else printf 'openbao\n'; fi
    else
        ensure_bin
        vault_flavor "$BIN"
    fi
}

# vcli URL ARGS... — run the vault/bao CLI against one node. The token, if any, travels in the
# environment (VAULT_TOKEN/BAO_TOKEN, exported by need_token), never on the command line.
vcli() {
    local url="$1"
    shift
    ensure_bin
    VAULT_ADDR="$url" BAO_ADDR="$url" VAULT_CACERT="$CA_FILE" BAO_CACERT="$CA_FILE" "$BIN" "$@"
}

# api_code URL PATH — HTTP status of an unauthenticated GET (000 when unreachable)
api_code() {
    curl -sS -o /dev/null -w '%{http_code}' --max-time "$CURL_MAX_TIME" --cacert "$CA_FILE" \
        "$1$2" 2>/dev/null || true
}

# api_get URL PATH — body of an unauthenticated GET (whatever the status)
api_get() {
    curl -sS --max-time "$CURL_MAX_TIME" --cacert "$CA_FILE" "$1$2" 2>/dev/null
}

# health_code URL: 200 active, 429 standby, 473 perf standby, 501 not initialised, 503 sealed,
# 000 unreachable.
health_code() {
    api_code "$1" /v1/sys/health
}

is_reachable() {
    [[ "$(health_code "$1")" != 000 ]]
}

is_unsealed() {
    local c
    c="$(health_code "$1")"
    [[ "$c" == 200 || "$c" == 429 || "$c" == 473 ]]
}

is_active() {
    [[ "$(health_code "$1")" == 200 ]]
}

# need_token — the operator's token for the CLI: VAULT_TOKEN or BAO_TOKEN, and nothing else. The
# root token that vault-init wrote to ROOT_TOKEN_FILE is never picked up by itself: export it
# deliberately for the setup (export VAULT_TOKEN="$(cat secrets/root-token)"), then revoke it.
need_token() {
    local t="${VAULT_TOKEN:-${BAO_TOKEN:-}}"
    if [[ -z "$t" ]]; then
        if [[ -r "$ROOT_TOKEN_FILE" ]]; then
            err "no token: set VAULT_TOKEN (or BAO_TOKEN). During the setup the root token is in $ROOT_TOKEN_FILE; it is not used unless you export it"
        fi
        err "no token: set VAULT_TOKEN (or BAO_TOKEN)"
    fi
    export VAULT_TOKEN="$t" BAO_TOKEN="$t"
}

_have_token() {
    [[ -n "${VAULT_TOKEN:-${BAO_TOKEN:-}}" ]]
}

# leader_url — api_addr of the current leader, asked of every peer in turn
leader_url() {
    local n u body l
    for n in $(peer_names); do
        u="$(peer_url "$n")"
        body="$(api_get "$u" /v1/sys/leader)" || continue
        l="$(jq -r 'select(.ha_enabled == true) | .leader_address // empty' <<<"$body" 2>/dev/null || true)"
        if [[ -n "$l" ]]; then
            printf '%s\n' "$l"
            return 0
        fi
    done
    return 1
}

need_leader() {
    LEADER="$(leader_url)" || err "no leader found among: $HA_PEERS (are the nodes started and unsealed?)"
}

# --- init-dirs / certificates / config ----------------------------------------------

cmd_init_dirs() {
    local d
    for d in config data tls plugins logs backups secrets; do
        mkdir -p "$NODE_DIR/$d"
    done
    chmod 700 "$NODE_DIR/data" "$NODE_DIR/tls" "$NODE_DIR/backups" "$NODE_DIR/secrets"
    chmod 750 "$NODE_DIR/config" "$NODE_DIR/logs"
    chmod 755 "$NODE_DIR/plugins"
    if [[ "$HA_MODE" == docker && -n "${VAULT_UID:-}" ]]; then
        chown -R "$VAULT_UID:${VAULT_GID:-$VAULT_UID}" "$NODE_DIR/config" "$NODE_DIR/data" \
            "$NODE_DIR/tls" "$NODE_DIR/plugins" "$NODE_DIR/logs" "$NODE_DIR/backups" "$NODE_DIR/secrets"
    fi
    log "node $NODE_ID: directories ready under $NODE_DIR"
    if [[ -z "$(ls -A "$NODE_DIR/plugins")" ]]; then
        log "plugins/ is empty: install the plugin build with 'setup-ha.sh install-plugin FILE VERSION' on every node"
    fi
}

cmd_gen_ca() {
    need_cmd openssl
    local key="$NODE_DIR/tls/ca-key.pem" crt="$NODE_DIR/tls/ca.pem"
    mkdir -p "$NODE_DIR/tls"
    if [[ -f "$crt" || -f "$key" ]]; then
        if [[ "${FORCE:-0}" != 1 ]]; then
            log "CA already present in $NODE_DIR/tls (FORCE=1 to replace it and every certificate it signed)"
            return 0
        fi
    fi
    (umask 077 && openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$key" 2>/dev/null)
    openssl req -x509 -new -key "$key" -sha256 -days "$CA_DAYS" \
        -subj "/CN=${CLUSTER_NAME} cluster CA" \
        -addext "basicConstraints=critical,CA:TRUE,pathlen:0" \
        -addext "keyUsage=critical,keyCertSign,cRLSign" \
        -out "$crt" 2>/dev/null
    chmod 600 "$key"
    chmod 644 "$crt"
    log "CA created: $crt (valid $CA_DAYS days)"
    warn "copy ca.pem and ca-key.pem to the other nodes over a secure channel, run gen-cert there, then keep ca-key.pem offline"
}

_is_ip() {
    [[ "$1" =~ ^[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+$ || "$1" == *:* ]]
}

cmd_gen_cert() {
    need_cmd openssl
    local tls="$NODE_DIR/tls"
    [[ -f "$tls/ca.pem" && -f "$tls/ca-key.pem" ]] \
        || err "need $tls/ca.pem and $tls/ca-key.pem (run gen-ca on node 1 and copy both here)"
    local sans=() s
    sans+=("DNS:$NODE_FQDN")
    [[ "$NODE_ID" == "$NODE_FQDN" ]] || sans+=("DNS:$NODE_ID")
    sans+=("IP:$NODE_IP")
    if [[ "$NODE_ADDR" != "$NODE_IP" && "$NODE_ADDR" != "$NODE_FQDN" ]]; then
        if _is_ip "$NODE_ADDR"; then sans+=("IP:$NODE_ADDR"); else sans+=("DNS:$NODE_ADDR"); fi
    fi
    if [[ "$HA_MODE" == docker && "$CONTAINER_NAME" != "$NODE_FQDN" ]]; then
        sans+=("DNS:$CONTAINER_NAME")
    fi
    if [[ -n "$CERT_EXTRA_SANS" ]]; then
        for s in ${CERT_EXTRA_SANS//,/ }; do
            sans+=("$s")
        done
    fi
    local san_line
    san_line="$(IFS=,; printf '%s' "${sans[*]}")"

    local work
    work="$(mktemp -d "$tls/.gen-cert.XXXXXX")"
    (umask 077 && openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$work/key.pem" 2>/dev/null)
    openssl req -new -key "$work/key.pem" -subj "/CN=$NODE_FQDN" -out "$work/req.csr" 2>/dev/null
    cat >"$work/ext.cnf" <<EOF
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature,keyEncipherment
extendedKeyUsage = serverAuth,clientAuth
subjectAltName = $san_line
EOF
    openssl x509 -req -in "$work/req.csr" -CA "$tls/ca.pem" -CAkey "$tls/ca-key.pem" \
        -CAcreateserial -CAserial "$work/ca.srl" -days "$CERT_DAYS" -sha256 \
        -extfile "$work/ext.cnf" -out "$work/cert.pem" 2>/dev/null
    openssl verify -CAfile "$tls/ca.pem" "$work/cert.pem" >/dev/null \
        || err "the new certificate does not verify against $tls/ca.pem"
    chmod 600 "$work/key.pem"
    chmod 644 "$work/cert.pem"
    mv -f "$work/key.pem" "$tls/key.pem"
    mv -f "$work/cert.pem" "$tls/cert.pem"
    rm -rf -- "$work"
    log "certificate for $NODE_ID: $tls/cert.pem, SANs $san_line (valid $CERT_DAYS days)"
    if pid_alive "$PID_FILE" "$CONFIG_FILE"; then
        log "node is running: 'setup-ha.sh reload' makes it pick up the new certificate"
    fi
}

_retry_join_blocks() {
    local n a out=""
    for n in $(peer_names); do
        a="$(peer_addr "$n")"
        out+="  retry_join {
    leader_api_addr         = \"https://$a:$API_PORT\"
    leader_ca_cert_file     = \"$SRV_DIR/tls/ca.pem\"
    leader_client_cert_file = \"$SRV_DIR/tls/cert.pem\"
    leader_client_key_file  = \"$SRV_DIR/tls/key.pem\"
  }
"
    done
    printf '%s' "${out%$'\n'}"
}

cmd_prepare_config() {
    local tpl="$HA_DIR/vault-$SEAL_TYPE-ha.hcl"
    [[ -d "$NODE_DIR/config" ]] || err "run init-dirs first"
    case "$SEAL_TYPE" in
        awskms)
            [[ -n "$AWSKMS_REGION" && -n "$AWSKMS_KEY_ID" ]] || err "SEAL_TYPE=awskms needs AWSKMS_REGION and AWSKMS_KEY_ID"
            ;;
        transit)
            [[ -n "$TRANSIT_ADDR" ]] || err "SEAL_TYPE=transit needs TRANSIT_ADDR (the unsealer cluster's URL)"
            [[ -f "$NODE_DIR/tls/$TRANSIT_CA_FILE" ]] || warn "tls/$TRANSIT_CA_FILE (CA of the unsealer) not found yet"
            [[ -f "$TRANSIT_SEAL_TOKEN_FILE" ]] || warn "TRANSIT_SEAL_TOKEN_FILE $TRANSIT_SEAL_TOKEN_FILE not found yet (needed by start)"
            ;;
    esac
    local f
    f="$(flavor)"
    # MLOCK_LINE and RETRY_JOIN are read by render_template through ${!var}.
    # shellcheck disable=SC2034
    if [[ "$f" == vault ]]; then
        MLOCK_LINE='disable_mlock    = true   # recommended with integrated storage (raft)'
    else
        MLOCK_LINE='# disable_mlock is not a field of OpenBao 2.7.2 (it would only warn); mlock is not used with raft'
    fi
    # shellcheck disable=SC2034
    RETRY_JOIN="$(_retry_join_blocks)"
    # Docker mode: a second audit device on the server's stdout, so that `docker compose logs`
    # (and the engine's log driver) carries the audit trail too. Every node of a cluster must run
    # in the same mode (the audit table is replicated; the stanzas must be identical).
    # shellcheck disable=SC2034
    if [[ "$HA_MODE" == docker ]]; then
        AUDIT_STDOUT='audit "file" "stdout" {
  description = "the same audit log on stdout: docker compose logs shows it"
  options {
    file_path = "stdout"
  }
}'
    else
        AUDIT_STDOUT='# (docker mode adds an audit device on stdout here)'
    fi
    render_template "$tpl" "$CONFIG_FILE" CLUSTER_NAME NODE_ADDR API_PORT CLUSTER_PORT SRV_DIR \
        LOG_LEVEL MLOCK_LINE LISTEN_ADDR NODE_ID RAFT_PERFORMANCE_MULTIPLIER RETRY_JOIN AUDIT_FILE_PATH AUDIT_STDOUT \
        AWSKMS_REGION AWSKMS_KEY_ID TRANSIT_ADDR TRANSIT_MOUNT TRANSIT_KEY_NAME TRANSIT_CA_FILE
    log "config written: $CONFIG_FILE (template $(basename "$tpl"), $f)"
}

# --- start / stop ---------------------------------------------------------------------

# The compose tool: the v2 plugin (docker compose) if present, else v1 (docker-compose 1.29).
COMPOSE=()
_compose() {
    need_cmd docker
    if ((${#COMPOSE[@]} == 0)); then
        if docker compose version >/dev/null 2>&1; then
            COMPOSE=(docker compose)
        elif command -v docker-compose >/dev/null 2>&1; then
            COMPOSE=(docker-compose)
        else
            err "HA_MODE=docker needs the compose tool (docker compose or docker-compose)"
        fi
    fi
    local files=(-f "$HA_DIR/docker-compose.ha.yml")
    [[ -z "${DOCKER_NETWORK:-}" ]] || files+=(-f "$HA_DIR/docker-compose.net.yml")
    "${COMPOSE[@]}" "${files[@]}" -p "$COMPOSE_PROJECT" --project-directory "$NODE_DIR" \
        ${ENV_FILE:+--env-file "$ENV_FILE"} "$@"
}

# In docker mode the server runs as VAULT_UID:VAULT_GID: what it reads (config, tls, plugins,
# secrets) and writes (logs, backups) must be theirs, including files made after init-dirs.
_docker_chown() {
    [[ -n "${VAULT_UID:-}" ]] || return 0
    if [[ "$(id -u)" != 0 ]]; then
        warn "not root: cannot give $NODE_DIR to $VAULT_UID:${VAULT_GID:-$VAULT_UID} (do it with sudo if the container cannot read it)"
        return 0
    fi
    chown -R "$VAULT_UID:${VAULT_GID:-$VAULT_UID}" "$NODE_DIR/config" "$NODE_DIR/tls" "$NODE_DIR/plugins" \
        "$NODE_DIR/logs" "$NODE_DIR/backups" "$NODE_DIR/secrets"
}

_server_exec() {
    # Runs in the background subshell: a clean environment for the server, which every plugin
    # process inherits. No token goes there: not ours, not the transit seal's (secrets/seal.hcl).
    unset VAULT_TOKEN BAO_TOKEN VAULT_ADDR BAO_ADDR VAULT_CACERT BAO_CACERT
    local extra=()
    [[ "$SEAL_TYPE" != transit ]] || extra=(-config="$SEAL_CONFIG_FILE")
    # The working directory is the node directory: relative paths in the config (the audit
    # file_path) resolve there.
    cd "$NODE_DIR" || exit 1
    exec "$BIN" server -config="$CONFIG_FILE" "${extra[@]}"
}

# The transit seal stanza with the unsealer token, as a second config file (0600) in secrets/.
_render_seal_config() {
    local TRANSIT_TOKEN
    TRANSIT_TOKEN="$(<"$TRANSIT_SEAL_TOKEN_FILE")"
    [[ "$TRANSIT_TOKEN" =~ ^[A-Za-z0-9._-]+$ ]] || err "$TRANSIT_SEAL_TOKEN_FILE does not hold a token"
    # shellcheck disable=SC2034
    render_template "$HA_DIR/vault-transit-seal.hcl" "$SEAL_CONFIG_FILE" TRANSIT_ADDR TRANSIT_TOKEN \
        TRANSIT_MOUNT TRANSIT_KEY_NAME SRV_DIR TRANSIT_CA_FILE
    chmod 600 "$SEAL_CONFIG_FILE"
    TRANSIT_TOKEN=""
}

cmd_start() {
    [[ -f "$CONFIG_FILE" ]] || err "no $CONFIG_FILE: run prepare-config first"
    [[ -f "$NODE_DIR/tls/cert.pem" ]] || err "no TLS certificate: run gen-cert first"
    if [[ "$SEAL_TYPE" == transit ]]; then
        [[ -r "$TRANSIT_SEAL_TOKEN_FILE" ]] || err "SEAL_TYPE=transit: token file $TRANSIT_SEAL_TOKEN_FILE not readable"
        _render_seal_config
    fi
    if [[ "$HA_MODE" == docker ]]; then
        _docker_chown
        _compose up -d >&2
        wait_until "$START_TIMEOUT" "$SELF_URL to answer" is_reachable "$SELF_URL" \
            || err "node $NODE_ID does not answer on $SELF_URL (docker logs $CONTAINER_NAME)"
        log "node $NODE_ID up (container $CONTAINER_NAME)"
        return 0
    fi
    ensure_bin
    if pid_alive "$PID_FILE" "$CONFIG_FILE"; then
        log "node $NODE_ID already running (pid $(<"$PID_FILE"))"
        return 0
    fi
    mkdir -p "$NODE_DIR/logs"
    local pid
    pid="$(pid_start "$PID_FILE" "$SERVER_LOG" _server_exec)"
    if ! wait_until "$START_TIMEOUT" "$SELF_URL to answer" _started_or_dead "$SELF_URL"; then
        tail -n 20 "$SERVER_LOG" >&2 || true
        err "node $NODE_ID did not start"
    fi
    if ! pid_alive "$PID_FILE" "$CONFIG_FILE"; then
        tail -n 20 "$SERVER_LOG" >&2 || true
        err "node $NODE_ID exited during start (log: $SERVER_LOG)"
    fi
    log "node $NODE_ID started: pid $pid, $SELF_URL, log $SERVER_LOG (health $(health_code "$SELF_URL"))"
}

_started_or_dead() {
    is_reachable "$1" || ! pid_alive "$PID_FILE" "$CONFIG_FILE"
}

cmd_stop() {
    if [[ "$HA_MODE" == docker ]]; then
        _compose stop -t "${STOP_TIMEOUT:-30}" >&2
        log "node $NODE_ID stopped (container $CONTAINER_NAME)"
        return 0
    fi
    if ! pid_alive "$PID_FILE" "$CONFIG_FILE"; then
        log "node $NODE_ID not running"
        rm -f -- "$PID_FILE"
        return 0
    fi
    local pid
    pid="$(<"$PID_FILE")"
    pid_stop "$PID_FILE" "$CONFIG_FILE" "${STOP_TIMEOUT:-30}" || err "could not stop pid $pid"
    log "node $NODE_ID stopped (pid $pid)"
}

cmd_logs() {
    [[ "$HA_MODE" == docker ]] || err "logs: docker mode only (native: $SERVER_LOG and $NODE_DIR/$AUDIT_FILE_PATH)"
    _compose logs --no-color "$@"
}

cmd_reload() {
    [[ "$HA_MODE" == native ]] || err "reload: native mode only (docker: docker kill -s HUP $CONTAINER_NAME)"
    pid_alive "$PID_FILE" "$CONFIG_FILE" || err "node $NODE_ID is not running"
    kill -HUP "$(<"$PID_FILE")"
    log "node $NODE_ID: SIGHUP sent (TLS certificates and log level reloaded)"
}

# --- init / unseal ------------------------------------------------------------------------

_seal_status() {
    api_get "$1" /v1/sys/seal-status
}

_is_initialized() {
    [[ "$(_seal_status "$1" | jq -r '.initialized' 2>/dev/null)" == true ]]
}

cmd_vault_init() {
    need_cmd jq curl
    wait_until "$START_TIMEOUT" "$SELF_URL to answer" is_reachable "$SELF_URL" \
        || err "node $NODE_ID does not answer on $SELF_URL (start it first)"
    if [[ "$(api_get "$SELF_URL" /v1/sys/init | jq -r '.initialized')" == true ]]; then
        log "cluster already initialised (asked $SELF_URL); nothing to do"
        return 0
    fi
    local f
    for f in "$INIT_KEYS_FILE" "$ROOT_TOKEN_FILE"; do
        [[ ! -e "$f" ]] || err "$f exists: refusing to overwrite the secrets of another initialisation (move it away first)"
    done
    mkdir -p "$(dirname "$ROOT_TOKEN_FILE")" "$(dirname "$INIT_KEYS_FILE")"
    local args=(operator init -format=json)
    if [[ "$SEAL_TYPE" == shamir ]]; then
        args+=(-key-shares="$KEY_SHARES" -key-threshold="$KEY_THRESHOLD")
    else
        args+=(-recovery-shares="$KEY_SHARES" -recovery-threshold="$KEY_THRESHOLD")
    fi
    local tmp t0
    tmp="$(umask 077 && mktemp "${INIT_KEYS_FILE}.tmp.XXXXXX")"
    t0="$(now_ms)"
    if ! (unset VAULT_TOKEN BAO_TOKEN; vcli "$SELF_URL" "${args[@]}") >"$tmp"; then
        rm -f -- "$tmp"
        err "operator init failed on $SELF_URL"
    fi
    if ! jq -e '.root_token' "$tmp" >/dev/null 2>&1; then
        rm -f -- "$tmp"
        err "operator init returned no root token"
    fi
    # Two files: the root token alone in ROOT_TOKEN_FILE, the keys without it in INIT_KEYS_FILE.
    jq -j '.root_token' "$tmp" | write_private "$ROOT_TOKEN_FILE" \
        || { rm -f -- "$tmp"; err "cannot write $ROOT_TOKEN_FILE"; }
    if ! jq 'del(.root_token)' "$tmp" | write_private "$INIT_KEYS_FILE"; then
        rm -f -- "$tmp" "$ROOT_TOKEN_FILE"
        err "cannot write $INIT_KEYS_FILE"
    fi
    rm -f -- "$tmp"
    log "cluster initialised through $NODE_ID in $(fmt_ms $(( $(now_ms) - t0 )))s ($SEAL_TYPE, $KEY_SHARES shares, threshold $KEY_THRESHOLD)"
    loud "$INIT_KEYS_FILE (mode 0600) holds the $( [[ $SEAL_TYPE == shamir ]] && echo unseal || echo recovery ) keys; $ROOT_TOKEN_FILE (0600) the root token." \
        "Give each key to a different administrator, store them offline, and delete the keys file" \
        "from the server once the setup is done; do not copy it to the other nodes (their administrators" \
        "type their keys: vault-unseal prompts). The scripts use the root token only when you export it:" \
        "export VAULT_TOKEN=\"\$(cat $ROOT_TOKEN_FILE)\"; revoke it after setup (bao token revoke -self)."
    if [[ "$SEAL_TYPE" != shamir ]]; then
        wait_until "$UNSEAL_TIMEOUT" "$NODE_ID to become active" is_active "$SELF_URL" \
            || warn "node $NODE_ID is not active yet (check the $SEAL_TYPE seal)"
        _maybe_api_audit
    fi
}

# Vault (unlike OpenBao) has no declarative audit stanza: enable the file device through the API
# once the cluster is unsealed.
_enable_api_audit() {
    need_leader
    need_token
    if vcli "$LEADER" audit list -format=json 2>/dev/null | jq -e 'has("file/")' >/dev/null; then
        return 0
    fi
    vcli "$LEADER" audit enable file file_path="$AUDIT_FILE_PATH" mode=0600 >/dev/null \
        && log "audit device file/ enabled through the API ($AUDIT_FILE_PATH)"
}

_read_unseal_keys() {
    UNSEAL_KEYS=()
    if [[ -r "$UNSEAL_KEYS_FILE" ]]; then
        mapfile -t UNSEAL_KEYS < <(jq -r '.unseal_keys_b64[]? // empty' "$UNSEAL_KEYS_FILE")
        ((${#UNSEAL_KEYS[@]} > 0)) || err "$UNSEAL_KEYS_FILE has no unseal_keys_b64"
        return 0
    fi
    if [[ -t 0 ]]; then
        local i k
        for ((i = 1; i <= KEY_THRESHOLD; i++)); do
            read -r -s -p "unseal key $i of $KEY_THRESHOLD: " k
            printf '\n' >&2
            UNSEAL_KEYS+=("$k")
        done
        return 0
    fi
    err "no unseal keys: set UNSEAL_KEYS_FILE to a readable keys file or run interactively"
}

_post_unseal_key() {
    # The key goes to curl through stdin: never on a command line.
    printf '{"key":"%s"}' "$2" | curl -sS --max-time "$CURL_MAX_TIME" --cacert "$CA_FILE" \
        -X PUT --data-binary @- "$1/v1/sys/unseal"
}

_is_unsealed_status() {
    [[ "$(_seal_status "$1" | jq -r '.sealed' 2>/dev/null)" == false ]]
}

cmd_vault_unseal() {
    need_cmd jq curl
    wait_until "$START_TIMEOUT" "$SELF_URL to answer" is_reachable "$SELF_URL" \
        || err "node $NODE_ID does not answer on $SELF_URL (start it first)"
    local st
    st="$(_seal_status "$SELF_URL")"
    if [[ "$(jq -r '.sealed' <<<"$st")" == false ]]; then
        log "node $NODE_ID already unsealed"
        return 0
    fi
    local t0
    t0="$(now_ms)"
    if [[ "$SEAL_TYPE" != shamir ]]; then
        # Auto-unseal: the node unseals itself (a follower once it has joined through retry_join).
        wait_until "$UNSEAL_TIMEOUT" "$NODE_ID to auto-unseal" _is_unsealed_status "$SELF_URL" \
            || err "node $NODE_ID is still sealed: check the seal ($SEAL_TYPE) and $SERVER_LOG"
        log "node $NODE_ID unsealed by the $SEAL_TYPE seal in $(fmt_ms $(( $(now_ms) - t0 )))s"
        return 0
    fi
    # A follower reports initialized=true only once retry_join has reached the leader; unsealing
    # earlier is refused with "not initialized".
    wait_until "$UNSEAL_TIMEOUT" "$NODE_ID to see an initialised cluster (retry_join)" _is_initialized "$SELF_URL" \
        || err "node $NODE_ID does not see an initialised cluster: run vault-init on node 1, check retry_join addresses and TLS"
    _read_unseal_keys
    local k resp sealed="true" used=0
    for k in "${UNSEAL_KEYS[@]}"; do
        [[ -n "$k" ]] || continue
        resp="$(_post_unseal_key "$SELF_URL" "$k")" || err "unseal request to $SELF_URL failed"
        used=$((used + 1))
        if jq -e '.errors' >/dev/null 2>&1 <<<"$resp"; then
            err "unseal of $NODE_ID refused: $(jq -r '.errors | join("; ")' <<<"$resp")"
        fi
        sealed="$(jq -r '.sealed' <<<"$resp")"
        [[ "$sealed" == true ]] || break
        # Enough keys sent: the remaining ones are not needed (progress resets to 0 then).
        if [[ "$(jq -r '.progress' <<<"$resp")" == 0 ]]; then
            break
        fi
    done
    UNSEAL_KEYS=()
    # A follower completes its raft join after the last key; wait for it.
    wait_until "$UNSEAL_TIMEOUT" "$NODE_ID to finish unsealing" _is_unsealed_status "$SELF_URL" \
        || err "node $NODE_ID still sealed after $used key(s): check the keys and $SERVER_LOG"
    log "node $NODE_ID unsealed with $used key(s) in $(fmt_ms $(( $(now_ms) - t0 )))s"
    _maybe_api_audit
}

# Vault has no declarative audit stanza: once the active node is unsealed, enable the file device
# through the API (OpenBao takes it from the config and refuses the API call).
_maybe_api_audit() {
    [[ "$(flavor)" == vault ]] || return 0
    is_active "$SELF_URL" || return 0
    _have_token || {
        warn "Vault: enable the audit device once you have a token: vault audit enable file file_path=$AUDIT_FILE_PATH"
        return 0
    }
    _enable_api_audit
}

# --- plugin: install / verify / register / upgrade ---------------------------------------

_check_version() {
    [[ "$1" =~ ^v[0-9]+\.[0-9]+\.[0-9]+([-+][0-9A-Za-z.+-]+)?$ ]] \
        || err "version '$1' is not v<semver> (e.g. v0.1.0): the plugin reports 'v' + its crate version"
}

_plugin_file_for() {
    # VERSION or FILE -> file name inside plugins/
    local a="${1:-}"
    if [[ -z "$a" ]]; then
        err "give the plugin VERSION (file ${PLUGIN_NAME}-VERSION) or its FILE name in plugins/"
    elif [[ "$a" =~ ^v[0-9] ]]; then
        printf '%s-%s\n' "$PLUGIN_NAME" "$a"
    else
        printf '%s\n' "$(basename "$a")"
    fi
}

cmd_install_plugin() {
    local src="${1:-}" version="${2:-}" name="${3:-}"
    [[ -n "$src" && -n "$version" ]] || { usage; exit 2; }
    _check_version "$version"
    [[ -f "$src" ]] || err "no such file: $src"
    : "${name:=${PLUGIN_NAME}-${version}}"
    [[ "$name" != */* ]] || err "FILE must be a plain file name"
    local dir="$NODE_DIR/plugins" dst sum
    mkdir -p "$dir"
    dst="$dir/$name"
    sum="$(sha256_of "$src")"
    if [[ -e "$dst" ]]; then
        if [[ "$(sha256_of "$dst")" == "$sum" ]]; then
            log "node $NODE_ID: plugins/$name already present with sha256 $sum"
            printf '%s\n' "$sum"
            return 0
        fi
        # Never overwrite in place: the file may be the binary a server is running (ETXTBSY), and
        # its catalog entry pins the old sha256. A new build gets a new version, hence a new name.
        err "plugins/$name exists with a different sha256; install the new build under a new version/file name"
    fi
    local tmp
    tmp="$(mktemp "$dir/.install.XXXXXX")"
    cp -- "$src" "$tmp"
    chmod 755 "$tmp"
    [[ "$(sha256_of "$tmp")" == "$sum" ]] || { rm -f -- "$tmp"; err "copy of $src is corrupt"; }
    mv -f -- "$tmp" "$dst"  # rename(2): atomic, never writes into a running executable
    log "node $NODE_ID: installed plugins/$name (sha256 $sum)"
    printf '%s\n' "$sum"
}

# Where node NAME keeps its plugins. HA_PEER_PLUGIN_DIRS="name=/path name=ssh:[user@]host:/path";
# default: this node's own plugins/, and for the others the sibling layout of one machine
# (<parent of NODE_DIR>/<name>/plugins).
_peer_plugin_dir() {
    local want="$1" p
    for p in $HA_PEER_PLUGIN_DIRS; do
        if [[ "${p%%=*}" == "$want" ]]; then
            printf '%s\n' "${p#*=}"
            return 0
        fi
    done
    if [[ "$want" == "$NODE_ID" ]]; then
        printf '%s\n' "$NODE_DIR/plugins"
    else
        printf '%s\n' "$(dirname "$NODE_DIR")/$want/plugins"
    fi
}

# _peer_sha NAME FILE — sha256 of FILE in node NAME's plugin directory; "missing" if absent,
# "unreachable" if the directory cannot be inspected.
_peer_sha() {
    local name="$1" file="$2" loc rest host path out
    loc="$(_peer_plugin_dir "$name")"
    case "$loc" in
        ssh:*)
            rest="${loc#ssh:}"
            host="${rest%%:*}"
            path="${rest#*:}"
            need_cmd ssh
            # The remote command is fixed text plus a path from our own settings.
            # shellcheck disable=SC2029
            if out="$(ssh -o BatchMode=yes -o ConnectTimeout=10 "$host" \
                "if [ -f '$path/$file' ]; then sha256sum -- '$path/$file'; else echo missing; fi" 2>/dev/null)"; then
                out="${out%% *}"
                printf '%s\n' "${out:-unreachable}"
            else
                printf 'unreachable\n'
            fi
            ;;
        *)
            if [[ ! -d "$loc" ]]; then
                printf 'unreachable\n'
            elif [[ -f "$loc/$file" ]]; then
                sha256_of "$loc/$file"
            else
                printf 'missing\n'
            fi
            ;;
    esac
}

# _peer_running_plugins NAME — for a node whose directory is on this machine (native mode), the
# plugin files its server process is running right now (children of the recorded PID); "?" when
# that cannot be seen from here.
_peer_running_plugins() {
    local loc dir pidf spid p st ppid exe out=""
    if [[ "$HA_MODE" == docker ]]; then
        # Only this node's own container can be looked into from here.
        if [[ "$1" == "$NODE_ID" ]] && out="$(docker exec "$CONTAINER_NAME" ps -o args 2>/dev/null)"; then
            out="$(grep -o '/vault/plugins/[^ ]*' <<<"$out" | sed 's|.*/||' | sort -u | paste -sd, -)"
            printf '%s\n' "${out:--}"
        else
            printf '?\n'
        fi
        return 0
    fi
    loc="$(_peer_plugin_dir "$1")"
    [[ "$loc" != ssh:* ]] || { printf '?\n'; return 0; }
    dir="$(dirname "$loc")"
    pidf="$dir/vault.pid"
    pid_alive "$pidf" "$dir/config/vault.hcl" || { printf 'server-down\n'; return 0; }
    spid="$(<"$pidf")"
    for p in /proc/[0-9]*; do
        st="$(cat "$p/stat" 2>/dev/null)" || continue
        st="${st##*) }"
        read -r _ ppid _ <<<"$st"
        [[ "$ppid" == "$spid" ]] || continue
        exe="$(readlink "$p/exe" 2>/dev/null || true)"
        [[ "$exe" == "$loc/"* ]] && out+="${out:+,}$(basename "$exe")"
    done
    printf '%s\n' "${out:--}"
}

# _verify_binary_everywhere FILE SHA — refuse (exit) naming every node whose copy differs.
_verify_binary_everywhere() {
    local file="$1" want="$2" n got bad=0
    for n in $(peer_names); do
        got="$(_peer_sha "$n" "$file")"
        case "$got" in
            "$want") log "  $n: plugins/$file sha256 $want  ok" ;;
            missing)
                log "  $n: plugins/$file is MISSING (in $(_peer_plugin_dir "$n"))"
                bad=1 ;;
            unreachable)
                log "  $n: cannot inspect $(_peer_plugin_dir "$n") — set HA_PEER_PLUGIN_DIRS ($n=/path or $n=ssh:host:/path)"
                bad=1 ;;
            *)
                log "  $n: plugins/$file has sha256 $got — DIFFERENT from $want"
                bad=1 ;;
        esac
    done
    if ((bad)); then
        err "refusing to touch the plugin catalog: not every node holds the identical plugins/$file (a standby that cannot start the plugin panics on OpenBao 2.7.2). Install the same build on every node with 'setup-ha.sh install-plugin' and retry."
    fi
}

_verify_all_unsealed() {
    local n u c bad=0
    for n in $(peer_names); do
        u="$(peer_url "$n")"
        c="$(health_code "$u")"
        case "$c" in
            200) log "  $n: active" ;;
            429 | 473) log "  $n: standby" ;;
            503) log "  $n: SEALED"; bad=1 ;;
            501) log "  $n: NOT INITIALISED"; bad=1 ;;
            000) log "  $n: UNREACHABLE at $u"; bad=1 ;;
            *) log "  $n: unexpected health $c"; bad=1 ;;
        esac
    done
    ((bad == 0)) || err "refusing to touch the plugin catalog: every node must be up and unsealed (a node that comes back later starts the plugin from its own plugins/ — keep it identical)"
}

_catalog_json() {
    # _catalog_json VERSION — the catalog entry as JSON, empty if absent
    vcli "$LEADER" plugin info -format=json -version="$1" secret "$PLUGIN_NAME" 2>/dev/null || true
}

_mount_json() {
    # the mount entry of PLUGIN_MOUNT/ as JSON (from secrets list), empty if absent
    vcli "$LEADER" secrets list -format=json 2>/dev/null | jq -c --arg m "$PLUGIN_MOUNT/" '.[$m] // empty'
}

_register_catalog() {
    local version="$1" file="$2" sum="$3" cur
    cur="$(_catalog_json "$version")"
    if [[ -n "$cur" ]]; then
        local csum ccmd
        csum="$(jq -r '.sha256 // .data.sha256 // empty' <<<"$cur")"
        ccmd="$(jq -r '.command // .data.command // empty' <<<"$cur")"
        if [[ "$csum" == "$sum" && "$ccmd" == "$file" ]]; then
            log "catalog: secret/$PLUGIN_NAME $version already registered with this sha256"
            return 0
        fi
        err "catalog: secret/$PLUGIN_NAME $version is registered with another binary ($ccmd, $csum); a new build needs a new version"
    fi
    vcli "$LEADER" plugin register -sha256="$sum" -command="$file" -version="$version" \
        secret "$PLUGIN_NAME" >/dev/null
    log "catalog: registered secret/$PLUGIN_NAME $version ($file, sha256 $sum) on $LEADER"
}

_reload_global() {
    vcli "$LEADER" plugin reload -plugin="$PLUGIN_NAME" -scope=global >/dev/null
    log "plugin $PLUGIN_NAME reloaded on every node (-scope=global)"
}

_mount_running_version() {
    _mount_json | jq -r '.running_plugin_version // empty'
}

_mount_at_version() {
    [[ "$(_mount_running_version)" == "$1" ]]
}

_preflight_plugin() {
    # _preflight_plugin VERSION FILE — sets PLUGIN_SHA
    local version="$1" file="$2" local_bin
    local_bin="$NODE_DIR/plugins/$file"
    [[ -f "$local_bin" ]] || err "no plugins/$file on this node ($NODE_ID): install it with 'setup-ha.sh install-plugin'"
    [[ -x "$local_bin" ]] || err "plugins/$file is not executable"
    PLUGIN_SHA="$(sha256_of "$local_bin")"
    log "plugin $PLUGIN_NAME $version: plugins/$file sha256 $PLUGIN_SHA; checking every node:"
    _verify_binary_everywhere "$file" "$PLUGIN_SHA"
    log "checking every node is unsealed:"
    _verify_all_unsealed
}

cmd_register_plugin() {
    local version="${1:-}" file
    [[ -n "$version" ]] || { usage; exit 2; }
    _check_version "$version"
    file="$(_plugin_file_for "${2:-$version}")"
    need_cmd jq curl
    _preflight_plugin "$version" "$file"
    need_leader
    need_token
    _register_catalog "$version" "$file" "$PLUGIN_SHA"
    local m
    m="$(_mount_json)"
    if [[ -z "$m" ]]; then
        vcli "$LEADER" secrets enable -path="$PLUGIN_MOUNT" -plugin-version="$version" \
            -description="crypto wallets and signing (vault-plugin-crypto)" "$PLUGIN_NAME" >/dev/null
        log "mounted $PLUGIN_NAME $version at $PLUGIN_MOUNT/"
    else
        local mv
        mv="$(jq -r '.plugin_version // empty' <<<"$m")"
        [[ "$(jq -r '.type' <<<"$m")" == "$PLUGIN_NAME" ]] \
            || err "$PLUGIN_MOUNT/ is already used by another engine ($(jq -r '.type' <<<"$m"))"
        [[ "$mv" == "$version" ]] \
            || err "$PLUGIN_MOUNT/ runs $PLUGIN_NAME ${mv:-unversioned}; use 'setup-ha.sh upgrade-plugin $version' to change versions"
        log "$PLUGIN_MOUNT/ already mounted at $version"
    fi
    _reload_global
    wait_until "$CLUSTER_TIMEOUT" "$PLUGIN_MOUNT/ to run $version" _mount_at_version "$version" \
        || err "$PLUGIN_MOUNT/ does not report running $version (see the server logs)"
    log "register-plugin done: $PLUGIN_MOUNT/ runs $PLUGIN_NAME $version on the leader; 'setup-ha.sh verify-plugin $version' checks every node"
}

cmd_upgrade_plugin() {
    local version="${1:-}" file
    [[ -n "$version" ]] || { usage; exit 2; }
    _check_version "$version"
    file="$(_plugin_file_for "${2:-$version}")"
    need_cmd jq curl
    _preflight_plugin "$version" "$file"
    need_leader
    need_token
    local m old oldfile
    m="$(_mount_json)"
    [[ -n "$m" ]] || err "$PLUGIN_MOUNT/ is not mounted: use register-plugin first"
    old="$(jq -r '.plugin_version // empty' <<<"$m")"
    if [[ "$old" == "$version" ]]; then
        log "$PLUGIN_MOUNT/ already at $version"
        return 0
    fi
    oldfile="$(_catalog_json "$old" | jq -r '.command // .data.command // empty')"
    [[ "$oldfile" != "$file" ]] \
        || err "the new version must live in a new file (the old one may be running: overwriting gives ETXTBSY and breaks the old catalog entry)"
    _register_catalog "$version" "$file" "$PLUGIN_SHA"
    vcli "$LEADER" secrets tune -plugin-version="$version" "$PLUGIN_MOUNT/" >/dev/null
    log "$PLUGIN_MOUNT/ tuned to $version (was ${old:-unversioned})"
    _reload_global
    wait_until "$CLUSTER_TIMEOUT" "$PLUGIN_MOUNT/ to run $version" _mount_at_version "$version" \
        || err "$PLUGIN_MOUNT/ does not report running $version (see the server logs); roll back with: setup-ha.sh upgrade-plugin $old ${oldfile:-}"
    log "upgrade done: $PLUGIN_MOUNT/ runs $version. Once every node is checked (verify-plugin $version), the old"
    log "version can be retired: bao plugin deregister -version=$old secret $PLUGIN_NAME; then delete plugins/${oldfile:-<old file>} on every node"
}

cmd_verify_plugin() {
    local arg="${1:-}" file n got want="" bad=0
    need_cmd jq curl
    if [[ -z "$arg" ]]; then
        # Default: the version the mount runs, if we can ask; else the newest file in plugins/
        if LEADER="$(leader_url)" && _have_token; then
            need_token
            arg="$(_mount_json | jq -r '.plugin_version // empty')"
        fi
        if [[ -z "$arg" ]]; then
            arg="$(find "$NODE_DIR/plugins" -maxdepth 1 -type f -name "$PLUGIN_NAME-v*" -printf '%T@ %f\n' 2>/dev/null \
                | sort -rn | head -n 1 | cut -d' ' -f2- || true)"
        fi
        [[ -n "$arg" ]] || err "nothing to verify: no mount and no file in plugins/"
    fi
    file="$(_plugin_file_for "$arg")"
    [[ -f "$NODE_DIR/plugins/$file" ]] && want="$(sha256_of "$NODE_DIR/plugins/$file")"
    printf '%-12s %-34s %-64s %-10s %s\n' NODE FILE SHA256 STATE RUNNING
    for n in $(peer_names); do
        got="$(_peer_sha "$n" "$file")"
        local state=ok
        if [[ -z "$want" || "$got" != "$want" ]]; then
            state=DIFFERENT
            [[ "$got" == missing || "$got" == unreachable ]] && state="${got^^}"
            bad=1
        fi
        printf '%-12s %-34s %-64s %-10s %s\n' "$n" "$file" "$got" "$state" "$(_peer_running_plugins "$n")"
    done
    if LEADER="$(leader_url)" && _have_token; then
        need_token
        local v m
        v="${arg}"
        [[ "$v" =~ ^v[0-9] ]] || v="${file#"${PLUGIN_NAME}"-}"
        m="$(_mount_json)"
        local csum
        csum="$(_catalog_json "$v" | jq -r '.sha256 // .data.sha256 // empty')"
        printf 'catalog  secret/%s %s: %s\n' "$PLUGIN_NAME" "$v" "${csum:-not registered}"
        if [[ -n "$csum" && -n "$want" && "$csum" != "$want" ]]; then
            printf 'catalog  sha256 DIFFERS from the binary on this node\n'
            bad=1
        fi
        if [[ -n "$m" ]]; then
            printf 'mount    %s/: plugin_version=%s running_plugin_version=%s running_sha256=%s\n' "$PLUGIN_MOUNT" \
                "$(jq -r '.plugin_version // ""' <<<"$m")" "$(jq -r '.running_plugin_version // ""' <<<"$m")" \
                "$(jq -r '.running_sha256 // ""' <<<"$m")"
        else
            printf 'mount    %s/: not mounted\n' "$PLUGIN_MOUNT"
        fi
    fi
    ((bad == 0)) || err "plugin binary differs or is missing on at least one node (see table)"
}

# --- raft / status / fail-over tools ---------------------------------------------------

_peers_json() {
    vcli "$LEADER" operator raft list-peers -format=json
}

_count_voters() {
    local want="$1" j
    LEADER="$(leader_url)" || return 1
    j="$(_peers_json 2>/dev/null)" || return 1
    [[ "$(jq '[.data.config.servers[] | select(.voter == true)] | length' <<<"$j")" -ge "$want" ]] || return 1
    [[ "$(jq '[.data.config.servers[] | select(.leader == true)] | length' <<<"$j")" == 1 ]]
}

cmd_raft_status() {
    local expect="" timeout="$CLUSTER_TIMEOUT"
    while (($#)); do
        case "$1" in
            --expect-voters) expect="${2:?}"; shift 2 ;;
            --timeout) timeout="${2:?}"; shift 2 ;;
            *) usage; exit 2 ;;
        esac
    done
    need_cmd jq curl
    need_token
    if [[ -n "$expect" ]]; then
        wait_until "$timeout" "$expect raft voters with one leader" _count_voters "$expect" \
            || { LEADER="$(leader_url)" && _peers_json >&2; err "cluster has not reached $expect voters"; }
        log "$expect voters after $(fmt_ms "$WAITED_MS")s of waiting"
    fi
    need_leader
    printf '%-12s %-24s %-9s %s\n' NODE ADDRESS STATE VOTER
    _peers_json | jq -r '.data.config.servers[] | [.node_id, .address, (if .leader then "leader" else "follower" end), (.voter|tostring)] | @tsv' \
        | while IFS=$'\t' read -r id addr state voter; do
            printf '%-12s %-24s %-9s %s\n' "$id" "$addr" "$state" "$voter"
        done
}

cmd_status() {
    need_cmd jq curl
    local n u code body state
    printf '%-10s %-28s %-12s %-8s %s\n' NODE URL STATE SEALED VERSION
    for n in $(peer_names); do
        u="$(peer_url "$n")"
        code="$(health_code "$u")"
        body="$(api_get "$u" /v1/sys/health || true)"
        case "$code" in
            200) state=active ;;
            429 | 473) state=standby ;;
            501) state=uninitialised ;;
            503) state=sealed ;;
            000) state=unreachable ;;
            *) state="http-$code" ;;
        esac
        printf '%-10s %-28s %-12s %-8s %s\n' "$n" "$u" "$state" \
            "$(jq -r 'if has("sealed") then .sealed else "-" end' <<<"${body:-null}" 2>/dev/null || echo -)" \
            "$(jq -r '.version // "-"' <<<"${body:-null}" 2>/dev/null || echo -)"
    done
    if [[ "$HA_MODE" == native ]]; then
        if pid_alive "$PID_FILE" "$CONFIG_FILE"; then
            log "this node ($NODE_ID): process $(<"$PID_FILE") running"
        else
            log "this node ($NODE_ID): no process running"
        fi
    fi
}

cmd_backup() {
    need_cmd jq curl
    need_token
    need_leader
    mkdir -p "$BACKUP_DIR"
    chmod 700 "$BACKUP_DIR"
    local ts f t0
    ts="$(date -u +%Y%m%dT%H%M%SZ)"
    f="$BACKUP_DIR/raft-$CLUSTER_NAME-$ts.snap"
    [[ ! -e "$f" ]] || f="$BACKUP_DIR/raft-$CLUSTER_NAME-$ts-$$.snap"
    t0="$(now_ms)"
    (umask 077 && vcli "$LEADER" operator raft snapshot save "$f") >/dev/null \
        || { rm -f -- "$f"; err "snapshot failed on $LEADER"; }
    [[ -s "$f" ]] || { rm -f -- "$f"; err "snapshot $f is empty"; }
    chmod 600 "$f"
    (cd "$BACKUP_DIR" && sha256sum -- "$(basename "$f")") >"$f.sha256"
    log "snapshot saved in $(fmt_ms $(( $(now_ms) - t0 )))s: $f ($(wc -c <"$f") bytes); keep copies off this server"
    # Retention: keep the newest BACKUP_KEEP snapshots of this cluster.
    local old
    while IFS= read -r old; do
        [[ -n "$old" ]] || continue
        rm -f -- "$old" "$old.sha256"
        log "pruned old snapshot $old"
    done < <(find "$BACKUP_DIR" -maxdepth 1 -type f -name "raft-$CLUSTER_NAME-*.snap" -printf '%T@ %p\n' \
        | sort -rn | tail -n +"$((BACKUP_KEEP + 1))" | cut -d' ' -f2-)
    printf '%s\n' "$f"
}

_writable() {
    # The active node answers and our token works against it.
    local l
    l="$(leader_url)" || return 1
    is_active "$l" || return 1
    vcli "$l" token lookup -format=json >/dev/null 2>&1
}

cmd_restore() {
    local f="" force="" yes=""
    while (($#)); do
        case "$1" in
            --force) force=1; shift ;;
            --yes) yes=1; shift ;;
            -*) usage; exit 2 ;;
            *) f="$1"; shift ;;
        esac
    done
    [[ -n "$f" ]] || { usage; exit 2; }
    [[ -s "$f" ]] || err "no such snapshot: $f"
    need_cmd jq curl sha256sum
    if [[ -f "$f.sha256" ]]; then
        (cd "$(dirname "$f")" && sha256sum --quiet -c -- "$(basename "$f").sha256") \
            || err "$f does not match $f.sha256"
    fi
    if [[ -z "$yes" ]]; then
        if [[ -t 0 ]]; then
            local answer
            read -r -p "restore $f into the WHOLE cluster (all data written since is lost)? type 'restore': " answer
            [[ "$answer" == restore ]] || err "aborted"
        else
            err "restore replaces the data of the whole cluster: pass --yes to confirm"
        fi
    fi
    need_token
    need_leader
    local args=(operator raft snapshot restore)
    [[ -z "$force" ]] || args+=(-force)
    local t0
    t0="$(now_ms)"
    vcli "$LEADER" "${args[@]}" "$f" >/dev/null || err "restore failed on $LEADER (a snapshot of another cluster needs --force and that cluster's unseal keys)"
    log "snapshot accepted by $LEADER in $(fmt_ms $(( $(now_ms) - t0 )))s; waiting for the cluster to serve again"
    if ! wait_until "$CLUSTER_TIMEOUT" "the cluster to accept requests after the restore" _writable; then
        cmd_status >&2 || true
        err "cluster not serving after restore: sealed nodes need 'vault-unseal' (with the keys of the snapshot's cluster)"
    fi
    log "restore done: cluster serving again $(fmt_ms $(( $(now_ms) - t0 )))s after the request"
    local n u
    for n in $(peer_names); do
        u="$(peer_url "$n")"
        is_unsealed "$u" || warn "node $n is not unsealed after the restore: run vault-unseal there"
    done
}

_some_node_active() {
    local l
    l="$(leader_url)" || return 1
    is_active "$l"
}

# step-down: the active node gives up its lock. Measured on OpenBao 2.7.2 (3 nodes, loopback,
# performance_multiplier=1): raft often re-elects the same node, which then waits ~10 s before
# taking the lock again, so the cluster had no active node for ~11 s. To take the leader out for
# maintenance, stopping it (SIGTERM) moves leadership in ~2-3 s instead.
cmd_step_down() {
    need_cmd jq curl
    need_token
    need_leader
    local old="$LEADER" t0 new
    t0="$(now_ms)"
    vcli "$old" operator step-down >/dev/null
    wait_until "$CLUSTER_TIMEOUT" "an active node after step-down" _some_node_active \
        || err "no active node after step-down"
    new="$(leader_url)"
    if [[ "$new" == "$old" ]]; then
        warn "leadership came back to $old after $(fmt_ms $(( $(now_ms) - t0 )))s without an active node (raft re-elected it); stopping the node moves leadership faster"
    else
        log "leader moved from $old to $new; writes possible again after $(fmt_ms $(( $(now_ms) - t0 )))s"
    fi
    printf '%s\n' "$new"
}

cmd_remove_peer() {
    local id="" force=""
    while (($#)); do
        case "$1" in
            --force) force=1; shift ;;
            -*) usage; exit 2 ;;
            *) id="$1"; shift ;;
        esac
    done
    [[ -n "$id" ]] || { usage; exit 2; }
    need_cmd jq curl
    need_token
    need_leader
    local peers entry
    peers="$(_peers_json)"
    entry="$(jq -c --arg id "$id" '.data.config.servers[] | select(.node_id == $id)' <<<"$peers")"
    [[ -n "$entry" ]] || err "$id is not a raft peer (peers: $(jq -r '[.data.config.servers[].node_id] | join(", ")' <<<"$peers"))"
    [[ "$(jq -r '.leader' <<<"$entry")" != true ]] || err "$id is the leader: run step-down first"
    local u
    if u="$(peer_url "$id" 2>/dev/null)" && is_unsealed "$u" && [[ -z "$force" ]]; then
        err "$id still answers unsealed at $u: stop it first (or --force); a removed node that keeps running tries to rejoin"
    fi
    local voters
    voters="$(jq '[.data.config.servers[] | select(.voter == true)] | length' <<<"$peers")"
    if [[ "$(jq -r '.voter' <<<"$entry")" == true ]] && ((voters - 1 < 3)) && [[ -z "$force" ]]; then
        err "removing $id leaves $((voters - 1)) voters: add the replacement node first (--force to remove it anyway)"
    fi
    vcli "$LEADER" operator raft remove-peer "$id" >/dev/null
    log "removed $id from the raft configuration"
    cmd_raft_status
}

cmd_transit_unsealer_setup() {
    need_cmd jq curl
    need_token
    need_leader
    local mount="$TRANSIT_MOUNT" key="$TRANSIT_KEY_NAME" pol
    pol="autounseal-$key"
    if ! vcli "$LEADER" secrets list -format=json | jq -e --arg m "$mount/" 'has($m)' >/dev/null; then
        vcli "$LEADER" secrets enable -path="$mount" transit >/dev/null
        log "transit engine enabled at $mount/"
    fi
    if ! vcli "$LEADER" read -format=json "$mount/keys/$key" >/dev/null 2>&1; then
        vcli "$LEADER" write -f "$mount/keys/$key" type=aes256-gcm96 >/dev/null
        log "transit key $mount/keys/$key created (not exportable, deletion not allowed)"
    fi
    vcli "$LEADER" policy write "$pol" - >/dev/null <<EOF
# Only what a transit seal needs: encrypt and decrypt with one key.
path "$mount/encrypt/$key" { capabilities = ["update"] }
path "$mount/decrypt/$key" { capabilities = ["update"] }
EOF
    [[ ! -e "$TRANSIT_SEAL_TOKEN_FILE" || "${FORCE:-0}" == 1 ]] \
        || err "$TRANSIT_SEAL_TOKEN_FILE exists (FORCE=1 to mint a new token)"
    # Orphan + periodic: survives the revocation of the token that created it and is renewed by
    # the sealed cluster forever, as long as it is renewed within the period.
    vcli "$LEADER" token create -orphan -period=24h -policy="$pol" -display-name="transit-seal" -format=json \
        | jq -r '.auth.client_token' | write_private "$TRANSIT_SEAL_TOKEN_FILE"
    [[ -s "$TRANSIT_SEAL_TOKEN_FILE" ]] || err "token creation failed"
    log "transit seal token (policy $pol, period 24h) written to $TRANSIT_SEAL_TOKEN_FILE (0600)"
    loud "Copy $TRANSIT_SEAL_TOKEN_FILE to every node of the cluster to be sealed (its TRANSIT_SEAL_TOKEN_FILE)," \
        "over a secure channel. Losing this unsealer cluster or its key '$key' loses the sealed cluster:" \
        "back it up (snapshot) and never run it in dev mode in production."
}

# --- main ---------------------------------------------------------------------------------

main() {
    if [[ "${1:-}" == --env ]]; then
        [[ -n "${2:-}" ]] || { usage; exit 2; }
        ENV_FILE="$2"
        shift 2
    fi
    local cmd="${1:-}"
    [[ -n "$cmd" ]] || { usage; exit 2; }
    shift
    case "$cmd" in
        help | -h | --help) usage; exit 0 ;;
        init-dirs | gen-ca | gen-cert | install-plugin | prepare-config | start | stop | reload | logs | \
            vault-init | vault-unseal | register-plugin | upgrade-plugin | verify-plugin | raft-status | \
            status | backup | restore | step-down | remove-peer | transit-unsealer-setup) ;;
        *) log "unknown command: $cmd"; usage; exit 2 ;;
    esac
    need_cmd curl jq
    load_env
    case "$cmd" in
        init-dirs | gen-ca | gen-cert | install-plugin) ;;
        start | stop | logs) [[ "$HA_MODE" == docker ]] || ensure_bin ;;
        *) ensure_bin ;;
    esac
    case "$cmd" in
        init-dirs) cmd_init_dirs "$@" ;;
        gen-ca) cmd_gen_ca "$@" ;;
        gen-cert) cmd_gen_cert "$@" ;;
        install-plugin) cmd_install_plugin "$@" ;;
        prepare-config) cmd_prepare_config "$@" ;;
        start) cmd_start "$@" ;;
        stop) cmd_stop "$@" ;;
        reload) cmd_reload "$@" ;;
        logs) cmd_logs "$@" ;;
        vault-init) cmd_vault_init "$@" ;;
        vault-unseal) cmd_vault_unseal "$@" ;;
        register-plugin) cmd_register_plugin "$@" ;;
        upgrade-plugin) cmd_upgrade_plugin "$@" ;;
        verify-plugin) cmd_verify_plugin "$@" ;;
        raft-status) cmd_raft_status "$@" ;;
        status) cmd_status "$@" ;;
        backup) cmd_backup "$@" ;;
        restore) cmd_restore "$@" ;;
        step-down) cmd_step_down "$@" ;;
        remove-peer) cmd_remove_peer "$@" ;;
        transit-unsealer-setup) cmd_transit_unsealer_setup "$@" ;;
        *) log "unknown command: $cmd"; usage; exit 2 ;;
    esac
}

main "$@"
