//! Replays the fuzz seeds named `regression-*` (plugin/fuzz/seeds/<target>/)
//! through the wallet-core decoders their targets fuzz, each on a thread
//! with the runtime's 2 MiB stack and within a time bound, so a fixed abort
//! or hang stays fixed without cargo-fuzz installed.
//!
//! Every seed reproduced a process abort (stack overflow) or a hang before
//! its fix; see the comment at each target.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use wallet_core::bitcoin::{BitcoinError, Psbt};
use wallet_core::ethereum::eip712::{TypedData, TypedDataError};

/// tokio's worker and blocking threads: Rust's default 2 MiB.
const RUNTIME_STACK: usize = 2 * 1024 * 1024;
/// Generous for an unoptimized build on a loaded machine; the fixed code
/// takes milliseconds, the old one minutes to hours.
const BOUND: Duration = Duration::from_secs(10);

fn seeds(target: &str) -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../fuzz/seeds")
        .join(target);
    let mut out: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("regression-"))
        })
        .collect();
    out.sort();
    assert!(!out.is_empty(), "no regression seeds in {}", dir.display());
    out
}

/// Runs `f` on a 2 MiB stack and returns its result and duration.
fn on_runtime_stack<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> (T, Duration) {
    std::thread::Builder::new()
        .stack_size(RUNTIME_STACK)
        .spawn(move || {
            let t = Instant::now();
            let v = f();
            (v, t.elapsed())
        })
        .expect("spawn")
        .join()
        .expect("no panic")
}

/// `regression-many-map-keys`: 65 536 distinct unknown global keys. The
/// duplicate-key check scanned the map per pair (2 billion comparisons).
/// Now parsed in n log n; the PSBT is valid.
#[test]
fn bitcoin_psbt_regressions_parse_in_bounded_time() {
    for p in seeds("bitcoin_psbt") {
        let bytes = std::fs::read(&p).expect("seed");
        let (r, took) = on_runtime_stack(move || Psbt::parse(&bytes).map(|p| p.input_count()));
        eprintln!("{}: {:?} in {took:?}", p.display(), r);
        assert!(took < BOUND, "{}: {took:?}", p.display());
        assert!(
            !matches!(r, Err(BitcoinError::InvalidBase64)),
            "{}",
            p.display()
        );
    }
}

/// `regression-array-dimensions`: a member type of 100 000 array
/// dimensions, parsed by one recursion per dimension (a stack overflow that
/// aborted the process). Now refused: type strings are at most 256 bytes.
#[test]
fn ethereum_typed_data_regressions_are_refused_in_bounded_time() {
    for p in seeds("ethereum_typed_data") {
        let text = std::fs::read_to_string(&p).expect("seed");
        let (r, took) =
            on_runtime_stack(move || TypedData::from_json_str(&text).and_then(|t| t.hash()).err());
        eprintln!("{}: {:?} in {took:?}", p.display(), r);
        assert!(took < BOUND, "{}: {took:?}", p.display());
        assert!(
            matches!(
                r,
                Some(TypedDataError::InvalidType { .. } | TypedDataError::TooLarge)
            ),
            "{}: {r:?}",
            p.display()
        );
    }
}
