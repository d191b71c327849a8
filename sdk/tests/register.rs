//! Registration library and `vault-crypto-register` CLI against a real `bao` dev server with
//! the plugin binary in its plugin directory (not yet registered).

use std::process::Command;
use std::time::Duration;

use integration_tests::{DevServer, ROOT_TOKEN, plugin_version};
use vault_crypto_sdk::Config;
use vault_crypto_sdk::register::{Cluster, Expectation, Registration, sha256_file};

fn dead_address() -> String {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let a = format!("http://{}", l.local_addr().expect("addr"));
    drop(l);
    a
}

fn base() -> Config {
    Config::default()
        .with_token(ROOT_TOKEN)
        .with_timeout(Duration::from_secs(60))
}

#[tokio::test]
async fn register_enables_the_mount_then_reloads_and_every_check_passes() {
    let server = DevServer::start();
    let cluster = Cluster::new([server.addr.clone()], &base()).expect("cluster");
    let reg = Registration::from_binary(&server.plugin_path, &plugin_version())
        .expect("registration")
        .with_wait(Duration::from_secs(30));

    let first = cluster.register(&reg).await.expect("register");
    assert_eq!(first.mount_action, "enabled");
    assert!(first.verify.ok(), "{}", first.verify);
    let node = &first.verify.nodes[0];
    assert!(node.leader);
    assert_eq!(
        node.catalog.as_ref().map(|c| c.sha256.as_str()),
        Some(reg.sha256.as_str())
    );
    assert_eq!(node.engine_ok, Some(true));

    // Idempotent: the same registration again reloads the mount (global scope).
    let second = cluster.register(&reg).await.expect("register again");
    assert_eq!(second.mount_action, "reloaded");
    assert!(second.verify.ok(), "{}", second.verify);
}

#[tokio::test]
async fn verify_reports_a_wrong_sha256_per_node() {
    let server = DevServer::with_plugin();
    let cluster = Cluster::new([server.addr.clone()], &base()).expect("cluster");
    let good = sha256_file(&server.plugin_path).expect("sha");
    let ok = cluster
        .verify(&Expectation::new(&good, &plugin_version(), Some("crypto")).expect("exp"))
        .await;
    assert!(ok.ok(), "{ok}");

    let wrong = "00".repeat(32);
    let bad = cluster
        .verify(&Expectation::new(&wrong, &plugin_version(), Some("crypto")).expect("exp"))
        .await;
    assert!(!bad.ok());
    let problems = bad.nodes[0].problems.join("; ");
    assert!(problems.contains("catalog sha256"), "{problems}");

    let missing = cluster
        .verify(&Expectation::new(&good, "v9.9.9", None).expect("exp"))
        .await;
    assert!(
        missing.nodes[0]
            .problems
            .join(" ")
            .contains("not in the catalog")
    );
}

#[tokio::test]
async fn register_refuses_when_a_node_is_unreachable() {
    let server = DevServer::start();
    let cluster = Cluster::new([server.addr.clone(), dead_address()], &base()).expect("cluster");
    let reg = Registration::from_binary(&server.plugin_path, &plugin_version()).expect("reg");
    let e = cluster.register(&reg).await.expect_err("a node is down");
    assert!(e.to_string().contains("reachable and unsealed"), "{e}");
    // Nothing was registered.
    let v = Cluster::new([server.addr.clone()], &base())
        .expect("cluster")
        .verify(&Expectation::from(&reg.clone().with_mount(None)))
        .await;
    assert!(v.nodes[0].catalog.is_none());
}

fn cli(server: &DevServer, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_vault-crypto-register"))
        .args(args)
        .env_remove("BAO_ADDR")
        .env_remove("BAO_TOKEN")
        .env("VAULT_ADDR", &server.addr)
        .env("VAULT_TOKEN", ROOT_TOKEN)
        .output()
        .expect("run vault-crypto-register")
}

#[test]
fn the_cli_registers_verifies_and_fails_loudly() {
    let server = DevServer::start();
    let bin = server.plugin_path.to_string_lossy().into_owned();
    let version = plugin_version();

    let out = cli(
        &server,
        &["register", "--binary", &bin, "--version", &version],
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("mount: enabled"), "{stdout}");
    assert!(stdout.contains(" OK"), "{stdout}");
    assert!(
        !stdout.contains(ROOT_TOKEN) || !stdout.contains("token"),
        "no token on stdout"
    );

    let out = cli(
        &server,
        &["verify", "--binary", &bin, "--version", &version],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );

    let wrong = "11".repeat(32);
    let out = cli(
        &server,
        &["verify", "--sha256", &wrong, "--version", &version],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stdout).contains("PROBLEMS"));

    let out = cli(&server, &["register", "--version", &version]);
    assert_eq!(out.status.code(), Some(1), "missing --binary/--sha256");
    let out = cli(&server, &["frobnicate"]);
    assert_eq!(out.status.code(), Some(1));
    let out = cli(&server, &["status", "--bogus"]);
    assert_eq!(out.status.code(), Some(2), "usage error");
}
