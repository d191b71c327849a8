//! Property tests: signatures verify for random keys and inputs, and every
//! parser survives random input without panicking.

use ed25519_dalek::{Signature as EdSignature, VerifyingKey};
use proptest::prelude::*;
use wallet_core::ethereum::{self, Address, eip712::TypedData};
use wallet_core::hd::{ExtendedPrivateKey, ExtendedPublicKey};
use wallet_core::{
    Curve, DerivationPath, Ed25519PrivateKey, HdWallet, KeyWallet, Mnemonic, Seed, solana,
};

fn verify_ed25519(public: [u8; 32], msg: &[u8], sig: &[u8; 64]) -> bool {
    VerifyingKey::from_bytes(&public)
        .map(|k| k.verify_strict(msg, &EdSignature::from_bytes(sig)).is_ok())
        .unwrap_or(false)
}

fn compact_u16(out: &mut Vec<u8>, mut v: usize) {
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

/// A valid message built independently of the crate's parser.
#[derive(Debug, Clone)]
struct MsgSpec {
    v0: bool,
    signers: Vec<[u8; 32]>,
    others: Vec<[u8; 32]>,
    blockhash: [u8; 32],
    data: Vec<u8>,
    lookups: usize,
}

impl MsgSpec {
    fn bytes(&self) -> Vec<u8> {
        let mut m = Vec::new();
        if self.v0 {
            m.push(0x80);
        }
        m.push(self.signers.len() as u8);
        m.push(0); // readonly signed
        m.push(1); // readonly unsigned: the program
        compact_u16(&mut m, self.signers.len() + self.others.len());
        for k in self.signers.iter().chain(&self.others) {
            m.extend_from_slice(k);
        }
        m.extend_from_slice(&self.blockhash);
        compact_u16(&mut m, 1);
        m.push((self.signers.len() + self.others.len() - 1) as u8); // program: last key
        compact_u16(&mut m, 1);
        m.push(0);
        compact_u16(&mut m, self.data.len());
        m.extend_from_slice(&self.data);
        if self.v0 {
            compact_u16(&mut m, self.lookups);
            for i in 0..self.lookups {
                m.extend_from_slice(&[i as u8 + 1; 32]);
                compact_u16(&mut m, 1);
                m.push(i as u8);
                compact_u16(&mut m, 0);
            }
        }
        m
    }
}

fn distinct_keys(n: usize) -> impl Strategy<Value = Vec<[u8; 32]>> {
    prop::collection::hash_set(any::<[u8; 32]>(), n).prop_map(|s| s.into_iter().collect())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn solana_parsers_never_panic_on_random_bytes(bytes in prop::collection::vec(any::<u8>(), 0..600)) {
        let _ = solana::parse_transaction(&bytes);
        let _ = solana::parse_message(&bytes);
        let key = Ed25519PrivateKey::from_bytes(&[7u8; 32]);
        let _ = solana::sign_transaction(&key, &bytes);
    }

    #[test]
    fn solana_signs_into_the_right_slot(
        seed in any::<[u8; 32]>(),
        keys in distinct_keys(6),
        n_signers in 1usize..4,
        slot in 0usize..4,
        v0 in any::<bool>(),
        lookups in 0usize..3,
        blockhash in any::<[u8; 32]>(),
        data in prop::collection::vec(any::<u8>(), 0..64),
        bare in any::<bool>(),
        existing in any::<[u8; 64]>(),
    ) {
        let key = Ed25519PrivateKey::from_bytes(&seed);
        let me = key.public_key().to_bytes();
        prop_assume!(!keys.contains(&me));
        let slot = slot % n_signers;
        let mut signers: Vec<[u8; 32]> = keys[..n_signers].to_vec();
        signers[slot] = me;
        let spec = MsgSpec {
            v0,
            signers,
            others: keys[n_signers..].to_vec(),
            blockhash,
            data,
            lookups: if v0 { lookups } else { 0 },
        };
        let message = spec.bytes();
        let input = if bare {
            message.clone()
        } else {
            let mut t = Vec::new();
            compact_u16(&mut t, n_signers);
            for _ in 0..n_signers {
                t.extend_from_slice(&existing);
            }
            t.extend_from_slice(&message);
            t
        };
        let signed = solana::sign_transaction(&key, &input).expect("sign");
        prop_assert_eq!(signed.signer_index, slot);
        let parsed = solana::parse_transaction(&signed.transaction).expect("reparse");
        prop_assert!(!parsed.was_bare_message);
        prop_assert_eq!(&parsed.message_bytes, &message);
        prop_assert_eq!(parsed.signatures.len(), n_signers);
        prop_assert!(verify_ed25519(me, &message, &parsed.signatures[slot]));
        prop_assert_eq!(parsed.signatures[slot], signed.signature);
        for (i, s) in parsed.signatures.iter().enumerate() {
            if i != slot {
                prop_assert_eq!(*s, if bare { [0u8; 64] } else { existing });
            }
        }
        // Not a signer: refused.
        let stranger = Ed25519PrivateKey::from_bytes(&[seed[0] ^ 1; 32]);
        if !spec.signers.contains(&stranger.public_key().to_bytes()) {
            prop_assert_eq!(
                solana::sign_transaction(&stranger, &input).map(|_| ()),
                Err(solana::SolanaError::NotASigner)
            );
        }
    }

    #[test]
    fn solana_parser_survives_mutations_of_valid_transactions(
        keys in distinct_keys(4),
        v0 in any::<bool>(),
        pos in any::<prop::sample::Index>(),
        byte in any::<u8>(),
        cut in any::<prop::sample::Index>(),
    ) {
        let spec = MsgSpec { v0, signers: keys[..2].to_vec(), others: keys[2..].to_vec(),
            blockhash: [3; 32], data: vec![1, 2, 3], lookups: usize::from(v0) };
        let mut bytes = spec.bytes();
        let i = pos.index(bytes.len());
        bytes[i] = byte;
        let _ = solana::parse_transaction(&bytes);
        bytes.truncate(cut.index(bytes.len() + 1));
        let _ = solana::parse_transaction(&bytes);
    }

    #[test]
    fn ed25519_signatures_verify(seed in any::<[u8; 32]>(), msg in prop::collection::vec(any::<u8>(), 0..300)) {
        let key = Ed25519PrivateKey::from_bytes(&seed);
        let sig = solana::sign_message(&key, &msg);
        prop_assert!(verify_ed25519(key.public_key().to_bytes(), &msg, &sig));
        prop_assert!(key.public_key().verify(&msg, &sig));
    }

    #[test]
    fn slip10_keys_sign_and_verify(
        seed in prop::collection::vec(any::<u8>(), 16..=64),
        levels in prop::collection::vec(0u32..(1 << 31), 0..6),
        msg in prop::collection::vec(any::<u8>(), 0..64),
    ) {
        let w = HdWallet::from_seed(Seed::from_bytes(&seed)).expect("wallet");
        let pairs: Vec<(u32, bool)> = levels.iter().map(|i| (*i, true)).collect();
        let p = DerivationPath::from_pairs(&pairs).expect("path");
        let key = w.derive_ed25519(&p).expect("derive");
        let sig = solana::sign_message(&key, &msg);
        prop_assert!(verify_ed25519(key.public_key().to_bytes(), &msg, &sig));
    }

    #[test]
    fn bip32_keys_sign_and_recover(
        seed in prop::collection::vec(any::<u8>(), 16..=64),
        levels in prop::collection::vec((0u32..(1 << 31), any::<bool>()), 0..6),
        digest in any::<[u8; 32]>(),
    ) {
        let w = HdWallet::from_seed(Seed::from_bytes(&seed)).expect("wallet");
        let p = DerivationPath::from_pairs(&levels).expect("path");
        let key = w.derive_secp256k1(&p).expect("derive");
        let sig = wallet_core::sign_hash::sign_digest_secp256k1(&key, &digest).expect("sign");
        prop_assert_eq!(sig.recover(&digest), Some(key.public_key()));
        // The path prints and parses back to itself.
        prop_assert_eq!(p.to_string().parse::<DerivationPath>().expect("reparse"), p);
    }

    #[test]
    fn mnemonic_round_trips_any_entropy(len in prop::sample::select(vec![16usize, 20, 24, 28, 32]), bytes in any::<[u8; 32]>()) {
        let m = Mnemonic::from_entropy(&bytes[..len]).expect("entropy");
        let parsed = Mnemonic::parse(m.expose_phrase()).expect("parse");
        prop_assert_eq!(&parsed.expose_entropy()[..], &bytes[..len]);
        prop_assert_eq!(parsed.word_count(), len * 3 / 4);
    }

    #[test]
    fn text_parsers_never_panic(s in ".{0,200}") {
        let _ = s.parse::<DerivationPath>();
        let _ = Mnemonic::parse(&s);
        let _ = ExtendedPublicKey::parse(&s);
        let _ = ExtendedPrivateKey::parse(&s);
        let _ = TypedData::from_json_str(&s);
        let _ = ethereum::parse_u256(&s, "value");
        let _ = ethereum::parse_hex_bytes(&s, "data");
        let _ = s.parse::<Address>();
        let _ = KeyWallet::from_hex(Curve::Secp256k1, &s);
        let _ = KeyWallet::from_hex(Curve::Ed25519, &s);
        let _ = solana::parse_address(&s);
        let _ = s.parse::<Curve>();
    }

    #[test]
    fn path_like_strings_never_panic(s in "m(/[0-9]{0,12}['hH]?){0,8}") {
        let _ = s.parse::<DerivationPath>();
    }

    #[test]
    fn typed_data_never_panics_on_random_json(v in json_strategy()) {
        if let Ok(td) = TypedData::from_json(&v) {
            let _ = td.hash();
        }
        let _ = ethereum::u256_from_json(&v, "value");
        let _ = ethereum::access_list_from_json(&v);
    }
}

fn json_strategy() -> impl Strategy<Value = serde_json::Value> {
    use serde_json::{Value, json};
    let type_names = prop::sample::select(vec![
        "uint256",
        "int8",
        "bytes",
        "bytes32",
        "string",
        "address",
        "bool",
        "T",
        "T[]",
        "U[2]",
        "uint8[][3]",
        "EIP712Domain",
        "x[",
        "]",
        "uint0",
    ]);
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|i| json!(i)),
        any::<f64>().prop_map(|f| json!(f)),
        ".{0,12}".prop_map(Value::String),
        "0x[0-9a-f]{0,66}".prop_map(Value::String),
    ];
    let value = leaf.prop_recursive(4, 32, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map("[a-z]{1,3}", inner, 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    });
    let members = prop::collection::vec(("[a-z]{1,3}", type_names), 0..4).prop_map(|ms| {
        Value::Array(
            ms.into_iter()
                .map(|(n, t)| json!({"name": n, "type": t}))
                .collect(),
        )
    });
    (
        members.clone(),
        members,
        value.clone(),
        value,
        any::<bool>(),
    )
        .prop_map(|(t, u, domain, message, primary_t)| {
            json!({
                "types": {"T": t, "U": u},
                "primaryType": if primary_t { "T" } else { "U" },
                "domain": domain,
                "message": message
            })
        })
}
