//! `Debug` of every secret type (and of every type holding one) shows no key
//! material.

use wallet_core::hd::version;
use wallet_core::{
    Curve, DerivationPath, Ed25519PrivateKey, HdWallet, KeyWallet, Mnemonic, Passphrase,
    Secp256k1PrivateKey, Seed,
};

const PHRASE: &str = "legal winner thank year wave sausage worth useful legal winner thank yellow";
const PASSPHRASE: &str = "correct horse battery staple";

/// Renderings of `secret` that must not appear in any `Debug` output.
fn forbidden(secret: &[u8]) -> Vec<String> {
    vec![
        hex::encode(secret),
        hex::encode_upper(secret),
        bs58::encode(secret).into_string(),
        // `{:?}` of a byte slice: the first few bytes are enough.
        format!("{:?}", &secret[..4])
            .trim_end_matches(']')
            .to_owned(),
    ]
}

fn assert_redacted(name: &str, debug: &str, secrets: &[String]) {
    assert!(
        debug.contains("redacted"),
        "{name} Debug does not say redacted: {debug}"
    );
    for s in secrets {
        assert!(
            !debug.contains(s.as_str()),
            "{name} Debug leaks {s}: {debug}"
        );
    }
}

#[test]
fn debug_of_every_secret_type_contains_no_key_material() {
    let mnemonic = Mnemonic::parse(PHRASE).expect("mnemonic");
    let passphrase = Passphrase::new(PASSPHRASE);
    let seed = mnemonic.to_seed(&passphrase);
    let wallet = HdWallet::from_seed(seed.clone()).expect("wallet");
    let secp = wallet
        .derive_secp256k1(&DerivationPath::ethereum(0, 0).expect("path"))
        .expect("secp");
    let node = wallet
        .derive_ed25519_node(&DerivationPath::solana(0).expect("path"))
        .expect("node");
    let ed = node.private_key().clone();
    let xprv = wallet
        .extended_private_key(&"m/44'/0'/0'".parse().expect("path"), version::XPRV)
        .expect("xprv");
    let xprv_text = xprv.expose_encoded();
    let key_secp = KeyWallet::from_bytes(Curve::Secp256k1, &secp.expose_bytes()).expect("key");
    let key_ed = KeyWallet::Ed25519(Ed25519PrivateKey::from_bytes(&ed.expose_bytes()));
    let hex_text = key_secp.expose_hex();

    let mut secrets: Vec<String> = PHRASE.split(' ').map(str::to_owned).collect();
    secrets.push(PASSPHRASE.to_owned());
    secrets.push("horse".to_owned());
    secrets.extend(forbidden(seed.expose_bytes()));
    secrets.extend(forbidden(&secp.expose_bytes()[..]));
    secrets.extend(forbidden(&ed.expose_bytes()[..]));
    secrets.extend(forbidden(node.expose_chain_code()));
    secrets.push(xprv_text.expose_str().to_owned());
    secrets.push(xprv_text.expose_str()[4..20].to_owned());

    let cases: Vec<(&str, String, String)> = vec![
        (
            "Mnemonic",
            format!("{mnemonic:?}"),
            format!("{mnemonic:#?}"),
        ),
        (
            "Passphrase",
            format!("{passphrase:?}"),
            format!("{passphrase:#?}"),
        ),
        ("Seed", format!("{seed:?}"), format!("{seed:#?}")),
        (
            "Secp256k1PrivateKey",
            format!("{secp:?}"),
            format!("{secp:#?}"),
        ),
        ("Ed25519PrivateKey", format!("{ed:?}"), format!("{ed:#?}")),
        (
            "SecretString",
            format!("{xprv_text:?}"),
            format!("{hex_text:#?}"),
        ),
        (
            "ExtendedPrivateKey",
            format!("{xprv:?}"),
            format!("{xprv:#?}"),
        ),
        ("Ed25519Node", format!("{node:?}"), format!("{node:#?}")),
        ("HdWallet", format!("{wallet:?}"), format!("{wallet:#?}")),
        (
            "KeyWallet::Secp256k1",
            format!("{key_secp:?}"),
            format!("{key_secp:#?}"),
        ),
        (
            "KeyWallet::Ed25519",
            format!("{key_ed:?}"),
            format!("{key_ed:#?}"),
        ),
    ];
    for (name, plain, pretty) in &cases {
        assert_redacted(name, plain, &secrets);
        assert_redacted(name, pretty, &secrets);
    }
    // Sanity: the forbidden strings are really what the secrets expose.
    assert_eq!(hex_text.expose_str(), hex::encode(secp.expose_bytes()));
    assert!(secrets.contains(&hex::encode(secp.expose_bytes())));
}

#[test]
fn errors_carry_no_secret_input() {
    let secret_hex = "9f".repeat(31) + "zz";
    let err = KeyWallet::from_hex(Curve::Secp256k1, &secret_hex).expect_err("bad hex");
    for text in [err.to_string(), format!("{err:?}")] {
        assert!(!text.contains("9f9f"), "{text}");
        assert!(!text.contains("zz"), "{text}");
    }
    let typo = PHRASE.replace("yellow", "yelow");
    let err = Mnemonic::parse(&typo).expect_err("unknown word");
    for text in [err.to_string(), format!("{err:?}")] {
        for word in typo.split(' ') {
            assert!(!text.contains(word), "{text} contains {word}");
        }
    }
    // A secp256k1 key equal to the group order is refused without echo.
    let n = "fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141";
    let err = KeyWallet::from_hex(Curve::Secp256k1, n).expect_err("order");
    assert!(!err.to_string().contains("ffff"));
    assert!(Secp256k1PrivateKey::from_bytes(&[0u8; 32]).is_err());
    let _ = Seed::from_bytes(&[1u8; 16]);
}
