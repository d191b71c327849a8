//! Our Solana off-chain message encoder against Agave's
//! `solana-offchain-message` crate, byte for byte, across the three formats
//! and their limits, and the refusals both make.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use proptest::prelude::*;
use solana_offchain_message::{MessageFormat, OffchainMessage};
use wallet_core::solana::{
    OFFCHAIN_MAX_LEN, OFFCHAIN_MAX_LEN_LEDGER, OffchainFormat, offchain_envelope,
};

fn theirs(message: &[u8]) -> Option<(Vec<u8>, MessageFormat)> {
    let m = OffchainMessage::new(0, message).ok()?;
    Some((m.serialize().unwrap(), m.get_format()))
}

fn same(message: &[u8]) {
    let ours = offchain_envelope(message).ok();
    let agave = theirs(message);
    match (&ours, &agave) {
        (Some((a, fa)), Some((b, fb))) => {
            assert_eq!(a, b, "envelope of {} bytes", message.len());
            assert_eq!(*fa as u8, u8::from(*fb));
            // Agave parses our envelope back to the same message.
            let parsed = OffchainMessage::deserialize(a).unwrap();
            assert_eq!(parsed.get_message().as_slice(), message);
        }
        (None, None) => {}
        _ => panic!(
            "disagreement on {} bytes: ours {:?}, agave {:?}",
            message.len(),
            ours.map(|o| o.1),
            agave.map(|a| a.1)
        ),
    }
}

#[test]
fn formats_and_limits_agree_with_agave() {
    same(b"");
    same(b"Test Message");
    same(b"tab\there");
    same("Тестовое сообщение".as_bytes());
    same(&[0xff, 0xfe]);
    same(&[b'a'; 0x7f]);
    for n in [
        OFFCHAIN_MAX_LEN_LEDGER - 1,
        OFFCHAIN_MAX_LEN_LEDGER,
        OFFCHAIN_MAX_LEN_LEDGER + 1,
        OFFCHAIN_MAX_LEN - 1,
        OFFCHAIN_MAX_LEN,
        OFFCHAIN_MAX_LEN + 1,
    ] {
        same(&vec![b'a'; n]);
        let mut utf = vec![b'a'; n.saturating_sub(2)];
        utf.extend_from_slice("é".as_bytes());
        same(&utf);
    }
    assert_eq!(
        offchain_envelope(&vec![b'a'; OFFCHAIN_MAX_LEN_LEDGER + 1])
            .unwrap()
            .1,
        OffchainFormat::ExtendedUtf8
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]
    #[test]
    fn random_bytes_agree(message in proptest::collection::vec(any::<u8>(), 0..1400)) {
        same(&message);
    }
    #[test]
    fn random_text_agrees(text in ".{0,700}") {
        same(text.as_bytes());
    }
}
