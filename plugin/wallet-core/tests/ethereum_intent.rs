//! The intent decoders against independent encoders: alloy's `sol!` ABI
//! encoding of every recognised call, and alloy's EIP-712 (`sol!` structs,
//! `TypedData::from_struct`, `eip712_signing_hash`) for every recognised
//! typed-data standard. Plus the refusals: non-canonical calldata, shapes
//! that are not the standard's, domains that name no (or another) contract.
//!
//! `PROPTEST_CASES` raises the number of cases of every property here.

// Solidity's argument names (`tokenId`, `sigDeadline`, ...) as alloy spells them.
#![allow(non_snake_case)]

use alloy_dyn_abi::TypedData as AlloyTypedData;
use alloy_primitives::aliases::{U48, U160};
use alloy_primitives::{Address as AAddress, B256, Bytes, FixedBytes};
use alloy_sol_types::{Eip712Domain, SolCall, SolStruct, sol};
use proptest::prelude::*;
use serde_json::{Value, json};
use wallet_core::ethereum::eip712::{TypedData, TypedDataError};
use wallet_core::ethereum::intent::{
    CallIntent, CalldataError, MAX_MOVEMENTS, MovementKind, PERMIT2, TokenMovement, TypedIntent,
    TypedIntentError, decode_calldata, decode_typed_data, selectors, type_strings,
};
use wallet_core::ethereum::{Address, U256, keccak256};

sol! {
    #[derive(Debug, PartialEq)]
    interface IERC20 {
        function transfer(address to, uint256 amount) external returns (bool);
        function transferFrom(address from, address to, uint256 amount) external returns (bool);
        function approve(address spender, uint256 amount) external returns (bool);
        function increaseAllowance(address spender, uint256 addedValue) external returns (bool);
    }
    #[derive(Debug, PartialEq)]
    interface IERC721 {
        function safeTransferFrom(address from, address to, uint256 tokenId) external;
        function safeTransferFrom(address from, address to, uint256 tokenId, bytes data) external;
        function setApprovalForAll(address operator, bool approved) external;
    }
    #[derive(Debug, PartialEq)]
    interface IERC1155 {
        function safeTransferFrom(address from, address to, uint256 id, uint256 value, bytes data) external;
        function safeBatchTransferFrom(address from, address to, uint256[] ids, uint256[] values, bytes data) external;
    }
    #[derive(Debug, PartialEq)]
    interface IPermit2 {
        function approve(address token, address spender, uint160 amount, uint48 expiration) external;
    }
}

mod eip2612 {
    alloy_sol_types::sol! {
        #[derive(Debug, serde::Serialize)]
        struct Permit { address owner; address spender; uint256 value; uint256 nonce; uint256 deadline; }
    }
}

mod dai {
    alloy_sol_types::sol! {
        #[derive(Debug, serde::Serialize)]
        struct Permit { address holder; address spender; uint256 nonce; uint256 expiry; bool allowed; }
    }
}

mod permit2 {
    alloy_sol_types::sol! {
        #[derive(Debug, serde::Serialize)]
        struct PermitDetails { address token; uint160 amount; uint48 expiration; uint48 nonce; }
        #[derive(Debug, serde::Serialize)]
        struct PermitSingle { PermitDetails details; address spender; uint256 sigDeadline; }
        #[derive(Debug, serde::Serialize)]
        struct PermitBatch { PermitDetails[] details; address spender; uint256 sigDeadline; }
        #[derive(Debug, serde::Serialize)]
        struct TokenPermissions { address token; uint256 amount; }
        #[derive(Debug, serde::Serialize)]
        struct PermitTransferFrom { TokenPermissions permitted; address spender; uint256 nonce; uint256 deadline; }
        #[derive(Debug, serde::Serialize)]
        struct PermitBatchTransferFrom { TokenPermissions[] permitted; address spender; uint256 nonce; uint256 deadline; }
    }
}

mod eip3009 {
    alloy_sol_types::sol! {
        #[derive(Debug, serde::Serialize)]
        struct TransferWithAuthorization { address from; address to; uint256 value; uint256 validAfter; uint256 validBefore; bytes32 nonce; }
        #[derive(Debug, serde::Serialize)]
        struct ReceiveWithAuthorization { address from; address to; uint256 value; uint256 validAfter; uint256 validBefore; bytes32 nonce; }
    }
}

/// `PROPTEST_CASES` when set, else `default`.
fn cases(default: u32) -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn ours(a: AAddress) -> Address {
    Address(a.into_array())
}

fn theirs(a: Address) -> AAddress {
    AAddress::from(a.0)
}

fn u160(v: U160) -> U256 {
    U256::from_be_slice(&v.to_be_bytes::<20>())
}

fn permit2_max() -> U256 {
    (U256::from(1u8) << 160) - U256::from(1u8)
}

fn mv(kind: MovementKind, token: Address, counterparty: Address, amount: U256) -> TokenMovement {
    TokenMovement {
        kind,
        token,
        counterparty,
        amount,
        token_id: None,
        unlimited: false,
        from: None,
    }
}

// ---------------------------------------------------------------- calldata

/// One recognised call, as alloy's `sol!` types hold it.
#[derive(Debug, Clone)]
enum Call {
    Transfer(IERC20::transferCall),
    TransferFrom(IERC20::transferFromCall),
    Approve(IERC20::approveCall),
    IncreaseAllowance(IERC20::increaseAllowanceCall),
    Safe721(IERC721::safeTransferFrom_0Call),
    Safe721Data(IERC721::safeTransferFrom_1Call),
    SetApprovalForAll(IERC721::setApprovalForAllCall),
    Safe1155(IERC1155::safeTransferFromCall),
    Batch1155(IERC1155::safeBatchTransferFromCall),
    Permit2Approve(IPermit2::approveCall),
}

impl Call {
    fn encode(&self) -> Vec<u8> {
        match self {
            Call::Transfer(c) => c.abi_encode(),
            Call::TransferFrom(c) => c.abi_encode(),
            Call::Approve(c) => c.abi_encode(),
            Call::IncreaseAllowance(c) => c.abi_encode(),
            Call::Safe721(c) => c.abi_encode(),
            Call::Safe721Data(c) => c.abi_encode(),
            Call::SetApprovalForAll(c) => c.abi_encode(),
            Call::Safe1155(c) => c.abi_encode(),
            Call::Batch1155(c) => c.abi_encode(),
            Call::Permit2Approve(c) => c.abi_encode(),
        }
    }

    /// alloy's reading of `data` as the same method, if `data` is exactly
    /// what alloy would encode for what it reads (the canonical encoding).
    fn canonical_reading(&self, data: &[u8]) -> Option<Call> {
        fn read<C: SolCall>(data: &[u8]) -> Option<C> {
            let c = C::abi_decode(data).ok()?;
            (c.abi_encode() == data).then_some(c)
        }
        Some(match self {
            Call::Transfer(_) => Call::Transfer(read(data)?),
            Call::TransferFrom(_) => Call::TransferFrom(read(data)?),
            Call::Approve(_) => Call::Approve(read(data)?),
            Call::IncreaseAllowance(_) => Call::IncreaseAllowance(read(data)?),
            Call::Safe721(_) => Call::Safe721(read(data)?),
            Call::Safe721Data(_) => Call::Safe721Data(read(data)?),
            Call::SetApprovalForAll(_) => Call::SetApprovalForAll(read(data)?),
            Call::Safe1155(_) => Call::Safe1155(read(data)?),
            Call::Batch1155(_) => Call::Batch1155(read(data)?),
            Call::Permit2Approve(_) => Call::Permit2Approve(read(data)?),
        })
    }

    /// The transaction's `to` used for this call.
    fn to(&self, token: Address) -> Address {
        match self {
            Call::Permit2Approve(_) => PERMIT2,
            _ => token,
        }
    }

    /// What our decoder must say, written from alloy's fields and the
    /// brief's semantics (not from our decoder).
    fn expected(&self, token: Address) -> CallIntent {
        use MovementKind::{Approval, OperatorApproval, Transfer};
        let (selector, method, movements) = match self {
            Call::Transfer(c) => (
                IERC20::transferCall::SELECTOR,
                "transfer",
                vec![mv(Transfer, token, ours(c.to), c.amount)],
            ),
            Call::TransferFrom(c) => (
                IERC20::transferFromCall::SELECTOR,
                "transferFrom",
                vec![TokenMovement {
                    from: Some(ours(c.from)),
                    ..mv(Transfer, token, ours(c.to), c.amount)
                }],
            ),
            Call::Approve(c) => (
                IERC20::approveCall::SELECTOR,
                "approve",
                vec![TokenMovement {
                    unlimited: c.amount == U256::MAX,
                    ..mv(Approval, token, ours(c.spender), c.amount)
                }],
            ),
            Call::IncreaseAllowance(c) => (
                IERC20::increaseAllowanceCall::SELECTOR,
                "increaseAllowance",
                vec![TokenMovement {
                    unlimited: c.addedValue == U256::MAX,
                    ..mv(Approval, token, ours(c.spender), c.addedValue)
                }],
            ),
            Call::Safe721(c) => (
                IERC721::safeTransferFrom_0Call::SELECTOR,
                "safeTransferFrom",
                vec![TokenMovement {
                    token_id: Some(c.tokenId),
                    from: Some(ours(c.from)),
                    ..mv(Transfer, token, ours(c.to), U256::from(1u8))
                }],
            ),
            Call::Safe721Data(c) => (
                IERC721::safeTransferFrom_1Call::SELECTOR,
                "safeTransferFrom",
                vec![TokenMovement {
                    token_id: Some(c.tokenId),
                    from: Some(ours(c.from)),
                    ..mv(Transfer, token, ours(c.to), U256::from(1u8))
                }],
            ),
            Call::SetApprovalForAll(c) => (
                IERC721::setApprovalForAllCall::SELECTOR,
                "setApprovalForAll",
                vec![TokenMovement {
                    unlimited: c.approved,
                    ..mv(OperatorApproval, token, ours(c.operator), U256::ZERO)
                }],
            ),
            Call::Safe1155(c) => (
                IERC1155::safeTransferFromCall::SELECTOR,
                "safeTransferFrom",
                vec![TokenMovement {
                    token_id: Some(c.id),
                    from: Some(ours(c.from)),
                    ..mv(Transfer, token, ours(c.to), c.value)
                }],
            ),
            Call::Batch1155(c) => (
                IERC1155::safeBatchTransferFromCall::SELECTOR,
                "safeBatchTransferFrom",
                c.ids
                    .iter()
                    .zip(&c.values)
                    .map(|(id, value)| TokenMovement {
                        token_id: Some(*id),
                        from: Some(ours(c.from)),
                        ..mv(Transfer, token, ours(c.to), *value)
                    })
                    .collect(),
            ),
            Call::Permit2Approve(c) => (
                IPermit2::approveCall::SELECTOR,
                "permit2.approve",
                vec![TokenMovement {
                    unlimited: u160(c.amount) == permit2_max(),
                    ..mv(Approval, ours(c.token), ours(c.spender), u160(c.amount))
                }],
            ),
        };
        CallIntent::Token {
            selector,
            method,
            movements,
        }
    }
}

fn addr() -> impl Strategy<Value = AAddress> {
    any::<[u8; 20]>().prop_map(AAddress::from)
}

fn amount() -> impl Strategy<Value = U256> {
    prop_oneof![
        Just(U256::ZERO),
        Just(U256::MAX),
        any::<u64>().prop_map(U256::from),
        any::<[u8; 32]>().prop_map(U256::from_be_bytes),
    ]
}

fn amount160() -> impl Strategy<Value = U160> {
    prop_oneof![
        Just(U160::MAX),
        Just(U160::ZERO),
        any::<[u8; 20]>().prop_map(|b| U160::from_be_bytes(b)),
    ]
}

fn bytes_arg() -> impl Strategy<Value = Bytes> {
    prop::collection::vec(any::<u8>(), 0..80).prop_map(Bytes::from)
}

fn call() -> impl Strategy<Value = Call> {
    let ids = prop::collection::vec((amount(), amount()), 0..6);
    prop_oneof![
        (addr(), amount())
            .prop_map(|(to, amount)| Call::Transfer(IERC20::transferCall { to, amount })),
        (addr(), addr(), amount()).prop_map(|(from, to, amount)| Call::TransferFrom(
            IERC20::transferFromCall { from, to, amount }
        )),
        (addr(), amount())
            .prop_map(|(spender, amount)| Call::Approve(IERC20::approveCall { spender, amount })),
        (addr(), amount()).prop_map(|(spender, addedValue)| Call::IncreaseAllowance(
            IERC20::increaseAllowanceCall {
                spender,
                addedValue
            }
        )),
        (addr(), addr(), amount()).prop_map(|(from, to, tokenId)| Call::Safe721(
            IERC721::safeTransferFrom_0Call { from, to, tokenId }
        )),
        (addr(), addr(), amount(), bytes_arg()).prop_map(|(from, to, tokenId, data)| {
            Call::Safe721Data(IERC721::safeTransferFrom_1Call {
                from,
                to,
                tokenId,
                data,
            })
        }),
        (addr(), any::<bool>()).prop_map(|(operator, approved)| Call::SetApprovalForAll(
            IERC721::setApprovalForAllCall { operator, approved }
        )),
        (addr(), addr(), amount(), amount(), bytes_arg()).prop_map(
            |(from, to, id, value, data)| Call::Safe1155(IERC1155::safeTransferFromCall {
                from,
                to,
                id,
                value,
                data,
            })
        ),
        (addr(), addr(), ids, bytes_arg()).prop_map(|(from, to, pairs, data)| {
            let (ids, values) = pairs.into_iter().unzip();
            Call::Batch1155(IERC1155::safeBatchTransferFromCall {
                from,
                to,
                ids,
                values,
                data,
            })
        }),
        (addr(), addr(), amount160(), any::<u64>()).prop_map(|(token, spender, amount, exp)| {
            Call::Permit2Approve(IPermit2::approveCall {
                token,
                spender,
                amount,
                expiration: U48::from(exp & ((1 << 48) - 1)),
            })
        }),
    ]
}

/// A change to an encoding.
#[derive(Debug, Clone)]
enum Mutation {
    SetByte(usize, u8),
    /// Sets a whole word to a small number (offsets and lengths live there).
    SetWord(usize, u64),
    Truncate(usize),
    Append(Vec<u8>),
    /// Inserts a word of zeros at a word boundary (shifts a dynamic part).
    InsertWord(usize),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        (any::<usize>(), any::<u8>()).prop_map(|(p, b)| Mutation::SetByte(p, b)),
        (any::<usize>(), 0u64..0x200).prop_map(|(w, v)| Mutation::SetWord(w, v)),
        (any::<usize>(), 0u64..0x200).prop_map(|(w, v)| Mutation::SetWord(w, v * 32)),
        any::<usize>().prop_map(Mutation::Truncate),
        prop::collection::vec(any::<u8>(), 1..70).prop_map(Mutation::Append),
        any::<usize>().prop_map(Mutation::InsertWord),
    ]
}

fn apply(data: &[u8], m: &Mutation) -> Vec<u8> {
    let mut out = data.to_vec();
    let args = out.len() - 4;
    let words = args / 32;
    match m {
        Mutation::SetByte(p, b) => {
            if args > 0 {
                out[4 + p % args] = *b;
            }
        }
        Mutation::SetWord(w, v) => {
            if words > 0 {
                let at = 4 + (w % words) * 32;
                out[at..at + 32].copy_from_slice(&U256::from(*v).to_be_bytes::<32>());
            }
        }
        Mutation::Truncate(n) => out.truncate(4 + n % args.max(1)),
        Mutation::Append(bytes) => out.extend_from_slice(bytes),
        Mutation::InsertWord(w) => {
            let at = 4 + (w % (words + 1)) * 32;
            out.splice(at..at, [0u8; 32]);
        }
    }
    out
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(cases(512)))]

    /// Every form alloy encodes decodes to its arguments.
    #[test]
    fn alloy_encodings_round_trip(c in call(), token in any::<[u8; 20]>().prop_map(Address)) {
        let data = c.encode();
        let to = c.to(token);
        prop_assert_eq!(decode_calldata(to, &data), Ok(c.expected(to)));
    }

    /// Differential, on mutated encodings: we accept exactly what alloy
    /// reads back to the same bytes (the canonical encoding), and then read
    /// the same arguments. The one difference is ours on purpose: an ERC-1155
    /// batch whose `ids` and `values` differ in length is refused.
    #[test]
    fn we_accept_exactly_the_canonical_encodings(
        c in call(),
        m in mutation(),
        token in any::<[u8; 20]>().prop_map(Address),
    ) {
        let data = apply(&c.encode(), &m);
        let to = c.to(token);
        let got = decode_calldata(to, &data);
        match c.canonical_reading(&data) {
            Some(Call::Batch1155(b)) if b.ids.len() != b.values.len() => {
                prop_assert_eq!(got, Err(CalldataError {
                    method: "safeBatchTransferFrom",
                    reason: "`ids` and `values` have different lengths",
                }));
            }
            Some(read) => prop_assert_eq!(got, Ok(read.expected(to))),
            None => prop_assert!(got.is_err(), "accepted a non-canonical encoding: {:?}", got),
        }
    }

    /// Any bytes: no panic, and anything accepted under a recognised
    /// selector re-encodes (with alloy) to the same bytes.
    #[test]
    fn random_bytes_never_panic(
        sel in prop::sample::select(selectors().map(|(_, s, _)| s).collect::<Vec<_>>()),
        words in prop::collection::vec(
            prop_oneof![
                Just([0u8; 32]),
                (0u64..0x400).prop_map(|v| U256::from(v).to_be_bytes::<32>()),
                any::<[u8; 32]>(),
            ],
            0..12,
        ),
        tail in prop::collection::vec(any::<u8>(), 0..40),
    ) {
        let mut data = sel.to_vec();
        for w in &words {
            data.extend_from_slice(w);
        }
        data.extend_from_slice(&tail);
        if let Ok(CallIntent::Token { .. }) = decode_calldata(PERMIT2, &data) {
            let again = reencode_with_alloy(&data);
            prop_assert_eq!(again.as_deref(), Some(&data[..]));
        }
    }
}

/// Decodes with alloy as whichever recognised method the selector names and
/// re-encodes.
fn reencode_with_alloy(data: &[u8]) -> Option<Vec<u8>> {
    fn re<C: SolCall>(data: &[u8]) -> Option<Vec<u8>> {
        C::abi_decode(data).ok().map(|c| c.abi_encode())
    }
    let sel: [u8; 4] = data.get(..4)?.try_into().ok()?;
    match sel {
        IERC20::transferCall::SELECTOR => re::<IERC20::transferCall>(data),
        IERC20::transferFromCall::SELECTOR => re::<IERC20::transferFromCall>(data),
        IERC20::approveCall::SELECTOR => re::<IERC20::approveCall>(data),
        IERC20::increaseAllowanceCall::SELECTOR => re::<IERC20::increaseAllowanceCall>(data),
        IERC721::safeTransferFrom_0Call::SELECTOR => re::<IERC721::safeTransferFrom_0Call>(data),
        IERC721::safeTransferFrom_1Call::SELECTOR => re::<IERC721::safeTransferFrom_1Call>(data),
        IERC721::setApprovalForAllCall::SELECTOR => re::<IERC721::setApprovalForAllCall>(data),
        IERC1155::safeTransferFromCall::SELECTOR => re::<IERC1155::safeTransferFromCall>(data),
        IERC1155::safeBatchTransferFromCall::SELECTOR => {
            re::<IERC1155::safeBatchTransferFromCall>(data)
        }
        IPermit2::approveCall::SELECTOR => re::<IPermit2::approveCall>(data),
        _ => None,
    }
}

#[test]
fn selectors_are_keccak_of_their_signatures_and_alloys() {
    let table: Vec<_> = selectors().collect();
    assert_eq!(table.len(), 10);
    for (signature, selector, _) in &table {
        assert_eq!(
            &keccak256(signature.as_bytes())[..4],
            selector,
            "{signature}"
        );
    }
    let alloy = [
        (
            IERC20::transferCall::SIGNATURE,
            IERC20::transferCall::SELECTOR,
        ),
        (
            IERC20::transferFromCall::SIGNATURE,
            IERC20::transferFromCall::SELECTOR,
        ),
        (
            IERC20::approveCall::SIGNATURE,
            IERC20::approveCall::SELECTOR,
        ),
        (
            IERC20::increaseAllowanceCall::SIGNATURE,
            IERC20::increaseAllowanceCall::SELECTOR,
        ),
        (
            IERC721::safeTransferFrom_0Call::SIGNATURE,
            IERC721::safeTransferFrom_0Call::SELECTOR,
        ),
        (
            IERC721::safeTransferFrom_1Call::SIGNATURE,
            IERC721::safeTransferFrom_1Call::SELECTOR,
        ),
        (
            IERC721::setApprovalForAllCall::SIGNATURE,
            IERC721::setApprovalForAllCall::SELECTOR,
        ),
        (
            IERC1155::safeTransferFromCall::SIGNATURE,
            IERC1155::safeTransferFromCall::SELECTOR,
        ),
        (
            IERC1155::safeBatchTransferFromCall::SIGNATURE,
            IERC1155::safeBatchTransferFromCall::SELECTOR,
        ),
        (
            IPermit2::approveCall::SIGNATURE,
            IPermit2::approveCall::SELECTOR,
        ),
    ];
    for (signature, selector) in alloy {
        assert!(
            table
                .iter()
                .any(|(s, sel, _)| *s == signature && *sel == selector),
            "{signature} missing"
        );
    }
}

#[test]
fn permit2_is_the_canonical_address() {
    let canonical: Address = "0x000000000022D473030F116dDEE9F6B43aC78BA3"
        .parse()
        .expect("EIP-55");
    assert_eq!(PERMIT2, canonical);
}

fn token() -> Address {
    Address([0x70; 20])
}

fn a(byte: u8) -> AAddress {
    AAddress::from([byte; 20])
}

fn err(method: &'static str, reason: &'static str) -> Result<CallIntent, CalldataError> {
    Err(CalldataError { method, reason })
}

#[test]
fn plain_and_other_calldata() {
    assert_eq!(decode_calldata(token(), &[]), Ok(CallIntent::Plain));
    assert_eq!(
        decode_calldata(token(), &[0xa9, 0x05, 0x9c]),
        Ok(CallIntent::Other { selector: None })
    );
    assert_eq!(
        decode_calldata(token(), &[1, 2, 3, 4, 5]),
        Ok(CallIntent::Other {
            selector: Some([1, 2, 3, 4])
        })
    );
    // Permit2's approve selector sent anywhere but Permit2 is some other
    // contract's method: not recognised (the policy's allowed_contracts
    // decides), not read as a Permit2 approval of an argument token.
    let data = IPermit2::approveCall {
        token: a(1),
        spender: a(2),
        amount: U160::from(5u8),
        expiration: U48::ZERO,
    }
    .abi_encode();
    assert_eq!(
        decode_calldata(token(), &data),
        Ok(CallIntent::Other {
            selector: Some(IPermit2::approveCall::SELECTOR)
        })
    );
    assert!(matches!(
        decode_calldata(PERMIT2, &data),
        Ok(CallIntent::Token {
            method: "permit2.approve",
            ..
        })
    ));
}

#[test]
fn dirty_address_bits_are_refused() {
    let mut data = IERC20::transferCall {
        to: a(0xee),
        amount: U256::from(1u8),
    }
    .abi_encode();
    data[4] = 0x01; // first of the 12 bytes above the address
    assert_eq!(
        decode_calldata(token(), &data),
        err(
            "transfer",
            "`to` is not an address (its upper 12 bytes must be zero)"
        )
    );
    let mut data = IERC1155::safeBatchTransferFromCall {
        from: a(1),
        to: a(2),
        ids: vec![],
        values: vec![],
        data: Bytes::new(),
    }
    .abi_encode();
    data[4 + 11] = 0x80; // last of the 12 bytes above `from`
    assert_eq!(
        decode_calldata(token(), &data),
        err(
            "safeBatchTransferFrom",
            "`from` is not an address (its upper 12 bytes must be zero)"
        )
    );
}

#[test]
fn trailing_and_missing_bytes_are_refused() {
    let data = IERC20::approveCall {
        spender: a(3),
        amount: U256::MAX,
    }
    .abi_encode();
    let mut long = data.clone();
    long.push(0);
    assert_eq!(
        decode_calldata(token(), &long),
        err(
            "approve",
            "has bytes after its arguments (static arguments have an exact length)"
        )
    );
    assert_eq!(
        decode_calldata(token(), &data[..data.len() - 1]),
        err("approve", "shorter than its arguments")
    );
    assert_eq!(
        decode_calldata(token(), &data[..4]),
        err("approve", "shorter than its arguments")
    );
    let mut long = IERC721::safeTransferFrom_1Call {
        from: a(1),
        to: a(2),
        tokenId: U256::from(7u8),
        data: Bytes::from(vec![1, 2, 3]),
    }
    .abi_encode();
    long.extend_from_slice(&[0u8; 32]);
    assert_eq!(
        decode_calldata(token(), &long),
        err("safeTransferFrom", "has bytes after its last argument")
    );
}

#[test]
fn bool_and_narrow_uints_are_range_checked() {
    let mut data = IERC721::setApprovalForAllCall {
        operator: a(9),
        approved: true,
    }
    .abi_encode();
    data[4 + 63] = 2;
    assert_eq!(
        decode_calldata(token(), &data),
        err(
            "setApprovalForAll",
            "`approved` is not a bool (the word must be 0 or 1)"
        )
    );
    let call = IPermit2::approveCall {
        token: a(1),
        spender: a(2),
        amount: U160::MAX,
        expiration: U48::MAX,
    };
    let base = call.abi_encode();
    let mut data = base.clone();
    data[4 + 64 + 11] = 1; // amount = 2^160 + (2^160 - 1)
    assert_eq!(
        decode_calldata(PERMIT2, &data),
        err("permit2.approve", "`amount` exceeds uint160")
    );
    let mut data = base.clone();
    data[4 + 96 + 25] = 1; // expiration >= 2^48
    assert_eq!(
        decode_calldata(PERMIT2, &data),
        err("permit2.approve", "`expiration` exceeds uint48")
    );
    // At the limits they are fine, and 2^160-1 is unlimited.
    let Ok(CallIntent::Token { movements, .. }) = decode_calldata(PERMIT2, &base) else {
        panic!("canonical permit2.approve refused");
    };
    assert!(movements[0].unlimited);
    assert_eq!(movements[0].amount, permit2_max());
}

#[test]
fn dynamic_parts_must_be_canonical() {
    let call = IERC1155::safeTransferFromCall {
        from: a(1),
        to: a(2),
        id: U256::from(3u8),
        value: U256::from(4u8),
        data: Bytes::from(vec![0xab; 5]),
    };
    let base = call.abi_encode();
    let offset_word = 4 + 4 * 32;
    // An offset one word further, with the tail moved along: alloy's
    // (lenient) decoder would read the same arguments; a contract reads what
    // it reads. We refuse.
    let mut data = base.clone();
    data[offset_word + 31] = 0xc0;
    data.splice(4 + 0xa0..4 + 0xa0, [0u8; 32]);
    assert!(IERC1155::safeTransferFromCall::abi_decode(&data).is_ok());
    assert_eq!(
        decode_calldata(token(), &data),
        err(
            "safeTransferFrom",
            "offset of `data` is not the canonical one"
        )
    );
    // An offset pointing back into the head.
    let mut data = base.clone();
    data[offset_word + 31] = 0x60;
    assert_eq!(
        decode_calldata(token(), &data),
        err(
            "safeTransferFrom",
            "offset of `data` is not the canonical one"
        )
    );
    // A huge offset and a huge length: errors, no overflow.
    let mut data = base.clone();
    data[offset_word] = 0xff;
    assert_eq!(
        decode_calldata(token(), &data),
        err(
            "safeTransferFrom",
            "offset of `data` is not the canonical one"
        )
    );
    let mut data = base.clone();
    data[4 + 0xa0] = 0xff;
    assert_eq!(
        decode_calldata(token(), &data),
        err(
            "safeTransferFrom",
            "length of `data` runs past the end of the calldata"
        )
    );
    let mut data = base.clone();
    data[4 + 0xa0 + 31] = 6 + 32; // one byte more than there is (padded to 64)
    assert_eq!(
        decode_calldata(token(), &data),
        err(
            "safeTransferFrom",
            "length of `data` runs past the end of the calldata"
        )
    );
    // Non-zero padding after the content.
    let mut data = base.clone();
    let last = data.len() - 1;
    data[last] = 1;
    assert_eq!(
        decode_calldata(token(), &data),
        err("safeTransferFrom", "padding after `data` is not zero")
    );
    // The canonical one decodes.
    assert!(decode_calldata(token(), &base).is_ok());
}

#[test]
fn batch_arrays_are_checked() {
    let batch = |ids: Vec<U256>, values: Vec<U256>| {
        IERC1155::safeBatchTransferFromCall {
            from: a(1),
            to: a(2),
            ids,
            values,
            data: Bytes::new(),
        }
        .abi_encode()
    };
    let n = |k: usize| (0..k).map(U256::from).collect::<Vec<_>>();
    assert_eq!(
        decode_calldata(token(), &batch(n(2), n(3))),
        err(
            "safeBatchTransferFrom",
            "`ids` and `values` have different lengths"
        )
    );
    let Ok(CallIntent::Token { movements, .. }) =
        decode_calldata(token(), &batch(n(MAX_MOVEMENTS), n(MAX_MOVEMENTS)))
    else {
        panic!("a batch at the bound is refused");
    };
    assert_eq!(movements.len(), MAX_MOVEMENTS);
    assert_eq!(movements[255].token_id, Some(U256::from(255u16)));
    assert_eq!(
        decode_calldata(token(), &batch(n(MAX_MOVEMENTS + 1), n(MAX_MOVEMENTS + 1))),
        err(
            "safeBatchTransferFrom",
            "`ids` is longer than the calldata or than 256 entries"
        )
    );
    // `values` at the same offset as `ids` (an overlap alloy reads as two
    // equal arrays): refused.
    let data = batch(n(2), n(2));
    let mut overlap = data.clone();
    overlap[4 + 3 * 32..4 + 4 * 32].copy_from_slice(&data[4 + 2 * 32..4 + 3 * 32]);
    assert_eq!(
        decode_calldata(token(), &overlap),
        err(
            "safeBatchTransferFrom",
            "offset of `values` is not the canonical one"
        )
    );
    // A length claiming more entries than the calldata holds.
    let mut long = data.clone();
    long[4 + 0xa0 + 30] = 0x01; // ids.length = 256 + 2
    assert_eq!(
        decode_calldata(token(), &long),
        err(
            "safeBatchTransferFrom",
            "`ids` is longer than the calldata or than 256 entries"
        )
    );
    // Lengths of 2^64-1 and 2^256-1: refused before anything is allocated.
    for fill in [&[0xffu8; 8][..], &[0xff; 32][..]] {
        let mut huge = data.clone();
        huge[4 + 0xa0 + 32 - fill.len()..4 + 0xa0 + 32].copy_from_slice(fill);
        assert_eq!(
            decode_calldata(token(), &huge),
            err(
                "safeBatchTransferFrom",
                "`ids` is longer than the calldata or than 256 entries"
            )
        );
    }
}

/// Large inputs are read in one linear pass: a 1 MiB `bytes` argument
/// decodes, and one more byte of padding or one non-zero padding byte at the
/// far end is still found.
#[test]
fn a_large_bytes_argument_is_read_to_the_end() {
    let call = IERC1155::safeTransferFromCall {
        from: a(1),
        to: a(2),
        id: U256::from(3u8),
        value: U256::from(4u8),
        data: Bytes::from(vec![0x5a; (1 << 20) - 1]),
    };
    let data = call.abi_encode();
    assert_eq!(
        decode_calldata(token(), &data),
        Ok(Call::Safe1155(call).expected(token()))
    );
    let mut dirty = data.clone();
    let last = dirty.len() - 1;
    dirty[last] = 1;
    assert_eq!(
        decode_calldata(token(), &dirty),
        err("safeTransferFrom", "padding after `data` is not zero")
    );
    let mut long = data;
    long.push(0);
    assert_eq!(
        decode_calldata(token(), &long),
        err("safeTransferFrom", "has bytes after its last argument")
    );
}

// -------------------------------------------------------------- typed data

/// alloy builds the typed-data JSON (types, domain and message) from a
/// `sol!` struct; we parse that JSON, hash it, and decode it.
fn alloy_json<S: SolStruct + serde::Serialize>(s: &S, domain: &Eip712Domain) -> Value {
    let td = AlloyTypedData::from_struct(s, Some(domain.clone()));
    serde_json::to_value(&td).expect("serializes")
}

/// Our hash must equal alloy's (both of its ways) and decoding must succeed.
fn check_hash<S: SolStruct + serde::Serialize>(
    s: &S,
    domain: &Eip712Domain,
) -> Result<TypedIntent, TestCaseError> {
    let json = alloy_json(s, domain);
    let td = TypedData::from_json(&json).map_err(|e| TestCaseError::fail(e.to_string()))?;
    let ours = td.hash().map_err(|e| TestCaseError::fail(e.to_string()))?;
    let expected: B256 = s.eip712_signing_hash(domain);
    prop_assert_eq!(ours.signing_hash, expected.0);
    let via_json = AlloyTypedData::from_struct(s, Some(domain.clone()))
        .eip712_signing_hash()
        .map_err(|e| TestCaseError::fail(e.to_string()))?;
    prop_assert_eq!(via_json, expected);
    decode_typed_data(&td).map_err(|e| TestCaseError::fail(e.to_string()))
}

fn token_domain(name: String, chain_id: u64, contract: AAddress) -> Eip712Domain {
    Eip712Domain::new(
        Some(name.into()),
        Some("1".into()),
        Some(U256::from(chain_id)),
        Some(contract),
        None,
    )
}

fn permit2_domain(chain_id: u64) -> Eip712Domain {
    Eip712Domain::new(
        Some("Permit2".into()),
        None,
        Some(U256::from(chain_id)),
        Some(theirs(PERMIT2)),
        None,
    )
}

fn details() -> impl Strategy<Value = permit2::PermitDetails> {
    (addr(), amount160(), any::<u64>(), any::<u64>()).prop_map(|(token, amount, e, n)| {
        permit2::PermitDetails {
            token,
            amount,
            expiration: U48::from(e & ((1 << 48) - 1)),
            nonce: U48::from(n & ((1 << 48) - 1)),
        }
    })
}

fn permissions() -> impl Strategy<Value = permit2::TokenPermissions> {
    (addr(), amount()).prop_map(|(token, amount)| permit2::TokenPermissions { token, amount })
}

fn permit2_approval(token: AAddress, spender: AAddress, amount: U256) -> TokenMovement {
    TokenMovement {
        unlimited: amount >= permit2_max(),
        ..mv(MovementKind::Approval, ours(token), ours(spender), amount)
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(cases(64)))]

    #[test]
    fn eip2612_permit(
        owner in addr(), spender in addr(), value in amount(), nonce in amount(),
        deadline in amount(), contract in addr(), chain in any::<u64>(), name in "[ -~]{0,20}",
    ) {
        let p = eip2612::Permit { owner, spender, value, nonce, deadline };
        let intent = check_hash(&p, &token_domain(name, chain, contract))?;
        prop_assert_eq!(intent, TypedIntent::Token {
            standard: "EIP-2612 Permit",
            verifying_contract: ours(contract),
            movements: vec![TokenMovement {
                unlimited: value == U256::MAX,
                from: Some(ours(owner)),
                ..mv(MovementKind::Approval, ours(contract), ours(spender), value)
            }],
        });
    }

    #[test]
    fn dai_permit(
        holder in addr(), spender in addr(), nonce in amount(), expiry in amount(),
        allowed in any::<bool>(), contract in addr(), chain in any::<u64>(),
    ) {
        let p = dai::Permit { holder, spender, nonce, expiry, allowed };
        let intent = check_hash(&p, &token_domain("Dai Stablecoin".into(), chain, contract))?;
        prop_assert_eq!(intent, TypedIntent::Token {
            standard: "DAI Permit",
            verifying_contract: ours(contract),
            movements: vec![TokenMovement {
                unlimited: allowed,
                from: Some(ours(holder)),
                ..mv(
                    MovementKind::Approval,
                    ours(contract),
                    ours(spender),
                    if allowed { U256::MAX } else { U256::ZERO },
                )
            }],
        });
    }

    #[test]
    fn permit2_permit_single_and_batch(
        d in details(), batch in prop::collection::vec(details(), 0..5),
        spender in addr(), deadline in amount(), chain in any::<u64>(),
    ) {
        let domain = permit2_domain(chain);
        let single = permit2::PermitSingle { details: d.clone(), spender, sigDeadline: deadline };
        prop_assert_eq!(check_hash(&single, &domain)?, TypedIntent::Token {
            standard: "Permit2 PermitSingle",
            verifying_contract: PERMIT2,
            movements: vec![permit2_approval(d.token, spender, u160(d.amount))],
        });
        let expected = batch
            .iter()
            .map(|d| permit2_approval(d.token, spender, u160(d.amount)))
            .collect();
        let many = permit2::PermitBatch { details: batch, spender, sigDeadline: deadline };
        prop_assert_eq!(check_hash(&many, &domain)?, TypedIntent::Token {
            standard: "Permit2 PermitBatch",
            verifying_contract: PERMIT2,
            movements: expected,
        });
    }

    #[test]
    fn permit2_signature_transfers(
        p in permissions(), batch in prop::collection::vec(permissions(), 0..5),
        spender in addr(), nonce in amount(), deadline in amount(), chain in any::<u64>(),
    ) {
        let domain = permit2_domain(chain);
        let single = permit2::PermitTransferFrom { permitted: p.clone(), spender, nonce, deadline };
        prop_assert_eq!(check_hash(&single, &domain)?, TypedIntent::Token {
            standard: "Permit2 PermitTransferFrom",
            verifying_contract: PERMIT2,
            movements: vec![permit2_approval(p.token, spender, p.amount)],
        });
        let expected = batch
            .iter()
            .map(|p| permit2_approval(p.token, spender, p.amount))
            .collect();
        let many = permit2::PermitBatchTransferFrom { permitted: batch, spender, nonce, deadline };
        prop_assert_eq!(check_hash(&many, &domain)?, TypedIntent::Token {
            standard: "Permit2 PermitBatchTransferFrom",
            verifying_contract: PERMIT2,
            movements: expected,
        });
    }

    #[test]
    fn eip3009_authorizations(
        from in addr(), to in addr(), value in amount(), after in amount(), before in amount(),
        nonce in any::<[u8; 32]>(), contract in addr(), chain in any::<u64>(),
    ) {
        let domain = token_domain("USD Coin".into(), chain, contract);
        let expected = |standard| TypedIntent::Token {
            standard,
            verifying_contract: ours(contract),
            movements: vec![TokenMovement {
                from: Some(ours(from)),
                ..mv(MovementKind::Transfer, ours(contract), ours(to), value)
            }],
        };
        let t = eip3009::TransferWithAuthorization {
            from, to, value, validAfter: after, validBefore: before, nonce: FixedBytes(nonce),
        };
        prop_assert_eq!(check_hash(&t, &domain)?, expected("EIP-3009 TransferWithAuthorization"));
        let r = eip3009::ReceiveWithAuthorization {
            from, to, value, validAfter: after, validBefore: before, nonce: FixedBytes(nonce),
        };
        prop_assert_eq!(check_hash(&r, &domain)?, expected("EIP-3009 ReceiveWithAuthorization"));
    }
}

/// Our type strings are the standards' (as published, checked in as data),
/// alloy's `sol!` structs give the same, and the published type hashes are
/// keccak of them.
#[test]
fn type_strings_match_the_standards_and_alloy() {
    let text = include_str!("vectors/eip712_token_types.json");
    let vectors: Vec<Value> = serde_json::from_str(text).expect("vectors parse");
    let ours = [
        ("EIP-2612 Permit", type_strings::EIP2612_PERMIT),
        ("DAI Permit", type_strings::DAI_PERMIT),
        ("Permit2 PermitSingle", type_strings::PERMIT2_PERMIT_SINGLE),
        ("Permit2 PermitBatch", type_strings::PERMIT2_PERMIT_BATCH),
        (
            "Permit2 PermitTransferFrom",
            type_strings::PERMIT2_PERMIT_TRANSFER_FROM,
        ),
        (
            "Permit2 PermitBatchTransferFrom",
            type_strings::PERMIT2_PERMIT_BATCH_TRANSFER_FROM,
        ),
        (
            "EIP-3009 TransferWithAuthorization",
            type_strings::EIP3009_TRANSFER_WITH_AUTHORIZATION,
        ),
        (
            "EIP-3009 ReceiveWithAuthorization",
            type_strings::EIP3009_RECEIVE_WITH_AUTHORIZATION,
        ),
    ];
    assert_eq!(vectors.len(), ours.len());
    let mut hashes_checked = 0;
    for (standard, string) in ours {
        let v = vectors
            .iter()
            .find(|v| v["standard"] == standard)
            .unwrap_or_else(|| panic!("{standard} not in the vectors"));
        assert_eq!(v["encode_type"], string, "{standard}");
        if let Some(h) = v["type_hash"].as_str() {
            assert_eq!(
                format!("0x{}", hex::encode(keccak256(string.as_bytes()))),
                h,
                "{standard}"
            );
            hashes_checked += 1;
        }
    }
    assert_eq!(hashes_checked, 3);
    let alloy = [
        (
            eip2612::Permit::eip712_encode_type(),
            type_strings::EIP2612_PERMIT,
        ),
        (dai::Permit::eip712_encode_type(), type_strings::DAI_PERMIT),
        (
            permit2::PermitSingle::eip712_encode_type(),
            type_strings::PERMIT2_PERMIT_SINGLE,
        ),
        (
            permit2::PermitBatch::eip712_encode_type(),
            type_strings::PERMIT2_PERMIT_BATCH,
        ),
        (
            permit2::PermitTransferFrom::eip712_encode_type(),
            type_strings::PERMIT2_PERMIT_TRANSFER_FROM,
        ),
        (
            permit2::PermitBatchTransferFrom::eip712_encode_type(),
            type_strings::PERMIT2_PERMIT_BATCH_TRANSFER_FROM,
        ),
        (
            eip3009::TransferWithAuthorization::eip712_encode_type(),
            type_strings::EIP3009_TRANSFER_WITH_AUTHORIZATION,
        ),
        (
            eip3009::ReceiveWithAuthorization::eip712_encode_type(),
            type_strings::EIP3009_RECEIVE_WITH_AUTHORIZATION,
        ),
    ];
    for (theirs, ours) in alloy {
        assert_eq!(theirs, ours);
    }
}

fn eip2612_json() -> Value {
    let p = eip2612::Permit {
        owner: a(1),
        spender: a(2),
        value: U256::from(1000u32),
        nonce: U256::ZERO,
        deadline: U256::MAX,
    };
    alloy_json(&p, &token_domain("Token".into(), 1, a(0x70)))
}

fn decode(v: &Value) -> Result<TypedIntent, TypedIntentError> {
    decode_typed_data(&TypedData::from_json(v).expect("structure"))
}

fn other(primary: &str, contract: Option<Address>) -> Result<TypedIntent, TypedIntentError> {
    Ok(TypedIntent::Other {
        primary_type: primary.to_owned(),
        verifying_contract: contract,
    })
}

#[test]
fn the_base_permit_is_recognised() {
    assert!(matches!(
        decode(&eip2612_json()),
        Ok(TypedIntent::Token {
            standard: "EIP-2612 Permit",
            ..
        })
    ));
}

#[test]
fn a_permit_of_another_shape_is_other() {
    let contract = Some(ours(a(0x70)));
    // One more member (and the message has it, so it hashes).
    let mut v = eip2612_json();
    v["types"]["Permit"]
        .as_array_mut()
        .expect("list")
        .push(json!({"name": "extra", "type": "uint256"}));
    v["message"]["extra"] = json!("1");
    TypedData::from_json(&v)
        .expect("valid")
        .hash()
        .expect("hashes");
    assert_eq!(decode(&v), other("Permit", contract));
    // A member renamed.
    let mut v = eip2612_json();
    v["types"]["Permit"][2]["name"] = json!("amount");
    let value = v["message"]
        .as_object_mut()
        .expect("obj")
        .remove("value")
        .expect("value");
    v["message"]["amount"] = value;
    TypedData::from_json(&v)
        .expect("valid")
        .hash()
        .expect("hashes");
    assert_eq!(decode(&v), other("Permit", contract));
    // A member's type changed.
    let mut v = eip2612_json();
    v["types"]["Permit"][2]["type"] = json!("uint128");
    assert_eq!(decode(&v), other("Permit", contract));
    // Members reordered.
    let mut v = eip2612_json();
    v["types"]["Permit"]
        .as_array_mut()
        .expect("list")
        .swap(0, 1);
    assert_eq!(decode(&v), other("Permit", contract));
    // The same shape under another name.
    let mut v = eip2612_json();
    let members = v["types"]
        .as_object_mut()
        .expect("obj")
        .remove("Permit")
        .expect("Permit");
    v["types"]["Approval"] = members;
    v["primaryType"] = json!("Approval");
    assert_eq!(decode(&v), other("Approval", contract));
    // A struct member that references an extra type.
    let mut v = eip2612_json();
    v["types"]["Permit"][4] = json!({"name": "deadline", "type": "Deadline"});
    v["types"]["Deadline"] = json!([{"name": "at", "type": "uint256"}]);
    assert_eq!(decode(&v), other("Permit", contract));
}

#[test]
fn the_domain_must_name_the_contract() {
    // No verifyingContract: Other, with no contract.
    let mut v = eip2612_json();
    v["domain"]
        .as_object_mut()
        .expect("obj")
        .remove("verifyingContract");
    v["types"]["EIP712Domain"]
        .as_array_mut()
        .expect("list")
        .retain(|m| m["name"] != "verifyingContract");
    TypedData::from_json(&v)
        .expect("valid")
        .hash()
        .expect("hashes");
    assert_eq!(decode(&v), other("Permit", None));
    // verifyingContract declared as a string names no contract either.
    let mut v = eip2612_json();
    for m in v["types"]["EIP712Domain"].as_array_mut().expect("list") {
        if m["name"] == "verifyingContract" {
            m["type"] = json!("string");
        }
    }
    TypedData::from_json(&v)
        .expect("valid")
        .hash()
        .expect("hashes");
    assert_eq!(decode(&v), other("Permit", None));
    // A malformed address is an error, as it is when hashing.
    let mut v = eip2612_json();
    v["domain"]["verifyingContract"] = json!("0x1234");
    assert!(matches!(
        decode(&v),
        Err(TypedIntentError::TypedData(
            TypedDataError::InvalidValue { .. }
        ))
    ));
}

fn permit_single_json(domain: &Eip712Domain) -> Value {
    let p = permit2::PermitSingle {
        details: permit2::PermitDetails {
            token: a(5),
            amount: U160::from(10u8),
            expiration: U48::from(1u8),
            nonce: U48::ZERO,
        },
        spender: a(6),
        sigDeadline: U256::from(99u8),
    };
    alloy_json(&p, domain)
}

#[test]
fn permit2_shapes_count_only_at_permit2() {
    assert!(matches!(
        decode(&permit_single_json(&permit2_domain(1))),
        Ok(TypedIntent::Token {
            standard: "Permit2 PermitSingle",
            ..
        })
    ));
    // Another contract, or another domain name: Other.
    let elsewhere = Eip712Domain::new(
        Some("Permit2".into()),
        None,
        Some(U256::from(1u8)),
        Some(a(0x99)),
        None,
    );
    assert_eq!(
        decode(&permit_single_json(&elsewhere)),
        other("PermitSingle", Some(ours(a(0x99))))
    );
    let renamed = Eip712Domain::new(
        Some("NotPermit2".into()),
        None,
        Some(U256::from(1u8)),
        Some(theirs(PERMIT2)),
        None,
    );
    assert_eq!(
        decode(&permit_single_json(&renamed)),
        other("PermitSingle", Some(PERMIT2))
    );
}

#[test]
fn recognised_messages_are_checked_like_hashing() {
    // uint160 out of range.
    let mut v = permit_single_json(&permit2_domain(1));
    v["message"]["details"]["amount"] = json!(format!("0x1{}", "0".repeat(40)));
    assert!(TypedData::from_json(&v).expect("valid").hash().is_err());
    assert_eq!(
        decode(&v),
        Err(TypedIntentError::TypedData(TypedDataError::InvalidValue {
            path: "message.details.amount".into(),
            reason: "out of range for its uintN type",
        }))
    );
    // An undeclared member, a missing one.
    let mut v = permit_single_json(&permit2_domain(1));
    v["message"]["details"]["extra"] = json!(1);
    assert_eq!(
        decode(&v),
        Err(TypedIntentError::TypedData(
            TypedDataError::UndeclaredMember {
                path: "message.details.extra".into()
            }
        ))
    );
    let mut v = permit_single_json(&permit2_domain(1));
    v["message"].as_object_mut().expect("obj").remove("spender");
    assert_eq!(
        decode(&v),
        Err(TypedIntentError::TypedData(TypedDataError::MissingMember {
            path: "message.spender".into()
        }))
    );
    // A bool that is not a JSON boolean (DAI's `allowed`).
    let p = dai::Permit {
        holder: a(1),
        spender: a(2),
        nonce: U256::ZERO,
        expiry: U256::ZERO,
        allowed: true,
    };
    let mut v = alloy_json(&p, &token_domain("Dai Stablecoin".into(), 1, a(0x70)));
    v["message"]["allowed"] = json!("true");
    assert!(matches!(
        decode(&v),
        Err(TypedIntentError::TypedData(
            TypedDataError::InvalidValue { .. }
        ))
    ));
}

#[test]
fn batches_are_bounded() {
    let entry = permit2::TokenPermissions {
        token: a(5),
        amount: U256::from(1u8),
    };
    let make = |n: usize| {
        let p = permit2::PermitBatchTransferFrom {
            permitted: vec![entry.clone(); n],
            spender: a(6),
            nonce: U256::ZERO,
            deadline: U256::ZERO,
        };
        alloy_json(&p, &permit2_domain(1))
    };
    let Ok(TypedIntent::Token { movements, .. }) = decode(&make(MAX_MOVEMENTS)) else {
        panic!("a batch at the bound is refused");
    };
    assert_eq!(movements.len(), MAX_MOVEMENTS);
    assert_eq!(
        decode(&make(MAX_MOVEMENTS + 1)),
        Err(TypedIntentError::TooManyEntries {
            standard: "Permit2 PermitBatchTransferFrom",
            field: "permitted",
            max: MAX_MOVEMENTS,
        })
    );
}

#[test]
fn other_typed_data_keeps_its_contract() {
    let v = json!({
        "types": {
            "EIP712Domain": [
                {"name": "name", "type": "string"},
                {"name": "verifyingContract", "type": "address"}
            ],
            "Order": [{"name": "maker", "type": "address"}]
        },
        "primaryType": "Order",
        "domain": {"name": "X", "verifyingContract": "0x7070707070707070707070707070707070707070"},
        "message": {"maker": "0x0101010101010101010101010101010101010101"}
    });
    assert_eq!(decode(&v), other("Order", Some(Address([0x70; 20]))));
    let v = json!({
        "types": {"EIP712Domain": [{"name": "name", "type": "string"}]},
        "primaryType": "EIP712Domain",
        "domain": {"name": "X"}
    });
    assert_eq!(decode(&v), other("EIP712Domain", None));
}

/// Every JSON pointer into `v`.
fn pointers(v: &Value, at: String, out: &mut Vec<String>) {
    match v {
        Value::Object(m) => {
            for (k, x) in m {
                pointers(x, format!("{at}/{k}"), out);
            }
        }
        Value::Array(a) => {
            for (i, x) in a.iter().enumerate() {
                pointers(x, format!("{at}/{i}"), out);
            }
        }
        _ => {}
    }
    out.push(at);
}

fn json_scalar() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        "(0x)?[0-9a-fA-F]{0,42}".prop_map(Value::from),
        "[a-zA-Z\\[\\]0-9]{0,24}".prop_map(Value::from),
        Just(json!([])),
        Just(json!({})),
        Just(json!(format!("0x1{}", "0".repeat(40)))),
        Just(json!("0x000000000022D473030F116dDEE9F6B43aC78BA3")),
    ]
}

/// A recognised document of each standard, built by alloy.
fn standard_docs() -> Vec<Value> {
    let d = permit2::PermitDetails {
        token: a(5),
        amount: U160::from(10u8),
        expiration: U48::from(1u8),
        nonce: U48::ZERO,
    };
    let p = permit2::TokenPermissions {
        token: a(5),
        amount: U256::from(7u8),
    };
    let tok = token_domain("T".into(), 1, a(0x70));
    let p2 = permit2_domain(1);
    let n = U256::from(1u8);
    vec![
        eip2612_json(),
        alloy_json(
            &dai::Permit {
                holder: a(1),
                spender: a(2),
                nonce: n,
                expiry: n,
                allowed: true,
            },
            &tok,
        ),
        permit_single_json(&p2),
        alloy_json(
            &permit2::PermitBatch {
                details: vec![d.clone(), d],
                spender: a(6),
                sigDeadline: n,
            },
            &p2,
        ),
        alloy_json(
            &permit2::PermitTransferFrom {
                permitted: p.clone(),
                spender: a(6),
                nonce: n,
                deadline: n,
            },
            &p2,
        ),
        alloy_json(
            &permit2::PermitBatchTransferFrom {
                permitted: vec![p.clone(), p],
                spender: a(6),
                nonce: n,
                deadline: n,
            },
            &p2,
        ),
        alloy_json(
            &eip3009::TransferWithAuthorization {
                from: a(1),
                to: a(2),
                value: n,
                validAfter: n,
                validBefore: n,
                nonce: FixedBytes([7; 32]),
            },
            &tok,
        ),
        alloy_json(
            &eip3009::ReceiveWithAuthorization {
                from: a(1),
                to: a(2),
                value: n,
                validAfter: n,
                validBefore: n,
                nonce: FixedBytes([7; 32]),
            },
            &tok,
        ),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(cases(512)))]

    /// Recognised documents with one member replaced, removed or added
    /// (types, domain or message): never a panic, and whenever the result is
    /// still decoded as a token intent, its message hashes — the decoder
    /// refuses everything the hashing code refuses in the message.
    #[test]
    fn mutated_typed_data_decodes_only_what_hashes(
        which in 0usize..8,
        pick in any::<usize>(),
        op in 0u8..3,
        value in json_scalar(),
        key in "[a-zA-Z]{1,12}",
    ) {
        let mut doc = standard_docs().swap_remove(which);
        let mut all = Vec::new();
        pointers(&doc, String::new(), &mut all);
        let at = all[pick % all.len()].clone();
        let (parent, last) = at.rsplit_once('/').unwrap_or(("", ""));
        match op {
            0 => {
                if let Some(slot) = doc.pointer_mut(&at) {
                    *slot = value;
                }
            }
            1 => match doc.pointer_mut(parent) {
                Some(Value::Object(m)) => {
                    m.remove(last);
                }
                Some(Value::Array(a)) => {
                    if let Ok(i) = last.parse::<usize>() {
                        a.remove(i);
                    }
                }
                _ => {}
            },
            _ => {
                if let Some(Value::Object(m)) = doc.pointer_mut(&at) {
                    m.insert(key, value);
                }
            }
        }
        let Ok(td) = TypedData::from_json(&doc) else {
            return Ok(());
        };
        if let Ok(TypedIntent::Token { movements, .. }) = decode_typed_data(&td) {
            prop_assert!(
                td.hash_struct(td.primary_type(), td.message()).is_ok(),
                "decoded a message that does not hash: {doc}"
            );
            prop_assert!(movements.len() <= MAX_MOVEMENTS);
        }
    }
}
