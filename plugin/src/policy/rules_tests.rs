//! The static rules of each chain on decoded intents, without storage:
//! every rule refuses by its name, and its positive control passes.

use std::collections::BTreeMap;

use ruint::aliases::U256;
use wallet_core::Ed25519PublicKey;
use wallet_core::ethereum::Address;
use wallet_core::ethereum::intent::{
    CallIntent, CalldataError, MovementKind, TokenMovement, TypedIntent,
};
use wallet_core::solana::{
    AccountRef, LamportKind, LamportTransfer, SolanaIntent, TokenKind, TokenProgram,
    associated_token_address,
};

use super::intent::{
    BtcInput, BtcOutput, BtcTransaction, EthTransaction, EthTypedData, SolTransaction,
};
use super::*;

fn addr(b: u8) -> Address {
    Address([b; 20])
}
fn key(a: &Address) -> String {
    format!("0x{}", hex::encode(a.0))
}

const TOKEN: u8 = 0x70;
const ALICE: u8 = 0xa1;
const MALLORY: u8 = 0xee;

fn movement(kind: MovementKind, to: u8, amount: u64, unlimited: bool) -> TokenMovement {
    TokenMovement {
        kind,
        token: addr(TOKEN),
        counterparty: addr(to),
        amount: if unlimited {
            U256::MAX
        } else {
            U256::from(amount)
        },
        token_id: None,
        unlimited,
        from: None,
    }
}

fn token_call(method: &'static str, moves: Vec<TokenMovement>) -> Intent {
    Intent::EthereumTransaction(EthTransaction {
        blobs: None,
        authorizations: Vec::new(),
        chain_id: 1,
        to: Some(addr(TOKEN)),
        value: U256::ZERO,
        max_fee: U256::from(21_000u64),
        tx_type: "eip1559",
        call: Ok(CallIntent::Token {
            selector: [0xa9, 0x05, 0x9c, 0xbb],
            method,
            movements: moves,
        }),
    })
}

fn policy_with_token(limit_tx: Option<u64>) -> PolicyEntry {
    let mut p = PolicyEntry::new();
    p.allowed_chain_ids = vec![1];
    p.allowed_recipients = vec![key(&addr(ALICE))];
    p.token_limits.insert(
        key(&addr(TOKEN)),
        TokenLimit {
            max_value_per_tx: limit_tx.map(U256::from),
            max_value_per_day: Some(U256::from(1000u64)),
        },
    );
    p
}

fn rule_of(p: &PolicyEntry, i: &Intent) -> Option<&'static str> {
    rules(p, i).err().map(|d| d.rule)
}

#[test]
fn an_erc20_transfer_is_judged_by_its_token_recipient_and_amount() {
    let p = policy_with_token(Some(100));
    let ok = token_call(
        "transfer",
        vec![movement(MovementKind::Transfer, ALICE, 100, false)],
    );
    let spends = rules(&p, &ok).expect("allowed");
    assert_eq!(spends.len(), 1);
    assert_eq!(spends[0].rule, "token_limits");
    assert_eq!(spends[0].amount, U256::from(100u64));
    assert_eq!(spends[0].scope, format!("1-{}", hex::encode(addr(TOKEN).0)));
    // The recipient of the tokens, not the transaction's `to`, is checked.
    let evil = token_call(
        "transfer",
        vec![movement(MovementKind::Transfer, MALLORY, 1, false)],
    );
    assert_eq!(rule_of(&p, &evil), Some("allowed_recipients"));
    let big = token_call(
        "transfer",
        vec![movement(MovementKind::Transfer, ALICE, 101, false)],
    );
    assert_eq!(rule_of(&p, &big), Some("token_limits"));
    // Two movements of one token add up.
    let split = token_call(
        "safeBatchTransferFrom",
        vec![
            movement(MovementKind::Transfer, ALICE, 60, false),
            movement(MovementKind::Transfer, ALICE, 41, false),
        ],
    );
    assert_eq!(rule_of(&p, &split), Some("token_limits"));
}

#[test]
fn a_token_the_policy_does_not_list_is_refused_unless_calldata_is_arbitrary() {
    let mut p = PolicyEntry::new();
    let call = token_call(
        "transfer",
        vec![movement(MovementKind::Transfer, ALICE, 1, false)],
    );
    assert_eq!(rule_of(&p, &call), Some("allowed_contracts"));
    p.allowed_contracts.insert(key(&addr(TOKEN)), vec![]);
    assert!(rules(&p, &call).is_ok());
    // A listed contract restricted to other selectors is not enough.
    p.allowed_contracts
        .insert(key(&addr(TOKEN)), vec!["0x095ea7b3".into()]);
    assert_eq!(rule_of(&p, &call), Some("allowed_contracts"));
    p.allow_arbitrary_calldata = Some(true);
    assert!(rules(&p, &call).is_ok());
    // Recipient rules still apply to decoded movements.
    p.denied_recipients = vec![key(&addr(ALICE))];
    assert_eq!(rule_of(&p, &call), Some("denied_recipients"));
}

#[test]
fn unlimited_approvals_and_operators_need_the_flag() {
    let mut p = policy_with_token(None);
    p.allowed_recipients.clear();
    for m in [
        movement(MovementKind::Approval, ALICE, 0, true),
        movement(MovementKind::OperatorApproval, ALICE, 0, true),
    ] {
        let i = token_call("approve", vec![m]);
        assert_eq!(rule_of(&p, &i), Some("allow_unlimited_approvals"));
    }
    p.allow_unlimited_approvals = Some(true);
    let i = token_call(
        "approve",
        vec![movement(MovementKind::Approval, ALICE, 0, true)],
    );
    // Allowed by the flag, but an unlimited amount still meets the daily limit.
    let spends = rules(&p, &i).expect("allowed by the flag");
    assert_eq!(spends[0].amount, U256::MAX);
    // A bounded approval to a spender outside the list is refused.
    p.allowed_recipients = vec![key(&addr(ALICE))];
    let i = token_call(
        "approve",
        vec![movement(MovementKind::Approval, MALLORY, 5, false)],
    );
    assert_eq!(rule_of(&p, &i), Some("allowed_recipients"));
}

#[test]
fn undecodable_calldata_fails_closed() {
    let mut p = PolicyEntry::new();
    let malformed = Intent::EthereumTransaction(EthTransaction {
        blobs: None,
        authorizations: Vec::new(),
        chain_id: 1,
        to: Some(addr(TOKEN)),
        value: U256::ZERO,
        max_fee: U256::ZERO,
        tx_type: "legacy",
        call: Err(CalldataError {
            method: "transfer",
            reason: "trailing bytes",
        }),
    });
    assert_eq!(rule_of(&p, &malformed), Some("calldata"));
    // Even when arbitrary calldata is allowed: a malformed transfer is still
    // a transfer to the token contract.
    p.allow_arbitrary_calldata = Some(true);
    assert_eq!(rule_of(&p, &malformed), Some("calldata"));
    let other = Intent::EthereumTransaction(EthTransaction {
        blobs: None,
        authorizations: Vec::new(),
        chain_id: 1,
        to: Some(addr(0x42)),
        value: U256::ZERO,
        max_fee: U256::ZERO,
        tx_type: "legacy",
        call: Ok(CallIntent::Other {
            selector: Some([1, 2, 3, 4]),
        }),
    });
    assert!(rules(&p, &other).is_ok());
    p.allow_arbitrary_calldata = None;
    assert_eq!(rule_of(&p, &other), Some("allow_arbitrary_calldata"));
    p.allowed_contracts
        .insert(key(&addr(0x42)), vec!["0x01020304".into()]);
    assert!(rules(&p, &other).is_ok());
}

#[test]
fn value_sent_with_calldata_is_checked_against_the_recipients() {
    let mut p = PolicyEntry::new();
    p.allowed_recipients = vec![key(&addr(ALICE))];
    p.allowed_contracts.insert(key(&addr(0x42)), vec![]);
    let payable = |value: u64| {
        Intent::EthereumTransaction(EthTransaction {
            blobs: None,
            authorizations: Vec::new(),
            chain_id: 1,
            to: Some(addr(0x42)),
            value: U256::from(value),
            max_fee: U256::ZERO,
            tx_type: "legacy",
            call: Ok(CallIntent::Other {
                selector: Some([1, 2, 3, 4]),
            }),
        })
    };
    assert!(rules(&p, &payable(0)).is_ok());
    assert_eq!(rule_of(&p, &payable(1)), Some("allowed_recipients"));
}

#[test]
fn the_fee_cap_and_message_switch() {
    let mut p = PolicyEntry::new();
    p.max_fee_per_tx = Some(U256::from(21_000u64));
    let mut tx = EthTransaction {
        blobs: None,
        authorizations: Vec::new(),
        chain_id: 1,
        to: Some(addr(ALICE)),
        value: U256::ZERO,
        max_fee: U256::from(21_000u64),
        tx_type: "legacy",
        call: Ok(CallIntent::Plain),
    };
    assert!(rules(&p, &Intent::EthereumTransaction(tx.clone())).is_ok());
    tx.max_fee = U256::from(21_001u64);
    assert_eq!(
        rule_of(&p, &Intent::EthereumTransaction(tx)),
        Some("max_fee_per_tx")
    );
    assert!(rules(&p, &eth_message()).is_ok());
    p.allow_message_signing = Some(false);
    assert_eq!(rule_of(&p, &eth_message()), Some("allow_message_signing"));
    assert_eq!(
        rule_of(&p, &Intent::RawHash { chain: "ethereum" }),
        Some("raw_signing")
    );
}

#[test]
fn permits_are_judged_like_the_calls_they_authorize() {
    let p = policy_with_token(Some(50));
    let permit = |to: u8, amount: u64, chain_id: Option<u64>| {
        Intent::EthereumTypedData(EthTypedData {
            chain_id,
            primary_type: "Permit".into(),
            decoded: TypedIntent::Token {
                standard: "EIP-2612 Permit",
                verifying_contract: addr(TOKEN),
                movements: vec![movement(MovementKind::Approval, to, amount, false)],
            },
        })
    };
    assert!(rules(&p, &permit(ALICE, 50, Some(1))).is_ok());
    assert_eq!(
        rule_of(&p, &permit(MALLORY, 1, Some(1))),
        Some("allowed_recipients")
    );
    assert_eq!(
        rule_of(&p, &permit(ALICE, 51, Some(1))),
        Some("token_limits")
    );
    assert_eq!(
        rule_of(&p, &permit(ALICE, 1, None)),
        Some("allowed_chain_ids")
    );
    let other = |vc: Option<u8>, ty: &str| {
        Intent::EthereumTypedData(EthTypedData {
            chain_id: Some(1),
            primary_type: ty.into(),
            decoded: TypedIntent::Other {
                primary_type: ty.into(),
                verifying_contract: vc.map(addr),
            },
        })
    };
    let mut p = p;
    assert_eq!(
        rule_of(&p, &other(Some(0x33), "Order")),
        Some("allowed_typed_data")
    );
    p.allowed_typed_data.push(TypedDataRule {
        verifying_contract: key(&addr(0x33)),
        primary_type: Some("Order".into()),
    });
    assert!(rules(&p, &other(Some(0x33), "Order")).is_ok());
    assert_eq!(
        rule_of(&p, &other(Some(0x33), "Cancel")),
        Some("allowed_typed_data")
    );
    assert_eq!(
        rule_of(&p, &other(None, "Order")),
        Some("allowed_typed_data")
    );
    p.allow_arbitrary_typed_data = Some(true);
    assert!(rules(&p, &other(None, "Anything")).is_ok());
}

fn btc(outputs: &[(u64, bool)], fee: Option<u64>, proven: bool, sighash: Option<u32>) -> Intent {
    let script = |i: usize| {
        let mut s = vec![0x00, 0x14];
        s.extend([u8::try_from(i).unwrap_or(0); 20]);
        s
    };
    Intent::BitcoinTransaction(BtcTransaction {
        inputs: vec![BtcInput {
            index: 0,
            ours: true,
            amount: Some(1_000_000),
            sighash,
            taproot: false,
        }],
        outputs: outputs
            .iter()
            .enumerate()
            .map(|(index, (value, change))| BtcOutput {
                index,
                script_pubkey: script(index),
                address: None,
                value: *value,
                is_change: *change,
            })
            .collect(),
        fee,
        amounts_proven: proven,
        estimated_vsize: 141,
    })
}

#[test]
fn bitcoin_counts_the_fee_and_needs_proven_amounts_under_a_limit() {
    let mut p = PolicyEntry::new();
    p.max_value_per_tx = Some(U256::from(1000u64));
    assert!(
        rules(
            &p,
            &btc(&[(900, false), (5000, true)], Some(100), true, None)
        )
        .is_ok()
    );
    assert_eq!(
        rule_of(&p, &btc(&[(900, false)], Some(101), true, None)),
        Some("max_value_per_tx")
    );
    assert_eq!(
        rule_of(&p, &btc(&[(900, false)], Some(100), false, None)),
        Some("proven_amounts")
    );
    assert_eq!(
        rule_of(&p, &btc(&[(900, false)], None, true, None)),
        Some("proven_amounts")
    );
    p.max_fee = Some(U256::from(99u64));
    assert_eq!(
        rule_of(&p, &btc(&[(900, false)], Some(100), true, None)),
        Some("max_fee")
    );
    p.max_fee = None;
    // 141 vbytes at 1.000 sat/vB: a fee of 141 passes, 142 does not.
    p.max_value_per_tx = None;
    p.max_fee_rate_msat_vb = Some(1000);
    assert!(rules(&p, &btc(&[(1, false)], Some(141), true, None)).is_ok());
    assert_eq!(
        rule_of(&p, &btc(&[(1, false)], Some(142), true, None)),
        Some("max_fee_rate")
    );
    // Without any limit the amounts need no proof.
    let p = PolicyEntry::new();
    assert!(rules(&p, &btc(&[(1, false)], None, false, None)).is_ok());
}

#[test]
fn bitcoin_signs_only_sighash_all_unless_the_policy_lists_more() {
    let mut p = PolicyEntry::new();
    assert!(rules(&p, &btc(&[(1, false)], Some(1), true, Some(0x01))).is_ok());
    for (v, name) in [(0x02, "NONE"), (0x03, "SINGLE"), (0x81, "ALL|ANYONECANPAY")] {
        let i = btc(&[(1, false)], Some(1), true, Some(v));
        let d = rules(&p, &i).expect_err("refused");
        assert_eq!(d.rule, "allowed_sighash_types");
        assert!(d.reason.contains(name), "{}", d.reason);
    }
    p.allowed_sighash_types = vec!["SINGLE".into()];
    assert!(rules(&p, &btc(&[(1, false)], Some(1), true, Some(0x03))).is_ok());
    assert_eq!(
        rule_of(&p, &btc(&[(1, false)], Some(1), true, Some(0x02))),
        Some("allowed_sighash_types")
    );
}

fn pk(b: u8) -> Ed25519PublicKey {
    wallet_core::solana::parse_address(&bs58::encode([b; 32]).into_string()).expect("key")
}

fn sol(d: SolanaIntent) -> Intent {
    Intent::SolanaTransaction(SolTransaction {
        signer: pk(1),
        decoded: Ok(d),
    })
}

fn empty_sol() -> SolanaIntent {
    SolanaIntent {
        fee_payer: pk(1),
        lamport_transfers: vec![],
        token_movements: vec![],
        programs: vec![],
        unknown_program_instructions: vec![],
        undecoded_instructions: vec![],
        compute_unit_price: None,
        compute_unit_limit: None,
        priority_fee_lamports: 0,
    }
}

#[test]
fn solana_transfers_programs_and_fees() {
    let mut p = PolicyEntry::new();
    p.allowed_recipients = vec![wallet_core::solana::address(&pk(2))];
    p.max_value_per_tx = Some(U256::from(1000u64));
    p.max_priority_fee = Some(U256::from(10u64));
    let transfer = |to: u8, lamports: u64, from: u8| LamportTransfer {
        instruction: 0,
        kind: LamportKind::Transfer,
        from: AccountRef::Key(pk(from)),
        to: AccountRef::Key(pk(to)),
        lamports,
    };
    let mut d = empty_sol();
    d.lamport_transfers.push(transfer(2, 1000, 1));
    assert!(rules(&p, &sol(d.clone())).is_ok());
    d.lamport_transfers.push(transfer(2, 1, 9));
    // Every movement counts, whoever's account it leaves.
    assert_eq!(rule_of(&p, &sol(d)), Some("max_value_per_tx"));
    let mut d = empty_sol();
    d.lamport_transfers.push(transfer(3, 1, 1));
    assert_eq!(rule_of(&p, &sol(d)), Some("allowed_recipients"));
    let mut d = empty_sol();
    d.lamport_transfers.push(LamportTransfer {
        to: AccountRef::Lookup { index: 4 },
        ..transfer(2, 1, 1)
    });
    assert_eq!(rule_of(&p, &sol(d)), Some("allowed_recipients"));
    let mut d = empty_sol();
    d.unknown_program_instructions.push((0, pk(7)));
    assert_eq!(rule_of(&p, &sol(d.clone())), Some("allowed_programs"));
    p.allowed_programs = vec![wallet_core::solana::address(&pk(7))];
    assert!(rules(&p, &sol(d)).is_ok());
    let mut d = empty_sol();
    d.priority_fee_lamports = 11;
    assert_eq!(rule_of(&p, &sol(d)), Some("max_priority_fee"));
    // System's undecoded instructions (Assign hands the account to a
    // program) stay refused even when System is listed.
    let mut d = empty_sol();
    d.undecoded_instructions
        .push((0, "system", "Assign".to_string()));
    p.allowed_programs.push(wallet_core::solana::address(
        &wallet_core::solana::SYSTEM_PROGRAM,
    ));
    assert_eq!(rule_of(&p, &sol(d)), Some("allowed_programs"));
    let bad = Intent::SolanaTransaction(SolTransaction {
        signer: pk(1),
        decoded: Err("malformed".into()),
    });
    assert_eq!(rule_of(&p, &bad), Some("instructions"));
}

#[test]
fn solana_tokens_need_a_listed_mint_and_match_owners_through_their_ata() {
    let mint = pk(0x55);
    let owner = pk(2);
    let mut p = PolicyEntry::new();
    p.allowed_recipients = vec![wallet_core::solana::address(&owner)];
    let mut limits = BTreeMap::new();
    limits.insert(
        wallet_core::solana::address(&mint),
        TokenLimit {
            max_value_per_tx: Some(U256::from(10u64)),
            max_value_per_day: None,
        },
    );
    p.token_limits = limits;
    let ata = associated_token_address(&owner, &mint, TokenProgram::Token);
    let mv = |dest: Ed25519PublicKey, amount: u64, kind: TokenKind, with_mint: bool| {
        wallet_core::solana::TokenMovement {
            instruction: 0,
            program: TokenProgram::Token,
            kind,
            source: AccountRef::Key(pk(9)),
            counterparty: AccountRef::Key(dest),
            mint: with_mint.then_some(AccountRef::Key(mint)),
            authority: AccountRef::Key(pk(1)),
            amount,
            decimals: Some(6),
        }
    };
    let mut d = empty_sol();
    d.token_movements
        .push(mv(ata, 10, TokenKind::TransferChecked, true));
    assert!(rules(&p, &sol(d)).is_ok());
    let mut d = empty_sol();
    d.token_movements
        .push(mv(ata, 11, TokenKind::TransferChecked, true));
    assert_eq!(rule_of(&p, &sol(d)), Some("token_limits"));
    let mut d = empty_sol();
    d.token_movements
        .push(mv(pk(3), 1, TokenKind::TransferChecked, true));
    assert_eq!(rule_of(&p, &sol(d)), Some("allowed_recipients"));
    let mut d = empty_sol();
    d.token_movements
        .push(mv(ata, 1, TokenKind::Transfer, false));
    assert_eq!(rule_of(&p, &sol(d)), Some("token_limits"));
    p.token_limits.clear();
    let mut d = empty_sol();
    d.token_movements
        .push(mv(ata, 1, TokenKind::TransferChecked, true));
    assert_eq!(rule_of(&p, &sol(d)), Some("token_limits"));
}

#[test]
fn message_signing_is_off_by_default_on_bitcoin_only() {
    let m = |chain: &str| {
        let i = super::intent::MessageIntent::new("bip322", "addr".into(), b"hello");
        if chain == "bitcoin" {
            Intent::BitcoinMessage(i)
        } else {
            Intent::SolanaMessage(i)
        }
    };
    let mut p = PolicyEntry::new();
    let d = rules(&p, &m("bitcoin")).expect_err("bitcoin default");
    assert_eq!(d.rule, "allow_message_signing");
    assert!(rules(&p, &m("solana")).is_ok(), "solana default is true");
    assert!(!p.allows_message_signing_on("bitcoin"));
    assert!(p.allows_message_signing_on("solana") && p.allows_message_signing_on("ethereum"));
    p.allow_message_signing = Some(true);
    assert!(rules(&p, &m("bitcoin")).is_ok());
    p.allow_message_signing = Some(false);
    assert_eq!(
        rules(&p, &m("bitcoin")).expect_err("false").rule,
        "allow_message_signing"
    );
    assert_eq!(
        rules(&p, &m("solana")).expect_err("false").rule,
        "allow_message_signing"
    );
    // The intent never carries the message, only its length and hash.
    let j = m("bitcoin").to_json();
    assert_eq!(j["message_length"], 5);
    assert_eq!(
        j["message_sha256"],
        "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"
    );
    assert!(!j.to_string().contains("hello"));
}

fn auth(chain_id: u64, delegate: u8) -> super::intent::EthAuthorization {
    super::intent::EthAuthorization {
        chain_id,
        delegate: addr(delegate),
        nonce: 0,
        authority: addr(ALICE),
    }
}

#[test]
fn eip7702_authorizations_need_a_listed_delegate_and_chain() {
    let mut p = PolicyEntry::new();
    let a = |c, d| Intent::EthereumAuthorization(auth(c, d));
    // No delegate listed: every authorization is refused (fail closed).
    assert_eq!(rule_of(&p, &a(1, TOKEN)), Some("allowed_delegates"));
    p.allowed_delegates = vec![key(&addr(TOKEN))];
    assert!(rules(&p, &a(1, TOKEN)).is_ok());
    assert_eq!(rule_of(&p, &a(1, MALLORY)), Some("allowed_delegates"));
    assert_eq!(
        rule_of(&p, &a(0, TOKEN)),
        Some("allow_any_chain_authorization")
    );
    p.allowed_chain_ids = vec![1];
    assert_eq!(rule_of(&p, &a(5, TOKEN)), Some("allowed_chain_ids"));
    p.allow_any_chain_authorization = Some(true);
    // Chain id 0 is judged by its flag, not by allowed_chain_ids.
    assert!(rules(&p, &a(0, TOKEN)).is_ok());
    // In a transaction, every tuple is judged.
    let tx = |list: Vec<super::intent::EthAuthorization>| {
        Intent::EthereumTransaction(EthTransaction {
            blobs: None,
            authorizations: list,
            chain_id: 1,
            to: Some(addr(ALICE)),
            value: U256::ZERO,
            max_fee: U256::ZERO,
            tx_type: "eip7702",
            call: Ok(CallIntent::Plain),
        })
    };
    assert!(rules(&p, &tx(vec![auth(1, TOKEN)])).is_ok());
    assert_eq!(
        rule_of(&p, &tx(vec![auth(1, TOKEN), auth(1, MALLORY)])),
        Some("allowed_delegates")
    );
}

#[test]
fn blob_fee_cap_and_blob_fee_in_max_fee_per_tx() {
    let mut p = PolicyEntry::new();
    p.max_fee_per_blob_gas = Some(U256::from(10u64));
    p.max_fee_per_tx = Some(U256::from(1_000_000u64));
    let tx = |per_blob_gas: u64, max_fee: u64| {
        Intent::EthereumTransaction(EthTransaction {
            blobs: Some(super::intent::EthBlobs {
                count: 1,
                max_fee_per_blob_gas: U256::from(per_blob_gas),
                max_blob_fee: U256::from(per_blob_gas * 131_072),
            }),
            authorizations: Vec::new(),
            chain_id: 1,
            to: Some(addr(ALICE)),
            value: U256::ZERO,
            max_fee: U256::from(max_fee),
            tx_type: "eip4844",
            call: Ok(CallIntent::Plain),
        })
    };
    assert!(rules(&p, &tx(5, 900_000)).is_ok());
    assert_eq!(rule_of(&p, &tx(11, 900_000)), Some("max_fee_per_blob_gas"));
    assert_eq!(rule_of(&p, &tx(5, 1_000_001)), Some("max_fee_per_tx"));
}

/// An ethereum personal_sign message intent.
fn eth_message() -> Intent {
    Intent::EthereumMessage(crate::policy::intent::MessageIntent::new(
        "personal_sign",
        "0x0000000000000000000000000000000000000001".into(),
        b"hello",
    ))
}
