//! Token calls in transaction calldata, in their canonical ABI encoding only.
//!
//! A recognised selector's arguments are read by one table-driven reader that
//! accepts exactly what Solidity's `abi.encode` produces: the head is one word
//! per argument; address words have their upper 12 bytes zero; `bool` is 0 or
//! 1; `uint160`/`uint48` fit their width; each dynamic argument's offset is
//! the end of the previous part (so parts are in order, never overlap and
//! leave no gap), its length fits the data, `bytes` padding is zero; nothing
//! follows the last part. So re-encoding the decoded arguments gives the
//! input back, byte for byte, and no contract can read other arguments out of
//! the same bytes than the ones the policy judged.
//!
//! Work is linear in the input and allocation is bounded: an array's length
//! is checked against [`MAX_MOVEMENTS`] and the bytes left before anything
//! is allocated. No indexing that input controls.

use super::{CallIntent, MAX_MOVEMENTS, MovementKind, PERMIT2, TokenMovement};
use crate::ethereum::{Address, U256};

/// A recognised selector whose arguments are not the canonical ABI encoding.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("calldata of {method} is malformed: {reason}")]
pub struct CalldataError {
    /// The Solidity name of the recognised method.
    pub method: &'static str,
    /// What is not canonical, naming the argument.
    pub reason: &'static str,
}

const WORD: usize = 32;

/// The ABI type of one argument.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Address,
    /// `uintN`, N in bits.
    Uint(u32),
    Bool,
    Bytes,
    UintArray,
}

/// One argument: its name and the reasons its errors give (static text that
/// names it).
#[derive(Debug)]
struct Param {
    kind: Kind,
    /// The word is not a valid value of its type.
    bad_value: &'static str,
    /// The offset (dynamic types) is not the canonical one.
    bad_offset: &'static str,
    /// The length (dynamic types) runs past the data or the bound.
    bad_length: &'static str,
    /// Non-zero padding after `bytes` content.
    bad_padding: &'static str,
}

macro_rules! param {
    (address $name:literal) => {
        Param {
            kind: Kind::Address,
            bad_value: concat!(
                "`",
                $name,
                "` is not an address (its upper 12 bytes must be zero)"
            ),
            bad_offset: "",
            bad_length: "",
            bad_padding: "",
        }
    };
    (uint $bits:literal $name:literal) => {
        Param {
            kind: Kind::Uint($bits),
            bad_value: concat!("`", $name, "` exceeds uint", $bits),
            bad_offset: "",
            bad_length: "",
            bad_padding: "",
        }
    };
    (bool $name:literal) => {
        Param {
            kind: Kind::Bool,
            bad_value: concat!("`", $name, "` is not a bool (the word must be 0 or 1)"),
            bad_offset: "",
            bad_length: "",
            bad_padding: "",
        }
    };
    (bytes $name:literal) => {
        Param {
            kind: Kind::Bytes,
            bad_value: "",
            bad_offset: concat!("offset of `", $name, "` is not the canonical one"),
            bad_length: concat!("length of `", $name, "` runs past the end of the calldata"),
            bad_padding: concat!("padding after `", $name, "` is not zero"),
        }
    };
    (uints $name:literal) => {
        Param {
            kind: Kind::UintArray,
            bad_value: "",
            bad_offset: concat!("offset of `", $name, "` is not the canonical one"),
            bad_length: concat!(
                "`",
                $name,
                "` is longer than the calldata or than 256 entries"
            ),
            bad_padding: "",
        }
    };
}

/// Which decoded call a method is, to build its movements.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Call {
    Transfer,
    TransferFrom,
    Approve,
    IncreaseAllowance,
    SafeTransferFrom721,
    SafeTransferFrom721Data,
    SafeTransferFrom1155,
    SafeBatchTransferFrom1155,
    SetApprovalForAll,
    Permit2Approve,
}

#[derive(Debug)]
struct Method {
    selector: [u8; 4],
    name: &'static str,
    signature: &'static str,
    call: Call,
    params: &'static [Param],
}

/// Every recognised method. The selectors are checked against
/// keccak256(signature) in the tests.
static METHODS: [Method; 10] = [
    Method {
        selector: [0xa9, 0x05, 0x9c, 0xbb],
        name: "transfer",
        signature: "transfer(address,uint256)",
        call: Call::Transfer,
        params: &[param!(address "to"), param!(uint 256 "amount")],
    },
    Method {
        selector: [0x23, 0xb8, 0x72, 0xdd],
        name: "transferFrom",
        signature: "transferFrom(address,address,uint256)",
        call: Call::TransferFrom,
        params: &[
            param!(address "from"),
            param!(address "to"),
            param!(uint 256 "amount"),
        ],
    },
    Method {
        selector: [0x09, 0x5e, 0xa7, 0xb3],
        name: "approve",
        signature: "approve(address,uint256)",
        call: Call::Approve,
        params: &[param!(address "spender"), param!(uint 256 "amount")],
    },
    Method {
        selector: [0x39, 0x50, 0x93, 0x51],
        name: "increaseAllowance",
        signature: "increaseAllowance(address,uint256)",
        call: Call::IncreaseAllowance,
        params: &[param!(address "spender"), param!(uint 256 "addedValue")],
    },
    Method {
        selector: [0x42, 0x84, 0x2e, 0x0e],
        name: "safeTransferFrom",
        signature: "safeTransferFrom(address,address,uint256)",
        call: Call::SafeTransferFrom721,
        params: &[
            param!(address "from"),
            param!(address "to"),
            param!(uint 256 "tokenId"),
        ],
    },
    Method {
        selector: [0xb8, 0x8d, 0x4f, 0xde],
        name: "safeTransferFrom",
        signature: "safeTransferFrom(address,address,uint256,bytes)",
        call: Call::SafeTransferFrom721Data,
        params: &[
            param!(address "from"),
            param!(address "to"),
            param!(uint 256 "tokenId"),
            param!(bytes "data"),
        ],
    },
    Method {
        selector: [0xf2, 0x42, 0x43, 0x2a],
        name: "safeTransferFrom",
        signature: "safeTransferFrom(address,address,uint256,uint256,bytes)",
        call: Call::SafeTransferFrom1155,
        params: &[
            param!(address "from"),
            param!(address "to"),
            param!(uint 256 "id"),
            param!(uint 256 "value"),
            param!(bytes "data"),
        ],
    },
    Method {
        selector: [0x2e, 0xb2, 0xc2, 0xd6],
        name: "safeBatchTransferFrom",
        signature: "safeBatchTransferFrom(address,address,uint256[],uint256[],bytes)",
        call: Call::SafeBatchTransferFrom1155,
        params: &[
            param!(address "from"),
            param!(address "to"),
            param!(uints "ids"),
            param!(uints "values"),
            param!(bytes "data"),
        ],
    },
    Method {
        selector: [0xa2, 0x2c, 0xb4, 0x65],
        name: "setApprovalForAll",
        signature: "setApprovalForAll(address,bool)",
        call: Call::SetApprovalForAll,
        params: &[param!(address "operator"), param!(bool "approved")],
    },
    Method {
        selector: [0x87, 0x51, 0x7c, 0x45],
        name: "permit2.approve",
        signature: "approve(address,address,uint160,uint48)",
        call: Call::Permit2Approve,
        params: &[
            param!(address "token"),
            param!(address "spender"),
            param!(uint 160 "amount"),
            param!(uint 48 "expiration"),
        ],
    },
];

/// The recognised methods: (Solidity signature, selector, name as
/// [`CallIntent::Token`] gives it). `permit2.approve` is recognised only when
/// the transaction goes to [`PERMIT2`].
pub fn selectors() -> impl Iterator<Item = (&'static str, [u8; 4], &'static str)> {
    METHODS.iter().map(|m| (m.signature, m.selector, m.name))
}

/// One decoded argument.
#[derive(Debug)]
enum Val<'a> {
    Address(Address),
    Uint(U256),
    Bool(bool),
    /// The content of a `bytes` argument (not needed by any movement; read to
    /// check its length and padding).
    Bytes(#[allow(dead_code)] &'a [u8]),
    Uints(Vec<U256>),
}

/// Reads arguments (the calldata after the selector) of one method.
struct Reader<'a> {
    method: &'static Method,
    args: &'a [u8],
}

impl<'a> Reader<'a> {
    fn err(&self, reason: &'static str) -> CalldataError {
        CalldataError {
            method: self.method.name,
            reason,
        }
    }

    /// The word at byte offset `at`, if the data has it.
    fn word(&self, at: usize) -> Option<&'a [u8; 32]> {
        let end = at.checked_add(WORD)?;
        self.args.get(at..end)?.try_into().ok()
    }

    /// A word read as an offset or length: `None` when it does not fit a
    /// `usize` (then it is past any data anyway).
    fn small(word: &[u8; 32]) -> Option<usize> {
        let (high, low) = word.split_at(WORD - 8);
        if high.iter().any(|b| *b != 0) {
            return None;
        }
        let low: [u8; 8] = low.try_into().ok()?;
        usize::try_from(u64::from_be_bytes(low)).ok()
    }

    fn decode(&self) -> Result<Vec<Val<'a>>, CalldataError> {
        let params = self.method.params;
        let head = params.len() * WORD;
        if self.args.len() < head {
            return Err(self.err("shorter than its arguments"));
        }
        // Where the next dynamic part must start: right after the head, then
        // right after the previous part.
        let mut next = head;
        let mut vals = Vec::with_capacity(params.len());
        for (i, p) in params.iter().enumerate() {
            let w = self
                .word(i * WORD)
                .ok_or_else(|| self.err("shorter than its arguments"))?;
            let val = match p.kind {
                Kind::Address => {
                    let (high, low) = w.split_at(12);
                    if high.iter().any(|b| *b != 0) {
                        return Err(self.err(p.bad_value));
                    }
                    let mut a = [0u8; 20];
                    a.copy_from_slice(low);
                    Val::Address(Address(a))
                }
                Kind::Uint(bits) => {
                    let v = U256::from_be_bytes(*w);
                    if bits < 256 && (v >> bits as usize) != U256::ZERO {
                        return Err(self.err(p.bad_value));
                    }
                    Val::Uint(v)
                }
                Kind::Bool => match U256::from_be_bytes(*w) {
                    v if v == U256::ZERO => Val::Bool(false),
                    v if v == U256::from(1u8) => Val::Bool(true),
                    _ => return Err(self.err(p.bad_value)),
                },
                Kind::Bytes | Kind::UintArray => {
                    if Self::small(w) != Some(next) {
                        return Err(self.err(p.bad_offset));
                    }
                    let len_word = self.word(next).ok_or_else(|| self.err(p.bad_length))?;
                    let start = next + WORD;
                    let left = self.args.len() - start;
                    let len = Self::small(len_word).ok_or_else(|| self.err(p.bad_length))?;
                    if p.kind == Kind::Bytes {
                        if len > left {
                            return Err(self.err(p.bad_length));
                        }
                        let padded = len.div_ceil(WORD) * WORD;
                        if padded > left {
                            return Err(self.err(p.bad_length));
                        }
                        let content = self
                            .args
                            .get(start..start + len)
                            .ok_or_else(|| self.err(p.bad_length))?;
                        let padding = self
                            .args
                            .get(start + len..start + padded)
                            .ok_or_else(|| self.err(p.bad_length))?;
                        if padding.iter().any(|b| *b != 0) {
                            return Err(self.err(p.bad_padding));
                        }
                        next = start + padded;
                        Val::Bytes(content)
                    } else {
                        // Bounded before anything is allocated or read.
                        if len > MAX_MOVEMENTS || len > left / WORD {
                            return Err(self.err(p.bad_length));
                        }
                        let mut items = Vec::with_capacity(len);
                        for k in 0..len {
                            let item = self
                                .word(start + k * WORD)
                                .ok_or_else(|| self.err(p.bad_length))?;
                            items.push(U256::from_be_bytes(*item));
                        }
                        next = start + len * WORD;
                        Val::Uints(items)
                    }
                }
            };
            vals.push(val);
        }
        if next != self.args.len() {
            return Err(self.err(if next == head {
                "has bytes after its arguments (static arguments have an exact length)"
            } else {
                "has bytes after its last argument"
            }));
        }
        Ok(vals)
    }
}

/// `to` is the transaction's recipient (the token contract, or Permit2 for
/// permit2.approve).
///
/// Empty data is [`CallIntent::Plain`]; an unrecognised selector (or fewer
/// than 4 bytes) is [`CallIntent::Other`]; a recognised selector with
/// arguments that are not canonical is a [`CalldataError`] naming the
/// argument. Permit2's `approve` is recognised only when `to` is
/// [`PERMIT2`] (elsewhere its selector is just some contract's method).
pub fn decode_calldata(to: Address, data: &[u8]) -> Result<CallIntent, CalldataError> {
    let Some((sel, args)) = data.split_first_chunk::<4>() else {
        return Ok(if data.is_empty() {
            CallIntent::Plain
        } else {
            CallIntent::Other { selector: None }
        });
    };
    let Some(method) = METHODS
        .iter()
        .find(|m| m.selector == *sel && (m.call != Call::Permit2Approve || to == PERMIT2))
    else {
        return Ok(CallIntent::Other {
            selector: Some(*sel),
        });
    };
    let reader = Reader { method, args };
    let vals = reader.decode()?;
    let movements = movements(method.call, to, &vals).map_err(|reason| reader.err(reason))?;
    Ok(CallIntent::Token {
        selector: method.selector,
        method: method.name,
        movements,
    })
}

fn movement(kind: MovementKind, token: Address, counterparty: Address) -> TokenMovement {
    TokenMovement {
        kind,
        token,
        counterparty,
        amount: U256::ZERO,
        token_id: None,
        unlimited: false,
        from: None,
    }
}

/// Builds the movements from decoded arguments, or says why they are not
/// one call's arguments.
fn movements(
    call: Call,
    to: Address,
    vals: &[Val<'_>],
) -> Result<Vec<TokenMovement>, &'static str> {
    use MovementKind::{Approval, OperatorApproval, Transfer};
    use Val::{Address as A, Bool as B, Bytes as D, Uint as N, Uints as L};
    let one = |m| Ok(vec![m]);
    match (call, vals) {
        (Call::Transfer, [A(recipient), N(amount)]) => one(TokenMovement {
            amount: *amount,
            ..movement(Transfer, to, *recipient)
        }),
        (Call::TransferFrom, [A(from), A(recipient), N(amount)]) => one(TokenMovement {
            amount: *amount,
            from: Some(*from),
            ..movement(Transfer, to, *recipient)
        }),
        (Call::Approve | Call::IncreaseAllowance, [A(spender), N(amount)]) => one(TokenMovement {
            amount: *amount,
            unlimited: *amount == U256::MAX,
            ..movement(Approval, to, *spender)
        }),
        (Call::SafeTransferFrom721, [A(from), A(recipient), N(id)])
        | (Call::SafeTransferFrom721Data, [A(from), A(recipient), N(id), D(_)]) => {
            one(TokenMovement {
                amount: U256::from(1u8),
                token_id: Some(*id),
                from: Some(*from),
                ..movement(Transfer, to, *recipient)
            })
        }
        (Call::SafeTransferFrom1155, [A(from), A(recipient), N(id), N(value), D(_)]) => {
            one(TokenMovement {
                amount: *value,
                token_id: Some(*id),
                from: Some(*from),
                ..movement(Transfer, to, *recipient)
            })
        }
        (Call::SafeBatchTransferFrom1155, [A(from), A(recipient), L(ids), L(values), D(_)]) => {
            if ids.len() != values.len() {
                return Err("`ids` and `values` have different lengths");
            }
            Ok(ids
                .iter()
                .zip(values)
                .map(|(id, value)| TokenMovement {
                    amount: *value,
                    token_id: Some(*id),
                    from: Some(*from),
                    ..movement(Transfer, to, *recipient)
                })
                .collect())
        }
        (Call::SetApprovalForAll, [A(operator), B(approved)]) => one(TokenMovement {
            unlimited: *approved,
            ..movement(OperatorApproval, to, *operator)
        }),
        (Call::Permit2Approve, [A(token), A(spender), N(amount), N(_expiration)]) => {
            one(TokenMovement {
                amount: *amount,
                unlimited: *amount == permit2_max(),
                ..movement(Approval, *token, *spender)
            })
        }
        // The table and this match are written together; a mismatch is a
        // bug of ours, refused rather than guessed.
        _ => Err("arguments do not have the method's types"),
    }
}

/// 2^160-1: Permit2's "no expiry of the allowance amount".
pub(super) fn permit2_max() -> U256 {
    (U256::from(1u8) << 160) - U256::from(1u8)
}
