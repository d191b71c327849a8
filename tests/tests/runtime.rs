//! The plugin runtime against a real server: registration, mounting, the
//! request loop, errors, help/OpenAPI, and the process lifecycle (reload,
//! crash, unmount, server stop, multiplexing).

use std::time::Duration;

use integration_tests::{DevServer, PLUGIN_NAME, plugin_version, sha256_file, wait_until};
use serde_json::json;

fn single_pid(s: &DevServer) -> i32 {
    // Registration probes the binary in short-lived processes; wait until
    // only the serving process is left.
    wait_until(Duration::from_secs(15), || {
        let pids = s.plugin_pids();
        (pids.len() == 1).then(|| pids[0])
    })
    .unwrap_or_else(|| panic!("expected one plugin process, found {:?}", s.plugin_pids()))
}

#[test]
fn registration_with_sha256_and_version_shows_the_version_the_plugin_reports() {
    let s = DevServer::start();
    s.register().expect_status(204);
    let info = s.get(&format!(
        "sys/plugins/catalog/secret/{PLUGIN_NAME}?version={}",
        plugin_version()
    ));
    info.expect_status(200);
    assert_eq!(info.data()["version"], plugin_version().as_str());
    assert_eq!(info.data()["sha256"], sha256_file(&s.plugin_path).as_str());
    let out = s.cli(&[
        "plugin",
        "info",
        &format!("-version={}", plugin_version()),
        "secret",
        PLUGIN_NAME,
    ]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "plugin info failed: {text}");
    assert!(text.contains(&plugin_version()), "{text}");
}

#[test]
fn registration_without_a_version_stores_the_version_the_plugin_reports() {
    let s = DevServer::start();
    s.write(
        &format!("sys/plugins/catalog/secret/{PLUGIN_NAME}"),
        json!({"sha256": sha256_file(&s.plugin_path), "command": PLUGIN_NAME}),
    )
    .expect_status(204);
    // Only PluginVersion can have told the host this version.
    let info = s.get(&format!(
        "sys/plugins/catalog/secret/{PLUGIN_NAME}?version={}",
        plugin_version()
    ));
    info.expect_status(200);
    assert_eq!(info.data()["version"], plugin_version().as_str());
}

#[test]
fn a_wrong_sha256_fails_with_the_hosts_checksum_error() {
    let s = DevServer::start();
    s.write(
        &format!("sys/plugins/catalog/secret/{PLUGIN_NAME}"),
        json!({
            "sha256": "0000000000000000000000000000000000000000000000000000000000000000",
            "command": PLUGIN_NAME,
            "version": plugin_version(),
        }),
    );
    let r = s.enable("crypto");
    assert!(r.status >= 400, "mount with a wrong checksum succeeded");
    assert!(
        r.errors().contains("checksums did not match"),
        "unexpected error: {}",
        r.body
    );
    assert!(s.plugin_pids().is_empty());
}

#[test]
fn the_plugin_asks_the_hosts_system_view_for_its_version() {
    let s = DevServer::with_plugin();
    // `PluginEnv` over the brokered connection answered with the server's
    // own version, which the plugin logs at Initialize (stderr → server log).
    let version = String::from_utf8_lossy(&s.cli(&["version"]).stdout)
        .split_whitespace()
        .nth(1)
        .unwrap_or_default()
        .trim_start_matches('v')
        .to_string();
    assert!(!version.is_empty());
    let logged = wait_until(Duration::from_secs(10), || {
        s.log()
            .contains(&format!("mounted on host version {version}"))
            .then_some(())
    });
    assert!(
        logged.is_some(),
        "no host version in the server log:\n{}",
        s.log()
    );
}

#[test]
fn a_wallet_is_created_read_listed_and_deleted_through_the_server() {
    let s = DevServer::with_plugin();
    s.list("crypto/wallets").expect_status(404);
    let created = s.write("crypto/wallets/alice", json!({}));
    created.expect_status(200);
    let fp = created.data()["fingerprint"]
        .as_str()
        .expect("fingerprint")
        .to_string();
    assert_eq!(fp.len(), 8);
    assert_eq!(created.data()["type"], "hd");
    let read = s.get("crypto/wallets/alice");
    read.expect_status(200);
    assert_eq!(read.data()["fingerprint"], fp.as_str());
    assert_eq!(read.data()["exportable"], false);
    for secret in ["mnemonic", "passphrase", "seed", "private_key"] {
        assert!(read.data().get(secret).is_none(), "read returned {secret}");
    }
    let listed = s.list("crypto/wallets");
    listed.expect_status(200);
    assert_eq!(listed.data()["keys"], json!(["alice"]));
    // Deletion is off by default, as in transit.
    let refused = s.delete("crypto/wallets/alice");
    refused.expect_status(400);
    assert!(
        refused.errors().contains("deletion_allowed"),
        "{}",
        refused.body
    );
    s.write("crypto/wallets/alice", json!({"deletion_allowed": true}))
        .expect_status(200);
    s.delete("crypto/wallets/alice").expect_status(204);
    s.get("crypto/wallets/alice").expect_status(404);
}

#[test]
fn bad_input_unknown_wallets_and_unsupported_operations_get_400_404_405() {
    let s = DevServer::with_plugin();
    let bad = s.write("crypto/wallets/-bad", json!({}));
    bad.expect_status(400);
    assert!(bad.errors().contains("name"), "{}", bad.body);
    let bad_words = s.write("crypto/wallets/w", json!({"words": 13}));
    bad_words.expect_status(400);
    assert!(bad_words.errors().contains("words"), "{}", bad_words.body);
    let missing = s.get("crypto/wallets/nobody");
    missing.expect_status(404);
    s.get("crypto/no/such/path").expect_status(404);
    let unsupported = s.delete("crypto/wallets/");
    unsupported.expect_status(405);
}

#[test]
fn path_help_and_openapi_describe_the_paths_and_their_fields() {
    let s = DevServer::with_plugin();
    let out = s.cli(&["path-help", "crypto/wallets/w"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "path-help failed: {text}");
    for field in [
        "mnemonic",
        "exportable",
        "deletion_allowed",
        "allow_raw_signing",
    ] {
        assert!(text.contains(field), "path-help lacks {field}: {text}");
    }
    let spec = s.get("sys/internal/specs/openapi");
    spec.expect_status(200);
    let paths = spec.body["paths"].as_object().expect("paths");
    let wallet = paths
        .iter()
        .find(|(k, _)| k.starts_with("/crypto/wallets/{"))
        .map(|(_, v)| v.to_string())
        .unwrap_or_else(|| panic!("no /crypto/wallets/{{name}} in {:?}", paths.keys()));
    assert!(wallet.contains("mnemonic"), "{wallet}");
    assert!(paths.contains_key("/crypto/wallets/"), "{:?}", paths.keys());
}

#[test]
fn a_reload_restarts_the_plugin_and_keeps_the_data() {
    let s = DevServer::with_plugin();
    let fp = s.write("crypto/wallets/keep", json!({})).data()["fingerprint"].clone();
    let before = single_pid(&s);
    s.write("sys/plugins/reload/backend", json!({"plugin": PLUGIN_NAME}))
        .expect_status(200);
    let after = wait_until(Duration::from_secs(20), || {
        let p = s.plugin_pids();
        (p.len() == 1 && p[0] != before).then(|| p[0])
    });
    assert!(
        after.is_some(),
        "plugin was not restarted: {:?}",
        s.plugin_pids()
    );
    let read = s.get("crypto/wallets/keep");
    read.expect_status(200);
    assert_eq!(read.data()["fingerprint"], fp);
}

#[test]
fn after_kill_9_of_the_plugin_the_host_restarts_it_with_the_data_intact() {
    let s = DevServer::with_plugin();
    let fp = s.write("crypto/wallets/k", json!({})).data()["fingerprint"].clone();
    let pid = single_pid(&s);
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(pid),
        nix::sys::signal::Signal::SIGKILL,
    )
    .expect("kill plugin");
    // Until the host has noticed the exit (some time after the process is
    // reaped: OpenBao 2.7.2 learns it asynchronously), a request fails at the
    // host's gRPC dial with a 500; then the host starts a new process. Any
    // other answer in between is a bug.
    let mut failures = Vec::new();
    let read = wait_until(Duration::from_secs(20), || {
        let r = s.get("crypto/wallets/k");
        if r.status == 200 {
            return Some(r);
        }
        failures.push(format!("{} {}", r.status, r.body));
        std::thread::sleep(Duration::from_millis(100));
        None
    })
    .unwrap_or_else(|| panic!("the plugin did not come back: {failures:?}"));
    assert!(
        failures.iter().all(|f| f.starts_with("500 ")),
        "only the host's dial failures may precede the restart: {failures:?}"
    );
    assert_eq!(read.data()["fingerprint"], fp);
    let new = single_pid(&s);
    assert_ne!(new, pid);
}

#[test]
fn unmounting_leaves_no_plugin_process_behind() {
    let s = DevServer::with_plugin();
    single_pid(&s);
    s.disable("crypto").expect_status(204);
    let gone = wait_until(Duration::from_secs(15), || {
        s.plugin_pids().is_empty().then_some(())
    });
    assert!(
        gone.is_some(),
        "plugin still running: {:?}",
        s.plugin_pids()
    );
}

#[test]
fn server_sigterm_stops_the_plugin() {
    let mut s = DevServer::with_plugin();
    single_pid(&s);
    s.terminate();
    let gone = wait_until(Duration::from_secs(15), || {
        s.plugin_pids().is_empty().then_some(())
    });
    assert!(
        gone.is_some(),
        "plugin outlived the server: {:?}",
        s.plugin_pids()
    );
}

#[test]
fn two_mounts_are_served_by_one_process_with_separate_data() {
    let s = DevServer::with_plugin();
    s.enable("crypto2").expect_status(204);
    s.write("crypto/wallets/one", json!({})).expect_status(200);
    s.write("crypto2/wallets/two", json!({})).expect_status(200);
    assert_eq!(s.list("crypto/wallets").data()["keys"], json!(["one"]));
    assert_eq!(s.list("crypto2/wallets").data()["keys"], json!(["two"]));
    single_pid(&s);
    // Removing one mount keeps the process serving the other.
    s.disable("crypto2").expect_status(204);
    s.get("crypto/wallets/one").expect_status(200);
    single_pid(&s);
}
