//! Solana message bytes (legacy and v0, bare or inside a transaction) through
//! the intent decoder and the message detector of `solana/sign-message`.
//!
//! Properties: no panic; every message our strict parser reads is one that
//! `could_be_transaction_message` flags (the detector is the more lenient);
//! when the decoder succeeds, its intent is consistent with the message: the
//! fee payer is the first key, `programs` lists each invoked program once in
//! first-use order, every instruction is accounted for at most once across
//! transfers, token movements, undecoded and unknown-program lists (an
//! unknown one under its own program), every static account reference is
//! a key of the message and every lookup reference lies past the static keys,
//! and there is no priority fee without a price.

#![no_main]

use libfuzzer_sys::fuzz_target;
use wallet_core::solana::{
    AccountRef, Message, SolanaIntent, could_be_transaction_message, decode_message, parse_message,
    parse_transaction,
};

fn check_ref(msg: &Message, r: &AccountRef) {
    match r {
        AccountRef::Key(k) => assert!(msg.account_keys.contains(k), "a static key of the message"),
        AccountRef::Lookup { index } => {
            assert!(
                usize::from(*index) >= msg.account_keys.len(),
                "a lookup lies past the static keys"
            );
            assert!(
                !msg.address_table_lookups.is_empty(),
                "a lookup needs a table"
            );
        }
    }
}

fn check(msg: &Message) {
    let Ok(intent) = decode_message(msg) else {
        return;
    };
    let SolanaIntent {
        fee_payer,
        lamport_transfers,
        token_movements,
        programs,
        unknown_program_instructions,
        undecoded_instructions,
        compute_unit_price,
        priority_fee_lamports,
        ..
    } = &intent;
    assert_eq!(Some(fee_payer), msg.account_keys.first());

    // Programs: distinct, in first-use order.
    let mut expected = Vec::new();
    for ix in &msg.instructions {
        let p = msg.account_keys[usize::from(ix.program_id_index)];
        if !expected.contains(&p) {
            expected.push(p);
        }
    }
    assert_eq!(programs, &expected);

    // Each instruction is reported at most once, and lists are in order.
    let mut seen = vec![false; msg.instructions.len()];
    let mut mark = |i: usize| {
        assert!(i < seen.len(), "instruction index in range");
        assert!(!seen[i], "instruction {i} reported twice");
        seen[i] = true;
    };
    for t in lamport_transfers {
        mark(t.instruction);
        check_ref(msg, &t.from);
        check_ref(msg, &t.to);
    }
    for t in token_movements {
        mark(t.instruction);
        for r in [&t.source, &t.counterparty, &t.authority]
            .into_iter()
            .chain(t.mint.as_ref())
        {
            check_ref(msg, r);
        }
        assert_eq!(t.mint.is_some(), t.decimals.is_some());
    }
    for (i, p) in unknown_program_instructions {
        mark(*i);
        assert_eq!(
            &msg.account_keys[usize::from(msg.instructions[*i].program_id_index)],
            p
        );
    }
    for (i, _, _) in undecoded_instructions {
        mark(*i);
    }
    if compute_unit_price.is_none() {
        assert_eq!(*priority_fee_lamports, 0);
    }
}

fuzz_target!(|data: &[u8]| {
    let could = could_be_transaction_message(data);
    if let Ok(msg) = parse_message(data) {
        assert!(
            could,
            "a message our parser reads is flagged as a possible message"
        );
        check(&msg);
    }
    if let Ok(tx) = parse_transaction(data) {
        check(&tx.message);
    }
});
