//! Permits and transfer authorizations in EIP-712 typed data.
//!
//! A standard is recognised by the exact `encodeType` of the primary type
//! (the primary type and every struct type it references, with their member
//! names and types, in order): the string whose hash the verifying contract
//! compares. A `Permit` with one more, one less or one renamed member is a
//! different type to the contract, and `Other` here.
//!
//! Values are read with the very code that hashes them
//! ([`eip712`](crate::ethereum::eip712)), so a decoded movement is exactly
//! what is signed; every member of a recognised message is checked (missing,
//! undeclared or ill-typed members are errors, as they are when hashing).

use serde_json::{Map, Value};

use super::calldata::permit2_max;
use super::{MAX_MOVEMENTS, MovementKind, PERMIT2, TokenMovement, TypedIntent};
use crate::ethereum::eip712::{TypedData, TypedDataError, atomic_word};
use crate::ethereum::{Address, U256};

/// Why recognised typed data cannot be decoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TypedIntentError {
    /// A value of the message or domain is missing, undeclared or does not
    /// fit its type (the same errors hashing gives).
    #[error(transparent)]
    TypedData(#[from] TypedDataError),
    /// A batch has more than [`MAX_MOVEMENTS`] entries.
    #[error("typed_data {standard}: message.{field} has more than {max} entries")]
    TooManyEntries {
        /// The standard recognised.
        standard: &'static str,
        /// The batch member.
        field: &'static str,
        /// The bound.
        max: usize,
    },
}

/// The `encodeType` strings of the recognised standards (what each standard's
/// contract hashes as its type hash). Checked against alloy's `sol!` structs
/// and against the published type hashes in the tests.
pub mod type_strings {
    /// EIP-2612 (and OpenZeppelin `ERC20Permit`).
    pub const EIP2612_PERMIT: &str =
        "Permit(address owner,address spender,uint256 value,uint256 nonce,uint256 deadline)";
    /// DAI's `permit` (Multi-Collateral Dai).
    pub const DAI_PERMIT: &str =
        "Permit(address holder,address spender,uint256 nonce,uint256 expiry,bool allowed)";
    /// Permit2 `AllowanceTransfer.permit(PermitSingle)`.
    pub const PERMIT2_PERMIT_SINGLE: &str = "PermitSingle(PermitDetails details,address spender,uint256 sigDeadline)PermitDetails(address token,uint160 amount,uint48 expiration,uint48 nonce)";
    /// Permit2 `AllowanceTransfer.permit(PermitBatch)`.
    pub const PERMIT2_PERMIT_BATCH: &str = "PermitBatch(PermitDetails[] details,address spender,uint256 sigDeadline)PermitDetails(address token,uint160 amount,uint48 expiration,uint48 nonce)";
    /// Permit2 `SignatureTransfer.permitTransferFrom` (single).
    pub const PERMIT2_PERMIT_TRANSFER_FROM: &str = "PermitTransferFrom(TokenPermissions permitted,address spender,uint256 nonce,uint256 deadline)TokenPermissions(address token,uint256 amount)";
    /// Permit2 `SignatureTransfer.permitTransferFrom` (batch).
    pub const PERMIT2_PERMIT_BATCH_TRANSFER_FROM: &str = "PermitBatchTransferFrom(TokenPermissions[] permitted,address spender,uint256 nonce,uint256 deadline)TokenPermissions(address token,uint256 amount)";
    /// EIP-3009 `transferWithAuthorization`.
    pub const EIP3009_TRANSFER_WITH_AUTHORIZATION: &str = "TransferWithAuthorization(address from,address to,uint256 value,uint256 validAfter,uint256 validBefore,bytes32 nonce)";
    /// EIP-3009 `receiveWithAuthorization`.
    pub const EIP3009_RECEIVE_WITH_AUTHORIZATION: &str = "ReceiveWithAuthorization(address from,address to,uint256 value,uint256 validAfter,uint256 validBefore,bytes32 nonce)";
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Std {
    Eip2612,
    Dai,
    PermitSingle,
    PermitBatch,
    PermitTransferFrom,
    PermitBatchTransferFrom,
    TransferWithAuthorization,
    ReceiveWithAuthorization,
}

struct Standard {
    primary: &'static str,
    encode_type: &'static str,
    name: &'static str,
    which: Std,
}

static STANDARDS: [Standard; 8] = [
    Standard {
        primary: "Permit",
        encode_type: type_strings::EIP2612_PERMIT,
        name: "EIP-2612 Permit",
        which: Std::Eip2612,
    },
    Standard {
        primary: "Permit",
        encode_type: type_strings::DAI_PERMIT,
        name: "DAI Permit",
        which: Std::Dai,
    },
    Standard {
        primary: "PermitSingle",
        encode_type: type_strings::PERMIT2_PERMIT_SINGLE,
        name: "Permit2 PermitSingle",
        which: Std::PermitSingle,
    },
    Standard {
        primary: "PermitBatch",
        encode_type: type_strings::PERMIT2_PERMIT_BATCH,
        name: "Permit2 PermitBatch",
        which: Std::PermitBatch,
    },
    Standard {
        primary: "PermitTransferFrom",
        encode_type: type_strings::PERMIT2_PERMIT_TRANSFER_FROM,
        name: "Permit2 PermitTransferFrom",
        which: Std::PermitTransferFrom,
    },
    Standard {
        primary: "PermitBatchTransferFrom",
        encode_type: type_strings::PERMIT2_PERMIT_BATCH_TRANSFER_FROM,
        name: "Permit2 PermitBatchTransferFrom",
        which: Std::PermitBatchTransferFrom,
    },
    Standard {
        primary: "TransferWithAuthorization",
        encode_type: type_strings::EIP3009_TRANSFER_WITH_AUTHORIZATION,
        name: "EIP-3009 TransferWithAuthorization",
        which: Std::TransferWithAuthorization,
    },
    Standard {
        primary: "ReceiveWithAuthorization",
        encode_type: type_strings::EIP3009_RECEIVE_WITH_AUTHORIZATION,
        name: "EIP-3009 ReceiveWithAuthorization",
        which: Std::ReceiveWithAuthorization,
    },
];

/// Decodes what typed data authorizes.
///
/// [`TypedIntent::Token`] when the primary type is one of the standards by
/// exact shape and the domain names the contract that would accept it: a
/// `verifyingContract` declared as `address` (the token for EIP-2612, DAI and
/// EIP-3009), and for Permit2 the domain name `"Permit2"` and the contract
/// [`PERMIT2`]. Everything else is [`TypedIntent::Other`]. A recognised
/// message with a missing, undeclared or ill-typed member, or a batch over
/// [`MAX_MOVEMENTS`], is an error.
pub fn decode_typed_data(td: &TypedData) -> Result<TypedIntent, TypedIntentError> {
    let primary = td.primary_type();
    let verifying_contract = td.verifying_contract()?;
    let other = || TypedIntent::Other {
        primary_type: primary.to_owned(),
        verifying_contract,
    };
    // By name first (cheap), then by the exact shape.
    if !STANDARDS.iter().any(|s| s.primary == primary) {
        return Ok(other());
    }
    let encoded = td.encode_type(primary)?;
    let Some(standard) = STANDARDS
        .iter()
        .find(|s| s.primary == primary && s.encode_type == encoded)
    else {
        return Ok(other());
    };
    let Some(contract) = verifying_contract else {
        return Ok(other());
    };
    let permit2 = matches!(
        standard.which,
        Std::PermitSingle
            | Std::PermitBatch
            | Std::PermitTransferFrom
            | Std::PermitBatchTransferFrom
    );
    if permit2 && !(contract == PERMIT2 && domain_name_is(td, "Permit2")) {
        return Ok(other());
    }
    let movements = read_movements(standard, contract, td.message())?;
    Ok(TypedIntent::Token {
        standard: standard.name,
        verifying_contract: contract,
        movements,
    })
}

/// The domain declares `name` as a string and it is `expected`.
fn domain_name_is(td: &TypedData, expected: &str) -> bool {
    td.member_type("EIP712Domain", "name") == Some("string")
        && td.domain().get("name").and_then(Value::as_str) == Some(expected)
}

/// A member of a recognised struct: an atomic type, or a nested struct or
/// array the caller reads itself.
#[derive(Clone, Copy)]
enum M {
    Atomic(&'static str, &'static str),
    Nested(&'static str),
}

const PERMIT_DETAILS: &[M] = &[
    M::Atomic("token", "address"),
    M::Atomic("amount", "uint160"),
    M::Atomic("expiration", "uint48"),
    M::Atomic("nonce", "uint48"),
];

const TOKEN_PERMISSIONS: &[M] = &[
    M::Atomic("token", "address"),
    M::Atomic("amount", "uint256"),
];

const AUTHORIZATION: &[M] = &[
    M::Atomic("from", "address"),
    M::Atomic("to", "address"),
    M::Atomic("value", "uint256"),
    M::Atomic("validAfter", "uint256"),
    M::Atomic("validBefore", "uint256"),
    M::Atomic("nonce", "bytes32"),
];

/// A checked struct value: the object and its atomic members' words.
type Checked<'v> = (&'v Map<String, Value>, Vec<[u8; 32]>);

/// Checks a struct value of a recognised type: an object with exactly the
/// members (no more, none missing or null), each atomic member encoded by the
/// hashing code. Returns the object and the atomic members' words, in order.
fn read_struct<'v>(v: &'v Value, path: &str, members: &[M]) -> Result<Checked<'v>, TypedDataError> {
    let obj = v.as_object().ok_or_else(|| TypedDataError::InvalidValue {
        path: path.to_owned(),
        reason: "must be an object",
    })?;
    let name = |m: &M| match m {
        M::Atomic(n, _) | M::Nested(n) => *n,
    };
    if let Some(key) = obj.keys().find(|k| !members.iter().any(|m| name(m) == *k)) {
        return Err(TypedDataError::UndeclaredMember {
            path: format!("{path}.{}", clip(key)),
        });
    }
    let mut words = Vec::with_capacity(members.len());
    for m in members {
        let member_path = format!("{path}.{}", name(m));
        let value = match obj.get(name(m)) {
            Some(v) if !v.is_null() => v,
            _ => return Err(TypedDataError::MissingMember { path: member_path }),
        };
        if let M::Atomic(_, ty) = m {
            words.push(atomic_word(ty, value, &member_path)?);
        }
    }
    Ok((obj, words))
}

/// A nested member of an object that [`read_struct`] checked.
fn nested<'v>(
    obj: &'v Map<String, Value>,
    path: &str,
    name: &str,
) -> Result<&'v Value, TypedDataError> {
    obj.get(name).ok_or_else(|| TypedDataError::MissingMember {
        path: format!("{path}.{name}"),
    })
}

/// The entries of an array member, bounded before they are read.
fn entries<'v>(
    v: &'v Value,
    path: &str,
    standard: &'static str,
    field: &'static str,
) -> Result<&'v [Value], TypedIntentError> {
    let items = v.as_array().ok_or_else(|| TypedDataError::InvalidValue {
        path: path.to_owned(),
        reason: "must be a list",
    })?;
    if items.len() > MAX_MOVEMENTS {
        return Err(TypedIntentError::TooManyEntries {
            standard,
            field,
            max: MAX_MOVEMENTS,
        });
    }
    Ok(items)
}

fn clip(s: &str) -> String {
    const LIMIT: usize = 64;
    if s.len() <= LIMIT {
        return s.to_owned();
    }
    let mut end = LIMIT;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}...", s.get(..end).unwrap_or_default())
}

fn address(word: &[u8; 32]) -> Address {
    let mut a = [0u8; 20];
    a.copy_from_slice(&word[12..]);
    Address(a)
}

fn uint(word: &[u8; 32]) -> U256 {
    U256::from_be_bytes(*word)
}

/// Words of a checked struct, in member order, or an error if they are not
/// `N` (cannot happen: the member lists have N atomic members).
fn take<const N: usize>(words: Vec<[u8; 32]>, path: &str) -> Result<[[u8; 32]; N], TypedDataError> {
    words.try_into().map_err(|_| TypedDataError::InvalidValue {
        path: path.to_owned(),
        reason: "does not have the members of its standard",
    })
}

fn read_movements(
    standard: &Standard,
    contract: Address,
    message: &Value,
) -> Result<Vec<TokenMovement>, TypedIntentError> {
    use MovementKind::{Approval, Transfer};
    const MSG: &str = "message";
    let approval = |token, spender, amount: U256, unlimited, from| TokenMovement {
        kind: Approval,
        token,
        counterparty: spender,
        amount,
        token_id: None,
        unlimited,
        from,
    };
    // Permit2 amounts at or above 2^160-1 never run out (AllowanceTransfer
    // stores uint160; SignatureTransfer caps one transfer).
    let permit2_unlimited = |amount: U256| amount >= permit2_max();
    Ok(match standard.which {
        Std::Eip2612 => {
            let members = [
                M::Atomic("owner", "address"),
                M::Atomic("spender", "address"),
                M::Atomic("value", "uint256"),
                M::Atomic("nonce", "uint256"),
                M::Atomic("deadline", "uint256"),
            ];
            let (_, w) = read_struct(message, MSG, &members)?;
            let [owner, spender, value, _, _] = take(w, MSG)?;
            let value = uint(&value);
            vec![approval(
                contract,
                address(&spender),
                value,
                value == U256::MAX,
                Some(address(&owner)),
            )]
        }
        Std::Dai => {
            let members = [
                M::Atomic("holder", "address"),
                M::Atomic("spender", "address"),
                M::Atomic("nonce", "uint256"),
                M::Atomic("expiry", "uint256"),
                M::Atomic("allowed", "bool"),
            ];
            let (_, w) = read_struct(message, MSG, &members)?;
            let [holder, spender, _, _, allowed] = take(w, MSG)?;
            // DAI sets the allowance to 2^256-1 when allowed, 0 when not.
            let allowed = allowed[31] == 1;
            let amount = if allowed { U256::MAX } else { U256::ZERO };
            vec![approval(
                contract,
                address(&spender),
                amount,
                allowed,
                Some(address(&holder)),
            )]
        }
        Std::PermitSingle | Std::PermitBatch => {
            let batch = standard.which == Std::PermitBatch;
            let members = [
                M::Nested("details"),
                M::Atomic("spender", "address"),
                M::Atomic("sigDeadline", "uint256"),
            ];
            let (obj, w) = read_struct(message, MSG, &members)?;
            let [spender, _] = take(w, MSG)?;
            let spender = address(&spender);
            let details = nested(obj, MSG, "details")?;
            let items: &[Value] = if batch {
                entries(details, "message.details", standard.name, "details")?
            } else {
                std::slice::from_ref(details)
            };
            let mut out = Vec::with_capacity(items.len());
            for (i, item) in items.iter().enumerate() {
                let path = if batch {
                    format!("message.details[{i}]")
                } else {
                    "message.details".to_owned()
                };
                let (_, w) = read_struct(item, &path, PERMIT_DETAILS)?;
                let [token, amount, _, _] = take(w, &path)?;
                let amount = uint(&amount);
                out.push(approval(
                    address(&token),
                    spender,
                    amount,
                    permit2_unlimited(amount),
                    None,
                ));
            }
            out
        }
        Std::PermitTransferFrom | Std::PermitBatchTransferFrom => {
            let batch = standard.which == Std::PermitBatchTransferFrom;
            let members = [
                M::Nested("permitted"),
                M::Atomic("spender", "address"),
                M::Atomic("nonce", "uint256"),
                M::Atomic("deadline", "uint256"),
            ];
            let (obj, w) = read_struct(message, MSG, &members)?;
            let [spender, _, _] = take(w, MSG)?;
            let spender = address(&spender);
            let permitted = nested(obj, MSG, "permitted")?;
            let items: &[Value] = if batch {
                entries(permitted, "message.permitted", standard.name, "permitted")?
            } else {
                std::slice::from_ref(permitted)
            };
            let mut out = Vec::with_capacity(items.len());
            for (i, item) in items.iter().enumerate() {
                let path = if batch {
                    format!("message.permitted[{i}]")
                } else {
                    "message.permitted".to_owned()
                };
                let (_, w) = read_struct(item, &path, TOKEN_PERMISSIONS)?;
                let [token, amount] = take(w, &path)?;
                let amount = uint(&amount);
                out.push(approval(
                    address(&token),
                    spender,
                    amount,
                    permit2_unlimited(amount),
                    None,
                ));
            }
            out
        }
        Std::TransferWithAuthorization | Std::ReceiveWithAuthorization => {
            let (_, w) = read_struct(message, MSG, AUTHORIZATION)?;
            let [from, to, value, _, _, _] = take(w, MSG)?;
            vec![TokenMovement {
                kind: Transfer,
                token: contract,
                counterparty: address(&to),
                amount: uint(&value),
                token_id: None,
                unlimited: false,
                from: Some(address(&from)),
            }]
        }
    })
}
