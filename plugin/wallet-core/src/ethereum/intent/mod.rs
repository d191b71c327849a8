//! What an Ethereum signature would authorize, for the signing policy.
//!
//! Two decoders, both pure and bounded:
//!
//! - [`decode_calldata`]: the token calls of a transaction's `data`
//!   (ERC-20, ERC-721, ERC-1155, Permit2 `approve`). A recognised selector
//!   must carry the canonical ABI encoding of its arguments, byte for byte,
//!   or it is a [`CalldataError`]: a policy must never judge arguments that a
//!   contract could read differently.
//! - [`decode_typed_data`]: EIP-712 permits and authorizations (EIP-2612,
//!   DAI, Permit2, EIP-3009), recognised by the exact `encodeType` of the
//!   primary type (names, member names, member types and referenced types),
//!   never by name alone. Values are read by the same code that hashes them.
//!
//! Both are checked against alloy's ABI and EIP-712 encoders in
//! `tests/ethereum_intent.rs`.

use crate::ethereum::{Address, U256};

mod calldata;
mod typed;

pub use calldata::{CalldataError, decode_calldata, selectors};
pub use typed::{TypedIntentError, decode_typed_data, type_strings};

/// The canonical Permit2 contract, at the same address on every chain it was
/// deployed to with the deterministic deployer
/// (`0x000000000022D473030F116dDEE9F6B43aC78BA3`, Uniswap's Permit2 README).
/// Permit2 calldata and typed data are recognised only for this contract;
/// anything else with the same shapes is `Other`.
pub const PERMIT2: Address = Address([
    0x00, 0x00, 0x00, 0x00, 0x00, 0x22, 0xd4, 0x73, 0x03, 0x0f, 0x11, 0x6d, 0xde, 0xe9, 0xf6, 0xb4,
    0x3a, 0xc7, 0x8b, 0xa3,
]);

/// Most movements one call or one typed-data message may carry (ERC-1155
/// batch ids, Permit2 batch entries). More is an error, checked before the
/// entries are read.
pub const MAX_MOVEMENTS: usize = 256;

/// What a movement authorizes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MovementKind {
    /// Tokens leave (or may leave) the signer now.
    Transfer,
    /// A spender may move up to an amount of one token later.
    Approval,
    /// An operator may move every token of a collection later.
    OperatorApproval,
}

/// One asset movement a signature would authorize.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenMovement {
    /// What it authorizes.
    pub kind: MovementKind,
    /// The token contract (ERC-20/721/1155 address; for Permit2 the token
    /// argument; for EIP-2612/DAI/EIP-3009 the domain's verifyingContract).
    pub token: Address,
    /// Recipient (Transfer), spender (Approval), operator (OperatorApproval).
    pub counterparty: Address,
    /// Base units. ERC-721 safeTransferFrom: 1. ERC-20/721 `transferFrom`
    /// (same selector): the third argument (amount for ERC-20).
    /// setApprovalForAll: 0 (and `unlimited` when approved). DAI permit:
    /// 2^256-1 when `allowed`, else 0.
    pub amount: U256,
    /// ERC-721/1155 token id where the call names one.
    pub token_id: Option<U256>,
    /// 2^256-1 (ERC-20 approve/increaseAllowance, EIP-2612 value), at least
    /// 2^160-1 (Permit2 amounts), DAI permit `allowed=true`,
    /// setApprovalForAll(true).
    pub unlimited: bool,
    /// `from` of transferFrom-style calls / EIP-3009, `owner`/`holder` of
    /// permits, when present.
    pub from: Option<Address>,
}

/// Calldata of a transaction, decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CallIntent {
    /// Empty calldata (a plain value transfer, or a call with no data).
    Plain,
    /// A recognised token call. `method` is the Solidity name, e.g.
    /// "transfer", "approve", "safeTransferFrom", "safeBatchTransferFrom",
    /// "setApprovalForAll", "permit2.approve".
    Token {
        /// The 4-byte selector.
        selector: [u8; 4],
        /// The Solidity name.
        method: &'static str,
        /// What the call moves or approves (one per id for batches).
        movements: Vec<TokenMovement>,
    },
    /// Calldata whose selector is not one of the above (`selector` is None
    /// under 4 bytes).
    Other {
        /// The first 4 bytes, when there are 4.
        selector: Option<[u8; 4]>,
    },
}

/// Typed data, decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TypedIntent {
    /// A recognised permit/authorization. `standard` e.g. "EIP-2612 Permit",
    /// "DAI Permit", "Permit2 PermitSingle", "Permit2 PermitBatch",
    /// "Permit2 PermitTransferFrom", "Permit2 PermitBatchTransferFrom",
    /// "EIP-3009 TransferWithAuthorization",
    /// "EIP-3009 ReceiveWithAuthorization".
    Token {
        /// Which standard.
        standard: &'static str,
        /// `domain.verifyingContract`.
        verifying_contract: Address,
        /// What it authorizes (one per entry for batches).
        movements: Vec<TokenMovement>,
    },
    /// Anything else (the policy then needs `allowed_typed_data`).
    Other {
        /// The primary type's name.
        primary_type: String,
        /// `domain.verifyingContract`, when declared as an `address`.
        verifying_contract: Option<Address>,
    },
}
