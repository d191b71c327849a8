//! Bitcoin multisig co-signing (issue 14) through a real server: BIP-48
//! account export, a 2-of-3 `sortedmulti` P2WSH and P2SH-P2WSH PSBT built
//! with rust-bitcoin (two keys in two wallets of the engine, one the
//! test's own), co-signed, finalized and verified script by script by
//! Bitcoin Core's interpreter (`libbitcoinconsensus` through rust-bitcoin's
//! `bitcoinconsensus` feature: P2SH, DERSIG, NULLDUMMY, CHECKLOCKTIMEVERIFY,
//! CHECKSEQUENCEVERIFY and WITNESS rules), and input by input with
//! rust-bitcoin's BIP-143 sighash and libsecp256k1 (the witness and
//! scriptSig layout, key order, low S); the policy on the whole
//! transaction, and "change" that is not the same multisig.

mod engine_common;

use std::str::FromStr;

use base64::Engine as _;
use bitcoin::bip32::{DerivationPath, Fingerprint, Xpriv, Xpub};
use bitcoin::hashes::Hash;
use bitcoin::opcodes::all::OP_CHECKMULTISIG;
use bitcoin::psbt::{Psbt, PsbtSighashType};
use bitcoin::script::Builder;
use bitcoin::secp256k1::{Message, PublicKey, Secp256k1, SecretKey};
use bitcoin::sighash::{EcdsaSighashType, SighashCache};
use bitcoin::transaction::Version;
use bitcoin::{
    Amount, OutPoint, ScriptBuf, Sequence, Transaction, TxIn, TxOut, Witness, consensus,
};
use engine_common::{
    ABANDON, B64, Engine, expect_400_naming, expect_403_naming, foreign_address, seed, st,
};
use integration_tests::Reply;
use serde_json::{Value, json};

const LEGAL: &str = "legal winner thank year wave sausage worth useful legal winner thank yellow";

/// A cosigner's BIP-48 account, derived with rust-bitcoin.
#[derive(Clone)]
struct Cosigner {
    master: Xpriv,
    fp: Fingerprint,
    account: DerivationPath,
    xpub: Xpub,
}

fn cosigner(seed: &[u8], script_type: u32) -> Cosigner {
    let secp = Secp256k1::new();
    let master = Xpriv::new_master(bitcoin::NetworkKind::Main, seed).expect("master");
    let account = DerivationPath::from_str(&format!("m/48'/0'/0'/{script_type}'")).expect("path");
    let xpriv = master.derive_priv(&secp, &account).expect("derive");
    Cosigner {
        fp: master.fingerprint(&secp),
        master,
        account,
        xpub: Xpub::from_priv(&secp, &xpriv),
    }
}

impl Cosigner {
    fn path(&self, chain: u32, index: u32) -> DerivationPath {
        self.account.extend([
            bitcoin::bip32::ChildNumber::from_normal_idx(chain).expect("chain"),
            bitcoin::bip32::ChildNumber::from_normal_idx(index).expect("index"),
        ])
    }
    fn key(&self, chain: u32, index: u32) -> PublicKey {
        let secp = Secp256k1::new();
        self.master
            .derive_priv(&secp, &self.path(chain, index))
            .expect("derive")
            .private_key
            .public_key(&secp)
    }
    fn secret(&self, chain: u32, index: u32) -> SecretKey {
        self.master
            .derive_priv(&Secp256k1::new(), &self.path(chain, index))
            .expect("derive")
            .private_key
    }
}

/// `multi(m, keys)` (sorted first for `sortedmulti`), by rust-bitcoin's builder.
fn ms_script(m: i64, keys: &[PublicKey], sorted: bool) -> ScriptBuf {
    let mut keys = keys.to_vec();
    if sorted {
        keys.sort_by_key(|k| k.serialize());
    }
    let mut b = Builder::new().push_int(m);
    for k in &keys {
        b = b.push_key(&bitcoin::PublicKey::new(*k));
    }
    b.push_int(keys.len() as i64)
        .push_opcode(OP_CHECKMULTISIG)
        .into_script()
}

fn spk_of(ws: &ScriptBuf, nested: bool) -> (ScriptBuf, Option<ScriptBuf>) {
    let wsh = ScriptBuf::new_p2wsh(&ws.wscript_hash());
    if nested {
        (ScriptBuf::new_p2sh(&wsh.script_hash()), Some(wsh))
    } else {
        (wsh, None)
    }
}

/// A multisig output (`chain`/`index` of each cosigner) with its PSBT fields.
fn ms_output(
    cos: &[&Cosigner],
    m: i64,
    chain: u32,
    index: u32,
    nested: bool,
) -> (ScriptBuf, bitcoin::psbt::Output) {
    let keys: Vec<PublicKey> = cos.iter().map(|c| c.key(chain, index)).collect();
    let ws = ms_script(m, &keys, true);
    let (spk, redeem) = spk_of(&ws, nested);
    let mut out = bitcoin::psbt::Output {
        witness_script: Some(ws),
        redeem_script: redeem,
        ..Default::default()
    };
    for c in cos {
        out.bip32_derivation
            .insert(c.key(chain, index), (c.fp, c.path(chain, index)));
    }
    (spk, out)
}

struct Spend {
    psbt: Psbt,
    prevouts: Vec<TxOut>,
    ws: ScriptBuf,
}

/// One 2-of-3 input of `sats` at `…/0/0` of `cos`, paying `pays`, with an
/// optional change output to `change` cosigners at `…/1/0`; every
/// cosigner in `xpubs` listed as a global xpub.
fn spend(
    cos: &[&Cosigner],
    nested: bool,
    sats: u64,
    pays: &[(String, u64)],
    change: Option<(&[&Cosigner], u64)>,
    xpubs: &[&Cosigner],
) -> Spend {
    let keys: Vec<PublicKey> = cos.iter().map(|c| c.key(0, 0)).collect();
    let ws = ms_script(2, &keys, true);
    let (spk, redeem) = spk_of(&ws, nested);
    let prevout = TxOut {
        value: Amount::from_sat(sats),
        script_pubkey: spk,
    };
    let prev_tx = Transaction {
        version: Version::TWO,
        lock_time: bitcoin::absolute::LockTime::from_consensus(1),
        input: vec![TxIn {
            previous_output: OutPoint::null(),
            script_sig: ScriptBuf::new(),
            sequence: Sequence::MAX,
            witness: Witness::new(),
        }],
        output: vec![prevout.clone()],
    };
    let mut tx = Transaction {
        version: Version::TWO,
        lock_time: bitcoin::absolute::LockTime::ZERO,
        input: vec![TxIn {
            previous_output: OutPoint {
                txid: prev_tx.compute_txid(),
                vout: 0,
            },
            script_sig: ScriptBuf::new(),
            sequence: Sequence::ENABLE_RBF_NO_LOCKTIME,
            witness: Witness::new(),
        }],
        output: vec![],
    };
    let mut outputs = Vec::new();
    for (a, v) in pays {
        let a = bitcoin::Address::from_str(a)
            .expect("address")
            .assume_checked();
        tx.output.push(TxOut {
            value: Amount::from_sat(*v),
            script_pubkey: a.script_pubkey(),
        });
        outputs.push(bitcoin::psbt::Output::default());
    }
    if let Some((ccos, v)) = change {
        let (spk, out) = ms_output(ccos, 2, 1, 0, nested);
        tx.output.push(TxOut {
            value: Amount::from_sat(v),
            script_pubkey: spk,
        });
        outputs.push(out);
    }
    let mut psbt = Psbt::from_unsigned_tx(tx).expect("unsigned");
    let input = &mut psbt.inputs[0];
    input.non_witness_utxo = Some(prev_tx);
    input.witness_utxo = Some(prevout.clone());
    input.witness_script = Some(ws.clone());
    input.redeem_script = redeem;
    for c in cos {
        input
            .bip32_derivation
            .insert(c.key(0, 0), (c.fp, c.path(0, 0)));
    }
    psbt.outputs = outputs;
    for c in xpubs {
        psbt.xpub.insert(c.xpub, (c.fp, c.account.clone()));
    }
    Spend {
        psbt,
        prevouts: vec![prevout],
        ws,
    }
}

fn b64(p: &Psbt) -> String {
    B64.encode(p.serialize())
}

fn parse(r: &Reply) -> Psbt {
    Psbt::deserialize(&B64.decode(st(r.data(), "psbt")).expect("base64")).expect("psbt")
}

fn sign(e: &Engine, w: &str, p: &Psbt, finalize: bool) -> Reply {
    e.write(
        &format!("crypto/wallets/{w}/bitcoin/sign-psbt"),
        json!({"psbt": b64(p), "finalize": finalize}),
    )
}

/// The three cosigners: the engine's wallets "a" (abandon…) and "b"
/// (legal winner…), and the test's own key.
fn three(script_type: u32) -> (Cosigner, Cosigner, Cosigner) {
    (
        cosigner(&seed(ABANDON, ""), script_type),
        cosigner(&seed(LEGAL, ""), script_type),
        cosigner(&[0x42; 32], script_type),
    )
}

fn wallets(e: &Engine) {
    e.abandon("a", json!({}));
    e.import_hd("b", LEGAL, json!({}));
}

/// The test's own partial signature on input 0 (BIP-143, SIGHASH_ALL).
fn add_own_sig(p: &mut Psbt, c: &Cosigner, ws: &ScriptBuf, amount: Amount) {
    let h = SighashCache::new(&p.unsigned_tx)
        .p2wsh_signature_hash(0, ws, amount, EcdsaSighashType::All)
        .expect("sighash");
    let sig =
        Secp256k1::new().sign_ecdsa(&Message::from_digest(h.to_byte_array()), &c.secret(0, 0));
    p.inputs[0].partial_sigs.insert(
        bitcoin::PublicKey::new(c.key(0, 0)),
        bitcoin::ecdsa::Signature {
            signature: sig,
            sighash_type: EcdsaSighashType::All,
        },
    );
}

/// Verifies the finalized input 0 as CHECKMULTISIG would: the witness is
/// [empty, sig…, witness script], the script hashes to the spent output
/// (through the scriptSig's redeem script for P2SH-P2WSH), and the
/// signatures, low-S with SIGHASH_ALL, verify over rust-bitcoin's BIP-143
/// digest against the script's keys in order, `signers` of them.
#[track_caller]
fn verify_multisig(
    tx: &Transaction,
    prevouts: &[TxOut],
    ws: &ScriptBuf,
    signers: &[PublicKey],
    nested: bool,
) {
    // Bitcoin Core's script interpreter first: the whole spend, as a node
    // would run it (`prevouts` are the transaction's inputs, in order).
    bitcoin::consensus::validation::verify_transaction(tx, |op| {
        tx.input
            .iter()
            .position(|i| i.previous_output == *op)
            .and_then(|n| prevouts.get(n).cloned())
    })
    .expect("libbitcoinconsensus accepts every input's script");
    // The interpreter can refuse: the same spend with one signature's last
    // byte before the sighash flag changed fails.
    let mut forged = tx.clone();
    let mut items: Vec<Vec<u8>> = forged.input[0].witness.iter().map(<[u8]>::to_vec).collect();
    let sig = &mut items[1];
    let at = sig.len() - 2;
    sig[at] ^= 1;
    forged.input[0].witness = bitcoin::Witness::from_slice(&items);
    assert!(
        bitcoin::consensus::validation::verify_transaction(&forged, |op| {
            forged
                .input
                .iter()
                .position(|i| i.previous_output == *op)
                .and_then(|n| prevouts.get(n).cloned())
        })
        .is_err(),
        "a changed signature must fail the interpreter"
    );
    let secp = Secp256k1::verification_only();
    let input = &tx.input[0];
    let w: Vec<&[u8]> = input.witness.iter().collect();
    assert_eq!(w.len(), 2 + signers.len(), "witness {:?}", input.witness);
    assert!(w[0].is_empty(), "the CHECKMULTISIG dummy must be empty");
    assert_eq!(w[w.len() - 1], ws.as_bytes(), "witness script last");
    let (spk, redeem) = spk_of(ws, nested);
    assert_eq!(prevouts[0].script_pubkey, spk);
    match redeem {
        Some(r) => {
            let push = Builder::new()
                .push_slice(<&bitcoin::script::PushBytes>::try_from(r.as_bytes()).expect("push"))
                .into_script();
            assert_eq!(input.script_sig, push, "P2SH-P2WSH scriptSig");
        }
        None => assert!(input.script_sig.is_empty()),
    }
    // Script key order.
    let mut script_keys: Vec<PublicKey> = Vec::new();
    for ins in ws.instructions() {
        if let Ok(bitcoin::script::Instruction::PushBytes(b)) = ins
            && b.len() == 33
        {
            script_keys.push(PublicKey::from_slice(b.as_bytes()).expect("key"));
        }
    }
    assert_eq!(script_keys.len(), 3);
    let h = SighashCache::new(tx)
        .p2wsh_signature_hash(0, ws, prevouts[0].value, EcdsaSighashType::All)
        .expect("sighash");
    let msg = Message::from_digest(h.to_byte_array());
    let expected: Vec<&PublicKey> = script_keys.iter().filter(|k| signers.contains(k)).collect();
    for (sig_bytes, key) in w[1..w.len() - 1].iter().zip(expected) {
        let sig = bitcoin::ecdsa::Signature::from_slice(sig_bytes).expect("DER signature");
        assert_eq!(sig.sighash_type, EcdsaSighashType::All);
        let mut low = sig.signature;
        low.normalize_s();
        assert_eq!(low, sig.signature, "high S");
        secp.verify_ecdsa(&msg, &sig.signature, key)
            .expect("signature in script key order verifies");
    }
}

fn multisig_status(r: &Reply) -> Value {
    r.data()["multisig"][0].clone()
}

#[test]
fn bip48_account_export_matches_rust_bitcoin() {
    let e = Engine::start();
    wallets(&e);
    for (ty, script_type, network, coin) in [
        ("p2wsh-multisig", 2, "bitcoin", 0),
        ("p2sh-p2wsh-multisig", 1, "bitcoin", 0),
        ("p2wsh-multisig", 2, "testnet", 1),
    ] {
        let r = e.get(&format!(
            "crypto/wallets/a/xpub?chain=bitcoin&address_type={ty}&network={network}&account=3"
        ));
        r.expect_status(200);
        let d = r.data();
        let secp = Secp256k1::new();
        let kind = if coin == 0 {
            bitcoin::NetworkKind::Main
        } else {
            bitcoin::NetworkKind::Test
        };
        let master = Xpriv::new_master(kind, &seed(ABANDON, "")).expect("master");
        let path = format!("m/48'/{coin}'/3'/{script_type}'");
        let x = Xpub::from_priv(
            &secp,
            &master
                .derive_priv(&secp, &DerivationPath::from_str(&path).expect("path"))
                .expect("derive"),
        );
        assert_eq!(st(d, "xpub"), x.to_string(), "{ty} {network}");
        assert!(st(d, "xpub").starts_with(if coin == 0 { "xpub" } else { "tpub" }));
        assert_eq!(st(d, "path"), path);
        assert_eq!(
            st(d, "descriptor_key"),
            format!("[73c5da0a/48'/{coin}'/3'/{script_type}']{x}/<0;1>/*")
        );
        assert_eq!(st(d, "address_type"), ty);
        assert!(
            d.get("descriptor").is_none(),
            "no single-key descriptor: {d}"
        );
    }
    // Not for ethereum.
    let r = e.get("crypto/wallets/a/xpub?chain=ethereum&address_type=p2wsh-multisig");
    expect_400_naming(&r, "address_type");
}

#[test]
fn two_of_three_p2wsh_is_cosigned_by_two_wallets_and_finalized() {
    let e = Engine::start();
    wallets(&e);
    for nested in [false, true] {
        let (a, b, c) = three(if nested { 1 } else { 2 });
        let s = spend(
            &[&a, &b, &c],
            nested,
            100_000,
            &[(foreign_address(0), 60_000)],
            Some((&[&a, &b, &c], 39_000)),
            &[&a, &b, &c],
        );
        // Wallet a: one signature of two, partial.
        let r = sign(&e, "a", &s.psbt, true);
        r.expect_status(200);
        let m = multisig_status(&r);
        assert_eq!(m["threshold"], 2);
        assert_eq!(m["keys"], 3);
        assert_eq!(m["valid_signatures"], 1);
        assert_eq!(m["status"], "partial", "{m}");
        assert!(r.data().get("transaction").is_none());
        // The change output is recognized (same multisig, internal chain).
        let outs = &r.data()["intent"]["outputs"];
        assert_eq!(outs[0]["change"], false, "{outs}");
        assert_eq!(outs[1]["change"], true, "{outs}");
        let estimated = r.data()["intent"]["estimated_vsize"]
            .as_u64()
            .expect("vsize");
        let after_a = parse(&r);
        assert_eq!(after_a.inputs[0].partial_sigs.len(), 1);
        // Wallet b co-signs and finalizes.
        let r = sign(&e, "b", &after_a, true);
        r.expect_status(200);
        let m = multisig_status(&r);
        assert_eq!(m["valid_signatures"], 2);
        assert_eq!(m["finalized"], true);
        let raw = hex::decode(st(r.data(), "transaction")).expect("hex");
        let tx: Transaction = consensus::deserialize(&raw).expect("transaction");
        assert_eq!(st(r.data(), "txid"), tx.compute_txid().to_string());
        verify_multisig(&tx, &s.prevouts, &s.ws, &[a.key(0, 0), b.key(0, 0)], nested);
        // The policy's size estimate (71-byte signatures) is within 1 vB.
        let actual = tx.vsize() as u64;
        eprintln!("nested={nested}: estimated {estimated} vB, actual {actual} vB");
        assert!(estimated.abs_diff(actual) <= 1, "{estimated} vs {actual}");
    }
}

#[test]
fn the_tests_own_signature_is_verified_before_it_counts() {
    let e = Engine::start();
    wallets(&e);
    let (a, b, c) = three(2);
    let s = spend(
        &[&a, &b, &c],
        false,
        100_000,
        &[(foreign_address(0), 99_000)],
        None,
        &[],
    );
    // A forged signature for c (over another message) does not count.
    let mut forged = s.psbt.clone();
    let sig = Secp256k1::new().sign_ecdsa(&Message::from_digest([7; 32]), &c.secret(0, 0));
    forged.inputs[0].partial_sigs.insert(
        bitcoin::PublicKey::new(c.key(0, 0)),
        bitcoin::ecdsa::Signature {
            signature: sig,
            sighash_type: EcdsaSighashType::All,
        },
    );
    let r = sign(&e, "a", &forged, true);
    r.expect_status(200);
    assert_eq!(multisig_status(&r)["valid_signatures"], 1);
    assert_eq!(multisig_status(&r)["status"], "partial");
    assert!(r.data().get("transaction").is_none());
    // The real one completes it: a and the test's key.
    let mut p = s.psbt.clone();
    add_own_sig(&mut p, &c, &s.ws, s.prevouts[0].value);
    let r = sign(&e, "a", &p, true);
    r.expect_status(200);
    assert_eq!(multisig_status(&r)["finalized"], true);
    let tx: Transaction =
        consensus::deserialize(&hex::decode(st(r.data(), "transaction")).expect("hex"))
            .expect("tx");
    verify_multisig(&tx, &s.prevouts, &s.ws, &[a.key(0, 0), c.key(0, 0)], false);
}

fn set_policy(e: &Engine, w: &str, body: Value) {
    let r = e.write(&format!("crypto/policies/{w}/bitcoin"), body);
    assert!(matches!(r.status, 200 | 204), "policy of {w}: {}", r.body);
}

#[test]
fn policy_covers_the_whole_multisig_transaction() {
    let e = Engine::start();
    wallets(&e);
    let payee = foreign_address(0);
    set_policy(
        &e,
        "a",
        json!({"allowed_recipients": [payee.as_str()], "max_value_per_tx": "70000", "max_fee": "5000"}),
    );
    let (a, b, c) = three(2);
    let all = [&a, &b, &c];
    // Positive control: payee + recognized change, fee 1 000.
    let s = spend(
        &all,
        false,
        100_000,
        &[(payee.clone(), 60_000)],
        Some((&all, 39_000)),
        &all,
    );
    let r = sign(&e, "a", &s.psbt, false);
    r.expect_status(200);
    assert_eq!(r.data()["intent"]["outputs"][1]["change"], true);

    // Recipient not allowed.
    let s = spend(
        &all,
        false,
        100_000,
        &[(foreign_address(1), 60_000)],
        Some((&all, 39_000)),
        &all,
    );
    expect_403_naming(&sign(&e, "a", &s.psbt, false), "allowed_recipients");
    // Fee above the limit (payee 60 000, change 30 000: fee 10 000).
    let s = spend(
        &all,
        false,
        100_000,
        &[(payee.clone(), 60_000)],
        Some((&all, 30_000)),
        &all,
    );
    expect_403_naming(&sign(&e, "a", &s.psbt, false), "max_fee");
    // Value: the payee gets 80 000 > 70 000.
    let s = spend(
        &all,
        false,
        100_000,
        &[(payee.clone(), 80_000)],
        Some((&all, 19_000)),
        &all,
    );
    expect_403_naming(&sign(&e, "a", &s.psbt, false), "max_value_per_tx");
    // Sighash NONE is not in the policy.
    let mut s = spend(
        &all,
        false,
        100_000,
        &[(payee.clone(), 60_000)],
        Some((&all, 39_000)),
        &all,
    );
    s.psbt.inputs[0].sighash_type = Some(PsbtSighashType::from(EcdsaSighashType::None));
    expect_403_naming(&sign(&e, "a", &s.psbt, false), "allowed_sighash_types");
    // Amounts unproven (witness UTXO only) under a value limit.
    let mut s = spend(
        &all,
        false,
        100_000,
        &[(payee.clone(), 60_000)],
        Some((&all, 39_000)),
        &all,
    );
    s.psbt.inputs[0].non_witness_utxo = None;
    expect_403_naming(&sign(&e, "a", &s.psbt, false), "proven_amounts");
}

/// "Change" that is not the same multisig counts as a payment: the policy
/// allows only the payee, so each of these is refused for its change
/// output, while the same PSBT with the true change passes (above).
#[test]
fn fake_change_is_a_recipient() {
    let e = Engine::start();
    wallets(&e);
    let payee = foreign_address(0);
    set_policy(&e, "a", json!({"allowed_recipients": [payee.as_str()]}));
    let (a, b, c) = three(2);
    let x = cosigner(&[0x66; 32], 2);
    let y = cosigner(&[0x67; 32], 2);
    let all = [&a, &b, &c];
    let pays = [(payee.clone(), 60_000)];
    let refused = |p: &Psbt, what: &str| {
        let r = sign(&e, "a", p, false);
        assert_eq!(r.status, 403, "{what}: {}", r.body);
        assert!(
            r.errors().contains("allowed_recipients"),
            "{what}: {}",
            r.body
        );
        assert!(r.errors().contains("output 1"), "{what}: {}", r.body);
    };
    // 2-of-3 with two attacker keys (their xpubs listed too).
    let s = spend(
        &all,
        false,
        100_000,
        &pays,
        Some((&[&a, &x, &y], 39_000)),
        &[&a, &b, &c, &x, &y],
    );
    refused(&s.psbt, "two attacker keys");
    // One cosigner replaced by an attacker.
    let s = spend(
        &all,
        false,
        100_000,
        &pays,
        Some((&[&a, &b, &x], 39_000)),
        &[&a, &b, &c, &x],
    );
    refused(&s.psbt, "one attacker key");
    // The true cosigners, but their xpubs are missing: unproven.
    let s = spend(&all, false, 100_000, &pays, Some((&all, 39_000)), &[&a]);
    refused(&s.psbt, "no global xpubs");
    // The attacker's key named with the cosigner's origin, the attacker's
    // xpub listed under that origin beside the true one.
    let mut s = spend(
        &all,
        false,
        100_000,
        &pays,
        Some((&[&a, &b, &x], 39_000)),
        &all,
    );
    s.psbt.outputs[1]
        .bip32_derivation
        .insert(x.key(1, 0), (c.fp, c.path(1, 0)));
    s.psbt.xpub.insert(x.xpub, (c.fp, c.account.clone()));
    refused(&s.psbt, "attacker key under the cosigner's origin");
    // On the external chain (…/0/5) instead of …/1/i.
    let mut s = spend(&all, false, 100_000, &pays, None, &all);
    let (spk, out) = ms_output(&all, 2, 0, 5, false);
    s.psbt.unsigned_tx.output.push(TxOut {
        value: Amount::from_sat(39_000),
        script_pubkey: spk,
    });
    s.psbt.outputs.push(out);
    refused(&s.psbt, "external chain");
    // 1-of-3 instead of 2-of-3 (same keys).
    let mut s = spend(&all, false, 100_000, &pays, Some((&all, 39_000)), &all);
    let keys: Vec<PublicKey> = all.iter().map(|k| k.key(1, 0)).collect();
    let ws = ms_script(1, &keys, true);
    s.psbt.unsigned_tx.output[1].script_pubkey = spk_of(&ws, false).0;
    s.psbt.outputs[1].witness_script = Some(ws);
    refused(&s.psbt, "lower threshold");
    // P2SH-P2WSH change for a P2WSH wallet.
    let mut s = spend(&all, false, 100_000, &pays, Some((&all, 39_000)), &all);
    let ws = s.psbt.outputs[1].witness_script.clone().expect("ws");
    s.psbt.unsigned_tx.output[1].script_pubkey = spk_of(&ws, true).0;
    refused(&s.psbt, "other script type");
}

#[test]
fn malformed_multisig_inputs_are_refused_or_not_signed() {
    let e = Engine::start();
    wallets(&e);
    let (a, b, c) = three(2);
    let all = [&a, &b, &c];
    let pays = [(foreign_address(0), 99_000)];
    // The witness script does not hash to the spent output.
    let mut s = spend(&all, false, 100_000, &pays, None, &all);
    let keys: Vec<PublicKey> = all.iter().map(|k| k.key(0, 1)).collect();
    s.psbt.inputs[0].witness_script = Some(ms_script(2, &keys, true));
    let r = sign(&e, "a", &s.psbt, false);
    expect_400_naming(&r, "psbt");
    assert!(
        r.errors().contains("witness script does not match"),
        "{}",
        r.body
    );

    // P2SH-P2WSH whose redeem script is the P2WSH of another script.
    let (na, nb, nc) = three(1);
    let mut s = spend(&[&na, &nb, &nc], true, 100_000, &pays, None, &[]);
    let other = ms_script(2, &[na.key(0, 1), nb.key(0, 1), nc.key(0, 1)], true);
    s.psbt.inputs[0].redeem_script = Some(ScriptBuf::new_p2wsh(&other.wscript_hash()));
    let r = sign(&e, "a", &s.psbt, false);
    expect_400_naming(&r, "psbt");
    assert!(
        r.errors().contains("redeem script does not match"),
        "{}",
        r.body
    );
    // The right redeem script but another witness script.
    let mut s = spend(&[&na, &nb, &nc], true, 100_000, &pays, None, &[]);
    s.psbt.inputs[0].witness_script = Some(other);
    let r = sign(&e, "a", &s.psbt, false);
    expect_400_naming(&r, "psbt");
    assert!(
        r.errors().contains("witness script does not match"),
        "{}",
        r.body
    );

    // Our fingerprint with a path whose key is not the listed one: not ours.
    let mut s = spend(&all, false, 100_000, &pays, None, &all);
    let ak = a.key(0, 0);
    s.psbt.inputs[0]
        .bip32_derivation
        .insert(ak, (a.fp, a.path(0, 1)));
    let r = sign(&e, "a", &s.psbt, false);
    expect_400_naming(&r, "psbt");
    assert!(r.errors().contains("no input"), "{}", r.body);

    // Scripts we refuse to sign, each committed to by a matching output.
    let with_script = |ws: ScriptBuf| {
        let mut s = spend(&all, false, 100_000, &pays, None, &all);
        let spk = spk_of(&ws, false).0;
        s.psbt.inputs[0]
            .witness_utxo
            .as_mut()
            .expect("utxo")
            .script_pubkey = spk.clone();
        s.psbt.inputs[0]
            .non_witness_utxo
            .as_mut()
            .expect("tx")
            .output[0]
            .script_pubkey = spk;
        // The prevout txid changes with the previous transaction.
        s.psbt.unsigned_tx.input[0].previous_output.txid = s.psbt.inputs[0]
            .non_witness_utxo
            .as_ref()
            .expect("tx")
            .compute_txid();
        s.psbt.inputs[0].witness_script = Some(ws);
        s.psbt
    };
    let (ka, kb) = (a.key(0, 0), b.key(0, 0));
    for (what, ws, reason) in [
        ("duplicate key", ms_script(2, &[ka, ka, kb], false), "twice"),
        ("m > n", ms_script(3, &[ka, kb], false), "threshold"),
        (
            "uncompressed key",
            Builder::new()
                .push_int(1)
                .push_key(&bitcoin::PublicKey::new(ka))
                .push_key(&bitcoin::PublicKey::new_uncompressed(kb))
                .push_int(2)
                .push_opcode(OP_CHECKMULTISIG)
                .into_script(),
            "uncompressed",
        ),
    ] {
        let r = sign(&e, "a", &with_script(ws), false);
        expect_400_naming(&r, "psbt");
        assert!(r.errors().contains(reason), "{what}: {}", r.body);
    }
}

/// An input of another multisig holding our key, beside the wallet's own:
/// "change" to that other multisig would move the wallet's funds into it,
/// so with mixed inputs no output is multisig change.
#[test]
fn mixed_multisig_inputs_have_no_multisig_change() {
    let e = Engine::start();
    wallets(&e);
    let payee = foreign_address(0);
    set_policy(&e, "a", json!({"allowed_recipients": [payee.as_str()]}));
    let (a, b, c) = three(2);
    let x = cosigner(&[0x66; 32], 2);
    let y = cosigner(&[0x67; 32], 2);
    let all = [&a, &b, &c];
    let other = [&a, &x, &y];
    // The wallet's input, change to the other multisig.
    let mut s = spend(
        &all,
        false,
        100_000,
        &[(payee.clone(), 60_000)],
        Some((&other, 39_000)),
        &[&a, &b, &c, &x, &y],
    );
    // Control: alone, that change is a recipient already.
    expect_403_naming(&sign(&e, "a", &s.psbt, false), "allowed_recipients");
    // Add a dust input from the other multisig (a/0/0, x/0/0, y/0/0).
    let o = spend(&other, false, 1_000, &[], None, &[]);
    s.psbt
        .unsigned_tx
        .input
        .push(o.psbt.unsigned_tx.input[0].clone());
    s.psbt.inputs.push(o.psbt.inputs[0].clone());
    // Both inputs have lock time 1 previous transactions with different
    // outputs, so their txids differ.
    assert_ne!(
        s.psbt.unsigned_tx.input[0].previous_output,
        s.psbt.unsigned_tx.input[1].previous_output
    );
    expect_403_naming(&sign(&e, "a", &s.psbt, false), "allowed_recipients");
    // Positive control: the other multisig spending alone to itself is
    // its own change.
    let s = spend(
        &other,
        false,
        100_000,
        &[(payee.clone(), 60_000)],
        Some((&other, 39_000)),
        &other,
    );
    let r = sign(&e, "a", &s.psbt, false);
    r.expect_status(200);
    assert_eq!(r.data()["intent"]["outputs"][1]["change"], true);
}

// ---------------------------------------------------------------------------
// PSBT v2 (BIP-370): rust-bitcoin 0.32 writes only v0, so the test converts
// its PSBT to v2 by the BIP's field list, independently of the plugin.

type Kv = Vec<(Vec<u8>, Vec<u8>)>;

fn compact(out: &mut Vec<u8>, n: usize) {
    match n {
        0..=0xfc => out.push(n as u8),
        0xfd..=0xffff => {
            out.push(0xfd);
            out.extend_from_slice(&(n as u16).to_le_bytes());
        }
        _ => {
            out.push(0xfe);
            out.extend_from_slice(&(n as u32).to_le_bytes());
        }
    }
}

fn read_compact(b: &[u8], pos: &mut usize) -> usize {
    let first = b[*pos];
    *pos += 1;
    let (len, n) = match first {
        0xfd => (2, u16::from_le_bytes([b[*pos], b[*pos + 1]]) as usize),
        0xfe => (
            4,
            u32::from_le_bytes([b[*pos], b[*pos + 1], b[*pos + 2], b[*pos + 3]]) as usize,
        ),
        n => (0, n as usize),
    };
    *pos += len;
    n
}

/// The key-value maps of a serialized PSBT (global first).
fn maps(b: &[u8]) -> Vec<Kv> {
    assert_eq!(&b[..5], b"psbt\xff");
    let mut pos = 5;
    let mut out = Vec::new();
    while pos < b.len() {
        let mut m = Kv::new();
        loop {
            let kl = read_compact(b, &mut pos);
            if kl == 0 {
                break;
            }
            let k = b[pos..pos + kl].to_vec();
            pos += kl;
            let vl = read_compact(b, &mut pos);
            let v = b[pos..pos + vl].to_vec();
            pos += vl;
            m.push((k, v));
        }
        out.push(m);
    }
    out
}

fn write_maps(ms: &[Kv]) -> Vec<u8> {
    let mut out = b"psbt\xff".to_vec();
    for m in ms {
        for (k, v) in m {
            compact(&mut out, k.len());
            out.extend_from_slice(k);
            compact(&mut out, v.len());
            out.extend_from_slice(v);
        }
        out.push(0);
    }
    out
}

/// BIP-370 v2 form of a v0 PSBT: the unsigned transaction's fields move
/// into PSBT_GLOBAL_TX_VERSION, _FALLBACK_LOCKTIME, _INPUT_COUNT,
/// _OUTPUT_COUNT, PSBT_IN_PREVIOUS_TXID, _OUTPUT_INDEX, _SEQUENCE,
/// PSBT_OUT_AMOUNT and _SCRIPT; PSBT_GLOBAL_VERSION is 2.
fn to_v2(p: &Psbt) -> String {
    let ms = maps(&p.serialize());
    let tx = &p.unsigned_tx;
    let (nin, nout) = (tx.input.len(), tx.output.len());
    let mut global: Kv = ms[0]
        .iter()
        .filter(|(k, _)| k[0] != 0x00 && k[0] != 0xfb)
        .cloned()
        .collect();
    let mut cin = Vec::new();
    compact(&mut cin, nin);
    let mut cout = Vec::new();
    compact(&mut cout, nout);
    global.push((vec![0x02], tx.version.0.to_le_bytes().to_vec()));
    global.push((
        vec![0x03],
        tx.lock_time.to_consensus_u32().to_le_bytes().to_vec(),
    ));
    global.push((vec![0x04], cin));
    global.push((vec![0x05], cout));
    global.push((vec![0xfb], 2u32.to_le_bytes().to_vec()));
    let mut out = vec![global];
    for (i, txin) in tx.input.iter().enumerate() {
        let mut m = ms[1 + i].clone();
        m.push((
            vec![0x0e],
            txin.previous_output.txid.to_byte_array().to_vec(),
        ));
        m.push((vec![0x0f], txin.previous_output.vout.to_le_bytes().to_vec()));
        m.push((vec![0x10], txin.sequence.0.to_le_bytes().to_vec()));
        out.push(m);
    }
    for (i, o) in tx.output.iter().enumerate() {
        let mut m = ms[1 + nin + i].clone();
        m.push((vec![0x03], o.value.to_sat().to_le_bytes().to_vec()));
        m.push((vec![0x04], o.script_pubkey.to_bytes()));
        out.push(m);
    }
    B64.encode(write_maps(&out))
}

#[test]
fn a_psbt_v2_is_cosigned_and_answered_in_v2() {
    let e = Engine::start();
    wallets(&e);
    let payee = foreign_address(0);
    set_policy(&e, "a", json!({"allowed_recipients": [payee.as_str()]}));
    let (a, b, c) = three(2);
    let all = [&a, &b, &c];
    let s = spend(
        &all,
        false,
        100_000,
        &[(payee.clone(), 60_000)],
        Some((&all, 39_000)),
        &all,
    );
    let v2 = to_v2(&s.psbt);
    let sign_v2 = |w: &str, psbt: &str| {
        e.write(
            &format!("crypto/wallets/{w}/bitcoin/sign-psbt"),
            json!({"psbt": psbt, "finalize": true}),
        )
    };
    let r = sign_v2("a", &v2);
    r.expect_status(200);
    assert_eq!(r.data()["intent"]["outputs"][1]["change"], true);
    assert_eq!(multisig_status(&r)["status"], "partial");
    let after_a = st(r.data(), "psbt").to_string();
    let ms = maps(&B64.decode(&after_a).expect("base64"));
    let g = &ms[0];
    assert!(g.iter().all(|(k, _)| k[0] != 0x00), "no unsigned tx in v2");
    assert!(
        g.contains(&(vec![0xfb], vec![2, 0, 0, 0])),
        "answered in v2"
    );
    // The v2 fields of the input are kept; our partial signature added.
    assert!(ms[1].iter().any(|(k, _)| k[0] == 0x0e));
    assert!(ms[1].iter().any(|(k, _)| k[0] == 0x02 && k.len() == 34));
    let r = sign_v2("b", &after_a);
    r.expect_status(200);
    assert_eq!(multisig_status(&r)["finalized"], true);
    let tx: Transaction =
        consensus::deserialize(&hex::decode(st(r.data(), "transaction")).expect("hex"))
            .expect("tx");
    // The same transaction as the v0 form describes.
    assert_eq!(tx.compute_txid(), s.psbt.unsigned_tx.compute_txid());
    verify_multisig(&tx, &s.prevouts, &s.ws, &[a.key(0, 0), b.key(0, 0)], false);

    // Policy still applies: the recipient is not allowed.
    let s = spend(
        &all,
        false,
        100_000,
        &[(foreign_address(1), 60_000)],
        Some((&all, 39_000)),
        &all,
    );
    expect_403_naming(&sign_v2("a", &to_v2(&s.psbt)), "allowed_recipients");
    // A v2 PSBT with an unsigned tx, or without an input count, is a 400.
    let mut bad = maps(&B64.decode(to_v2(&s.psbt)).expect("b64"));
    bad[0].retain(|(k, _)| k[0] != 0x04);
    expect_400_naming(&sign_v2("a", &B64.encode(write_maps(&bad))), "psbt");
    let mut bad = maps(&B64.decode(to_v2(&s.psbt)).expect("b64"));
    bad[0].insert(0, (vec![0x00], consensus::serialize(&s.psbt.unsigned_tx)));
    expect_400_naming(&sign_v2("a", &B64.encode(write_maps(&bad))), "psbt");
    // Version 1 is refused.
    let mut bad = maps(&B64.decode(to_v2(&s.psbt)).expect("b64"));
    for (k, v) in bad[0].iter_mut() {
        if k[0] == 0xfb {
            *v = vec![1, 0, 0, 0];
        }
    }
    expect_400_naming(&sign_v2("a", &B64.encode(write_maps(&bad))), "psbt");
}
