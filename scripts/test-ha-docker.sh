#!/usr/bin/env bash
# test-ha-docker.sh — the 3-node deployment of DEPLOY_HA.md in Docker mode, run for real: three
# containers of the offline node image (scripts/build-image.sh) on a user-defined network this
# test creates (its own subnet; hostnames vault-1..3.<domain>; TLS for those names and IPs), each
# node a directory with its own .env as on three servers, driven by scripts/setup-ha.sh
# (HA_MODE=docker, compose) plus the plain CLI / HTTP for the application traffic. The host reaches
# the containers at their IPs on that network.
#
#   1  bring-up: init-dirs, gen-ca (node 1, copied), gen-cert, prepare-config, start, vault-init,
#      vault-unseal on every node, register-plugin, raft-status, status; a wallet with a daily limit
#      signs through every node
#   2  the fail-over table: one node down; two down (writes refused) and recovered by one; all
#      three down and a cold restart; leader down (time to the first accepted write)
#   3  network partition: the leader's container is disconnected; the majority elects a leader and
#      signs (daily counter included); the minority refuses writes; heal; counters exact, no
#      wallet lost, the old leader is a follower
#   4  backup on one node, restore through another: wallets and policies intact
#   5  replace a failed node: vault-4 (new id, new address) joins, remove-peer vault-3; plugin identical
#   6  plugin upgrade across the containers under signing load: zero failed requests
#   7  `setup-ha.sh logs` (docker compose logs) carries the audit log
#
# usage: scripts/test-ha-docker.sh [SCENARIO...]     (default all; 1 always runs first)
# env:   PLUGIN_BIN, PLUGIN_VERSION (v0.1.0), PLUGIN_BIN2, PLUGIN_VERSION2 (v0.1.1)   required
#        VAULT_BIN (host CLI, the same bao as in the image), VAULT_IMAGE (default: build it)
#        HA_DOCKER_SUBNET (172.30.213.0/24: .11-.14 are the nodes), HA_DOCKER_DOMAIN (ha-docker.test)
#        HA_DOCKER_PUBLISH_PREFIX (127.0.213: node N publishes its ports on 127.0.213.N)
#        HA_TEST_TMP, HA_TEST_KEEP=1 (keep the work dir and the containers)
# No Docker engine is a loud failure (exit 1), never a skip. Everything this test creates (network,
# containers, volumes) carries its run id and is removed by id/label on exit, even on failure.
# Ends with "N passed, N failed"; exit 0 only if nothing failed.
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=lib.sh
. "$SCRIPT_DIR/lib.sh"
SETUP="$SCRIPT_DIR/setup-ha.sh"

# The policy path of a wallet and chain (ONE place: the API moves to policies/:name/:chain).
policy_path() { printf 'crypto/policies/%s/%s' "$1" "$2"; }

SUBNET="${HA_DOCKER_SUBNET:-172.30.213.0/24}"
NET_PREFIX="${SUBNET%.*}"
DOMAIN="${HA_DOCKER_DOMAIN:-ha-docker.test}"
PUB_PREFIX="${HA_DOCKER_PUBLISH_PREFIX:-127.0.213}"
PLUGIN_BIN="${PLUGIN_BIN:-}"
PLUGIN_VERSION="${PLUGIN_VERSION:-v0.1.0}"
PLUGIN_BIN2="${PLUGIN_BIN2:-}"
PLUGIN_VERSION2="${PLUGIN_VERSION2:-v0.1.1}"
API_PORT=8200
NODES=(vault-1 vault-2 vault-3)
WALLET=dk-wallet
LIMIT_WALLET=dk-limit
# Every transaction of PROBE_WALLET writes its daily counter (a policy with a far limit): a real
# write, which only the active node performs (standbys forward it).
PROBE_WALLET=dk-probe
DAILY_LIMIT=1000000000

RUN_ID=""
NET=""
WORK=""
BIN=""
CA=""
LOADGEN_PID=""
SCENARIO_PID=""
PASSED=0
FAILED=0
NOFILE=65536
LABEL=vault-plugin-crypto.ha-docker-test

say() { printf '%s\n' "$*" >&2; }
fail() {
    say "    ASSERTION FAILED: $*"
    exit 1
}

record() {
    printf '%s\t%s\t%s\n' "$1" "$2" "${3:-}" >>"$WORK/timings.tsv"
    if [[ "$1" == *_ms ]]; then
        say "    timing: $1 = $(fmt_ms "$2") s${3:+ ($3)}"
    else
        say "    count: $1 = $2${3:+ ($3)}"
    fi
}

node_num() { printf '%s\n' "${1#vault-}"; }
ip_of() { printf '%s.%s\n' "$NET_PREFIX" "$((10 + $(node_num "$1")))"; }
url_of() { printf 'https://%s:%s\n' "$(ip_of "$1")" "$API_PORT"; }
container_of() { printf '%s-%s\n' "$RUN_ID" "$1"; }

# ha NODE COMMAND... — setup-ha.sh for one node (its .env in its own directory)
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

bcli() {
    local u="$1"
    shift
    VAULT_ADDR="$u" BAO_ADDR="$u" VAULT_CACERT="$CA" BAO_CACERT="$CA" \
        VAULT_MAX_RETRIES=0 BAO_MAX_RETRIES=0 VAULT_CLIENT_TIMEOUT=5s BAO_CLIENT_TIMEOUT=5s "$BIN" "$@"
}

use_root_token() {
    local t
    t="$(<"$WORK/vault-1/root-token")"
    [[ -n "$t" ]] || fail "no root token"
    export VAULT_TOKEN="$t" BAO_TOKEN="$t"
    (umask 077 && printf 'X-Vault-Token: %s\n' "$t" >"$WORK/token.hdr")
}

# api METHOD URL PATH [JSON] — prints the body, 0 on a 2xx
api() {
    local m="$1" u="$2" p="$3" body="${4:-}" out code
    out="$(mktemp "$WORK/api.XXXXXX")"
    code="$(curl -sS -o "$out" -w '%{http_code}' --max-time 8 --cacert "$CA" -H @"$WORK/token.hdr" \
        -X "$m" ${body:+--data-binary "$body"} "$u/v1/$p" 2>/dev/null || true)"
    cat "$out"
    rm -f -- "$out"
    [[ "$code" == 2* ]]
}

health_of() {
    curl -sS -o /dev/null -w '%{http_code}' --max-time 3 --cacert "$CA" "$(url_of "$1")/v1/sys/health" 2>/dev/null || true
}
is_standby() { [[ "$(health_of "$1")" == 429 ]]; }

leader_of() {
    local n
    for n in "$@"; do
        [[ "$(health_of "$n")" == 200 ]] && { printf '%s\n' "$n"; return 0; }
    done
    return 1
}

others_than() {
    local x="$1" n
    shift
    for n in "$@"; do
        [[ "$n" == "$x" ]] || printf '%s\n' "$n"
    done
}

write_env() {
    # write_env NODE PEERS — one node's .env, as its operator would write it on that server
    local n="$1" peers="$2" d="$WORK/$1"
    mkdir -p "$d"
    {
        printf 'NODE_ID=%s\nNODE_IP=%s\nNODE_FQDN=%s.%s\nNODE_ADDR=%s\n' "$n" "$(ip_of "$n")" "$n" "$DOMAIN" "$(ip_of "$n")"
        printf 'HA_MODE=docker\nHA_PEERS="%s"\n' "$peers"
        printf 'VAULT_IMAGE=%s\nVAULT_CMD=bao\nVAULT_BIN=%s\nVAULT_UID=100\nVAULT_GID=1000\n' "$VAULT_IMAGE" "$BIN"
        printf 'CONTAINER_NAME=%s\nDATA_VOLUME=%s-data\nCOMPOSE_PROJECT=%s\n' "$(container_of "$n")" "$(container_of "$n")" "$(container_of "$n")"
        printf 'DOCKER_NETWORK=%s\nPUBLISH_ADDR=%s.%s\n' "$NET" "$PUB_PREFIX" "$(node_num "$n")"
        printf 'NOFILE_LIMIT=%s\n' "$NOFILE"
        printf 'RAFT_PERFORMANCE_MULTIPLIER=1\nSTART_TIMEOUT=60\nUNSEAL_TIMEOUT=90\nCLUSTER_TIMEOUT=120\nSTOP_TIMEOUT=20\n'
        # The test plays every administrator: the other nodes read node 1's key file.
        printf 'UNSEAL_KEYS_FILE=%s\n' "$WORK/vault-1/vault-init-keys.json"
    } >"$d/.env"
}

# --- cleanup: only what this run created, by id/label ------------------------------------

cleanup() {
    local rc=$?
    set +e
    [[ -z "$LOADGEN_PID" ]] || kill "$LOADGEN_PID" 2>/dev/null
    if [[ -n "$SCENARIO_PID" ]]; then
        kill -TERM "$SCENARIO_PID" 2>/dev/null
        wait "$SCENARIO_PID" 2>/dev/null
    fi
    if [[ -n "$RUN_ID" && "${HA_TEST_KEEP:-0}" != 1 ]]; then
        local ids v
        ids="$(docker ps -aq --filter "label=$LABEL=$RUN_ID")"
        # compose labels the containers with their project (= container name, which carries RUN_ID)
        ids+=" $(docker ps -aq --filter "name=^$RUN_ID-vault-")"
        for v in $ids; do docker rm -f "$v" >/dev/null 2>&1; done
        while IFS= read -r v; do
            [[ -n "$v" ]] && docker volume rm -f "$v" >/dev/null 2>&1
        done < <(docker volume ls -q --filter "name=^$RUN_ID-vault-")
        [[ -z "$NET" ]] || docker network rm "$NET" >/dev/null 2>&1
        [[ -z "$NET" ]] || ! docker network inspect "$NET" >/dev/null 2>&1 || say "network $NET NOT removed"
    elif [[ -n "$RUN_ID" ]]; then
        say "HA_TEST_KEEP=1: containers $RUN_ID-vault-*, network $NET and volumes kept"
    fi
    if [[ -n "$WORK" && -d "$WORK" ]]; then
        if ((FAILED == 0 && rc == 0)) && [[ "${HA_TEST_KEEP:-0}" != 1 ]]; then
            case "$WORK" in */ha-docker.*) rm -rf -- "$WORK" ;; esac
        else
            say "work directory kept: $WORK (transcript.log)"
        fi
    fi
    exit "$rc"
}

# --- application traffic ----------------------------------------------------------------

wallet_addr() {
    bcli "$1" read -format=json "crypto/wallets/$2/addresses/ethereum" 2>/dev/null | jq -r '.data.address'
}
wallet_addr_is() { [[ "$(wallet_addr "$1" "$2")" == "$3" ]]; }

# sign_tx URL WALLET VALUE — an EIP-1559 transaction (the daily counter write goes to the active
# node); prints the signer
sign_tx() {
    api POST "$1" "crypto/wallets/$2/ethereum/sign-transaction" \
        "{\"chain_id\":1,\"nonce\":0,\"gas_limit\":21000,\"to\":\"0x000000000000000000000000000000000000dEaD\",\"value\":\"$3\",\"max_fee_per_gas\":\"2000000000\",\"max_priority_fee_per_gas\":\"1000000000\"}" \
        | jq -er '.data.from'
}

sign_msg() {
    api POST "$1" "crypto/wallets/$2/ethereum/sign-message" '{"message":"docker ha"}' | jq -er '.data.signature'
}

SIGNED_VALUE=0
# signed NODE VALUE — sign a limit-wallet transaction through NODE, count its value
signed() {
    local a
    a="$(sign_tx "$(url_of "$1")" "$LIMIT_WALLET" "$2")" || fail "signing $2 through $1 failed"
    [[ "$a" == "$(<"$WORK/limit.id")" ]] || fail "signing through $1 gave $a"
    SIGNED_VALUE=$((SIGNED_VALUE + $2))
    printf '%s\n' "$SIGNED_VALUE" >"$WORK/signed.value"
}

# counter_is NODE USED — the limit wallet's daily counter is exactly USED: a transaction of the
# rest of the limit is accepted, then one more wei is refused naming the rule
counter_is() {
    local u rest
    u="$(url_of "$1")"
    rest=$((DAILY_LIMIT - $2))
    sign_tx "$u" "$LIMIT_WALLET" "$rest" >/dev/null || fail "the rest of the limit ($rest) was refused: counter above $2"
    if api POST "$u" "crypto/wallets/$LIMIT_WALLET/ethereum/sign-transaction" \
        '{"chain_id":1,"nonce":0,"gas_limit":21000,"to":"0x000000000000000000000000000000000000dEaD","value":"1","max_fee_per_gas":"2000000000","max_priority_fee_per_gas":"1000000000"}' \
        >"$WORK/limit.out"; then
        fail "one wei over the limit was signed: counter below $2"
    fi
    grep -q max_value_per_day "$WORK/limit.out" || fail "the refusal does not name max_value_per_day: $(cat "$WORK/limit.out")"
}

write_ok_via() {
    # one counter-writing signature through any of the given nodes
    local n
    for n in "$@"; do
        sign_tx "$(url_of "$n")" "$PROBE_WALLET" 1 >/dev/null 2>&1 && return 0
    done
    return 1
}
write_refused_via() { ! write_ok_via "$@"; }

all_wallets_everywhere() {
    local n w
    for n in "$@"; do
        for w in "$WALLET" "$LIMIT_WALLET"; do
            wallet_addr_is "$(url_of "$n")" "$w" "$(<"$WORK/$w.addr")" || return 1
        done
    done
}

_follower_voter() {
    local j
    is_standby "$1" || return 1
    j="$(bcli "$(url_of "$2")" operator raft list-peers -format=json 2>/dev/null)" || return 1
    [[ "$(jq -r --arg n "$1" '.data.config.servers[] | select(.node_id == $n) | "\(.voter) \(.leader)"' <<<"$j")" == "true false" ]]
}

restart_node() {
    ha "$1" start
    ha "$1" vault-unseal
}

# --- scenario 1 -------------------------------------------------------------------------

scenario_1() {
    local t0 t n peers
    t0="$(now_ms)"
    peers="vault-1=$(ip_of vault-1) vault-2=$(ip_of vault-2) vault-3=$(ip_of vault-3)"
    for n in "${NODES[@]}"; do
        write_env "$n" "$peers"
        ha "$n" init-dirs
    done
    ha vault-1 gen-ca
    CA="$WORK/vault-1/tls/ca.pem"
    for n in vault-2 vault-3; do   # "copy to the other servers"
        install -m 644 "$WORK/vault-1/tls/ca.pem" "$WORK/$n/tls/ca.pem"
        install -m 600 "$WORK/vault-1/tls/ca-key.pem" "$WORK/$n/tls/ca-key.pem"
    done
    for n in "${NODES[@]}"; do
        ha "$n" gen-cert
        openssl x509 -in "$WORK/$n/tls/cert.pem" -noout -ext subjectAltName \
            | grep -q "DNS:$n.$DOMAIN.*IP Address:$(ip_of "$n")" || fail "certificate of $n lacks its name or IP"
        ha "$n" install-plugin "$PLUGIN_BIN" "$PLUGIN_VERSION" >/dev/null
        ha "$n" prepare-config
        grep -q 'path    = "/vault/data"' "$WORK/$n/config/vault.hcl" || fail "config of $n does not use /vault paths"
    done
    for n in "${NODES[@]}"; do
        ha "$n" start
        [[ "$(docker inspect -f '{{.Config.Hostname}}' "$(container_of "$n")")" == "$n.$DOMAIN" ]] \
            || fail "container of $n has hostname $(docker inspect -f '{{.Config.Hostname}}' "$(container_of "$n")")"
        [[ "$(health_of "$n")" == 501 ]] || fail "$n should be 501 (not initialised) before init"
    done
    t="$(now_ms)"
    ha vault-1 vault-init
    record init_ms "$(( $(now_ms) - t ))"
    use_root_token
    for n in "${NODES[@]}"; do
        ha "$n" vault-unseal
    done
    ha vault-1 raft-status --expect-voters 3 --timeout 120 >"$WORK/raft-1.txt"
    cat "$WORK/raft-1.txt" >&2
    [[ "$(awk '$4 == "true"' "$WORK/raft-1.txt" | wc -l)" == 3 ]] || fail "not 3 voters"
    record bringup_ms "$(( $(now_ms) - t0 ))" "init-dirs to 3 voters, 3 containers"
    ha vault-2 status >&2

    ha vault-1 register-plugin "$PLUGIN_VERSION"
    ha vault-1 verify-plugin "$PLUGIN_VERSION" >&2
    for n in "${NODES[@]}"; do
        wait_until 30 "$n to run the plugin" runs_plugin "$n" "vault-plugin-crypto-$PLUGIN_VERSION" \
            || fail "the container of $n does not run plugins/vault-plugin-crypto-$PLUGIN_VERSION"
    done
    local l w
    l="$(url_of "$(leader_of "${NODES[@]}")")"
    for w in "$WALLET" "$LIMIT_WALLET" "$PROBE_WALLET"; do
        bcli "$l" write -format=json "crypto/wallets/$w" words=12 >/dev/null || fail "creating $w failed"
        wallet_addr "$l" "$w" >"$WORK/$w.addr"
    done
    cp "$WORK/$LIMIT_WALLET.addr" "$WORK/limit.id"
    bcli "$l" write "$(policy_path "$LIMIT_WALLET" ethereum)" allowed_chain_ids=1 max_value_per_day="$DAILY_LIMIT" >/dev/null \
        || fail "writing the daily limit failed"
    bcli "$l" write "$(policy_path "$PROBE_WALLET" ethereum)" allowed_chain_ids=1 max_value_per_day=1000000000000000000 >/dev/null \
        || fail "writing the probe wallet's limit failed"
    for n in "${NODES[@]}"; do
        wait_until 10 "$n to serve both wallets" all_wallets_everywhere "$n" || fail "$n does not serve the wallets"
        signed "$n" 1000
        sign_msg "$(url_of "$n")" "$WALLET" >/dev/null || fail "sign-message through $n failed"
    done
    say "    wallets signed through every container (daily counter: $SIGNED_VALUE)"
}

# plugin processes a container runs (busybox ps in the image)
runs_plugin() {
    docker exec "$(container_of "$1")" ps -o args 2>/dev/null | grep -q "/vault/plugins/$2"
}

# --- scenario 2: the fail-over table ------------------------------------------------------

scenario_2() {
    local l f1 f2 t0 n
    l="$(leader_of "${NODES[@]}")" || fail "no leader"
    mapfile -t fs < <(others_than "$l" "${NODES[@]}")
    f1="${fs[0]}"
    f2="${fs[1]}"

    say "    -- one node down ($f1)"
    ha "$f1" stop
    t0="$(now_ms)"
    signed "$l" 1000
    signed "$f2" 1000
    record one_down_write_ms "$(( $(now_ms) - t0 ))" "$f1 stopped: two signatures through $l and $f2"
    restart_node "$f1"
    wait_until 90 "$f1 to rejoin" _follower_voter "$f1" "$l" || fail "$f1 did not rejoin"

    say "    -- two nodes down ($f1, $f2)"
    ha "$f1" stop
    ha "$f2" stop
    t0="$(now_ms)"
    WAIT_INTERVAL=0.5 wait_until 60 "writes to be refused with 1 of 3 nodes" write_refused_via "$l" \
        || fail "the lone node still accepts writes"
    record two_down_unavailable_ms "$(( $(now_ms) - t0 ))" "two followers stopped -> writes refused"
    t0="$(now_ms)"
    restart_node "$f1"
    WAIT_INTERVAL=0.2 wait_until 90 "a write with 2 of 3 nodes" write_ok_via "$l" "$f1" || fail "no recovery with 2 nodes"
    record two_down_recover_ms "$(( $(now_ms) - t0 ))" "start + unseal of $f1 -> write accepted"
    restart_node "$f2"

    say "    -- all three down (cold restart)"
    for n in "${NODES[@]}"; do ha "$n" stop; done
    t0="$(now_ms)"
    for n in "${NODES[@]}"; do restart_node "$n"; done
    WAIT_INTERVAL=0.2 wait_until 90 "a write after the cold restart" write_ok_via "${NODES[@]}" || fail "no write after the cold restart"
    record cold_restart_ms "$(( $(now_ms) - t0 ))" "start + unseal of 3 stopped nodes -> write accepted"
    all_wallets_everywhere "${NODES[@]}" || fail "a wallet changed or is missing after the cold restart"
    ha vault-1 raft-status --expect-voters 3 --timeout 120 >&2

    say "    -- leader down"
    l="$(leader_of "${NODES[@]}")" || fail "no leader"
    mapfile -t fs < <(others_than "$l" "${NODES[@]}")
    t0="$(now_ms)"
    ha "$l" stop
    WAIT_INTERVAL=0.1 wait_until 60 "a write through ${fs[*]}" write_ok_via "${fs[@]}" || fail "no new leader"
    record leader_down_failover_ms "$(( $(now_ms) - t0 ))" "stop of leader $l -> write accepted ($(leader_of "${fs[@]}"))"
    restart_node "$l"
    wait_until 90 "$l to rejoin as follower" _follower_voter "$l" "$(leader_of "${fs[@]}")" || fail "$l did not rejoin"
    signed "$l" 1000
}

# --- scenario 3: partition -------------------------------------------------------------

# exec_sign CONTAINER NODE VALUE — a limit-wallet transaction signed by the CLI inside the
# container, through its own loopback (reachable even when the container is cut off); the token
# comes from our environment (docker exec -e NAME), never a command line
exec_sign() {
    local c="$1" n="$2" v="$3"
    docker exec -e BAO_TOKEN -e VAULT_TOKEN -e BAO_ADDR="https://127.0.0.1:$API_PORT" -e BAO_CACERT=/vault/tls/ca.pem \
        -e BAO_TLS_SERVER_NAME="$n.$DOMAIN" -e VAULT_TLS_SERVER_NAME="$n.$DOMAIN" -e BAO_CLIENT_TIMEOUT=10s \
        -e BAO_MAX_RETRIES=0 "$c" \
        bao write -format=json "crypto/wallets/$LIMIT_WALLET/ethereum/sign-transaction" chain_id=1 nonce=0 gas_limit=21000 \
        to=0x000000000000000000000000000000000000dEaD value="$v" max_fee_per_gas=2000000000 \
        max_priority_fee_per_gas=1000000000
}

minority_write_refused() {
    ! exec_sign "$1" "$2" 1 >/dev/null 2>"$WORK/minority.err"
}

scenario_3() {
    local l fs t0 n c i newl
    l="$(leader_of "${NODES[@]}")" || fail "no leader"
    mapfile -t fs < <(others_than "$l" "${NODES[@]}")
    c="$(container_of "$l")"
    # The in-container client works while connected (so its refusal below means the partition).
    [[ "$(exec_sign "$c" "$l" 1000 | jq -r '.data.from')" == "$(<"$WORK/limit.id")" ]] \
        || fail "signing inside $c failed before the partition"
    SIGNED_VALUE=$((SIGNED_VALUE + 1000))
    say "    disconnecting leader $l ($c) from $NET"
    t0="$(now_ms)"
    docker network disconnect "$NET" "$c"
    WAIT_INTERVAL=0.2 wait_until 60 "the majority ${fs[*]} to accept writes" write_ok_via "${fs[@]}" \
        || fail "the majority elected no leader"
    newl="$(leader_of "${fs[@]}")" || fail "no leader in the majority"
    record partition_failover_ms "$(( $(now_ms) - t0 ))" "leader $l cut off -> write accepted via majority ($newl)"
    for i in 1 2 3; do
        for n in "${fs[@]}"; do signed "$n" 1000; done
    done
    wait_until 30 "the minority ($l) to refuse writes" minority_write_refused "$c" "$l" \
        || fail "the cut-off old leader still accepts writes"
    say "    minority $l refuses writes ($(head -c 200 "$WORK/minority.err" | tr '\n' ' ')); majority signed 6 transactions"
    t0="$(now_ms)"
    docker network connect --ip "$(ip_of "$l")" --alias "$l.$DOMAIN" "$NET" "$c"
    wait_until 90 "$l to rejoin as a follower" _follower_voter "$l" "$newl" || fail "$l did not rejoin as follower"
    record partition_heal_ms "$(( $(now_ms) - t0 ))" "reconnect -> old leader $l a voting follower"
    all_wallets_everywhere "${NODES[@]}" || fail "a wallet is missing or changed after the heal"
    signed "$l" 1000
    counter_is "$l" "$SIGNED_VALUE"
    say "    daily counter exactly $SIGNED_VALUE (= every value signed) after the heal; limit then refused"
    # the counter is now at the limit: reset the test's view (a new limit wallet for what follows)
    SIGNED_VALUE="$DAILY_LIMIT"
    printf '%s\n' "$SIGNED_VALUE" >"$WORK/signed.value"
}

# --- scenario 4: backup / restore -------------------------------------------------------

scenario_4() {
    local l snap t0 pol
    l="$(url_of "$(leader_of "${NODES[@]}")")"
    pol="$(bcli "$l" read -format=json "$(policy_path "$LIMIT_WALLET" ethereum)" | jq -cS '.data')"
    [[ -n "$pol" && "$pol" != null ]] || fail "no policy to back up"
    t0="$(now_ms)"
    snap="$(ha vault-2 backup)"
    record snapshot_save_ms "$(( $(now_ms) - t0 ))"
    [[ -s "$snap" && "$(stat -c %a "$snap")" == 600 ]] || fail "no 0600 snapshot"
    bcli "$l" write "crypto/wallets/$WALLET" deletion_allowed=true >/dev/null
    bcli "$l" delete "crypto/wallets/$WALLET" >/dev/null
    bcli "$l" delete "$(policy_path "$LIMIT_WALLET" ethereum)" >/dev/null || true
    ! bcli "$l" read "crypto/wallets/$WALLET" >/dev/null 2>&1 || fail "wallet not deleted"
    t0="$(now_ms)"
    ha vault-3 restore "$snap" --yes
    wait_until 60 "the wallets back on every node" all_wallets_everywhere "${NODES[@]}" || fail "wallets not back"
    record restore_ms "$(( $(now_ms) - t0 ))" "restore through vault-3 -> wallets served by all nodes"
    l="$(url_of "$(leader_of "${NODES[@]}")")"
    [[ "$(bcli "$l" read -format=json "$(policy_path "$LIMIT_WALLET" ethereum)" | jq -cS '.data')" == "$pol" ]] \
        || fail "the policy is not the one backed up"
    [[ "$(sign_tx "$l" "$WALLET" 1)" == "$(<"$WORK/$WALLET.addr")" ]] || fail "the restored wallet signs as another key"
}

# --- scenario 5: replace a node ---------------------------------------------------------

scenario_5() {
    local t0 f out n
    ha vault-3 stop
    t0="$(now_ms)"
    write_env vault-4 "vault-1=$(ip_of vault-1) vault-2=$(ip_of vault-2) vault-4=$(ip_of vault-4)"
    ha vault-4 init-dirs
    for f in "$WORK"/vault-1/plugins/vault-plugin-crypto-v*; do
        ha vault-4 install-plugin "$f" "${f##*/vault-plugin-crypto-}" >/dev/null
    done
    install -m 644 "$WORK/vault-1/tls/ca.pem" "$WORK/vault-4/tls/ca.pem"
    install -m 600 "$WORK/vault-1/tls/ca-key.pem" "$WORK/vault-4/tls/ca-key.pem"
    ha vault-4 gen-cert
    ha vault-4 prepare-config
    restart_node vault-4
    wait_until 90 "vault-4 to be a voter" _follower_voter vault-4 "$(leader_of vault-1 vault-2)" || fail "vault-4 not a voter"
    if out="$(ha vault-4 remove-peer "$(leader_of vault-1 vault-2 vault-4)" 2>&1)"; then fail "remove-peer removed the leader"; fi
    ha vault-4 remove-peer vault-3 >&2
    record replace_node_ms "$(( $(now_ms) - t0 ))" "vault-4 voter and vault-3 removed"
    NODES=(vault-1 vault-2 vault-4)
    printf '%s\n' "${NODES[@]}" >"$WORK/nodes"
    # The operators of the remaining servers update HA_PEERS (what setup-ha.sh checks and dials).
    for n in vault-1 vault-2; do
        sed -i "s|^HA_PEERS=.*|HA_PEERS=\"vault-1=$(ip_of vault-1) vault-2=$(ip_of vault-2) vault-4=$(ip_of vault-4)\"|" "$WORK/$n/.env"
    done
    ha vault-4 verify-plugin "$PLUGIN_VERSION" >&2
    wait_until 30 "vault-4 to run the plugin" runs_plugin vault-4 "vault-plugin-crypto-$PLUGIN_VERSION" || fail "vault-4 runs no plugin"
    all_wallets_everywhere vault-4 || fail "vault-4 does not serve the wallets"
    write_ok_via vault-4 || fail "no signature through vault-4"
}

# --- scenario 6: upgrade under load -----------------------------------------------------

_loadgen() {
    local i=0 n ok=0 bad=0 deadline
    deadline=$(( $(now_ms) + 180000 ))
    while [[ ! -e "$WORK/load.stop" ]] && ((i < 20000)) && (($(now_ms) < deadline)); do
        n="${NODES[$((i % ${#NODES[@]}))]}"
        if { ((i % 2)) && sign_tx "$(url_of "$n")" "$PROBE_WALLET" 1 >/dev/null; } || { ! ((i % 2)) && sign_msg "$(url_of "$n")" "$WALLET" >/dev/null; }; then
            ok=$((ok + 1))
        else
            bad=$((bad + 1))
            printf '%s %s\n' "$(now_ms)" "$n" >>"$WORK/load.errors"
        fi
        i=$((i + 1))
        printf '%s %s\n' "$ok" "$bad" >"$WORK/load.count.tmp"
        mv -f "$WORK/load.count.tmp" "$WORK/load.count"
    done
}
_load_ok() { awk '{print $1}' "$WORK/load.count" 2>/dev/null || echo 0; }
_load_grew() { (($(_load_ok) >= $1)); }
_dead() { ! kill -0 "$1" 2>/dev/null; }

scenario_6() {
    local n ok0 errors t0
    [[ -s "$WORK/nodes" ]] && mapfile -t NODES <"$WORK/nodes"
    for n in "${NODES[@]}"; do
        ha "$n" install-plugin "$PLUGIN_BIN2" "$PLUGIN_VERSION2" >/dev/null
    done
    rm -f "$WORK/load.stop" "$WORK/load.errors" "$WORK/load.count"
    trap 'touch "$WORK/load.stop"' EXIT
    _loadgen &
    LOADGEN_PID=$!
    wait_until 30 "the load to start" _load_grew 20 || fail "no load answers"
    t0="$(now_ms)"
    ha "${NODES[1]}" upgrade-plugin "$PLUGIN_VERSION2"
    for n in "${NODES[@]}"; do
        wait_until 60 "$n to run $PLUGIN_VERSION2" runs_plugin "$n" "vault-plugin-crypto-$PLUGIN_VERSION2" \
            || fail "$n does not run the new build"
    done
    record upgrade_ms "$(( $(now_ms) - t0 ))" "upgrade-plugin to every container running $PLUGIN_VERSION2"
    ok0="$(_load_ok)"
    wait_until 30 "requests after the upgrade" _load_grew $((ok0 + 30)) || fail "requests stopped"
    touch "$WORK/load.stop"
    wait_until 30 "the load to stop" _dead "$LOADGEN_PID" || kill "$LOADGEN_PID"
    wait "$LOADGEN_PID" 2>/dev/null || true
    LOADGEN_PID=""
    errors="$(awk '{print $2}' "$WORK/load.count")"
    record upgrade_failed_requests "$errors" "$(_load_ok) requests succeeded during the upgrade"
    ((errors == 0)) || fail "$errors requests failed during the upgrade"
    all_wallets_everywhere "${NODES[@]}" || fail "a wallet changed after the upgrade"
}

# --- scenario 7: compose logs carry the audit log --------------------------------------

# _audit_in_compose_logs NODE — the node's compose logs (saved) hold the audit response of a
# sign-message of $WALLET
_audit_in_compose_logs() {
    ha "$1" logs --tail 2000 >"$WORK/compose-logs.txt" 2>/dev/null || return 1
    grep -F '"path":"crypto/wallets/'"$WALLET"'/ethereum/sign-message"' "$WORK/compose-logs.txt" \
        | grep -q '"type":"response"'
}

scenario_7() {
    local l
    [[ -s "$WORK/nodes" ]] && mapfile -t NODES <"$WORK/nodes"
    l="$(leader_of "${NODES[@]}")" || fail "no leader"
    sign_msg "$(url_of "$l")" "$WALLET" >/dev/null || fail "sign-message failed"
    # The container's stdout reaches `docker compose logs` through the engine's log driver, a
    # moment after the response: poll (bounded) rather than read once.
    WAIT_INTERVAL=0.5 wait_until 20 "the audit response in docker compose logs of $l" \
        _audit_in_compose_logs "$l" \
        || fail "docker compose logs of $l show no audit response for the signature"
    grep -Eq 'core: (vault is unsealed|post-unseal setup|successfully)' "$WORK/compose-logs.txt" \
        || fail "no server log in docker compose logs"
    ! grep -q "$(<"$WORK/vault-1/root-token")" "$WORK/compose-logs.txt" || fail "the root token is in the logs"
    say "    docker compose logs of $l: server log and audit entries ($(grep -c '"type":"response"' "$WORK/compose-logs.txt") responses)"
}

# --- driver -----------------------------------------------------------------------------

# run_scenario ID TITLE — sets LAST_RC. Call it as a plain command, never in an if/&&/|| context:
# bash ignores `set -e` in everything run from such a context, subshells included, and a failing
# step would then not end the scenario.
LAST_RC=0
run_scenario() {
    local id="$1" title="$2" t0 rc
    say ""
    say "=== docker scenario $id: $title"
    t0="$(now_ms)"
    set +e
    # In the background + wait: an INT/TERM reaches our trap at once (cleanup stops it).
    (
        set -euo pipefail
        [[ ! -s "$WORK/signed.value" ]] || SIGNED_VALUE="$(<"$WORK/signed.value")"
        "scenario_$id"
    ) &
    SCENARIO_PID=$!
    wait "$SCENARIO_PID"
    rc=$?
    SCENARIO_PID=""
    set -e
    if ((rc == 0)); then
        PASSED=$((PASSED + 1))
        say "PASS docker scenario $id: $title ($(fmt_ms $(( $(now_ms) - t0 )))s)"
    else
        FAILED=$((FAILED + 1))
        say "FAIL docker scenario $id: $title ($(fmt_ms $(( $(now_ms) - t0 )))s)"
    fi
    printf '%s\t%s\t%s\n' "$id" "$rc" "$(( $(now_ms) - t0 ))" >>"$WORK/results.tsv"
    LAST_RC="$rc"
}

main() {
    local want=("$@") s t_all
    ((${#want[@]})) || want=(1 2 3 4 5 6 7)
    for s in "${want[@]}"; do [[ "$s" =~ ^[1-7]$ ]] || { say "usage: test-ha-docker.sh [1-7 ...]"; exit 2; }; done
    need_cmd curl jq openssl sha256sum install awk sed
    command -v docker >/dev/null 2>&1 || err "NO DOCKER: the docker CLI is not installed; the docker HA scenarios cannot run (this is a failure, not a skip)"
    docker info >/dev/null 2>&1 || err "NO DOCKER ENGINE: 'docker info' fails; the docker HA scenarios cannot run (this is a failure, not a skip)"
    docker compose version >/dev/null 2>&1 || command -v docker-compose >/dev/null 2>&1 \
        || err "NO COMPOSE: neither 'docker compose' nor 'docker-compose'; the docker HA scenarios cannot run"
    [[ -x "$PLUGIN_BIN" && -x "$PLUGIN_BIN2" ]] || err "PLUGIN_BIN and PLUGIN_BIN2 must be two plugin builds (reporting $PLUGIN_VERSION and $PLUGIN_VERSION2)"
    PLUGIN_BIN="$(readlink -f "$PLUGIN_BIN")"
    PLUGIN_BIN2="$(readlink -f "$PLUGIN_BIN2")"
    BIN="$(vault_bin)" || BIN="$("$SCRIPT_DIR/install-bao.sh")"
    if [[ -z "${VAULT_IMAGE:-}" ]]; then
        VAULT_IMAGE="$(VAULT_BIN="$BIN" PLUGIN_BIN="$PLUGIN_BIN" "$SCRIPT_DIR/build-image.sh")"
    fi
    docker image inspect "$VAULT_IMAGE" >/dev/null 2>&1 || err "image $VAULT_IMAGE not present (make image)"

    # The containers' open-files limit: what the engine may grant (a nested engine may not raise it).
    NOFILE="${HA_DOCKER_NOFILE:-$(ulimit -Hn)}"
    [[ "$NOFILE" =~ ^[0-9]+$ ]] || NOFILE=65536
    ((NOFILE <= 65536)) || NOFILE=65536
    RUN_ID="hadt$$"
    WORK="$(mktemp -d "${HA_TEST_TMP:-${TMPDIR:-/tmp}}/ha-docker.XXXXXX")"
    chmod 700 "$WORK"
    : >"$WORK/transcript.log"
    : >"$WORK/timings.tsv"
    trap cleanup EXIT
    trap 'exit 130' INT TERM
    NET="$RUN_ID-net"
    docker network create --driver bridge --subnet "$SUBNET" --label "$LABEL=$RUN_ID" "$NET" >/dev/null \
        || { NET=""; err "cannot create the network $SUBNET (in use? set HA_DOCKER_SUBNET)"; }
    say "run $RUN_ID: network $NET ($SUBNET), image $VAULT_IMAGE, work dir $WORK"
    t_all="$(now_ms)"
    run_scenario 1 "bring-up with setup-ha.sh in docker mode, plugin signing through 3 containers"
    if ((LAST_RC != 0)); then
        say "scenario 1 failed: the others need its cluster"
        FAILED=$((FAILED + ${#want[@]} - 1))
    else
        CA="$WORK/vault-1/tls/ca.pem"
        use_root_token
        for s in "${want[@]}"; do
            case "$s" in
                1) ;;
                2) run_scenario 2 "fail-over table: one, two, three nodes down, leader down" ;;
                3) run_scenario 3 "network partition of the leader, heal, exact counters" ;;
                4) run_scenario 4 "backup on one node, restore through another" ;;
                5) run_scenario 5 "replace a failed node (remove-peer), plugin identical" ;;
                6) run_scenario 6 "plugin upgrade across the containers under load" ;;
                7) run_scenario 7 "docker compose logs carry the audit log" ;;
            esac
        done
    fi
    say ""
    say "=== timings (docker mode, $VAULT_IMAGE; total $(fmt_ms $(( $(now_ms) - t_all )))s)"
    local name ms note
    while IFS=$'\t' read -r name ms note; do
        if [[ "$name" == *_ms ]]; then
            say "$(printf '  %-28s %7s s   %s' "$name" "$(fmt_ms "$ms")" "$note")"
        else
            say "$(printf '  %-28s %7s     %s' "$name" "$ms" "$note")"
        fi
    done <"$WORK/timings.tsv"
    printf '%s passed, %s failed\n' "$PASSED" "$FAILED"
    ((FAILED == 0))
}

main "$@"
