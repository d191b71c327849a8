//! `approvals/`: M-of-N approval of signing requests.
//!
//! When a wallet's policy on a chain sets `approvals_required` (and the amount is above
//! `approval_above`, when set), a signing request is not signed: the engine answers
//! `status` `pending` with an `approval_id`. Members of the policy's `approver_group` (a
//! Vault/OpenBao identity group) [`approve`](Approvals::approve) it from their own logins;
//! then the requester's entity collects the signature of exactly the stored request with
//! [`sign`](Approvals::sign).
//!
//! ```no_run
//! use vault_crypto_sdk::Client;
//! use vault_crypto_sdk::approvals::Signing;
//! use vault_crypto_sdk::ethereum::{SignTransaction, SignedTransaction};
//!
//! # async fn demo(requester: Client, alice: Client, bob: Client) -> vault_crypto_sdk::Result<()> {
//! let tx = SignTransaction::legacy(1, 0, 21_000, 1_000_000_000u64)
//!     .to("0x000000000000000000000000000000000000dEaD")
//!     .value(5_000_000_000_000_000_000u128);
//! let pending = match requester.ethereum().request_transaction("treasury", &tx).await? {
//!     Signing::Signed(signed) => return Ok(println!("{}", signed.signed_transaction)),
//!     Signing::Pending(p) => p,
//! };
//! alice.approvals().approve(&pending.approval_id).await?;
//! bob.approvals().approve(&pending.approval_id).await?;
//! let signed: SignedTransaction = requester.approvals().sign(&pending.approval_id).await?;
//! println!("{}", signed.signed_transaction);
//! # Ok(()) }
//! ```

use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::Method;
use crate::client::{Client, api_error, decode_data};
use crate::error::{Error, Result};

/// A signing request that waits for approvals (the answer of a signing path instead of a
/// signature).
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[non_exhaustive]
pub struct Pending {
    /// The id to approve, read and sign.
    pub approval_id: String,
    /// `pending`.
    pub status: String,
    /// Distinct approvals needed.
    #[serde(default)]
    pub required: u32,
    /// RFC 3339; the request ends then.
    #[serde(default)]
    pub expires_at: String,
    /// What the engine decoded from the request (what the approvers approve).
    #[serde(default)]
    pub intent: Value,
}

/// The answer of a signing path under a policy that may require approvals.
#[derive(Clone, Debug, PartialEq)]
pub enum Signing<T> {
    /// Signed now.
    Signed(T),
    /// Waits for approvals.
    Pending(Pending),
}

/// One approval (or the rejection) of a request.
#[derive(Clone, Debug, Default, Deserialize, PartialEq, Eq)]
#[non_exhaustive]
pub struct ApprovalMark {
    /// The approver's identity entity.
    pub entity_id: String,
    /// Its name.
    #[serde(default)]
    pub entity_name: String,
    /// RFC 3339.
    #[serde(default)]
    pub time: String,
}

/// A request as `approvals/:id` shows it (never the request's raw fields).
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[non_exhaustive]
pub struct Approval {
    /// The id.
    pub approval_id: String,
    /// `pending`, `approved`, `signed`, `rejected`, `expired` or `wallet_deleted`.
    pub status: String,
    /// Wallet name.
    pub wallet: String,
    /// `ethereum`, `bitcoin` or `solana`.
    pub chain: String,
    /// The signing operation, e.g. `ethereum/sign-transaction`.
    pub operation: String,
    /// The decoded request.
    #[serde(default)]
    pub intent: Value,
    /// The requester's identity entity.
    pub requester_entity_id: String,
    /// Its name.
    #[serde(default)]
    pub requester_name: String,
    /// Distinct approvals needed.
    pub required: u32,
    /// The identity group whose members may approve.
    pub approver_group: String,
    /// Approvals so far.
    #[serde(default)]
    pub approvals: Vec<ApprovalMark>,
    /// Who rejected it.
    #[serde(default)]
    pub rejected_by: Option<ApprovalMark>,
    /// RFC 3339.
    #[serde(default)]
    pub created_at: String,
    /// RFC 3339.
    #[serde(default)]
    pub expires_at: String,
    /// RFC 3339, once signed.
    #[serde(default)]
    pub signed_at: Option<String>,
}

/// `approvals/`.
pub struct Approvals<'a> {
    client: &'a Client,
}

impl Client {
    /// M-of-N approvals of signing requests.
    pub fn approvals(&self) -> Approvals<'_> {
        Approvals { client: self }
    }

    /// POST a signing path whose policy may make the request wait: `Signed` with the path's
    /// response, or `Pending`.
    pub async fn request_signature<B: serde::Serialize, T: DeserializeOwned>(
        &self,
        rel: &str,
        body: &B,
    ) -> Result<Signing<T>> {
        let data: Value = self.engine_write(rel, body).await?;
        if data.get("status").and_then(Value::as_str) == Some("pending") {
            let p = serde_json::from_value(data).map_err(|e| Error::decode(rel, e))?;
            return Ok(Signing::Pending(p));
        }
        serde_json::from_value(data)
            .map(Signing::Signed)
            .map_err(|e| Error::decode(rel, e))
    }
}

fn check_id(id: &str) -> Result<()> {
    if id.len() != 32 || !id.bytes().all(|c| matches!(c, b'0'..=b'9' | b'a'..=b'f')) {
        return Err(Error::invalid(
            "approval_id",
            "an approval id is 32 lower-case hex digits",
        ));
    }
    Ok(())
}

impl Approvals<'_> {
    /// Ids of the requests still pending or approved and not yet signed, of every wallet or
    /// of `wallet` (empty when there are none).
    pub async fn list(&self, wallet: Option<&str>) -> Result<Vec<String>> {
        let path = self.client.engine_path("approvals/");
        let mut q = vec![("list".to_owned(), "true".to_owned())];
        if let Some(w) = wallet {
            crate::client::check_name("wallet", w)?;
            q.push(("wallet".to_owned(), w.to_owned()));
        }
        let r = self
            .client
            .raw_request(Method::GET, &path, &q, None)
            .await?;
        if r.status == 404 {
            let e = api_error(r.status, r.body.as_ref(), &r.node);
            if e.server_messages().is_empty() {
                return Ok(Vec::new());
            }
            return Err(e);
        }
        if !(200..300).contains(&r.status) {
            return Err(api_error(r.status, r.body.as_ref(), &r.node));
        }
        #[derive(Deserialize)]
        struct Keys {
            #[serde(default)]
            keys: Vec<String>,
        }
        let k: Keys = decode_data(&path, r)?;
        Ok(k.keys)
    }

    /// A request: status, intent, approvals so far.
    pub async fn read(&self, id: &str) -> Result<Approval> {
        check_id(id)?;
        self.client
            .engine_read(&format!("approvals/{id}"), &())
            .await
    }

    /// Approve as the caller's entity (a member of the approver group, not the requester).
    pub async fn approve(&self, id: &str) -> Result<Approval> {
        check_id(id)?;
        self.client
            .engine_write(&format!("approvals/{id}/approve"), &serde_json::json!({}))
            .await
    }

    /// Reject as the caller's entity: the request ends.
    pub async fn reject(&self, id: &str) -> Result<Approval> {
        check_id(id)?;
        self.client
            .engine_write(&format!("approvals/{id}/reject"), &serde_json::json!({}))
            .await
    }

    /// Collect the signature of an approved request (the requester's entity only, once):
    /// `T` is the signing path's response type, e.g. [`crate::ethereum::SignedTransaction`].
    pub async fn sign<T: DeserializeOwned>(&self, id: &str) -> Result<T> {
        check_id(id)?;
        self.client
            .engine_write(&format!("approvals/{id}/sign"), &serde_json::json!({}))
            .await
    }
}
