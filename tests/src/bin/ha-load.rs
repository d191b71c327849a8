//! `ha-load`: signs continuously through every node of a cluster, as
//! applications using the SDK would, and checks every returned signature.
//!
//! Used by `scripts/test-ha.sh` (fail-over under load). Each worker is
//! pinned to one node (that node first in its SDK client's address list,
//! the others as fail-over) and alternates `ethereum/sign-message` on the
//! message wallets with legacy `ethereum/sign-transaction` of 1 wei from
//! the limit wallet (whose policy has a daily limit).
//!
//! ```text
//! ha-load --node URL [--node URL ...] [--cacert PEM] --wallet NAME [--wallet NAME ...]
//!         --limit-wallet NAME --stop-file PATH [--max-seconds N] [--workers-per-node N]
//!         [--report PATH]
//! ```
//!
//! The token comes from `VAULT_TOKEN` / `BAO_TOKEN` (never the command
//! line). Stops when the stop file exists or after `--max-seconds`
//! (default 300). While running it rewrites `<report>.progress` with
//! `ok failed refused`; at the end it writes the report (JSON) and prints
//! one summary line. Exit status 0 unless a signature failed to verify or
//! the tool itself could not run.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use alloy_consensus::transaction::SignerRecoverable as _;
use alloy_eips::eip2718::Decodable2718 as _;
use alloy_primitives::{Address, Signature, hex};
use serde_json::json;
use tokio::sync::Mutex;
use vault_crypto_sdk::addresses::AddressRequest;
use vault_crypto_sdk::ethereum::{SignMessage, SignTransaction};
use vault_crypto_sdk::{Chain, Client, Config, RetryPolicy};

struct Args {
    nodes: Vec<String>,
    cacert: Option<PathBuf>,
    wallets: Vec<String>,
    limit_wallet: String,
    stop_file: PathBuf,
    max_seconds: u64,
    workers_per_node: usize,
    report: Option<PathBuf>,
}

fn parse_args() -> Result<Args, String> {
    let mut a = Args {
        nodes: Vec::new(),
        cacert: None,
        wallets: Vec::new(),
        limit_wallet: String::new(),
        stop_file: PathBuf::new(),
        max_seconds: 300,
        workers_per_node: 2,
        report: None,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || it.next().ok_or(format!("{flag} needs a value"));
        match flag.as_str() {
            "--node" => a.nodes.push(value()?),
            "--cacert" => a.cacert = Some(value()?.into()),
            "--wallet" => a.wallets.push(value()?),
            "--limit-wallet" => a.limit_wallet = value()?,
            "--stop-file" => a.stop_file = value()?.into(),
            "--max-seconds" => {
                a.max_seconds = value()?.parse().map_err(|_| "--max-seconds: a number")?
            }
            "--workers-per-node" => {
                a.workers_per_node = value()?
                    .parse()
                    .map_err(|_| "--workers-per-node: a number")?
            }
            "--report" => a.report = Some(value()?.into()),
            other => return Err(format!("unknown argument {other}")),
        }
    }
    if a.nodes.is_empty() || a.wallets.is_empty() || a.limit_wallet.is_empty() {
        return Err("need --node, --wallet and --limit-wallet".into());
    }
    if a.stop_file.as_os_str().is_empty() {
        return Err("need --stop-file".into());
    }
    Ok(a)
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

fn token() -> Result<String, String> {
    std::env::var("BAO_TOKEN")
        .or_else(|_| std::env::var("VAULT_TOKEN"))
        .map_err(|_| "set VAULT_TOKEN or BAO_TOKEN".to_string())
}

/// A client whose first address is `primary`, then the other nodes.
fn client_for(args: &Args, primary: usize, token: &str) -> Result<Client, String> {
    let mut order = vec![args.nodes[primary].clone()];
    order.extend(
        args.nodes
            .iter()
            .enumerate()
            .filter(|(i, _)| *i != primary)
            .map(|(_, n)| n.clone()),
    );
    let mut config = Config::new(order)
        .with_token(token.to_owned())
        .with_timeout(Duration::from_secs(10))
        .with_connect_timeout(Duration::from_secs(2))
        .with_retry(
            RetryPolicy::default()
                .with_max_attempts(6)
                .with_backoff(Duration::from_millis(100), Duration::from_secs(1)),
        );
    if let Some(ca) = &args.cacert {
        config = config.with_ca_cert(ca.clone());
    }
    Client::new(config).map_err(|e| e.to_string())
}

#[derive(Default)]
struct Totals {
    ok: AtomicU64,
    failed: AtomicU64,
    refused: AtomicU64,
    bad_signatures: AtomicU64,
    ok_transactions: AtomicU64,
    failed_transactions: AtomicU64,
}

/// One failed request, for the report.
struct Failure {
    at_ms: u64,
    node: String,
    kind: &'static str,
    error: String,
}

/// An error with its sources, so that "error sending request" says why.
fn chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        out.push_str(": ");
        out.push_str(&s.to_string());
        source = s.source();
    }
    out
}

/// Recovers the signer of an EIP-191 message signature.
fn message_signer(message: &str, signature: &str) -> Option<Address> {
    let bytes = hex::decode(signature).ok()?;
    let sig = Signature::try_from(bytes.as_slice()).ok()?;
    sig.recover_address_from_msg(message.as_bytes()).ok()
}

/// Recovers the signer of a signed EIP-2718 transaction, and checks it
/// moves 1 wei.
fn transaction_signer(raw: &str) -> Option<Address> {
    let bytes = hex::decode(raw).ok()?;
    let envelope = alloy_consensus::TxEnvelope::decode_2718(&mut bytes.as_slice()).ok()?;
    use alloy_consensus::Transaction as _;
    if envelope.value() != alloy_primitives::U256::from(1) {
        return None;
    }
    envelope.recover_signer().ok()
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> std::process::ExitCode {
    match run().await {
        Ok(true) => std::process::ExitCode::SUCCESS,
        Ok(false) => std::process::ExitCode::from(1),
        Err(e) => {
            eprintln!("ha-load: {e}");
            std::process::ExitCode::from(2)
        }
    }
}

async fn run() -> Result<bool, String> {
    let args = Arc::new(parse_args()?);
    let token = token()?;

    // The identity of every wallet, asked once before the load.
    let first = client_for(&args, 0, &token)?;
    let mut expected: HashMap<String, Address> = HashMap::new();
    for w in args.wallets.iter().chain([&args.limit_wallet]) {
        let a = first
            .addresses()
            .get(w, Chain::Ethereum, &AddressRequest::default())
            .await
            .map_err(|e| format!("address of {w}: {e}"))?;
        let addr: Address = a
            .address
            .parse()
            .map_err(|_| format!("address of {w} is not an address: {}", a.address))?;
        expected.insert(w.clone(), addr);
    }
    let expected = Arc::new(expected);

    let totals = Arc::new(Totals::default());
    let failures = Arc::new(Mutex::new(Vec::<Failure>::new()));
    let deadline = tokio::time::Instant::now() + Duration::from_secs(args.max_seconds);
    let started = now_ms();
    let mut workers = Vec::new();
    for node in 0..args.nodes.len() {
        for w in 0..args.workers_per_node {
            let client = client_for(&args, node, &token)?;
            let (args, expected, totals, failures) = (
                Arc::clone(&args),
                Arc::clone(&expected),
                Arc::clone(&totals),
                Arc::clone(&failures),
            );
            workers.push(tokio::spawn(async move {
                let mut k: u64 = 0;
                while !args.stop_file.exists() && tokio::time::Instant::now() < deadline {
                    k += 1;
                    let kind;
                    let outcome = if k.is_multiple_of(2) {
                        kind = "sign-transaction";
                        let tx = SignTransaction::legacy(1, k, 21_000, 1_000_000_000u64)
                            .to("0x000000000000000000000000000000000000dEaD")
                            .value(1u64);
                        match client
                            .ethereum()
                            .sign_transaction(&args.limit_wallet, &tx)
                            .await
                        {
                            Ok(s) => {
                                totals.ok_transactions.fetch_add(1, Ordering::Relaxed);
                                Ok(transaction_signer(&s.signed_transaction)
                                    == expected.get(&args.limit_wallet).copied())
                            }
                            Err(e) => {
                                if !e.is_forbidden() {
                                    totals.failed_transactions.fetch_add(1, Ordering::Relaxed);
                                }
                                Err(e)
                            }
                        }
                    } else {
                        kind = "sign-message";
                        let wallet = &args.wallets[(k as usize / 2 + w) % args.wallets.len()];
                        let text = format!("ha-load node {node} worker {w} request {k}");
                        match client
                            .ethereum()
                            .sign_message(wallet, &SignMessage::text(text.clone()))
                            .await
                        {
                            Ok(s) => Ok(message_signer(&text, &s.signature)
                                == expected.get(wallet).copied()),
                            Err(e) => Err(e),
                        }
                    };
                    match outcome {
                        Ok(verified) => {
                            totals.ok.fetch_add(1, Ordering::Relaxed);
                            if !verified {
                                totals.bad_signatures.fetch_add(1, Ordering::Relaxed);
                            }
                        }
                        // The daily limit refusing is the policy working, not a failure.
                        Err(e) if e.is_forbidden() => {
                            totals.refused.fetch_add(1, Ordering::Relaxed);
                        }
                        Err(e) => {
                            totals.failed.fetch_add(1, Ordering::Relaxed);
                            failures.lock().await.push(Failure {
                                at_ms: now_ms(),
                                node: args.nodes[node].clone(),
                                kind,
                                error: chain(&e),
                            });
                            // Do not spin while a node is down.
                            tokio::time::sleep(Duration::from_millis(50)).await;
                        }
                    }
                }
            }));
        }
    }

    // Progress for the driver script, every 200 ms.
    let progress = args
        .report
        .as_ref()
        .map(|r| PathBuf::from(format!("{}.progress", r.display())));
    let ticker = {
        let (totals, progress) = (Arc::clone(&totals), progress.clone());
        tokio::spawn(async move {
            loop {
                if let Some(p) = &progress {
                    let line = format!(
                        "{} {} {}\n",
                        totals.ok.load(Ordering::Relaxed),
                        totals.failed.load(Ordering::Relaxed),
                        totals.refused.load(Ordering::Relaxed)
                    );
                    let tmp = p.with_extension("tmp");
                    if std::fs::write(&tmp, line).is_ok() {
                        let _ = std::fs::rename(&tmp, p);
                    }
                }
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        })
    };
    for w in workers {
        w.await.map_err(|e| format!("worker: {e}"))?;
    }
    ticker.abort();

    let failures = failures.lock().await;
    let load = |a: &AtomicU64| a.load(Ordering::Relaxed);
    let (ok, failed, refused, bad) = (
        load(&totals.ok),
        load(&totals.failed),
        load(&totals.refused),
        load(&totals.bad_signatures),
    );
    let report = json!({
        "started_ms": started,
        "ended_ms": now_ms(),
        "sent": ok + failed + refused,
        "succeeded": ok,
        "failed": failed,
        "refused_by_policy": refused,
        "bad_signatures": bad,
        "ok_transactions": load(&totals.ok_transactions),
        "failed_transactions": load(&totals.failed_transactions),
        "first_failure_ms": failures.iter().map(|f| f.at_ms).min(),
        "last_failure_ms": failures.iter().map(|f| f.at_ms).max(),
        "failures": failures.iter().take(50).map(|f| json!({
            "at_ms": f.at_ms, "node": f.node, "kind": f.kind, "error": f.error,
        })).collect::<Vec<_>>(),
    });
    if let Some(path) = &args.report {
        std::fs::write(path, report.to_string()).map_err(|e| format!("report: {e}"))?;
    }
    println!(
        "sent {} succeeded {ok} failed {failed} refused_by_policy {refused} bad_signatures {bad}",
        ok + failed + refused
    );
    Ok(bad == 0)
}
