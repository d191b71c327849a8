//! `policies/:name/:chain` and `policies/:name/:chain/check`.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::client::{Client, check_name};
use crate::error::Result;
use crate::types::{Chain, Quantity};

/// A signing policy for one chain (api.md "Policies"). Sent whole on write; `None` fields are
/// omitted (server defaults).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Policy {
    /// Ethereum: allowed `chain_id`s (tx and EIP-712 `domain.chainId`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allowed_chain_ids: Option<Vec<u64>>,
    /// If non-empty, every recipient must be listed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allowed_recipients: Option<Vec<String>>,
    /// Never sign to these.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub denied_recipients: Option<Vec<String>>,
    /// Wei / sats per transaction.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_value_per_tx: Option<Quantity>,
    /// Wei / sats per rolling 24 hours.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_value_per_day: Option<Quantity>,
    /// Ethereum: whether a transaction without `to` may be signed (server default true).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allow_contract_creation: Option<bool>,
    /// Every chain: whether message signing is allowed (server default true).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allow_message_signing: Option<bool>,
    /// Ethereum: the most a transaction may pay in fees (wei).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_fee_per_tx: Option<Quantity>,
    /// Ethereum (token contract) / Solana (mint) → per-token limits in base units.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_limits: Option<BTreeMap<String, TokenLimit>>,
    /// Ethereum: contract → allowed 4-byte selectors (`0x` + 8 hex; empty: any).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allowed_contracts: Option<BTreeMap<String, Vec<String>>>,
    /// Ethereum: sign calldata the engine does not decode to unlisted contracts (default false).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allow_arbitrary_calldata: Option<bool>,
    /// Ethereum: sign unlimited approvals (default false).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allow_unlimited_approvals: Option<bool>,
    /// Ethereum: typed data (other than decoded permits) that may be signed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allowed_typed_data: Option<Vec<TypedDataRule>>,
    /// Ethereum: sign any typed data (default false).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allow_arbitrary_typed_data: Option<bool>,
    /// Ethereum: EIP-7702 delegate contracts an authorization may name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allowed_delegates: Option<Vec<String>>,
    /// Ethereum: whether an EIP-7702 authorization with chain id 0 (every chain) may be signed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allow_any_chain_authorization: Option<bool>,
    /// Ethereum: the largest EIP-4844 `max_fee_per_blob_gas` (wei).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_fee_per_blob_gas: Option<Quantity>,
    /// Bitcoin: sighash types beyond ALL (DEFAULT on taproot), e.g. `"SINGLE|ANYONECANPAY"`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allowed_sighash_types: Option<Vec<String>>,
    /// Bitcoin: the largest fee in sats.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_fee: Option<Quantity>,
    /// Bitcoin: the largest fee rate in sat/vB (decimal text, at most three decimals).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_fee_rate: Option<String>,
    /// Solana: programs allowed beyond the built-in ones (base58).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allowed_programs: Option<Vec<String>>,
    /// Solana: the largest priority fee in lamports.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_priority_fee: Option<Quantity>,
}

/// Per-token limits (base units of the token).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenLimit {
    /// Per signature.
    #[serde(default)]
    pub max_value_per_tx: Option<Quantity>,
    /// Per rolling 24 hours.
    #[serde(default)]
    pub max_value_per_day: Option<Quantity>,
}

/// One entry of `allowed_typed_data`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TypedDataRule {
    /// The domain's `verifyingContract`.
    pub verifying_contract: String,
    /// The primary type, if only that one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub primary_type: Option<String>,
}

/// The answer of [`Policies::check`].
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[non_exhaustive]
pub struct PolicyCheck {
    /// Whether the signing path would sign.
    pub allowed: bool,
    /// The rule that refused.
    #[serde(default)]
    pub rule: Option<String>,
    /// Why it refused.
    #[serde(default)]
    pub reason: Option<String>,
    /// Whether the wallet has a policy on the chain.
    #[serde(default)]
    pub policy: bool,
    /// What the request would authorize, as the engine decoded it.
    #[serde(default)]
    pub intent: serde_json::Value,
}

impl Policy {
    /// Allowed chain ids.
    pub fn with_allowed_chain_ids(mut self, ids: impl IntoIterator<Item = u64>) -> Self {
        self.allowed_chain_ids = Some(ids.into_iter().collect());
        self
    }

    /// Allowed recipients.
    pub fn with_allowed_recipients<S: Into<String>>(
        mut self,
        r: impl IntoIterator<Item = S>,
    ) -> Self {
        self.allowed_recipients = Some(r.into_iter().map(Into::into).collect());
        self
    }

    /// Denied recipients.
    pub fn with_denied_recipients<S: Into<String>>(
        mut self,
        r: impl IntoIterator<Item = S>,
    ) -> Self {
        self.denied_recipients = Some(r.into_iter().map(Into::into).collect());
        self
    }

    /// EIP-7702 delegates an authorization may name.
    pub fn with_allowed_delegates<S: Into<String>>(
        mut self,
        delegates: impl IntoIterator<Item = S>,
    ) -> Self {
        self.allowed_delegates = Some(delegates.into_iter().map(Into::into).collect());
        self
    }

    /// Per-transaction limit.
    pub fn with_max_value_per_tx(mut self, v: impl Into<Quantity>) -> Self {
        self.max_value_per_tx = Some(v.into());
        self
    }

    /// Rolling daily limit.
    pub fn with_max_value_per_day(mut self, v: impl Into<Quantity>) -> Self {
        self.max_value_per_day = Some(v.into());
        self
    }

    /// Contract creation allowed or not.
    pub fn with_allow_contract_creation(mut self, yes: bool) -> Self {
        self.allow_contract_creation = Some(yes);
        self
    }
}

/// The policy API area. Obtained with [`Client::policy`].
#[derive(Clone, Copy, Debug)]
pub struct Policies<'a> {
    client: &'a Client,
}

impl Client {
    /// Signing policies.
    pub fn policy(&self) -> Policies<'_> {
        Policies { client: self }
    }
}

impl Policies<'_> {
    fn path(wallet: &str, chain: Chain) -> Result<String> {
        check_name("wallet", wallet)?;
        Ok(format!("policies/{wallet}/{}", chain.as_str()))
    }

    /// Create or replace the policy of `wallet` on `chain`; returns the stored policy.
    ///
    /// ```no_run
    /// # async fn demo(client: vault_crypto_sdk::Client) -> vault_crypto_sdk::Result<()> {
    /// use vault_crypto_sdk::{Chain, policy::Policy};
    /// let p = Policy::default()
    ///     .with_allowed_chain_ids([1, 11155111])
    ///     .with_max_value_per_tx(10u128.pow(18)); // 1 ether, sent as "1000000000000000000"
    /// client.policy().write("treasury", Chain::Ethereum, &p).await?;
    /// # Ok(()) }
    /// ```
    pub async fn write(&self, wallet: &str, chain: Chain, policy: &Policy) -> Result<Policy> {
        self.client
            .engine_write(&Self::path(wallet, chain)?, policy)
            .await
    }

    /// The policy of `wallet` on `chain` (404 when none).
    pub async fn read(&self, wallet: &str, chain: Chain) -> Result<Policy> {
        self.client
            .engine_read(&Self::path(wallet, chain)?, &())
            .await
    }

    /// Ask the policy about a signing request without signing or counting:
    /// `operation` is `sign-transaction`, `sign-message`, `sign-typed-data`, `sign-psbt` or
    /// `sign-hash`; `request` is the signing request's body (any of this SDK's request types).
    pub async fn check<R: Serialize + ?Sized>(
        &self,
        wallet: &str,
        chain: Chain,
        operation: &str,
        request: &R,
    ) -> Result<PolicyCheck> {
        let mut body = serde_json::to_value(request).map_err(|e| crate::Error::Decode {
            path: "policies check".into(),
            reason: e.to_string(),
        })?;
        if let serde_json::Value::Object(m) = &mut body {
            m.insert(
                "operation".into(),
                serde_json::Value::String(operation.into()),
            );
        }
        self.client
            .engine_write(&format!("{}/check", Self::path(wallet, chain)?), &body)
            .await
    }

    /// Remove the policy.
    pub async fn delete(&self, wallet: &str, chain: Chain) -> Result<()> {
        self.client.engine_delete(&Self::path(wallet, chain)?).await
    }
}
