//! The solana policy engine attacked through a real server (issue 11).
//!
//! Messages are built here byte by byte from the wire format (legacy and
//! v0: header, short-vec account keys, blockhash, compiled instructions,
//! v0 address-table lookups), independent of the plugin. Instruction data
//! follows the documented layouts:
//! - System Program `Transfer`: u32 LE discriminant 2, u64 LE lamports;
//!   accounts [from (signer, writable), to (writable)]
//!   (solana-program `system_instruction::SystemInstruction`, bincode).
//! - SPL Token / Token-2022 `Transfer`: u8 3, u64 LE amount; accounts
//!   [source, destination, authority]. `TransferChecked`: u8 12, u64 LE
//!   amount, u8 decimals; accounts [source, mint, destination, authority]
//!   (spl-token `instruction.rs`, `TokenInstruction::pack`).
//! - ComputeBudget `SetComputeUnitLimit`: u8 2, u32 LE units;
//!   `SetComputeUnitPrice`: u8 3, u64 LE micro-lamports per unit
//!   (solana-sdk `compute_budget.rs`, borsh). Priority fee = ceil(price ×
//!   limit / 10^6) lamports.
//!
//! Associated token accounts are derived here as the SPL
//! associated-token-account program defines them
//! (`get_associated_token_address_with_program_id`): the program address
//! of seeds [owner, token program id, mint] under the ATA program, i.e.
//! the first bump from 255 down for which sha256(seeds ‖ bump ‖ program id
//! ‖ "ProgramDerivedAddress") is not a point on ed25519 (checked with
//! curve25519-dalek's decompression).
//!
//! Signatures of positive controls are verified with ed25519-dalek.

mod engine_common;

use base64::Engine as _;
use curve25519_dalek::edwards::CompressedEdwardsY;
use ed25519_dalek::{Signature, Verifier, VerifyingKey};
use engine_common::{B64, Engine, expect_403_naming, st};
use integration_tests::Reply;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

/// m/44'/501'/0'/0' of the "abandon … about" mnemonic (engine_solana.rs).
const SOL0: &str = "HAgk14JpMQLgt6rVgv7cBQFJWFto5Dqxi472uT3DKpqk";
const SYSTEM: &str = "11111111111111111111111111111111";
const TOKEN: &str = "TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA";
const TOKEN_2022: &str = "TokenzQdBNbLqP5VEhdkAS6EPFLC1PHnBqCXEpPxuEb";
const ATA_PROGRAM: &str = "ATokenGPvbdGVxr1b2hvZbsiqW5xWH25efTNsLJA8knL";
const COMPUTE_BUDGET: &str = "ComputeBudget111111111111111111111111111111";

fn key(addr: &str) -> [u8; 32] {
    bs58::decode(addr)
        .into_vec()
        .expect("base58")
        .try_into()
        .expect("32 bytes")
}

fn b58(k: &[u8; 32]) -> String {
    bs58::encode(k).into_string()
}

fn me() -> [u8; 32] {
    key(SOL0)
}

/// The associated token account of (owner, mint) under a token program.
fn ata(owner: &[u8; 32], mint: &[u8; 32], token_program: &str) -> [u8; 32] {
    let program = key(ATA_PROGRAM);
    for bump in (0..=255u8).rev() {
        let mut h = Sha256::new();
        h.update(owner);
        h.update(key(token_program));
        h.update(mint);
        h.update([bump]);
        h.update(program);
        h.update(b"ProgramDerivedAddress");
        let out: [u8; 32] = h.finalize().into();
        if CompressedEdwardsY(out).decompress().is_none() {
            return out;
        }
    }
    panic!("no bump")
}

fn short_vec(mut n: usize) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let b = (n & 0x7f) as u8;
        n >>= 7;
        if n == 0 {
            out.push(b);
            return out;
        }
        out.push(b | 0x80);
    }
}

/// An account an instruction names: a static key, or entry `i` of the
/// writable list of the message's one address lookup table (v0).
#[derive(Clone, Copy)]
enum Acc {
    Key([u8; 32]),
    Loaded(u8),
}

struct Ix {
    program: [u8; 32],
    accounts: Vec<Acc>,
    data: Vec<u8>,
}

/// A message paid and signed by `payer` (the only signer). Static keys:
/// payer, then every other account in first-use order (writable,
/// unsigned), then the programs (read-only, unsigned). `v0` gives the
/// version prefix and, when an instruction uses `Acc::Loaded`, one lookup
/// table with those writable indexes.
fn message(payer: [u8; 32], ixs: &[Ix], v0: bool) -> Vec<u8> {
    let mut programs: Vec<[u8; 32]> = Vec::new();
    for ix in ixs {
        if !programs.contains(&ix.program) {
            programs.push(ix.program);
        }
    }
    let mut writable: Vec<[u8; 32]> = Vec::new();
    let mut loaded: Vec<u8> = Vec::new();
    for ix in ixs {
        for a in &ix.accounts {
            match a {
                Acc::Key(k) if *k != payer && !programs.contains(k) && !writable.contains(k) => {
                    writable.push(*k);
                }
                Acc::Loaded(i) if !loaded.contains(i) => loaded.push(*i),
                _ => {}
            }
        }
    }
    assert!(v0 || loaded.is_empty(), "lookups need v0");
    let mut keys = vec![payer];
    keys.extend(&writable);
    keys.extend(&programs);
    let index = |a: &Acc| -> u8 {
        match a {
            Acc::Key(k) => keys.iter().position(|x| x == k).expect("static key") as u8,
            Acc::Loaded(i) => {
                (keys.len() + loaded.iter().position(|x| x == i).expect("loaded")) as u8
            }
        }
    };
    let mut m = Vec::new();
    if v0 {
        m.push(0x80);
    }
    m.extend_from_slice(&[1, 0, programs.len() as u8]);
    m.extend(short_vec(keys.len()));
    for k in &keys {
        m.extend_from_slice(k);
    }
    m.extend_from_slice(&[0x42; 32]); // recent blockhash
    m.extend(short_vec(ixs.len()));
    for ix in ixs {
        m.push(index(&Acc::Key(ix.program)));
        m.extend(short_vec(ix.accounts.len()));
        for a in &ix.accounts {
            m.push(index(a));
        }
        m.extend(short_vec(ix.data.len()));
        m.extend_from_slice(&ix.data);
    }
    if v0 {
        if loaded.is_empty() {
            m.extend(short_vec(0));
        } else {
            m.extend(short_vec(1));
            m.extend_from_slice(&[0x7a; 32]); // the table's address
            m.extend(short_vec(loaded.len()));
            m.extend_from_slice(&loaded);
            m.extend(short_vec(0));
        }
    }
    m
}

fn system_transfer(to: Acc, lamports: u64) -> Ix {
    let mut data = 2u32.to_le_bytes().to_vec();
    data.extend_from_slice(&lamports.to_le_bytes());
    Ix {
        program: key(SYSTEM),
        accounts: vec![Acc::Key(me()), to],
        data,
    }
}

fn transfer_checked(program: &str, mint: [u8; 32], dest: [u8; 32], amount: u64) -> Ix {
    let mut data = vec![12];
    data.extend_from_slice(&amount.to_le_bytes());
    data.push(6);
    Ix {
        program: key(program),
        accounts: vec![
            Acc::Key(ata(&me(), &mint, program)),
            Acc::Key(mint),
            Acc::Key(dest),
            Acc::Key(me()),
        ],
        data,
    }
}

fn plain_token_transfer(dest: [u8; 32], amount: u64) -> Ix {
    let mut data = vec![3];
    data.extend_from_slice(&amount.to_le_bytes());
    Ix {
        program: key(TOKEN),
        accounts: vec![Acc::Key([0x55; 32]), Acc::Key(dest), Acc::Key(me())],
        data,
    }
}

fn compute_limit(units: u32) -> Ix {
    let mut data = vec![2];
    data.extend_from_slice(&units.to_le_bytes());
    Ix {
        program: key(COMPUTE_BUDGET),
        accounts: vec![],
        data,
    }
}

fn compute_price(micro_lamports: u64) -> Ix {
    let mut data = vec![3];
    data.extend_from_slice(&micro_lamports.to_le_bytes());
    Ix {
        program: key(COMPUTE_BUDGET),
        accounts: vec![],
        data,
    }
}

/// A transaction with one empty signature slot.
fn tx(message: &[u8]) -> String {
    let mut t = short_vec(1);
    t.extend_from_slice(&[0u8; 64]);
    t.extend_from_slice(message);
    B64.encode(t)
}

fn sign(e: &Engine, w: &str, msg: &[u8]) -> Reply {
    e.write(
        &format!("crypto/wallets/{w}/solana/sign-transaction"),
        json!({"transaction": tx(msg)}),
    )
}

fn check(e: &Engine, w: &str, msg: &[u8]) -> Value {
    let r = e.write(
        &format!("crypto/policies/{w}/solana/check"),
        json!({"operation": "sign-transaction", "transaction": tx(msg)}),
    );
    r.expect_status(200);
    r.data().clone()
}

#[track_caller]
fn check_refuses(d: &Value, rule: &str) {
    assert_eq!(d["allowed"], false, "{d}");
    assert_eq!(d["rule"], rule, "{d}");
    assert_eq!(d["policy"], true, "{d}");
}

/// Asserts 200 and that slot 0 holds the wallet's signature over exactly
/// `msg`.
#[track_caller]
fn signed(r: &Reply, msg: &[u8]) {
    r.expect_status(200);
    let d = r.data();
    let t = B64.decode(st(d, "transaction")).expect("base64");
    assert_eq!(t[0], 1);
    assert_eq!(&t[65..], msg, "the message changed");
    let sig = Signature::from_bytes(&t[1..65].try_into().expect("64"));
    VerifyingKey::from_bytes(&me())
        .expect("key")
        .verify(msg, &sig)
        .expect("slot 0 verifies");
    assert!(d["intent"].is_object(), "no intent in {d}");
}

fn set_policy(e: &Engine, w: &str, body: Value) {
    let r = e.write(&format!("crypto/policies/{w}/solana"), body);
    assert!(matches!(r.status, 200 | 204), "policy of {w}: {}", r.body);
}

fn wallet(e: &Engine, w: &str, policy: Option<Value>) {
    e.abandon(w, json!({}));
    if let Some(p) = policy {
        set_policy(e, w, p);
    }
}

const FRIEND: [u8; 32] = [0x0f; 32];
const STRANGER: [u8; 32] = [0x5e; 32];

#[test]
fn system_transfers_are_judged_by_recipient_and_lamport_limits() {
    let e = Engine::start();
    wallet(
        &e,
        "s",
        Some(json!({"allowed_recipients": [b58(&FRIEND)],
                    "max_value_per_tx": "1000000", "max_value_per_day": 1500000})),
    );
    let to = |k: [u8; 32], n: u64, v0: bool| message(me(), &[system_transfer(Acc::Key(k), n)], v0);
    for v0 in [false, true] {
        expect_403_naming(&sign(&e, "s", &to(STRANGER, 1, v0)), "allowed_recipients");
    }
    check_refuses(
        &check(&e, "s", &to(STRANGER, 1, false)),
        "allowed_recipients",
    );
    // A second instruction to a stranger behind an allowed one.
    let two = message(
        me(),
        &[
            system_transfer(Acc::Key(FRIEND), 1),
            system_transfer(Acc::Key(STRANGER), 1),
        ],
        false,
    );
    expect_403_naming(&sign(&e, "s", &two), "allowed_recipients");
    // Split across two instructions to the friend, the total counts.
    let split = message(
        me(),
        &[
            system_transfer(Acc::Key(FRIEND), 600_000),
            system_transfer(Acc::Key(FRIEND), 400_001),
        ],
        false,
    );
    expect_403_naming(&sign(&e, "s", &split), "max_value_per_tx");
    expect_403_naming(
        &sign(&e, "s", &to(FRIEND, 1_000_001, false)),
        "max_value_per_tx",
    );
    let m = to(FRIEND, 100, true);
    signed(&sign(&e, "s", &m), &m);
    // The check path counts nothing.
    for _ in 0..3 {
        let d = check(&e, "s", &to(FRIEND, 1_000_000, false));
        assert_eq!(d["allowed"], true, "{d}");
    }
    let m = to(FRIEND, 1_000_000, false);
    signed(&sign(&e, "s", &m), &m);
    // 1 000 100 spent: 500 000 more is over 1 500 000.
    expect_403_naming(
        &sign(&e, "s", &to(FRIEND, 500_000, false)),
        "max_value_per_day",
    );
    check_refuses(
        &check(&e, "s", &to(FRIEND, 500_000, false)),
        "max_value_per_day",
    );
    let m = to(FRIEND, 499_900, false);
    signed(&sign(&e, "s", &m), &m);
    expect_403_naming(&sign(&e, "s", &to(FRIEND, 1, true)), "max_value_per_day");
}

#[test]
fn a_destination_from_an_address_lookup_table_cannot_be_checked() {
    let e = Engine::start();
    wallet(
        &e,
        "alt",
        Some(json!({"allowed_recipients": [b58(&FRIEND)]})),
    );
    wallet(
        &e,
        "deny",
        Some(json!({"denied_recipients": [b58(&STRANGER)]})),
    );
    wallet(&e, "lim", Some(json!({"max_value_per_tx": "1000000"})));
    let m = message(me(), &[system_transfer(Acc::Loaded(0), 5)], true);
    expect_403_naming(&sign(&e, "alt", &m), "allowed_recipients");
    expect_403_naming(&sign(&e, "deny", &m), "allowed_recipients");
    check_refuses(&check(&e, "alt", &m), "allowed_recipients");
    // Without recipient lists the amount is all that matters.
    signed(&sign(&e, "lim", &m), &m);
    let big = message(me(), &[system_transfer(Acc::Loaded(3), 1_000_001)], true);
    expect_403_naming(&sign(&e, "lim", &big), "max_value_per_tx");
    // A token mint from a lookup table cannot be matched to token_limits.
    let mint = [0x3a; 32];
    set_policy(&e, "lim", json!({"token_limits": {b58(&mint): {}}}));
    let mut ix = transfer_checked(TOKEN, mint, FRIEND, 1);
    ix.accounts[1] = Acc::Loaded(1);
    let m = message(me(), &[ix], true);
    expect_403_naming(&sign(&e, "lim", &m), "token_limits");
}

#[test]
fn programs_outside_the_known_set_need_allowed_programs() {
    let e = Engine::start();
    wallet(&e, "p", Some(json!({"max_value_per_tx": "1000000"})));
    let program = [0xab; 32];
    let m = message(
        me(),
        &[
            system_transfer(Acc::Key(FRIEND), 1),
            Ix {
                program,
                accounts: vec![Acc::Key(me()), Acc::Key([0x44; 32])],
                data: vec![1, 2, 3],
            },
        ],
        false,
    );
    expect_403_naming(&sign(&e, "p", &m), "allowed_programs");
    check_refuses(&check(&e, "p", &m), "allowed_programs");
    // An update lists it.
    set_policy(&e, "p", json!({"allowed_programs": [b58(&program)]}));
    signed(&sign(&e, "p", &m), &m);
    // Another unknown program is still refused.
    let m2 = message(
        me(),
        &[Ix {
            program: [0xac; 32],
            accounts: vec![Acc::Key(me())],
            data: vec![],
        }],
        true,
    );
    expect_403_naming(&sign(&e, "p", &m2), "allowed_programs");
    // A wallet without a solana policy signs it.
    wallet(&e, "free", None);
    signed(&sign(&e, "free", &m2), &m2);
}

/// System `Assign` (u32 LE 1, owner pubkey; accounts [assigned (signer,
/// writable)]) hands the wallet's account to another program: not a
/// movement the engine decodes, so refused with a policy, and listing the
/// System Program in allowed_programs does not unlock it (an assigned
/// account can be drained by its new owner).
#[test]
fn an_undecoded_system_instruction_is_refused_even_when_its_program_is_listed() {
    let e = Engine::start();
    wallet(&e, "as", Some(json!({"max_value_per_tx": "1000000"})));
    let mut data = 1u32.to_le_bytes().to_vec();
    data.extend_from_slice(&[0xab; 32]);
    let m = message(
        me(),
        &[Ix {
            program: key(SYSTEM),
            accounts: vec![Acc::Key(me())],
            data,
        }],
        false,
    );
    expect_403_naming(&sign(&e, "as", &m), "allowed_programs");
    check_refuses(&check(&e, "as", &m), "allowed_programs");
    wallet(&e, "free", None);
    signed(&sign(&e, "free", &m), &m);
    set_policy(&e, "as", json!({"allowed_programs": [SYSTEM]}));
    expect_403_naming(&sign(&e, "as", &m), "allowed_programs");
}

#[test]
fn the_priority_fee_is_capped() {
    let e = Engine::start();
    wallet(&e, "fee", Some(json!({"max_priority_fee": "1000"})));
    let with = |limit: u32, price: u64| {
        message(
            me(),
            &[
                compute_limit(limit),
                compute_price(price),
                system_transfer(Acc::Key(FRIEND), 1),
            ],
            false,
        )
    };
    // 200 000 units × 10 000 micro-lamports = 2 000 lamports.
    expect_403_naming(&sign(&e, "fee", &with(200_000, 10_000)), "max_priority_fee");
    check_refuses(
        &check(&e, "fee", &with(200_000, 10_000)),
        "max_priority_fee",
    );
    // 1 400 000 × 715 / 10^6 = 1 001 (rounded up).
    expect_403_naming(&sign(&e, "fee", &with(1_400_000, 715)), "max_priority_fee");
    // Exactly 1 000.
    let m = with(200_000, 5_000);
    signed(&sign(&e, "fee", &m), &m);
    // Without SetComputeUnitLimit the runtime's default limit applies
    // (200 000 per non-ComputeBudget instruction): one transfer at
    // 10 000 micro-lamports is 2 000 lamports.
    let no_limit = message(
        me(),
        &[compute_price(10_000), system_transfer(Acc::Key(FRIEND), 1)],
        false,
    );
    expect_403_naming(&sign(&e, "fee", &no_limit), "max_priority_fee");
}

#[test]
fn spl_transfers_match_a_listed_owner_through_its_associated_token_account() {
    let e = Engine::start();
    let mint = [0x3a; 32];
    let other_mint = [0x3b; 32];
    wallet(
        &e,
        "spl",
        Some(json!({"allowed_recipients": [b58(&FRIEND)],
                    "token_limits": {b58(&mint): {"max_value_per_tx": "1000", "max_value_per_day": "1500"}}})),
    );
    let friend_ata = ata(&FRIEND, &mint, TOKEN);
    let one = |ix: Ix| message(me(), &[ix], false);
    let m = one(transfer_checked(TOKEN, mint, friend_ata, 500));
    let r = sign(&e, "spl", &m);
    signed(&r, &m);
    // An account that is not the friend's ATA.
    expect_403_naming(
        &sign(&e, "spl", &one(transfer_checked(TOKEN, mint, STRANGER, 1))),
        "allowed_recipients",
    );
    expect_403_naming(
        &sign(
            &e,
            "spl",
            &one(transfer_checked(
                TOKEN,
                mint,
                ata(&STRANGER, &mint, TOKEN),
                1,
            )),
        ),
        "allowed_recipients",
    );
    // The friend's ATA of another mint is not this mint's.
    expect_403_naming(
        &sign(
            &e,
            "spl",
            &one(transfer_checked(
                TOKEN,
                mint,
                ata(&FRIEND, &other_mint, TOKEN),
                1,
            )),
        ),
        "allowed_recipients",
    );
    // The classic-Token ATA under Token-2022 is not the Token-2022 ATA.
    expect_403_naming(
        &sign(
            &e,
            "spl",
            &one(transfer_checked(TOKEN_2022, mint, friend_ata, 1)),
        ),
        "allowed_recipients",
    );
    let m22 = one(transfer_checked(
        TOKEN_2022,
        mint,
        ata(&FRIEND, &mint, TOKEN_2022),
        1,
    ));
    signed(&sign(&e, "spl", &m22), &m22);
    // Limits.
    expect_403_naming(
        &sign(
            &e,
            "spl",
            &one(transfer_checked(TOKEN, mint, friend_ata, 1001)),
        ),
        "token_limits",
    );
    check_refuses(
        &check(
            &e,
            "spl",
            &one(transfer_checked(TOKEN, mint, friend_ata, 1000)),
        ),
        "token_limits",
    );
    let m = one(transfer_checked(TOKEN, mint, friend_ata, 999));
    signed(&sign(&e, "spl", &m), &m);
    expect_403_naming(
        &sign(
            &e,
            "spl",
            &one(transfer_checked(TOKEN, mint, friend_ata, 1)),
        ),
        "token_limits",
    );
    // A mint not in token_limits.
    expect_403_naming(
        &sign(
            &e,
            "spl",
            &one(transfer_checked(
                TOKEN,
                other_mint,
                ata(&FRIEND, &other_mint, TOKEN),
                1,
            )),
        ),
        "token_limits",
    );
    // A plain Transfer names no mint: refused even to the friend's ATA.
    wallet(&e, "plain", Some(json!({"token_limits": {b58(&mint): {}}})));
    expect_403_naming(
        &sign(&e, "plain", &one(plain_token_transfer(friend_ata, 1))),
        "token_limits",
    );
    check_refuses(
        &check(&e, "plain", &one(plain_token_transfer(friend_ata, 1))),
        "token_limits",
    );
    let m = one(transfer_checked(TOKEN, mint, STRANGER, 5));
    signed(&sign(&e, "plain", &m), &m);
    // Approvals: the plain form names no mint; the checked form names a
    // delegate, judged like a destination.
    let mut data = vec![4];
    data.extend_from_slice(&1u64.to_le_bytes());
    let approve = Ix {
        program: key(TOKEN),
        accounts: vec![Acc::Key([0x55; 32]), Acc::Key(STRANGER), Acc::Key(me())],
        data,
    };
    expect_403_naming(&sign(&e, "plain", &one(approve)), "token_limits");
    let approve_checked = |delegate: [u8; 32]| {
        let mut data = vec![13];
        data.extend_from_slice(&1u64.to_le_bytes());
        data.push(6);
        Ix {
            program: key(TOKEN),
            accounts: vec![
                Acc::Key(ata(&me(), &mint, TOKEN)),
                Acc::Key(mint),
                Acc::Key(delegate),
                Acc::Key(me()),
            ],
            data,
        }
    };
    expect_403_naming(
        &sign(&e, "spl", &one(approve_checked(STRANGER))),
        "allowed_recipients",
    );
    let m = one(approve_checked(STRANGER));
    signed(&sign(&e, "plain", &m), &m);
}

#[test]
fn sign_message_never_signs_a_transaction_message() {
    let e = Engine::start();
    wallet(&e, "a", None);
    wallet(&e, "quiet", Some(json!({"allow_message_signing": false})));
    let sm = |w: &str, bytes: &[u8]| {
        e.write(
            &format!("crypto/wallets/{w}/solana/sign-message"),
            json!({"message": B64.encode(bytes)}),
        )
    };
    for v0 in [false, true] {
        let m = message(
            me(),
            &[system_transfer(Acc::Key(STRANGER), 1_000_000_000)],
            v0,
        );
        let r = sm("a", &m);
        r.expect_status(403);
        assert!(
            r.errors().contains("transaction message"),
            "v0={v0}: {}",
            r.body
        );
        let c = e.write(
            "crypto/policies/a/solana/check",
            json!({"operation": "sign-message", "message": B64.encode(&m)}),
        );
        c.expect_status(200);
        assert_eq!(c.data()["allowed"], false, "{}", c.body);
        assert_eq!(c.data()["rule"], "transaction_message", "{}", c.body);
        // The same bytes as a transaction go through the policy (none here).
        signed(&sign(&e, "a", &m), &m);
    }
    // Off-chain message format: signing domain "\xffsolana offchain",
    // version 0, then the rest; and plain text.
    let mut offchain = b"\xffsolana offchain".to_vec();
    offchain.push(0);
    offchain.extend_from_slice(&[0x42; 32]);
    offchain.push(0);
    offchain.push(1);
    offchain.extend_from_slice(&me());
    offchain.extend_from_slice(&(5u16).to_le_bytes());
    offchain.extend_from_slice(b"hello");
    for bytes in [offchain.as_slice(), b"Sign in to example.com at 2026-12-02"] {
        let r = sm("a", bytes);
        r.expect_status(200);
        let sig = bs58::decode(st(r.data(), "signature"))
            .into_vec()
            .expect("base58");
        VerifyingKey::from_bytes(&me())
            .expect("key")
            .verify(bytes, &Signature::from_bytes(&sig.try_into().expect("64")))
            .expect("verifies");
        expect_403_naming(&sm("quiet", bytes), "allow_message_signing");
    }
}

/// A v0 instruction whose program id index points into the lookup table's
/// addresses: the program cannot be known offline (and the runtime does not
/// load programs from lookup tables), so with a policy it is never signed.
#[test]
fn a_program_loaded_from_a_lookup_table_is_not_signed_under_a_policy() {
    let e = Engine::start();
    wallet(&e, "lp", Some(json!({"max_value_per_tx": "1000000"})));
    let placeholder = [0xab; 32];
    let mut m = message(
        me(),
        &[Ix {
            program: placeholder,
            accounts: vec![Acc::Loaded(0)],
            data: vec![],
        }],
        true,
    );
    // Static keys [me, placeholder], the loaded address is index 2. The
    // instruction's program index sits after the version byte, the header
    // (3), the key count (1), two keys (64), the blockhash (32) and the
    // instruction count (1).
    assert_eq!(m[102], 1, "layout");
    m[102] = 2;
    let r = sign(&e, "lp", &m);
    assert!(
        matches!(r.status, 400 | 403),
        "an instruction of a program from a lookup table was signed: {}",
        r.body
    );
    // The same instruction with its program static is refused by name.
    let static_program = message(
        me(),
        &[Ix {
            program: placeholder,
            accounts: vec![Acc::Loaded(0)],
            data: vec![],
        }],
        true,
    );
    expect_403_naming(&sign(&e, "lp", &static_program), "allowed_programs");
}
