//! The ethereum policy engine attacked through a real server (issue 11):
//! every way a signing token could move tokens outside the policy is tried,
//! each refusal is a 403 naming the rule, and each has a positive control
//! that signs, checked with alloy (the signed transaction decodes and
//! recovers to the wallet; typed-data signatures recover from alloy's own
//! EIP-712 hash). Calldata is built with alloy's ABI encoder (`sol!`), typed
//! data with the type strings of the standards (EIP-2612, EIP-3009,
//! Uniswap's Permit2 `PermitHash.sol`).

mod engine_common;

use std::str::FromStr;

use alloy_consensus::{Transaction, TxEnvelope};
use alloy_dyn_abi::TypedData;
use alloy_eips::eip2718::Decodable2718;
use alloy_primitives::aliases::{U48, U160};
use alloy_primitives::{Address, B256, Signature, U256, eip191_hash_message, keccak256};
use alloy_sol_types::{SolCall, sol};
use engine_common::{Engine, expect_400_naming, expect_403_naming, st, unhex};
use integration_tests::Reply;
use serde_json::{Value, json};

sol! {
    interface IERC20 {
        function transfer(address to, uint256 amount) external returns (bool);
        function transferFrom(address from, address to, uint256 amount) external returns (bool);
        function approve(address spender, uint256 amount) external returns (bool);
        function increaseAllowance(address spender, uint256 addedValue) external returns (bool);
    }
    /// ERC-677 (e.g. Chainlink's LINK token): a transfer plus a callback.
    interface IERC677 {
        function transferAndCall(address to, uint256 value, bytes data) external returns (bool);
    }
    interface IERC721 {
        function setApprovalForAll(address operator, bool approved) external;
        function safeTransferFrom(address from, address to, uint256 tokenId, bytes data) external;
    }
    interface IPermit2 {
        function approve(address token, address spender, uint160 amount, uint48 expiration) external;
    }
}

/// The wallet's first ethereum address for the "abandon … about" mnemonic
/// (m/44'/60'/0'/0/0), as in engine_ethereum.rs.
const ETH0: &str = "0x9858EfFD232B4033E47d90003D41EC34EcaEda94";
/// Uniswap's Permit2, the same address on every chain.
const PERMIT2: &str = "0x000000000022D473030F116dDEE9F6B43aC78BA3";

fn me() -> Address {
    Address::from_str(ETH0).expect("address")
}
/// An allowed recipient / spender.
fn good() -> Address {
    Address::repeat_byte(0xa1)
}
/// A recipient outside the allow-list.
fn evil() -> Address {
    Address::repeat_byte(0xe7)
}
/// The listed token.
fn token() -> Address {
    Address::repeat_byte(0x70)
}
/// A token nobody listed.
fn unlisted_token() -> Address {
    Address::repeat_byte(0x71)
}
fn permit2() -> Address {
    Address::from_str(PERMIT2).expect("permit2")
}

/// Lower-case `0x` hex, the policy's canonical key form.
fn low(a: Address) -> String {
    format!("0x{}", hex::encode(a))
}

fn set_policy(e: &Engine, w: &str, body: Value) {
    let r = e.write(&format!("crypto/policies/{w}/ethereum"), body);
    assert!(matches!(r.status, 200 | 204), "policy of {w}: {}", r.body);
}

/// A wallet `w` (the abandon mnemonic) with an ethereum policy.
fn wallet(e: &Engine, w: &str, policy: Value) {
    e.abandon(w, json!({}));
    set_policy(e, w, policy);
}

/// A legacy transaction calling `to` with `data` on chain 1, no value.
fn call(to: Address, data: &[u8]) -> Value {
    json!({"chain_id": 1, "nonce": 7, "gas_limit": 100000, "gas_price": 2, "value": "0",
           "to": to.to_string(), "data": format!("0x{}", hex::encode(data))})
}

fn sign_tx(e: &Engine, w: &str, body: Value) -> Reply {
    e.write(
        &format!("crypto/wallets/{w}/ethereum/sign-transaction"),
        body,
    )
}

fn check(e: &Engine, w: &str, operation: &str, body: Value) -> Value {
    let mut b = body;
    b["operation"] = json!(operation);
    let r = e.write(&format!("crypto/policies/{w}/ethereum/check"), b);
    r.expect_status(200);
    r.data().clone()
}

/// Asserts a check answer refuses by `rule`.
#[track_caller]
fn check_refuses(d: &Value, rule: &str) {
    assert_eq!(d["allowed"], false, "{d}");
    assert_eq!(d["rule"], rule, "{d}");
    assert_eq!(d["policy"], true, "{d}");
    assert_eq!(d["intent"]["chain"], "ethereum", "{d}");
}

/// Asserts a signed call: 200, alloy decodes the envelope, the signer
/// recovers to the wallet, and `to` and the calldata are what was asked.
#[track_caller]
fn signed_call(r: &Reply, to: Address, data: &[u8]) {
    r.expect_status(200);
    let d = r.data();
    let raw = unhex(st(d, "signed_transaction"));
    let env = TxEnvelope::decode_2718_exact(&raw)
        .unwrap_or_else(|err| panic!("alloy cannot decode {}: {err}", d["signed_transaction"]));
    let TxEnvelope::Legacy(signed) = &env else {
        panic!("not legacy: {env:?}")
    };
    assert_eq!(signed.recover_signer().expect("recover"), me());
    assert_eq!(signed.tx().to(), Some(to));
    assert_eq!(signed.tx().input().as_ref(), data);
    assert!(d["intent"].is_object(), "no intent in {d}");
}

fn transfer(to: Address, amount: u64) -> Vec<u8> {
    IERC20::transferCall {
        to,
        amount: U256::from(amount),
    }
    .abi_encode()
}

#[test]
fn erc20_transfers_are_judged_by_the_token_recipient_and_the_tokens_limits() {
    let e = Engine::start();
    wallet(
        &e,
        "t",
        json!({
            "allowed_chain_ids": [1],
            "allowed_recipients": [good().to_string()],
            "token_limits": {low(token()): {"max_value_per_tx": "1000", "max_value_per_day": "1500"}},
        }),
    );
    // The transaction's `to` is the token contract (listed), its value 0:
    // only the decoded recipient can refuse it.
    expect_403_naming(
        &sign_tx(&e, "t", call(token(), &transfer(evil(), 10))),
        "allowed_recipients",
    );
    let ok = transfer(good(), 10);
    let r = sign_tx(&e, "t", call(token(), &ok));
    signed_call(&r, token(), &ok);
    // The intent shows the decoded movement, not just the contract.
    let decoded = &r.data()["intent"]["call"];
    assert_eq!(decoded["method"], "transfer", "{decoded}");
    let mv = &decoded["movements"][0];
    assert_eq!(
        mv["to"].as_str().map(str::to_lowercase),
        Some(low(good())),
        "{decoded}"
    );
    assert_eq!(mv["amount"], "10", "{decoded}");
    // Per transaction.
    expect_403_naming(
        &sign_tx(&e, "t", call(token(), &transfer(good(), 1001))),
        "token_limits",
    );
    // The check path answers without counting: asking twice about 1000
    // leaves room for a real 1000 (10 + 1000 ≤ 1500).
    for _ in 0..3 {
        let d = check(
            &e,
            "t",
            "sign-transaction",
            call(token(), &transfer(good(), 1000)),
        );
        assert_eq!(d["allowed"], true, "{d}");
    }
    let d = check(
        &e,
        "t",
        "sign-transaction",
        call(token(), &transfer(evil(), 1)),
    );
    check_refuses(&d, "allowed_recipients");
    let thousand = transfer(good(), 1000);
    signed_call(
        &sign_tx(&e, "t", call(token(), &thousand)),
        token(),
        &thousand,
    );
    // Daily: 1010 spent; 600 more would make 1610 > 1500 (each within the
    // per-transaction limit).
    expect_403_naming(
        &sign_tx(&e, "t", call(token(), &transfer(good(), 600))),
        "token_limits",
    );
    check_refuses(
        &check(
            &e,
            "t",
            "sign-transaction",
            call(token(), &transfer(good(), 600)),
        ),
        "token_limits",
    );
    let rest = transfer(good(), 490);
    signed_call(&sign_tx(&e, "t", call(token(), &rest)), token(), &rest);
    expect_403_naming(
        &sign_tx(&e, "t", call(token(), &transfer(good(), 1))),
        "token_limits",
    );

    // A token in neither token_limits nor allowed_contracts.
    expect_403_naming(
        &sign_tx(&e, "t", call(unlisted_token(), &transfer(good(), 1))),
        "allowed_contracts",
    );
    check_refuses(
        &check(
            &e,
            "t",
            "sign-transaction",
            call(unlisted_token(), &transfer(good(), 1)),
        ),
        "allowed_contracts",
    );
    // transferFrom: the recipient is the second argument.
    let tf = |to: Address| {
        IERC20::transferFromCall {
            from: Address::repeat_byte(0x33),
            to,
            amount: U256::from(5),
        }
        .abi_encode()
    };
    wallet(
        &e,
        "tf",
        json!({"allowed_recipients": [good().to_string()], "token_limits": {low(token()): {}}}),
    );
    expect_403_naming(
        &sign_tx(&e, "tf", call(token(), &tf(evil()))),
        "allowed_recipients",
    );
    signed_call(
        &sign_tx(&e, "tf", call(token(), &tf(good()))),
        token(),
        &tf(good()),
    );
    // One trailing byte after a canonical transfer.
    let mut long = transfer(good(), 1);
    long.push(0);
    expect_403_naming(&sign_tx(&e, "tf", call(token(), &long)), "calldata");
    // Two trailing zero words are not a different call either.
    let mut longer = transfer(good(), 1);
    longer.extend_from_slice(&[0u8; 64]);
    expect_403_naming(&sign_tx(&e, "tf", call(token(), &longer)), "calldata");
    // A dirty address word (upper bytes set): same low 20 bytes, refused.
    let mut dirty = transfer(good(), 1);
    dirty[4] = 0xff;
    expect_403_naming(&sign_tx(&e, "tf", call(token(), &dirty)), "calldata");
    // increaseAllowance names a spender like approve.
    let inc = |spender: Address| {
        IERC20::increaseAllowanceCall {
            spender,
            addedValue: U256::from(5),
        }
        .abi_encode()
    };
    expect_403_naming(
        &sign_tx(&e, "tf", call(token(), &inc(evil()))),
        "allowed_recipients",
    );
    signed_call(
        &sign_tx(&e, "tf", call(token(), &inc(good()))),
        token(),
        &inc(good()),
    );
    // Without any policy the wallet signs all of these.
    e.abandon("free", json!({}));
    signed_call(&sign_tx(&e, "free", call(token(), &long)), token(), &long);
}

/// Listing a token in token_limits lists the token's recognised calls, not
/// every function of the contract: ERC-677 `transferAndCall` (LINK) moves
/// the same tokens as `transfer` but is not decoded, so it must not pass as
/// a call to a listed contract (it would skip the recipient list and the
/// token's limits).
#[test]
fn an_undecoded_token_function_of_a_listed_token_is_not_a_way_around_its_limits() {
    let e = Engine::start();
    wallet(
        &e,
        "link",
        json!({
            "allowed_recipients": [good().to_string()],
            "token_limits": {low(token()): {"max_value_per_tx": "1000"}},
        }),
    );
    let tac = |to: Address, value: U256| {
        IERC677::transferAndCallCall {
            to,
            value,
            data: vec![0u8; 4].into(),
        }
        .abi_encode()
    };
    let r = sign_tx(
        &e,
        "link",
        call(token(), &tac(evil(), U256::from(10u64).pow(U256::from(24)))),
    );
    assert_eq!(
        r.status, 403,
        "transferAndCall(evil, 10^24) on a token limited to 1000 per tx to listed recipients \
         was signed: {}",
        r.body
    );
    expect_403_naming(&r, "allow_arbitrary_calldata");
    // The decoded transfer of the same token is judged and signs.
    let ok = transfer(good(), 1000);
    signed_call(&sign_tx(&e, "link", call(token(), &ok)), token(), &ok);
    // Listing the selector explicitly is the operator's choice.
    set_policy(
        &e,
        "link",
        json!({"allowed_contracts": {low(token()): [
            format!("0x{}", hex::encode(IERC677::transferAndCallCall::SELECTOR))
        ]}}),
    );
    let data = tac(good(), U256::from(1));
    signed_call(&sign_tx(&e, "link", call(token(), &data)), token(), &data);
}

#[test]
fn approvals_name_a_spender_and_unlimited_ones_need_the_flag() {
    let e = Engine::start();
    let nft = Address::repeat_byte(0x72);
    let policy = |unlimited: bool| {
        json!({
            "allowed_recipients": [good().to_string()],
            "token_limits": {low(token()): {}},
            "allowed_contracts": {low(nft): [], low(permit2()): []},
            "allow_unlimited_approvals": unlimited,
        })
    };
    wallet(&e, "ap", policy(false));
    wallet(&e, "unl", policy(true));
    let approve =
        |spender: Address, amount: U256| IERC20::approveCall { spender, amount }.abi_encode();
    expect_403_naming(
        &sign_tx(&e, "ap", call(token(), &approve(evil(), U256::from(5)))),
        "allowed_recipients",
    );
    signed_call(
        &sign_tx(&e, "ap", call(token(), &approve(good(), U256::from(5)))),
        token(),
        &approve(good(), U256::from(5)),
    );
    // 2^256 - 1 to an allowed spender.
    let max = approve(good(), U256::MAX);
    expect_403_naming(
        &sign_tx(&e, "ap", call(token(), &max)),
        "allow_unlimited_approvals",
    );
    check_refuses(
        &check(&e, "ap", "sign-transaction", call(token(), &max)),
        "allow_unlimited_approvals",
    );
    signed_call(&sign_tx(&e, "unl", call(token(), &max)), token(), &max);
    // An unlimited approval to a spender outside the list stays refused.
    expect_403_naming(
        &sign_tx(&e, "unl", call(token(), &approve(evil(), U256::MAX))),
        "allowed_recipients",
    );
    // setApprovalForAll(true) hands over every token of the collection.
    let all = |operator: Address, approved: bool| {
        IERC721::setApprovalForAllCall { operator, approved }.abi_encode()
    };
    expect_403_naming(
        &sign_tx(&e, "ap", call(nft, &all(good(), true))),
        "allow_unlimited_approvals",
    );
    expect_403_naming(
        &sign_tx(&e, "unl", call(nft, &all(evil(), true))),
        "allowed_recipients",
    );
    signed_call(
        &sign_tx(&e, "unl", call(nft, &all(good(), true))),
        nft,
        &all(good(), true),
    );
    // An NFT sent with safeTransferFrom(from, to, id, data).
    let nft_to = |to: Address| {
        IERC721::safeTransferFromCall {
            from: me(),
            to,
            tokenId: U256::from(7),
            data: vec![].into(),
        }
        .abi_encode()
    };
    expect_403_naming(
        &sign_tx(&e, "ap", call(nft, &nft_to(evil()))),
        "allowed_recipients",
    );
    signed_call(
        &sign_tx(&e, "ap", call(nft, &nft_to(good()))),
        nft,
        &nft_to(good()),
    );
    // Revoking is not an unlimited approval.
    signed_call(
        &sign_tx(&e, "ap", call(nft, &all(good(), false))),
        nft,
        &all(good(), false),
    );
    // Permit2 approve names its token as an argument: Permit2 itself is
    // listed, the token is not.
    let p2 = |tok: Address, spender: Address| {
        IPermit2::approveCall {
            token: tok,
            spender,
            amount: U160::from(5u64),
            expiration: U48::from(1_900_000_000u64),
        }
        .abi_encode()
    };
    expect_403_naming(
        &sign_tx(&e, "ap", call(permit2(), &p2(unlisted_token(), good()))),
        "allowed_contracts",
    );
    expect_403_naming(
        &sign_tx(&e, "ap", call(permit2(), &p2(token(), evil()))),
        "allowed_recipients",
    );
    signed_call(
        &sign_tx(&e, "ap", call(permit2(), &p2(token(), good()))),
        permit2(),
        &p2(token(), good()),
    );
    // Permit2's unlimited amount is 2^160 - 1.
    let p2max = IPermit2::approveCall {
        token: token(),
        spender: good(),
        amount: U160::MAX,
        expiration: U48::from(1_900_000_000u64),
    }
    .abi_encode();
    expect_403_naming(
        &sign_tx(&e, "ap", call(permit2(), &p2max)),
        "allow_unlimited_approvals",
    );
}

#[test]
fn unknown_calldata_needs_a_listed_contract_and_selector_or_the_flag() {
    let e = Engine::start();
    let c = Address::repeat_byte(0xc0);
    let listed = Address::repeat_byte(0xc1);
    wallet(
        &e,
        "cd",
        json!({"allowed_contracts": {low(listed): ["0xdeadbeef"]}}),
    );
    wallet(&e, "any", json!({"allow_arbitrary_calldata": true}));
    let mut data = vec![0xde, 0xad, 0xbe, 0xef];
    data.extend_from_slice(&[0x11; 32]);
    expect_403_naming(
        &sign_tx(&e, "cd", call(c, &data)),
        "allow_arbitrary_calldata",
    );
    check_refuses(
        &check(&e, "cd", "sign-transaction", call(c, &data)),
        "allow_arbitrary_calldata",
    );
    signed_call(&sign_tx(&e, "cd", call(listed, &data)), listed, &data);
    // The same contract with another selector.
    let mut other = vec![0xca, 0xfe, 0xba, 0xbe];
    other.extend_from_slice(&[0x11; 32]);
    expect_403_naming(
        &sign_tx(&e, "cd", call(listed, &other)),
        "allow_arbitrary_calldata",
    );
    // Fewer than four bytes of calldata.
    expect_403_naming(
        &sign_tx(&e, "cd", call(listed, &[0xde, 0xad])),
        "allow_arbitrary_calldata",
    );
    signed_call(&sign_tx(&e, "any", call(c, &data)), c, &data);
}

#[test]
fn fees_messages_sign_hash_and_policy_writes() {
    let e = Engine::start();
    wallet(&e, "fee", json!({"max_fee_per_tx": "210000"}));
    let tx = |price: u64| {
        json!({"chain_id": 1, "nonce": 0, "gas_limit": 21000, "gas_price": price,
               "value": "1", "to": good().to_string()})
    };
    // 21000 × 11 = 231000 > 210000.
    expect_403_naming(&sign_tx(&e, "fee", tx(11)), "max_fee_per_tx");
    let r = sign_tx(&e, "fee", tx(10));
    r.expect_status(200);
    let env =
        TxEnvelope::decode_2718_exact(&unhex(st(r.data(), "signed_transaction"))).expect("decodes");
    assert_eq!(env.gas_price(), Some(10));
    // EIP-1559: max_fee_per_gas is what can be paid.
    let mut t = tx(0);
    t.as_object_mut().expect("object").remove("gas_price");
    t["max_fee_per_gas"] = json!(11);
    t["max_priority_fee_per_gas"] = json!(1);
    expect_403_naming(&sign_tx(&e, "fee", t.clone()), "max_fee_per_tx");
    t["max_fee_per_gas"] = json!(10);
    sign_tx(&e, "fee", t).expect_status(200);

    // Messages.
    wallet(&e, "nomsg", json!({"allow_message_signing": false}));
    let m = json!({"message": "log in"});
    expect_403_naming(
        &e.write("crypto/wallets/nomsg/ethereum/sign-message", m.clone()),
        "allow_message_signing",
    );
    check_refuses(
        &check(&e, "nomsg", "sign-message", m.clone()),
        "allow_message_signing",
    );
    wallet(&e, "msg", json!({"allow_message_signing": true}));
    let r = e.write("crypto/wallets/msg/ethereum/sign-message", m);
    r.expect_status(200);
    let sig = Signature::from_raw(&unhex(st(r.data(), "signature"))).expect("signature");
    assert_eq!(
        sig.recover_address_from_prehash(&eip191_hash_message(b"log in"))
            .expect("recover"),
        me()
    );

    // sign-hash: allow_raw_signing does not override a policy.
    e.abandon("raw", json!({"allow_raw_signing": true}));
    let h = B256::repeat_byte(0x5a);
    let sh = || {
        e.write(
            "crypto/sign-hash/raw",
            json!({"chain": "ethereum", "hash": h.to_string()}),
        )
    };
    let r = sh();
    r.expect_status(200);
    let sig = Signature::from_raw(&unhex(st(r.data(), "signature"))).expect("signature");
    assert_eq!(sig.recover_address_from_prehash(&h).expect("recover"), me());
    set_policy(&e, "raw", json!({"allow_arbitrary_calldata": true}));
    expect_403_naming(&sh(), "raw_signing");
    check_refuses(
        &check(&e, "raw", "sign-hash", json!({"hash": h.to_string()})),
        "raw_signing",
    );
    // Deleting the policy restores raw signing.
    let d = e.delete("crypto/policies/raw/ethereum");
    assert!(matches!(d.status, 200 | 204), "{}", d.body);
    sh().expect_status(200);

    // Writing: an unknown or misspelled field, a field of another chain, a
    // daily limit without chain ids.
    e.abandon("w", json!({}));
    let p = "crypto/policies/w/ethereum";
    expect_400_naming(
        &e.write(p, json!({"max_value_per_transaction": "1"})),
        "max_value_per_transaction",
    );
    expect_400_naming(&e.write(p, json!({"max_fee": "1"})), "max_fee");
    expect_400_naming(
        &e.write(p, json!({"max_value_per_day": "1"})),
        "allowed_chain_ids",
    );
    expect_400_naming(
        &e.write(
            p,
            json!({"token_limits": {low(token()): {"max_per_tx": "1"}}}),
        ),
        "max_per_tx",
    );
    // A token's daily limit is kept per chain id too.
    expect_400_naming(
        &e.write(
            p,
            json!({"token_limits": {low(token()): {"max_value_per_day": "1"}}}),
        ),
        "allowed_chain_ids",
    );
    // None of them created a policy.
    e.get(p).expect_status(404);
    let r = e.write(
        p,
        json!({"max_value_per_day": "1", "allowed_chain_ids": [1]}),
    );
    assert!(matches!(r.status, 200 | 204), "{}", r.body);
    let r = e.get(p);
    r.expect_status(200);
    assert_eq!(r.data()["max_value_per_day"], "1", "{}", r.body);
}

// ---------------------------------------------------------------------------
// Typed data.

fn domain_2612(chain_id: u64, verifying: Address) -> Value {
    json!({"name": "Token", "version": "1", "chainId": chain_id,
           "verifyingContract": verifying.to_string()})
}

const DOMAIN_TYPE: &str = r#"[
    {"name": "name", "type": "string"},
    {"name": "version", "type": "string"},
    {"name": "chainId", "type": "uint256"},
    {"name": "verifyingContract", "type": "address"}
]"#;

fn domain_type() -> Value {
    serde_json::from_str(DOMAIN_TYPE).expect("json")
}

/// EIP-2612 `Permit(address owner,address spender,uint256 value,uint256
/// nonce,uint256 deadline)`, token = verifyingContract.
fn permit(spender: Address, value: U256) -> Value {
    json!({
        "types": {
            "EIP712Domain": domain_type(),
            "Permit": [
                {"name": "owner", "type": "address"},
                {"name": "spender", "type": "address"},
                {"name": "value", "type": "uint256"},
                {"name": "nonce", "type": "uint256"},
                {"name": "deadline", "type": "uint256"}
            ]
        },
        "primaryType": "Permit",
        "domain": domain_2612(1, token()),
        "message": {"owner": ETH0, "spender": spender.to_string(), "value": value.to_string(),
                    "nonce": 0, "deadline": 1_900_000_000u64}
    })
}

/// EIP-3009 `TransferWithAuthorization(address from,address to,uint256
/// value,uint256 validAfter,uint256 validBefore,bytes32 nonce)`.
fn transfer_with_authorization(to: Address, value: u64) -> Value {
    json!({
        "types": {
            "EIP712Domain": domain_type(),
            "TransferWithAuthorization": [
                {"name": "from", "type": "address"},
                {"name": "to", "type": "address"},
                {"name": "value", "type": "uint256"},
                {"name": "validAfter", "type": "uint256"},
                {"name": "validBefore", "type": "uint256"},
                {"name": "nonce", "type": "bytes32"}
            ]
        },
        "primaryType": "TransferWithAuthorization",
        "domain": domain_2612(1, token()),
        "message": {"from": ETH0, "to": to.to_string(), "value": value.to_string(),
                    "validAfter": 0, "validBefore": 1_900_000_000u64,
                    "nonce": B256::repeat_byte(9).to_string()}
    })
}

/// Permit2 `PermitSingle(PermitDetails details,address spender,uint256
/// sigDeadline)PermitDetails(address token,uint160 amount,uint48
/// expiration,uint48 nonce)` (Uniswap permit2, src/libraries/PermitHash.sol),
/// domain {name "Permit2", chainId, verifyingContract}.
fn permit_single(tok: Address, spender: Address, amount: u64) -> Value {
    json!({
        "types": {
            "EIP712Domain": [
                {"name": "name", "type": "string"},
                {"name": "chainId", "type": "uint256"},
                {"name": "verifyingContract", "type": "address"}
            ],
            "PermitSingle": [
                {"name": "details", "type": "PermitDetails"},
                {"name": "spender", "type": "address"},
                {"name": "sigDeadline", "type": "uint256"}
            ],
            "PermitDetails": [
                {"name": "token", "type": "address"},
                {"name": "amount", "type": "uint160"},
                {"name": "expiration", "type": "uint48"},
                {"name": "nonce", "type": "uint48"}
            ]
        },
        "primaryType": "PermitSingle",
        "domain": {"name": "Permit2", "chainId": 1, "verifyingContract": PERMIT2},
        "message": {
            "details": {"token": tok.to_string(), "amount": amount.to_string(),
                        "expiration": 1_900_000_000u64, "nonce": 0},
            "spender": spender.to_string(),
            "sigDeadline": 1_900_000_000u64
        }
    })
}

/// A message of no known standard, for `verifying`, with chainId declared
/// as `chain_id_type`.
fn note(verifying: Address, chain_id_type: &str, chain_id: Value) -> Value {
    json!({
        "types": {
            "EIP712Domain": [
                {"name": "name", "type": "string"},
                {"name": "chainId", "type": chain_id_type},
                {"name": "verifyingContract", "type": "address"}
            ],
            "Order": [{"name": "what", "type": "string"}, {"name": "price", "type": "uint256"}]
        },
        "primaryType": "Order",
        "domain": {"name": "Exchange", "chainId": chain_id, "verifyingContract": verifying.to_string()},
        "message": {"what": "anything", "price": 1}
    })
}

/// The EIP-712 signing hash of a `note` whose domain declares
/// `string chainId`, encoded by hand from the EIP-712 rules (alloy's
/// `Eip712Domain` always encodes chainId as uint256); the message's struct
/// hash is alloy's.
fn string_chain_id_hash(td: &Value, verifying: Address) -> B256 {
    let parsed: TypedData = serde_json::from_value(td.clone()).expect("alloy parses it");
    let struct_hash = parsed.hash_struct().expect("struct hash");
    let mut enc =
        keccak256("EIP712Domain(string name,string chainId,address verifyingContract)").to_vec();
    enc.extend_from_slice(keccak256(st(&td["domain"], "name")).as_slice());
    enc.extend_from_slice(keccak256(st(&td["domain"], "chainId")).as_slice());
    enc.extend_from_slice(&[0u8; 12]);
    enc.extend_from_slice(verifying.as_slice());
    let separator = keccak256(&enc);
    let mut all = vec![0x19, 0x01];
    all.extend_from_slice(separator.as_slice());
    all.extend_from_slice(struct_hash.as_slice());
    keccak256(&all)
}

fn sign_td(e: &Engine, w: &str, td: &Value) -> Reply {
    e.write(
        &format!("crypto/wallets/{w}/ethereum/sign-typed-data"),
        json!({"typed_data": td}),
    )
}

/// Asserts 200 and that the signature recovers to the wallet from alloy's
/// EIP-712 signing hash of the same JSON.
#[track_caller]
fn signed_typed(r: &Reply, td: &Value) {
    r.expect_status(200);
    let d = r.data();
    let parsed: TypedData = serde_json::from_value(td.clone()).expect("alloy parses it");
    let hash = parsed.eip712_signing_hash().expect("alloy hashes it");
    assert_eq!(
        unhex(st(d, "hash")),
        hash.to_vec(),
        "hash differs from alloy's"
    );
    let sig = Signature::from_raw(&unhex(st(d, "signature"))).expect("signature");
    assert_eq!(
        sig.recover_address_from_prehash(&hash).expect("recover"),
        me()
    );
    assert!(d["intent"].is_object(), "no intent in {d}");
}

#[test]
fn permits_and_authorizations_are_judged_like_the_token_calls_they_allow() {
    let e = Engine::start();
    wallet(
        &e,
        "td",
        json!({
            "allowed_chain_ids": [1],
            "allowed_recipients": [good().to_string()],
            "token_limits": {low(token()): {"max_value_per_tx": "1000", "max_value_per_day": "1500"}},
        }),
    );
    // EIP-2612.
    expect_403_naming(
        &sign_td(&e, "td", &permit(evil(), U256::from(10))),
        "allowed_recipients",
    );
    expect_403_naming(
        &sign_td(&e, "td", &permit(good(), U256::from(1001))),
        "token_limits",
    );
    expect_403_naming(
        &sign_td(&e, "td", &permit(good(), U256::MAX)),
        "allow_unlimited_approvals",
    );
    check_refuses(
        &check(
            &e,
            "td",
            "sign-typed-data",
            json!({"typed_data": permit(evil(), U256::from(1))}),
        ),
        "allowed_recipients",
    );
    let ok = permit(good(), U256::from(1000));
    signed_typed(&sign_td(&e, "td", &ok), &ok);
    // Counted like a transfer: 1000 of 1500 used.
    expect_403_naming(
        &sign_td(&e, "td", &permit(good(), U256::from(501))),
        "token_limits",
    );
    // A Permit whose shape is not EIP-2612's (an extra field) is not
    // decoded as one: it is other typed data, which this policy refuses.
    let mut odd = permit(good(), U256::from(1));
    odd["types"]["Permit"]
        .as_array_mut()
        .expect("array")
        .push(json!({"name": "extra", "type": "uint256"}));
    odd["message"]["extra"] = json!(1);
    expect_403_naming(&sign_td(&e, "td", &odd), "allowed_typed_data");

    // A DAI-style permit with allowed=true is unlimited.
    let dai = |spender: Address, allowed: bool| {
        json!({
            "types": {
                "EIP712Domain": domain_type(),
                "Permit": [
                    {"name": "holder", "type": "address"},
                    {"name": "spender", "type": "address"},
                    {"name": "nonce", "type": "uint256"},
                    {"name": "expiry", "type": "uint256"},
                    {"name": "allowed", "type": "bool"}
                ]
            },
            "primaryType": "Permit",
            "domain": domain_2612(1, token()),
            "message": {"holder": ETH0, "spender": spender.to_string(), "nonce": 0,
                        "expiry": 1_900_000_000u64, "allowed": allowed}
        })
    };
    expect_403_naming(
        &sign_td(&e, "td", &dai(good(), true)),
        "allow_unlimited_approvals",
    );
    expect_403_naming(
        &sign_td(&e, "td", &dai(evil(), false)),
        "allowed_recipients",
    );
    let revoke = dai(good(), false);
    signed_typed(&sign_td(&e, "td", &revoke), &revoke);

    // EIP-3009.
    expect_403_naming(
        &sign_td(&e, "td", &transfer_with_authorization(evil(), 1)),
        "allowed_recipients",
    );
    let auth = transfer_with_authorization(good(), 500);
    signed_typed(&sign_td(&e, "td", &auth), &auth);
    expect_403_naming(
        &sign_td(&e, "td", &transfer_with_authorization(good(), 1)),
        "token_limits",
    );

    // Permit2 PermitSingle: the token is in the message.
    wallet(
        &e,
        "p2",
        json!({"allowed_recipients": [good().to_string()], "token_limits": {low(token()): {}}}),
    );
    expect_403_naming(
        &sign_td(&e, "p2", &permit_single(unlisted_token(), good(), 5)),
        "allowed_contracts",
    );
    expect_403_naming(
        &sign_td(&e, "p2", &permit_single(token(), evil(), 5)),
        "allowed_recipients",
    );
    let ps = permit_single(token(), good(), 5);
    signed_typed(&sign_td(&e, "p2", &ps), &ps);
}

#[test]
fn other_typed_data_needs_a_listed_verifying_contract_or_the_flag() {
    let e = Engine::start();
    let venue = Address::repeat_byte(0x0e);
    wallet(&e, "none", json!({"allowed_chain_ids": [1]}));
    wallet(
        &e,
        "listed",
        json!({"allowed_typed_data": [{"verifying_contract": venue.to_string(), "primary_type": "Order"}]}),
    );
    wallet(
        &e,
        "wrongtype",
        json!({"allowed_typed_data": [{"verifying_contract": low(venue), "primary_type": "Mail"}]}),
    );
    wallet(
        &e,
        "any",
        json!({"allowed_chain_ids": [1], "allow_arbitrary_typed_data": true}),
    );
    let td = note(venue, "uint256", json!(1));
    expect_403_naming(&sign_td(&e, "none", &td), "allowed_typed_data");
    check_refuses(
        &check(&e, "none", "sign-typed-data", json!({"typed_data": td})),
        "allowed_typed_data",
    );
    signed_typed(&sign_td(&e, "listed", &td), &td);
    expect_403_naming(
        &sign_td(
            &e,
            "listed",
            &note(Address::repeat_byte(0x0f), "uint256", json!(1)),
        ),
        "allowed_typed_data",
    );
    expect_403_naming(&sign_td(&e, "wrongtype", &td), "allowed_typed_data");
    signed_typed(&sign_td(&e, "any", &td), &td);
    // chainId declared as a string is not a chain id: with
    // allowed_chain_ids the message has none and is refused.
    let stringly = note(venue, "string", json!("1"));
    expect_403_naming(&sign_td(&e, "any", &stringly), "allowed_chain_ids");
    expect_403_naming(
        &sign_td(&e, "any", &note(venue, "uint256", json!(5))),
        "allowed_chain_ids",
    );
    // Without a chain-id rule the same string-typed domain signs.
    let r = sign_td(&e, "listed", &stringly);
    r.expect_status(200);
    let hash = string_chain_id_hash(&stringly, venue);
    assert_eq!(unhex(st(r.data(), "hash")), hash.to_vec());
    let sig = Signature::from_raw(&unhex(st(r.data(), "signature"))).expect("signature");
    assert_eq!(
        sig.recover_address_from_prehash(&hash).expect("recover"),
        me()
    );
}

/// Two keys of token_limits that are the same address in different case
/// (lower case and EIP-55) name one token: the limit written under either
/// must hold (or the write must be refused), never be silently replaced by
/// the other entry's "no limit".
#[test]
fn a_token_limit_is_not_lost_to_the_same_address_in_another_case() {
    let e = Engine::start();
    // A token address whose EIP-55 form has letters in both cases.
    let tok = Address::repeat_byte(0xab);
    let checksum = tok.to_checksum(None);
    assert_ne!(checksum, low(tok), "the test needs a mixed-case checksum");
    assert_ne!(checksum[2..], checksum[2..].to_uppercase(), "mixed case");
    for (w, limited_key, open_key) in [
        ("lc", low(tok), checksum.clone()),
        ("cs", checksum.clone(), low(tok)),
    ] {
        e.abandon(w, json!({}));
        let mut limits = serde_json::Map::new();
        limits.insert(limited_key.clone(), json!({"max_value_per_tx": "1000"}));
        limits.insert(open_key.clone(), json!({}));
        let r = e.write(
            &format!("crypto/policies/{w}/ethereum"),
            json!({"token_limits": limits}),
        );
        if r.status == 400 {
            expect_400_naming(&r, "token_limits");
            continue;
        }
        assert!(matches!(r.status, 200 | 204), "{}", r.body);
        let over = sign_tx(&e, w, call(tok, &transfer(good(), 1001)));
        assert_eq!(
            over.status, 403,
            "token_limits {{{limited_key}: max 1000, {open_key}: {{}}}} was accepted and a \
             transfer of 1001 signed: {}",
            over.body
        );
        expect_403_naming(&over, "token_limits");
        let ok = transfer(good(), 1000);
        signed_call(&sign_tx(&e, w, call(tok, &ok)), tok, &ok);
    }
}

/// sign-hash's `chain` names a chain but `path` picks the key: with an
/// ethereum policy, asking for "bitcoin" at the ethereum key's path must
/// not give a raw signature by the ethereum key (a raw digest can be any
/// transaction's signing hash).
#[test]
fn sign_hash_under_the_bitcoin_name_does_not_sign_with_the_ethereum_key() {
    let e = Engine::start();
    e.abandon("rh", json!({"allow_raw_signing": true}));
    set_policy(
        &e,
        "rh",
        json!({"allowed_recipients": [good().to_string()]}),
    );
    let h = B256::repeat_byte(0x6b);
    let ask = |chain: &str, path: Option<&str>| {
        let mut b = json!({"chain": chain, "hash": h.to_string()});
        if let Some(p) = path {
            b["path"] = json!(p);
        }
        e.write("crypto/sign-hash/rh", b)
    };
    expect_403_naming(&ask("ethereum", None), "raw_signing");
    let r = ask("bitcoin", Some("m/44'/60'/0'/0/0"));
    if r.status == 200 {
        let sig = Signature::from_raw(&unhex(st(r.data(), "signature"))).expect("signature");
        let signer = sig.recover_address_from_prehash(&h).expect("recover");
        panic!(
            "sign-hash chain=bitcoin at m/44'/60'/0'/0/0 signed a raw digest for {signer} \
             (the wallet's ethereum address is {ETH0}) although the wallet has an ethereum \
             policy: {}",
            r.body
        );
    }
    expect_403_naming(&r, "raw_signing");
}
