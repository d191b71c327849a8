//! [`Store`]: the engine's view of host storage.

use std::sync::Arc;

use crate::logical::{LogicalError, Storage, StorageValue};

use super::cache::Cache;
use super::derived::{DEFAULT_KEY_CACHE_CAPACITY, DerivedKey, KeyCache};
use super::entry::{self, Decoded, Versioned};
use super::keys;
use super::locks::{LockMap, NameGuard};

/// How many decoded wallets are kept in memory.
pub const DEFAULT_CACHE_CAPACITY: usize = 512;

/// How many policy entries (present or absent) are kept in memory.
pub const POLICY_CACHE_CAPACITY: usize = 4096;

/// A policy entry as stored, or the fact that there is none.
type CachedPolicy = Option<StorageValue>;

/// Locks, the wallet cache, the derived-key cache and typed access to
/// every storage key.
pub struct Store<W> {
    locks: LockMap,
    wallets: Cache<W>,
    /// Derived signing keys; emptied for a wallet together with its
    /// wallet cache entry (see [`super::derived`]).
    keys: KeyCache,
    /// Policy entries by storage key, absent ones included, so that
    /// signing on a hot wallet makes no storage round trip. Writes go
    /// through this store (which updates the cache); changes made on
    /// another node arrive as `InvalidateKey`.
    policies: Cache<CachedPolicy>,
}

impl<W> Default for Store<W> {
    fn default() -> Self {
        Self::new(DEFAULT_CACHE_CAPACITY)
    }
}

impl<W> Store<W> {
    pub fn new(cache_capacity: usize) -> Self {
        Self {
            locks: LockMap::new(),
            wallets: Cache::new(cache_capacity),
            keys: KeyCache::new(DEFAULT_KEY_CACHE_CAPACITY),
            policies: Cache::new(POLICY_CACHE_CAPACITY),
        }
    }

    /// Takes the lock of one wallet. Writers require the guard.
    pub async fn lock(&self, name: &str) -> NameGuard {
        self.locks.lock(name).await
    }

    /// How many wallet locks were taken since the start (for tests).
    pub fn lock_acquisitions(&self) -> u64 {
        self.locks.acquisitions()
    }

    /// A storage key changed on another node: drop what we cached for it.
    pub fn invalidate(&self, key: &str) {
        if let Some(name) = keys::wallet_name_of(key) {
            self.wallets.remove(name);
            self.keys.remove_wallet(name);
        } else if key.starts_with(keys::POLICY_PREFIX) {
            self.policies.remove(key);
        }
    }

    /// Forgets every cached wallet, derived key and policy (cleanup).
    pub fn clear(&self) {
        self.wallets.clear();
        self.keys.clear();
        self.policies.clear();
    }

    /// How many policy entries (present or absent) are cached.
    pub fn cached_policies(&self) -> usize {
        self.policies.len()
    }

    /// The derived-key cache (tests and metrics).
    pub fn derived_keys(&self) -> &KeyCache {
        &self.keys
    }

    /// The key at `path` on `curve` of the wallet `name`, from the cache or
    /// derived by `derive` off the async workers
    /// ([`super::derived::off_async_workers`]; at most
    /// `paths::keysel::MAX_PATH_DEPTH` steps). `wallet` is the caller's copy
    /// from [`Store::wallet`]:
    /// the result is cached only while that copy is still the cached one,
    /// so a key of a deleted or replaced wallet never enters the cache.
    pub fn derived_key<E>(
        &self,
        name: &str,
        wallet: &Arc<W>,
        curve: wallet_core::hd::Curve,
        path: &wallet_core::hd::DerivationPath,
        derive: impl FnOnce(&W) -> Result<DerivedKey, E>,
    ) -> Result<Arc<DerivedKey>, E> {
        if let Some(k) = self.keys.get(name, curve, path) {
            return Ok(k);
        }
        let seen = self.keys.generation();
        let key = Arc::new(super::derived::off_async_workers(|| derive(wallet))?);
        let current = self
            .wallets
            .get(name)
            .is_some_and(|cached| Arc::ptr_eq(&cached, wallet));
        if current {
            self.keys.insert(name, curve, path, Arc::clone(&key), seen);
        }
        Ok(key)
    }

    pub fn cached_wallets(&self) -> usize {
        self.wallets.len()
    }

    pub fn live_locks(&self) -> usize {
        self.locks.live()
    }
}

/// A wallet as stored: the entry type `E` decodes into the cached form `W`.
pub trait WalletCodec: Sized + Send + Sync + 'static {
    type Entry: Versioned + Send + 'static;
    fn decode(entry: Self::Entry) -> Result<Self, LogicalError>;
    fn encode(&self) -> Result<Self::Entry, LogicalError>;
}

impl<W: WalletCodec> Store<W> {
    /// Names of every wallet, sorted.
    pub async fn list_wallets(&self, storage: &dyn Storage) -> Result<Vec<String>, LogicalError> {
        let mut names: Vec<String> = storage
            .list(keys::WALLET_PREFIX)
            .await?
            .into_iter()
            .filter(|k| !k.ends_with('/'))
            .collect();
        names.sort();
        Ok(names)
    }

    /// Whether a wallet exists (reads storage; the cache may be cold).
    pub async fn wallet_exists(
        &self,
        storage: &dyn Storage,
        name: &str,
    ) -> Result<bool, LogicalError> {
        if self.wallets.get(name).is_some() {
            return Ok(true);
        }
        Ok(storage.get(&keys::wallet(name)).await?.is_some())
    }

    /// The decoded wallet, from the cache or storage.
    pub async fn wallet(
        &self,
        storage: &dyn Storage,
        name: &str,
    ) -> Result<Option<Arc<W>>, LogicalError> {
        if let Some(w) = self.wallets.get(name) {
            return Ok(Some(w));
        }
        let seen = self.wallets.generation();
        let Some(bytes) = storage.get(&keys::wallet(name)).await? else {
            return Ok(None);
        };
        // An upgraded entry stays upgraded in memory only; the next write
        // under the wallet's lock stores the current version.
        let wallet = Arc::new(decode_wallet::<W>(bytes).await?);
        self.wallets.insert_loaded(name, Arc::clone(&wallet), seen);
        Ok(Some(wallet))
    }

    /// Reads a wallet for a write: bypasses the cache so that the entry
    /// under the lock is the stored one.
    pub async fn wallet_for_update(
        &self,
        guard: &NameGuard,
        storage: &dyn Storage,
    ) -> Result<Option<W>, LogicalError> {
        let Some(bytes) = storage.get(&keys::wallet(guard.name())).await? else {
            return Ok(None);
        };
        decode_wallet::<W>(bytes).await.map(Some)
    }

    /// Writes a wallet (under its lock) and caches the decoded form.
    pub async fn put_wallet(
        &self,
        guard: &NameGuard,
        storage: &dyn Storage,
        wallet: W,
    ) -> Result<Arc<W>, LogicalError> {
        let entry = wallet.encode()?;
        let bytes = entry::encode(&entry)?;
        drop(entry);
        storage.put(&keys::wallet(guard.name()), bytes).await?;
        let wallet = Arc::new(wallet);
        self.wallets
            .insert_written(guard.name(), Arc::clone(&wallet));
        Ok(wallet)
    }

    /// Deletes a wallet with its policies and counters. Children go first:
    /// if a delete fails half-way, the wallet still exists and the delete can
    /// be retried, and a new wallet of the same name never inherits them.
    pub async fn delete_wallet(
        &self,
        guard: &NameGuard,
        storage: &dyn Storage,
    ) -> Result<(), LogicalError> {
        let name = guard.name();
        delete_tree(storage, &keys::policies(name)).await?;
        // Deleting a wallet is rare: forgetting every cached policy is
        // simpler than tracking the chains of this one.
        self.policies.clear();
        delete_tree(storage, &keys::counters(name)).await?;
        // Drop the cached copy before and after: a reader that raced with us
        // cannot re-insert (the generation moved).
        self.wallets.remove(name);
        self.keys.remove_wallet(name);
        storage.delete(&keys::wallet(name)).await?;
        self.wallets.remove(name);
        self.keys.remove_wallet(name);
        Ok(())
    }
}

impl<W> Store<W> {
    /// The chains that have a policy for this wallet, sorted.
    pub async fn policy_chains(
        &self,
        storage: &dyn Storage,
        name: &str,
    ) -> Result<Vec<String>, LogicalError> {
        let mut chains: Vec<String> = storage
            .list(&keys::policies(name))
            .await?
            .into_iter()
            .filter(|k| !k.ends_with('/'))
            .collect();
        chains.sort();
        Ok(chains)
    }

    /// The policy of one chain, from the cache or storage (an absent
    /// policy is cached too).
    pub async fn policy<P: Versioned>(
        &self,
        storage: &dyn Storage,
        name: &str,
        chain: &str,
    ) -> Result<Option<P>, LogicalError> {
        let key = keys::policy(name, chain);
        let cached = match self.policies.get(&key) {
            Some(c) => c,
            None => {
                let seen = self.policies.generation();
                let loaded = Arc::new(storage.get(&key).await?);
                self.policies.insert_loaded(&key, Arc::clone(&loaded), seen);
                loaded
            }
        };
        match cached.as_ref() {
            Some(bytes) => Ok(Some(entry::decode::<P>(bytes)?.value)),
            None => Ok(None),
        }
    }

    /// Whether a policy exists, straight from storage: the existence check
    /// runs before the host's ACL check and must not fill the cache.
    pub async fn policy_exists(
        &self,
        storage: &dyn Storage,
        name: &str,
        chain: &str,
    ) -> Result<bool, LogicalError> {
        Ok(storage.get(&keys::policy(name, chain)).await?.is_some())
    }

    /// A policy read for a write, under the wallet's lock, bypassing the cache.
    pub async fn policy_for_update<P: Versioned>(
        &self,
        guard: &NameGuard,
        storage: &dyn Storage,
        chain: &str,
    ) -> Result<Option<P>, LogicalError> {
        get_entry(storage, &keys::policy(guard.name(), chain)).await
    }

    pub async fn put_policy<P: Versioned>(
        &self,
        guard: &NameGuard,
        storage: &dyn Storage,
        chain: &str,
        policy: &P,
    ) -> Result<(), LogicalError> {
        let key = keys::policy(guard.name(), chain);
        // Forget before and after: a reader that loaded the old entry in
        // between cannot put it back (the generation moved).
        self.policies.remove(&key);
        let result = put_entry(storage, &key, policy).await;
        self.policies.remove(&key);
        result
    }

    pub async fn delete_policy(
        &self,
        guard: &NameGuard,
        storage: &dyn Storage,
        chain: &str,
    ) -> Result<(), LogicalError> {
        let key = keys::policy(guard.name(), chain);
        self.policies.remove(&key);
        let result = storage.delete(&key).await;
        self.policies.remove(&key);
        Ok(result?)
    }

    /// A counter, read under the wallet's lock (counters are read-modify-write).
    pub async fn counter<C: Versioned>(
        &self,
        guard: &NameGuard,
        storage: &dyn Storage,
        chain: &str,
        scope: &str,
    ) -> Result<Option<C>, LogicalError> {
        get_entry(storage, &keys::counter(guard.name(), chain, scope)).await
    }

    pub async fn put_counter<C: Versioned>(
        &self,
        guard: &NameGuard,
        storage: &dyn Storage,
        chain: &str,
        scope: &str,
        counter: &C,
    ) -> Result<(), LogicalError> {
        put_entry(storage, &keys::counter(guard.name(), chain, scope), counter).await
    }
}

impl<W> Store<W> {
    /// Takes the lock of one approval (approve, reject and sign of one id
    /// are serialized by it; it is taken before any wallet lock).
    pub async fn lock_approval(&self, id: &str) -> NameGuard {
        self.locks.lock(&keys::approval_lock(id)).await
    }

    /// The `created_time` of a wallet (which tells a wallet from another
    /// created later under the same name), straight from storage; `None`
    /// when there is no wallet. Only that field is read: the secrets in the
    /// entry are skipped, never copied.
    pub async fn wallet_created_time(
        &self,
        storage: &dyn Storage,
        name: &str,
    ) -> Result<Option<String>, LogicalError> {
        #[derive(serde::Deserialize)]
        struct Probe {
            #[serde(default)]
            created_time: String,
        }
        let Some(bytes) = storage.get(&keys::wallet(name)).await? else {
            return Ok(None);
        };
        let probe: Probe = serde_json::from_slice(&bytes)
            .map_err(|_| LogicalError::Internal("stored wallet entry is corrupt".into()))?;
        Ok(Some(probe.created_time))
    }

    /// Every approval id, sorted.
    pub async fn list_approvals(&self, storage: &dyn Storage) -> Result<Vec<String>, LogicalError> {
        let mut ids: Vec<String> = storage
            .list(keys::APPROVAL_PREFIX)
            .await?
            .into_iter()
            .filter(|k| !k.ends_with('/'))
            .collect();
        ids.sort();
        Ok(ids)
    }

    /// One approval, straight from storage (never cached: every node must
    /// see the status the active node wrote).
    pub async fn approval<A: Versioned>(
        &self,
        storage: &dyn Storage,
        id: &str,
    ) -> Result<Option<A>, LogicalError> {
        get_entry(storage, &keys::approval(id)).await
    }

    /// Writes a new approval (its id is fresh: no lock needed).
    pub async fn put_new_approval<A: Versioned>(
        &self,
        storage: &dyn Storage,
        id: &str,
        approval: &A,
    ) -> Result<(), LogicalError> {
        put_entry(storage, &keys::approval(id), approval).await
    }

    /// Rewrites an approval under its lock.
    pub async fn put_approval<A: Versioned>(
        &self,
        guard: &NameGuard,
        storage: &dyn Storage,
        approval: &A,
    ) -> Result<(), LogicalError> {
        let id = guard
            .name()
            .strip_prefix("approval:")
            .ok_or_else(|| LogicalError::Internal("an approval written without its lock".into()))?;
        put_entry(storage, &keys::approval(id), approval).await
    }
}

/// Decodes a wallet entry off the async workers: an HD wallet's decoding
/// derives its seed (BIP39: 2048 rounds of PBKDF2-HMAC-SHA512).
async fn decode_wallet<W: WalletCodec>(bytes: StorageValue) -> Result<W, LogicalError>
where
    W::Entry: Send + 'static,
{
    tokio::task::spawn_blocking(move || {
        let Decoded { value, .. } = entry::decode::<W::Entry>(&bytes)?;
        W::decode(value)
    })
    .await
    .map_err(|e| LogicalError::Internal(format!("wallet decoding task failed: {e}")))?
}

async fn get_entry<T: Versioned>(
    storage: &dyn Storage,
    key: &str,
) -> Result<Option<T>, LogicalError> {
    match storage.get(key).await? {
        Some(bytes) => Ok(Some(entry::decode::<T>(&bytes)?.value)),
        None => Ok(None),
    }
}

async fn put_entry<T: Versioned>(
    storage: &dyn Storage,
    key: &str,
    value: &T,
) -> Result<(), LogicalError> {
    Ok(storage.put(key, entry::encode(value)?).await?)
}

/// Deletes every key under `prefix`, depth first.
async fn delete_tree(storage: &dyn Storage, prefix: &str) -> Result<(), LogicalError> {
    let mut pending = vec![prefix.to_string()];
    while let Some(folder) = pending.pop() {
        for child in storage.list(&folder).await? {
            let key = format!("{folder}{child}");
            if child.ends_with('/') {
                pending.push(key);
            } else {
                storage.delete(&key).await?;
            }
        }
    }
    Ok(())
}
