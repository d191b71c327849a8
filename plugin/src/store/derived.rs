//! A bounded cache of derived signing keys.
//!
//! Why: a hot signing request must neither touch storage for key material
//! nor re-derive the key from the seed (BIP32 costs one HMAC-SHA512 and one
//! scalar multiplication per level). The wallet cache already saves the
//! storage round trip and the BIP39 seed; this cache saves the derivation.
//!
//! Keyed by wallet name, curve and derivation path. Values are `Arc`s of
//! wallet-core secret types, which zeroize on drop: an evicted or removed
//! key is wiped when the last request using it finishes.
//!
//! Invariant: the entries of a wallet are removed whenever its wallet cache
//! entry is invalidated, removed or cleared ([`super::Store`] does both in
//! one place), so a wallet deleted and re-created under the same name (on
//! this node or, through `InvalidateKey`, on another) never signs with the
//! old wallet's keys. A derivation that raced with such a removal is not
//! inserted: insertion is refused when the generation moved since the
//! caller checked that its wallet is still the cached one.

use std::collections::HashMap;
use std::sync::Arc;

use parking_lot::Mutex;
use wallet_core::hd::{Curve, DerivationPath};
use wallet_core::{Ed25519PrivateKey, Secp256k1PrivateKey};

/// Runs CPU work (an uncached derivation) off the async workers: through
/// `tokio::task::block_in_place` on a multi-threaded runtime (the plugin's),
/// so the worker's other tasks move to another thread while it runs; inline
/// elsewhere (a current-thread runtime, where `block_in_place` would panic,
/// a blocking-pool thread, or no runtime).
pub fn off_async_workers<T>(f: impl FnOnce() -> T) -> T {
    match tokio::runtime::Handle::try_current() {
        Ok(h) if h.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread => {
            tokio::task::block_in_place(f)
        }
        _ => f(),
    }
}

/// How many derived keys are kept, over all wallets.
pub const DEFAULT_KEY_CACHE_CAPACITY: usize = 4096;

/// A derived private key with its public key (computed once).
#[derive(Debug)]
pub enum DerivedKey {
    Secp256k1 {
        key: Secp256k1PrivateKey,
        /// SEC1 compressed.
        public: [u8; 33],
    },
    Ed25519 {
        key: Ed25519PrivateKey,
        public: [u8; 32],
    },
}

impl DerivedKey {
    pub fn secp256k1(key: Secp256k1PrivateKey) -> Self {
        let public = key.public_key().to_compressed();
        DerivedKey::Secp256k1 { key, public }
    }

    pub fn ed25519(key: Ed25519PrivateKey) -> Self {
        let public = key.public_key().to_bytes();
        DerivedKey::Ed25519 { key, public }
    }

    pub fn curve(&self) -> Curve {
        match self {
            DerivedKey::Secp256k1 { .. } => Curve::Secp256k1,
            DerivedKey::Ed25519 { .. } => Curve::Ed25519,
        }
    }

    /// The public key bytes: 33-byte compressed secp256k1 or 32-byte ed25519.
    pub fn public_bytes(&self) -> &[u8] {
        match self {
            DerivedKey::Secp256k1 { public, .. } => public,
            DerivedKey::Ed25519 { public, .. } => public,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct KeyId {
    wallet: String,
    curve: Curve,
    path: DerivationPath,
}

struct Inner {
    map: HashMap<KeyId, (Arc<DerivedKey>, u64)>,
    tick: u64,
    generation: u64,
}

/// The generation of the key cache, taken before a caller checks that its
/// wallet is current.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeyGeneration(u64);

pub struct KeyCache {
    inner: Mutex<Inner>,
    capacity: usize,
}

impl Default for KeyCache {
    fn default() -> Self {
        Self::new(DEFAULT_KEY_CACHE_CAPACITY)
    }
}

impl KeyCache {
    pub fn new(capacity: usize) -> Self {
        Self {
            inner: Mutex::new(Inner {
                map: HashMap::new(),
                tick: 0,
                generation: 0,
            }),
            capacity: capacity.max(1),
        }
    }

    pub fn get(
        &self,
        wallet: &str,
        curve: Curve,
        path: &DerivationPath,
    ) -> Option<Arc<DerivedKey>> {
        let id = KeyId {
            wallet: wallet.to_string(),
            curve,
            path: path.clone(),
        };
        let mut inner = self.inner.lock();
        inner.tick += 1;
        let tick = inner.tick;
        inner.map.get_mut(&id).map(|(k, used)| {
            *used = tick;
            Arc::clone(k)
        })
    }

    pub fn generation(&self) -> KeyGeneration {
        KeyGeneration(self.inner.lock().generation)
    }

    /// Inserts a derived key unless a wallet's keys were removed since
    /// `seen`. Returns whether it was inserted.
    pub fn insert(
        &self,
        wallet: &str,
        curve: Curve,
        path: &DerivationPath,
        key: Arc<DerivedKey>,
        seen: KeyGeneration,
    ) -> bool {
        let mut inner = self.inner.lock();
        if inner.generation != seen.0 {
            return false;
        }
        inner.tick += 1;
        let tick = inner.tick;
        let id = KeyId {
            wallet: wallet.to_string(),
            curve,
            path: path.clone(),
        };
        if !inner.map.contains_key(&id) && inner.map.len() >= self.capacity {
            // O(n) scan, as in the wallet cache: eviction is rare once warm.
            let oldest = inner
                .map
                .iter()
                .min_by_key(|(_, (_, used))| *used)
                .map(|(k, _)| k.clone());
            if let Some(k) = oldest {
                inner.map.remove(&k);
            }
        }
        inner.map.insert(id, (key, tick));
        true
    }

    /// Drops every key of one wallet.
    pub fn remove_wallet(&self, wallet: &str) {
        let mut inner = self.inner.lock();
        inner.generation += 1;
        inner.map.retain(|id, _| id.wallet != wallet);
    }

    pub fn clear(&self) {
        let mut inner = self.inner.lock();
        inner.generation += 1;
        inner.map.clear();
    }

    pub fn len(&self) -> usize {
        self.inner.lock().map.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// How many keys of one wallet are cached (tests).
    pub fn len_for(&self, wallet: &str) -> usize {
        self.inner
            .lock()
            .map
            .keys()
            .filter(|id| id.wallet == wallet)
            .count()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(b: u8) -> Arc<DerivedKey> {
        Arc::new(DerivedKey::ed25519(Ed25519PrivateKey::from_bytes(&[b; 32])))
    }

    fn path(i: u32) -> DerivationPath {
        DerivationPath::solana(i).expect("path")
    }

    #[test]
    fn the_least_recently_used_key_is_evicted_at_capacity() {
        let c = KeyCache::new(2);
        let g = c.generation();
        assert!(c.insert("w", Curve::Ed25519, &path(0), key(1), g));
        assert!(c.insert("w", Curve::Ed25519, &path(1), key(2), g));
        assert!(c.get("w", Curve::Ed25519, &path(0)).is_some());
        assert!(c.insert("w", Curve::Ed25519, &path(2), key(3), g));
        assert!(c.get("w", Curve::Ed25519, &path(1)).is_none());
        assert!(c.get("w", Curve::Ed25519, &path(0)).is_some());
        assert_eq!(c.len(), 2);
    }

    #[test]
    fn removing_a_wallet_drops_only_its_keys_and_refuses_racing_inserts() {
        let c = KeyCache::new(8);
        let g = c.generation();
        c.insert("a", Curve::Ed25519, &path(0), key(1), g);
        c.insert("b", Curve::Ed25519, &path(0), key(2), g);
        let before = c.generation();
        c.remove_wallet("a");
        assert_eq!(c.len_for("a"), 0);
        assert_eq!(c.len_for("b"), 1);
        // A derivation that started before the removal is not cached.
        assert!(!c.insert("a", Curve::Ed25519, &path(0), key(1), before));
        assert_eq!(c.len_for("a"), 0);
        c.clear();
        assert!(c.is_empty());
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 1)]
    async fn derivations_leave_the_async_worker() {
        // On the runtime's only worker, a task spawned before the derivation
        // can only run during it if the derivation handed the worker over
        // (the test's own thread runs no tasks). Without that, the wait
        // below times out.
        let on_worker = tokio::spawn(async {
            let (tx, rx) = std::sync::mpsc::channel();
            let other = tokio::spawn(async move {
                let _ = tx.send(());
            });
            let ran_meanwhile =
                off_async_workers(|| rx.recv_timeout(std::time::Duration::from_secs(5)).is_ok());
            let _ = other.await;
            ran_meanwhile
        });
        assert!(
            on_worker.await.expect("task"),
            "the worker was blocked by the derivation"
        );
    }

    #[tokio::test(flavor = "current_thread")]
    async fn on_a_current_thread_runtime_the_work_runs_inline() {
        assert_eq!(off_async_workers(|| 7), 7);
    }

    #[test]
    fn curves_and_paths_are_separate_entries() {
        let c = KeyCache::new(8);
        let g = c.generation();
        c.insert("w", Curve::Ed25519, &path(0), key(1), g);
        assert!(c.get("w", Curve::Secp256k1, &path(0)).is_none());
        assert!(c.get("w", Curve::Ed25519, &path(1)).is_none());
        assert!(c.get("x", Curve::Ed25519, &path(0)).is_none());
    }
}
