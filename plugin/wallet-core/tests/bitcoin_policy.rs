//! What the Bitcoin policy relies on: sighash types refused unless allowed,
//! proven input amounts and the fee, change only on the wallet's internal
//! chain, recipients as scripts, and the size estimate. PSBTs are built
//! with rust-bitcoin and read by our parser.
#![allow(clippy::unwrap_used)]

mod btc_common;

use bitcoin::ScriptBuf;
use bitcoin::psbt::{Input, Output};
use btc_common::*;
use k256::ecdsa::SigningKey;
use wallet_core::bitcoin::{
    AddressType, BitcoinError, MAX_CHANGE_INDEX, Network, NetworkFamily, PsbtSummary, SignOptions,
    parse_sighash_name, script_from_address, sighash_name, sign_psbt, summarize_psbt,
};

const SEED: [u8; 32] = [7; 32];

fn stranger() -> ScriptBuf {
    let mut s = vec![0x00, 0x14];
    s.extend_from_slice(&[0xaa; 20]);
    ScriptBuf::from_bytes(s)
}

/// One P2WPKH input of ours (100 000 sat, witness UTXO only), a payment of
/// 60 000 and change of 30 000 at `m/84'/0'/0'/1/0`.
fn simple(hd: &Hd, input: Input) -> bitcoin::psbt::Psbt {
    let (change_spk, change) = our_output(hd, "m/84'/0'/0'/1/0", AddressType::P2wpkh);
    psbt(
        unsigned_tx(
            &[outpoint(1)],
            vec![txout(60_000, stranger()), txout(30_000, change_spk)],
        ),
        vec![input],
        vec![Output::default(), change],
    )
}

fn p2wpkh_input(hd: &Hd) -> Input {
    our_input(hd, "m/84'/0'/0'/0/0", AddressType::P2wpkh, 100_000)
}

// ---- sighash types ----

#[test]
fn sighash_names_round_trip_and_nothing_else_parses() {
    let all = [0x00, 0x01, 0x02, 0x03, 0x81, 0x82, 0x83];
    for t in all {
        let name = sighash_name(t).unwrap();
        assert_eq!(parse_sighash_name(name), Some(t), "{name}");
    }
    assert_eq!(sighash_name(0x82), Some("NONE|ANYONECANPAY"));
    assert_eq!(parse_sighash_name("DEFAULT"), Some(0));
    for t in [0x04, 0x80, 0x84, 0x101, 0x41] {
        assert_eq!(sighash_name(t), None, "{t:#x}");
    }
    for bad in ["all", "SIGHASH_ALL", "ALL|ACP", " ALL", "ANYONECANPAY", ""] {
        assert_eq!(parse_sighash_name(bad), None, "{bad:?}");
    }
}

#[test]
fn none_single_and_anyonecanpay_are_refused_by_default_and_signed_when_listed() {
    let hd = Hd::new(&SEED);
    for t in [0x02, 0x03, 0x81, 0x82, 0x83] {
        let p = ours(&simple(&hd, with_sighash(p2wpkh_input(&hd), t)));
        let e = sign_psbt(&p, &hd, &SignOptions::default()).unwrap_err();
        assert_eq!(
            e,
            BitcoinError::SighashNotAllowed {
                index: 0,
                sighash: t
            }
        );
        let name = format!("SIGHASH_{}", sighash_name(t).unwrap());
        assert_eq!(
            e.to_string(),
            format!("input 0: sighash type {name} is not allowed")
        );
        // Another type listed does not allow this one.
        let other = if t == 0x02 { 0x03 } else { 0x02 };
        let opts = SignOptions {
            allowed_sighash: vec![other],
            ..Default::default()
        };
        assert!(matches!(
            sign_psbt(&p, &hd, &opts),
            Err(BitcoinError::SighashNotAllowed { .. })
        ));
        let opts = SignOptions {
            allowed_sighash: vec![t],
            ..Default::default()
        };
        let signed = sign_psbt(&p, &hd, &opts).unwrap();
        assert_eq!(signed.signed_inputs, vec![0]);
        let b = bitcoin::psbt::Psbt::deserialize(&signed.psbt.serialize()).unwrap();
        let sig = b.inputs[0].partial_sigs.values().next().unwrap();
        assert_eq!(sig.sighash_type.to_u32(), t);
    }
    // ALL, explicit or absent, is always allowed.
    for input in [with_sighash(p2wpkh_input(&hd), 0x01), p2wpkh_input(&hd)] {
        let p = ours(&simple(&hd, input));
        assert!(sign_psbt(&p, &hd, &SignOptions::default()).is_ok());
    }
    // The error message names unknown values in hex.
    let e = BitcoinError::SighashNotAllowed {
        index: 3,
        sighash: 0x42,
    };
    assert_eq!(
        e.to_string(),
        "input 3: sighash type 0x00000042 is not allowed"
    );
}

#[test]
fn taproot_default_and_all_are_allowed_others_are_not() {
    let hd = Hd::new(&SEED);
    let tap = || our_input(&hd, "m/86'/0'/0'/0/0", AddressType::P2tr, 100_000);
    for (input, ok) in [
        (tap(), true),
        (with_sighash(tap(), 0x00), true),
        (with_sighash(tap(), 0x01), true),
        (with_sighash(tap(), 0x02), false),
        (with_sighash(tap(), 0x03), false),
        (with_sighash(tap(), 0x81), false),
    ] {
        let p = ours(&simple(&hd, input));
        assert_eq!(sign_psbt(&p, &hd, &SignOptions::default()).is_ok(), ok);
    }
    // DEFAULT is taproot-only: on an ECDSA input it stays unsupported even
    // when listed.
    let p = ours(&simple(&hd, with_sighash(p2wpkh_input(&hd), 0x00)));
    let opts = SignOptions {
        allowed_sighash: vec![0x00],
        ..Default::default()
    };
    let e = sign_psbt(&p, &hd, &opts).unwrap_err();
    assert!(e.to_string().ends_with("unsupported sighash type"), "{e}");
}

/// The check runs before any key is even derived: a refused PSBT never
/// has a signature made for any of its inputs, not even the allowed ones.
#[test]
fn a_refused_sighash_stops_the_signer_before_any_signature() {
    let hd = Hd::new(&SEED);
    let (change_spk, change) = our_output(&hd, "m/84'/0'/0'/1/0", AddressType::P2wpkh);
    let p = psbt(
        unsigned_tx(
            &[outpoint(1), outpoint(2)],
            vec![txout(60_000, stranger()), txout(30_000, change_spk)],
        ),
        vec![
            p2wpkh_input(&hd),
            with_sighash(
                our_input(&hd, "m/84'/0'/0'/0/1", AddressType::P2wpkh, 5_000),
                0x02,
            ),
        ],
        vec![Output::default(), change],
    );
    let e = sign_psbt(&ours(&p), &hd, &SignOptions::default()).unwrap_err();
    assert_eq!(
        e,
        BitcoinError::SighashNotAllowed {
            index: 1,
            sighash: 2
        }
    );
    assert_eq!(hd.signing_keys_given.get(), 0, "a private key was derived");
    // Positive control: allowed, both inputs are signed.
    let opts = SignOptions {
        allowed_sighash: vec![0x02],
        ..Default::default()
    };
    assert_eq!(
        sign_psbt(&ours(&p), &hd, &opts).unwrap().signed_inputs,
        vec![0, 1]
    );
    assert_eq!(hd.signing_keys_given.get(), 2);
}

/// A foreign input asking for NONE is not ours to refuse: we do not sign it.
#[test]
fn foreign_inputs_sighash_types_do_not_matter() {
    let hd = Hd::new(&SEED);
    let other = Hd::new(&[8; 32]);
    let (change_spk, change) = our_output(&hd, "m/84'/0'/0'/1/0", AddressType::P2wpkh);
    let p = psbt(
        unsigned_tx(
            &[outpoint(1), outpoint(2)],
            vec![txout(60_000, stranger()), txout(30_000, change_spk)],
        ),
        vec![
            p2wpkh_input(&hd),
            with_sighash(
                our_input(&other, "m/84'/0'/0'/0/1", AddressType::P2wpkh, 5_000),
                0x02,
            ),
        ],
        vec![Output::default(), change],
    );
    let s = sign_psbt(&ours(&p), &hd, &SignOptions::default()).unwrap();
    assert_eq!(s.signed_inputs, vec![0]);
}

// ---- amounts and fee ----

fn summary(p: &bitcoin::psbt::Psbt, hd: &Hd) -> PsbtSummary {
    summarize_psbt(&ours(p), hd, Network::Bitcoin).unwrap()
}

#[test]
fn segwit_v0_with_only_a_witness_utxo_is_not_proven() {
    let hd = Hd::new(&SEED);
    let s = summary(&simple(&hd, p2wpkh_input(&hd)), &hd);
    assert!(!s.amounts_proven);
    assert_eq!(s.fee, Some(10_000));
    assert_eq!(s.spend_value, 60_000);
    let i = &s.inputs[0];
    assert_eq!(i.amount, Some(100_000));
    assert!(!i.amount_from_prev_tx);
    assert!(i.ours);
    assert!(!i.is_taproot);
    assert_eq!(i.sighash, None);
    assert_eq!(i.script_pubkey.as_deref().unwrap()[..2], [0x00, 0x14]);
}

#[test]
fn segwit_v0_with_the_previous_transaction_is_proven() {
    let hd = Hd::new(&SEED);
    let pk = hd.pk("m/84'/0'/0'/0/0");
    let (prev, op) = prev_tx(txout(100_000, spk(&pk, AddressType::P2wpkh)), 2, 9);
    let mut input = with_sighash(p2wpkh_input(&hd), 0x01);
    input.non_witness_utxo = Some(prev);
    let (change_spk, change) = our_output(&hd, "m/84'/0'/0'/1/0", AddressType::P2wpkh);
    let p = psbt(
        unsigned_tx(
            &[op],
            vec![txout(60_000, stranger()), txout(30_000, change_spk)],
        ),
        vec![input],
        vec![Output::default(), change],
    );
    let s = summary(&p, &hd);
    assert!(s.amounts_proven);
    assert!(s.inputs[0].amount_from_prev_tx);
    assert_eq!(s.inputs[0].sighash, Some(1));
    assert_eq!(s.fee, Some(10_000));
}

/// A previous transaction that is not the prevout's proves nothing; for a
/// foreign input its amount is unknown, so is the fee.
#[test]
fn a_previous_transaction_with_another_txid_proves_nothing() {
    let hd = Hd::new(&SEED);
    let (prev, _) = prev_tx(txout(5_000, stranger()), 0, 9);
    let foreign = Input {
        non_witness_utxo: Some(prev),
        ..Default::default()
    };
    let (change_spk, change) = our_output(&hd, "m/84'/0'/0'/1/0", AddressType::P2wpkh);
    let p = psbt(
        unsigned_tx(
            &[outpoint(1), outpoint(2)],
            vec![txout(60_000, stranger()), txout(30_000, change_spk)],
        ),
        vec![p2wpkh_input(&hd), foreign],
        vec![Output::default(), change],
    );
    let s = summary(&p, &hd);
    assert_eq!(s.inputs[1].amount, None);
    assert!(!s.inputs[1].amount_from_prev_tx);
    assert!(!s.inputs[1].ours);
    assert_eq!(s.fee, None);
    assert!(!s.amounts_proven);
}

/// Two inputs: a segwit v0 one with only a witness UTXO, and a taproot one.
fn v0_and_taproot(hd: &Hd, v0_type: Option<u32>, tap_type: Option<u32>, tap: &Hd) -> PsbtSummary {
    let v0 = p2wpkh_input(hd);
    let t = our_input(tap, "m/86'/0'/0'/0/0", AddressType::P2tr, 50_000);
    let (change_spk, change) = our_output(hd, "m/84'/0'/0'/1/0", AddressType::P2wpkh);
    let p = psbt(
        unsigned_tx(
            &[outpoint(1), outpoint(2)],
            vec![txout(60_000, stranger()), txout(80_000, change_spk)],
        ),
        vec![
            match v0_type {
                Some(x) => with_sighash(v0, x),
                None => v0,
            },
            match tap_type {
                Some(x) => with_sighash(t, x),
                None => t,
            },
        ],
        vec![Output::default(), change],
    );
    summary(&p, hd)
}

#[test]
fn a_taproot_signature_of_ours_without_anyonecanpay_proves_every_amount() {
    let hd = Hd::new(&SEED);
    for tap_type in [None, Some(0x00), Some(0x01), Some(0x02), Some(0x03)] {
        let s = v0_and_taproot(&hd, None, tap_type, &hd);
        assert!(s.amounts_proven, "{tap_type:?}");
        assert!(s.inputs[1].is_taproot && s.inputs[1].ours);
        assert_eq!(s.fee, Some(10_000));
    }
}

#[test]
fn taproot_with_anyonecanpay_proves_nothing() {
    let hd = Hd::new(&SEED);
    for tap_type in [0x81, 0x82, 0x83] {
        assert!(!v0_and_taproot(&hd, None, Some(tap_type), &hd).amounts_proven);
    }
}

/// Found here: with the taproot rule as first stated ("one of our inputs is
/// taproot without ANYONECANPAY"), an ANYONECANPAY signature on another of
/// our inputs could be lifted into a transaction without the taproot input,
/// whose amounts nobody then proves (CVE-2020-14199 across two requests).
#[test]
fn an_anyonecanpay_signature_of_ours_beside_taproot_proves_nothing() {
    let hd = Hd::new(&SEED);
    for v0_type in [0x81, 0x82, 0x83] {
        assert!(!v0_and_taproot(&hd, Some(v0_type), None, &hd).amounts_proven);
    }
    // NONE and SINGLE without ANYONECANPAY still commit to every prevout.
    for v0_type in [0x02, 0x03] {
        assert!(v0_and_taproot(&hd, Some(v0_type), None, &hd).amounts_proven);
    }
}

#[test]
fn a_taproot_input_that_is_not_ours_proves_nothing() {
    let hd = Hd::new(&SEED);
    let other = Hd::new(&[8; 32]);
    let s = v0_and_taproot(&hd, None, None, &other);
    assert!(s.inputs[1].is_taproot && !s.inputs[1].ours);
    assert!(!s.amounts_proven);
}

#[test]
fn outputs_above_inputs_are_an_error_and_a_missing_amount_is_no_fee() {
    let hd = Hd::new(&SEED);
    let mut p = simple(&hd, p2wpkh_input(&hd));
    p.unsigned_tx.output[0].value = bitcoin::Amount::from_sat(70_001);
    assert_eq!(
        summarize_psbt(&ours(&p), &hd, Network::Bitcoin),
        Err(BitcoinError::InvalidTransaction("outputs exceed inputs"))
    );
    p.unsigned_tx.output[0].value = bitcoin::Amount::from_sat(70_000);
    assert_eq!(summary(&p, &hd).fee, Some(0));

    let (change_spk, change) = our_output(&hd, "m/84'/0'/0'/1/0", AddressType::P2wpkh);
    let p = psbt(
        unsigned_tx(
            &[outpoint(1), outpoint(2)],
            vec![txout(60_000, stranger()), txout(30_000, change_spk)],
        ),
        vec![p2wpkh_input(&hd), Input::default()],
        vec![Output::default(), change],
    );
    let s = summary(&p, &hd);
    assert_eq!(s.fee, None);
    assert_eq!(s.inputs[1].amount, None);
    assert_eq!(s.inputs[1].script_pubkey, None);
    assert!(!s.amounts_proven);
}

// ---- change ----

/// Outputs paying our keys at these paths and types: which are change.
fn change_flags(hd: &dyn Fn() -> Hd, outs: &[(&str, AddressType)], network: Network) -> Vec<bool> {
    let hd = hd();
    let mut scripts = Vec::new();
    let mut maps = Vec::new();
    for (p, t) in outs {
        let (s, o) = our_output(&hd, p, *t);
        scripts.push(txout(1_000, s));
        maps.push(o);
    }
    let p = psbt(
        unsigned_tx(&[outpoint(1)], scripts),
        vec![p2wpkh_input(&hd)],
        maps,
    );
    let s = summarize_psbt(&ours(&p), &hd, network).unwrap();
    s.outputs.iter().map(|o| o.is_change).collect()
}

#[test]
fn change_is_only_on_the_internal_chain_of_the_matching_purpose() {
    let hd = || Hd::new(&SEED);
    use AddressType::*;
    let max = format!("m/84'/0'/0'/1/{}", MAX_CHANGE_INDEX - 1);
    let over = format!("m/84'/0'/0'/1/{MAX_CHANGE_INDEX}");
    let cases: Vec<(&str, AddressType, bool)> = vec![
        ("m/84'/0'/0'/1/5", P2wpkh, true),
        ("m/49'/0'/0'/1/5", P2shP2wpkh, true),
        ("m/44'/0'/0'/1/5", P2pkh, true),
        ("m/86'/0'/0'/1/5", P2tr, true),
        ("m/84'/0'/7'/1/0", P2wpkh, true),
        (&max, P2wpkh, true),
        // external chain
        ("m/84'/0'/0'/0/5", P2wpkh, false),
        ("m/86'/0'/0'/0/5", P2tr, false),
        // purpose does not match the script type
        ("m/44'/0'/0'/1/5", P2wpkh, false),
        ("m/84'/0'/0'/1/5", P2pkh, false),
        ("m/84'/0'/0'/1/5", P2tr, false),
        ("m/86'/0'/0'/1/5", P2wpkh, false),
        ("m/49'/0'/0'/1/5", P2wpkh, false),
        // index at or above the bound, or hardened
        (&over, P2wpkh, false),
        ("m/84'/0'/0'/1/5'", P2wpkh, false),
        // deeper, shallower, unhardened levels
        ("m/84'/0'/0'/1/5/0", P2wpkh, false),
        ("m/84'/0'/0'/1", P2wpkh, false),
        ("m/84'/0'/0/1/5", P2wpkh, false),
        ("m/84/0'/0'/1/5", P2wpkh, false),
        ("m/84'/0/0'/1/5", P2wpkh, false),
        ("m/84'/0'/0'/1'/5", P2wpkh, false),
        ("m/84'/0'/0'/2/5", P2wpkh, false),
        // coin type of another network
        ("m/84'/1'/0'/1/5", P2wpkh, false),
        // the master key of an HD wallet
        ("m", P2wpkh, false),
    ];
    let outs: Vec<(&str, AddressType)> = cases.iter().map(|(p, t, _)| (*p, *t)).collect();
    let want: Vec<bool> = cases.iter().map(|c| c.2).collect();
    let got = change_flags(&hd, &outs, Network::Bitcoin);
    for (i, c) in cases.iter().enumerate() {
        assert_eq!(got[i], want[i], "{c:?}");
    }
}

#[test]
fn the_coin_type_follows_the_network() {
    let hd = || Hd::new(&SEED);
    let outs = [
        ("m/84'/1'/0'/1/5", AddressType::P2wpkh),
        ("m/84'/0'/0'/1/5", AddressType::P2wpkh),
    ];
    assert_eq!(change_flags(&hd, &outs, Network::Bitcoin), [false, true]);
    for n in [Network::Testnet, Network::Signet, Network::Regtest] {
        assert_eq!(change_flags(&hd, &outs, n), [true, false]);
    }
}

/// The listed key must be the one derived at the path, and the script that
/// key's: the path alone makes nothing change.
#[test]
fn a_right_path_with_another_key_or_script_is_a_recipient() {
    let hd = Hd::new(&SEED);
    let other = Hd::new(&[8; 32]);
    // our fingerprint and a change path, but another wallet's key
    let (s1, mut o1) = our_output(&other, "m/84'/0'/0'/1/0", AddressType::P2wpkh);
    let pk = other.pk("m/84'/0'/0'/1/0");
    o1.bip32_derivation
        .insert(btc_pk(&pk), origin(hd.fp(), &path("m/84'/0'/0'/1/0")));
    // our key and path, paying a stranger's script
    let (_, o2) = our_output(&hd, "m/84'/0'/0'/1/1", AddressType::P2wpkh);
    let p = psbt(
        unsigned_tx(
            &[outpoint(1)],
            vec![txout(1_000, s1), txout(1_000, stranger())],
        ),
        vec![p2wpkh_input(&hd)],
        vec![o1, o2],
    );
    let s = summary(&p, &hd);
    assert_eq!(
        s.outputs.iter().map(|o| o.is_change).collect::<Vec<_>>(),
        [false, false]
    );
    assert_eq!(s.spend_value, 2_000);
}

#[test]
fn a_key_wallet_recognises_change_to_its_own_key_at_m_only() {
    let key = SingleKey(SigningKey::from_slice(&[0x33; 32]).unwrap());
    let pk = key.pk();
    let fp = bitcoin::secp256k1::PublicKey::from_slice(&pk.to_bytes()).unwrap();
    let mut outputs = Vec::new();
    let mut maps = Vec::new();
    for (t, p) in [
        (AddressType::P2wpkh, "m"),
        (AddressType::P2tr, "m"),
        (AddressType::P2pkh, "m"),
        (AddressType::P2wpkh, "m/84'/0'/0'/1/0"),
    ] {
        let mut o = Output::default();
        let ks = origin(
            wallet_core::bitcoin::Secp256k1KeySource::master_fingerprint(&key),
            &path(p),
        );
        if t == AddressType::P2tr {
            o.tap_key_origins.insert(btc_xonly(&pk), (Vec::new(), ks));
        } else {
            o.bip32_derivation.insert(fp, ks);
        }
        outputs.push(txout(1_000, spk(&pk, t)));
        maps.push(o);
    }
    let mut input = Input {
        witness_utxo: Some(txout(10_000, spk(&pk, AddressType::P2wpkh))),
        ..Default::default()
    };
    input.bip32_derivation.insert(
        fp,
        origin(
            wallet_core::bitcoin::Secp256k1KeySource::master_fingerprint(&key),
            &[],
        ),
    );
    let p = psbt(unsigned_tx(&[outpoint(1)], outputs), vec![input], maps);
    let s = summarize_psbt(&ours(&p), &key, Network::Bitcoin).unwrap();
    assert_eq!(
        s.outputs.iter().map(|o| o.is_change).collect::<Vec<_>>(),
        [true, true, true, false]
    );
    assert!(s.inputs[0].ours);
}

// ---- recipients as scripts ----

#[test]
fn the_same_program_on_any_network_is_the_same_recipient() {
    // BIP-350's P2WPKH vector (upper case in the BIP), and the same
    // program as our encoder writes it for every network: one script.
    let (main, fm) = script_from_address("BC1QW508D6QEJXTDG4Y5R3ZARVARY0C5XW7KV8F3T4").unwrap();
    assert_eq!(
        hex::encode(&main),
        "0014751e76e8199196d454941c45d1b3a323f1433bd6"
    );
    assert_eq!(fm, NetworkFamily::Main);
    for n in [Network::Testnet, Network::Signet, Network::Regtest] {
        let text = wallet_core::bitcoin::address_from_script(&main, n).unwrap();
        assert!(
            text.starts_with("tb1q") || text.starts_with("bcrt1q"),
            "{text}"
        );
        assert_eq!(
            script_from_address(&text).unwrap(),
            (main.clone(), NetworkFamily::Test)
        );
    }
    let lower = "BC1QW508D6QEJXTDG4Y5R3ZARVARY0C5XW7KV8F3T4".to_ascii_lowercase();
    assert_eq!(script_from_address(&lower).unwrap().0, main);
    // Mixed case, a bech32m checksum on v0, a wrong hrp: refused.
    for bad in [
        "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kV8f3t4",
        "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t5",
        "ltc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4",
        "",
    ] {
        assert!(
            matches!(
                script_from_address(bad),
                Err(BitcoinError::InvalidAddress(_))
            ),
            "{bad}"
        );
    }
    let long = "1".repeat(91);
    assert_eq!(
        script_from_address(&long),
        Err(BitcoinError::InvalidAddress("longer than 90 characters"))
    );
}

// ---- work bound ----

/// A key wallet that counts every key it derives, public or private.
struct Counting(SingleKey, std::cell::Cell<usize>);

impl wallet_core::bitcoin::Secp256k1KeySource for Counting {
    fn master_fingerprint(&self) -> [u8; 4] {
        self.0.master_fingerprint()
    }
    fn derive_signing_key(&self, p: &[u32]) -> Result<SigningKey, BitcoinError> {
        self.1.set(self.1.get() + 1);
        self.0.derive_signing_key(p)
    }
    fn is_single_key(&self) -> bool {
        true
    }
}

/// `n` P2WPKH inputs of a key wallet (witness UTXOs only) and one output.
fn many_inputs(key: &SingleKey, n: usize) -> wallet_core::bitcoin::Psbt {
    ours(&many_inputs_btc(key, n))
}

/// The same, as rust-bitcoin builds it (before our parser reads it).
fn many_inputs_btc(key: &SingleKey, n: usize) -> bitcoin::psbt::Psbt {
    use wallet_core::bitcoin::Secp256k1KeySource as _;
    let pk = key.pk();
    let input = || {
        let mut i = Input {
            witness_utxo: Some(txout(1_000, spk(&pk, AddressType::P2wpkh))),
            ..Default::default()
        };
        i.bip32_derivation
            .insert(btc_pk(&pk), origin(key.master_fingerprint(), &[]));
        i
    };
    let prevouts: Vec<bitcoin::OutPoint> = (0..n)
        .map(|k| bitcoin::OutPoint {
            txid: <bitcoin::Txid as bitcoin::hashes::Hash>::from_byte_array([1; 32]),
            vout: k as u32,
        })
        .collect();
    psbt(
        unsigned_tx(&prevouts, vec![txout(1_000, stranger())]),
        (0..n).map(|_| input()).collect(),
        vec![Output::default()],
    )
}

/// Signing is quadratic in the transaction (each input's sighash reads all
/// of it), so the signer refuses transactions nodes would not relay anyway
/// (above 400 000 WU): by the unsigned size before deriving any key, and by
/// the estimated signed size before making any signature.
#[test]
fn transactions_above_the_standard_weight_are_refused_before_any_work() {
    use wallet_core::bitcoin::MAX_TX_WEIGHT;
    let heavy = BitcoinError::InvalidTransaction(
        "heavier than the standard limit of 400000 weight units once signed",
    );
    let key = || {
        Counting(
            SingleKey(SigningKey::from_slice(&[0x44; 32]).unwrap()),
            0.into(),
        )
    };

    // 2 500 inputs: 410 000 WU unsigned. The parser already refuses an
    // unsigned transaction above 100 000 bytes (Bitcoin's standard size),
    // before anything is derived or signed.
    let k = key();
    let bytes = many_inputs_btc(&k.0, 2_500).serialize();
    match wallet_core::bitcoin::Psbt::parse(&bytes) {
        Err(BitcoinError::TooLarge { len, max, .. }) => {
            assert!(len > max && 4 * max as u64 == MAX_TX_WEIGHT, "{len} {max}")
        }
        other => panic!("expected the unsigned size bound, got {other:?}"),
    }
    assert_eq!(k.1.get(), 0);

    // 1 500 inputs: 246 000 WU unsigned, about 407 000 once signed (107
    // witness bytes each). Refused after planning, before signing.
    let k = key();
    let p = many_inputs(&k.0, 1_500);
    let s = summarize_psbt(&p, &k, Network::Bitcoin).unwrap();
    assert!(
        s.estimated_vsize * 4 > MAX_TX_WEIGHT,
        "{}",
        s.estimated_vsize
    );
    let planned = k.1.get();
    assert_eq!(sign_psbt(&p, &k, &SignOptions::default()), Err(heavy));
    // Planning derived the public keys (one per input, as the summary
    // did); no private key was used to sign.
    assert_eq!(k.1.get(), 2 * planned);

    // Positive control: 100 inputs sign.
    let k = key();
    let p = many_inputs(&k.0, 100);
    assert_eq!(
        sign_psbt(&p, &k, &SignOptions::default())
            .unwrap()
            .signed_inputs
            .len(),
        100
    );
}

/// A PSBT may name our fingerprint in as many key origins, as deep, as its
/// size allows: the derivation steps it asks for are counted before any key
/// is derived, by the signer and the summary alike.
#[test]
fn psbts_asking_for_too_many_derivation_steps_are_refused_before_any() {
    use wallet_core::bitcoin::MAX_DERIVATION_STEPS;
    let hd = Hd::new(&SEED);
    let deep: Vec<u32> = (0..500).collect();
    let mut input = p2wpkh_input(&hd);
    // 40 other keys at 500-level paths under our fingerprint: 20 000 steps.
    for n in 1..=40u8 {
        let pk = pubkey_of(&SigningKey::from_slice(&[n; 32]).unwrap());
        input
            .bip32_derivation
            .insert(btc_pk(&pk), origin(hd.fp(), &deep));
    }
    let p = ours(&simple(&hd, input));
    let e = sign_psbt(&p, &hd, &SignOptions::default()).unwrap_err();
    assert_eq!(
        e.to_string(),
        format!(
            "invalid psbt: asks for 20010 key derivation steps with this wallet's fingerprint, \
             at most {MAX_DERIVATION_STEPS}"
        )
    );
    assert_eq!(summarize_psbt(&p, &hd, Network::Bitcoin).unwrap_err(), e);
    assert_eq!(hd.signing_keys_given.get(), 0);
    assert_eq!(hd.public_keys_given.get(), 0);
    // Origins of other fingerprints cost nothing and are not counted.
    let mut input = p2wpkh_input(&hd);
    for n in 1..=40u8 {
        let pk = pubkey_of(&SigningKey::from_slice(&[n; 32]).unwrap());
        input
            .bip32_derivation
            .insert(btc_pk(&pk), origin([9, 9, 9, 9], &deep));
    }
    let p = ours(&simple(&hd, input));
    assert!(sign_psbt(&p, &hd, &SignOptions::default()).is_ok());
}
