//! What a signing request is about to authorize, decoded before any
//! signature exists, and its JSON form (the `intent` of every signing
//! response and of the policy check).
//!
//! The decoders live in wallet-core (pure, bounded, tested against
//! independent encoders); this module only gathers their results per
//! request and renders them.

use ruint::aliases::U256;
use serde_json::{Map, Value, json};
use wallet_core::Ed25519PublicKey;
use wallet_core::ethereum::Address;
use wallet_core::ethereum::intent::{
    CallIntent, CalldataError, MovementKind, TokenMovement, TypedIntent,
};
use wallet_core::solana::{AccountRef, LamportKind, SolanaIntent, TokenKind};

/// What a signing request is about to authorize.
#[derive(Debug, Clone)]
pub enum Intent {
    EthereumTransaction(EthTransaction),
    /// EIP-191 personal_sign.
    /// `ethereum/sign-message` (EIP-191 personal_sign).
    EthereumMessage(MessageIntent),
    EthereumTypedData(EthTypedData),
    /// An EIP-7702 authorization (`ethereum/sign-authorization`).
    EthereumAuthorization(EthAuthorization),
    BitcoinTransaction(BtcTransaction),
    /// `bitcoin/sign-message` (BIP-322 or legacy).
    BitcoinMessage(MessageIntent),
    SolanaTransaction(SolTransaction),
    /// `solana/sign-message` (raw bytes that are not a transaction message,
    /// or an off-chain message envelope).
    SolanaMessage(MessageIntent),
    /// `sign-hash`: a digest nothing can be known about.
    RawHash {
        chain: &'static str,
    },
}

#[derive(Debug, Clone)]
pub struct EthTransaction {
    pub chain_id: u64,
    /// `None` for contract creation.
    pub to: Option<Address>,
    pub value: U256,
    /// The most the transaction can pay in fees: `gas_limit × gas_price`
    /// (or `max_fee_per_gas`).
    pub max_fee: U256,
    pub tx_type: &'static str,
    /// The calldata, decoded (an error when a recognised call is not in its
    /// canonical encoding). Contract creation carries init code: `Plain`.
    pub call: Result<CallIntent, CalldataError>,
    /// EIP-4844: the blobs and their fee (`max_fee` includes it).
    pub blobs: Option<EthBlobs>,
    /// EIP-7702: every authorization of the list.
    pub authorizations: Vec<EthAuthorization>,
}

#[derive(Debug, Clone)]
pub struct EthBlobs {
    pub count: usize,
    pub max_fee_per_blob_gas: U256,
    /// `max_fee_per_blob_gas × 2^17 × count`.
    pub max_blob_fee: U256,
}

/// One EIP-7702 authorization: the account `authority` runs `delegate`'s
/// code on `chain_id` (0: every chain).
#[derive(Debug, Clone)]
pub struct EthAuthorization {
    pub chain_id: u64,
    pub delegate: Address,
    pub nonce: u64,
    /// The signing account (ours on sign-authorization; recovered from the
    /// tuple in a transaction's list).
    pub authority: Address,
}

#[derive(Debug, Clone)]
pub struct EthTypedData {
    /// `domain.chainId`, only when the domain declares it as an integer type.
    pub chain_id: Option<u64>,
    pub primary_type: String,
    pub decoded: TypedIntent,
}

#[derive(Debug, Clone)]
pub struct BtcOutput {
    pub index: usize,
    pub script_pubkey: Vec<u8>,
    /// On the request's network (for display only: policies compare scripts).
    pub address: Option<String>,
    pub value: u64,
    pub is_change: bool,
}

#[derive(Debug, Clone)]
pub struct BtcInput {
    pub index: usize,
    pub ours: bool,
    pub amount: Option<u64>,
    /// The sighash type the input asks for (`None`: absent, which means
    /// ALL, or DEFAULT on taproot).
    pub sighash: Option<u32>,
    pub taproot: bool,
}

#[derive(Debug, Clone)]
pub struct BtcTransaction {
    pub inputs: Vec<BtcInput>,
    pub outputs: Vec<BtcOutput>,
    /// Inputs − outputs, when every input amount is known.
    pub fee: Option<u64>,
    /// Every input amount is proven (previous transactions, or committed to
    /// by a taproot signature of ours).
    pub amounts_proven: bool,
    pub estimated_vsize: u64,
}

impl BtcTransaction {
    /// The value leaving the wallet: outputs that are not change, plus the
    /// fee (when known).
    pub fn recipients_total(&self) -> U256 {
        self.outputs
            .iter()
            .filter(|o| !o.is_change)
            .fold(U256::ZERO, |acc, o| acc + U256::from(o.value))
    }
}

/// A message to sign: never the message itself (it may be large), only
/// its length and SHA-256, with the format and the signing address.
#[derive(Debug, Clone)]
pub struct MessageIntent {
    /// bitcoin: `bip322` or `legacy`; solana: `raw` or `offchain`.
    pub format: &'static str,
    pub address: String,
    pub length: usize,
    pub sha256: [u8; 32],
}

impl MessageIntent {
    pub fn new(format: &'static str, address: String, message: &[u8]) -> Self {
        use sha2::Digest as _;
        Self {
            format,
            address,
            length: message.len(),
            sha256: sha2::Sha256::digest(message).into(),
        }
    }

    fn to_json(&self, chain: &str) -> Value {
        json!({
            "chain": chain,
            "kind": "message",
            "format": self.format,
            "address": self.address,
            "message_length": self.length,
            "message_sha256": hex::encode(self.sha256),
        })
    }
}

#[derive(Debug, Clone)]
pub struct SolTransaction {
    /// The wallet's key that signs.
    pub signer: Ed25519PublicKey,
    /// The decoded instructions, or why they could not be decoded (a known
    /// program's instruction with malformed data).
    pub decoded: Result<SolanaIntent, String>,
}

impl Intent {
    /// The chain whose policy governs this intent.
    pub fn chain(&self) -> &'static str {
        match self {
            Intent::EthereumTransaction(_)
            | Intent::EthereumMessage(_)
            | Intent::EthereumTypedData(_)
            | Intent::EthereumAuthorization(_) => "ethereum",
            Intent::BitcoinTransaction(_) | Intent::BitcoinMessage(_) => "bitcoin",
            Intent::SolanaTransaction(_) | Intent::SolanaMessage(_) => "solana",
            Intent::RawHash { chain } => chain,
        }
    }

    /// The JSON form shown in responses and in the audit log.
    pub fn to_json(&self) -> Value {
        match self {
            Intent::EthereumTransaction(tx) => eth_tx_json(tx),
            Intent::EthereumMessage(m) => m.to_json("ethereum"),
            Intent::EthereumTypedData(td) => eth_typed_json(td),
            Intent::EthereumAuthorization(a) => {
                let mut o = auth_json(a);
                o.insert("chain".into(), json!("ethereum"));
                o.insert("kind".into(), json!("authorization"));
                Value::Object(o)
            }
            Intent::BitcoinTransaction(tx) => btc_json(tx),
            Intent::BitcoinMessage(m) => m.to_json("bitcoin"),
            Intent::SolanaTransaction(tx) => sol_json(tx),
            Intent::SolanaMessage(m) => m.to_json("solana"),
            Intent::RawHash { chain } => json!({"chain": chain, "kind": "raw_hash"}),
        }
    }
}

fn dec(v: &U256) -> Value {
    Value::String(v.to_string())
}

pub fn hex4(s: &[u8; 4]) -> String {
    format!("0x{}", hex::encode(s))
}

fn movement_json(m: &TokenMovement) -> Value {
    let kind = match m.kind {
        MovementKind::Transfer => "transfer",
        MovementKind::Approval => "approval",
        MovementKind::OperatorApproval => "operator_approval",
    };
    let mut o = Map::new();
    o.insert("kind".into(), json!(kind));
    o.insert("token".into(), json!(m.token.to_checksum()));
    let who = match m.kind {
        MovementKind::Transfer => "to",
        MovementKind::Approval => "spender",
        MovementKind::OperatorApproval => "operator",
    };
    o.insert(who.into(), json!(m.counterparty.to_checksum()));
    if let Some(from) = &m.from {
        o.insert("from".into(), json!(from.to_checksum()));
    }
    o.insert("amount".into(), dec(&m.amount));
    if let Some(id) = &m.token_id {
        o.insert("token_id".into(), dec(id));
    }
    o.insert("unlimited".into(), json!(m.unlimited));
    Value::Object(o)
}

fn auth_json(a: &EthAuthorization) -> Map<String, Value> {
    let mut o = Map::new();
    o.insert("chain_id".into(), json!(a.chain_id.to_string()));
    o.insert("any_chain".into(), json!(a.chain_id == 0));
    o.insert("delegate".into(), json!(a.delegate.to_checksum()));
    o.insert("nonce".into(), json!(a.nonce.to_string()));
    o.insert("authority".into(), json!(a.authority.to_checksum()));
    o
}

fn eth_tx_json(tx: &EthTransaction) -> Value {
    let mut o = Map::new();
    o.insert("chain".into(), json!("ethereum"));
    o.insert("kind".into(), json!("transaction"));
    o.insert("type".into(), json!(tx.tx_type));
    o.insert("chain_id".into(), json!(tx.chain_id.to_string()));
    o.insert(
        "to".into(),
        tx.to.map(|a| json!(a.to_checksum())).unwrap_or(Value::Null),
    );
    o.insert("value".into(), dec(&tx.value));
    o.insert("max_fee".into(), dec(&tx.max_fee));
    let call = match &tx.call {
        Ok(CallIntent::Plain) => Value::Null,
        Ok(CallIntent::Token {
            selector,
            method,
            movements,
        }) => json!({
            "selector": hex4(selector),
            "method": method,
            "movements": movements.iter().map(movement_json).collect::<Vec<_>>(),
        }),
        Ok(CallIntent::Other { selector }) => json!({
            "selector": selector.as_ref().map(hex4),
            "method": Value::Null,
        }),
        Err(e) => json!({"malformed": e.to_string()}),
    };
    o.insert("call".into(), call);
    if let Some(b) = &tx.blobs {
        o.insert(
            "blobs".into(),
            json!({
                "count": b.count,
                "max_fee_per_blob_gas": dec(&b.max_fee_per_blob_gas),
                "max_blob_fee": dec(&b.max_blob_fee),
            }),
        );
    }
    if !tx.authorizations.is_empty() {
        o.insert(
            "authorizations".into(),
            Value::Array(
                tx.authorizations
                    .iter()
                    .map(|a| Value::Object(auth_json(a)))
                    .collect(),
            ),
        );
    }
    Value::Object(o)
}

fn eth_typed_json(td: &EthTypedData) -> Value {
    let mut o = Map::new();
    o.insert("chain".into(), json!("ethereum"));
    o.insert("kind".into(), json!("typed_data"));
    o.insert("primary_type".into(), json!(td.primary_type));
    o.insert(
        "chain_id".into(),
        td.chain_id
            .map(|c| json!(c.to_string()))
            .unwrap_or(Value::Null),
    );
    match &td.decoded {
        TypedIntent::Token {
            standard,
            verifying_contract,
            movements,
        } => {
            o.insert("standard".into(), json!(standard));
            o.insert(
                "verifying_contract".into(),
                json!(verifying_contract.to_checksum()),
            );
            o.insert(
                "movements".into(),
                Value::Array(movements.iter().map(movement_json).collect()),
            );
        }
        TypedIntent::Other {
            verifying_contract, ..
        } => {
            o.insert(
                "verifying_contract".into(),
                verifying_contract
                    .map(|a| json!(a.to_checksum()))
                    .unwrap_or(Value::Null),
            );
        }
    }
    Value::Object(o)
}

fn btc_json(tx: &BtcTransaction) -> Value {
    let outputs: Vec<Value> = tx
        .outputs
        .iter()
        .map(|o| {
            json!({
                "index": o.index,
                "address": o.address,
                "script_pubkey": hex::encode(&o.script_pubkey),
                "value": o.value.to_string(),
                "change": o.is_change,
            })
        })
        .collect();
    let sighashes: Vec<Value> = tx
        .inputs
        .iter()
        .filter(|i| i.ours)
        .map(|i| {
            json!({
                "input": i.index,
                "sighash": crate::policy::bitcoin::sighash_label(i.sighash, i.taproot),
            })
        })
        .collect();
    json!({
        "chain": "bitcoin",
        "kind": "transaction",
        "outputs": outputs,
        "spent": tx.recipients_total().saturating_add(U256::from(tx.fee.unwrap_or(0))).to_string(),
        "fee": tx.fee.map(|f| f.to_string()),
        "amounts_proven": tx.amounts_proven,
        "estimated_vsize": tx.estimated_vsize,
        "signing": sighashes,
    })
}

pub fn account(a: &AccountRef) -> Value {
    match a {
        AccountRef::Key(k) => json!(wallet_core::solana::address(k)),
        AccountRef::Lookup { index } => json!(format!("lookup-table account #{index}")),
    }
}

fn sol_json(tx: &SolTransaction) -> Value {
    let d = match &tx.decoded {
        Ok(d) => d,
        Err(e) => {
            return json!({
                "chain": "solana",
                "kind": "transaction",
                "signer": wallet_core::solana::address(&tx.signer),
                "malformed": e,
            });
        }
    };
    let transfers: Vec<Value> = d
        .lamport_transfers
        .iter()
        .map(|t| {
            let kind = match t.kind {
                LamportKind::Transfer => "transfer",
                LamportKind::TransferWithSeed => "transfer_with_seed",
                LamportKind::CreateAccount => "create_account",
                LamportKind::CreateAccountWithSeed => "create_account_with_seed",
            };
            json!({
                "instruction": t.instruction,
                "kind": kind,
                "from": account(&t.from),
                "to": account(&t.to),
                "lamports": t.lamports.to_string(),
            })
        })
        .collect();
    let tokens: Vec<Value> = d
        .token_movements
        .iter()
        .map(|m| {
            let kind = match m.kind {
                TokenKind::Transfer => "transfer",
                TokenKind::TransferChecked => "transfer_checked",
                TokenKind::Approve => "approve",
                TokenKind::ApproveChecked => "approve_checked",
            };
            json!({
                "instruction": m.instruction,
                "kind": kind,
                "source": account(&m.source),
                "counterparty": account(&m.counterparty),
                "mint": m.mint.as_ref().map(account),
                "authority": account(&m.authority),
                "amount": m.amount.to_string(),
            })
        })
        .collect();
    json!({
        "chain": "solana",
        "kind": "transaction",
        "signer": wallet_core::solana::address(&tx.signer),
        "fee_payer": wallet_core::solana::address(&d.fee_payer),
        "transfers": transfers,
        "token_movements": tokens,
        "programs": d.programs.iter().map(wallet_core::solana::address).collect::<Vec<_>>(),
        "priority_fee": d.priority_fee_lamports.to_string(),
    })
}
