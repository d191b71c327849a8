//! Signing policies (api.md "Policies"): the interface the signing paths
//! call right before they make a signature.
//!
//! Interface contract (owned by the policy module, called by the paths):
//! - `enforce` is called once per signing request, after the request was
//!   parsed and before any signature exists;
//! - it returns `LogicalError::PermissionDenied` naming the rule that
//!   refused (e.g. `policy max_value_per_tx: ...`);
//! - when a daily limit applies it records the amount in the host's storage
//!   *before* returning `Ok`, under the wallet's lock, so N concurrent
//!   requests can never sign more than the limit; a storage error is
//!   returned verbatim (a standby's `cannot write to readonly storage`
//!   makes the host forward the request to the active node).

use ruint::aliases::U256;

use crate::backend::Crypto;
use crate::logical::{LogicalError, Storage};

/// What a signing request is about to authorize, as a policy sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Intent {
    /// An Ethereum transaction. `to` is `None` for contract creation; the
    /// address is `0x` + 40 hex digits (any case).
    EthereumTransaction {
        chain_id: u64,
        to: Option<String>,
        value: U256,
    },
    /// EIP-191 personal_sign: not a value transfer, no chain id.
    EthereumMessage,
    /// EIP-712 typed data; `chain_id` is the domain's `chainId` if present.
    EthereumTypedData { chain_id: Option<u64> },
    /// A Bitcoin PSBT: every output that is not change to this wallet.
    BitcoinTransaction {
        network: String,
        recipients: Vec<(String, u64)>,
    },
    /// Solana signing (no Solana policy fields exist).
    Solana,
}

/// Checks the wallet's policy for the intent's chain and records daily
/// amounts. Placeholder until the policy paths land: no policy can be
/// stored yet, so there is nothing to enforce.
pub async fn enforce(
    _crypto: &Crypto,
    _storage: &dyn Storage,
    _wallet: &str,
    _intent: &Intent,
) -> Result<(), LogicalError> {
    Ok(())
}
