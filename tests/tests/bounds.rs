//! Resource bounds and operator hazards of issue 12, through a real server:
//! derivation work (path depth, count × depth, one parent per batch), the
//! plugin's own request-body limit and declared-fields-only parsing, wallet
//! names the host's storage refuses, and a mount's `log_level` applying to
//! that mount only. (`-- --nocapture` prints the timings.)
//!
//! The SDK's redirect rules are tested against loopback servers in
//! `sdk/tests/redirect.rs`.

mod engine_common;

use std::time::{Duration, Instant};

use engine_common::{ABANDON, eth_address, secp_key, seed, slip10_ed25519, solana_address};
use integration_tests::{DevServer, Reply, ServerOptions, wait_until};
use serde_json::{Value, json};

const W: &str = "crypto/wallets/w";

#[track_caller]
fn expect_400_naming(r: &Reply, what: &[&str]) {
    assert_eq!(
        r.status, 400,
        "expected a 400, got {}: {}",
        r.status, r.body
    );
    let text = r.errors();
    for w in what {
        assert!(text.contains(w), "the 400 does not name {w}: {text}");
    }
}

fn timed(s: &DevServer, path: &str) -> (Reply, Duration) {
    let t = Instant::now();
    let r = s.get(path);
    (r, t.elapsed())
}

fn addresses(r: &Reply) -> &Vec<Value> {
    r.data()["addresses"]
        .as_array()
        .unwrap_or_else(|| panic!("no addresses: {}", r.body))
}

// ---- 1. derivation work ---------------------------------------------------

#[test]
fn an_explicit_path_is_capped_at_ten_levels_naming_the_field_and_limit() {
    let s = DevServer::with_plugin();
    s.write(W, json!({"mnemonic": ABANDON})).expect_status(200);
    let ten = format!("m/48'/0'/0'/2'/0/0{}", "/1".repeat(4));
    let r = s.get(&format!("{W}/addresses/ethereum?path={ten}"));
    r.expect_status(200);
    assert_eq!(r.data()["path"], json!(ten));
    let (_, pk) = secp_key(&seed(ABANDON, ""), &ten);
    assert_eq!(
        r.data()["address"],
        json!(eth_address(&pk).to_checksum(None))
    );
    // 11 levels, and the old bound of 255: a 400 naming path and the limit,
    // on every path that takes an explicit path.
    for depth in [11, 255] {
        let deep = format!("m{}", "/0".repeat(depth));
        for r in [
            s.get(&format!("{W}/addresses/ethereum?path={deep}")),
            s.get(&format!("{W}/xpub?path={deep}")),
            s.write(
                &format!("{W}/ethereum/sign-message"),
                json!({"message": "x", "path": deep}),
            ),
        ] {
            expect_400_naming(&r, &["\"path\"", "at most 10"]);
        }
    }
}

#[test]
fn a_batch_derives_its_parent_once_and_matches_single_derivations() {
    let s = DevServer::with_plugin();
    s.write(W, json!({"mnemonic": ABANDON})).expect_status(200);
    let sd = seed(ABANDON, "");
    // A hardened last level on secp256k1 (the old code derived each key from
    // the seed), and solana's default path (index on level 3 of 4).
    let r = s.get(&format!(
        "{W}/addresses/ethereum?path=m/48'/60'/0'/2'/0/5'&count=3"
    ));
    r.expect_status(200);
    for (i, e) in addresses(&r).iter().enumerate() {
        let p = format!("m/48'/60'/0'/2'/0/{}'", 5 + i);
        let (_, pk) = secp_key(&sd, &p);
        assert_eq!(e["path"], json!(p));
        assert_eq!(e["address"], json!(eth_address(&pk).to_checksum(None)));
    }
    let r = s.get(&format!("{W}/addresses/solana?index=7&count=3"));
    r.expect_status(200);
    for (i, e) in addresses(&r).iter().enumerate() {
        let p = format!("m/44'/501'/{}'/0'", 7 + i);
        assert_eq!(e["path"], json!(p));
        let key = slip10_ed25519(&sd, &p);
        assert_eq!(e["address"], json!(solana_address(&key)));
    }
}

#[test]
fn the_worst_derivation_requests_are_bounded_and_timed() {
    let s = DevServer::with_plugin();
    s.write(W, json!({"mnemonic": ABANDON})).expect_status(200);
    eprintln!("derivation work (debug or release plugin as built):");
    // The request that used to cost 255 000 BIP32 steps: refused up front.
    let old_worst = format!("m{}", "/0'".repeat(255));
    let (r, took) = timed(
        &s,
        &format!("{W}/addresses/ethereum?path={old_worst}&count=1000"),
    );
    expect_400_naming(&r, &["\"path\"", "at most 10"]);
    eprintln!(
        "  255-level hardened path x 1000 (was 255000 steps): {} in {} ms",
        r.status,
        took.as_millis()
    );
    // The worst requests still allowed: the deepest path counting up a
    // hardened last level, and solana's default path (two steps per key).
    let deepest = format!("m{}", "/0'".repeat(10));
    for (label, path) in [
        (
            "10-level hardened path x 1000 (1009 steps)",
            format!("{W}/addresses/ethereum?path={deepest}&count=1000"),
        ),
        (
            "solana default path x 1000 (2002 steps)",
            format!("{W}/addresses/solana?count=1000"),
        ),
        (
            "bitcoin default path x 1000 (1004 steps)",
            format!("{W}/addresses/bitcoin?count=1000"),
        ),
    ] {
        let (r, took) = timed(&s, &path);
        r.expect_status(200);
        assert_eq!(addresses(&r).len(), 1000, "{label}");
        eprintln!("  {label}: 200 in {} ms", took.as_millis());
    }
    // The last of the deepest batch is the single key at that path.
    let last = format!("m{}/999'", "/0'".repeat(9));
    let r = s.get(&format!("{W}/addresses/ethereum?path={deepest}&count=1000"));
    let (_, pk) = secp_key(&seed(ABANDON, ""), &last);
    assert_eq!(addresses(&r)[999]["path"], json!(last));
    assert_eq!(
        addresses(&r)[999]["address"],
        json!(eth_address(&pk).to_checksum(None))
    );
}

// ---- 2. request body ----------------------------------------------------------

#[test]
fn a_body_above_the_plugins_limit_is_a_400_naming_the_limit_and_ignored_fields_are_not_parsed() {
    let s = DevServer::with_plugin();
    s.write(W, json!({"mnemonic": ABANDON})).expect_status(200);
    let pid = s.plugin_pid();
    let sign = format!("{W}/solana/sign-message");
    // 9 MB: under the host's 32 MiB, over the plugin's 8 MiB.
    let t = Instant::now();
    let r = s.write(
        &sign,
        json!({"message": "aGk=", "padding": "x".repeat(9_000_000)}),
    );
    expect_400_naming(&r, &["request body", "8388608 bytes", "8 MiB"]);
    eprintln!(
        "  a 9 MB body: {} in {} ms",
        r.status,
        t.elapsed().as_millis()
    );
    // Just under the limit, with the unknown field: served, with the
    // host-style warning naming the ignored field.
    let r = s.write(
        &sign,
        json!({"message": "aGk=", "padding": "x".repeat(8_000_000)}),
    );
    r.expect_status(200);
    assert!(
        r.body["warnings"].to_string().contains("padding"),
        "no warning about the ignored field: {}",
        r.body
    );
    // An undeclared field is never built into values: nesting deeper than
    // the value parser's 128 levels passes when the field is ignored, and is
    // still refused in a declared field.
    let deep = |n: usize| -> Value {
        let mut v = json!(1);
        for _ in 0..n {
            v = json!([v]);
        }
        v
    };
    let r = s.write(&sign, json!({"message": "aGk=", "junk": deep(200)}));
    r.expect_status(200);
    let r = s.write(&sign, json!({"message": deep(200)}));
    expect_400_naming(&r, &["nested too deeply", "128"]);
    assert_eq!(s.plugin_pids(), vec![pid], "the plugin process changed");
}

// ---- 3. names the host's storage refuses ---------------------------------------

#[test]
fn wallet_names_with_two_dots_are_a_400_naming_the_field_on_every_path() {
    let s = DevServer::with_plugin();
    // OpenBao's storage views refuse any key containing ".." ("relative
    // paths not supported"); such a name used to reach storage and fail as
    // a 500.
    for name in ["a..b", "a..", "x...y", "1..2", "a.-..z"] {
        let w = format!("crypto/wallets/{name}");
        let replies = [
            ("create", s.write(&w, json!({"words": 12}))),
            ("import", s.write(&w, json!({"mnemonic": ABANDON}))),
            ("read", s.get(&w)),
            ("delete", s.delete(&w)),
            ("addresses", s.get(&format!("{w}/addresses/ethereum"))),
            ("xpub", s.get(&format!("{w}/xpub"))),
            (
                "sign",
                s.write(
                    &format!("{w}/ethereum/sign-message"),
                    json!({"message": "x"}),
                ),
            ),
        ];
        for (what, r) in replies {
            assert_eq!(r.status, 400, "{what} {name}: {}", r.body);
            assert!(
                r.errors().contains("\"name\""),
                "{what} {name}: the 400 does not name the field: {}",
                r.body
            );
        }
    }
    // Single dots, and a trailing one, stay valid names.
    for name in ["a.b.c", "a.b.", "v1.2-rc_3"] {
        let w = format!("crypto/wallets/{name}");
        s.write(&w, json!({"words": 12})).expect_status(200);
        s.get(&w).expect_status(200);
    }
    let list = s.list("crypto/wallets");
    list.expect_status(200);
    assert_eq!(list.data()["keys"], json!(["a.b.", "a.b.c", "v1.2-rc_3"]));
}

// ---- 4. a mount's log_level ------------------------------------------------------

#[test]
fn a_mounts_log_level_changes_that_mounts_logging_only() {
    // Server and plugin process at trace; one mount asks for error only.
    let s = DevServer::start_with(&ServerOptions {
        log_level: Some("trace".into()),
        ..Default::default()
    });
    s.register().expect_status(204);
    s.enable_with_options("quiet", json!({"log_level": "error"}))
        .expect_status(204);
    s.enable("loud").expect_status(204);
    let pid = s.plugin_pid();
    s.write("quiet/wallets/quietwallet7", json!({"words": 12}))
        .expect_status(200);
    s.write("loud/wallets/loudwallet7", json!({"words": 12}))
        .expect_status(200);
    // Both mounts are served by the one process.
    assert_eq!(s.plugin_pids(), vec![pid]);
    // The loud mount's info line reaches the server log; the quiet one's
    // does not (it would with the process-wide level the option used to set).
    // Only the plugin's own line is looked for: the host at trace may log the
    // request path, which holds the name too.
    let created = |name: &str| {
        s.log()
            .lines()
            .any(|l| l.contains("wallet created") && l.contains(name))
    };
    let seen = wait_until(Duration::from_secs(10), || {
        created("loudwallet7").then_some(())
    });
    assert!(
        seen.is_some(),
        "the mount without a level of its own logs at the process level:\n{}",
        s.log()
    );
    assert!(
        !created("quietwallet7"),
        "the error-level mount logged an info line"
    );
    // Unmounting the quiet mount leaves the other's level alone.
    s.disable("quiet").expect_status(204);
    s.write("loud/wallets/loudwallet8", json!({"words": 12}))
        .expect_status(200);
    let seen = wait_until(Duration::from_secs(10), || {
        created("loudwallet8").then_some(())
    });
    assert!(seen.is_some(), "the loud mount stopped logging");
}
