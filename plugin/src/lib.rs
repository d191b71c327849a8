//! vault-plugin-crypto: a crypto-wallet secrets engine for Vault and OpenBao.
//!
//! Code map (see ARCHITECTURE.md):
//! - `serve`: the go-plugin server (handshake, AutoMTLS, broker, controller, stdio).
//! - `bridge`: the only module that knows protobuf; converts to `logical` types.
//! - `logical`: our path framework (requests, fields, routing, help, OpenAPI).
//! - `backend`: the ordered list of paths of the `crypto/` engine.
//! - `paths`: one file per API area.
//! - `store`: storage keys, versioned entries, locks and caches.
//! - `fuzzing`: entry points for the fuzz targets in `plugin/fuzz/` (not an API).
//!
//! Invariant: `serve` and `bridge` never touch `wallet_core`.

pub mod approvals;
pub mod backend;
pub mod bridge;
#[cfg(test)]
mod docs;
#[doc(hidden)]
pub mod fuzzing;
pub mod hclog;
pub mod logical;
pub mod paths;
pub mod pb;
pub mod policy;
pub mod serve;
pub mod store;
