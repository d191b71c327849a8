//! The Solana intent decoder against independent encoders.
//!
//! Every instruction here is built by the upstream interface crates
//! (`solana-system-interface`, `spl-token-interface`,
//! `spl-associated-token-account-interface`, `solana-compute-budget-interface`),
//! compiled into a legacy or v0 message and serialized by `solana-message`;
//! we then parse the bytes with our parser and check that `decode_message`
//! extracts exactly what was encoded. Token-2022 shares the tags and layouts
//! of the instructions we decode (token-2022 `TokenInstruction` is a superset
//! of spl-token's), so its instructions are spl-token's with the program id
//! replaced.

use proptest::prelude::*;
use solana_message::{
    AccountMeta, Address, AddressLookupTableAccount, Hash, Instruction, VersionedMessage, v0,
};
use spl_token_interface::instruction as token_ix;
use wallet_core::Ed25519PublicKey;
use wallet_core::solana::{
    self, AccountRef, LamportKind, LamportTransfer, SolanaIntent, SolanaIntentError, TokenKind,
    TokenMovement, TokenProgram, associated_token_address, could_be_transaction_message,
    decode_message, parse_message,
};

const TOKEN_2022: &str = "TokenzQdBNbLqP5VEhdkAS6EPFLC1PHnBqCXEpPxuEb";
const MEMO_V2: &str = "MemoSq4gqABAXKb96qnH8TysNcWxMyWCqXgDLGmfcHr";

fn addr(seed: u8) -> Address {
    Address::new_from_array([seed; 32])
}

fn b58(s: &str) -> Address {
    Address::new_from_array(solana::parse_address(s).expect("address").to_bytes())
}

fn ours(a: &Address) -> Ed25519PublicKey {
    Ed25519PublicKey::from_bytes(a.to_bytes())
}

fn key(a: &Address) -> AccountRef {
    AccountRef::Key(ours(a))
}

fn token_2022() -> Address {
    b58(TOKEN_2022)
}

/// An spl-token instruction re-targeted at Token-2022.
fn as_2022(mut ix: Instruction) -> Instruction {
    ix.program_id = token_2022();
    ix
}

fn legacy_bytes(ixs: &[Instruction], payer: &Address) -> Vec<u8> {
    let mut m = solana_message::Message::new(ixs, Some(payer));
    m.recent_blockhash = Hash::new_from_array([7; 32]);
    m.serialize()
}

fn v0_bytes(ixs: &[Instruction], payer: &Address, tables: &[AddressLookupTableAccount]) -> Vec<u8> {
    let m = v0::Message::try_compile(payer, ixs, tables, Hash::new_from_array([9; 32]))
        .expect("compile v0");
    VersionedMessage::V0(m).serialize()
}

fn decode_bytes(bytes: &[u8]) -> Result<SolanaIntent, SolanaIntentError> {
    let msg = parse_message(bytes).expect("our parser reads the upstream encoding");
    decode_message(&msg)
}

fn decode(ixs: &[Instruction], payer: &Address) -> Result<SolanaIntent, SolanaIntentError> {
    decode_bytes(&legacy_bytes(ixs, payer))
}

#[test]
fn program_ids_match_upstream() {
    assert_eq!(
        solana::SYSTEM_PROGRAM,
        ours(&solana_sdk_ids::system_program::ID)
    );
    assert_eq!(
        solana::COMPUTE_BUDGET_PROGRAM,
        ours(&solana_sdk_ids::compute_budget::ID)
    );
    assert_eq!(solana::TOKEN_PROGRAM, ours(&spl_token_interface::ID));
    assert_eq!(
        solana::ASSOCIATED_TOKEN_PROGRAM,
        ours(&spl_associated_token_account_interface::program::ID)
    );
    assert_eq!(solana::TOKEN_2022_PROGRAM, ours(&token_2022()));
    assert_eq!(TokenProgram::Token.id(), solana::TOKEN_PROGRAM);
    assert_eq!(TokenProgram::Token2022.id(), solana::TOKEN_2022_PROGRAM);
}

#[test]
fn system_lamport_movements() {
    use solana_system_interface::instruction as sys;
    let payer = addr(1);
    let to = addr(2);
    let new_account = addr(3);
    let base = addr(4);
    let owner_program = addr(5);
    let seeded = addr(6);
    let nonce = addr(7);
    let ixs = [
        sys::transfer(&payer, &to, 1_234_567),
        sys::create_account(&payer, &new_account, 2_000_000, 165, &owner_program),
        sys::create_account_with_seed(
            &payer,
            &seeded,
            &base,
            "seed-é",
            3_000_000,
            82,
            &owner_program,
        ),
        sys::transfer_with_seed(
            &seeded,
            &base,
            "another seed".to_string(),
            &owner_program,
            &to,
            u64::MAX,
        ),
        sys::advance_nonce_account(&nonce, &payer),
    ];
    let intent = decode(&ixs, &payer).expect("decode");
    assert_eq!(intent.fee_payer, ours(&payer));
    assert_eq!(
        intent.lamport_transfers,
        vec![
            LamportTransfer {
                instruction: 0,
                kind: LamportKind::Transfer,
                from: key(&payer),
                to: key(&to),
                lamports: 1_234_567,
            },
            LamportTransfer {
                instruction: 1,
                kind: LamportKind::CreateAccount,
                from: key(&payer),
                to: key(&new_account),
                lamports: 2_000_000,
            },
            LamportTransfer {
                instruction: 2,
                kind: LamportKind::CreateAccountWithSeed,
                from: key(&payer),
                to: key(&seeded),
                lamports: 3_000_000,
            },
            LamportTransfer {
                instruction: 3,
                kind: LamportKind::TransferWithSeed,
                from: key(&seeded),
                to: key(&to),
                lamports: u64::MAX,
            },
        ]
    );
    assert_eq!(intent.programs, vec![solana::SYSTEM_PROGRAM]);
    assert!(intent.token_movements.is_empty());
    assert!(intent.undecoded_instructions.is_empty());
    assert!(intent.unknown_program_instructions.is_empty());
    assert_eq!(intent.priority_fee_lamports, 0);
}

#[test]
fn token_movements_both_programs() {
    let payer = addr(1);
    let source = addr(2);
    let dest = addr(3);
    let owner = addr(4);
    let mint = addr(5);
    let delegate = addr(6);
    let (m1, m2) = (addr(7), addr(8));
    let spl = spl_token_interface::ID;
    let ixs = [
        token_ix::transfer(&spl, &source, &dest, &owner, &[], 10).expect("ix"),
        token_ix::approve(&spl, &source, &delegate, &owner, &[], 20).expect("ix"),
        as_2022(
            token_ix::transfer_checked(&spl, &source, &mint, &dest, &owner, &[], 30, 6)
                .expect("ix"),
        ),
        as_2022(
            token_ix::approve_checked(&spl, &source, &mint, &delegate, &owner, &[], 40, 9)
                .expect("ix"),
        ),
        // A multisig authority with two signers: the authority is the multisig.
        token_ix::transfer(&spl, &source, &dest, &owner, &[&m1, &m2], u64::MAX).expect("ix"),
        token_ix::sync_native(&spl, &source).expect("ix"),
        spl_associated_token_account_interface::instruction::create_associated_token_account(
            &payer, &owner, &mint, &spl,
        ),
        spl_associated_token_account_interface::instruction::create_associated_token_account_idempotent(
            &payer, &owner, &mint, &token_2022(),
        ),
        Instruction::new_with_bytes(b58(MEMO_V2), b"invoice 42", vec![]),
    ];
    let intent = decode(&ixs, &payer).expect("decode");
    let mv = |instruction,
              program,
              kind,
              counterparty: &Address,
              mint: Option<&Address>,
              amount,
              decimals| {
        TokenMovement {
            instruction,
            program,
            kind,
            source: key(&source),
            counterparty: key(counterparty),
            mint: mint.map(key),
            authority: key(&owner),
            amount,
            decimals,
        }
    };
    assert_eq!(
        intent.token_movements,
        vec![
            mv(
                0,
                TokenProgram::Token,
                TokenKind::Transfer,
                &dest,
                None,
                10,
                None
            ),
            mv(
                1,
                TokenProgram::Token,
                TokenKind::Approve,
                &delegate,
                None,
                20,
                None
            ),
            mv(
                2,
                TokenProgram::Token2022,
                TokenKind::TransferChecked,
                &dest,
                Some(&mint),
                30,
                Some(6)
            ),
            mv(
                3,
                TokenProgram::Token2022,
                TokenKind::ApproveChecked,
                &delegate,
                Some(&mint),
                40,
                Some(9)
            ),
            mv(
                4,
                TokenProgram::Token,
                TokenKind::Transfer,
                &dest,
                None,
                u64::MAX,
                None
            ),
        ]
    );
    assert_eq!(
        intent.programs,
        vec![
            solana::TOKEN_PROGRAM,
            solana::TOKEN_2022_PROGRAM,
            solana::ASSOCIATED_TOKEN_PROGRAM,
            solana::MEMO_V2_PROGRAM,
        ]
    );
    assert!(intent.lamport_transfers.is_empty());
    assert!(
        intent.undecoded_instructions.is_empty(),
        "{:?}",
        intent.undecoded_instructions
    );
    assert!(intent.unknown_program_instructions.is_empty());
}

#[test]
fn compute_budget_and_priority_fee() {
    use solana_compute_budget_interface::ComputeBudgetInstruction as Cb;
    use solana_system_interface::instruction as sys;
    let payer = addr(1);
    let t = sys::transfer(&payer, &addr(2), 5);
    // Limit and price set: ceil(300_000 × 12_345 / 10⁶) = ceil(3703.5) = 3704.
    let intent = decode(
        &[
            Cb::set_compute_unit_limit(300_000),
            Cb::set_compute_unit_price(12_345),
            Cb::request_heap_frame(64 * 1024),
            Cb::set_loaded_accounts_data_size_limit(1 << 20),
            t.clone(),
        ],
        &payer,
    )
    .expect("decode");
    assert_eq!(intent.compute_unit_limit, Some(300_000));
    assert_eq!(intent.compute_unit_price, Some(12_345));
    assert_eq!(intent.priority_fee_lamports, 3704);
    assert_eq!(intent.lamport_transfers.len(), 1);
    assert!(intent.undecoded_instructions.is_empty());

    // Price only: the default limit is 200_000 per non-ComputeBudget
    // instruction (two transfers): 400_000 CU × 1_000_000 µlamports = 400_000 lamports.
    let intent = decode(
        &[
            Cb::set_compute_unit_price(1_000_000),
            t.clone(),
            sys::transfer(&payer, &addr(3), 6),
        ],
        &payer,
    )
    .expect("decode");
    assert_eq!(intent.compute_unit_limit, None);
    assert_eq!(intent.priority_fee_lamports, 400_000);

    // Duplicates are an error, for each kind.
    for dup in [
        [Cb::set_compute_unit_limit(1), Cb::set_compute_unit_limit(2)],
        [Cb::set_compute_unit_price(1), Cb::set_compute_unit_price(1)],
        [
            Cb::request_heap_frame(32 * 1024),
            Cb::request_heap_frame(64 * 1024),
        ],
        [
            Cb::set_loaded_accounts_data_size_limit(1),
            Cb::set_loaded_accounts_data_size_limit(2),
        ],
    ] {
        let ixs = [dup[0].clone(), t.clone(), dup[1].clone()];
        assert!(matches!(
            decode(&ixs, &payer),
            Err(SolanaIntentError::DuplicateComputeBudget { index: 2, .. })
        ));
    }
}

#[test]
fn lookup_table_accounts_come_back_as_lookups() {
    use solana_system_interface::instruction as sys;
    let payer = addr(1);
    let to = addr(2);
    let dest = addr(3);
    let owner = addr(4);
    let table = AddressLookupTableAccount {
        key: addr(9),
        addresses: vec![addr(20), to, dest],
    };
    let ixs = [
        sys::transfer(&payer, &to, 77),
        token_ix::transfer(&spl_token_interface::ID, &addr(5), &dest, &owner, &[], 88).expect("ix"),
    ];
    let bytes = v0_bytes(&ixs, &payer, std::slice::from_ref(&table));
    let msg = parse_message(&bytes).expect("parse v0");
    assert_eq!(msg.version, solana::MessageVersion::V0);
    let statics = msg.account_keys.len();
    // Both destinations are writable, loaded from the table in table order.
    assert_eq!(msg.address_table_lookups.len(), 1);
    assert_eq!(msg.address_table_lookups[0].writable_indexes, vec![1, 2]);
    let intent = decode_message(&msg).expect("decode");
    let lookup = |i: usize| AccountRef::Lookup {
        index: u8::try_from(statics + i).expect("small"),
    };
    assert_eq!(intent.lamport_transfers[0].from, key(&payer));
    assert_eq!(intent.lamport_transfers[0].to, lookup(0));
    assert_eq!(intent.lamport_transfers[0].lamports, 77);
    assert_eq!(intent.token_movements[0].counterparty, lookup(1));
    assert_eq!(intent.token_movements[0].authority, key(&owner));
    assert_eq!(intent.token_movements[0].amount, 88);
    assert!(could_be_transaction_message(&bytes));
}

#[test]
fn undecoded_and_unknown_instructions() {
    use solana_system_interface::instruction as sys;
    let payer = addr(1);
    let acct = addr(2);
    let owner = addr(3);
    let mint = addr(4);
    let spl = spl_token_interface::ID;
    let unknown_program = addr(50);
    let ixs = [
        sys::assign(&acct, &addr(5)),
        sys::withdraw_nonce_account(&addr(6), &payer, &owner, 10),
        sys::create_account_allow_prefund(&acct, Some((&payer, 10)), 0, &addr(5)),
        token_ix::close_account(&spl, &acct, &owner, &payer, &[]).expect("ix"),
        token_ix::set_authority(
            &spl,
            &acct,
            Some(&owner),
            token_ix::AuthorityType::AccountOwner,
            &payer,
            &[],
        )
        .expect("ix"),
        token_ix::burn(&spl, &acct, &mint, &payer, &[], 5).expect("ix"),
        as_2022(token_ix::mint_to(&spl, &mint, &acct, &payer, &[], 5).expect("ix")),
        token_ix::initialize_account3(&spl, &acct, &mint, &owner).expect("ix"),
        token_ix::unwrap_lamports(&spl, &acct, &owner, &payer, &[], Some(5)).expect("ix"),
        // Batch (255) carries further token instructions in its data.
        Instruction::new_with_bytes(
            spl,
            &[255, 1, 9, 3, 1, 0, 0, 0, 0, 0, 0, 0],
            vec![AccountMeta::new(acct, false)],
        ),
        spl_associated_token_account_interface::instruction::recover_nested(
            &payer,
            &mint,
            &addr(8),
            &spl,
        ),
        Instruction::new_with_bytes(unknown_program, &[1, 2, 3], vec![]),
        // An unknown system tag gets its number.
        Instruction::new_with_bytes(solana_sdk_ids::system_program::ID, &[99, 0, 0, 0], vec![]),
    ];
    let intent = decode(&ixs, &payer).expect("decode");
    let names: Vec<(usize, &str, &str)> = intent
        .undecoded_instructions
        .iter()
        .map(|(i, p, n)| (*i, *p, n.as_str()))
        .collect();
    assert_eq!(
        names,
        vec![
            (0, "system", "Assign"),
            (1, "system", "WithdrawNonceAccount"),
            (2, "system", "CreateAccountAllowPrefund"),
            (3, "spl-token", "CloseAccount"),
            (4, "spl-token", "SetAuthority"),
            (5, "spl-token", "Burn"),
            (6, "spl-token-2022", "MintTo"),
            (7, "spl-token", "InitializeAccount3"),
            (8, "spl-token", "UnwrapLamports"),
            (9, "spl-token", "Batch"),
            (10, "associated-token-account", "RecoverNested"),
            (12, "system", "99"),
        ]
    );
    assert_eq!(
        intent.unknown_program_instructions,
        vec![(11, ours(&unknown_program))]
    );
    assert!(intent.lamport_transfers.is_empty());
    assert!(intent.token_movements.is_empty());
}

/// Replaces the data of a one-instruction message's instruction.
fn with_data(mut ix: Instruction, f: impl FnOnce(&mut Vec<u8>)) -> Instruction {
    f(&mut ix.data);
    ix
}

#[test]
fn malformed_instruction_data_is_refused() {
    use solana_compute_budget_interface::ComputeBudgetInstruction as Cb;
    use solana_system_interface::instruction as sys;
    let payer = addr(1);
    let spl = spl_token_interface::ID;
    let transfer = sys::transfer(&payer, &addr(2), 5);
    let token = token_ix::transfer_checked(&spl, &addr(3), &addr(4), &addr(5), &payer, &[], 1, 2)
        .expect("ix");
    let seeded = sys::transfer_with_seed(&addr(6), &addr(7), "s".into(), &addr(8), &addr(9), 1);
    let bad: Vec<(Instruction, &str)> = vec![
        (with_data(transfer.clone(), |d| d.push(0)), "trailing bytes"),
        (
            with_data(transfer.clone(), |d| {
                d.pop();
            }),
            "too short",
        ),
        (with_data(transfer.clone(), |d| d.truncate(3)), "too short"),
        (with_data(token.clone(), |d| d.push(0)), "trailing bytes"),
        (with_data(token.clone(), |d| d.truncate(9)), "too short"),
        (with_data(token.clone(), |d| d.clear()), "too short"),
        (
            with_data(Cb::set_compute_unit_price(1), |d| d.push(0)),
            "trailing bytes",
        ),
        (
            with_data(Cb::set_compute_unit_limit(1), |d| d.truncate(4)),
            "too short",
        ),
        (
            Instruction::new_with_bytes(solana_sdk_ids::compute_budget::ID, &[0], vec![]),
            "unknown compute-budget",
        ),
        (
            Instruction::new_with_bytes(
                solana_sdk_ids::compute_budget::ID,
                &[5, 0, 0, 0, 0],
                vec![],
            ),
            "unknown compute-budget",
        ),
        (
            Instruction::new_with_bytes(
                spl_associated_token_account_interface::program::ID,
                &[1, 0],
                vec![],
            ),
            "trailing bytes",
        ),
        // The seed's length field claims more bytes than there are.
        (with_data(seeded.clone(), |d| d[12] = 200), "seed length"),
        (
            with_data(seeded.clone(), |d| {
                d[12..20].copy_from_slice(&u64::MAX.to_le_bytes())
            }),
            "seed length",
        ),
        // A seed that is not UTF-8.
        (with_data(seeded.clone(), |d| d[20] = 0xff), "UTF-8"),
        (with_data(seeded, |d| d.push(1)), "trailing bytes"),
    ];
    for (i, (ix, why)) in bad.into_iter().enumerate() {
        let err = decode(&[ix], &payer).expect_err(&format!("case {i} is refused"));
        assert!(err.to_string().contains(why), "case {i}: {err}");
    }

    // Missing accounts: a transfer that names only its source.
    let mut short = transfer;
    short.accounts.truncate(1);
    let err = decode(&[short], &payer).expect_err("refused");
    assert!(err.to_string().contains("missing accounts"), "{err}");
    let mut short = token;
    short.accounts.truncate(3);
    let err = decode(&[short], &payer).expect_err("refused");
    assert!(err.to_string().contains("missing accounts"), "{err}");
}

#[test]
fn out_of_range_indexes_in_a_hand_built_message_are_errors() {
    // `Message` has public fields: the decoder must not trust them.
    let bytes = legacy_bytes(
        &[solana_system_interface::instruction::transfer(
            &addr(1),
            &addr(2),
            3,
        )],
        &addr(1),
    );
    let mut msg = parse_message(&bytes).expect("parse");
    msg.instructions[0].accounts[1] = 200;
    assert!(
        decode_message(&msg)
            .expect_err("refused")
            .to_string()
            .contains("out of range")
    );
    msg.instructions[0].program_id_index = 250;
    assert!(
        decode_message(&msg)
            .expect_err("refused")
            .to_string()
            .contains("out of range")
    );
    msg.account_keys.clear();
    assert_eq!(decode_message(&msg), Err(SolanaIntentError::NoFeePayer));
}

/// Known associated token accounts.
/// - spl-token JS unit tests (solana-program-library `token/js/test/unit/index.test.ts`,
///   `getAssociatedTokenAddress`): owner B8Uw…, mint 7o36… → DShW…; an off-curve owner
///   (that ATA itself) → F3Dm….
/// - micro-sol-signer tests (`tokenAddress`, "Top holders of PYUSD", mainnet Token-2022
///   accounts of the PYUSD mint 2b1k…).
#[test]
fn associated_token_address_known_answers() {
    let cases = [
        (
            "B8UwBUUnKwCyKuGMbFKWaG7exYdDk2ozZrPg72NyVbfj",
            "7o36UsWR1JQLpZ9PE2gn9L4SQ69CNNiWAXd4Jt7rqz9Z",
            TokenProgram::Token,
            "DShWnroshVbeUp28oopA3Pu7oFPDBtC1DBmPECXXAQ9n",
        ),
        (
            "DShWnroshVbeUp28oopA3Pu7oFPDBtC1DBmPECXXAQ9n",
            "7o36UsWR1JQLpZ9PE2gn9L4SQ69CNNiWAXd4Jt7rqz9Z",
            TokenProgram::Token,
            "F3DmXZFqkfEWFA7MN2vDPs813GeEWPaT6nLk4PSGuWJd",
        ),
        (
            "22Wnk8PwyWZV7BfkZGJEKT9jGGdtvu7xY6EXeRh7zkBa",
            "2b1kV6DkPAnxd5ixfnxCpjxmKwqjjaYmCZfHsFu24GXo",
            TokenProgram::Token2022,
            "5nu6HDY7t1Ds8oPNsArrhb1rzvRqmGubyteyAUncFyNb",
        ),
        (
            "BNXnu85Kt1VXSYYYNMXtRfRrscyETxcdsEiTLSToQYZa",
            "2b1kV6DkPAnxd5ixfnxCpjxmKwqjjaYmCZfHsFu24GXo",
            TokenProgram::Token2022,
            "8Ycmt6GTtXcmaTXXRZVLATBQHKKFRaFpD6DD4wx81M4",
        ),
    ];
    for (owner, mint, program, expected) in cases {
        let owner = solana::parse_address(owner).expect("owner");
        let mint = solana::parse_address(mint).expect("mint");
        assert_eq!(
            solana::address(&associated_token_address(&owner, &mint, program)),
            expected
        );
    }
}

#[test]
fn off_chain_envelope_and_text_are_not_messages() {
    // The off-chain message envelope (signing domain "\xffsolana offchain").
    let mut envelope = b"\xffsolana offchain".to_vec();
    envelope.extend_from_slice(&[0, 0, 1, 5, 0]);
    envelope.extend_from_slice(b"hello");
    assert!(!could_be_transaction_message(&envelope));
    assert!(!could_be_transaction_message(b"\xffsolana offchain"));
    for text in [
        &b""[..],
        b"hello",
        b"Sign in to example.com",
        b"I agree to the terms of service, nonce 8f3a9",
    ] {
        assert!(!could_be_transaction_message(text));
    }
}

fn addr_strategy() -> impl Strategy<Value = Address> {
    any::<[u8; 32]>().prop_map(Address::new_from_array)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    /// Random keys and amounts, legacy and v0: exactly the encoded values come back,
    /// and every such message is recognised as a possible transaction message,
    /// while none of its strict prefixes is.
    #[test]
    fn random_transfers_decode_exactly(
        payer in addr_strategy(), to in addr_strategy(), dest in addr_strategy(),
        source in addr_strategy(), mint in addr_strategy(),
        lamports in any::<u64>(), amount in any::<u64>(), decimals in any::<u8>(),
        price in any::<u64>(), limit in any::<u32>(), v0 in any::<bool>(), is_2022 in any::<bool>(),
    ) {
        use solana_compute_budget_interface::ComputeBudgetInstruction as Cb;
        let mut tok = token_ix::transfer_checked(
            &spl_token_interface::ID, &source, &mint, &dest, &payer, &[], amount, decimals,
        ).expect("ix");
        let program = if is_2022 {
            tok = as_2022(tok);
            TokenProgram::Token2022
        } else {
            TokenProgram::Token
        };
        let ixs = [
            Cb::set_compute_unit_price(price),
            Cb::set_compute_unit_limit(limit),
            solana_system_interface::instruction::transfer(&payer, &to, lamports),
            tok,
        ];
        let bytes = if v0 { v0_bytes(&ixs, &payer, &[]) } else { legacy_bytes(&ixs, &payer) };
        prop_assert!(could_be_transaction_message(&bytes));
        for cut in [1, 2, 33, bytes.len() / 2, bytes.len() - 1] {
            prop_assert!(!could_be_transaction_message(&bytes[..cut]));
        }
        let intent = decode_bytes(&bytes).expect("decode");
        prop_assert_eq!(intent.fee_payer, ours(&payer));
        prop_assert_eq!(
            &intent.lamport_transfers,
            &vec![LamportTransfer {
                instruction: 2, kind: LamportKind::Transfer,
                from: key(&payer), to: key(&to), lamports,
            }]
        );
        prop_assert_eq!(
            &intent.token_movements,
            &vec![TokenMovement {
                instruction: 3, program, kind: TokenKind::TransferChecked,
                source: key(&source), counterparty: key(&dest), mint: Some(key(&mint)),
                authority: key(&payer), amount, decimals: Some(decimals),
            }]
        );
        prop_assert_eq!(intent.compute_unit_price, Some(price));
        prop_assert_eq!(intent.compute_unit_limit, Some(limit));
        let capped = u128::from(limit.min(1_400_000));
        let expected = (u128::from(price) * capped).div_ceil(1_000_000);
        prop_assert_eq!(
            u128::from(intent.priority_fee_lamports),
            expected.min(u128::from(u64::MAX))
        );
    }

    /// Our associated token address equals the upstream derivation for random keys.
    #[test]
    fn associated_token_address_matches_upstream(
        owner in addr_strategy(), mint in addr_strategy(), is_2022 in any::<bool>(),
    ) {
        let (program, id) = if is_2022 {
            (TokenProgram::Token2022, token_2022())
        } else {
            (TokenProgram::Token, spl_token_interface::ID)
        };
        let theirs = spl_associated_token_account_interface::address::get_associated_token_address_with_program_id(
            &owner, &mint, &id,
        );
        prop_assert_eq!(associated_token_address(&ours(&owner), &ours(&mint), program), ours(&theirs));
    }

    /// Printable ASCII text shorter than 1060 bytes is never a message: its
    /// fourth byte (the key count of a legacy message) is at least 32, which
    /// needs 32 × 32 bytes of keys and a 32-byte blockhash after it.
    #[test]
    fn short_printable_text_is_not_a_message(text in "[ -~]{0,1000}") {
        prop_assert!(!could_be_transaction_message(text.as_bytes()));
    }

    /// Decoding never panics on any parsed message, and could_be never
    /// panics on any bytes (and accepts everything our strict parser accepts).
    #[test]
    fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
        let could = could_be_transaction_message(&bytes);
        if let Ok(msg) = parse_message(&bytes) {
            prop_assert!(could);
            let _ = decode_message(&msg);
        }
    }
}
