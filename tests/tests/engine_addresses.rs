//! `wallets/:name/addresses/:chain` and `wallets/:name/xpub` through a real
//! server (docs/api.md "Key selection", addresses, xpub), against published
//! BIP vectors and an independent derivation (rust-bitcoin, SLIP-0010 from
//! the spec).

mod engine_common;

use std::str::FromStr;

use alloy_primitives::Address;
use bitcoin::bip32::{DerivationPath, Xpriv, Xpub};
use bitcoin::secp256k1::Secp256k1;
use bitcoin::{CompressedPublicKey, KnownHrp, Network};
use engine_common::{
    ABANDON, Engine, eth_address, expect_400_naming, secp_key, seed, slip10_ed25519,
    solana_address, st,
};
use serde_json::{Value, json};

const ETH0: &str = "0x9858EfFD232B4033E47d90003D41EC34EcaEda94";
const BIP84_0: &str = "bc1qcr8te4kr609gcawutmrza0j4xv80jy8z306fyu";
const BIP84_CHANGE0: &str = "bc1q8c6fshw2dlwun7ekn9qwf37cu2rn755upcp6el";
const BIP86_0: &str = "bc1p5cyxnuxmeuwuvkwfem96lqzszd02n6xdcjrs20cac6yqjjwudpxqkedrcr";
const BIP49_TESTNET_0: &str = "2Mww8dCYPUpKHofjgcXcBCEGmniw9CoaiD2";
const SOL0: &str = "HAgk14JpMQLgt6rVgv7cBQFJWFto5Dqxi472uT3DKpqk";
/// BIP-84 "Account 0, root = m/84'/0'/0'" (SLIP-132 zpub form).
const BIP84_ZPUB: &str = "zpub6rFR7y4Q2AijBEqTUquhVz398htDFrtymD9xYYfG1m4wAcvPhXNfE3EfH1r1ADqtfSdVCToUG868RvUUkgDKf31mGDtKsAYz2oz2AGutZYs";

fn btc_address(kind: &str, path: &str, network: Network) -> String {
    let secp = Secp256k1::new();
    let (_, pk) = secp_key(&seed(ABANDON, ""), path);
    let cpk = CompressedPublicKey(pk);
    match kind {
        "p2wpkh" => bitcoin::Address::p2wpkh(&cpk, KnownHrp::from(network)).to_string(),
        "p2sh-p2wpkh" => bitcoin::Address::p2shwpkh(&cpk, network).to_string(),
        "p2pkh" => bitcoin::Address::p2pkh(cpk.pubkey_hash(), network).to_string(),
        "p2tr" => bitcoin::Address::p2tr(
            &secp,
            pk.x_only_public_key().0,
            None,
            KnownHrp::from(network),
        )
        .to_string(),
        other => panic!("unknown kind {other}"),
    }
}

fn pubkey_hex(path: &str) -> String {
    hex::encode(secp_key(&seed(ABANDON, ""), path).1.serialize())
}

/// Ethereum binary data is `0x`-prefixed (api.md "Conventions").
fn eth_pubkey_hex(path: &str) -> String {
    format!("0x{}", pubkey_hex(path))
}

fn account_xpub(path: &str, network: bitcoin::NetworkKind) -> String {
    let secp = Secp256k1::new();
    let master = Xpriv::new_master(network, &seed(ABANDON, "")).expect("master");
    let x = master
        .derive_priv(&secp, &DerivationPath::from_str(path).expect("path"))
        .expect("derive");
    Xpub::from_priv(&secp, &x).to_string()
}

/// SLIP-132 zpub -> BIP32 xpub (same key, mainnet public version bytes).
fn zpub_to_xpub(z: &str) -> String {
    let mut raw = bs58::decode(z).with_check(None).into_vec().expect("zpub");
    raw[..4].copy_from_slice(&[0x04, 0x88, 0xb2, 0x1e]);
    bs58::encode(raw).with_check().into_string()
}

fn strip_checksum(d: &str) -> &str {
    d.split_once('#').map(|(a, _)| a).unwrap_or(d)
}

#[test]
fn the_abandon_mnemonic_gives_the_published_address_of_every_chain() {
    let e = Engine::start();
    e.abandon("a", json!({}));
    // Our independent derivation agrees with the published vectors.
    assert_eq!(
        eth_address(&secp_key(&seed(ABANDON, ""), "m/44'/60'/0'/0/0").1).to_checksum(None),
        ETH0
    );
    assert_eq!(
        btc_address("p2wpkh", "m/84'/0'/0'/0/0", Network::Bitcoin),
        BIP84_0
    );
    assert_eq!(
        btc_address("p2tr", "m/86'/0'/0'/0/0", Network::Bitcoin),
        BIP86_0
    );
    let sol_key = slip10_ed25519(&seed(ABANDON, ""), "m/44'/501'/0'/0'");
    assert_eq!(solana_address(&sol_key), SOL0);

    let eth = e.get("crypto/wallets/a/addresses/ethereum");
    eth.expect_status(200);
    assert_eq!(eth.data()["chain"], "ethereum");
    assert_eq!(eth.data()["address"], ETH0);
    assert_eq!(eth.data()["path"], "m/44'/60'/0'/0/0");
    assert_eq!(
        eth.data()["public_key"],
        eth_pubkey_hex("m/44'/60'/0'/0/0").as_str()
    );

    let btc = e.get("crypto/wallets/a/addresses/bitcoin");
    btc.expect_status(200);
    assert_eq!(btc.data()["chain"], "bitcoin");
    assert_eq!(btc.data()["address"], BIP84_0);
    assert_eq!(btc.data()["path"], "m/84'/0'/0'/0/0");
    assert_eq!(
        btc.data()["public_key"],
        pubkey_hex("m/84'/0'/0'/0/0").as_str()
    );

    let tr = e.get("crypto/wallets/a/addresses/bitcoin?address_type=p2tr");
    tr.expect_status(200);
    assert_eq!(tr.data()["address"], BIP86_0);
    assert_eq!(tr.data()["path"], "m/86'/0'/0'/0/0");

    let sol = e.get("crypto/wallets/a/addresses/solana");
    sol.expect_status(200);
    assert_eq!(sol.data()["chain"], "solana");
    assert_eq!(sol.data()["address"], SOL0);
    assert_eq!(sol.data()["path"], "m/44'/501'/0'/0'");
    let pk = bs58::decode(SOL0).into_vec().expect("b58");
    assert_eq!(sol.data()["public_key"], hex::encode(pk).as_str());
}

#[test]
fn bitcoin_address_types_networks_and_change_follow_their_bip_paths() {
    let e = Engine::start();
    e.abandon("a", json!({}));
    assert_eq!(
        btc_address("p2sh-p2wpkh", "m/49'/1'/0'/0/0", Network::Testnet),
        BIP49_TESTNET_0
    );
    assert_eq!(
        btc_address("p2wpkh", "m/84'/0'/0'/1/0", Network::Bitcoin),
        BIP84_CHANGE0
    );
    let cases: &[(&str, &str, &str, Network)] = &[
        ("change=1", "p2wpkh", "m/84'/0'/0'/1/0", Network::Bitcoin),
        (
            "address_type=p2sh-p2wpkh&network=testnet",
            "p2sh-p2wpkh",
            "m/49'/1'/0'/0/0",
            Network::Testnet,
        ),
        (
            "address_type=p2pkh",
            "p2pkh",
            "m/44'/0'/0'/0/0",
            Network::Bitcoin,
        ),
        (
            "address_type=p2sh-p2wpkh",
            "p2sh-p2wpkh",
            "m/49'/0'/0'/0/0",
            Network::Bitcoin,
        ),
        (
            "network=testnet",
            "p2wpkh",
            "m/84'/1'/0'/0/0",
            Network::Testnet,
        ),
        (
            "network=signet",
            "p2wpkh",
            "m/84'/1'/0'/0/0",
            Network::Signet,
        ),
        (
            "network=regtest",
            "p2wpkh",
            "m/84'/1'/0'/0/0",
            Network::Regtest,
        ),
        (
            "network=regtest&address_type=p2tr&account=2&change=1&index=9",
            "p2tr",
            "m/86'/1'/2'/1/9",
            Network::Regtest,
        ),
        (
            "account=1&index=3",
            "p2wpkh",
            "m/84'/0'/1'/0/3",
            Network::Bitcoin,
        ),
        (
            "path=m/84'/0'/0'/0/1&index=7",
            "p2wpkh",
            "m/84'/0'/0'/0/1",
            Network::Bitcoin,
        ),
    ];
    for (query, kind, path, network) in cases {
        let r = e.get(&format!("crypto/wallets/a/addresses/bitcoin?{query}"));
        r.expect_status(200);
        assert_eq!(r.data()["path"], *path, "{query}");
        assert_eq!(
            r.data()["address"],
            btc_address(kind, path, *network).as_str(),
            "{query}"
        );
        assert_eq!(r.data()["public_key"], pubkey_hex(path).as_str(), "{query}");
    }
    let r = e.get("crypto/wallets/a/addresses/bitcoin?change=1");
    assert_eq!(r.data()["address"], BIP84_CHANGE0);
    let r = e.get("crypto/wallets/a/addresses/bitcoin?address_type=p2sh-p2wpkh&network=testnet");
    assert_eq!(r.data()["address"], BIP49_TESTNET_0);
}

#[test]
fn count_returns_consecutive_addresses_starting_at_index_on_every_chain() {
    let e = Engine::start();
    e.abandon("a", json!({}));
    let s = seed(ABANDON, "");
    let r = e.get("crypto/wallets/a/addresses/ethereum?index=5&count=3");
    r.expect_status(200);
    let list = r.data()["addresses"].as_array().expect("addresses");
    assert_eq!(list.len(), 3);
    for (i, item) in list.iter().enumerate() {
        let idx = 5 + i;
        let path = format!("m/44'/60'/0'/0/{idx}");
        assert_eq!(item["index"], idx, "{item}");
        assert_eq!(item["path"], path.as_str());
        assert_eq!(
            item["address"],
            eth_address(&secp_key(&s, &path).1)
                .to_checksum(None)
                .as_str()
        );
        assert_eq!(item["public_key"], eth_pubkey_hex(&path).as_str());
    }
    assert_eq!(r.data()["address"], list[0]["address"]);
    assert_eq!(r.data()["path"], "m/44'/60'/0'/0/5");

    let r = e.get("crypto/wallets/a/addresses/bitcoin?count=2&network=testnet&change=1");
    r.expect_status(200);
    let list = r.data()["addresses"].as_array().expect("addresses");
    assert_eq!(list.len(), 2);
    for (i, item) in list.iter().enumerate() {
        let path = format!("m/84'/1'/0'/1/{i}");
        assert_eq!(item["path"], path.as_str());
        assert_eq!(
            item["address"],
            btc_address("p2wpkh", &path, Network::Testnet).as_str()
        );
    }

    let r = e.get("crypto/wallets/a/addresses/solana?count=3&index=1");
    r.expect_status(200);
    let list = r.data()["addresses"].as_array().expect("addresses");
    assert_eq!(list.len(), 3);
    for (i, item) in list.iter().enumerate() {
        let path = format!("m/44'/501'/{}'/0'", i + 1);
        assert_eq!(item["path"], path.as_str());
        assert_eq!(
            item["address"],
            solana_address(&slip10_ed25519(&s, &path)).as_str()
        );
    }

    let r = e.get("crypto/wallets/a/addresses/ethereum?count=1000");
    r.expect_status(200);
    let list = r.data()["addresses"].as_array().expect("addresses");
    assert_eq!(list.len(), 1000);
    assert_eq!(list[999]["path"], "m/44'/60'/0'/0/999");
    assert_eq!(
        list[999]["address"],
        eth_address(&secp_key(&s, "m/44'/60'/0'/0/999").1)
            .to_checksum(None)
            .as_str()
    );
    for bad in ["count=0", "count=1001", "count=-1", "count=many"] {
        expect_400_naming(
            &e.get(&format!("crypto/wallets/a/addresses/ethereum?{bad}")),
            "count",
        );
    }
}

#[test]
fn ethereum_addresses_are_eip55_checksummed_and_an_explicit_path_overrides_the_indices() {
    let e = Engine::start();
    e.abandon("a", json!({}));
    let r = e.get("crypto/wallets/a/addresses/ethereum?count=20");
    for item in r.data()["addresses"].as_array().expect("addresses") {
        let a = st(item, "address");
        let parsed = Address::parse_checksummed(a, None)
            .unwrap_or_else(|err| panic!("{a} is not EIP-55: {err}"));
        assert_eq!(parsed.to_checksum(None), a);
    }
    let r = e.get("crypto/wallets/a/addresses/ethereum?path=m/44'/60'/0'/0/7&index=3&account=2");
    r.expect_status(200);
    assert_eq!(r.data()["path"], "m/44'/60'/0'/0/7");
    assert_eq!(
        r.data()["address"],
        eth_address(&secp_key(&seed(ABANDON, ""), "m/44'/60'/0'/0/7").1)
            .to_checksum(None)
            .as_str()
    );
    let r = e.get("crypto/wallets/a/addresses/ethereum?account=3&index=4");
    assert_eq!(r.data()["path"], "m/44'/60'/3'/0/4");
    let r = e.get("crypto/wallets/a/addresses/solana?path=m/44'/501'/7'/0'");
    r.expect_status(200);
    assert_eq!(
        r.data()["address"],
        solana_address(&slip10_ed25519(&seed(ABANDON, ""), "m/44'/501'/7'/0'")).as_str()
    );
}

#[test]
fn malformed_key_selection_is_a_400_naming_the_field() {
    let e = Engine::start();
    e.abandon("a", json!({}));
    for (chain, query, field) in [
        ("solana", "path=m/44'/501'/0'/0", "path"),
        ("ethereum", "path=m/44'/x'/0", "path"),
        ("ethereum", "path=44/60", "path"),
        ("ethereum", "index=-1", "index"),
        ("ethereum", "index=abc", "index"),
        ("ethereum", "index=2147483648", "index"),
        ("ethereum", "account=2147483648", "account"),
        ("bitcoin", "change=2", "change"),
        ("bitcoin", "address_type=p2wsh", "address_type"),
        ("bitcoin", "network=mainnet", "network"),
    ] {
        let r = e.get(&format!("crypto/wallets/a/addresses/{chain}?{query}"));
        expect_400_naming(&r, field);
    }
    expect_400_naming(&e.get("crypto/wallets/a/addresses/dogecoin"), "chain");
}

#[test]
fn key_wallets_have_one_address_and_refuse_key_selection_and_the_other_curve() {
    let e = Engine::start();
    let secp: [u8; 32] =
        hex::decode("4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318")
            .expect("hex")
            .try_into()
            .expect("32");
    let ed: [u8; 32] = [7; 32];
    e.import_key("ks", "secp256k1", &secp, json!({}));
    e.import_key("ke", "ed25519", &ed, json!({}));

    let r = e.get("crypto/wallets/ks/addresses/ethereum");
    r.expect_status(200);
    // The web3.js documentation's example key.
    assert_eq!(
        r.data()["address"],
        "0x2c7536E3605D9C16a7a3D7b1898e529396a65c23"
    );
    let sk = bitcoin::secp256k1::SecretKey::from_slice(&secp).expect("key");
    let pk = sk.public_key(&Secp256k1::new());
    assert_eq!(
        r.data()["public_key"],
        format!("0x{}", hex::encode(pk.serialize())).as_str()
    );
    let r = e.get("crypto/wallets/ks/addresses/bitcoin");
    r.expect_status(200);
    assert_eq!(r.data()["public_key"], hex::encode(pk.serialize()).as_str());
    assert_eq!(
        r.data()["address"],
        bitcoin::Address::p2wpkh(&CompressedPublicKey(pk), KnownHrp::Mainnet)
            .to_string()
            .as_str()
    );
    let r = e.get("crypto/wallets/ke/addresses/solana");
    r.expect_status(200);
    assert_eq!(r.data()["address"], solana_address(&ed).as_str());

    for (w, chain, query, field) in [
        ("ks", "ethereum", "index=1", "index"),
        ("ks", "ethereum", "account=1", "account"),
        ("ks", "bitcoin", "change=1", "change"),
        ("ks", "ethereum", "path=m/44'/60'/0'/0/0", "path"),
        ("ke", "solana", "index=1", "index"),
    ] {
        expect_400_naming(
            &e.get(&format!("crypto/wallets/{w}/addresses/{chain}?{query}")),
            field,
        );
    }
    for (w, chain) in [("ks", "solana"), ("ke", "ethereum"), ("ke", "bitcoin")] {
        let r = e.get(&format!("crypto/wallets/{w}/addresses/{chain}"));
        r.expect_status(400);
        // The message names the chain and says why (the curve).
        let msg = r.errors();
        assert!(
            msg.contains(chain)
                && (msg.contains("curve") || msg.contains("ed25519") || msg.contains("secp256k1")),
            "{w}/{chain}: {}",
            r.body
        );
    }
    for w in ["ks", "ke"] {
        e.get(&format!("crypto/wallets/{w}/xpub"))
            .expect_status(400);
    }
}

#[test]
fn the_xpub_of_m84_is_bip84s_account_key_with_a_wpkh_descriptor() {
    let e = Engine::start();
    e.abandon("a", json!({}));
    let want = zpub_to_xpub(BIP84_ZPUB);
    assert_eq!(
        want,
        account_xpub("m/84'/0'/0'", bitcoin::NetworkKind::Main),
        "the independent derivation agrees with BIP-84"
    );
    let r = e.get("crypto/wallets/a/xpub?chain=bitcoin");
    r.expect_status(200);
    assert_eq!(r.data()["xpub"], want.as_str());
    assert_eq!(r.data()["path"], "m/84'/0'/0'");
    assert_eq!(r.data()["fingerprint"], "73c5da0a");
    assert_eq!(
        strip_checksum(st(r.data(), "descriptor")),
        format!("wpkh([73c5da0a/84'/0'/0']{want}/<0;1>/*)")
    );
}

#[test]
fn the_xpub_follows_chain_address_type_network_account_and_path() {
    let e = Engine::start();
    e.abandon("a", json!({}));
    use bitcoin::NetworkKind::{Main, Test};
    for (query, path, kind, desc) in [
        ("", "m/44'/60'/0'", Main, None),
        ("chain=ethereum&account=2", "m/44'/60'/2'", Main, None),
        (
            "chain=bitcoin&address_type=p2tr",
            "m/86'/0'/0'",
            Main,
            Some(("tr(", ")")),
        ),
        (
            "chain=bitcoin&address_type=p2sh-p2wpkh",
            "m/49'/0'/0'",
            Main,
            Some(("sh(wpkh(", "))")),
        ),
        (
            "chain=bitcoin&address_type=p2pkh",
            "m/44'/0'/0'",
            Main,
            Some(("pkh(", ")")),
        ),
        (
            "chain=bitcoin&network=testnet",
            "m/84'/1'/0'",
            Test,
            Some(("wpkh(", ")")),
        ),
        (
            "chain=bitcoin&account=1",
            "m/84'/0'/1'",
            Main,
            Some(("wpkh(", ")")),
        ),
        (
            "chain=bitcoin&path=m/84'/0'/5'",
            "m/84'/0'/5'",
            Main,
            Some(("wpkh(", ")")),
        ),
    ] {
        let r = e.get(&format!("crypto/wallets/a/xpub?{query}"));
        r.expect_status(200);
        let want = account_xpub(path, kind);
        assert_eq!(r.data()["path"], path, "{query}");
        assert_eq!(r.data()["xpub"], want.as_str(), "{query}");
        assert_eq!(r.data()["fingerprint"], "73c5da0a");
        if kind == Test {
            assert!(want.starts_with("tpub"));
        }
        if let Some((open, close)) = desc {
            let origin = path.trim_start_matches("m/");
            assert_eq!(
                strip_checksum(st(r.data(), "descriptor")),
                format!("{open}[73c5da0a/{origin}]{want}/<0;1>/*{close}"),
                "{query}"
            );
        }
    }
    expect_400_naming(&e.get("crypto/wallets/a/xpub?chain=solana"), "chain");
    expect_400_naming(&e.get("crypto/wallets/a/xpub?chain=dogecoin"), "chain");
    expect_400_naming(
        &e.get("crypto/wallets/a/xpub?chain=bitcoin&network=moon"),
        "network",
    );
}

#[test]
fn addresses_and_xpub_are_readable_with_the_cli() {
    let e = Engine::start();
    e.abandon("a", json!({}));
    let v: Value = e.cli_json("read", &["crypto/wallets/a/addresses/ethereum"]);
    assert_eq!(v["data"]["address"], ETH0);
    let v = e.cli_json(
        "read",
        &["crypto/wallets/a/addresses/bitcoin", "address_type=p2tr"],
    );
    assert_eq!(v["data"]["address"], BIP86_0);
    let v = e.cli_json("read", &["crypto/wallets/a/xpub", "chain=bitcoin"]);
    assert_eq!(v["data"]["xpub"], zpub_to_xpub(BIP84_ZPUB).as_str());
}
