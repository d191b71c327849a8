//! Storage of the `crypto/` engine: keys, versioned entries, per-wallet
//! locks, the cache of decoded wallets and the cache of derived keys.
//!
//! Invariant: only this module builds storage keys (see [`keys`]).
//! Invariant: every write to a wallet, its policies or its counters happens
//! under that wallet's lock ([`NameGuard`] is required by the writers).

pub mod cache;
pub mod derived;
pub mod entry;
pub mod keys;
pub mod locks;
pub mod wallet;

pub use cache::Cache;
pub use entry::{Decoded, Versioned};
pub use locks::{LockMap, NameGuard};
mod access;

pub use access::{DEFAULT_CACHE_CAPACITY, Store, WalletCodec};
