//! Per-name async locks.
//!
//! Writes to one wallet (and its policies and counters) are serialized by a
//! lock for its name; different wallets never wait for each other. The map
//! holds `Weak` references, so a lock lives exactly as long as someone holds
//! or awaits it, and dead entries are swept as the map grows.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Weak};

use parking_lot::Mutex;
use tokio::sync::{Mutex as AsyncMutex, OwnedMutexGuard};

#[derive(Default)]
pub struct LockMap {
    locks: Mutex<HashMap<String, Weak<AsyncMutex<()>>>>,
    /// How many times a lock was acquired (tests: a batch takes one).
    acquired: AtomicU64,
}

/// Proof that the lock of `name` is held.
pub struct NameGuard {
    name: String,
    _guard: OwnedMutexGuard<()>,
}

impl NameGuard {
    pub fn name(&self) -> &str {
        &self.name
    }
}

impl LockMap {
    pub fn new() -> Self {
        Self::default()
    }

    pub async fn lock(&self, name: &str) -> NameGuard {
        let mutex = {
            let mut locks = self.locks.lock();
            match locks.get(name).and_then(Weak::upgrade) {
                Some(m) => m,
                None => {
                    // Sweep before growing: the map stays proportional to the
                    // number of names locked right now.
                    if locks.len() >= 64 && locks.len().is_power_of_two() {
                        locks.retain(|_, w| w.strong_count() > 0);
                    }
                    let m = Arc::new(AsyncMutex::new(()));
                    locks.insert(name.to_string(), Arc::downgrade(&m));
                    m
                }
            }
        };
        let guard = mutex.lock_owned().await;
        self.acquired.fetch_add(1, Ordering::Relaxed);
        NameGuard {
            name: name.to_string(),
            _guard: guard,
        }
    }

    /// How many times a lock was acquired since the start (for tests).
    pub fn acquisitions(&self) -> u64 {
        self.acquired.load(Ordering::Relaxed)
    }

    /// How many names have a live lock (for tests).
    pub fn live(&self) -> usize {
        self.locks
            .lock()
            .values()
            .filter(|w| w.strong_count() > 0)
            .count()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[tokio::test]
    async fn one_name_is_exclusive_and_others_are_not_blocked() {
        let locks = Arc::new(LockMap::new());
        let a = locks.lock("a").await;
        // Another name is free.
        let b = tokio::time::timeout(Duration::from_secs(1), locks.lock("b"))
            .await
            .expect("b is not blocked by a");
        // The same name waits until the first guard is dropped.
        let l2 = Arc::clone(&locks);
        let waiter = tokio::spawn(async move { l2.lock("a").await.name().to_string() });
        tokio::time::sleep(Duration::from_millis(20)).await;
        assert!(!waiter.is_finished());
        drop(a);
        let name = tokio::time::timeout(Duration::from_secs(1), waiter)
            .await
            .expect("acquired after release")
            .expect("task");
        assert_eq!(name, "a");
        drop(b);
        assert_eq!(locks.live(), 0);
    }
}
