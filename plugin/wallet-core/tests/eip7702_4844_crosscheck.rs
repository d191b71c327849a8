//! Differential tests of the EIP-4844 (type 3) and EIP-7702 (type 4)
//! encoders and of EIP-7702 authorizations: alloy (a dev-dependency, an
//! independent implementation) decodes every transaction we sign, recovers
//! its signer and every authorization's authority, and computes the
//! authorization signing hash for comparison.

use alloy_consensus::transaction::SignerRecoverable;
use alloy_consensus::{Transaction as _, TxEnvelope};
use alloy_eips::eip2718::Decodable2718;
use proptest::prelude::*;
use wallet_core::Secp256k1PrivateKey;
use wallet_core::ethereum::eip7702::{Authorization, SignedAuthorization};
use wallet_core::ethereum::{
    self, Address, Eip1559Transaction, Eip4844Transaction, Eip7702Transaction, GAS_PER_BLOB,
    Transaction, U256,
};

fn key_strategy() -> impl Strategy<Value = Secp256k1PrivateKey> {
    any::<[u8; 32]>().prop_filter_map("valid scalar", |b| Secp256k1PrivateKey::from_bytes(&b).ok())
}

fn fee() -> impl Strategy<Value = U256> {
    prop_oneof![
        Just(U256::ZERO),
        any::<u64>().prop_map(U256::from),
        any::<u128>().prop_map(U256::from),
    ]
}

fn base_strategy() -> impl Strategy<Value = Eip1559Transaction> {
    (
        1u64..u64::MAX,
        any::<u64>(),
        fee(),
        fee(),
        any::<u64>(),
        any::<[u8; 20]>(),
        any::<[u8; 32]>(),
        prop::collection::vec(any::<u8>(), 0..100),
    )
        .prop_map(
            |(chain_id, nonce, a, b, gas_limit, to, value, data)| Eip1559Transaction {
                chain_id,
                nonce,
                max_priority_fee_per_gas: a.min(b),
                max_fee_per_gas: a.max(b),
                gas_limit,
                to: Some(Address(to)),
                value: U256::from_be_bytes(value),
                data,
                access_list: Vec::new(),
            },
        )
}

fn auth_strategy() -> impl Strategy<Value = SignedAuthorization> {
    (
        key_strategy(),
        prop_oneof![Just(0u64), any::<u64>()],
        any::<[u8; 20]>(),
        0u64..u64::MAX,
    )
        .prop_map(|(key, chain_id, address, nonce)| {
            Authorization {
                chain_id,
                address: Address(address),
                nonce,
            }
            .sign(&key)
            .expect("sign authorization")
        })
}

fn alloy_addr(a: &Address) -> alloy_primitives::Address {
    alloy_primitives::Address::from(a.0)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn alloy_computes_our_authorization_hash_and_recovers_the_authority(
        key in key_strategy(),
        chain_id in prop_oneof![Just(0u64), any::<u64>()],
        address in any::<[u8; 20]>(),
        nonce in 0u64..u64::MAX,
    ) {
        let auth = Authorization { chain_id, address: Address(address), nonce };
        let signed = auth.sign(&key).expect("sign");
        let theirs = alloy_eips::eip7702::Authorization {
            chain_id: alloy_primitives::U256::from(chain_id),
            address: alloy_primitives::Address::from(address),
            nonce,
        };
        prop_assert_eq!(theirs.signature_hash().0, auth.signing_hash());
        let sa = theirs.into_signed(
            alloy_primitives::Signature::from_raw(&signed.signature_bytes()).expect("sig"),
        );
        prop_assert_eq!(sa.recover_authority().expect("recover"), alloy_addr(&signed.authority));
        prop_assert_eq!(signed.authority, ethereum::address(&key.public_key()));
    }

    #[test]
    fn alloy_decodes_our_blob_transactions_and_recovers_the_signer(
        key in key_strategy(),
        base in base_strategy(),
        blob_fee in fee(),
        hashes in prop::collection::vec(any::<[u8; 31]>(), 1..=6),
    ) {
        let hashes: Vec<[u8; 32]> = hashes.iter().map(|h| {
            let mut out = [1u8; 32];
            out[1..].copy_from_slice(h);
            out
        }).collect();
        let tx = Transaction::Eip4844(Eip4844Transaction {
            base: base.clone(),
            max_fee_per_blob_gas: blob_fee,
            blob_versioned_hashes: hashes.clone(),
        });
        let signed = tx.sign(&key).expect("sign");
        prop_assert_eq!(signed.raw[0], 3);
        let env = TxEnvelope::decode_2718_exact(&signed.raw).expect("alloy decodes");
        prop_assert_eq!(env.recover_signer().expect("recover"), alloy_addr(&signed.from));
        prop_assert_eq!(env.tx_hash().0, signed.hash);
        let TxEnvelope::Eip4844(t) = &env else { panic!("not a blob transaction") };
        prop_assert_eq!(t.tx().chain_id(), Some(base.chain_id));
        prop_assert_eq!(env.nonce(), base.nonce);
        prop_assert_eq!(env.to(), base.to.as_ref().map(alloy_addr));
        prop_assert_eq!(env.value(), base.value);
        prop_assert_eq!(env.input().as_ref(), base.data.as_slice());
        prop_assert_eq!(env.max_fee_per_blob_gas(), Some(blob_fee.to::<u128>()));
        let theirs: Vec<[u8; 32]> = env.blob_versioned_hashes().expect("hashes").iter().map(|h| h.0).collect();
        prop_assert_eq!(theirs, hashes.clone());
        // The blob fee we count: alloy's blob gas × fee per blob gas.
        let blob_gas = env.blob_gas_used().expect("blob gas");
        prop_assert_eq!(blob_gas, GAS_PER_BLOB * hashes.len() as u64);
        prop_assert_eq!(tx.max_blob_fee(), U256::from(blob_gas) * blob_fee);
    }

    #[test]
    fn alloy_decodes_our_set_code_transactions_and_recovers_every_authority(
        key in key_strategy(),
        base in base_strategy(),
        auths in prop::collection::vec(auth_strategy(), 1..4),
    ) {
        let tx = Transaction::Eip7702(Eip7702Transaction {
            base: base.clone(),
            authorization_list: auths.clone(),
        });
        let signed = tx.sign(&key).expect("sign");
        prop_assert_eq!(signed.raw[0], 4);
        let env = TxEnvelope::decode_2718_exact(&signed.raw).expect("alloy decodes");
        prop_assert_eq!(env.recover_signer().expect("recover"), alloy_addr(&signed.from));
        prop_assert_eq!(env.tx_hash().0, signed.hash);
        prop_assert_eq!(env.to(), base.to.as_ref().map(alloy_addr));
        prop_assert_eq!(env.value(), base.value);
        prop_assert_eq!(env.max_fee_per_gas(), base.max_fee_per_gas.to::<u128>());
        let list = env.authorization_list().expect("list");
        prop_assert_eq!(list.len(), auths.len());
        for (theirs, ours) in list.iter().zip(&auths) {
            prop_assert_eq!(theirs.chain_id(), &alloy_primitives::U256::from(ours.auth.chain_id));
            prop_assert_eq!(theirs.address(), &alloy_addr(&ours.auth.address));
            prop_assert_eq!(theirs.nonce(), ours.auth.nonce);
            prop_assert_eq!(theirs.recover_authority().expect("authority"), alloy_addr(&ours.authority));
        }
    }
}

#[test]
fn malformed_type_3_and_4_transactions_are_refused_naming_the_field() {
    use wallet_core::ethereum::{TransactionRequest, TxType};
    let base = || TransactionRequest {
        chain_id: Some(1),
        nonce: Some(0),
        gas_limit: Some(21000),
        max_fee_per_gas: Some(U256::from(2u8)),
        max_priority_fee_per_gas: Some(U256::from(1u8)),
        to: Some(Address([9; 20])),
        ..Default::default()
    };
    let blob = |hashes: Vec<[u8; 32]>| TransactionRequest {
        tx_type: Some(TxType::Eip4844),
        max_fee_per_blob_gas: Some(U256::from(1u8)),
        blob_versioned_hashes: Some(hashes),
        ..base()
    };
    let err = |r: TransactionRequest| r.build().expect_err("refused").to_string();
    assert!(err(blob(vec![])).contains("blob_versioned_hashes"));
    assert!(err(blob(vec![[1; 32]; 7])).contains("at most 6"));
    assert!(err(blob(vec![[2; 32]])).contains("blob_versioned_hashes[0]"));
    assert!(blob(vec![[1; 32]]).build().is_ok());
    assert_eq!(
        err(TransactionRequest {
            to: None,
            ..blob(vec![[1; 32]])
        }),
        "missing to"
    );
    assert!(
        err(TransactionRequest {
            max_fee_per_blob_gas: Some(U256::from(u128::MAX) + U256::from(1u8)),
            ..blob(vec![[1; 32]])
        })
        .contains("max_fee_per_blob_gas")
    );
    // Blob fields on another type.
    assert!(
        err(TransactionRequest {
            tx_type: Some(TxType::Eip1559),
            ..blob(vec![[1; 32]])
        })
        .contains("max_fee_per_blob_gas is not allowed")
    );
    let key = Secp256k1PrivateKey::from_bytes(&[7; 32]).expect("key");
    let auth = Authorization {
        chain_id: 1,
        address: Address([5; 20]),
        nonce: 0,
    }
    .sign(&key)
    .expect("auth");
    let set_code = |list: Vec<SignedAuthorization>| TransactionRequest {
        tx_type: Some(TxType::Eip7702),
        authorization_list: Some(list),
        ..base()
    };
    assert!(err(set_code(vec![])).contains("authorization_list"));
    assert!(err(set_code(vec![auth; 65])).contains("at most 64"));
    assert!(set_code(vec![auth]).build().is_ok());
    assert!(
        err(TransactionRequest {
            tx_type: Some(TxType::Eip1559),
            ..set_code(vec![auth])
        })
        .contains("authorization_list is not allowed")
    );
}
