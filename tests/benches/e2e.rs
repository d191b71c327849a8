//! End-to-end benchmark against one real `bao` dev server: our plugin's
//! signing paths next to the host's builtin `transit` engine, same client,
//! same token, same concurrency; then cold start, memory, and scale.
//!
//! `make bench` runs it with the release plugin
//! (`CRYPTO_PLUGIN_BIN=target/release/vault-plugin-crypto`). Figures are
//! printed, never asserted: a benchmark is not a test.
//!
//! Knobs: `BENCH_SECONDS` (per endpoint and concurrency, default 10, split
//! into interleaved rounds), `BENCH_CONCURRENCY` (default `1,8,32`),
//! `BENCH_WALLETS` (default 10000), `BENCH_ROUNDS` (default 2).

use std::io::Read;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use base64::Engine as _;
use integration_tests::{DevServer, ROOT_TOKEN, plugin_binary};
use serde_json::{Value, json};

fn env_num(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// One benchmarked request: a name, a path and a pre-serialized body.
#[derive(Clone)]
struct Endpoint {
    name: &'static str,
    path: String,
    body: Option<String>,
}

#[derive(Default, Clone)]
struct Sample {
    latencies: Vec<Duration>,
    errors: u64,
    elapsed: Duration,
    /// CPU time (clock ticks) spent by the server and by the plugin.
    host_ticks: u64,
    plugin_ticks: u64,
}

impl Sample {
    fn merge(&mut self, other: Sample) {
        self.latencies.extend(other.latencies);
        self.errors += other.errors;
        self.elapsed += other.elapsed;
        self.host_ticks += other.host_ticks;
        self.plugin_ticks += other.plugin_ticks;
    }

    /// CPU microseconds per answered request.
    fn cpu_per_request(&self, ticks: u64) -> f64 {
        ticks as f64 * 1e6 / ticks_per_second() / (self.latencies.len().max(1) as f64)
    }

    fn rate(&self) -> f64 {
        self.latencies.len() as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }

    fn percentile(&self, p: f64) -> Duration {
        if self.latencies.is_empty() {
            return Duration::ZERO;
        }
        let mut v = self.latencies.clone();
        v.sort_unstable();
        let i = ((v.len() as f64 - 1.0) * p).round() as usize;
        v[i.min(v.len() - 1)]
    }
}

fn agent() -> ureq::Agent {
    ureq::AgentBuilder::new()
        .timeout(Duration::from_secs(30))
        .max_idle_connections_per_host(4)
        .build()
}

/// Sends one request; true on a 2xx.
fn send(agent: &ureq::Agent, url: &str, ep: &Endpoint) -> bool {
    let req = match ep.body {
        Some(_) => agent.post(url),
        None => agent.get(url),
    }
    .set("X-Vault-Token", ROOT_TOKEN);
    let result = match &ep.body {
        Some(b) => req.set("Content-Type", "application/json").send_string(b),
        None => req.call(),
    };
    match result {
        Ok(resp) => {
            let mut sink = Vec::new();
            let _ = resp.into_reader().take(1 << 20).read_to_end(&mut sink);
            true
        }
        Err(_) => false,
    }
}

/// `sysconf(_SC_CLK_TCK)`: 100 on Linux.
fn ticks_per_second() -> f64 {
    100.0
}

/// utime + stime of a process, in clock ticks.
fn cpu_ticks(pid: i32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|s| {
            let rest = s.rsplit_once(')')?.1.to_owned();
            let f: Vec<&str> = rest.split_whitespace().collect();
            // Fields 14 and 15 of stat; `rest` starts at field 3.
            Some(f.get(11)?.parse::<u64>().ok()? + f.get(12)?.parse::<u64>().ok()?)
        })
        .unwrap_or(0)
}

/// Total CPU ticks of the server and of its plugin processes.
fn ticks(server: &DevServer) -> (u64, u64) {
    let host = cpu_ticks(server.pid() as i32);
    let plugin = server.plugin_pids().into_iter().map(cpu_ticks).sum();
    (host, plugin)
}

/// Runs `ep` with `concurrency` threads for `duration`.
fn run(server: &DevServer, ep: &Endpoint, concurrency: usize, duration: Duration) -> Sample {
    let addr = &server.addr;
    let (h0, p0) = ticks(server);
    let url = format!("{addr}/v1/{}", ep.path);
    let stop = Arc::new(AtomicBool::new(false));
    let start = Instant::now();
    let handles: Vec<_> = (0..concurrency)
        .map(|_| {
            let (url, ep, stop) = (url.clone(), ep.clone(), stop.clone());
            std::thread::spawn(move || {
                let agent = agent();
                let mut s = Sample::default();
                while !stop.load(Ordering::Relaxed) {
                    let t = Instant::now();
                    if send(&agent, &url, &ep) {
                        s.latencies.push(t.elapsed());
                    } else {
                        s.errors += 1;
                    }
                }
                s
            })
        })
        .collect();
    std::thread::sleep(duration);
    stop.store(true, Ordering::Relaxed);
    let mut total = Sample::default();
    for h in handles {
        total.merge(h.join().expect("load thread"));
    }
    total.elapsed = start.elapsed();
    let (h1, p1) = ticks(server);
    total.host_ticks = h1.saturating_sub(h0);
    total.plugin_ticks = p1.saturating_sub(p0);
    total
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

fn rss_kib(pid: i32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(0)
}

fn plugin_rss(server: &DevServer) -> String {
    let pids = server.plugin_pids();
    pids.iter()
        .map(|p| format!("{:.1} MB (pid {p})", rss_kib(*p) as f64 / 1024.0))
        .collect::<Vec<_>>()
        .join(", ")
}

fn must(server: &DevServer, path: &str, body: Value) -> Value {
    let r = server.write(path, body);
    assert!(r.status < 300, "{path}: {} {}", r.status, r.body);
    r.body
}

/// Creates `n` wallets named `{prefix}{i}` with `threads` clients; returns the elapsed time.
fn create_wallets(addr: &str, prefix: &str, n: u64, threads: u64) -> (Duration, u64) {
    let start = Instant::now();
    let handles: Vec<_> = (0..threads)
        .map(|t| {
            let addr = addr.to_owned();
            let prefix = prefix.to_owned();
            std::thread::spawn(move || {
                let agent = agent();
                let ep = |i: u64| Endpoint {
                    name: "create",
                    path: format!("crypto/wallets/{prefix}{i}"),
                    body: Some("{}".into()),
                };
                let mut errors = 0;
                let mut i = t;
                while i < n {
                    let e = ep(i);
                    if !send(&agent, &format!("{addr}/v1/{}", e.path), &e) {
                        errors += 1;
                    }
                    i += threads;
                }
                errors
            })
        })
        .collect();
    let errors = handles.into_iter().map(|h| h.join().unwrap_or(n)).sum();
    (start.elapsed(), errors)
}

fn main() {
    let seconds = env_num("BENCH_SECONDS", 10);
    let rounds = env_num("BENCH_ROUNDS", 2).max(1);
    let wallets = env_num("BENCH_WALLETS", 10_000);
    let concurrency: Vec<usize> = std::env::var("BENCH_CONCURRENCY")
        .unwrap_or_else(|_| "1,8,32".into())
        .split(',')
        .filter_map(|c| c.trim().parse().ok())
        .collect();
    let plugin = plugin_binary();
    let binary_size = std::fs::metadata(&plugin).map(|m| m.len()).unwrap_or(0);

    let server = DevServer::start();
    server.register().expect_status(204);

    // Cold start: enable (a new plugin process) until the first answered request.
    let t = Instant::now();
    server.enable("crypto").expect_status(204);
    let first = server.list("crypto/wallets");
    let cold = t.elapsed();
    assert!(
        first.status == 404 || first.status == 200,
        "first request: {}",
        first.status
    );
    std::thread::sleep(Duration::from_millis(500));
    let rss_idle = plugin_rss(&server);

    // Transit keys and our wallet.
    must(&server, "sys/mounts/transit", json!({"type": "transit"}));
    must(&server, "transit/keys/ed", json!({"type": "ed25519"}));
    must(&server, "transit/keys/p256", json!({"type": "ecdsa-p256"}));
    must(&server, "crypto/wallets/w", json!({}));

    let input = base64::engine::general_purpose::STANDARD.encode([7u8; 32]);
    let endpoints = vec![
        Endpoint {
            name: "sys/health (HTTP floor)",
            path: "sys/health".into(),
            body: None,
        },
        Endpoint {
            name: "transit/sign ed25519",
            path: "transit/sign/ed".into(),
            body: Some(json!({"input": input}).to_string()),
        },
        Endpoint {
            name: "crypto solana/sign-message",
            path: "crypto/wallets/w/solana/sign-message".into(),
            body: Some(json!({"message": input}).to_string()),
        },
        Endpoint {
            name: "transit/sign ecdsa-p256",
            path: "transit/sign/p256".into(),
            body: Some(json!({"input": input}).to_string()),
        },
        Endpoint {
            name: "crypto ethereum/sign-message",
            path: "crypto/wallets/w/ethereum/sign-message".into(),
            body: Some(json!({"message": "hello from the benchmark"}).to_string()),
        },
        Endpoint {
            name: "crypto ethereum/sign-transaction 1559",
            path: "crypto/wallets/w/ethereum/sign-transaction".into(),
            body: Some(
                json!({
                    "chain_id": 1, "nonce": 0, "gas_limit": 21000,
                    "to": "0x000000000000000000000000000000000000dEaD",
                    "value": "1000000000000000",
                    "max_fee_per_gas": "30000000000",
                    "max_priority_fee_per_gas": "1000000000",
                })
                .to_string(),
            ),
        },
    ];
    // Every endpoint answers before anything is timed.
    for ep in &endpoints {
        let ok = send(&agent(), &format!("{}/v1/{}", server.addr, ep.path), ep);
        assert!(ok, "{} failed before the benchmark", ep.name);
    }

    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1);
    println!(
        "# vault-plugin-crypto end-to-end benchmark ({} cores, {}s per endpoint and concurrency in {} interleaved rounds, server {})",
        cores,
        seconds,
        rounds,
        integration_tests::server_binary().display()
    );
    println!();
    println!(
        "| endpoint | conc | req/s | p50 ms | p99 ms | errors | host CPU µs/req | plugin CPU µs/req |\n|---|---:|---:|---:|---:|---:|---:|---:|"
    );
    let slice = Duration::from_secs_f64(seconds as f64 / rounds as f64);
    let mut ratios = Vec::new();
    for &c in &concurrency {
        let mut samples = vec![Sample::default(); endpoints.len()];
        for round in 0..rounds {
            // Interleave, alternating the order so no endpoint always goes first.
            let order: Vec<usize> = if round % 2 == 0 {
                (0..endpoints.len()).collect()
            } else {
                (0..endpoints.len()).rev().collect()
            };
            for i in order {
                samples[i].merge(run(&server, &endpoints[i], c, slice));
            }
        }
        for (ep, s) in endpoints.iter().zip(&samples) {
            println!(
                "| {} | {} | {:.0} | {:.2} | {:.2} | {} | {:.0} | {:.0} |",
                ep.name,
                c,
                s.rate(),
                ms(s.percentile(0.5)),
                ms(s.percentile(0.99)),
                s.errors,
                s.cpu_per_request(s.host_ticks),
                s.cpu_per_request(s.plugin_ticks),
            );
        }
        ratios.push((
            c,
            samples[2].rate() / samples[1].rate().max(1e-9),
            samples[4].rate() / samples[3].rate().max(1e-9),
        ));
    }
    println!();
    println!(
        "| conc | solana/sign-message ÷ transit ed25519 | ethereum/sign-message ÷ transit ecdsa-p256 |\n|---:|---:|---:|"
    );
    for (c, sol, eth) in &ratios {
        println!("| {c} | {sol:.2} | {eth:.2} |");
    }

    // Scale: signing on a hot wallet with 1 wallet, then with `wallets` wallets.
    let scale_conc = 8;
    let hot = &endpoints[4];
    let before = run(
        &server,
        hot,
        scale_conc,
        Duration::from_secs(seconds / 2 + 1),
    );
    let (created, create_errors) = create_wallets(&server.addr, "bench-", wallets, 8);
    let t = Instant::now();
    let listed = server.list("crypto/wallets");
    let list_time = t.elapsed();
    let n_listed = listed.body["data"]["keys"]
        .as_array()
        .map(Vec::len)
        .unwrap_or(0);
    std::thread::sleep(Duration::from_millis(500));
    let rss_full = plugin_rss(&server);
    let after = run(
        &server,
        hot,
        scale_conc,
        Duration::from_secs(seconds / 2 + 1),
    );

    println!();
    println!("| figure | value |\n|---|---|");
    println!("| cores | {cores} |");
    println!(
        "| plugin binary size | {:.1} MB ({binary_size} B) |",
        binary_size as f64 / 1e6
    );
    println!(
        "| cold start (enable → first answered request) | {:.0} ms |",
        ms(cold)
    );
    println!("| plugin RSS idle | {rss_idle} |");
    println!(
        "| create {wallets} hd wallets (8 clients) | {:.1} s ({:.0}/s, {create_errors} errors) |",
        created.as_secs_f64(),
        wallets as f64 / created.as_secs_f64().max(1e-9)
    );
    println!("| list {n_listed} wallets | {:.0} ms |", ms(list_time));
    println!("| plugin RSS with {} wallets | {rss_full} |", wallets + 1);
    println!(
        "| ethereum/sign-message at conc {scale_conc}: 1 wallet → {} wallets | {:.0} → {:.0} req/s ({:+.1}%), p50 {:.2} → {:.2} ms |",
        wallets + 1,
        before.rate(),
        after.rate(),
        (after.rate() / before.rate().max(1e-9) - 1.0) * 100.0,
        ms(before.percentile(0.5)),
        ms(after.percentile(0.5))
    );
}
