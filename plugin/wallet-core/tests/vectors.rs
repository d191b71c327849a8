//! Known-answer tests from the specifications. The data files live in
//! `tests/vectors/`; `tests/vectors/README.md` names the source of each.

use serde_json::Value;
use sha2::{Digest, Sha256};
use wallet_core::ethereum::{
    self, Address, Eip1559Transaction, Eip2930Transaction, LegacyTransaction, Transaction, U256,
    access_list_from_json, eip712::TypedData, keccak256, u64_from_json, u256_from_json,
};
use wallet_core::hd::{ExtendedPrivateKey, ExtendedPublicKey, version};
use wallet_core::{
    DerivationPath, HdWallet, Mnemonic, Passphrase, Secp256k1PrivateKey, Seed, solana,
};

fn vector(name: &str) -> String {
    let path = format!("{}/tests/vectors/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn json(name: &str) -> Value {
    serde_json::from_str(&vector(name)).expect("vector JSON")
}

fn unhex(s: &str) -> Vec<u8> {
    hex::decode(s.trim_start_matches("0x")).expect("hex")
}

fn hex32(s: &str) -> [u8; 32] {
    unhex(s).try_into().expect("32 bytes")
}

fn path(s: &str) -> DerivationPath {
    s.parse().expect("path")
}

#[test]
fn bip39_trezor_vectors_with_passphrase_trezor() {
    let v = json("bip39_trezor.json");
    let english = v["english"].as_array().expect("english");
    assert_eq!(english.len(), 24, "all English vectors");
    let passphrase = Passphrase::new("TREZOR");
    for case in english {
        let [entropy, phrase, seed, xprv] = [0, 1, 2, 3].map(|i| case[i].as_str().expect("str"));
        let from_entropy = Mnemonic::from_entropy(&unhex(entropy)).expect("entropy");
        assert_eq!(from_entropy.expose_phrase(), phrase);
        let parsed = Mnemonic::parse(phrase).expect("parse");
        assert_eq!(&parsed.expose_entropy()[..], &unhex(entropy)[..]);
        let derived = parsed.to_seed(&passphrase);
        assert_eq!(
            hex::encode(derived.expose_bytes()),
            seed,
            "seed of {phrase}"
        );
        let wallet = HdWallet::from_mnemonic(&parsed, &passphrase).expect("wallet");
        let master = wallet
            .extended_private_key(&DerivationPath::master(), version::XPRV)
            .expect("master");
        assert_eq!(master.expose_encoded().expose_str(), xprv);
    }
}

struct Bip32Vector {
    seed: Vec<u8>,
    chains: Vec<(String, String, String)>,
}

/// Reads the BIP32 test vector section as the BIP prints it.
fn bip32_vectors() -> (Vec<Bip32Vector>, Vec<(String, String)>) {
    let text = vector("bip32_test_vectors.mediawiki");
    let mut vectors: Vec<Bip32Vector> = Vec::new();
    let mut invalid = Vec::new();
    let mut in_vector5 = false;
    let mut chain = String::new();
    let mut xpub = String::new();
    for line in text.lines() {
        if line.starts_with("===Test vector") {
            in_vector5 = line.contains("vector 5");
        } else if let Some(seed) = line.strip_prefix("Seed (hex): ") {
            vectors.push(Bip32Vector {
                seed: unhex(seed),
                chains: Vec::new(),
            });
        } else if let Some(c) = line.strip_prefix("* Chain ") {
            chain = c.replace("<sub>H</sub>", "'");
        } else if let Some(p) = line.strip_prefix("** ext pub: ") {
            xpub = p.to_owned();
        } else if let Some(p) = line.strip_prefix("** ext prv: ") {
            let v = vectors.last_mut().expect("seed first");
            v.chains.push((chain.clone(), xpub.clone(), p.to_owned()));
        } else if in_vector5 && let Some(rest) = line.strip_prefix("* ") {
            let (key, reason) = rest.split_once(' ').expect("key (reason)");
            invalid.push((key.to_owned(), reason.to_owned()));
        }
    }
    (vectors, invalid)
}

#[test]
fn bip32_vectors_1_to_4() {
    let (vectors, _) = bip32_vectors();
    assert_eq!(vectors.len(), 4);
    let mut count = 0;
    for v in &vectors {
        let wallet = HdWallet::from_seed(Seed::from_bytes(&v.seed)).expect("wallet");
        for (chain, xpub, xprv) in &v.chains {
            let p = path(chain);
            let ours_pub = wallet.extended_public_key(&p, version::XPUB).expect("xpub");
            assert_eq!(&ours_pub.encode(), xpub, "xpub at {chain}");
            let ours_prv = wallet
                .extended_private_key(&p, version::XPRV)
                .expect("xprv");
            assert_eq!(
                ours_prv.expose_encoded().expose_str(),
                xprv,
                "xprv at {chain}"
            );
            // Parsing round-trips.
            assert_eq!(
                &ExtendedPublicKey::parse(xpub).expect("parse xpub").encode(),
                xpub
            );
            let parsed = ExtendedPrivateKey::parse(xprv).expect("parse xprv");
            assert_eq!(parsed.expose_encoded().expose_str(), xprv);
            assert_eq!(parsed.to_public(version::XPUB).encode(), *xpub);
            count += 1;
        }
        // The master fingerprint is the first 4 bytes of HASH160(master pub).
        let master = wallet
            .extended_public_key(&DerivationPath::master(), version::XPUB)
            .expect("master");
        assert_eq!(wallet.master_fingerprint(), master.fingerprint());
    }
    assert_eq!(count, 6 + 6 + 2 + 3);
}

#[test]
fn bip32_vector_5_invalid_keys_are_rejected() {
    let (_, invalid) = bip32_vectors();
    assert_eq!(invalid.len(), 16);
    use wallet_core::hd::ExtendedKeyError as E;
    for (key, reason) in &invalid {
        // The parser for the kind the prefix claims fails for the stated reason.
        let err = if key.starts_with("xpub") {
            ExtendedPublicKey::parse(key).expect_err("invalid")
        } else {
            ExtendedPrivateKey::parse(key).expect_err("invalid")
        };
        let expected = match reason.as_str() {
            r if r.contains("pubkey version / prvkey mismatch") => E::InvalidPublicKey,
            r if r.contains("prvkey version / pubkey mismatch") => E::InvalidPrivateKey,
            r if r.contains("invalid pubkey") => E::InvalidPublicKey,
            r if r.contains("invalid prvkey prefix") => E::InvalidPrivateKey,
            r if r.contains("not in 1..n-1") => E::InvalidPrivateKey,
            r if r.contains("non-zero parent fingerprint") => E::ZeroDepthParent,
            r if r.contains("non-zero index") => E::ZeroDepthIndex,
            r if r.contains("unknown extended key version") => {
                assert!(
                    matches!(err, E::UnknownVersion(_)),
                    "{key} {reason}: {err:?}"
                );
                continue;
            }
            r if r.contains("invalid checksum") => E::Base58,
            other => panic!("unmapped reason {other}"),
        };
        assert_eq!(err, expected, "{key} {reason}");
        assert!(
            ExtendedPublicKey::parse(key).is_err(),
            "xpub parser accepted {key} {reason}"
        );
        assert!(
            ExtendedPrivateKey::parse(key).is_err(),
            "xprv parser accepted {key} {reason}"
        );
    }
}

#[test]
fn slip10_ed25519_vectors_1_and_2() {
    let text = vector("slip0010_ed25519.md");
    let mut wallet = None;
    let mut chain = String::new();
    let mut fingerprint = String::new();
    let mut chain_code = String::new();
    let mut private = String::new();
    let mut checked = 0;
    for line in text.lines() {
        let line = line.trim();
        if let Some(seed) = line.strip_prefix("Seed (hex): ") {
            wallet = Some(HdWallet::from_seed(Seed::from_bytes(&unhex(seed))).expect("wallet"));
        } else if let Some(c) = line.strip_prefix("* Chain ") {
            chain = c.replace("<sub>H</sub>", "'");
        } else if let Some(f) = line.strip_prefix("* fingerprint: ") {
            fingerprint = f.to_owned();
        } else if let Some(c) = line.strip_prefix("* chain code: ") {
            chain_code = c.to_owned();
        } else if let Some(p) = line.strip_prefix("* private: ") {
            private = p.to_owned();
        } else if let Some(public) = line.strip_prefix("* public: ") {
            let w = wallet.as_ref().expect("seed first");
            let p = path(&chain);
            let node = w.derive_ed25519_node(&p).expect("derive");
            assert_eq!(
                hex::encode(node.private_key().expose_bytes()),
                private,
                "{chain}"
            );
            assert_eq!(hex::encode(node.expose_chain_code()), chain_code, "{chain}");
            let mut ser_p = vec![0u8];
            ser_p.extend_from_slice(&node.public_key().to_bytes());
            assert_eq!(hex::encode(&ser_p), public, "{chain}");
            // fingerprint: HASH160(serP(parent))[..4]; zero for the master.
            let parent_fp = match p.levels().split_last() {
                None => [0u8; 4],
                Some((_, parent_levels)) => {
                    let parent_path =
                        DerivationPath::from_levels(parent_levels.to_vec()).expect("p");
                    let parent = w.derive_ed25519_node(&parent_path).expect("parent");
                    let mut ser = vec![0u8];
                    ser.extend_from_slice(&parent.public_key().to_bytes());
                    let h = ripemd::Ripemd160::digest(Sha256::digest(&ser));
                    [h[0], h[1], h[2], h[3]]
                }
            };
            assert_eq!(hex::encode(parent_fp), fingerprint, "{chain}");
            checked += 1;
        }
    }
    assert_eq!(checked, 12);
}

#[test]
fn abandon_about_ethereum_matches_bip_utils_and_known_address() {
    let v = json("abandon_about_bip_utils.json");
    let m = Mnemonic::parse(v["mnemonic"].as_str().expect("m")).expect("mnemonic");
    let seed = m.to_seed(&Passphrase::default());
    assert_eq!(
        hex::encode(seed.expose_bytes()),
        v["seed"].as_str().expect("seed")
    );
    let w = HdWallet::from_seed(seed).expect("wallet");
    let e = &v["ethereum"];
    let master = w
        .extended_private_key(&DerivationPath::master(), version::XPRV)
        .expect("master");
    assert_eq!(
        master.expose_encoded().expose_str(),
        e["ex_master"].as_str().expect("s")
    );
    for level in ["account", "chain_ext"] {
        let p = path(e[format!("{level}_path")].as_str().expect("path"));
        let xpub = w.extended_public_key(&p, version::XPUB).expect("xpub");
        assert_eq!(xpub.encode(), e[level]["ex_pub"].as_str().expect("s"));
        let xprv = w.extended_private_key(&p, version::XPRV).expect("xprv");
        assert_eq!(
            xprv.expose_encoded().expose_str(),
            e[level]["ex_priv"].as_str().expect("s")
        );
    }
    for (i, want) in e["addresses"].as_array().expect("list").iter().enumerate() {
        let key = w
            .derive_secp256k1(&DerivationPath::ethereum(0, i as u32).expect("path"))
            .expect("key");
        assert_eq!(
            ethereum::address(&key.public_key()).to_string(),
            want.as_str().expect("s")
        );
    }
    let key = w
        .derive_secp256k1(&path(e["default_path"].as_str().expect("p")))
        .expect("key");
    let address = ethereum::address(&key.public_key()).to_string();
    assert_eq!(address, e["default_address"].as_str().expect("s"));
    // The address every wallet shows for this mnemonic.
    assert_eq!(address, "0x9858EfFD232B4033E47d90003D41EC34EcaEda94");
}

#[test]
fn abandon_about_solana_matches_bip_utils_and_known_address() {
    let v = json("abandon_about_bip_utils.json");
    let m = Mnemonic::parse(v["mnemonic"].as_str().expect("m")).expect("mnemonic");
    let w = HdWallet::from_mnemonic(&m, &Passphrase::default()).expect("wallet");
    let s = &v["solana"];
    // bip_utils serializes the SLIP-0010 ed25519 node in BIP32 layout:
    // chain code at bytes 13..45, 0x00 || key at 45..78.
    let raw = bs58::decode(s["chain_ext"]["ex_priv"].as_str().expect("s"))
        .with_check(None)
        .into_vec()
        .expect("base58check");
    assert_eq!(raw.len(), 78);
    let node = w
        .derive_ed25519_node(&path(s["chain_ext_path"].as_str().expect("p")))
        .expect("node");
    assert_eq!(&node.private_key().expose_bytes()[..], &raw[46..78]);
    assert_eq!(&node.expose_chain_code()[..], &raw[13..45]);
    let key = w
        .derive_ed25519(&DerivationPath::solana(0).expect("p"))
        .expect("key");
    let address = solana::address(&key.public_key());
    let theirs = wallet_core::Ed25519PrivateKey::from_bytes(&raw[46..78].try_into().expect("32"));
    assert_eq!(address, solana::address(&theirs.public_key()));
    // The address Phantom, Solflare and solana-keygen show for this mnemonic.
    assert_eq!(address, "HAgk14JpMQLgt6rVgv7cBQFJWFto5Dqxi472uT3DKpqk");
    for (i, want) in s["addresses"].as_array().expect("list").iter().enumerate() {
        let p = path(&format!("m/44'/501'/0'/0'/{i}'"));
        let key = w.derive_ed25519(&p).expect("key");
        assert_eq!(
            solana::address(&key.public_key()),
            want.as_str().expect("s")
        );
    }
}

#[test]
fn eip155_example_transaction() {
    let v = json("eip155_example.json");
    let tx = Transaction::Legacy(LegacyTransaction {
        chain_id: v["chain_id"].as_u64().expect("chain"),
        nonce: v["nonce"].as_u64().expect("nonce"),
        gas_price: u256_from_json(&v["gas_price"], "gas_price").expect("gp"),
        gas_limit: v["gas_limit"].as_u64().expect("gas"),
        to: Some(v["to"].as_str().expect("to").parse().expect("addr")),
        value: u256_from_json(&v["value"], "value").expect("value"),
        data: unhex(v["data"].as_str().expect("data")),
    });
    assert_eq!(
        ethereum::to_hex(&tx.signing_payload()),
        v["signing_data"].as_str().expect("s")
    );
    assert_eq!(
        ethereum::to_hex(&tx.signing_hash()),
        v["signing_hash"].as_str().expect("s")
    );
    let key = Secp256k1PrivateKey::from_bytes(&hex32(v["private_key"].as_str().expect("k")))
        .expect("key");
    let signed = tx.sign(&key).expect("sign");
    assert_eq!(signed.v, v["v"].as_u64().expect("v"));
    assert_eq!(
        U256::from_be_bytes(signed.r),
        u256_from_json(&v["r"], "r").expect("r")
    );
    assert_eq!(
        U256::from_be_bytes(signed.s),
        u256_from_json(&v["s"], "s").expect("s")
    );
    assert_eq!(
        ethereum::to_hex(&signed.raw),
        v["signed"].as_str().expect("s")
    );
    assert_eq!(signed.hash, keccak256(&signed.raw));
}

#[test]
fn eth_account_eip2930_and_eip1559_signed_examples() {
    let v = json("eth_account_typed_transactions.json");
    let mut seen = [0usize; 3];
    for t in v["transactions"].as_array().expect("list") {
        let key =
            Secp256k1PrivateKey::from_bytes(&hex32(t["key"].as_str().expect("key"))).expect("key");
        let chain_id = u64_from_json(&t["chainId"], "chainId").expect("chain");
        let nonce = u64_from_json(&t["nonce"], "nonce").expect("nonce");
        let gas_limit = u64_from_json(&t["gas"], "gas").expect("gas");
        let to = Some(Address::parse_field(t["to"].as_str().expect("to"), "to").expect("to"));
        let value = u256_from_json(&t["value"], "value").expect("value");
        let data = unhex(t["data"].as_str().expect("data"));
        let access_list =
            access_list_from_json(t.get("accessList").unwrap_or(&Value::Array(vec![])))
                .expect("access list");
        let tx = match t["type"].as_str().expect("type") {
            "0x1" => {
                seen[1] += 1;
                Transaction::Eip2930(Eip2930Transaction {
                    chain_id,
                    nonce,
                    gas_price: u256_from_json(&t["gasPrice"], "gasPrice").expect("gp"),
                    gas_limit,
                    to,
                    value,
                    data,
                    access_list,
                })
            }
            "0x2" => {
                seen[2] += 1;
                Transaction::Eip1559(Eip1559Transaction {
                    chain_id,
                    nonce,
                    max_priority_fee_per_gas: u256_from_json(&t["maxPriorityFeePerGas"], "p")
                        .expect("prio"),
                    max_fee_per_gas: u256_from_json(&t["maxFeePerGas"], "m").expect("max"),
                    gas_limit,
                    to,
                    value,
                    data,
                    access_list,
                })
            }
            other => panic!("unexpected type {other}"),
        };
        let signed = tx.sign(&key).expect("sign");
        assert_eq!(
            ethereum::to_hex(&signed.raw),
            t["signed"].as_str().expect("signed")
        );
        assert!(signed.v <= 1);
    }
    assert_eq!(seen, [0, 2, 2]);
}

#[test]
fn eip712_mail_example_hashes_and_signature() {
    let v = json("eip712_mail.json");
    let td = TypedData::from_json(&v["typed_data"]).expect("typed data");
    assert_eq!(
        td.encode_type("Mail").expect("type"),
        v["encode_type_mail"].as_str().expect("s")
    );
    assert_eq!(
        ethereum::to_hex(&td.type_hash("Mail").expect("hash")),
        v["type_hash_mail"].as_str().expect("s")
    );
    let hashes = td.hash().expect("hash");
    assert_eq!(
        ethereum::to_hex(&hashes.domain_separator),
        v["domain_separator"].as_str().expect("s")
    );
    assert_eq!(
        ethereum::to_hex(&hashes.message_hash.expect("message")),
        v["struct_hash_message"].as_str().expect("s")
    );
    assert_eq!(
        ethereum::to_hex(&hashes.signing_hash),
        v["signing_hash"].as_str().expect("s")
    );
    // encodeData = typeHash || member words; its keccak is the struct hash.
    let encode_data = unhex(v["encode_data_message"].as_str().expect("s"));
    assert_eq!(Some(keccak256(&encode_data)), hashes.message_hash);
    assert_eq!(hashes.chain_id, Some(U256::from(1u8)));

    let key = Secp256k1PrivateKey::from_bytes(&keccak256(
        v["private_key_keccak_of"].as_str().expect("s").as_bytes(),
    ))
    .expect("key");
    let (sig, _) = ethereum::sign_typed_data(&key, &td).expect("sign");
    assert_eq!(
        sig.address.to_string().to_lowercase(),
        v["address"].as_str().expect("s")
    );
    assert_eq!(
        ethereum::to_hex(&sig.signature[..32]),
        v["r"].as_str().expect("s")
    );
    assert_eq!(
        ethereum::to_hex(&sig.signature[32..64]),
        v["s"].as_str().expect("s")
    );
    assert_eq!(u64::from(sig.signature[64]), v["v"].as_u64().expect("v"));
}
