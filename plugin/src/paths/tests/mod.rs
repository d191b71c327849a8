//! In-process tests of the address, export, xpub and signing paths over
//! in-memory storage, with known answers from the specs where they exist.

use serde_json::{Value, json};

use crate::backend::testing::{TestBackend, bad_request};
use crate::logical::{LogicalError, Operation, Response};

mod addresses;
mod approvals;
mod bitcoin;
mod ethereum;
mod export_xpub;
mod secrets;
mod solana;

/// The well-known BIP39 test mnemonic (master fingerprint 73c5da0a).
pub const ABANDON: &str = "abandon abandon abandon abandon abandon abandon abandon abandon \
                           abandon abandon abandon about";
/// m/44'/60'/0'/0/0 of [`ABANDON`].
pub const ABANDON_ETH: &str = "0x9858EfFD232B4033E47d90003D41EC34EcaEda94";
/// BIP84 m/84'/0'/0'/0/0 of [`ABANDON`] (BIP84's test vectors).
pub const ABANDON_BIP84: &str = "bc1qcr8te4kr609gcawutmrza0j4xv80jy8z306fyu";
/// BIP86 m/86'/0'/0'/0/0 of [`ABANDON`] (BIP86's test vectors).
pub const ABANDON_BIP86: &str = "bc1p5cyxnuxmeuwuvkwfem96lqzszd02n6xdcjrs20cac6yqjjwudpxqkedrcr";
/// Solana m/44'/501'/0'/0' of [`ABANDON`].
pub const ABANDON_SOL: &str = "HAgk14JpMQLgt6rVgv7cBQFJWFto5Dqxi472uT3DKpqk";

/// A backend with the abandon wallet `w` (hd, every flag on) and
/// `plain` (hd, every flag off).
pub async fn backend() -> TestBackend {
    let t = TestBackend::new();
    t.write_ok(
        "wallets/w",
        json!({"mnemonic": ABANDON, "exportable": true, "allow_raw_signing": true}),
    )
    .await;
    t.write_ok("wallets/plain", json!({"mnemonic": ABANDON}))
        .await;
    t
}

pub async fn read(
    t: &TestBackend,
    path: &str,
    data: Value,
) -> Result<Option<Response>, LogicalError> {
    t.call(Operation::Read, path, data).await
}

pub async fn read_data(t: &TestBackend, path: &str, data: Value) -> serde_json::Map<String, Value> {
    match read(t, path, data).await {
        Ok(Some(r)) => r.data,
        Ok(None) => panic!("read {path}: no response"),
        Err(e) => panic!("read {path}: {e}"),
    }
}

pub async fn update(
    t: &TestBackend,
    path: &str,
    data: Value,
) -> Result<Option<Response>, LogicalError> {
    t.call(Operation::Update, path, data).await
}

pub async fn update_data(
    t: &TestBackend,
    path: &str,
    data: Value,
) -> serde_json::Map<String, Value> {
    match update(t, path, data).await {
        Ok(Some(r)) => r.data,
        Ok(None) => panic!("update {path}: no response"),
        Err(e) => panic!("update {path}: {e}"),
    }
}

pub fn forbidden(r: Result<Option<Response>, LogicalError>) -> String {
    match r {
        Err(LogicalError::PermissionDenied(m)) => m,
        Err(e) => panic!("expected a 403, got error {e:?}"),
        Ok(_) => panic!("expected a 403, got success"),
    }
}

pub fn not_found(r: Result<Option<Response>, LogicalError>) -> String {
    match r {
        Err(LogicalError::NotFound(m)) => m,
        Err(e) => panic!("expected a 404, got error {e:?}"),
        Ok(_) => panic!("expected a 404, got success"),
    }
}

/// A 400 whose message names `field`.
pub fn bad_field(r: Result<Option<Response>, LogicalError>, field: &str) {
    let msg = bad_request(r);
    assert!(
        msg.contains(&format!("\"{field}\"")),
        "{msg:?} does not name {field}"
    );
}
