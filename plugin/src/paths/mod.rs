//! One file per API area of `crypto/` (see `shared/docs/api.md`).

pub mod policy;
pub mod wallets;
