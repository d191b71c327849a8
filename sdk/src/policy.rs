//! `wallets/:name/policy/:chain`.

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
        Ok(format!("wallets/{wallet}/policy/{}", chain.as_str()))
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

    /// Remove the policy.
    pub async fn delete(&self, wallet: &str, chain: Chain) -> Result<()> {
        self.client.engine_delete(&Self::path(wallet, chain)?).await
    }
}
