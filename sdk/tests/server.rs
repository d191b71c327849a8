//! Every client method against a real `bao` dev server with the plugin mounted at `crypto/`
//! (the alloy signer test needs `--features alloy`).

use std::time::Duration;

use integration_tests::{DevServer, ROOT_TOKEN};
use vault_crypto_sdk::addresses::{AddressRequest, XpubRequest};
use vault_crypto_sdk::bitcoin::{BitcoinSignMessage, MessageFormat, SignPsbt};
use vault_crypto_sdk::ethereum::{SignMessage, SignTransaction, SignTypedData};
use vault_crypto_sdk::policy::Policy;
use vault_crypto_sdk::sign_hash::SignHash;
use vault_crypto_sdk::solana::SolanaSignMessage;
use vault_crypto_sdk::wallets::{CreateWallet, Curve, UpdateWallet};
use vault_crypto_sdk::{AddressType, Chain, Client, Config, Error, KeySelection, RetryPolicy};

/// BIP-39 test mnemonic (the "abandon ... about" vector of the BIP-39 reference vectors).
const MNEMONIC: &str =
    "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about";
/// m/44'/60'/0'/0/0 of MNEMONIC (widely published; e.g. the ethers.js HD wallet tests).
const ETH_ADDRESS_0: &str = "0x9858EfFD232B4033E47d90003D41EC34EcaEda94";
/// m/84'/0'/0'/0/0 of MNEMONIC (BIP-84 test vectors).
const BTC_P2WPKH_0: &str = "bc1qcr8te4kr609gcawutmrza0j4xv80jy8z306fyu";

fn client_for(server: &DevServer) -> Client {
    Client::new(
        Config::new([server.addr.clone()])
            .with_token(ROOT_TOKEN)
            .with_timeout(Duration::from_secs(60)),
    )
    .expect("client")
}

#[tokio::test]
async fn wallets_create_read_list_update_delete() {
    let server = DevServer::with_plugin();
    let c = client_for(&server);
    assert!(c.wallets().list().await.expect("empty list").is_empty());

    let w = c
        .wallets()
        .create("alice", &CreateWallet::from_mnemonic(MNEMONIC))
        .await
        .expect("create");
    assert_eq!(w.name, "alice");
    assert_eq!(w.wallet_type, "hd");
    assert_eq!(w.words, Some(12));
    assert_eq!(
        w.fingerprint.as_deref(),
        Some("73c5da0a"),
        "BIP-32 master fingerprint"
    );
    assert!(
        !w.exportable && !w.deletion_allowed && !w.allow_raw_signing,
        "safe defaults"
    );

    let k = c
        .wallets()
        .create(
            "k1",
            &CreateWallet::from_private_key("0x".to_owned() + &"11".repeat(32), Curve::Secp256k1),
        )
        .await
        .expect("create key wallet");
    assert_eq!(k.wallet_type, "key");
    assert_eq!(k.curve.as_deref(), Some("secp256k1"));

    let g = c
        .wallets()
        .create("gen", &CreateWallet::generate(12))
        .await
        .expect("generate");
    assert_eq!(g.words, Some(12));

    let mut names = c.wallets().list().await.expect("list");
    names.sort();
    assert_eq!(names, ["alice", "gen", "k1"]);

    let read = c.wallets().read("alice").await.expect("read");
    assert_eq!(read.fingerprint, w.fingerprint);
    assert!(read.created_time.is_some());

    // Deleting needs deletion_allowed (400 like transit).
    let e = c.wallets().delete("alice").await.expect_err("not allowed");
    assert_eq!(e.status(), Some(400), "{e}");

    let u = c
        .wallets()
        .update("alice", &UpdateWallet::default().deletion_allowed(true))
        .await
        .expect("update");
    assert!(u.deletion_allowed);
    c.wallets().delete("alice").await.expect("delete");
    let e = c.wallets().read("alice").await.expect_err("gone");
    assert!(e.is_not_found(), "{e}");
}

#[tokio::test]
async fn errors_map_to_status_and_name_the_field() {
    let server = DevServer::with_plugin();
    let c = client_for(&server);
    let e = c
        .wallets()
        .create(
            "bad",
            &CreateWallet::from_private_key("0x12", Curve::Secp256k1),
        )
        .await
        .expect_err("short key");
    assert!(e.is_bad_request(), "{e}");
    assert!(
        !e.to_string().contains("0x12"),
        "no secret in the message: {e}"
    );

    c.wallets()
        .create("once", &CreateWallet::default())
        .await
        .expect("create");
    let e = c
        .wallets()
        .create("once", &CreateWallet::from_mnemonic(MNEMONIC))
        .await
        .expect_err("mnemonic on an existing wallet");
    assert!(e.is_bad_request(), "{e}");

    // A wrong token is a 403 from the host, with its message.
    let bad_token = Client::new(Config::new([server.addr.clone()]).with_token("nope")).expect("c");
    let e = bad_token.wallets().list().await.expect_err("denied");
    assert!(e.is_forbidden(), "{e}");
    assert!(!e.to_string().contains(ROOT_TOKEN));

    // A mount that does not exist.
    let other = c.with_mount("nothing-here").expect("mount");
    assert!(other.wallets().read("x").await.is_err());
}

#[tokio::test]
async fn an_invalid_word_count_is_a_400_naming_words() {
    let server = DevServer::with_plugin();
    let c = client_for(&server);
    let e = c
        .wallets()
        .create("bad", &CreateWallet::generate(13))
        .await
        .expect_err("13 words");
    assert!(e.is_bad_request(), "{e}");
    assert!(
        e.server_messages().iter().any(|m| m.contains("words")),
        "{e}"
    );
}

#[tokio::test]
async fn a_dead_first_address_fails_over_to_the_real_server() {
    let server = DevServer::with_plugin();
    let dead = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        format!("http://{}", l.local_addr().expect("addr"))
    };
    let c = Client::new(
        Config::new([dead, server.addr.clone()])
            .with_token(ROOT_TOKEN)
            .with_retry(RetryPolicy::default().with_max_attempts(3)),
    )
    .expect("client");
    c.wallets()
        .create("fo", &CreateWallet::default())
        .await
        .expect("create via node 2");
    assert_eq!(c.wallets().list().await.expect("list"), ["fo"]);
}

#[tokio::test]
async fn sys_paths_answer_for_a_dev_server() {
    let server = DevServer::with_plugin();
    let c = client_for(&server);
    let s = c.sys().seal_status().await.expect("seal-status");
    assert!(!s.sealed && s.initialized);
    let h = c.sys().health().await.expect("health");
    assert!(!h.standby);
    let m = c
        .sys()
        .mount("crypto")
        .await
        .expect("mount")
        .expect("mounted");
    assert_eq!(m.mount_type, "vault-plugin-crypto");
    assert!(c.sys().mount("not-mounted").await.expect("read").is_none());
}

#[tokio::test]
async fn export_only_when_exportable() {
    let server = DevServer::with_plugin();
    let c = client_for(&server);
    c.wallets()
        .create("locked", &CreateWallet::default())
        .await
        .expect("create");
    let e = c
        .wallets()
        .export("locked")
        .await
        .expect_err("not exportable");
    assert!(e.is_forbidden(), "{e}");
    c.wallets()
        .create(
            "open",
            &CreateWallet::from_mnemonic(MNEMONIC).exportable(true),
        )
        .await
        .expect("create");
    let x = c.wallets().export("open").await.expect("export");
    assert_eq!(x.mnemonic().as_deref().map(String::as_str), Some(MNEMONIC));
    assert!(!format!("{x:?}").contains("abandon"));
}

async fn hd_wallet(c: &Client, name: &str, raw: bool) {
    c.wallets()
        .create(
            name,
            &CreateWallet::from_mnemonic(MNEMONIC).allow_raw_signing(raw),
        )
        .await
        .expect("create");
}

/// BIP-48 export: the multisig account key and its descriptor key, whose
/// origin is the account path under the wallet's master fingerprint.
#[tokio::test]
async fn multisig_account_xpub() {
    let server = DevServer::with_plugin();
    let c = client_for(&server);
    hd_wallet(&c, "ms", false).await;
    for (kind, script) in [
        (AddressType::P2wshMultisig, 2),
        (AddressType::P2shP2wshMultisig, 1),
    ] {
        let x = c
            .addresses()
            .xpub(
                "ms",
                &XpubRequest::multisig(kind, vault_crypto_sdk::BitcoinNetwork::Testnet, 1),
            )
            .await
            .expect("xpub");
        let path = format!("m/48'/1'/1'/{script}'");
        assert_eq!(x.path.as_deref(), Some(path.as_str()));
        assert!(x.xpub.starts_with("tpub"), "{}", x.xpub);
        assert_eq!(
            x.descriptor_key.as_deref(),
            Some(format!("[73c5da0a/48'/1'/1'/{script}']{}/<0;1>/*", x.xpub).as_str())
        );
        assert!(x.descriptor.is_none());
    }
}

#[tokio::test]
async fn addresses_and_xpub_match_the_bip_vectors() {
    let server = DevServer::with_plugin();
    let c = client_for(&server);
    hd_wallet(&c, "v", false).await;
    let a = c
        .addresses()
        .get("v", Chain::Ethereum, &AddressRequest::default())
        .await
        .expect("eth");
    assert_eq!(a.address, ETH_ADDRESS_0);
    assert_eq!(a.path.as_deref(), Some("m/44'/60'/0'/0/0"));
    let b = c
        .addresses()
        .get("v", Chain::Bitcoin, &AddressRequest::default())
        .await
        .expect("btc");
    assert_eq!(b.address, BTC_P2WPKH_0);
    let many = c
        .addresses()
        .get(
            "v",
            Chain::Ethereum,
            &AddressRequest::index(0).with_count(3),
        )
        .await
        .expect("count");
    assert_eq!(many.addresses.len(), 3);
    assert_eq!(many.addresses[0].address, ETH_ADDRESS_0);
    let s = c
        .addresses()
        .get("v", Chain::Solana, &AddressRequest::default())
        .await
        .expect("sol");
    assert!((32..=44).contains(&s.address.len()));
    let x = c
        .addresses()
        .xpub(
            "v",
            &XpubRequest::chain(Chain::Bitcoin).with_address_type(AddressType::P2wpkh),
        )
        .await
        .expect("xpub");
    assert!(x.xpub.starts_with("xpub"));
    assert!(
        x.descriptor
            .as_deref()
            .unwrap_or("")
            .starts_with("wpkh([73c5da0a/84'/0'/0']")
    );
    let e = c
        .addresses()
        .get(
            "v",
            Chain::Ethereum,
            &AddressRequest::index(0).with_count(1001),
        )
        .await
        .expect_err("count bound");
    assert!(matches!(e, Error::InvalidArgument { field: "count", .. }));
}

#[tokio::test]
async fn ethereum_signing_and_policy_refusals() {
    let server = DevServer::with_plugin();
    let c = client_for(&server);
    hd_wallet(&c, "eth", false).await;
    let tx = SignTransaction::eip1559(1, 0, 21_000, 30_000_000_000u64, 1_000_000_000u64)
        .to("0x000000000000000000000000000000000000dEaD")
        .value(10u64.pow(15));
    let signed = c
        .ethereum()
        .sign_transaction("eth", &tx)
        .await
        .expect("sign");
    assert!(signed.signed_transaction.starts_with("0x02"));
    assert_eq!(signed.from, ETH_ADDRESS_0);
    let legacy = SignTransaction::legacy(1, 1, 21_000, 1_000_000_000u64).to(ETH_ADDRESS_0);
    let l = c
        .ethereum()
        .sign_transaction("eth", &legacy)
        .await
        .expect("legacy");
    let v = l.v.as_ref().and_then(|v| v.to_u128()).expect("v");
    assert!(
        v == 37 || v == 38,
        "EIP-155 v = chain_id*2+35+parity, got {v}"
    );

    let m = c
        .ethereum()
        .sign_message("eth", &SignMessage::text("hello"))
        .await
        .expect("message");
    assert_eq!(m.address, ETH_ADDRESS_0);
    assert_eq!(m.signature.len(), 2 + 130);

    let typed = serde_json::json!({
        "types": {
            "EIP712Domain": [{"name": "name", "type": "string"}, {"name": "chainId", "type": "uint256"}],
            "Mail": [{"name": "contents", "type": "string"}]
        },
        "primaryType": "Mail",
        "domain": {"name": "test", "chainId": 5},
        "message": {"contents": "hi"}
    });
    let t = c
        .ethereum()
        .sign_typed_data("eth", &SignTypedData::new(typed.clone()))
        .await
        .expect("typed");
    assert!(t.domain_separator.is_some());

    c.policy()
        .write(
            "eth",
            Chain::Ethereum,
            &Policy::default()
                .with_allowed_chain_ids([1])
                .with_max_value_per_tx(10u64.pow(15)),
        )
        .await
        .expect("policy");
    let p = c
        .policy()
        .read("eth", Chain::Ethereum)
        .await
        .expect("read policy");
    assert_eq!(
        p.max_value_per_tx.as_ref().map(|q| q.as_str()),
        Some("1000000000000000")
    );
    let too_much = tx.clone().value(10u64.pow(15) + 1);
    let e = c
        .ethereum()
        .sign_transaction("eth", &too_much)
        .await
        .expect_err("policy");
    assert!(e.is_forbidden(), "{e}");
    assert!(
        e.server_messages()
            .iter()
            .any(|m| m.contains("max_value_per_tx")),
        "{e}"
    );
    let e = c
        .ethereum()
        .sign_typed_data("eth", &SignTypedData::new(typed))
        .await
        .expect_err("chain 5 not allowed");
    assert!(e.is_forbidden(), "{e}");
    c.policy()
        .delete("eth", Chain::Ethereum)
        .await
        .expect("delete policy");
    assert!(
        c.policy()
            .read("eth", Chain::Ethereum)
            .await
            .expect_err("gone")
            .is_not_found()
    );
}

#[tokio::test]
async fn sign_hash_is_refused_unless_allowed() {
    let server = DevServer::with_plugin();
    let c = client_for(&server);
    hd_wallet(&c, "noraw", false).await;
    hd_wallet(&c, "raw", true).await;
    let req = SignHash::new(Chain::Ethereum, &[7u8; 32]);
    let e = c.sign_hash("noraw", &req).await.expect_err("403");
    assert!(e.is_forbidden(), "{e}");
    let s = c.sign_hash("raw", &req).await.expect("sign");
    assert_eq!(s.signature.len(), 2 + 130);
    let s = c
        .sign_hash(
            "raw",
            &SignHash::new(Chain::Solana, &[1u8; 32]).key(KeySelection::index(0)),
        )
        .await
        .expect("ed25519");
    assert!(!s.signature.starts_with("0x"));
}

#[tokio::test]
async fn solana_message_signing() {
    let server = DevServer::with_plugin();
    let c = client_for(&server);
    hd_wallet(&c, "sol", false).await;
    let s = c
        .solana()
        .sign_message("sol", &SolanaSignMessage::new(b"hello"))
        .await
        .expect("sign");
    let a = c
        .addresses()
        .get("sol", Chain::Solana, &AddressRequest::default())
        .await
        .expect("addr");
    assert_eq!(s.public_key, a.address);
}

#[tokio::test]
async fn bitcoin_and_solana_offchain_message_signing() {
    let server = DevServer::with_plugin();
    let c = client_for(&server);
    hd_wallet(&c, "msg", false).await;
    let b = c
        .bitcoin()
        .sign_message("msg", &BitcoinSignMessage::text("I own this address"))
        .await
        .expect("bip322");
    assert_eq!(b.address, BTC_P2WPKH_0);
    assert_eq!(
        (b.format.as_str(), b.encoding.as_str()),
        ("bip322", "simple")
    );
    let l = c
        .bitcoin()
        .sign_message(
            "msg",
            &BitcoinSignMessage::bytes(b"\xff\x00")
                .address_type(AddressType::P2pkh)
                .format(MessageFormat::Legacy),
        )
        .await
        .expect("legacy");
    assert_eq!(l.encoding, "legacy");
    // 65 bytes in base64.
    assert_eq!(l.signature.len(), 88, "{}", l.signature);
    let e = c
        .bitcoin()
        .sign_message(
            "msg",
            &BitcoinSignMessage::text("x")
                .address_type(AddressType::P2tr)
                .format(MessageFormat::Legacy),
        )
        .await
        .expect_err("no legacy taproot");
    assert!(e.is_bad_request(), "{e}");
    let s = c
        .solana()
        .sign_message("msg", &SolanaSignMessage::offchain("Sign in"))
        .await
        .expect("offchain");
    assert_eq!(s.format.as_deref(), Some("offchain"));
    assert_eq!(s.message_format.as_deref(), Some("restricted-ascii"));
    // "\xffsolana offchain", version 0, format 0, length 7 (base64 of the 20-byte header + text).
    assert_eq!(
        s.envelope.as_deref(),
        Some("/3NvbGFuYSBvZmZjaGFpbgAABwBTaWduIGlu")
    );
}

#[tokio::test]
async fn bitcoin_psbt_without_our_inputs_is_a_400() {
    let server = DevServer::with_plugin();
    let c = client_for(&server);
    hd_wallet(&c, "btc", false).await;
    // An empty-input PSBT: "psbt" magic, unsigned tx (version 2, 0 in, 0 out), separators.
    let e = c
        .bitcoin()
        .sign_psbt("btc", &SignPsbt::new("cHNidP8BAAoCAAAAAAAAAAAAAA=="))
        .await
        .expect_err("no input for this wallet");
    assert!(e.is_bad_request(), "{e}");
}

#[cfg(feature = "alloy")]
mod alloy {
    use super::*;
    use alloy_consensus::{SignableTransaction, TxEip1559, TxLegacy};
    use alloy_network::TxSigner;
    use alloy_primitives::{Address, Bytes, TxKind, U256};
    use alloy_signer::Signer;
    use vault_crypto_sdk::alloy::VaultSigner;

    #[tokio::test]
    async fn alloy_signs_in_vault_and_alloy_recovers_the_signer() {
        let server = DevServer::with_plugin();
        let c = client_for(&server);
        hd_wallet(&c, "al", true).await;
        let signer = VaultSigner::new(c, "al", KeySelection::default())
            .await
            .expect("signer")
            .with_chain_id(Some(1));
        let expected: Address = ETH_ADDRESS_0.parse().expect("addr");
        assert_eq!(Signer::address(&signer), expected);

        let sig = signer.sign_message(b"hello vault").await.expect("message");
        assert_eq!(
            sig.recover_address_from_msg(b"hello vault").expect("rec"),
            expected
        );

        let mut tx = TxEip1559 {
            chain_id: 1,
            nonce: 3,
            gas_limit: 21_000,
            max_fee_per_gas: 30_000_000_000,
            max_priority_fee_per_gas: 1_000_000_000,
            to: TxKind::Call(Address::repeat_byte(0xaa)),
            value: U256::from(12345u64),
            input: Bytes::from(vec![1, 2, 3]),
            access_list: Default::default(),
        };
        let sig = signer.sign_transaction(&mut tx).await.expect("1559");
        let hash = tx.signature_hash();
        assert_eq!(
            sig.recover_address_from_prehash(&hash).expect("recover"),
            expected
        );
        let signed = tx.into_signed(sig);
        assert_eq!(*signed.signature(), sig);

        let mut legacy = TxLegacy {
            chain_id: Some(1),
            nonce: 4,
            gas_price: 1_000_000_000,
            gas_limit: 21_000,
            to: TxKind::Call(Address::repeat_byte(0xbb)),
            value: U256::from(1u64),
            input: Bytes::new(),
        };
        let sig = signer.sign_transaction(&mut legacy).await.expect("legacy");
        let hash = legacy.signature_hash();
        assert_eq!(
            sig.recover_address_from_prehash(&hash).expect("recover"),
            expected
        );

        let h = alloy_primitives::B256::repeat_byte(9);
        let sig = signer.sign_hash(&h).await.expect("raw");
        assert_eq!(sig.recover_address_from_prehash(&h).expect("rec"), expected);
    }

    /// Types 3 and 4 and EIP-7702 authorizations through the alloy signer, under a policy
    /// that lists the delegate: alloy recovers every signature and decodes the envelopes; an
    /// unlisted delegate is refused.
    #[tokio::test]
    async fn alloy_signs_blob_and_set_code_transactions_and_authorizations() {
        use alloy_consensus::transaction::SignerRecoverable;
        use alloy_consensus::{Transaction as _, TxEip4844, TxEip7702, TxEnvelope};
        use alloy_eips::eip2718::{Decodable2718, Encodable2718};
        use alloy_eips::eip7702::Authorization;
        use alloy_primitives::B256;
        use vault_crypto_sdk::policy::Policy;

        let server = DevServer::with_plugin();
        let c = client_for(&server);
        hd_wallet(&c, "al", false).await;
        let delegate = Address::repeat_byte(0xde);
        c.policy()
            .write(
                "al",
                Chain::Ethereum,
                &Policy::default()
                    .with_allowed_chain_ids([1])
                    .with_allowed_delegates([delegate.to_string()]),
            )
            .await
            .expect("policy");
        let signer = VaultSigner::new(c.clone(), "al", KeySelection::default())
            .await
            .expect("signer")
            .with_chain_id(Some(1));
        let me: Address = ETH_ADDRESS_0.parse().expect("addr");

        let auth = Authorization {
            chain_id: U256::from(1),
            address: delegate,
            nonce: 5,
        };
        let signed_auth = signer
            .sign_authorization(auth.clone())
            .await
            .expect("authorization");
        assert_eq!(signed_auth.recover_authority().expect("authority"), me);
        let refused = signer
            .sign_authorization(Authorization {
                address: Address::repeat_byte(0xe7),
                ..auth
            })
            .await
            .expect_err("unlisted delegate");
        assert!(
            refused.to_string().contains("allowed_delegates"),
            "{refused}"
        );

        let mut set_code = TxEip7702 {
            chain_id: 1,
            nonce: 4,
            gas_limit: 100_000,
            max_fee_per_gas: 2_000_000_000,
            max_priority_fee_per_gas: 1_000_000_000,
            to: Address::repeat_byte(0xaa),
            value: U256::ZERO,
            input: Bytes::new(),
            access_list: Default::default(),
            authorization_list: vec![signed_auth],
        };
        let sig = signer
            .sign_transaction(&mut set_code)
            .await
            .expect("type 4");
        let env = TxEnvelope::from(set_code.into_signed(sig));
        let raw = env.encoded_2718();
        let back = TxEnvelope::decode_2718_exact(&raw).expect("decode");
        assert_eq!(back.recover_signer().expect("signer"), me);
        assert_eq!(
            back.authorization_list().expect("list")[0]
                .recover_authority()
                .expect("authority"),
            me
        );

        let mut blob = TxEip4844 {
            chain_id: 1,
            nonce: 5,
            gas_limit: 21_000,
            max_fee_per_gas: 100,
            max_priority_fee_per_gas: 1,
            to: Address::repeat_byte(0xaa),
            value: U256::from(1u8),
            access_list: Default::default(),
            blob_versioned_hashes: vec![B256::repeat_byte(0x22)],
            max_fee_per_blob_gas: 3,
            input: Bytes::new(),
        };
        // A versioned hash starts with 0x01.
        blob.blob_versioned_hashes[0].0[0] = 1;
        let sig = signer.sign_transaction(&mut blob).await.expect("type 3");
        let env = TxEnvelope::from(blob.into_signed(sig));
        let back = TxEnvelope::decode_2718_exact(&env.encoded_2718()).expect("decode");
        assert_eq!(back.recover_signer().expect("signer"), me);
        assert_eq!(back.max_fee_per_blob_gas(), Some(3));
    }

    alloy_sol_types::sol! {
        #[derive(serde::Serialize)]
        struct Order {
            address maker;
            uint256 amount;
            string note;
        }
    }

    /// A `sol!` struct signed through `sign-typed-data`, so a wallet with an
    /// ethereum policy still signs it when the policy lists the verifying
    /// contract, while alloy's digest path (`sign-hash`) is refused.
    #[tokio::test]
    async fn sol_structs_go_through_the_policy_checked_typed_data_path() {
        use alloy_sol_types::{SolStruct, eip712_domain};
        let server = DevServer::with_plugin();
        let c = client_for(&server);
        hd_wallet(&c, "ts", true).await;
        let venue = Address::repeat_byte(0x42);
        let p: vault_crypto_sdk::policy::Policy = serde_json::from_value(serde_json::json!({
            "allowed_chain_ids": [1],
            "allowed_typed_data": [{"verifying_contract": venue.to_string()}],
        }))
        .expect("policy");
        c.policy()
            .write("ts", vault_crypto_sdk::Chain::Ethereum, &p)
            .await
            .expect("policy written");
        let signer = VaultSigner::new(c, "ts", KeySelection::default())
            .await
            .expect("signer");
        let expected = Signer::address(&signer);
        let order = Order {
            maker: expected,
            amount: U256::from(7u64),
            note: "buy".into(),
        };
        let domain = eip712_domain! {
            name: "Venue",
            version: "1",
            chain_id: 1,
            verifying_contract: venue,
        };
        let sig = signer
            .sign_typed_struct(&order, &domain)
            .await
            .expect("typed struct");
        let hash = order.eip712_signing_hash(&domain);
        assert_eq!(
            sig.recover_address_from_prehash(&hash).expect("recover"),
            expected
        );
        // Another verifying contract is not listed: refused by the policy.
        let other = eip712_domain! {
            name: "Venue",
            version: "1",
            chain_id: 1,
            verifying_contract: Address::repeat_byte(0x43),
        };
        let e = signer
            .sign_typed_struct(&order, &other)
            .await
            .expect_err("not listed");
        assert!(e.to_string().contains("allowed_typed_data"), "{e}");
        // alloy's own sign_typed_data signs the bare digest through sign-hash,
        // which a wallet with a policy refuses.
        let e = signer
            .sign_typed_data(&order, &domain)
            .await
            .expect_err("raw signing with a policy");
        assert!(e.to_string().contains("raw_signing"), "{e}");
    }
}
