//! Solana: addresses, message signing, and signing of serialized
//! transactions (legacy and v0) into the right signer slot.
//!
//! The wire format (Solana docs, "Transactions"; `solana-message` crate):
//!
//! ```text
//! transaction = compact-u16 n, n × 64-byte signature, message
//! message     = [0x80 | version]            (absent for legacy)
//!               header: num_required_signatures, num_readonly_signed,
//!                       num_readonly_unsigned          (3 × u8)
//!               compact-u16 k, k × 32-byte account key
//!               32-byte recent blockhash
//!               compact-u16 i, i × instruction:
//!                   u8 program_id_index,
//!                   compact-u16 a, a × u8 account index,
//!                   compact-u16 d, d bytes data
//!               v0 only: compact-u16 l, l × address table lookup:
//!                   32-byte table key,
//!                   compact-u16 w, w × u8 writable index,
//!                   compact-u16 r, r × u8 readonly index
//! ```
//!
//! The parser is our own: it reads with explicit bounds, never indexes past
//! the input, never allocates more than the input can justify, and rejects
//! trailing bytes, so it cannot panic on malformed input (a property test
//! feeds it random bytes).
//!
//! [`decode_message`] (in `intent.rs`) says what a parsed message does for the
//! signing policy; [`could_be_transaction_message`] guards message signing.

mod intent;
mod offchain;
mod programs;

pub use intent::{
    AccountRef, DEFAULT_INSTRUCTION_COMPUTE_UNIT_LIMIT, LamportKind, LamportTransfer,
    MAX_COMPUTE_UNIT_LIMIT, SolanaIntent, SolanaIntentError, TokenKind, TokenMovement,
    TokenProgram, could_be_transaction_message, decode_message,
};
pub use offchain::{
    OFFCHAIN_HEADER_LEN, OFFCHAIN_MAX_LEN, OFFCHAIN_MAX_LEN_LEDGER, OFFCHAIN_SIGNING_DOMAIN,
    OffchainError, OffchainFormat, offchain_envelope, offchain_format,
};
pub use programs::{
    ASSOCIATED_TOKEN_PROGRAM, COMPUTE_BUDGET_PROGRAM, MEMO_V1_PROGRAM, MEMO_V2_PROGRAM,
    SYSTEM_PROGRAM, TOKEN_2022_PROGRAM, TOKEN_PROGRAM, associated_token_address,
};

use crate::hd::DerivationPath;
use crate::keys::Ed25519PublicKey;
use crate::secret::Ed25519PrivateKey;
use crate::sign_hash::sign_ed25519;

/// Largest serialized transaction accepted. Solana's packet limit is 1232
/// bytes; this leaves room for larger future limits while bounding work.
pub const MAX_TRANSACTION_BYTES: usize = 64 * 1024;

/// Errors of the Solana domain.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SolanaError {
    /// The bytes are neither a transaction nor a message.
    #[error("invalid transaction: {0}")]
    Malformed(&'static str),
    /// Larger than [`MAX_TRANSACTION_BYTES`].
    #[error("transaction is larger than {MAX_TRANSACTION_BYTES} bytes")]
    TooLarge,
    /// A message version other than legacy and v0.
    #[error("unsupported transaction message version {0}")]
    UnsupportedVersion(u8),
    /// This wallet's key is not among the required signers.
    #[error("this wallet's key is not a required signer of the transaction")]
    NotASigner,
    /// A base58 address does not decode to 32 bytes.
    #[error("invalid solana address")]
    InvalidAddress,
}

/// The Solana address (base58 of the ed25519 public key).
pub fn address(key: &Ed25519PublicKey) -> String {
    crate::base58::encode(&key.to_bytes())
}

/// Parses a base58 address.
pub fn parse_address(s: &str) -> Result<Ed25519PublicKey, SolanaError> {
    if s.len() > 64 {
        return Err(SolanaError::InvalidAddress);
    }
    let mut out = [0u8; 32];
    match bs58::decode(s).onto(&mut out[..]) {
        Ok(32) => Ok(Ed25519PublicKey::from_bytes(out)),
        _ => Err(SolanaError::InvalidAddress),
    }
}

/// The API's default path `m/44'/501'/{index}'/0'`.
pub fn default_path(index: u32) -> Option<DerivationPath> {
    DerivationPath::solana(index).ok()
}

/// Signs arbitrary bytes (`solana/sign-message`).
pub fn sign_message(key: &Ed25519PrivateKey, message: &[u8]) -> [u8; 64] {
    sign_ed25519(key, message)
}

/// Base58 of a signature.
pub fn signature_to_base58(sig: &[u8; 64]) -> String {
    crate::base58::encode(sig)
}

/// Message format version.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MessageVersion {
    /// Legacy messages (no version prefix).
    Legacy,
    /// Versioned message v0 (address table lookups).
    V0,
}

/// An address table lookup of a v0 message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AddressTableLookup {
    /// The lookup table account.
    pub account_key: Ed25519PublicKey,
    /// Indexes of writable addresses in the table.
    pub writable_indexes: Vec<u8>,
    /// Indexes of read-only addresses in the table.
    pub readonly_indexes: Vec<u8>,
}

/// A compiled instruction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompiledInstruction {
    /// Index of the program in the message's accounts.
    pub program_id_index: u8,
    /// Indexes of the instruction's accounts.
    pub accounts: Vec<u8>,
    /// Instruction data.
    pub data: Vec<u8>,
}

/// A parsed message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    /// Legacy or v0.
    pub version: MessageVersion,
    /// The first this-many account keys must sign.
    pub num_required_signatures: u8,
    /// Of the signers, how many (the last ones) are read-only.
    pub num_readonly_signed_accounts: u8,
    /// Of the non-signers, how many (the last ones) are read-only.
    pub num_readonly_unsigned_accounts: u8,
    /// The static account keys.
    pub account_keys: Vec<Ed25519PublicKey>,
    /// The recent blockhash (or durable nonce).
    pub recent_blockhash: [u8; 32],
    /// The instructions.
    pub instructions: Vec<CompiledInstruction>,
    /// v0 address table lookups (empty for legacy).
    pub address_table_lookups: Vec<AddressTableLookup>,
}

impl Message {
    /// The required signers, in signature-slot order.
    pub fn signers(&self) -> &[Ed25519PublicKey] {
        let n = usize::from(self.num_required_signatures).min(self.account_keys.len());
        &self.account_keys[..n]
    }
}

/// A parsed transaction: the signatures and the exact message bytes that
/// were parsed (signing uses those bytes, not a re-encoding).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transaction {
    /// One slot per required signer (all zero when the input was a bare
    /// message).
    pub signatures: Vec<[u8; 64]>,
    /// The message.
    pub message: Message,
    /// The serialized message, as given.
    pub message_bytes: Vec<u8>,
    /// Whether the input was a bare message without a signature section.
    pub was_bare_message: bool,
}

impl Transaction {
    /// Serializes: compact-u16 count, signatures, message bytes.
    pub fn serialize(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(3 + self.signatures.len() * 64 + self.message_bytes.len());
        // At most 255 signatures (num_required_signatures is a u8).
        write_compact_u16(&mut out, self.signatures.len() as u16);
        for s in &self.signatures {
            out.extend_from_slice(s);
        }
        out.extend_from_slice(&self.message_bytes);
        out
    }
}

/// A transaction signed by this wallet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedTransaction {
    /// The full transaction with this wallet's signature in its slot.
    pub transaction: Vec<u8>,
    /// This wallet's signature.
    pub signature: [u8; 64],
    /// The slot (index among the required signers).
    pub signer_index: usize,
}

struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn new(buf: &'a [u8]) -> Self {
        Reader { buf, pos: 0 }
    }

    fn remaining(&self) -> usize {
        self.buf.len() - self.pos
    }

    fn take(&mut self, n: usize, what: &'static str) -> Result<&'a [u8], SolanaError> {
        if n > self.remaining() {
            return Err(SolanaError::Malformed(what));
        }
        let s = &self.buf[self.pos..self.pos + n];
        self.pos += n;
        Ok(s)
    }

    fn u8(&mut self, what: &'static str) -> Result<u8, SolanaError> {
        Ok(self.take(1, what)?[0])
    }

    fn array<const N: usize>(&mut self, what: &'static str) -> Result<[u8; N], SolanaError> {
        let mut out = [0u8; N];
        out.copy_from_slice(self.take(N, what)?);
        Ok(out)
    }

    /// compact-u16 ("shortvec"): 7 bits per byte, little-endian, high bit =
    /// continuation, at most 3 bytes; non-canonical encodings and values
    /// above u16::MAX are rejected, as Solana's own decoder does.
    fn compact_u16(&mut self, what: &'static str) -> Result<u16, SolanaError> {
        let mut value: u32 = 0;
        for i in 0..3 {
            let b = self.u8(what)?;
            value |= u32::from(b & 0x7f) << (7 * i);
            if b & 0x80 == 0 {
                if b == 0 && i > 0 {
                    return Err(SolanaError::Malformed("non-canonical compact-u16 length"));
                }
                return u16::try_from(value)
                    .map_err(|_| SolanaError::Malformed("compact-u16 length overflow"));
            }
            if i == 2 {
                break;
            }
        }
        Err(SolanaError::Malformed("compact-u16 length overflow"))
    }

    /// A compact-u16 count of items of `item_size` bytes, checked against
    /// the remaining input before anything is allocated.
    fn count(&mut self, item_size: usize, what: &'static str) -> Result<usize, SolanaError> {
        let n = usize::from(self.compact_u16(what)?);
        if n.saturating_mul(item_size) > self.remaining() {
            return Err(SolanaError::Malformed(what));
        }
        Ok(n)
    }

    fn bytes_vec(&mut self, what: &'static str) -> Result<Vec<u8>, SolanaError> {
        let n = self.count(1, what)?;
        Ok(self.take(n, what)?.to_vec())
    }
}

fn write_compact_u16(out: &mut Vec<u8>, mut v: u16) {
    loop {
        let mut b = (v & 0x7f) as u8;
        v >>= 7;
        if v != 0 {
            b |= 0x80;
        }
        out.push(b);
        if v == 0 {
            break;
        }
    }
}

/// Parses a message that must span all of `bytes`.
pub fn parse_message(bytes: &[u8]) -> Result<Message, SolanaError> {
    if bytes.len() > MAX_TRANSACTION_BYTES {
        return Err(SolanaError::TooLarge);
    }
    let mut r = Reader::new(bytes);
    let first = r.u8("message header")?;
    let (version, num_required_signatures) = if first & 0x80 != 0 {
        match first & 0x7f {
            0 => (MessageVersion::V0, r.u8("message header")?),
            v => return Err(SolanaError::UnsupportedVersion(v)),
        }
    } else {
        (MessageVersion::Legacy, first)
    };
    let num_readonly_signed_accounts = r.u8("message header")?;
    let num_readonly_unsigned_accounts = r.u8("message header")?;

    let n_keys = r.count(32, "account keys")?;
    let mut account_keys = Vec::with_capacity(n_keys);
    for _ in 0..n_keys {
        account_keys.push(Ed25519PublicKey::from_bytes(r.array::<32>("account keys")?));
    }
    let recent_blockhash = r.array::<32>("recent blockhash")?;

    // Each instruction takes at least 3 bytes.
    let n_ix = r.count(3, "instructions")?;
    let mut instructions = Vec::with_capacity(n_ix);
    for _ in 0..n_ix {
        let program_id_index = r.u8("instruction program id index")?;
        let accounts = r.bytes_vec("instruction accounts")?;
        let data = r.bytes_vec("instruction data")?;
        instructions.push(CompiledInstruction {
            program_id_index,
            accounts,
            data,
        });
    }

    let mut address_table_lookups = Vec::new();
    if version == MessageVersion::V0 {
        // Each lookup takes at least 34 bytes.
        let n = r.count(34, "address table lookups")?;
        address_table_lookups.reserve(n);
        for _ in 0..n {
            let account_key =
                Ed25519PublicKey::from_bytes(r.array::<32>("address table lookup key")?);
            let writable_indexes = r.bytes_vec("address table lookup indexes")?;
            let readonly_indexes = r.bytes_vec("address table lookup indexes")?;
            address_table_lookups.push(AddressTableLookup {
                account_key,
                writable_indexes,
                readonly_indexes,
            });
        }
    }
    if r.remaining() != 0 {
        return Err(SolanaError::Malformed("trailing bytes after message"));
    }

    let msg = Message {
        version,
        num_required_signatures,
        num_readonly_signed_accounts,
        num_readonly_unsigned_accounts,
        account_keys,
        recent_blockhash,
        instructions,
        address_table_lookups,
    };
    sanitize(&msg)?;
    Ok(msg)
}

/// The structural checks Solana's `sanitize` applies that matter for
/// choosing a signer slot and for rejecting garbage.
fn sanitize(msg: &Message) -> Result<(), SolanaError> {
    let signers = usize::from(msg.num_required_signatures);
    let keys = msg.account_keys.len();
    if signers == 0 {
        return Err(SolanaError::Malformed("no required signatures"));
    }
    if signers > keys {
        return Err(SolanaError::Malformed(
            "more required signatures than account keys",
        ));
    }
    // The fee payer (first signer) must be writable.
    if usize::from(msg.num_readonly_signed_accounts) >= signers {
        return Err(SolanaError::Malformed(
            "no writable signer for the fee payer",
        ));
    }
    if usize::from(msg.num_readonly_unsigned_accounts) > keys - signers {
        return Err(SolanaError::Malformed(
            "more read-only unsigned accounts than unsigned accounts",
        ));
    }
    for (i, k) in msg.account_keys.iter().enumerate() {
        if msg.account_keys[..i].contains(k) {
            return Err(SolanaError::Malformed("duplicate account key"));
        }
    }
    let lookup_count: usize = msg
        .address_table_lookups
        .iter()
        .map(|l| l.writable_indexes.len() + l.readonly_indexes.len())
        .sum();
    for l in &msg.address_table_lookups {
        if l.writable_indexes.is_empty() && l.readonly_indexes.is_empty() {
            return Err(SolanaError::Malformed("empty address table lookup"));
        }
    }
    let total = keys + lookup_count;
    if total > 256 {
        return Err(SolanaError::Malformed("more than 256 accounts"));
    }
    for ix in &msg.instructions {
        // Programs are static keys, never the fee payer.
        let p = usize::from(ix.program_id_index);
        if p == 0 || p >= keys {
            return Err(SolanaError::Malformed(
                "instruction program id index out of range",
            ));
        }
        if ix.accounts.iter().any(|a| usize::from(*a) >= total) {
            return Err(SolanaError::Malformed(
                "instruction account index out of range",
            ));
        }
    }
    Ok(())
}

/// Parses a serialized transaction, or a bare message (then every signature
/// slot is empty). A transaction is tried first: it must have exactly one
/// signature per required signer and its message must span the rest.
pub fn parse_transaction(bytes: &[u8]) -> Result<Transaction, SolanaError> {
    if bytes.len() > MAX_TRANSACTION_BYTES {
        return Err(SolanaError::TooLarge);
    }
    let as_transaction = || -> Result<Transaction, SolanaError> {
        let mut r = Reader::new(bytes);
        let n = r.count(64, "signatures")?;
        let mut signatures = Vec::with_capacity(n);
        for _ in 0..n {
            signatures.push(r.array::<64>("signatures")?);
        }
        let message_bytes = &bytes[r.pos..];
        let message = parse_message(message_bytes)?;
        if usize::from(message.num_required_signatures) != n {
            return Err(SolanaError::Malformed(
                "signature count does not match required signatures",
            ));
        }
        Ok(Transaction {
            signatures,
            message,
            message_bytes: message_bytes.to_vec(),
            was_bare_message: false,
        })
    };
    match as_transaction() {
        Ok(tx) => Ok(tx),
        Err(tx_err) => match parse_message(bytes) {
            Ok(message) => Ok(Transaction {
                signatures: vec![[0u8; 64]; usize::from(message.num_required_signatures)],
                message,
                message_bytes: bytes.to_vec(),
                was_bare_message: true,
            }),
            // Report the transaction reading unless the input is plainly
            // a message attempt (a version prefix byte).
            Err(msg_err) => Err(if bytes.first().is_some_and(|b| b & 0x80 != 0) {
                msg_err
            } else {
                tx_err
            }),
        },
    }
}

/// Signs a serialized transaction (or bare message) with `key`: finds the
/// key among the required signers, places the signature in its slot and
/// returns the reserialized transaction.
pub fn sign_transaction(
    key: &Ed25519PrivateKey,
    bytes: &[u8],
) -> Result<SignedTransaction, SolanaError> {
    let mut tx = parse_transaction(bytes)?;
    let public = key.public_key();
    let signer_index = tx
        .message
        .signers()
        .iter()
        .position(|k| *k == public)
        .ok_or(SolanaError::NotASigner)?;
    let signature = sign_ed25519(key, &tx.message_bytes);
    tx.signatures[signer_index] = signature;
    Ok(SignedTransaction {
        transaction: tx.serialize(),
        signature,
        signer_index,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compact_u16_round_trip_and_canonical() {
        for v in [0u16, 1, 0x7f, 0x80, 0x3fff, 0x4000, u16::MAX] {
            let mut buf = Vec::new();
            write_compact_u16(&mut buf, v);
            let mut r = Reader::new(&buf);
            assert_eq!(r.compact_u16("x").expect("decode"), v);
            assert_eq!(r.remaining(), 0);
        }
        // Known encodings from the Solana docs: 0x80 -> [0x80, 0x01].
        let mut buf = Vec::new();
        write_compact_u16(&mut buf, 0x80);
        assert_eq!(buf, [0x80, 0x01]);
        // Non-canonical (0 in a continuation byte) and overflowing forms.
        assert!(Reader::new(&[0x80, 0x00]).compact_u16("x").is_err());
        assert!(Reader::new(&[0xff, 0xff, 0x04]).compact_u16("x").is_err());
        assert!(
            Reader::new(&[0x80, 0x80, 0x80, 0x01])
                .compact_u16("x")
                .is_err()
        );
        assert!(Reader::new(&[0x80]).compact_u16("x").is_err());
    }

    #[test]
    fn address_round_trip() {
        let key = Ed25519PrivateKey::from_bytes(&[9u8; 32]).public_key();
        let a = address(&key);
        assert_eq!(parse_address(&a).expect("parse"), key);
        assert!(parse_address("0OIl").is_err());
        assert!(parse_address("1111").is_err());
    }
}
