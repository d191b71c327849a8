#!/usr/bin/env bash
# fuzz.sh — build the cargo-fuzz targets of plugin/fuzz/ once, run each for a bounded time and
# print, per target, executions, executions per second, corpus size (units in libFuzzer's corpus,
# and how many this run added to corpus/), coverage and whether it found a crash (a panic, a 500
# for client input, a hang past -timeout, or an out-of-memory).
#
# usage: scripts/fuzz.sh [--seconds N] [--ci] [TARGET...]
#   --seconds N   run each target N seconds (default $FUZZ_SECONDS, else 60)
#   --ci          CI mode: the same run, with the seed corpus only (the local corpus/ that
#                 earlier runs grew is not read, so CI is repeatable)
#   TARGET...     a subset of the targets (default: all of them, `cargo fuzz list`)
# Environment:
#   FUZZ_SANITIZER   cargo fuzz --sanitizer (default none; see README, "Fuzzing")
#   FUZZ_TIMEOUT     libFuzzer -timeout: seconds one input may take before it is a hang (default 10)
#   FUZZ_TOOLS_ROOT  where install-fuzz.sh keeps cargo-fuzz (default .tools)
#
# Inputs are as large as the limits each target tests (max_len below: a 4 MB PSBT, 1 MiB of
# typed data, a 64 KiB Solana transaction; backend_request bodies up to 6 MiB, enough for a
# PSBT at its limit in base64, though the host accepts 32 MiB, which libFuzzer cannot mutate
# at a useful speed), and every target runs its input on a thread with the runtime's 2 MiB
# stack (vault_plugin_crypto::fuzzing::on_runtime_stack): libFuzzer's defaults (4 KiB inputs
# from an empty corpus, an 8 MiB main-thread stack) hid stack overflows and quadratic
# parsing. -rss_limit_mb reports an input that makes the process exceed 2 GiB, and
# -malloc_limit_mb one allocation above 512 MiB (libFuzzer sees single allocations only
# with a sanitizer, FUZZ_SANITIZER=address).
#
# Exits 1 when any target found a crash; its reproducer is under plugin/fuzz/artifacts/<target>/.
# Replay it (FUZZ_VERBOSE=1 also prints what a backend_request input did), from plugin/:
#   RUSTC_BOOTSTRAP=1 cargo fuzz run -s none <target> fuzz/artifacts/<target>/crash-...
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=lib.sh
. "$SCRIPT_DIR/lib.sh"

ROOT="$HA_REPO_ROOT"
PLUGIN="$ROOT/plugin"
FUZZ="$PLUGIN/fuzz"
LOGS="$FUZZ/target/fuzz-logs"

usage() {
    # The header comment, without its '# '.
    awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "${BASH_SOURCE[0]}" >&2
    exit 2
}

SECONDS_PER_TARGET="${FUZZ_SECONDS:-60}"
CI_MODE=0
TARGETS=()
while (($#)); do
    case "$1" in
        --seconds)
            [[ $# -ge 2 && "$2" =~ ^[0-9]+$ && "$2" -gt 0 ]] || usage
            SECONDS_PER_TARGET="$2"
            shift 2
            ;;
        --ci)
            CI_MODE=1
            shift
            ;;
        -h | --help) usage ;;
        -*) usage ;;
        *)
            TARGETS+=("$1")
            shift
            ;;
    esac
done
[[ "$SECONDS_PER_TARGET" =~ ^[0-9]+$ ]] || err "FUZZ_SECONDS must be a number of seconds"

SANITIZER="${FUZZ_SANITIZER:-none}"
INPUT_TIMEOUT="${FUZZ_TIMEOUT:-10}"
# Optimized, with debug assertions and overflow checks (cargo fuzz's default without -O):
# an arithmetic overflow or a failed debug_assert! is a finding too.
BUILD_FLAGS=(--sanitizer "$SANITIZER")

# libFuzzer's flags are nightly-only (-Z...); the pinned stable toolchain accepts them with
# RUSTC_BOOTSTRAP. Only this script's cargo invocations see it.
export RUSTC_BOOTSTRAP=1

# The largest input of each target, in bytes: the limit the target's parser enforces, a
# little above it so that the refusal is exercised too.
max_len() {
    case "$1" in
        bitcoin_psbt) printf '%s\n' 4100000 ;;          # MAX_PSBT_BYTES 4 000 000
        ethereum_typed_data) printf '%s\n' 1100000 ;;   # MAX_JSON_BYTES 1 MiB
        ethereum_transaction) printf '%s\n' 300000 ;;   # calldata: 128 KiB as hex
        solana_transaction) printf '%s\n' 70000 ;;      # MAX_TRANSACTION_BYTES 64 KiB
        backend_request) printf '%s\n' 6291456 ;;       # 6 MiB (the host allows 32 MiB)
        *) printf '%s\n' 65536 ;;                       # derivation_path, plugin_env
    esac
}

# The last "key: value" of a libFuzzer final-stats line, e.g. stat number_of_executed_units.
stat() {
    local file="$1" key="$2"
    sed -n "s/^stat::$key: *\([0-9]*\).*/\1/p" "$file" | tail -n 1
}

count_files() {
    local dir="$1"
    if [[ -d "$dir" ]]; then
        find "$dir" -maxdepth 1 -type f | wc -l | tr -d ' '
    else
        printf '0\n'
    fi
}

main() {
    local cargo_fuzz
    cargo_fuzz="$("$SCRIPT_DIR/install-fuzz.sh")"
    # `cargo fuzz` finds the subcommand on PATH.
    PATH="$(dirname "$cargo_fuzz"):$PATH"
    export PATH
    cd "$PLUGIN"

    # The fuzz crate's own lockfile must be current (cargo fuzz has no --locked).
    (cd "$FUZZ" && cargo metadata --locked --format-version 1 >/dev/null) ||
        err "plugin/fuzz/Cargo.lock is out of date: run 'cargo update -w' in plugin/fuzz and commit it"

    if ((${#TARGETS[@]} == 0)); then
        mapfile -t TARGETS < <(cargo fuzz list)
    fi
    local t
    for t in "${TARGETS[@]}"; do
        [[ -f "$FUZZ/fuzz_targets/$t.rs" ]] || err "no fuzz target '$t' (see 'cargo fuzz list' in plugin/)"
    done

    log "building ${#TARGETS[@]} targets (sanitizer $SANITIZER)"
    local start build_s
    start="$(now_ms)"
    cargo fuzz build "${BUILD_FLAGS[@]}" >&2
    build_s="$(fmt_ms $(($(now_ms) - start)))"
    log "built in ${build_s}s"

    mkdir -p "$LOGS"
    local rows=() failed=() run_start
    run_start="$(now_ms)"
    for t in "${TARGETS[@]}"; do
        local corpus="$FUZZ/corpus/$t" seeds="$FUZZ/seeds/$t" artifacts="$FUZZ/artifacts/$t"
        local logf="$LOGS/$t.log" dirs=() extra=() rc=0 before
        mkdir -p "$corpus" "$artifacts"
        if ((CI_MODE)); then
            # A fresh, empty corpus each time: only the seeds are read.
            corpus="$FUZZ/target/ci-corpus/$t"
            [[ "$corpus" == "$FUZZ"/target/ci-corpus/?* ]] && rm -rf -- "$corpus"
            mkdir -p "$corpus"
        fi
        before="$(count_files "$corpus")"
        dirs=("$corpus")
        [[ -d "$seeds" ]] && dirs+=("$seeds")
        [[ -f "$FUZZ/dict/$t.dict" ]] && extra+=("-dict=$FUZZ/dict/$t.dict")
        log "fuzzing $t for ${SECONDS_PER_TARGET}s"
        # -max_total_time bounds the fuzzing; timeout(1) bounds everything else (start-up,
        # loading the corpus) and a runaway process.
        timeout --kill-after=10 "$((SECONDS_PER_TARGET + 120))" \
            cargo fuzz run "${BUILD_FLAGS[@]}" "$t" "${dirs[@]}" -- \
            -max_total_time="$SECONDS_PER_TARGET" -timeout="$INPUT_TIMEOUT" \
            -rss_limit_mb=2048 -malloc_limit_mb=512 -max_len="$(max_len "$t")" \
            -print_final_stats=1 \
            -artifact_prefix="$artifacts/" "${extra[@]}" >"$logf" 2>&1 || rc=$?

        local execs rate corp cov grown result
        execs="$(stat "$logf" number_of_executed_units)"
        rate="$(stat "$logf" average_exec_per_sec)"
        # libFuzzer's last status line: "#N DONE cov: C ft: F corp: U/SIZE ...".
        corp="$(sed -n 's/.* corp: \([0-9]*\)\/.*/\1/p' "$logf" | tail -n 1)"
        cov="$(sed -n 's/.* cov: \([0-9]*\) .*/\1/p' "$logf" | tail -n 1)"
        grown="$(($(count_files "$corpus") - before))"
        if ((rc == 0)); then
            result="ok"
        elif ((rc == 124 || rc == 137)); then
            result="KILLED after $((SECONDS_PER_TARGET + 120))s (see $logf)"
            failed+=("$t")
        else
            local unit
            unit="$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$logf" | tail -n 1)"
            result="CRASH: ${unit:-exit $rc} (log: $logf)"
            failed+=("$t")
        fi
        rows+=("$(printf '%-20s %11s %7s %7s %6s %6s  %s' "$t" "${execs:-?}" "${rate:-?}" \
            "${corp:-?}" "$grown" "${cov:-?}" "$result")")
    done
    local run_s
    run_s="$(fmt_ms $(($(now_ms) - run_start)))"

    {
        printf '\n%-20s %11s %7s %7s %6s %6s  %s\n' \
            target executions exec/s corpus new cov result
        printf '%s\n' "${rows[@]}"
        printf '\nbuild %ss, runs %ss (%s targets x %ss, sanitizer %s)\n' \
            "$build_s" "$run_s" "${#TARGETS[@]}" "$SECONDS_PER_TARGET" "$SANITIZER"
    } >&2
    if ((${#failed[@]})); then
        err "crash in: ${failed[*]}"
    fi
}

main "$@"
