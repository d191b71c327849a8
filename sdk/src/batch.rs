//! Batches: several signing requests of one kind in one call (`batch_input`), answered in
//! order, one result or one error per item. Used by the `*_batch` methods of
//! [`Ethereum`](crate::ethereum::Ethereum), [`Solana`](crate::solana::Solana) and
//! [`Client::sign_hash_batch`](crate::Client::sign_hash_batch).
//!
//! An item refused by the policy (or with a bad field) fails alone: its entry is an
//! [`ItemError`] carrying the server's message (`policy <rule>: <why>`), the others are signed.
//! A failure of the whole call (authentication, a bad batch, the server unreachable) is the
//! method's [`Error`](crate::Error).

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::client::Client;
use crate::error::{Error, Result};

/// The most items one batch may carry (the server answers 400 beyond).
pub const MAX_BATCH_ITEMS: usize = 1000;

/// The server's error for one item of a batch.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct ItemError {
    /// The server's message: a 400's names the field, a policy refusal's the rule.
    pub message: String,
}

impl ItemError {
    /// Whether the policy refused the item (`policy <rule>: ...`).
    pub fn is_policy_refusal(&self) -> bool {
        self.message.starts_with("policy ")
    }
}

/// One item's outcome.
pub type ItemResult<T> = std::result::Result<T, ItemError>;

#[derive(Serialize)]
struct Body<'a, R> {
    batch_input: &'a [R],
}

impl Client {
    /// POSTs `items` as `batch_input` to `<mount>/<rel>` and decodes `batch_results`.
    pub(crate) async fn engine_batch<R: Serialize, T: DeserializeOwned>(
        &self,
        rel: &str,
        items: &[R],
    ) -> Result<Vec<ItemResult<T>>> {
        if items.is_empty() || items.len() > MAX_BATCH_ITEMS {
            return Err(Error::invalid(
                "batch_input",
                format!("1 to {MAX_BATCH_ITEMS} items, not {}", items.len()),
            ));
        }
        let data: Value = self.engine_write(rel, &Body { batch_input: items }).await?;
        let path = self.engine_path(rel);
        let results = data
            .get("batch_results")
            .and_then(Value::as_array)
            .ok_or_else(|| Error::decode(&path, "no batch_results in the response"))?;
        if results.len() != items.len() {
            return Err(Error::decode(
                &path,
                format!("{} results for {} items", results.len(), items.len()),
            ));
        }
        results
            .iter()
            .map(|r| match r.get("error").and_then(Value::as_str) {
                Some(message) => Ok(Err(ItemError {
                    message: message.to_owned(),
                })),
                None => serde_json::from_value(r.clone())
                    .map(Ok)
                    .map_err(|e| Error::decode(&path, e)),
            })
            .collect()
    }
}
