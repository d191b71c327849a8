//! Entry points for the cargo-fuzz targets in `plugin/fuzz/`. Not an API:
//! hidden from the docs and free to change with the targets.
//!
//! Only what the targets cannot reach otherwise is here; everything else
//! they use (`backend::framework`, `logical::memory::MemoryStorage`,
//! `serve::PluginEnv::from_vars`, `wallet_core`) is public already.

use serde_json::{Map, Value};

use crate::logical::LogicalError;

/// The request body as the bridge reads the host's JSON text
/// (`pb.Request.data`) before a request reaches the backend.
pub fn request_body(text: &str) -> Result<Map<String, Value>, LogicalError> {
    crate::bridge::convert::parse_data(text)
}

/// The stack of the threads requests run on: tokio's worker and blocking
/// threads keep Rust's default of 2 MiB (`serve` does not change it).
pub const RUNTIME_THREAD_STACK_BYTES: usize = 2 * 1024 * 1024;

/// Runs `f` on a thread with the stack of the runtime's threads, so that a
/// fuzz target finds the recursion that overflows it (libFuzzer runs
/// targets on the 8 MiB main thread, which hid such bugs). A panic is
/// resumed on the caller's thread, where libFuzzer reports it; a stack
/// overflow aborts the process, which libFuzzer reports too.
///
/// The worker blocks the asynchronous signals libFuzzer handles (its
/// per-input `-timeout` alarm, the interrupt and termination signals), so
/// they reach libFuzzer's own thread: there its alarm handler sees the
/// input that runs too long and reports it, where on the worker it returned
/// without a word (libFuzzer ignores the alarm off its fuzzing thread), and
/// a handler never runs on a thread that may hold the allocator's lock.
pub fn on_runtime_stack<T: Send>(f: impl FnOnce() -> T + Send) -> T {
    std::thread::scope(|scope| {
        let worker = std::thread::Builder::new()
            .name("fuzz-worker".into())
            .stack_size(RUNTIME_THREAD_STACK_BYTES)
            .spawn_scoped(scope, || {
                block_async_signals();
                f()
            });
        match worker {
            Ok(handle) => match handle.join() {
                Ok(v) => v,
                Err(payload) => std::panic::resume_unwind(payload),
            },
            Err(e) => panic!("cannot start a fuzz worker thread: {e}"),
        }
    })
}

/// Blocks, on the calling thread only, the signals libFuzzer installs
/// handlers for that are not caused by the thread itself (faults such as
/// SIGSEGV and SIGABRT stay deliverable: they report crashes).
fn block_async_signals() {
    use nix::sys::signal::{SigSet, SigmaskHow, Signal, pthread_sigmask};
    let mut set = SigSet::empty();
    for s in [
        Signal::SIGALRM,
        Signal::SIGINT,
        Signal::SIGTERM,
        Signal::SIGUSR1,
        Signal::SIGUSR2,
        Signal::SIGXFSZ,
    ] {
        set.add(s);
    }
    // Best effort: without the mask, signals are handled as before.
    let _ = pthread_sigmask(SigmaskHow::SIG_BLOCK, Some(&set), None);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn depth(n: usize) -> usize {
        // A frame large enough that 2 MiB holds a few thousand of them.
        let pad = std::hint::black_box([0u8; 512]);
        if n == 0 {
            usize::from(pad[0])
        } else {
            depth(n - 1) + 1 + usize::from(pad[1])
        }
    }

    #[test]
    fn the_worker_leaves_libfuzzers_signals_to_the_calling_thread() {
        use nix::sys::signal::{SigSet, Signal};
        let blocked = |s| SigSet::thread_get_mask().expect("mask").contains(s);
        let in_worker = on_runtime_stack(|| (blocked(Signal::SIGALRM), blocked(Signal::SIGSEGV)));
        assert_eq!(in_worker, (true, false));
        assert!(!blocked(Signal::SIGALRM), "the caller's mask is unchanged");
    }

    #[test]
    fn the_worker_runs_the_closure_and_returns_its_value() {
        assert_eq!(on_runtime_stack(|| depth(100)), 100);
    }

    #[test]
    fn a_panic_in_the_worker_reaches_the_caller() {
        let r = std::panic::catch_unwind(|| on_runtime_stack(|| panic!("boom")));
        assert!(r.is_err());
    }
}
