//! One file per API area of `crypto/` (the reference is `docs/api.md`,
//! generated from these paths).

pub mod addresses;
pub mod approvals;
pub mod bitcoin;
pub mod check;
pub mod ethereum;
pub mod export;
pub mod keysel;
pub mod policy;
pub mod sign_hash;
pub mod solana;
pub mod wallets;
pub mod xpub;

#[cfg(test)]
mod tests;
