//! Writes the checked-in seed corpus, `seeds/<target>/`, from valid inputs
//! built with the real code: PSBTs spending each supported script type,
//! Solana transactions naming the fuzzed key as signer, a host certificate,
//! and one request per path of the backend.
//!
//! Run from `plugin/fuzz/` (the seeds are committed; rerun only to change them):
//!
//! ```sh
//! cargo run --locked --example make_seeds
//! ```
//!
//! The keys here are test keys (`[0x42; 32]`, the public "abandon ... about"
//! mnemonic): nothing secret is written.

use std::fs;
use std::path::Path;

use base64::Engine as _;
use k256::ecdsa::SigningKey;
use serde_json::{Value, json};
use wallet_core::bitcoin::{AddressType, CompressedPublicKey, Transaction, script_pubkey};
use wallet_core::{DerivationPath, Ed25519PrivateKey, HdWallet, Mnemonic, Passphrase};

const ABANDON: &str = "abandon abandon abandon abandon abandon abandon abandon abandon \
                       abandon abandon abandon about";
const HARDENED: u32 = 0x8000_0000;
/// The fingerprint the `bitcoin_psbt` target's key source answers with.
const FUZZ_FINGERPRINT: [u8; 4] = *b"FUZZ";

fn main() {
    let root = Path::new("seeds");
    let write = |target: &str, name: &str, bytes: &[u8]| {
        let dir = root.join(target);
        fs::create_dir_all(&dir).expect("create seed dir");
        fs::write(dir.join(name), bytes).expect("write seed");
    };

    let fuzz_key = SigningKey::from_slice(&[0x42; 32]).expect("valid scalar");
    for (name, kinds) in [
        ("p2wpkh", &[AddressType::P2wpkh][..]),
        ("p2sh-p2wpkh", &[AddressType::P2shP2wpkh][..]),
        ("p2pkh", &[AddressType::P2pkh][..]),
        ("p2tr", &[AddressType::P2tr][..]),
        (
            "all-four",
            &[
                AddressType::P2wpkh,
                AddressType::P2shP2wpkh,
                AddressType::P2pkh,
                AddressType::P2tr,
            ][..],
        ),
    ] {
        let inputs: Vec<Input> = kinds
            .iter()
            .enumerate()
            .map(|(i, &kind)| Input {
                key: fuzz_key.clone(),
                fingerprint: FUZZ_FINGERPRINT,
                path: vec![84 | HARDENED, HARDENED, HARDENED, 0, i as u32],
                kind,
            })
            .collect();
        write("bitcoin_psbt", name, &psbt(&inputs));
    }

    let sol_key = Ed25519PrivateKey::from_bytes(&[0x42; 32])
        .public_key()
        .to_bytes();
    for (name, bytes) in solana_seeds(sol_key) {
        write("solana_transaction", name, &bytes);
        write("solana_intent", name, &bytes);
    }
    for (name, bytes) in solana_intent_seeds(sol_key) {
        write("solana_intent", name, &bytes);
    }

    write_derivation_seeds(&write);
    write_ethereum_seeds(&write);
    write_intent_seeds(&write);
    write_env_seeds(&write);
    write_backend_seeds(&write);
}

// ---- bitcoin ----------------------------------------------------------------

struct Input {
    key: SigningKey,
    fingerprint: [u8; 4],
    path: Vec<u32>,
    kind: AddressType,
}

fn compact(out: &mut Vec<u8>, n: usize) {
    match n {
        0..0xfd => out.push(n as u8),
        _ => {
            out.push(0xfd);
            out.extend_from_slice(&(n as u16).to_le_bytes());
        }
    }
}

fn txout(value: u64, spk: &[u8]) -> Vec<u8> {
    let mut v = value.to_le_bytes().to_vec();
    compact(&mut v, spk.len());
    v.extend_from_slice(spk);
    v
}

/// A version 2 transaction without witnesses.
fn tx_bytes(prevouts: &[([u8; 32], u32)], outputs: &[(u64, Vec<u8>)]) -> Vec<u8> {
    let mut t = 2u32.to_le_bytes().to_vec();
    compact(&mut t, prevouts.len());
    for (txid, vout) in prevouts {
        t.extend_from_slice(txid);
        t.extend_from_slice(&vout.to_le_bytes());
        t.push(0);
        t.extend_from_slice(&0xffff_fffdu32.to_le_bytes());
    }
    compact(&mut t, outputs.len());
    for (v, s) in outputs {
        t.extend_from_slice(&txout(*v, s));
    }
    t.extend_from_slice(&0u32.to_le_bytes());
    t
}

fn origin(fingerprint: [u8; 4], path: &[u32]) -> Vec<u8> {
    let mut v = fingerprint.to_vec();
    for e in path {
        v.extend_from_slice(&e.to_le_bytes());
    }
    v
}

fn public(key: &SigningKey) -> CompressedPublicKey {
    CompressedPublicKey::from_k256(&key.verifying_key().into())
}

/// A BIP-174 v0 PSBT with one input per `inputs` entry (each with what its
/// script type needs to be signed) and two outputs: a payment, and change
/// back to the first input's key.
fn psbt(inputs: &[Input]) -> Vec<u8> {
    let mut prevouts = Vec::new();
    let mut maps: Vec<Vec<(Vec<u8>, Vec<u8>)>> = Vec::new();
    for (i, input) in inputs.iter().enumerate() {
        let pk = public(&input.key);
        let spk = script_pubkey(&pk, input.kind);
        let value = 40_000 + 1_000 * i as u64;
        let who = origin(input.fingerprint, &input.path);
        let mut key_origin = vec![0x06];
        key_origin.extend_from_slice(&pk.to_bytes());
        let mut m = Vec::new();
        match input.kind {
            AddressType::P2pkh => {
                let prev = tx_bytes(&[([9; 32], 0)], &[(value, spk)]);
                let txid = Transaction::parse(&prev).expect("prev tx").txid_bytes();
                prevouts.push((txid, 0));
                m.push((vec![0x00], prev));
                m.push((key_origin, who));
            }
            AddressType::P2tr => {
                prevouts.push(([i as u8 + 1; 32], 1));
                m.push((vec![0x01], txout(value, &spk)));
                let mut k = vec![0x16];
                k.extend_from_slice(&pk.x_only());
                let mut v = vec![0x00]; // no leaf hashes: key path
                v.extend_from_slice(&who);
                m.push((k, v));
                m.push((vec![0x17], pk.x_only().to_vec()));
            }
            AddressType::P2shP2wpkh => {
                prevouts.push(([i as u8 + 1; 32], 0));
                m.push((vec![0x01], txout(value, &spk)));
                m.push((vec![0x04], script_pubkey(&pk, AddressType::P2wpkh)));
                m.push((key_origin, who));
            }
            _ => {
                prevouts.push(([i as u8 + 1; 32], 0));
                m.push((vec![0x01], txout(value, &spk)));
                m.push((key_origin, who));
            }
        }
        maps.push(m);
    }
    let first = &inputs[0];
    let change_pk = public(&first.key);
    let change = script_pubkey(&change_pk, AddressType::P2wpkh);
    let payment: Vec<u8> = [0x00, 0x14].into_iter().chain([0xaa; 20]).collect();
    let unsigned = tx_bytes(&prevouts, &[(25_000, payment), (10_000, change)]);
    maps.push(Vec::new());
    let mut change_origin = vec![0x02];
    change_origin.extend_from_slice(&change_pk.to_bytes());
    maps.push(vec![(
        change_origin,
        origin(
            first.fingerprint,
            &[84 | HARDENED, HARDENED, HARDENED, 1, 0],
        ),
    )]);

    let mut out = b"psbt\xff".to_vec();
    out.push(1);
    out.push(0x00);
    compact(&mut out, unsigned.len());
    out.extend_from_slice(&unsigned);
    out.push(0);
    for m in maps {
        for (k, v) in m {
            compact(&mut out, k.len());
            out.extend_from_slice(&k);
            compact(&mut out, v.len());
            out.extend_from_slice(&v);
        }
        out.push(0);
    }
    out
}

// ---- solana -------------------------------------------------------------------

fn compact_u16(out: &mut Vec<u8>, mut v: u16) {
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

/// A transfer from `signer` (legacy or v0 with one address table lookup).
fn solana_message(signer: [u8; 32], v0: bool) -> Vec<u8> {
    let mut m = Vec::new();
    if v0 {
        m.push(0x80);
    }
    m.extend_from_slice(&[1, 0, 1]); // 1 signer, 0 read-only signed, 1 read-only unsigned
    compact_u16(&mut m, 3);
    m.extend_from_slice(&signer);
    m.extend_from_slice(&[2; 32]);
    m.extend_from_slice(&[0; 32]); // the system program
    m.extend_from_slice(&[5; 32]); // recent blockhash
    compact_u16(&mut m, 1);
    m.push(2);
    let accounts: &[u8] = if v0 { &[0, 1, 3] } else { &[0, 1] };
    compact_u16(&mut m, accounts.len() as u16);
    m.extend_from_slice(accounts);
    let mut data = 2u32.to_le_bytes().to_vec(); // SystemInstruction::Transfer
    data.extend_from_slice(&1_000_000u64.to_le_bytes());
    compact_u16(&mut m, data.len() as u16);
    m.extend_from_slice(&data);
    if v0 {
        compact_u16(&mut m, 1);
        m.extend_from_slice(&[6; 32]);
        compact_u16(&mut m, 1);
        m.push(0);
        compact_u16(&mut m, 1);
        m.push(1);
    }
    m
}

fn solana_transaction(message: &[u8]) -> Vec<u8> {
    let mut t = Vec::new();
    compact_u16(&mut t, 1);
    t.extend_from_slice(&[0; 64]);
    t.extend_from_slice(message);
    t
}

fn solana_seeds(signer: [u8; 32]) -> Vec<(&'static str, Vec<u8>)> {
    let legacy = solana_message(signer, false);
    let v0 = solana_message(signer, true);
    let other = solana_message([3; 32], false);
    vec![
        ("legacy-transaction", solana_transaction(&legacy)),
        ("legacy-message", legacy),
        ("v0-transaction", solana_transaction(&v0)),
        ("v0-message", v0),
        ("not-our-signer", solana_transaction(&other)),
    ]
}

/// One instruction of every program the intent decoder knows (so the fuzzer
/// starts from their program ids): ComputeBudget limit and price, a System
/// transfer, Token `TransferChecked`, Token-2022 `Approve`, ATA
/// `CreateIdempotent`, a Memo and a Token `CloseAccount` (undecoded).
fn solana_intent_message(signer: [u8; 32], v0: bool) -> Vec<u8> {
    use wallet_core::solana::{
        ASSOCIATED_TOKEN_PROGRAM, COMPUTE_BUDGET_PROGRAM, MEMO_V2_PROGRAM, SYSTEM_PROGRAM,
        TOKEN_2022_PROGRAM, TOKEN_PROGRAM,
    };
    let mut m = Vec::new();
    if v0 {
        m.push(0x80);
    }
    // Keys: 0 signer, 1 destination, 2 source, 3 mint, 4..=9 the programs
    // (read-only unsigned: the mint and the six programs).
    m.extend_from_slice(&[1, 0, 7]);
    compact_u16(&mut m, 10);
    m.extend_from_slice(&signer);
    m.extend_from_slice(&[2; 32]);
    m.extend_from_slice(&[3; 32]);
    m.extend_from_slice(&[4; 32]);
    for p in [
        SYSTEM_PROGRAM,
        TOKEN_PROGRAM,
        TOKEN_2022_PROGRAM,
        ASSOCIATED_TOKEN_PROGRAM,
        COMPUTE_BUDGET_PROGRAM,
        MEMO_V2_PROGRAM,
    ] {
        m.extend_from_slice(&p.to_bytes());
    }
    m.extend_from_slice(&[5; 32]); // recent blockhash
    let le = |tag: u8, bytes: &[u8]| {
        let mut d = vec![tag];
        d.extend_from_slice(bytes);
        d
    };
    let mut system_transfer = 2u32.to_le_bytes().to_vec();
    system_transfer.extend_from_slice(&1_000_000u64.to_le_bytes());
    let mut checked = le(12, &500u64.to_le_bytes());
    checked.push(6);
    // The v0 form sends the Token-2022 approval to the first lookup account (10).
    let delegate = if v0 { 10 } else { 1 };
    let instructions: Vec<(u8, Vec<u8>, Vec<u8>)> = vec![
        (8, vec![], le(2, &200_000u32.to_le_bytes())),
        (8, vec![], le(3, &5_000u64.to_le_bytes())),
        (4, vec![0, 1], system_transfer),
        (5, vec![2, 3, 1, 0], checked),
        (6, vec![2, delegate, 0], le(4, &7u64.to_le_bytes())),
        (7, vec![0, 1, 0, 3, 4, 5], vec![1]),
        (9, vec![], b"memo".to_vec()),
        (5, vec![2, 0, 0], vec![9]),
    ];
    compact_u16(&mut m, instructions.len() as u16);
    for (program, accounts, data) in instructions {
        m.push(program);
        compact_u16(&mut m, accounts.len() as u16);
        m.extend_from_slice(&accounts);
        compact_u16(&mut m, data.len() as u16);
        m.extend_from_slice(&data);
    }
    if v0 {
        compact_u16(&mut m, 1);
        m.extend_from_slice(&[6; 32]);
        compact_u16(&mut m, 1);
        m.push(0);
        compact_u16(&mut m, 0);
    }
    m
}

fn solana_intent_seeds(signer: [u8; 32]) -> Vec<(&'static str, Vec<u8>)> {
    let legacy = solana_intent_message(signer, false);
    let v0 = solana_intent_message(signer, true);
    vec![
        ("known-programs-transaction", solana_transaction(&legacy)),
        ("known-programs-legacy", legacy),
        ("known-programs-v0", v0),
    ]
}

// ---- strings and JSON -------------------------------------------------------------

fn write_derivation_seeds(write: &impl Fn(&str, &str, &[u8])) {
    let w = HdWallet::from_mnemonic(
        &Mnemonic::parse(ABANDON).expect("mnemonic"),
        &Passphrase::new(""),
    )
    .expect("wallet");
    let account: DerivationPath = "m/84'/0'/0'".parse().expect("path");
    let xpub = w
        .extended_public_key(&account, wallet_core::hd::version::XPUB)
        .expect("xpub")
        .encode();
    for (name, s) in [
        ("master", "m"),
        ("bip44-eth", "m/44'/60'/0'/0/7"),
        ("h-and-H", "m/86h/1H/0h/1/2"),
        ("solana", "m/44'/501'/0'/0'"),
        ("max-index", "m/2147483647'/2147483647"),
        ("xpub", xpub.as_str()),
        ("mnemonic", ABANDON),
    ] {
        write("derivation_path", name, s.as_bytes());
    }
}

fn eip712_mail() -> Value {
    json!({
        "types": {
            "EIP712Domain": [
                {"name": "name", "type": "string"}, {"name": "version", "type": "string"},
                {"name": "chainId", "type": "uint256"},
                {"name": "verifyingContract", "type": "address"}
            ],
            "Person": [{"name": "name", "type": "string"}, {"name": "wallet", "type": "address"}],
            "Mail": [
                {"name": "from", "type": "Person"}, {"name": "to", "type": "Person[]"},
                {"name": "contents", "type": "string"}, {"name": "tags", "type": "bytes32[2]"},
                {"name": "amount", "type": "int128"}, {"name": "ok", "type": "bool"},
                {"name": "blob", "type": "bytes"}
            ]
        },
        "primaryType": "Mail",
        "domain": {
            "name": "Ether Mail", "version": "1", "chainId": 1,
            "verifyingContract": "0xCcCCccccCCCCcCCCCCCcCcCccCcCCCcCcccccccC"
        },
        "message": {
            "from": {"name": "Cow", "wallet": "0xCD2a3d9F938E13CD947Ec05AbC7FE734Df8DD826"},
            "to": [{"name": "Bob", "wallet": "0xbBbBBBBbbBBBbbbBbbBbbbbBBbBbbbbBbBbbBBbB"}],
            "contents": "Hello, Bob!",
            "tags": ["0x0000000000000000000000000000000000000000000000000000000000000001",
                     "0x00000000000000000000000000000000000000000000000000000000000000ff"],
            "amount": "-12345", "ok": true, "blob": "0xdeadbeef"
        }
    })
}

fn eth_transactions() -> Vec<(&'static str, Value)> {
    let to = "0x3535353535353535353535353535353535353535";
    vec![
        (
            "legacy",
            json!({"chain_id": 1, "nonce": 9, "gas_price": "20000000000", "gas_limit": 21000,
                   "to": to, "value": "1000000000000000000"}),
        ),
        (
            "eip2930",
            json!({"type": "eip2930", "chain_id": "0x5", "nonce": "0", "gas_price": "0x3b9aca00",
                   "gas_limit": "50000", "to": to, "data": "0xa9059cbb",
                   "access_list": [{"address": to, "storage_keys":
                       ["0x0000000000000000000000000000000000000000000000000000000000000003"]}]}),
        ),
        (
            "eip1559",
            json!({"chain_id": 1, "nonce": 0, "gas_limit": 21000, "to": to, "value": 1,
                   "max_fee_per_gas": "30000000000", "max_priority_fee_per_gas": "1000000000"}),
        ),
        (
            "create",
            json!({"type": "eip1559", "chain_id": 10, "nonce": 1, "gas_limit": 100000,
                   "max_fee_per_gas": 2, "max_priority_fee_per_gas": 1, "data": "0x6000"}),
        ),
    ]
}

fn write_ethereum_seeds(write: &impl Fn(&str, &str, &[u8])) {
    for (name, tx) in eth_transactions() {
        write("ethereum_transaction", name, tx.to_string().as_bytes());
    }
    write(
        "ethereum_typed_data",
        "mail",
        eip712_mail().to_string().as_bytes(),
    );
    let domain_only = json!({
        "types": {"EIP712Domain": [{"name": "name", "type": "string"}]},
        "primaryType": "EIP712Domain", "domain": {"name": "x"}, "message": {}
    });
    write(
        "ethereum_typed_data",
        "domain-only",
        domain_only.to_string().as_bytes(),
    );
}

/// `ethereum_intent`: mode byte 0, the transaction's `to` (20 bytes) and one
/// canonical call of each recognised method; mode byte 1 and one typed-data
/// document of each recognised standard.
fn write_intent_seeds(write: &impl Fn(&str, &str, &[u8])) {
    let word = |v: u64| {
        let mut w = [0u8; 32];
        w[24..].copy_from_slice(&v.to_be_bytes());
        w
    };
    let addr = |b: u8| {
        let mut w = [0u8; 32];
        w[12..].fill(b);
        w
    };
    let permit2: [u8; 20] = [
        0, 0, 0, 0, 0, 0x22, 0xd4, 0x73, 0x03, 0x0f, 0x11, 0x6d, 0xde, 0xe9, 0xf6, 0xb4, 0x3a,
        0xc7, 0x8b, 0xa3,
    ];
    let calls = [
        (
            "transfer",
            [0xa9, 0x05, 0x9c, 0xbb],
            vec![addr(2), word(1000)],
        ),
        (
            "transfer-from",
            [0x23, 0xb8, 0x72, 0xdd],
            vec![addr(1), addr(2), word(5)],
        ),
        (
            "approve",
            [0x09, 0x5e, 0xa7, 0xb3],
            vec![addr(3), [0xff; 32]],
        ),
        (
            "increase-allowance",
            [0x39, 0x50, 0x93, 0x51],
            vec![addr(3), word(7)],
        ),
        (
            "erc721-safe",
            [0x42, 0x84, 0x2e, 0x0e],
            vec![addr(1), addr(2), word(9)],
        ),
        (
            "erc721-safe-data",
            [0xb8, 0x8d, 0x4f, 0xde],
            vec![addr(1), addr(2), word(9), word(0x80), word(3), {
                let mut w = [0u8; 32];
                w[..3].copy_from_slice(b"abc");
                w
            }],
        ),
        (
            "erc1155-safe",
            [0xf2, 0x42, 0x43, 0x2a],
            vec![addr(1), addr(2), word(4), word(50), word(0xa0), word(0)],
        ),
        (
            "erc1155-batch",
            [0x2e, 0xb2, 0xc2, 0xd6],
            vec![
                addr(1),
                addr(2),
                word(0xa0),
                word(0x100),
                word(0x160),
                word(2),
                word(4),
                word(5),
                word(2),
                word(60),
                word(70),
                word(0),
            ],
        ),
        (
            "set-approval-for-all",
            [0xa2, 0x2c, 0xb4, 0x65],
            vec![addr(4), word(1)],
        ),
        (
            "permit2-approve",
            [0x87, 0x51, 0x7c, 0x45],
            vec![addr(5), addr(6), word(1_000_000), word(1_700_000_000)],
        ),
    ];
    for (name, selector, words) in calls {
        let mut input = vec![0u8];
        if name == "permit2-approve" {
            input.extend_from_slice(&permit2);
        } else {
            input.extend_from_slice(&[0x70; 20]);
        }
        input.extend_from_slice(&selector);
        for w in &words {
            input.extend_from_slice(w);
        }
        write("ethereum_intent", &format!("call-{name}"), &input);
    }

    let member = |n: &str, t: &str| json!({"name": n, "type": t});
    let token_domain = json!({"name": "Token", "version": "1", "chainId": 1,
                              "verifyingContract": "0x7070707070707070707070707070707070707070"});
    let token_domain_type = json!([
        member("name", "string"),
        member("version", "string"),
        member("chainId", "uint256"),
        member("verifyingContract", "address")
    ]);
    let permit2_domain = json!({"name": "Permit2", "chainId": 1,
                                "verifyingContract": "0x000000000022D473030F116dDEE9F6B43aC78BA3"});
    let permit2_domain_type = json!([
        member("name", "string"),
        member("chainId", "uint256"),
        member("verifyingContract", "address")
    ]);
    let a1 = "0x0101010101010101010101010101010101010101";
    let a2 = "0x0202020202020202020202020202020202020202";
    let a5 = "0x0505050505050505050505050505050505050505";
    let details = json!([
        member("token", "address"),
        member("amount", "uint160"),
        member("expiration", "uint48"),
        member("nonce", "uint48")
    ]);
    let permissions = json!([member("token", "address"), member("amount", "uint256")]);
    let auth = json!([
        member("from", "address"),
        member("to", "address"),
        member("value", "uint256"),
        member("validAfter", "uint256"),
        member("validBefore", "uint256"),
        member("nonce", "bytes32")
    ]);
    let detail = json!({"token": a5, "amount": "1000", "expiration": 1, "nonce": 0});
    let permitted = json!({"token": a5, "amount": "1000"});
    let nonce32 = format!("0x{}", "07".repeat(32));
    let docs = [
        (
            "eip2612-permit",
            "Permit",
            &token_domain,
            &token_domain_type,
            json!({"Permit": [member("owner", "address"), member("spender", "address"),
                member("value", "uint256"), member("nonce", "uint256"),
                member("deadline", "uint256")]}),
            json!({"owner": a1, "spender": a2, "value": "1000", "nonce": 0, "deadline": 1}),
        ),
        (
            "dai-permit",
            "Permit",
            &token_domain,
            &token_domain_type,
            json!({"Permit": [member("holder", "address"), member("spender", "address"),
                member("nonce", "uint256"), member("expiry", "uint256"),
                member("allowed", "bool")]}),
            json!({"holder": a1, "spender": a2, "nonce": 0, "expiry": 0, "allowed": true}),
        ),
        (
            "permit2-single",
            "PermitSingle",
            &permit2_domain,
            &permit2_domain_type,
            json!({"PermitSingle": [member("details", "PermitDetails"),
                member("spender", "address"), member("sigDeadline", "uint256")],
                "PermitDetails": details}),
            json!({"details": detail, "spender": a2, "sigDeadline": 1}),
        ),
        (
            "permit2-batch",
            "PermitBatch",
            &permit2_domain,
            &permit2_domain_type,
            json!({"PermitBatch": [member("details", "PermitDetails[]"),
                member("spender", "address"), member("sigDeadline", "uint256")],
                "PermitDetails": details}),
            json!({"details": [detail, detail], "spender": a2, "sigDeadline": 1}),
        ),
        (
            "permit2-transfer",
            "PermitTransferFrom",
            &permit2_domain,
            &permit2_domain_type,
            json!({"PermitTransferFrom": [member("permitted", "TokenPermissions"),
                member("spender", "address"), member("nonce", "uint256"),
                member("deadline", "uint256")],
                "TokenPermissions": permissions}),
            json!({"permitted": permitted, "spender": a2, "nonce": 0, "deadline": 1}),
        ),
        (
            "permit2-batch-transfer",
            "PermitBatchTransferFrom",
            &permit2_domain,
            &permit2_domain_type,
            json!({"PermitBatchTransferFrom": [member("permitted", "TokenPermissions[]"),
                member("spender", "address"), member("nonce", "uint256"),
                member("deadline", "uint256")],
                "TokenPermissions": permissions}),
            json!({"permitted": [permitted, permitted], "spender": a2, "nonce": 0, "deadline": 1}),
        ),
        (
            "eip3009-transfer",
            "TransferWithAuthorization",
            &token_domain,
            &token_domain_type,
            json!({"TransferWithAuthorization": auth}),
            json!({"from": a1, "to": a2, "value": "1000", "validAfter": 0, "validBefore": 1,
                "nonce": nonce32}),
        ),
        (
            "eip3009-receive",
            "ReceiveWithAuthorization",
            &token_domain,
            &token_domain_type,
            json!({"ReceiveWithAuthorization": auth}),
            json!({"from": a1, "to": a2, "value": "1000", "validAfter": 0, "validBefore": 1,
                "nonce": nonce32}),
        ),
    ];
    for (name, primary, domain, domain_type, types, message) in docs {
        let mut types = types;
        types["EIP712Domain"] = domain_type.clone();
        let doc = json!({"types": types, "primaryType": primary, "domain": domain,
                         "message": message});
        let mut input = vec![1u8];
        input.extend_from_slice(doc.to_string().as_bytes());
        write("ethereum_intent", &format!("typed-{name}"), &input);
    }
}

fn write_env_seeds(write: &impl Fn(&str, &str, &[u8])) {
    let pem = vault_plugin_crypto::serve::tls::Identity::generate()
        .expect("certificate")
        .cert_pem();
    let cookie = vault_plugin_crypto::serve::env_cookie();
    let full = [
        format!("VAULT_BACKEND_PLUGIN={cookie}"),
        "PLUGIN_PROTOCOL_VERSIONS=4,5".into(),
        format!("PLUGIN_CLIENT_CERT={pem}"),
        "PLUGIN_UNIX_SOCKET_DIR=/run/x".into(),
        "PLUGIN_UNIX_SOCKET_GROUP=".into(),
        "PLUGIN_MULTIPLEX_GRPC=true".into(),
        "CRYPTO_PLUGIN_CONNECT_TIMEOUT=30".into(),
    ];
    write("plugin_env", "full", full.join("\0").as_bytes());
    write("plugin_env", "minimal", full[..3].join("\0").as_bytes());
    write("plugin_env", "no-cert", full[..2].join("\0").as_bytes());
}

// ---- backend requests ----------------------------------------------------------------

fn write_backend_seeds(write: &impl Fn(&str, &str, &[u8])) {
    let b64 = |b: &[u8]| base64::engine::general_purpose::STANDARD.encode(b);
    let w = HdWallet::from_mnemonic(
        &Mnemonic::parse(ABANDON).expect("mnemonic"),
        &Passphrase::new(""),
    )
    .expect("wallet");
    let derive = |p: &str| {
        w.derive_secp256k1(&p.parse().expect("path"))
            .expect("derive")
            .to_k256()
    };
    let hd_psbt = psbt(&[
        Input {
            key: derive("m/84'/0'/0'/0/0"),
            fingerprint: w.master_fingerprint(),
            path: vec![84 | HARDENED, HARDENED, HARDENED, 0, 0],
            kind: AddressType::P2wpkh,
        },
        Input {
            key: derive("m/86'/0'/0'/0/0"),
            fingerprint: w.master_fingerprint(),
            path: vec![86 | HARDENED, HARDENED, HARDENED, 0, 0],
            kind: AddressType::P2tr,
        },
    ]);
    // "plain" is the abandon mnemonic with the passphrase TREZOR (another
    // master key), and has a bitcoin policy.
    let plain = HdWallet::from_mnemonic(
        &Mnemonic::parse(ABANDON).expect("mnemonic"),
        &Passphrase::new("TREZOR"),
    )
    .expect("wallet");
    let plain_psbt = psbt(&[Input {
        key: plain
            .derive_secp256k1(&"m/49'/0'/0'/0/3".parse().expect("path"))
            .expect("derive")
            .to_k256(),
        fingerprint: plain.master_fingerprint(),
        path: vec![49 | HARDENED, HARDENED, HARDENED, 0, 3],
        kind: AddressType::P2shP2wpkh,
    }]);
    let hd_sol = w
        .derive_ed25519(&"m/44'/501'/0'/0'".parse().expect("path"))
        .expect("derive")
        .public_key()
        .to_bytes();
    let ed_sol = Ed25519PrivateKey::from_bytes(&hex32(
        "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
    ))
    .public_key()
    .to_bytes();
    let txs = eth_transactions();
    let tx = |i: usize| txs[i].1.clone();

    // (name, operation, index into backend::paths(), {name}, {chain}, body)
    let seeds: Vec<(&str, &str, usize, &str, &str, Value)> = vec![
        ("list", "list", 0, "", "", Value::Null),
        ("wallet-read", "read", 1, "hd", "", Value::Null),
        (
            "wallet-generate",
            "update",
            1,
            "new",
            "",
            json!({"words": 12}),
        ),
        (
            "wallet-import",
            "update",
            1,
            "imp",
            "",
            json!({"mnemonic": ABANDON, "passphrase": "x", "exportable": "true"}),
        ),
        (
            "wallet-import-key",
            "update",
            1,
            "key",
            "",
            json!({"curve": "secp256k1",
                   "private_key": "0x4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318"}),
        ),
        (
            "wallet-flags",
            "update",
            1,
            "plain",
            "",
            json!({"deletion_allowed": 1, "allow_raw_signing": "false"}),
        ),
        ("wallet-delete", "delete", 1, "hd", "", Value::Null),
        ("policy-read", "read", 2, "plain", "ethereum", Value::Null),
        (
            "policy-write",
            "update",
            2,
            "hd",
            "bitcoin",
            json!({"allowed_recipients": "bc1qcr8te4kr609gcawutmrza0j4xv80jy8z306fyu",
                   "max_value_per_tx": 100000, "max_value_per_day": ""}),
        ),
        (
            "policy-delete",
            "delete",
            2,
            "plain",
            "bitcoin",
            Value::Null,
        ),
        ("export", "read", 3, "hd", "", Value::Null),
        (
            "xpub",
            "read",
            4,
            "hd",
            "",
            json!({"chain": "bitcoin", "address_type": "p2tr", "network": "testnet", "account": 1}),
        ),
        (
            "addresses-eth",
            "read",
            5,
            "hd",
            "ethereum",
            json!({"count": 3, "index": 2}),
        ),
        (
            "addresses-btc",
            "read",
            5,
            "plain",
            "bitcoin",
            json!({"address_type": "p2sh-p2wpkh", "change": 1, "network": "regtest"}),
        ),
        (
            "addresses-sol",
            "read",
            5,
            "hd",
            "solana",
            json!({"path": "m/44'/501'/1'/0'"}),
        ),
        ("eth-tx-1559", "update", 6, "hd", "", tx(2)),
        ("eth-tx-legacy-policy", "update", 6, "plain", "", tx(0)),
        ("eth-tx-2930", "update", 6, "k1", "", tx(1)),
        (
            "eth-message",
            "update",
            7,
            "hd",
            "",
            json!({"message": "hello", "index": 1}),
        ),
        (
            "eth-message-hex",
            "update",
            7,
            "k1",
            "",
            json!({"message_hex": "0x00ff"}),
        ),
        (
            "eth-typed",
            "update",
            8,
            "hd",
            "",
            json!({"typed_data": eip712_mail()}),
        ),
        (
            "eth-typed-string",
            "update",
            8,
            "plain",
            "",
            json!({"typed_data": eip712_mail().to_string()}),
        ),
        (
            "btc-psbt",
            "update",
            9,
            "hd",
            "",
            json!({"psbt": b64(&hd_psbt), "finalize": true}),
        ),
        (
            "btc-psbt-policy",
            "update",
            9,
            "plain",
            "",
            json!({"psbt": b64(&plain_psbt), "network": "bitcoin"}),
        ),
        (
            "sol-message",
            "update",
            10,
            "hd",
            "",
            json!({"message": b64(b"hello")}),
        ),
        (
            "sol-tx",
            "update",
            11,
            "hd",
            "",
            json!({"transaction": b64(&solana_transaction(&solana_message(hd_sol, false)))}),
        ),
        (
            "sol-tx-v0-key",
            "update",
            11,
            "ed",
            "",
            json!({"transaction": b64(&solana_message(ed_sol, true))}),
        ),
        (
            "sign-hash",
            "update",
            12,
            "hd",
            "",
            json!({"chain": "ethereum", "hash": format!("0x{}", "11".repeat(32))}),
        ),
        (
            "sign-hash-ed",
            "update",
            12,
            "ed",
            "",
            json!({"chain": "solana", "hash": "0x68656c6c6f"}),
        ),
        ("help", "help", 9, "hd", "", Value::Null),
    ];
    for (name, op, path, wallet, chain, body) in seeds {
        let body = if body.is_null() {
            String::new()
        } else {
            body.to_string()
        };
        let text = format!("{op}\n{path}\n{wallet}\n{chain}\n{body}");
        write("backend_request", name, text.as_bytes());
    }
}

fn hex32(s: &str) -> [u8; 32] {
    let mut out = [0u8; 32];
    for (i, b) in out.iter_mut().enumerate() {
        *b = u8::from_str_radix(&s[2 * i..2 * i + 2], 16).expect("hex");
    }
    out
}
