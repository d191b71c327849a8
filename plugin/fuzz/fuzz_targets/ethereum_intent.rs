//! The Ethereum intent decoders: transaction calldata and EIP-712 typed data
//! as the signing policy reads them.
//!
//! Input: the first byte picks the decoder. Even: calldata (the next 20 bytes
//! are the transaction's `to`, the rest its data). Odd: typed-data JSON text.
//!
//! Properties: no panic, bounded work; a decoded call re-encodes (this file's
//! own ABI encoder, from the decoded movements) to the very input bytes, so
//! only canonical encodings are accepted and nothing is misread; decoded typed
//! data rebuilt from its movements (the standard's types written out here,
//! the non-movement members copied) hashes to the same signing hash, so the
//! movements are exactly what is signed.

#![no_main]

use libfuzzer_sys::fuzz_target;
use serde_json::{Map, Value, json};
use wallet_core::ethereum::eip712::TypedData;
use wallet_core::ethereum::intent::{
    CallIntent, MovementKind, PERMIT2, TokenMovement, TypedIntent, decode_calldata,
    decode_typed_data,
};
use wallet_core::ethereum::{Address, U256};

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    if mode % 2 == 0 {
        calldata(rest);
    } else if let Ok(text) = std::str::from_utf8(rest) {
        typed(text);
    }
});

// ---------------------------------------------------------------- calldata

fn addr_word(a: &Address) -> [u8; 32] {
    let mut w = [0u8; 32];
    w[12..].copy_from_slice(&a.0);
    w
}

fn num_word(v: U256) -> [u8; 32] {
    v.to_be_bytes::<32>()
}

fn small_word(v: usize) -> [u8; 32] {
    num_word(U256::from(v))
}

/// The `bytes` argument whose length word is at argument offset `at` (the
/// canonical place): its content.
fn bytes_at(args: &[u8], at: usize) -> &[u8] {
    let len_word: [u8; 32] = args[at..at + 32].try_into().expect("length word");
    let len = usize::try_from(U256::from_be_bytes(len_word)).expect("small length");
    &args[at + 32..at + 32 + len]
}

fn push_bytes(out: &mut Vec<u8>, content: &[u8]) {
    out.extend_from_slice(&small_word(content.len()));
    out.extend_from_slice(content);
    out.resize(out.len() + (32 - content.len() % 32) % 32, 0);
}

fn calldata(rest: &[u8]) {
    let (to, data) = match rest.split_first_chunk::<20>() {
        Some((to, data)) => (Address(*to), data),
        None => (PERMIT2, rest),
    };
    let Ok(intent) = decode_calldata(to, data) else {
        return;
    };
    let (selector, method, movements) = match intent {
        CallIntent::Plain => {
            assert!(data.is_empty());
            return;
        }
        CallIntent::Other { selector } => {
            assert_eq!(selector.is_none(), data.len() < 4);
            return;
        }
        CallIntent::Token {
            selector,
            method,
            movements,
        } => (selector, method, movements),
    };
    assert_eq!(data[..4], selector);
    let args = &data[4..];
    let first = movements.first();
    for m in &movements {
        if method != "permit2.approve" {
            assert_eq!(m.token, to, "{method}: the token is the called contract");
        }
    }
    let mut out = selector.to_vec();
    let m = || first.expect("one movement");
    match selector {
        // transfer, approve, increaseAllowance
        [0xa9, 0x05, 0x9c, 0xbb] | [0x09, 0x5e, 0xa7, 0xb3] | [0x39, 0x50, 0x93, 0x51] => {
            let m = m();
            let approval = selector != [0xa9, 0x05, 0x9c, 0xbb];
            assert_eq!(m.kind == MovementKind::Approval, approval);
            assert_eq!(m.unlimited, approval && m.amount == U256::MAX);
            out.extend_from_slice(&addr_word(&m.counterparty));
            out.extend_from_slice(&num_word(m.amount));
        }
        // transferFrom
        [0x23, 0xb8, 0x72, 0xdd] => {
            let m = m();
            out.extend_from_slice(&addr_word(&m.from.expect("from")));
            out.extend_from_slice(&addr_word(&m.counterparty));
            out.extend_from_slice(&num_word(m.amount));
        }
        // ERC-721 safeTransferFrom, with and without data
        [0x42, 0x84, 0x2e, 0x0e] | [0xb8, 0x8d, 0x4f, 0xde] => {
            let m = m();
            assert_eq!(m.amount, U256::from(1u8));
            out.extend_from_slice(&addr_word(&m.from.expect("from")));
            out.extend_from_slice(&addr_word(&m.counterparty));
            out.extend_from_slice(&num_word(m.token_id.expect("id")));
            if selector == [0xb8, 0x8d, 0x4f, 0xde] {
                out.extend_from_slice(&small_word(0x80));
                push_bytes(&mut out, bytes_at(args, 0x80));
            }
        }
        // ERC-1155 safeTransferFrom
        [0xf2, 0x42, 0x43, 0x2a] => {
            let m = m();
            out.extend_from_slice(&addr_word(&m.from.expect("from")));
            out.extend_from_slice(&addr_word(&m.counterparty));
            out.extend_from_slice(&num_word(m.token_id.expect("id")));
            out.extend_from_slice(&num_word(m.amount));
            out.extend_from_slice(&small_word(0xa0));
            push_bytes(&mut out, bytes_at(args, 0xa0));
        }
        // ERC-1155 safeBatchTransferFrom: with no ids there is no movement
        // to take `from` and `to` from; they are copied (the unit tests
        // check dirty addresses in an empty batch).
        [0x2e, 0xb2, 0xc2, 0xd6] => {
            let n = movements.len();
            let (from, recipient) = match first {
                Some(m) => (
                    addr_word(&m.from.expect("from")),
                    addr_word(&m.counterparty),
                ),
                None => (
                    args[..32].try_into().expect("word"),
                    args[32..64].try_into().expect("word"),
                ),
            };
            out.extend_from_slice(&from);
            out.extend_from_slice(&recipient);
            let ids_at = 0xa0;
            let values_at = ids_at + 32 * (n + 1);
            let data_at = values_at + 32 * (n + 1);
            out.extend_from_slice(&small_word(ids_at));
            out.extend_from_slice(&small_word(values_at));
            out.extend_from_slice(&small_word(data_at));
            out.extend_from_slice(&small_word(n));
            for m in &movements {
                assert_eq!(m.from, first.and_then(|f| f.from));
                assert_eq!(m.counterparty, first.expect("first").counterparty);
                out.extend_from_slice(&num_word(m.token_id.expect("id")));
            }
            out.extend_from_slice(&small_word(n));
            for m in &movements {
                out.extend_from_slice(&num_word(m.amount));
            }
            push_bytes(&mut out, bytes_at(args, data_at));
        }
        // setApprovalForAll
        [0xa2, 0x2c, 0xb4, 0x65] => {
            let m = m();
            assert_eq!(m.kind, MovementKind::OperatorApproval);
            assert_eq!(m.amount, U256::ZERO);
            out.extend_from_slice(&addr_word(&m.counterparty));
            out.extend_from_slice(&small_word(usize::from(m.unlimited)));
        }
        // Permit2 approve: the expiration is no movement's; it is copied and
        // its range checked here.
        [0x87, 0x51, 0x7c, 0x45] => {
            assert_eq!(to, PERMIT2);
            let m = m();
            out.extend_from_slice(&addr_word(&m.token));
            out.extend_from_slice(&addr_word(&m.counterparty));
            assert!(m.amount < (U256::from(1u8) << 160));
            assert_eq!(
                m.unlimited,
                m.amount == (U256::from(1u8) << 160) - U256::from(1u8)
            );
            out.extend_from_slice(&num_word(m.amount));
            let expiration: [u8; 32] = args[96..128].try_into().expect("word");
            assert!(U256::from_be_bytes(expiration) < (U256::from(1u8) << 48));
            out.extend_from_slice(&expiration);
        }
        other => panic!("decoded an unknown selector {other:?} as {method}"),
    }
    assert_eq!(
        out, data,
        "{method}: decode then re-encode gives other bytes"
    );
}

// -------------------------------------------------------------- typed data

fn members(list: &[(&str, &str)]) -> Value {
    Value::Array(
        list.iter()
            .map(|(name, ty)| json!({"name": name, "type": ty}))
            .collect(),
    )
}

fn types_of(standard: &str) -> Vec<(&'static str, Value)> {
    let details = members(&[
        ("token", "address"),
        ("amount", "uint160"),
        ("expiration", "uint48"),
        ("nonce", "uint48"),
    ]);
    let permissions = members(&[("token", "address"), ("amount", "uint256")]);
    let auth = members(&[
        ("from", "address"),
        ("to", "address"),
        ("value", "uint256"),
        ("validAfter", "uint256"),
        ("validBefore", "uint256"),
        ("nonce", "bytes32"),
    ]);
    match standard {
        "EIP-2612 Permit" => vec![(
            "Permit",
            members(&[
                ("owner", "address"),
                ("spender", "address"),
                ("value", "uint256"),
                ("nonce", "uint256"),
                ("deadline", "uint256"),
            ]),
        )],
        "DAI Permit" => vec![(
            "Permit",
            members(&[
                ("holder", "address"),
                ("spender", "address"),
                ("nonce", "uint256"),
                ("expiry", "uint256"),
                ("allowed", "bool"),
            ]),
        )],
        "Permit2 PermitSingle" | "Permit2 PermitBatch" => vec![
            (
                if standard.ends_with("Single") {
                    "PermitSingle"
                } else {
                    "PermitBatch"
                },
                members(&[
                    (
                        "details",
                        if standard.ends_with("Single") {
                            "PermitDetails"
                        } else {
                            "PermitDetails[]"
                        },
                    ),
                    ("spender", "address"),
                    ("sigDeadline", "uint256"),
                ]),
            ),
            ("PermitDetails", details),
        ],
        "Permit2 PermitTransferFrom" | "Permit2 PermitBatchTransferFrom" => {
            let batch = standard.ends_with("BatchTransferFrom");
            vec![
                (
                    if batch {
                        "PermitBatchTransferFrom"
                    } else {
                        "PermitTransferFrom"
                    },
                    members(&[
                        (
                            "permitted",
                            if batch {
                                "TokenPermissions[]"
                            } else {
                                "TokenPermissions"
                            },
                        ),
                        ("spender", "address"),
                        ("nonce", "uint256"),
                        ("deadline", "uint256"),
                    ]),
                ),
                ("TokenPermissions", permissions),
            ]
        }
        "EIP-3009 TransferWithAuthorization" => vec![("TransferWithAuthorization", auth)],
        "EIP-3009 ReceiveWithAuthorization" => vec![("ReceiveWithAuthorization", auth)],
        other => panic!("unknown standard {other}"),
    }
}

fn s_addr(a: &Address) -> Value {
    Value::String(a.to_string())
}

fn s_num(v: U256) -> Value {
    Value::String(v.to_string())
}

/// The message rebuilt from the movements; members that are no movement's
/// (nonces, deadlines) are copied from the original.
fn rebuild(standard: &str, movements: &[TokenMovement], orig: &Map<String, Value>) -> Value {
    let copy = |k: &str| orig.get(k).cloned().expect("member checked by the decoder");
    let one = || {
        assert_eq!(movements.len(), 1, "{standard}: one movement");
        &movements[0]
    };
    let spender = |key: &str| match movements.first() {
        Some(m) => {
            assert!(movements.iter().all(|x| x.counterparty == m.counterparty));
            s_addr(&m.counterparty)
        }
        None => copy(key),
    };
    let mut msg = Map::new();
    match standard {
        "EIP-2612 Permit" => {
            let m = one();
            msg.insert("owner".into(), s_addr(&m.from.expect("owner")));
            msg.insert("spender".into(), s_addr(&m.counterparty));
            msg.insert("value".into(), s_num(m.amount));
            msg.insert("nonce".into(), copy("nonce"));
            msg.insert("deadline".into(), copy("deadline"));
        }
        "DAI Permit" => {
            let m = one();
            assert_eq!(m.amount, if m.unlimited { U256::MAX } else { U256::ZERO });
            msg.insert("holder".into(), s_addr(&m.from.expect("holder")));
            msg.insert("spender".into(), s_addr(&m.counterparty));
            msg.insert("nonce".into(), copy("nonce"));
            msg.insert("expiry".into(), copy("expiry"));
            msg.insert("allowed".into(), Value::Bool(m.unlimited));
        }
        "Permit2 PermitSingle" | "Permit2 PermitBatch" => {
            let entry = |m: &TokenMovement, o: &Value| {
                json!({"token": s_addr(&m.token), "amount": s_num(m.amount),
                       "expiration": o["expiration"].clone(), "nonce": o["nonce"].clone()})
            };
            let details = if standard.ends_with("Single") {
                entry(one(), &copy("details"))
            } else {
                let o = copy("details");
                let o = o.as_array().expect("list");
                assert_eq!(o.len(), movements.len());
                Value::Array(movements.iter().zip(o).map(|(m, o)| entry(m, o)).collect())
            };
            msg.insert("details".into(), details);
            msg.insert("spender".into(), spender("spender"));
            msg.insert("sigDeadline".into(), copy("sigDeadline"));
        }
        "Permit2 PermitTransferFrom" | "Permit2 PermitBatchTransferFrom" => {
            let entry =
                |m: &TokenMovement| json!({"token": s_addr(&m.token), "amount": s_num(m.amount)});
            let permitted = if standard.ends_with("BatchTransferFrom") {
                Value::Array(movements.iter().map(entry).collect())
            } else {
                entry(one())
            };
            msg.insert("permitted".into(), permitted);
            msg.insert("spender".into(), spender("spender"));
            msg.insert("nonce".into(), copy("nonce"));
            msg.insert("deadline".into(), copy("deadline"));
        }
        _ => {
            let m = one();
            assert_eq!(m.kind, MovementKind::Transfer);
            msg.insert("from".into(), s_addr(&m.from.expect("from")));
            msg.insert("to".into(), s_addr(&m.counterparty));
            msg.insert("value".into(), s_num(m.amount));
            for k in ["validAfter", "validBefore", "nonce"] {
                msg.insert(k.into(), copy(k));
            }
        }
    }
    Value::Object(msg)
}

fn typed(text: &str) {
    let Ok(td) = TypedData::from_json_str(text) else {
        return;
    };
    let Ok(intent) = decode_typed_data(&td) else {
        return;
    };
    let TypedIntent::Token {
        standard,
        verifying_contract,
        movements,
    } = intent
    else {
        return;
    };
    // Decoded means the message is well-formed for its type.
    td.hash_struct(td.primary_type(), td.message())
        .expect("a decoded message hashes");
    if standard.starts_with("Permit2") {
        assert_eq!(verifying_contract, PERMIT2);
    } else {
        assert!(movements.iter().all(|m| m.token == verifying_contract));
    }
    for m in &movements {
        let approval = m.kind == MovementKind::Approval;
        assert_eq!(approval, !standard.starts_with("EIP-3009"));
    }

    // Rebuilt from the movements, the same typed data hashes the same.
    let orig: Value = serde_json::from_str(text).expect("parsed once");
    // The original's other types (the domain's among them), the standard's
    // written out here.
    let mut types = orig["types"].as_object().cloned().expect("types object");
    for (name, list) in types_of(standard) {
        types.insert(name.into(), list);
    }
    let message = rebuild(
        standard,
        &movements,
        orig["message"].as_object().expect("object"),
    );
    let again = json!({
        "types": types,
        "primaryType": td.primary_type(),
        "domain": orig["domain"].clone(),
        "message": message,
    });
    let td2 = TypedData::from_json(&again).expect("rebuilt typed data is valid");
    match td.hash() {
        Ok(h) => assert_eq!(
            td2.hash().expect("rebuilt hashes").signing_hash,
            h.signing_hash,
            "{standard}: the movements are not what is signed"
        ),
        // The domain may be what fails; the message hashes the same.
        Err(_) => assert_eq!(
            td2.hash_struct(td2.primary_type(), td2.message()).ok(),
            td.hash_struct(td.primary_type(), td.message()).ok()
        ),
    }
    assert_eq!(
        decode_typed_data(&td2).ok(),
        Some(TypedIntent::Token {
            standard,
            verifying_contract,
            movements
        })
    );
}
