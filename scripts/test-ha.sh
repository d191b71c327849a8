#!/usr/bin/env bash
# test-ha.sh — the HA scenarios of DEPLOY_HA.md, run for real: three OpenBao/Vault nodes in native
# mode on 127.0.0.1-3 (ports 8200/8201) with TLS from a CA made by setup-ha.sh, driven only through
# scripts/setup-ha.sh plus the plain CLI for the application traffic.
#
#   1  bring-up from nothing: certs, config, start, init 5/3, unseal all, 3 raft voters
#   2  register-plugin; wallet created through node 1, read on nodes 2 and 3, signed via a standby
#   3  SIGKILL of the leader: time until a new leader accepts writes; old node restarts and rejoins
#   4  backup, delete, restore: the data is back and signs with the same key
#   5  upgrade-plugin to a second build under load: every node runs it, zero failed requests
#   6  register-plugin with a different (or missing) binary on one node is refused before the
#      catalog is touched
#   7  transit auto-unseal: an unsealer on 127.0.0.10, a 3-node cluster sealed by it; restarted
#      nodes come back unsealed without keys
#   8  replacing a failed node: node4 (127.0.0.4) joins, remove-peer drops node3 (run before 7)
#   9  fail-over under load: ha-load signs through all three nodes while the leader is SIGKILLed
#      and restarted; failed requests counted, every signature verified, counters consistent
#  10  the SDK's vault-crypto-register moves crypto/ to another version across the cluster and
#      verifies every node; a wrong sha256 is reported per node
#  11  M-of-N approvals across nodes: userpass logins and an identity group; the request, each
#      approval and the final signature go through different nodes (standbys forward the
#      writes); one signature per request, equal to the same wallet's signature without policy
#
# Scenarios 2, 5 and 11 need the real plugin: PLUGIN_BIN (and PLUGIN_BIN2 + PLUGIN_VERSION2, a second
# build reporting another version, for 5); without them they print SKIPPED and why. Until then 3
# and 4 use builtin engines as the stand-in (kv-v2 for data, a transit key for "the wallet"), and
# 6 uses a stand-in file (the refusal happens before anything runs it).
#
# usage: scripts/test-ha.sh [SCENARIO...]       (default: all; 1 always runs first, 7 last)
# env:   PLUGIN_BIN, PLUGIN_VERSION (v0.1.0), PLUGIN_BIN2, PLUGIN_VERSION2, HA_LOAD_BIN (for 9),
#        REGISTER_BIN (vault-crypto-register, for 10)
#
#        VAULT_BIN (else .tools/bin/bao, bao, vault; else scripts/install-bao.sh installs one)
#        HA_TEST_IPS ("127.0.0.1 127.0.0.2 127.0.0.3"), HA_TEST_UNSEALER_IP (127.0.0.10),
#        HA_TEST_SPARE_IP (127.0.0.4)
#        HA_TEST_API_PORT (8200), HA_TEST_CLUSTER_PORT (8201)
#        HA_TEST_TMP (parent of the work dir, default $TMPDIR or /tmp), HA_TEST_KEEP=1 keeps it
# Ends with the line "N passed, N failed, N skipped"; exit status 0 only if nothing failed.
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=lib.sh
. "$SCRIPT_DIR/lib.sh"
SETUP="$SCRIPT_DIR/setup-ha.sh"

read -r -a IPS <<<"${HA_TEST_IPS:-127.0.0.1 127.0.0.2 127.0.0.3}"
UNSEALER_IP="${HA_TEST_UNSEALER_IP:-127.0.0.10}"
SPARE_IP="${HA_TEST_SPARE_IP:-127.0.0.4}"
API_PORT="${HA_TEST_API_PORT:-8200}"
CLUSTER_PORT="${HA_TEST_CLUSTER_PORT:-8201}"
PLUGIN_BIN="${PLUGIN_BIN:-}"
PLUGIN_VERSION="${PLUGIN_VERSION:-v0.1.0}"
PLUGIN_BIN2="${PLUGIN_BIN2:-}"
PLUGIN_VERSION2="${PLUGIN_VERSION2:-}"
NODES=(node1 node2 node3)
WALLET=ha-wallet

WORK=""
BIN=""
CA=""
LOADGEN_PID=""
PASSED=0
FAILED=0
SKIPPED=0

# --- plumbing -----------------------------------------------------------------------------

say() { printf '%s\n' "$*" >&2; }

fail() {
    say "    ASSERTION FAILED: $*"
    exit 1
}

# record NAME VALUE [NOTE] — one line for the summary; a NAME ending in _ms is a duration in ms,
# anything else a count
record() {
    printf '%s\t%s\t%s\n' "$1" "$2" "${3:-}" >>"$WORK/timings.tsv"
    if [[ "$1" == *_ms ]]; then
        say "    timing: $1 = $(fmt_ms "$2") s${3:+ ($3)}"
    else
        say "    count: $1 = $2${3:+ ($3)}"
    fi
}

# ha NODE COMMAND... — setup-ha.sh for one node. Its stderr is shown indented and, with its
# stdout, kept in the transcript (checked for leaked secrets); its stdout is returned. (Files, not
# pipes: a server started by `start` must not inherit a pipe that someone waits on.)
ha() {
    local n="$1" out err rc=0
    shift
    out="$(mktemp "$WORK/.ha-out.XXXXXX")"
    err="$(mktemp "$WORK/.ha-err.XXXXXX")"
    "$SETUP" --env "$WORK/$n/.env" "$@" >"$out" 2>"$err" || rc=$?
    cat "$err" "$out" >>"$WORK/transcript.log"
    sed 's/^/    | /' "$err" >&2
    cat "$out"
    rm -f -- "$out" "$err"
    return "$rc"
}

url_of() {
    # url_of NODE — API URL of a node of the shamir cluster (node1..3, t1..3) or the unsealer
    case "$1" in
        node1 | t1) printf 'https://%s:%s\n' "${IPS[0]}" "$API_PORT" ;;
        node2 | t2) printf 'https://%s:%s\n' "${IPS[1]}" "$API_PORT" ;;
        node3 | t3) printf 'https://%s:%s\n' "${IPS[2]}" "$API_PORT" ;;
        node4) printf 'https://%s:%s\n' "$SPARE_IP" "$API_PORT" ;;
        unsealer) printf 'https://%s:%s\n' "$UNSEALER_IP" "$API_PORT" ;;
        *) return 1 ;;
    esac
}

node_of_url() {
    # node_of_url URL NODE... — which of the NODEs has this URL
    local u="$1" n
    shift
    for n in "$@"; do
        [[ "$(url_of "$n")" == "$u" ]] && { printf '%s\n' "$n"; return 0; }
    done
    return 1
}

# bcli URL ARGS... — the plain CLI against one node (token from the environment)
bcli() {
    local u="$1"
    shift
    VAULT_ADDR="$u" BAO_ADDR="$u" VAULT_CACERT="$CA" BAO_CACERT="$CA" \
        VAULT_MAX_RETRIES=0 BAO_MAX_RETRIES=0 VAULT_CLIENT_TIMEOUT=5s BAO_CLIENT_TIMEOUT=5s "$BIN" "$@"
}

use_token_of() {
    # use_token_of ROOT_TOKEN_FILE — export the root token vault-init wrote there (apart from the
    # keys) for bcli and a curl header file, as the guide tells the operator to do
    local t
    t="$(<"$1")"
    [[ -n "$t" && "$t" != null ]] || fail "no root token in $1"
    export VAULT_TOKEN="$t" BAO_TOKEN="$t"
    (umask 077 && printf 'X-Vault-Token: %s\n' "$t" >"$WORK/token.hdr")
}

# api METHOD URL PATH [JSON] — curl with the token header from a 0600 file (not on a command
# line); prints the body, returns 0 on a 2xx
api() {
    local m="$1" u="$2" p="$3" body="${4:-}" out code
    out="$(mktemp "$WORK/api.XXXXXX")"
    code="$(curl -sS -o "$out" -w '%{http_code}' --max-time 5 --cacert "$CA" -H @"$WORK/token.hdr" \
        -X "$m" ${body:+--data-binary "$body"} "$u/v1/$p" 2>/dev/null || true)"
    cat "$out"
    rm -f -- "$out"
    [[ "$code" == 2* ]]
}

leader_of() {
    # leader_of NODE... — name of the active node, asked of the given nodes
    local n body l
    for n in "$@"; do
        body="$(curl -sS --max-time 3 --cacert "$CA" "$(url_of "$n")/v1/sys/leader" 2>/dev/null)" || continue
        l="$(jq -r '.leader_address // empty' <<<"$body" 2>/dev/null || true)"
        [[ -n "$l" ]] || continue
        node_of_url "$l" "$@" && return 0
    done
    return 1
}

health_of() {
    curl -sS -o /dev/null -w '%{http_code}' --max-time 3 --cacert "$CA" "$(url_of "$1")/v1/sys/health" 2>/dev/null || true
}

is_standby() { [[ "$(health_of "$1")" == 429 ]]; }
is_active_node() { [[ "$(health_of "$1")" == 200 ]]; }

port_free() {
    # true when nothing accepts connections on IP:PORT
    ! (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null
}

write_env() {
    # write_env DIR NODE_ID IP PEERS [EXTRA...] — one node's .env, as an operator would
    local dir="$1" id="$2" ip="$3" peers="$4"
    shift 4
    mkdir -p "$dir"
    {
        printf 'NODE_ID=%s\nNODE_IP=%s\nNODE_FQDN=%s.ha.test\nNODE_ADDR=%s\n' "$id" "$ip" "$id" "$ip"
        printf 'HA_MODE=native\nHA_PEERS="%s"\n' "$peers"
        printf 'API_PORT=%s\nCLUSTER_PORT=%s\n' "$API_PORT" "$CLUSTER_PORT"
        printf 'RAFT_PERFORMANCE_MULTIPLIER=1\nVAULT_BIN=%s\n' "$BIN"
        printf 'START_TIMEOUT=30\nUNSEAL_TIMEOUT=90\nCLUSTER_TIMEOUT=120\n'
        local kv
        for kv in "$@"; do
            printf '%s\n' "$kv"
        done
    } >"$dir/.env"
}

# plugin_procs_of NODE — executables of the plugin processes the node's server has started
plugin_procs_of() {
    local spid p exe
    spid="$(<"$WORK/$1/vault.pid")"
    for p in /proc/[0-9]*; do
        [[ -r "$p/stat" ]] || continue
        local st
        st="$(cat "$p/stat" 2>/dev/null)" || continue
        st="${st##*) }"
        read -r _ ppid _ <<<"$st"
        [[ "$ppid" == "$spid" ]] || continue
        exe="$(readlink "$p/exe" 2>/dev/null || true)"
        [[ "$exe" == "$WORK/$1/plugins/"* ]] && printf '%s\n' "$(basename "$exe")"
    done
    return 0
}

node_runs_plugin_file() {
    plugin_procs_of "$1" | grep -qx -- "$2"
}

# --- cleanup ------------------------------------------------------------------------------

cleanup() {
    local rc=$?
    set +e
    if [[ -n "$LOADGEN_PID" ]]; then
        kill "$LOADGEN_PID" 2>/dev/null
    fi
    if [[ -n "$WORK" && -d "$WORK" ]]; then
        local pf dir
        for pf in "$WORK"/*/vault.pid; do
            [[ -f "$pf" ]] || continue
            dir="$(dirname "$pf")"
            pid_stop "$pf" "$dir/config/vault.hcl" 20 || say "could not stop the server of $dir"
        done
        if ((FAILED == 0 && rc == 0)) && [[ "${HA_TEST_KEEP:-0}" != 1 ]]; then
            case "$WORK" in
                */ha-test.*) rm -rf -- "$WORK" ;;
            esac
        else
            say "work directory kept: $WORK (transcript.log, */logs/server.log)"
        fi
    fi
    exit "$rc"
}

# --- scenario 1: bring-up -------------------------------------------------------------------

scenario_1() {
    local t0 t n i peers
    t0="$(now_ms)"
    peers="node1=${IPS[0]} node2=${IPS[1]} node3=${IPS[2]}"
    for i in 0 1 2; do
        n="${NODES[$i]}"
        # Nodes 2 and 3 take their unseal keys from node 1's file here; on real servers the
        # administrators type them (vault-unseal prompts without echo).
        write_env "$WORK/$n" "$n" "${IPS[$i]}" "$peers" "UNSEAL_KEYS_FILE=$WORK/node1/vault-init-keys.json"
        ha "$n" init-dirs
    done
    ha node1 gen-ca
    CA="$WORK/node1/tls/ca.pem"
    for n in node2 node3; do
        install -m 644 "$WORK/node1/tls/ca.pem" "$WORK/$n/tls/ca.pem"
        install -m 600 "$WORK/node1/tls/ca-key.pem" "$WORK/$n/tls/ca-key.pem"
    done
    for i in 0 1 2; do
        n="${NODES[$i]}"
        ha "$n" gen-cert
        openssl x509 -in "$WORK/$n/tls/cert.pem" -noout -ext subjectAltName | grep -q "IP Address:${IPS[$i]}" \
            || fail "certificate of $n lacks the IP SAN ${IPS[$i]}"
        ha "$n" prepare-config
        grep -q 'performance_multiplier = 1' "$WORK/$n/config/vault.hcl" || fail "config of $n lacks performance_multiplier"
        [[ "$(grep -c 'retry_join {' "$WORK/$n/config/vault.hcl")" == 3 ]] || fail "config of $n lacks 3 retry_join blocks"
    done
    for n in "${NODES[@]}"; do
        ha "$n" start
        [[ "$(health_of "$n")" == 501 ]] || fail "$n should report 501 (not initialised) before init"
    done

    t="$(now_ms)"
    ha node1 vault-init
    record init_ms "$(( $(now_ms) - t ))" "operator init, 5 shares / threshold 3"
    local keys="$WORK/node1/vault-init-keys.json"
    [[ "$(stat -c %a "$keys")" == 600 ]] || fail "init keys file is not mode 0600"
    [[ "$(jq '.unseal_keys_b64 | length' "$keys")" == 5 && "$(jq '.unseal_threshold' "$keys")" == 3 ]] \
        || fail "init did not produce 5 shares with threshold 3"
    ha node1 vault-init # idempotent: a second run must not touch the file
    # The root token is not in the keys file but alone in another 0600 file, outside secrets/.
    ! jq -e 'has("root_token")' "$keys" >/dev/null || fail "the keys file holds the root token"
    [[ "$(stat -c %a "$WORK/node1/root-token")" == 600 ]] || fail "root-token is not mode 0600"
    [[ ! -e "$WORK/node2/root-token" && ! -e "$WORK/node2/vault-init-keys.json" ]] \
        || fail "keys or root token were copied to node2"
    # ... and is never used by the scripts unless the operator exports it.
    local out
    if out="$(unset VAULT_TOKEN BAO_TOKEN && ha node1 raft-status 2>&1)"; then
        fail "raft-status ran without a token (the root token file was picked up silently)"
    fi
    grep -q 'not used unless you export it' <<<"$out" || fail "no clear 'no token' message: $out"
    # .env is read only from the node directory named (--env / NODE_DIR), never ./.env.
    if out="$(cd "$WORK/node1" && env -u NODE_DIR -u ENV_FILE "$SETUP" status 2>&1)"; then
        fail "setup-ha.sh read ./.env of the current directory"
    fi
    grep -q 'name the node' <<<"$out" || fail "no clear message when no node is named: $out"
    use_token_of "$WORK/node1/root-token"

    for n in "${NODES[@]}"; do
        ha "$n" vault-unseal
    done
    local t_unsealed
    t_unsealed="$(now_ms)"
    ha node1 raft-status --expect-voters 3 --timeout 120 >"$WORK/raft-1.txt"
    record voters_after_last_unseal_ms "$(( $(now_ms) - t_unsealed ))" "autopilot promotes the followers"
    cat "$WORK/raft-1.txt" >&2
    [[ "$(awk '$4 == "true"' "$WORK/raft-1.txt" | wc -l)" == 3 ]] || fail "raft-status does not list 3 voters"
    [[ "$(awk '$3 == "leader"' "$WORK/raft-1.txt" | wc -l)" == 1 ]] || fail "raft-status does not list one leader"
    record bringup_ms "$(( $(now_ms) - t0 ))" "init-dirs to 3 voters"
    ha node2 status >&2

    # The audit table is replicated: a standby whose audit stanza differs cannot take over.
    local a1
    a1="$(sed -n '/^audit /,/^}/p' "$WORK/node1/config/vault.hcl")"
    for n in node2 node3; do
        [[ "$(sed -n '/^audit /,/^}/p' "$WORK/$n/config/vault.hcl")" == "$a1" ]] \
            || fail "the audit stanza of $n differs from node1's"
    done
    for n in "${NODES[@]}"; do
        ! grep -q 'post-unseal setup failed' "$WORK/$n/logs/server.log" \
            || fail "$n logged a failed post-unseal setup (it could not take over)"
    done
    [[ -s "$WORK/$(leader_of "${NODES[@]}")/logs/audit.log" ]] || fail "the active node writes no audit log"

    # No secret may appear in anything the scripts printed.
    local secret
    while IFS= read -r secret; do
        [[ -n "$secret" ]] || continue
        if grep -qF -- "$secret" "$WORK/transcript.log"; then
            fail "a key or the root token appeared in the scripts' output"
        fi
    done < <(jq -r '.unseal_keys_b64[], .unseal_keys_hex[]' "$keys"; cat "$WORK/node1/root-token"; echo)
    say "    no unseal key or root token in the scripts' output"

    # Stand-in engines for the scenarios that need data before the plugin exists.
    local l
    l="$(url_of "$(leader_of "${NODES[@]}")")"
    bcli "$l" secrets enable -path=kv kv-v2 >/dev/null
    bcli "$l" secrets enable -path=transit transit >/dev/null
    bcli "$l" write -f transit/keys/"$WALLET" type=ecdsa-p256 >/dev/null
}

# The stand-in "wallet": a transit key. Its public key plays the address.
standin_pubkey() {
    bcli "$1" read -format=json "transit/keys/$WALLET" | jq -r '.data.keys["1"].public_key'
}

standin_sign_verify() {
    # standin_sign_verify URL — sign through URL and verify the signature (any node)
    local u="$1" sig input
    input="$(printf 'ha-test %s' "$(now_ms)" | base64)"
    sig="$(bcli "$u" write -format=json "transit/sign/$WALLET" input="$input" | jq -r '.data.signature')"
    [[ "$sig" == vault:v1:* ]] || return 1
    [[ "$(bcli "$u" write -format=json "transit/verify/$WALLET" input="$input" signature="$sig" | jq -r '.data.valid')" == true ]]
}

# --- scenario 2: plugin registration and use through every node ------------------------------
#
# The wallet's identity is its ethereum address. Signing through a standby is a real forwarded
# write: the wallet has a daily-limit policy, so every signature first records the amount in
# storage, which only the active node can do (the standby's plugin gets "cannot write to
# readonly storage" and the host forwards the request).

# wallet_id URL — the wallet's identity as served by that node
wallet_id() {
    bcli "$1" read -format=json "crypto/wallets/$WALLET/addresses/ethereum" | jq -r '.data.address'
}

wallet_id_is() {
    [[ "$(wallet_id "$1" 2>/dev/null)" == "$2" ]]
}

# wallet_use URL — sign an EIP-1559 transaction through that node; print the signer
wallet_use() {
    bcli "$1" write -format=json "crypto/wallets/$WALLET/ethereum/sign-transaction" \
        chain_id=1 nonce=0 gas_limit=21000 to=0x000000000000000000000000000000000000dEaD value=1 \
        max_fee_per_gas=2000000000 max_priority_fee_per_gas=1000000000 | jq -r '.data.from'
}

scenario_2() {
    local n id a standby
    for n in "${NODES[@]}"; do
        ha "$n" install-plugin "$PLUGIN_BIN" "$PLUGIN_VERSION" >/dev/null
    done
    ha node1 register-plugin "$PLUGIN_VERSION"
    ha node1 verify-plugin "$PLUGIN_VERSION" >&2
    # Each node (standbys included) runs its own plugin process for the mount.
    for n in "${NODES[@]}"; do
        wait_until 30 "$n to run the plugin" node_runs_plugin_file "$n" "vault-plugin-crypto-$PLUGIN_VERSION" \
            || fail "$n does not run plugins/vault-plugin-crypto-$PLUGIN_VERSION"
    done
    bcli "$(url_of node1)" write -format=json "crypto/wallets/$WALLET" words=12 >/dev/null \
        || fail "creating the wallet through node1 failed"
    bcli "$(url_of node1)" write "crypto/policies/$WALLET/ethereum" allowed_chain_ids=1 max_value_per_day=1000000 >/dev/null \
        || fail "writing the wallet's policy through node1 failed"
    id="$(wallet_id "$(url_of node1)")"
    [[ -n "$id" && "$id" != null ]] || fail "no wallet identity from node1"
    for n in node2 node3; do
        # Standbys serve reads from replicated storage: allow a short replication lag.
        wait_until 10 "$n to serve the same wallet ($id)" wallet_id_is "$(url_of "$n")" "$id" \
            || fail "$n does not serve the wallet as $id"
    done
    standby=""
    for n in "${NODES[@]}"; do
        if is_standby "$n"; then standby="$n"; break; fi
    done
    [[ -n "$standby" ]] || fail "no standby found"
    a="$(wallet_use "$(url_of "$standby")")" || fail "signing through standby $standby failed"
    [[ "$a" == "$id" ]] || fail "signing through standby $standby gave $a, want $id"
    printf '%s\n' "$id" >"$WORK/wallet.id"
    say "    wallet $WALLET: $id on all nodes; signed through standby $standby (counter write forwarded)"
    standby_policy_window "$standby"
}

_sign_msg() { api POST "$1" "crypto/wallets/$2/ethereum/sign-message" '{"message":"window"}' >/dev/null; }
# refused by the policy rule, not by any failure
_msg_refused() {
    local out
    if out="$(api POST "$1" "crypto/wallets/$2/ethereum/sign-message" '{"message":"window"}')"; then
        return 1
    fi
    grep -q allow_message_signing <<<"$out"
}

# standby_policy_window STANDBY — how long a standby keeps signing under a policy the active
# node has just tightened. The standby's plugin caches policies and learns of a replicated change
# through the host's InvalidateKey; message signing is served by the standby itself (no storage
# write), so it shows the window. Polled every 50 ms; the figure includes the write's latency.
standby_policy_window() {
    local standby="$1" w="$WALLET-window" t0 ms
    bcli "$(url_of node1)" write -format=json "crypto/wallets/$w" words=12 >/dev/null \
        || fail "creating wallet $w failed"
    bcli "$(url_of node1)" write "crypto/policies/$w/ethereum" allow_message_signing=true >/dev/null \
        || fail "writing the policy of $w failed"
    # The standby has the wallet and the (permissive) policy in its caches.
    wait_until 10 "$standby to sign with $w" _sign_msg "$(url_of "$standby")" "$w" \
        || fail "$standby does not sign with $w"
    t0="$(now_ms)"
    bcli "$(url_of node1)" write "crypto/policies/$w/ethereum" allow_message_signing=false >/dev/null \
        || fail "tightening the policy of $w failed"
    WAIT_INTERVAL=0.05 wait_until 30 "$standby to refuse message signing" \
        _msg_refused "$(url_of "$standby")" "$w" \
        || fail "$standby still signs 30 s after the policy was tightened"
    ms=$(( $(now_ms) - t0 ))
    printf '%s\n' "$ms" >"$WORK/standby-window.ms"
    say "    policy tightened through node1: standby $standby signed under the old policy for at most ${ms} ms"
}

# --- scenario 11: approvals across nodes -----------------------------------------------------

# api_as TOKEN METHOD URL PATH [JSON] — like api, with another token (from a 0600 file)
api_as() {
    local tok="$1" hdr
    shift
    hdr="$(mktemp "$WORK/hdr.XXXXXX")"
    printf 'X-Vault-Token: %s\n' "$tok" >"$hdr"
    local m="$1" u="$2" p="$3" body="${4:-}" out code
    out="$(mktemp "$WORK/api.XXXXXX")"
    code="$(curl -sS -o "$out" -w '%{http_code}' --max-time 5 --cacert "$CA" -H @"$hdr" \
        -X "$m" ${body:+--data-binary "$body"} "$u/v1/$p" 2>/dev/null || true)"
    cat "$out"
    rm -f -- "$out" "$hdr"
    [[ "$code" == 2* ]]
}

# _login USER NODE — log USER in through NODE; prints "TOKEN ENTITY_ID"
_login() {
    local out
    out="$(curl -sS --max-time 5 --cacert "$CA" -X POST --data-binary '{"password":"pw-of-ha-test"}' \
        "$(url_of "$2")/v1/auth/userpass/login/$1")" || return 1
    jq -r '"\(.auth.client_token) \(.auth.entity_id)"' <<<"$out"
}

scenario_11() {
    local w="$WALLET-appr" plain="$WALLET-plain" u n order=() s1 s2 lead
    local rita alice bob rita_e alice_e bob_e id out want got
    local mn="abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about"
    lead="$(leader_of "${NODES[@]}")" || fail "no leader"
    for n in "${NODES[@]}"; do
        [[ "$n" != "$lead" ]] && order+=("$n")
    done
    s1="${order[0]}" s2="${order[1]}"
    u="$(url_of "$lead")"
    api POST "$u" sys/auth/userpass '{"type":"userpass"}' >/dev/null || fail "enabling userpass failed"
    api POST "$u" sys/policies/acl/appr-test \
        '{"policy":"path \"crypto/wallets/*\" { capabilities = [\"update\"] }\npath \"crypto/approvals/*\" { capabilities = [\"read\", \"update\", \"list\"] }"}' \
        >/dev/null || fail "writing the ACL policy failed"
    for n in rita alice bob; do
        api POST "$u" "auth/userpass/users/$n" '{"password":"pw-of-ha-test","token_policies":["appr-test"]}' >/dev/null \
            || fail "creating user $n failed"
    done
    # Each logs in through another node (a login on a standby is forwarded).
    read -r rita rita_e <<<"$(_login rita "$s1")" || fail "rita cannot log in"
    read -r alice alice_e <<<"$(_login alice "$s2")" || fail "alice cannot log in"
    read -r bob bob_e <<<"$(_login bob "$lead")" || fail "bob cannot log in"
    [[ -n "$alice_e" && "$alice_e" != null && -n "$bob_e" && -n "$rita_e" ]] || fail "a login has no entity"
    api POST "$u" identity/group "{\"name\":\"finance\",\"member_entity_ids\":[\"$alice_e\",\"$bob_e\"]}" >/dev/null \
        || fail "creating the group failed"
    api POST "$u" "crypto/wallets/$w" "{\"mnemonic\":\"$mn\"}" >/dev/null || fail "creating $w failed"
    api POST "$u" "crypto/wallets/$plain" "{\"mnemonic\":\"$mn\"}" >/dev/null || fail "creating $plain failed"
    api POST "$u" "crypto/policies/$w/ethereum" '{"approvals_required":2,"approver_group":"finance"}' >/dev/null \
        || fail "writing the approvals policy failed"
    want="$(api POST "$u" "crypto/wallets/$plain/ethereum/sign-message" '{"message":"ha approvals"}' | jq -r '.data.signature')"

    # The request through standby s1: stored by the active node (a forwarded write).
    wait_until 10 "$s1 to serve the policy" _pending_via "$rita" "$(url_of "$s1")" "$w" \
        || fail "no pending request through $s1: $(cat "$WORK/pending.json" 2>/dev/null)"
    id="$(jq -r '.data.approval_id' "$WORK/pending.json")"
    [[ "$id" =~ ^[0-9a-f]{32}$ ]] || fail "no approval id: $(cat "$WORK/pending.json")"
    # alice approves through s2, bob through the leader.
    wait_until 10 "alice to approve through $s2" api_as "$alice" POST "$(url_of "$s2")" "crypto/approvals/$id/approve" \
        || fail "alice cannot approve through $s2"
    out="$(api_as "$bob" POST "$(url_of "$lead")" "crypto/approvals/$id/approve")" || fail "bob cannot approve: $out"
    [[ "$(jq -r '.data.status' <<<"$out")" == approved ]] || fail "not approved after two: $out"
    # The signature through s2 (neither the request's node nor the last approval's).
    out=""
    wait_until 10 "rita to sign through $s2" _sign_via "$rita" "$(url_of "$s2")" "$id" \
        || fail "rita cannot sign through $s2: $(cat "$WORK/signed.json" 2>/dev/null)"
    got="$(jq -r '.data.signature' "$WORK/signed.json")"
    [[ "$got" == "$want" ]] || fail "approved signature $got differs from the plain wallet's $want"
    # One signature per request, whichever node is asked.
    for n in "${NODES[@]}"; do
        if out="$(api_as "$rita" POST "$(url_of "$n")" "crypto/approvals/$id/sign")"; then
            fail "a second sign through $n succeeded: $out"
        fi
        grep -q "status signed" <<<"$out" || fail "second sign through $n: unexpected answer $out"
    done
    say "    request via $s1, approvals via $s2 and $lead, signature via $s2; second sign refused on every node"
}

_pending_via() {
    api_as "$1" POST "$2" "crypto/wallets/$3/ethereum/sign-message" '{"message":"ha approvals"}' >"$WORK/pending.json" \
        && [[ "$(jq -r '.data.status' "$WORK/pending.json")" == pending ]]
}

_sign_via() {
    api_as "$1" POST "$2" "crypto/approvals/$3/sign" >"$WORK/signed.json"
}

# --- scenario 3: leader SIGKILL ----------------------------------------------------------------

_write_probe() {
    # one write through any of the given nodes (a standby forwards it to the active node)
    local n
    for n in "$@"; do
        if api POST "$(url_of "$n")" kv/data/failover "{\"data\":{\"t\":\"$(now_ms)\"}}" >/dev/null; then
            return 0
        fi
    done
    return 1
}

_rejoined_as_follower() {
    # _rejoined_as_follower NODE — standby, and a raft voter that is not the leader
    local n="$1" j
    is_standby "$n" || return 1
    j="$(bcli "$(url_of node1)" operator raft list-peers -format=json 2>/dev/null \
        || bcli "$(url_of node2)" operator raft list-peers -format=json 2>/dev/null \
        || bcli "$(url_of node3)" operator raft list-peers -format=json 2>/dev/null)" || return 1
    [[ "$(jq -r --arg n "$n" '.data.config.servers[] | select(.node_id == $n) | "\(.voter) \(.leader)"' <<<"$j")" == "true false" ]]
}

_kv_value_is() {
    [[ "$(bcli "$(url_of "$1")" kv get -format=json kv/before-kill 2>/dev/null | jq -r '.data.data.v')" == "$2" ]]
}

scenario_3() {
    local leader survivors=() n pid t0 t_fail new pub_before pub_after addr
    leader="$(leader_of "${NODES[@]}")" || fail "no leader"
    for n in "${NODES[@]}"; do
        [[ "$n" == "$leader" ]] || survivors+=("$n")
    done
    pub_before="$(standin_pubkey "$(url_of "$leader")")"
    bcli "$(url_of "$leader")" kv put kv/before-kill v=42 >/dev/null
    pid="$(<"$WORK/$leader/vault.pid")"
    say "    leader is $leader (pid $pid); SIGKILL"
    t0="$(now_ms)"
    kill -KILL "$pid"
    WAIT_INTERVAL=0.1 wait_until 60 "a write through ${survivors[*]} to succeed" _write_probe "${survivors[@]}" \
        || fail "no write accepted within 60 s of the leader's death"
    t_fail="$(( $(now_ms) - t0 ))"
    new="$(leader_of "${survivors[@]}")" || fail "no new leader"
    [[ "$new" != "$leader" ]] || fail "leader unchanged"
    record failover_ms "$t_fail" "SIGKILL of $leader -> write accepted, new leader $new"

    pub_after="$(standin_pubkey "$(url_of "$new")")"
    [[ "$pub_after" == "$pub_before" ]] || fail "the stand-in wallet's public key changed"
    standin_sign_verify "$(url_of "$new")" || fail "signing through the new leader failed"
    if [[ -s "$WORK/wallet.id" ]]; then
        addr="$(<"$WORK/wallet.id")"
        [[ "$(wallet_use "$(url_of "$new")")" == "$addr" ]] \
            || fail "the plugin wallet is not $addr on the new leader"
        say "    plugin wallet used on the new leader: $addr"
    fi

    t0="$(now_ms)"
    ha "$leader" start
    ha "$leader" vault-unseal
    wait_until 90 "$leader to rejoin as a follower" _rejoined_as_follower "$leader" \
        || fail "$leader did not rejoin as a voting follower"
    record rejoin_ms "$(( $(now_ms) - t0 ))" "restart + unseal of $leader until it is a voting follower"
    wait_until 10 "$leader to serve the replicated data" _kv_value_is "$leader" 42 \
        || fail "$leader does not serve data written before the kill"
    ha node1 raft-status >&2

    # For the fail-over table: a graceful stop (SIGTERM) of the leader, and step-down.
    leader="$(leader_of "${NODES[@]}")" || fail "no leader"
    survivors=()
    for n in "${NODES[@]}"; do
        [[ "$n" == "$leader" ]] || survivors+=("$n")
    done
    t0="$(now_ms)"
    ha "$leader" stop
    WAIT_INTERVAL=0.1 wait_until 60 "a write after the leader's graceful stop" _write_probe "${survivors[@]}" \
        || fail "no write accepted within 60 s of stopping the leader"
    record graceful_stop_failover_ms "$(( $(now_ms) - t0 ))" "SIGTERM of leader $leader -> write accepted"
    ha "$leader" start
    ha "$leader" vault-unseal
    wait_until 90 "$leader to rejoin as a follower" _rejoined_as_follower "$leader" \
        || fail "$leader did not rejoin after its graceful stop"

    t0="$(now_ms)"
    ha node2 step-down >/dev/null
    WAIT_INTERVAL=0.1 wait_until 60 "a write after step-down" _write_probe "${NODES[@]}" \
        || fail "no write accepted within 60 s of step-down"
    record step_down_ms "$(( $(now_ms) - t0 ))" "step-down -> write accepted, active: $(leader_of "${NODES[@]}")"
}

# --- scenario 4: backup / restore ---------------------------------------------------------------

_kv_wallet_is() {
    [[ "$(bcli "$(url_of "$1")" kv get -format=json kv/wallets/w2 2>/dev/null | jq -r '.data.data.note')" == "$2" ]]
}

_restore_done() {
    # every node unsealed, and the restored secret is served by the active node
    local n
    for n in "${NODES[@]}"; do
        [[ "$(health_of "$n")" == 200 || "$(health_of "$n")" == 429 ]] || return 1
    done
    _kv_wallet_is "$(leader_of "${NODES[@]}")" "keep me"
}

scenario_4() {
    local l snap pub addr="" t0 n
    l="$(url_of "$(leader_of "${NODES[@]}")")"
    bcli "$l" kv put kv/wallets/w2 note="keep me" >/dev/null
    pub="$(standin_pubkey "$l")"
    [[ -s "$WORK/wallet.id" ]] && addr="$(<"$WORK/wallet.id")"

    t0="$(now_ms)"
    snap="$(ha node2 backup)"
    record snapshot_save_ms "$(( $(now_ms) - t0 ))" "backup command"
    [[ -s "$snap" ]] || fail "backup produced no file"
    [[ "$(stat -c %a "$snap")" == 600 ]] || fail "snapshot is not mode 0600"
    (cd "$(dirname "$snap")" && sha256sum --quiet -c "$(basename "$snap").sha256") || fail "snapshot checksum"

    # Lose the data.
    bcli "$l" kv metadata delete kv/wallets/w2 >/dev/null
    bcli "$l" write "transit/keys/$WALLET/config" deletion_allowed=true >/dev/null
    bcli "$l" delete "transit/keys/$WALLET" >/dev/null
    if [[ -n "$addr" ]]; then
        bcli "$l" write "crypto/wallets/$WALLET" deletion_allowed=true >/dev/null
        bcli "$l" delete "crypto/wallets/$WALLET" >/dev/null
        ! bcli "$l" read "crypto/wallets/$WALLET" >/dev/null 2>&1 || fail "plugin wallet not deleted"
    fi
    ! bcli "$l" read "transit/keys/$WALLET" >/dev/null 2>&1 || fail "stand-in wallet not deleted"
    ! _kv_wallet_is "$(leader_of "${NODES[@]}")" "keep me" || fail "kv secret not deleted"

    t0="$(now_ms)"
    ha node3 restore "$snap" --yes
    wait_until 60 "the restored data on the active node" _restore_done || fail "data not back after restore"
    record restore_ms "$(( $(now_ms) - t0 ))" "restore command to data served again"
    l="$(url_of "$(leader_of "${NODES[@]}")")"
    for n in "${NODES[@]}"; do
        wait_until 10 "$n to serve the restored secret" _kv_wallet_is "$n" "keep me" \
            || fail "$n does not serve the restored secret"
    done
    [[ "$(standin_pubkey "$l")" == "$pub" ]] || fail "restored stand-in wallet has another public key"
    standin_sign_verify "$l" || fail "restored stand-in wallet does not sign"
    if [[ -n "$addr" ]]; then
        for n in "${NODES[@]}"; do
            wait_until 10 "$n to serve the restored wallet" wallet_id_is "$(url_of "$n")" "$addr" \
                || fail "$n does not serve $addr after the restore"
        done
        [[ "$(wallet_use "$l")" == "$addr" ]] || fail "restored wallet signs as another identity"
    fi
    say "    data back after restore; wallet signs with the same key"
}

# --- scenario 5: upgrade under load -----------------------------------------------------------

_loadgen() {
    # Bounded: at most 20000 requests or 180 s; stops when $WORK/load.stop appears.
    local i=0 n u deadline ok=0 bad=0 out
    deadline=$(( $(now_ms) + 180000 ))
    while [[ ! -e "$WORK/load.stop" ]] && ((i < 20000)) && (($(now_ms) < deadline)); do
        n="${NODES[$((i % 3))]}"
        u="$(url_of "$n")"
        if out="$(_load_request "$u" "$i")"; then
            ok=$((ok + 1))
        else
            bad=$((bad + 1))
            printf '%s %s %s\n' "$(now_ms)" "$n" "$out" >>"$WORK/load.errors"
        fi
        i=$((i + 1))
        printf '%s %s\n' "$ok" "$bad" >"$WORK/load.count.tmp"
        mv -f "$WORK/load.count.tmp" "$WORK/load.count"
    done
}

_load_request() {
    # alternately sign a message (served by any node) and a transaction (its counter write is
    # forwarded to the active node by a standby)
    if (($2 % 2)); then
        api POST "$1" "crypto/wallets/$WALLET/ethereum/sign-transaction" \
            '{"chain_id":1,"nonce":0,"gas_limit":21000,"to":"0x000000000000000000000000000000000000dEaD","value":"1","gas_price":"1"}'
    else
        api POST "$1" "crypto/wallets/$WALLET/ethereum/sign-message" '{"message":"load"}'
    fi
}

_load_ok() { awk '{print $1}' "$WORK/load.count" 2>/dev/null || echo 0; }
_load_grew() { (($(_load_ok) >= $1)); }

scenario_5() {
    local n addr ok0 errors
    addr="$(<"$WORK/wallet.id")"
    for n in "${NODES[@]}"; do
        ha "$n" install-plugin "$PLUGIN_BIN2" "$PLUGIN_VERSION2" >/dev/null
    done
    rm -f "$WORK/load.stop" "$WORK/load.errors" "$WORK/load.count"
    # However this scenario ends, the load generator stops (it also stops by itself: bounded).
    trap 'touch "$WORK/load.stop"' EXIT
    _loadgen &
    LOADGEN_PID=$!
    wait_until 30 "the load to start" _load_grew 20 || fail "load generator does not get answers"
    ha node2 upgrade-plugin "$PLUGIN_VERSION2"
    for n in "${NODES[@]}"; do
        wait_until 60 "$n to run $PLUGIN_VERSION2" node_runs_plugin_file "$n" "vault-plugin-crypto-$PLUGIN_VERSION2" \
            || fail "$n does not run the new build"
    done
    ok0="$(_load_ok)"
    wait_until 30 "requests after the upgrade" _load_grew $((ok0 + 50)) || fail "requests stopped after the upgrade"
    touch "$WORK/load.stop"
    wait_until 30 "the load generator to stop" _ha_not_alive_pid "$LOADGEN_PID" || kill "$LOADGEN_PID"
    wait "$LOADGEN_PID" 2>/dev/null || true
    LOADGEN_PID=""
    errors="$(awk '{print $2}' "$WORK/load.count")"
    record upgrade_failed_requests "$errors" "$(awk '{print $1}' "$WORK/load.count") requests succeeded during the upgrade"
    ha node1 verify-plugin "$PLUGIN_VERSION2" >&2
    for n in "${NODES[@]}"; do
        wallet_id_is "$(url_of "$n")" "$addr" || fail "$n lost the wallet after the upgrade"
    done
    if ((errors > 0)); then
        head -n 5 "$WORK/load.errors" >&2
        fail "$errors requests failed during the upgrade"
    fi
}

_ha_not_alive_pid() { ! kill -0 "$1" 2>/dev/null; }

# --- scenario 9: fail-over under load -------------------------------------------------------------
#
# ha-load (tests/src/bin/ha-load.rs) signs through all three nodes with the SDK (each worker pinned
# to one node, the others as fail-over) while the leader is SIGKILLed and later restarted. It
# recovers every returned signature with alloy. Afterwards: no wallet lost or changed on any node,
# and the daily-limit counter of the limit wallet equals the transactions it signed (plus at most
# the ones whose answer was lost in the kill): nothing signed went uncounted.

HA_LOAD_BIN="${HA_LOAD_BIN:-}"
LOAD_LIMIT=1000000000

_progress() { awk -v f="$2" '{print $f}' "$WORK/load9.json.progress" 2>/dev/null || echo 0; }
_load9_ok_at_least() { (($(_progress ok 1) >= $1)); }

scenario_9() {
    local w leader survivors=() n pid t_kill t_ok ok0 rc=0 report sent ok failed refused bad first last
    local ok_tx failed_tx v used probes l ids=()
    leader="$(leader_of "${NODES[@]}")" || fail "no leader"
    for w in load-a load-b load-limit; do
        bcli "$(url_of "$leader")" write -format=json "crypto/wallets/$w" words=12 >/dev/null \
            || fail "creating wallet $w failed"
    done
    bcli "$(url_of "$leader")" write "crypto/policies/load-limit/ethereum" \
        allowed_chain_ids=1 max_value_per_day="$LOAD_LIMIT" >/dev/null || fail "writing the limit policy failed"
    for w in "$WALLET" load-a load-b load-limit; do
        ids+=("$w=$(bcli "$(url_of "$leader")" read -format=json "crypto/wallets/$w/addresses/ethereum" | jq -r '.data.address')")
    done

    rm -f "$WORK/load9.stop" "$WORK/load9.json" "$WORK/load9.json.progress"
    trap 'touch "$WORK/load9.stop"' EXIT
    "$HA_LOAD_BIN" --node "$(url_of node1)" --node "$(url_of node2)" --node "$(url_of node3)" \
        --cacert "$CA" --wallet "$WALLET" --wallet load-a --wallet load-b --limit-wallet load-limit \
        --stop-file "$WORK/load9.stop" --max-seconds 240 --workers-per-node 2 \
        --report "$WORK/load9.json" >"$WORK/load9.out" 2>&1 &
    LOADGEN_PID=$!
    wait_until 60 "the load to get 100 answers" _load9_ok_at_least 100 || fail "the load generator gets no answers"

    for n in "${NODES[@]}"; do
        [[ "$n" == "$leader" ]] || survivors+=("$n")
    done
    pid="$(<"$WORK/$leader/vault.pid")"
    say "    under load ($(_progress ok 1) signed so far); SIGKILL of leader $leader (pid $pid)"
    t_kill="$(now_ms)"
    kill -KILL "$pid"
    WAIT_INTERVAL=0.1 wait_until 60 "a write through ${survivors[*]}" _write_probe "${survivors[@]}" \
        || fail "no write accepted within 60 s of the leader's death"
    t_ok="$(now_ms)"
    record load_failover_ms "$((t_ok - t_kill))" "SIGKILL of $leader under load -> write accepted"
    ok0="$(_progress ok 1)"
    wait_until 60 "100 more signatures after the fail-over" _load9_ok_at_least $((ok0 + 100)) \
        || fail "signing did not resume after the fail-over"

    ha "$leader" start
    ha "$leader" vault-unseal
    wait_until 90 "$leader to rejoin as a follower" _rejoined_as_follower "$leader" \
        || fail "$leader did not rejoin as a voting follower"
    ok0="$(_progress ok 1)"
    wait_until 60 "100 more signatures with $leader back" _load9_ok_at_least $((ok0 + 100)) \
        || fail "signing stopped after $leader rejoined"

    touch "$WORK/load9.stop"
    wait_until 30 "the load generator to stop" _ha_not_alive_pid "$LOADGEN_PID" || kill "$LOADGEN_PID"
    wait "$LOADGEN_PID" || rc=$?
    LOADGEN_PID=""
    cat "$WORK/load9.out" >&2
    report="$WORK/load9.json"
    [[ -s "$report" ]] || fail "ha-load wrote no report (exit $rc)"
    read -r sent ok failed refused bad ok_tx failed_tx first last < <(jq -r \
        '[.sent, .succeeded, .failed, .refused_by_policy, .bad_signatures, .ok_transactions,
          .failed_transactions, (.first_failure_ms // 0), (.last_failure_ms // 0)] | @tsv' "$report")
    record load_sent "$sent" "signing requests through 3 nodes, leader killed and restarted"
    record load_succeeded "$ok" "every signature recovered to its wallet's address"
    record load_failed "$failed" "requests the SDK client could not complete"
    if ((failed > 0)); then
        record load_failure_window_ms "$((last - first))" \
            "first failure $((first - t_kill)) ms after the kill, last $((last - t_kill)) ms"
        jq -r '.failures[:5][] | "      \(.at_ms) \(.node) \(.kind): \(.error)"' "$report" >&2
    fi
    ((rc == 0 && bad == 0)) || fail "$bad signatures did not verify (ha-load exit $rc)"
    # Failures only around the kill: none before it, none long after the new leader took writes.
    if ((failed > 0)); then
        ((first >= t_kill)) || fail "a request failed before the leader was killed"
        ((last <= t_ok + 15000)) || fail "requests still failed $((last - t_ok)) ms after the fail-over"
    fi
    ((refused == 0)) || fail "$refused requests refused by policy (the limit is far away)"

    # No wallet lost or changed, on any node.
    for n in "${NODES[@]}"; do
        for w in "${ids[@]}"; do
            [[ "$(bcli "$(url_of "$n")" read -format=json "crypto/wallets/${w%%=*}/addresses/ethereum" \
                | jq -r '.data.address')" == "${w#*=}" ]] || fail "$n does not serve wallet ${w%%=*} as ${w#*=}"
        done
    done

    # The counter: find how much of the limit is used. A policy refusal records nothing, so
    # probe downwards from "exactly what the signed transactions used" until one is accepted.
    l="$(url_of "$(leader_of "${NODES[@]}")")"
    used=""
    probes=0
    for ((v = LOAD_LIMIT - ok_tx; v >= LOAD_LIMIT - ok_tx - failed_tx && probes < 500; v--)); do
        probes=$((probes + 1))
        if api POST "$l" "crypto/wallets/load-limit/ethereum/sign-transaction" \
            "{\"chain_id\":1,\"nonce\":0,\"gas_limit\":21000,\"to\":\"0x000000000000000000000000000000000000dEaD\",\"value\":\"$v\",\"gas_price\":\"1\"}" >/dev/null; then
            used=$((LOAD_LIMIT - v))
            break
        fi
    done
    [[ -n "$used" ]] || fail "the limit wallet's counter is above the $ok_tx signed + $failed_tx unanswered transactions"
    record load_counter "$used" "daily counter after the run: $ok_tx transactions signed, $failed_tx unanswered"
    ((used >= ok_tx)) || fail "the counter ($used) is below the $ok_tx signed transactions"
    # Now at the limit exactly: one more wei is refused, naming the rule.
    if api POST "$l" "crypto/wallets/load-limit/ethereum/sign-transaction" \
        '{"chain_id":1,"nonce":0,"gas_limit":21000,"to":"0x000000000000000000000000000000000000dEaD","value":"1","gas_price":"1"}' \
        >"$WORK/limit.out"; then
        fail "a transaction over the daily limit was signed"
    fi
    grep -q max_value_per_day "$WORK/limit.out" || fail "the refusal does not name max_value_per_day: $(cat "$WORK/limit.out")"
}

# --- scenario 10: the SDK's registration CLI across the cluster ------------------------------------
#
# vault-crypto-register (sdk/src/bin) moves crypto/ to the version it does not run now (v0.1.1 ->
# v0.1.0 after scenario 5: a rollback; else the other way) through the active node, and verifies
# every node; a wrong SHA256 is reported per node and fails.

REGISTER_BIN="${REGISTER_BIN:-}"

_mount_version() {
    bcli "$(url_of "$(leader_of "${NODES[@]}")")" read -format=json sys/mounts/crypto 2>/dev/null \
        | jq -r '.data.running_plugin_version // empty'
}

scenario_10() {
    local current target file n out id
    current="$(_mount_version)"
    [[ -n "$current" ]] || fail "crypto/ reports no running version"
    if [[ "$current" == "$PLUGIN_VERSION" ]]; then
        target="$PLUGIN_VERSION2" file="$PLUGIN_BIN2"
    else
        target="$PLUGIN_VERSION" file="$PLUGIN_BIN"
    fi
    for n in "${NODES[@]}"; do
        ha "$n" install-plugin "$file" "$target" >/dev/null
    done
    export VAULT_CACERT="$CA" BAO_CACERT="$CA"
    local nodes=(--node "$(url_of node1)" --node "$(url_of node2)" --node "$(url_of node3)")
    "$REGISTER_BIN" status "${nodes[@]}" >"$WORK/reg-status.txt" || fail "register status failed: $(cat "$WORK/reg-status.txt")"
    sed 's/^/      /' "$WORK/reg-status.txt" >&2
    [[ "$(grep -c . "$WORK/reg-status.txt")" -ge 3 ]] || fail "status does not report three nodes"

    say "    vault-crypto-register register: $current -> $target"
    "$REGISTER_BIN" register "${nodes[@]}" --binary "$file" --command "vault-plugin-crypto-$target" \
        --version "$target" --wait 60s >"$WORK/reg-out.txt" || fail "register failed: $(cat "$WORK/reg-out.txt")"
    sed 's/^/      /' "$WORK/reg-out.txt" >&2
    [[ "$(_mount_version)" == "$target" ]] || fail "crypto/ runs $(_mount_version), not $target"
    for n in "${NODES[@]}"; do
        wait_until 60 "$n to run $target" node_runs_plugin_file "$n" "vault-plugin-crypto-$target" \
            || fail "$n does not run vault-plugin-crypto-$target"
    done
    id="$(<"$WORK/wallet.id")"
    for n in "${NODES[@]}"; do
        [[ "$(wallet_use "$(url_of "$n")")" == "$id" ]] || fail "signing through $n after the registration failed"
    done
    "$REGISTER_BIN" verify "${nodes[@]}" --binary "$file" --command "vault-plugin-crypto-$target" \
        --version "$target" >"$WORK/reg-verify.txt" || fail "verify failed: $(cat "$WORK/reg-verify.txt")"

    # A SHA256 the catalog does not hold: reported for every node, non-zero exit.
    if out="$("$REGISTER_BIN" verify "${nodes[@]}" --sha256 "$(printf '0%.0s' {1..64})" \
        --command "vault-plugin-crypto-$target" --version "$target" 2>&1)"; then
        fail "verify accepted a wrong sha256"
    fi
    for n in 1 2 3; do
        grep -q "${IPS[$((n - 1))]}" <<<"$out" || fail "verify did not report node $n: $out"
    done
    say "    every node verified at $target; a wrong sha256 is refused per node"
}

# --- scenario 6: mismatched binary refused --------------------------------------------------------

_catalog_snapshot() {
    bcli "$(url_of "$(leader_of "${NODES[@]}")")" read -format=json sys/plugins/catalog \
        | jq -S '.data.detailed // .data'
}

scenario_6() {
    local v="v0.0.0-refusal" f src out before after
    f="vault-plugin-crypto-$v"
    if [[ -n "$PLUGIN_BIN" ]]; then
        src="$PLUGIN_BIN"
    else
        # A stand-in: register-plugin must refuse before anything executes or registers it.
        src="$WORK/standin-plugin"
        printf '#!/bin/sh\necho "stand-in, not a plugin" >&2\nexit 1\n' >"$src"
        chmod 755 "$src"
    fi
    cp "$src" "$WORK/standin-different"
    printf 'different build\n' >>"$WORK/standin-different"
    ha node1 install-plugin "$src" "$v" >/dev/null
    ha node2 install-plugin "$src" "$v" >/dev/null
    ha node3 install-plugin "$WORK/standin-different" "$v" >/dev/null
    before="$(_catalog_snapshot)"

    if out="$(ha node1 register-plugin "$v" 2>&1)"; then
        fail "register-plugin accepted a different binary on node3"
    fi
    grep -q 'node3: plugins/.* DIFFERENT' <<<"$out" || fail "refusal does not name node3 as different"
    grep -q 'refusing to touch the plugin catalog' <<<"$out" || fail "no clear refusal message"
    if ha node1 verify-plugin "$v" >"$WORK/verify-6.txt" 2>/dev/null; then
        fail "verify-plugin did not flag the difference"
    fi
    grep -q '^node3 .*DIFFERENT' "$WORK/verify-6.txt" || fail "verify-plugin table does not flag node3"

    rm -f -- "$WORK/node3/plugins/$f"
    if out="$(ha node2 register-plugin "$v" 2>&1)"; then
        fail "register-plugin accepted a node without the binary"
    fi
    grep -q 'node3: plugins/.* MISSING' <<<"$out" || fail "refusal does not name node3 as missing"

    after="$(_catalog_snapshot)"
    [[ "$before" == "$after" ]] || fail "the plugin catalog changed"
    ! bcli "$(url_of node1)" plugin info -version="$v" secret vault-plugin-crypto >/dev/null 2>&1 \
        || fail "$v is in the catalog"
    rm -f -- "$WORK"/node*/plugins/"$f"
    say "    refused (different, then missing binary on node3); catalog unchanged"
}

# --- scenario 8: replace a failed node ------------------------------------------------------------

_voters_are() {
    # _voters_are "a b c" — exactly these voters, one of them the leader
    local want="$1" j got
    j="$(bcli "$(url_of node1)" operator raft list-peers -format=json 2>/dev/null)" || return 1
    got="$(jq -r '[.data.config.servers[] | select(.voter == true) | .node_id] | sort | join(" ")' <<<"$j")"
    [[ "$got" == "$want" ]] && [[ "$(jq '[.data.config.servers[] | select(.leader)] | length' <<<"$j")" == 1 ]]
}

scenario_8() {
    local t0 out
    # node3 "fails" (its disk is gone): stop it; node4 on a new address replaces it.
    ha node3 stop
    t0="$(now_ms)"
    write_env "$WORK/node4" node4 "$SPARE_IP" "node1=${IPS[0]} node2=${IPS[1]} node4=$SPARE_IP" \
        "UNSEAL_KEYS_FILE=$WORK/node1/vault-init-keys.json"
    ha node4 init-dirs
    # Every plugin build the cluster may run must be on the new node before it joins (a standby
    # that cannot start a mounted plugin panics on OpenBao 2.7.2).
    local f
    for f in "$WORK"/node1/plugins/vault-plugin-crypto-v*; do
        [[ -f "$f" ]] || continue
        ha node4 install-plugin "$f" "${f##*/vault-plugin-crypto-}" >/dev/null
    done
    install -m 644 "$WORK/node1/tls/ca.pem" "$WORK/node4/tls/ca.pem"
    install -m 600 "$WORK/node1/tls/ca-key.pem" "$WORK/node4/tls/ca-key.pem"
    ha node4 gen-cert
    ha node4 prepare-config
    ha node4 start
    ha node4 vault-unseal
    # remove-peer refuses the leader and unknown ids, then removes the dead node.
    if out="$(ha node1 remove-peer "$(leader_of node1 node2 node4)" 2>&1)"; then
        fail "remove-peer removed the leader"
    fi
    grep -q 'is the leader' <<<"$out" || fail "no clear refusal for the leader"
    if ha node1 remove-peer node9 >/dev/null 2>&1; then
        fail "remove-peer accepted an unknown node"
    fi
    wait_until 90 "node4 to be promoted to voter" _voter node4 || fail "node4 not promoted"
    ha node1 remove-peer node3 >&2
    wait_until 30 "voters node1 node2 node4" _voters_are "node1 node2 node4" \
        || fail "raft configuration is not node1 node2 node4"
    record replace_node_ms "$(( $(now_ms) - t0 ))" "new node4 ready as voter and node3 removed"
    _write_probe node4 || fail "node4 does not accept (forward) writes"
}

_voter() {
    local j
    j="$(bcli "$(url_of node1)" operator raft list-peers -format=json 2>/dev/null)" || return 1
    [[ "$(jq -r --arg n "$1" '.data.config.servers[] | select(.node_id == $n) | .voter' <<<"$j")" == true ]]
}

# --- scenario 7: transit auto-unseal ------------------------------------------------------------

_unsealed_without_keys() {
    [[ "$(curl -sS --max-time 3 --cacert "$CA" "$(url_of "$1")/v1/sys/seal-status" 2>/dev/null | jq -r '.sealed')" == false ]]
}

scenario_7() {
    local n i t0 peers leader tkeys
    # The Shamir cluster gives its addresses to the transit-sealed one.
    for n in "${NODES[@]}" node4; do
        [[ -f "$WORK/$n/.env" ]] && ha "$n" stop
    done

    # The unsealer: a separate single-node cluster on its own address, built with the same script.
    write_env "$WORK/unsealer" unsealer "$UNSEALER_IP" "unsealer=$UNSEALER_IP" KEY_SHARES=1 KEY_THRESHOLD=1 \
        CLUSTER_NAME=unsealer
    ha unsealer init-dirs
    install -m 644 "$WORK/node1/tls/ca.pem" "$WORK/unsealer/tls/ca.pem"
    install -m 600 "$WORK/node1/tls/ca-key.pem" "$WORK/unsealer/tls/ca-key.pem"
    ha unsealer gen-cert
    ha unsealer prepare-config
    ha unsealer start
    ha unsealer vault-init
    ha unsealer vault-unseal
    (VAULT_TOKEN="$(<"$WORK/unsealer/root-token")" && BAO_TOKEN="$VAULT_TOKEN" \
        && export VAULT_TOKEN BAO_TOKEN && ha unsealer transit-unsealer-setup)
    [[ "$(stat -c %a "$WORK/unsealer/secrets/transit-seal-token")" == 600 ]] || fail "transit token file not 0600"

    peers="t1=${IPS[0]} t2=${IPS[1]} t3=${IPS[2]}"
    t0="$(now_ms)"
    for i in 0 1 2; do
        n="t$((i + 1))"
        write_env "$WORK/$n" "$n" "${IPS[$i]}" "$peers" SEAL_TYPE=transit CLUSTER_NAME=transit-sealed \
            "TRANSIT_ADDR=$(url_of unsealer)" TRANSIT_KEY_NAME=autounseal TRANSIT_MOUNT=transit TRANSIT_CA_FILE=ca.pem
        ha "$n" init-dirs
        install -m 644 "$WORK/node1/tls/ca.pem" "$WORK/$n/tls/ca.pem"
        install -m 600 "$WORK/node1/tls/ca-key.pem" "$WORK/$n/tls/ca-key.pem"
        install -m 600 "$WORK/unsealer/secrets/transit-seal-token" "$WORK/$n/secrets/transit-seal-token"
        ha "$n" gen-cert
        ha "$n" prepare-config
        ! grep -qF -- "$(<"$WORK/$n/secrets/transit-seal-token")" "$WORK/$n/config/vault.hcl" \
            || fail "the unsealer token was written into the config"
    done
    local tok
    for n in t1 t2 t3; do
        ha "$n" start
        # The seal stanza (with the token) is the 0600 secrets/seal.hcl, and the token is not in
        # the server's environment, which every plugin process inherits.
        grep -q 'seal "transit"' "$WORK/$n/secrets/seal.hcl" || fail "no transit seal in $n's secrets/seal.hcl"
        [[ "$(stat -c %a "$WORK/$n/secrets/seal.hcl")" == 600 ]] || fail "secrets/seal.hcl of $n is not 0600"
        tok="$(<"$WORK/$n/secrets/transit-seal-token")"
        [[ -r "/proc/$(<"$WORK/$n/vault.pid")/environ" ]] || fail "cannot read the environment of $n's server"
        ! tr '\0' '\n' <"/proc/$(<"$WORK/$n/vault.pid")/environ" | grep -qF -- "$tok" \
            || fail "the transit seal token is in the environment of $n's server (plugins inherit it)"
    done
    say "    transit token only in secrets/seal.hcl (0600), not in any server's environment"
    ha t1 vault-init
    tkeys="$WORK/t1/vault-init-keys.json"
    [[ "$(jq '.recovery_keys_b64 | length' "$tkeys")" == 5 ]] || fail "no 5 recovery keys"
    [[ "$(jq '.unseal_keys_b64 | length' "$tkeys")" == 0 ]] || fail "unseal keys with an auto-unseal seal"
    for n in t1 t2 t3; do
        ha "$n" vault-unseal   # waits for the auto-unseal; sends no key
    done
    use_token_of "$WORK/t1/root-token"
    ha t1 raft-status --expect-voters 3 --timeout 120 >&2
    record transit_bringup_ms "$(( $(now_ms) - t0 ))" "transit-sealed cluster: init-dirs to 3 voters"
    leader="$(leader_of t1 t2 t3)"
    bcli "$(url_of "$leader")" secrets enable -path=kv kv-v2 >/dev/null
    bcli "$(url_of "$leader")" kv put kv/sealed-by-transit v=7 >/dev/null

    # A follower restarted gracefully, then the leader killed and restarted: both unseal alone.
    local follower=""
    for n in t1 t2 t3; do
        [[ "$n" == "$leader" ]] || { follower="$n"; break; }
    done
    ha "$follower" stop
    t0="$(now_ms)"
    ha "$follower" start
    wait_until 30 "$follower to come back unsealed" _unsealed_without_keys "$follower" \
        || fail "$follower stayed sealed after restart"
    record transit_restart_unsealed_ms "$(( $(now_ms) - t0 ))" "start of $follower to unsealed, no keys"

    kill -KILL "$(<"$WORK/$leader/vault.pid")"
    wait_until 60 "a new leader" leader_of_other "$leader" || fail "no new leader after killing $leader"
    t0="$(now_ms)"
    ha "$leader" start
    wait_until 30 "$leader to come back unsealed" _unsealed_without_keys "$leader" \
        || fail "$leader stayed sealed after restart"
    record transit_kill_restart_unsealed_ms "$(( $(now_ms) - t0 ))" "start of killed $leader to unsealed, no keys"
    wait_until 60 "$leader to be a standby" is_standby "$leader" || fail "$leader did not rejoin"
    [[ "$(bcli "$(url_of "$leader")" kv get -format=json kv/sealed-by-transit | jq -r '.data.data.v')" == 7 ]] \
        || fail "data not served by the restarted node"
    ha t1 status >&2
}

leader_of_other() {
    local l
    l="$(leader_of t1 t2 t3)" || return 1
    [[ "$l" != "$1" ]] && is_active_node "$l"
}

# --- driver ---------------------------------------------------------------------------------

WANT=()
has() {
    local x
    for x in "${WANT[@]}"; do
        [[ "$x" == "$1" ]] && return 0
    done
    return 1
}

# run_scenario ID TITLE — sets LAST_RC, returns 0. Call it as a plain command, never in an
# if/&&/|| context: bash ignores `set -e` in everything run from such a context (subshells and
# functions included), and a failing step would not end the scenario.
LAST_RC=0
run_scenario() {
    local id="$1" title="$2" fn="scenario_$1" t0 rc
    say ""
    say "=== scenario $id: $title"
    t0="$(now_ms)"
    set +e
    (
        set -euo pipefail
        "$fn"
    )
    rc=$?
    set -e
    if ((rc == 0)); then
        PASSED=$((PASSED + 1))
        say "PASS scenario $id: $title ($(fmt_ms $(( $(now_ms) - t0 )))s)"
        printf '%s\tPASS\n' "$id" >>"$WORK/results.tsv"
    else
        FAILED=$((FAILED + 1))
        say "FAIL scenario $id: $title ($(fmt_ms $(( $(now_ms) - t0 )))s)"
        printf '%s\tFAIL\n' "$id" >>"$WORK/results.tsv"
    fi
    LAST_RC="$rc"
}

skip() {
    SKIPPED=$((SKIPPED + 1))
    say ""
    say "SKIPPED scenario $1: $2"
    printf '%s\tSKIPPED\n' "$1" >>"$WORK/results.tsv"
}

summary() {
    say ""
    say "=== timings (OpenBao/Vault: $("$BIN" version | head -n 1))"
    if [[ -s "$WORK/timings.tsv" ]]; then
        local name ms note
        while IFS=$'\t' read -r name ms note; do
            if [[ "$name" != *_ms ]]; then
                say "$(printf '  %-34s %7s     %s' "$name" "$ms" "$note")"
            else
                say "$(printf '  %-34s %7s s   %s' "$name" "$(fmt_ms "$ms")" "$note")"
            fi
        done <"$WORK/timings.tsv"
    fi
}

main() {
    local want=("$@") s
    ((${#want[@]})) || want=(1 2 3 4 5 6 7 8 9 10 11)
    for s in "${want[@]}"; do
        [[ "$s" =~ ^([1-9]|10|11)$ ]] || { say "usage: test-ha.sh [1-11 ...]"; exit 2; }
    done
    need_cmd curl jq openssl sha256sum install awk sed
    if ! BIN="$(vault_bin)"; then
        log "no bao/vault found: installing one with scripts/install-bao.sh"
        BIN="$("$SCRIPT_DIR/install-bao.sh")"
        BIN="$(vault_bin)" || err "install-bao.sh did not provide a binary"
    fi
    if [[ -n "$PLUGIN_BIN" ]]; then
        [[ -x "$PLUGIN_BIN" ]] || err "PLUGIN_BIN=$PLUGIN_BIN is not an executable file"
        PLUGIN_BIN="$(cd "$(dirname "$PLUGIN_BIN")" && pwd)/$(basename "$PLUGIN_BIN")"
    fi
    local ip
    for ip in "${IPS[@]}" "$UNSEALER_IP" "$SPARE_IP"; do
        port_free "$ip" "$API_PORT" || err "$ip:$API_PORT is in use (set HA_TEST_IPS / HA_TEST_API_PORT)"
        port_free "$ip" "$CLUSTER_PORT" || err "$ip:$CLUSTER_PORT is in use (set HA_TEST_IPS / HA_TEST_CLUSTER_PORT)"
    done

    WORK="$(mktemp -d "${HA_TEST_TMP:-${TMPDIR:-/tmp}}/ha-test.XXXXXX")"
    chmod 700 "$WORK"
    : >"$WORK/transcript.log"
    : >"$WORK/timings.tsv"
    trap cleanup EXIT
    trap 'exit 130' INT TERM
    say "work directory: $WORK; server: $BIN ($("$BIN" version | head -n 1))"

    WANT=("${want[@]}")

    run_scenario 1 "bring-up: certs, config, start, init 5/3, unseal, 3 voters"
    if ((LAST_RC != 0)); then
        say "scenario 1 failed: the others need its cluster"
        for s in 2 3 4 5 6 7 8 9 10 11; do has "$s" && skip "$s" "scenario 1 failed"; done
    else
        use_token_of "$WORK/node1/root-token"
        CA="$WORK/node1/tls/ca.pem"
        if has 2; then
            if [[ -n "$PLUGIN_BIN" ]]; then
                run_scenario 2 "register-plugin; wallet through node 1, read on 2 and 3, sign via a standby"
            else
                skip 2 "PLUGIN_BIN is not set (no built vault-plugin-crypto binary): plugin registration and wallet use not tested"
            fi
        fi
        if has 3; then run_scenario 3 "SIGKILL of the leader: fail-over, restart, rejoin"; fi
        if has 4; then run_scenario 4 "backup, delete, restore"; fi
        if has 5; then
            if [[ -z "$PLUGIN_BIN" ]]; then
                skip 5 "PLUGIN_BIN is not set (no built vault-plugin-crypto binary): upgrade-plugin not tested"
            elif [[ -z "$PLUGIN_BIN2" || -z "$PLUGIN_VERSION2" ]]; then
                skip 5 "PLUGIN_BIN2/PLUGIN_VERSION2 not set (a second build reporting another version is needed): upgrade-plugin not tested"
            elif ! grep -q $'^2\tPASS' "$WORK/results.tsv"; then
                skip 5 "scenario 2 did not pass (no registered plugin to upgrade)"
            else
                run_scenario 5 "upgrade-plugin under load: new build on every node, zero errors"
            fi
        fi
        if has 9; then
            if [[ -z "$HA_LOAD_BIN" || ! -x "$HA_LOAD_BIN" ]]; then
                skip 9 "HA_LOAD_BIN is not set to the built ha-load tool: fail-over under load not tested"
            elif ! grep -q $'^2\tPASS' "$WORK/results.tsv"; then
                skip 9 "scenario 2 did not pass (no registered plugin to load)"
            else
                run_scenario 9 "fail-over under load: leader SIGKILL and restart while signing through 3 nodes"
            fi
        fi
        if has 10; then
            if [[ -z "$REGISTER_BIN" || ! -x "$REGISTER_BIN" ]]; then
                skip 10 "REGISTER_BIN is not set to the built vault-crypto-register: the SDK's cluster registration not tested"
            elif [[ -z "$PLUGIN_BIN2" || -z "$PLUGIN_VERSION2" ]]; then
                skip 10 "PLUGIN_BIN2/PLUGIN_VERSION2 not set (a second version to move to is needed)"
            elif ! grep -q $'^2\tPASS' "$WORK/results.tsv"; then
                skip 10 "scenario 2 did not pass (no registered plugin)"
            else
                run_scenario 10 "vault-crypto-register (SDK) moves crypto/ to another version on every node"
            fi
        fi
        if has 11; then
            if ! grep -q $'^2\tPASS' "$WORK/results.tsv"; then
                skip 11 "scenario 2 did not pass (no registered plugin)"
            else
                run_scenario 11 "approvals across nodes: request, approvals and signature through different nodes"
            fi
        fi
        if has 6; then run_scenario 6 "register-plugin refused when one node's binary differs or is missing"; fi
        if has 8; then run_scenario 8 "replace a failed node: new node joins, remove-peer of the old one"; fi
        if has 7; then run_scenario 7 "transit auto-unseal: restarted nodes unseal without keys"; fi
    fi
    summary
    say ""
    printf '%s passed, %s failed, %s skipped\n' "$PASSED" "$FAILED" "$SKIPPED"
    ((FAILED == 0))
}

main "$@"
