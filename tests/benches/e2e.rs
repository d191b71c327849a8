//! End-to-end benchmark against one real `bao` dev server: our plugin's
//! signing paths (single and batches of 100) next to the host's builtin
//! `transit` engine (single and `batch_input` of 100), our floor (a request
//! the handler refuses at once, after the host's three RPCs) and
//! `sys/health`, same token, same concurrency, interleaved; then cold start,
//! memory, and scale. The client is `wrk` (scripts/bench/request.lua),
//! which costs far less CPU than the servers: a heavier client would cap
//! the figures on a small machine. CPU per request is the utime+stime delta
//! of the bao process and of the plugin process (/proc/<pid>/stat) over a run.
//!
//! `make bench` runs it with the release plugin
//! (`CRYPTO_PLUGIN_BIN=target/release/vault-plugin-crypto`). Figures are
//! printed, never asserted: a benchmark is not a test. The load average is
//! printed with the table: compare runs made under the same load.
//!
//! Knobs: `BENCH_SECONDS` (per endpoint and concurrency, default 6, split
//! into interleaved rounds), `BENCH_CONCURRENCY` (default `1,8,32`),
//! `BENCH_WALLETS` (default 10000), `BENCH_ROUNDS` (default 2), `BENCH_ONLY`
//! (endpoint name substrings), `BENCH_CALLGRIND_DIR` (the plugin runs under
//! valgrind's callgrind, counters zeroed before and dumped after each run:
//! the plugin's instructions per request, which load does not change;
//! `make bench-callgrind`).

use std::io::Read;
use std::process::Command;
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

/// One benchmarked request: a name, a path, a pre-serialized body (POST)
/// and how many signatures one request makes (batches: 100).
#[derive(Clone)]
struct Endpoint {
    name: &'static str,
    path: String,
    body: Option<String>,
    sigs: u64,
    /// The endpoint answers 4xx on purpose (our floor): not an error.
    refused: bool,
}

impl Endpoint {
    fn get(name: &'static str, path: &str) -> Self {
        Self {
            name,
            path: path.into(),
            body: None,
            sigs: 0,
            refused: false,
        }
    }

    fn post(name: &'static str, path: &str, body: Value, sigs: u64) -> Self {
        Self {
            name,
            path: path.into(),
            body: Some(body.to_string()),
            sigs,
            refused: false,
        }
    }
}

/// What wrk measured for one endpoint at one concurrency, summed over rounds.
#[derive(Default, Clone)]
struct Sample {
    requests: u64,
    non2xx: u64,
    socket_errors: u64,
    elapsed: Duration,
    /// Percentiles (µs) of each round, weighted by its request count.
    p50_weighted: f64,
    p99_weighted: f64,
    /// CPU time (clock ticks) spent by the server and by the plugin.
    host_ticks: u64,
    plugin_ticks: u64,
    /// Instructions the plugin executed (callgrind mode only).
    plugin_ir: u64,
}

impl Sample {
    fn merge(&mut self, o: Sample) {
        self.requests += o.requests;
        self.non2xx += o.non2xx;
        self.socket_errors += o.socket_errors;
        self.elapsed += o.elapsed;
        self.p50_weighted += o.p50_weighted;
        self.p99_weighted += o.p99_weighted;
        self.host_ticks += o.host_ticks;
        self.plugin_ticks += o.plugin_ticks;
        self.plugin_ir += o.plugin_ir;
    }

    /// CPU microseconds per answered request.
    fn cpu_per_request(&self, ticks: u64) -> f64 {
        ticks as f64 * 1e6 / ticks_per_second() / (self.requests.max(1) as f64)
    }

    fn rate(&self) -> f64 {
        self.requests as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }

    fn p50_ms(&self) -> f64 {
        self.p50_weighted / self.requests.max(1) as f64 / 1e3
    }

    fn p99_ms(&self) -> f64 {
        self.p99_weighted / self.requests.max(1) as f64 / 1e3
    }
}

fn agent() -> ureq::Agent {
    ureq::AgentBuilder::new()
        .timeout(Duration::from_secs(30))
        .max_idle_connections_per_host(4)
        .build()
}

/// Sends one request with ureq (setup, not measured); the status.
fn send_status(agent: &ureq::Agent, url: &str, ep: &Endpoint) -> u16 {
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
            let status = resp.status();
            let mut sink = Vec::new();
            let _ = resp.into_reader().take(1 << 20).read_to_end(&mut sink);
            status
        }
        Err(ureq::Error::Status(s, _)) => s,
        Err(_) => 0,
    }
}

/// Sends one request; true on a 2xx.
fn send(agent: &ureq::Agent, url: &str, ep: &Endpoint) -> bool {
    (200..300).contains(&send_status(agent, url, ep))
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

/// The load generator: `wrk` with scripts/bench/request.lua.
struct Wrk {
    script: std::path::PathBuf,
    bodies: tempfile::TempDir,
    callgrind: Option<Callgrind>,
}

impl Wrk {
    fn new(callgrind: Option<Callgrind>) -> Self {
        let ok = Command::new("wrk")
            .arg("--version")
            .output()
            .map(|o| String::from_utf8_lossy(&o.stdout).contains("wrk"))
            .unwrap_or(false);
        assert!(ok, "wrk is not installed: `make tools` installs it");
        Self {
            script: integration_tests::workspace_root().join("scripts/bench/request.lua"),
            bodies: tempfile::tempdir().expect("tempdir"),
            callgrind,
        }
    }

    /// Runs `ep` with `concurrency` connections for `duration`.
    fn run(
        &self,
        server: &DevServer,
        ep: &Endpoint,
        concurrency: usize,
        duration: Duration,
    ) -> Sample {
        let url = format!("{}/v1/{}", server.addr, ep.path);
        let threads = concurrency.clamp(1, 2);
        let mut cmd = Command::new("wrk");
        cmd.env("BENCH_TOKEN", ROOT_TOKEN).args([
            "-t",
            &threads.to_string(),
            "-c",
            &concurrency.to_string(),
            "-d",
            &format!("{}s", duration.as_secs().max(1)),
            "--timeout",
            "30s",
            "-s",
        ]);
        cmd.arg(&self.script).arg(&url).arg("--");
        match &ep.body {
            Some(b) => {
                let file = self.bodies.path().join(format!("{:x}.json", fnv(b)));
                if !file.exists() {
                    std::fs::write(&file, b).expect("body file");
                }
                cmd.arg("POST").arg(file);
            }
            None => {
                cmd.arg("GET");
            }
        }
        if let Some(cg) = &self.callgrind {
            cg.control("-z");
        }
        let (h0, p0) = ticks(server);
        let out = cmd.output().expect("run wrk");
        let (h1, p1) = ticks(server);
        let plugin_ir = self.callgrind.as_ref().map_or(0, Callgrind::dump);
        let text = String::from_utf8_lossy(&out.stdout);
        let line = text
            .lines()
            .find(|l| l.starts_with("WRK "))
            .unwrap_or_else(|| {
                panic!(
                    "wrk said:\n{text}\n{}",
                    String::from_utf8_lossy(&out.stderr)
                )
            });
        let get = |k: &str| -> u64 {
            line.split_whitespace()
                .find_map(|kv| kv.strip_prefix(k)?.strip_prefix('='))
                .and_then(|v| v.parse().ok())
                .unwrap_or(0)
        };
        let requests = get("requests");
        Sample {
            requests,
            non2xx: get("non2xx"),
            socket_errors: get("socket_errors"),
            elapsed: Duration::from_micros(get("duration_us")),
            p50_weighted: get("p50_us") as f64 * requests as f64,
            p99_weighted: get("p99_us") as f64 * requests as f64,
            host_ticks: h1.saturating_sub(h0),
            plugin_ticks: p1.saturating_sub(p0),
            plugin_ir,
        }
    }
}

/// `BENCH_CALLGRIND_DIR` set: the plugin runs under callgrind
/// (scripts/bench/callgrind-plugin.sh) and each run reports the plugin's
/// instructions per request, a figure the machine's load does not change.
struct Callgrind {
    dir: std::path::PathBuf,
    real: std::path::PathBuf,
}

impl Callgrind {
    fn from_env() -> Option<Self> {
        let dir = std::path::PathBuf::from(std::env::var_os("BENCH_CALLGRIND_DIR")?);
        std::fs::create_dir_all(&dir).expect("callgrind dir");
        let dir = dir.canonicalize().expect("callgrind dir");
        let real = plugin_binary().canonicalize().expect("plugin binary");
        Some(Self { dir, real })
    }

    /// The executable registered in place of the plugin: the real one
    /// under callgrind (the host gives plugins no environment of ours, so
    /// the paths are written into the script).
    fn wrapper(&self) -> std::path::PathBuf {
        let script = self.dir.join("plugin-under-callgrind.sh");
        std::fs::write(
            &script,
            format!(
                "#!/bin/sh\nexec valgrind --tool=callgrind --quiet --callgrind-out-file='{}/cg.%p' '{}' \"$@\"\n",
                self.dir.display(),
                self.real.display()
            ),
        )
        .expect("wrapper");
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755))
            .expect("chmod wrapper");
        script
    }

    /// The serving plugin process under callgrind (the newest one).
    fn pid(&self) -> Option<i32> {
        let real = self.real.to_string_lossy().into_owned();
        std::fs::read_dir("/proc")
            .ok()?
            .flatten()
            .filter_map(|e| e.file_name().to_str()?.parse::<i32>().ok())
            .filter(|pid| {
                std::fs::read(format!("/proc/{pid}/cmdline"))
                    .map(|c| {
                        let c = String::from_utf8_lossy(&c).replace('\0', " ");
                        c.contains("callgrind") && c.contains(&real)
                    })
                    .unwrap_or(false)
            })
            .max()
    }

    fn control(&self, flag: &str) {
        let pid = self.pid().expect("the plugin under callgrind");
        let ok = Command::new("callgrind_control")
            .args([flag, &pid.to_string()])
            .output()
            .map(|o| o.status.success())
            .unwrap_or(false);
        assert!(ok, "callgrind_control {flag} {pid} failed");
    }

    /// Dumps the counters and returns the instructions since the last zeroing.
    fn dump(&self) -> u64 {
        let pid = self.pid().expect("the plugin under callgrind");
        let before: std::collections::BTreeSet<_> = self.files(pid).into_iter().collect();
        self.control("-d");
        let new = integration_tests::wait_until(Duration::from_secs(30), || {
            self.files(pid).into_iter().find(|f| !before.contains(f))
        })
        .expect("a new callgrind dump");
        let totals = |text: &str| {
            text.lines()
                .find_map(|l| {
                    l.strip_prefix("totals:")
                        .or_else(|| l.strip_prefix("summary:"))
                })
                .and_then(|v| v.split_whitespace().next()?.parse::<u64>().ok())
        };
        integration_tests::wait_until(Duration::from_secs(30), || {
            totals(&std::fs::read_to_string(&new).ok()?)
        })
        .expect("callgrind totals")
    }

    fn files(&self, pid: i32) -> Vec<std::path::PathBuf> {
        let prefix = format!("cg.{pid}");
        std::fs::read_dir(&self.dir)
            .map(|d| {
                d.flatten()
                    .map(|e| e.path())
                    .filter(|p| {
                        p.file_name()
                            .and_then(|n| n.to_str())
                            .is_some_and(|n| n.starts_with(&prefix))
                    })
                    .collect()
            })
            .unwrap_or_default()
    }
}

fn fnv(s: &str) -> u64 {
    s.bytes().fold(0xcbf29ce484222325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x100000001b3)
    })
}

fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_default()
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
                let ep = |i: u64| {
                    Endpoint::post(
                        "create",
                        &format!("crypto/wallets/{prefix}{i}"),
                        json!({}),
                        0,
                    )
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

/// Items per batch request.
const BATCH: usize = 100;

fn main() {
    let seconds = env_num("BENCH_SECONDS", 6);
    let rounds = env_num("BENCH_ROUNDS", 2).max(1);
    let wallets = env_num("BENCH_WALLETS", 10_000);
    let concurrency: Vec<usize> = std::env::var("BENCH_CONCURRENCY")
        .unwrap_or_else(|_| "1,8,32".into())
        .split(',')
        .filter_map(|c| c.trim().parse().ok())
        .collect();
    let plugin = plugin_binary();
    let binary_size = std::fs::metadata(&plugin).map(|m| m.len()).unwrap_or(0);

    let callgrind = Callgrind::from_env();
    let server = DevServer::start_with(&integration_tests::ServerOptions {
        plugin: callgrind.as_ref().map(Callgrind::wrapper),
        ..Default::default()
    });
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

    let b64 = |b: &[u8]| base64::engine::general_purpose::STANDARD.encode(b);
    let input = b64(&[7u8; 32]);
    let batch =
        |key: &str, value: Value| json!({ "batch_input": vec![json!({ key: value }); BATCH] });
    let msg = "hello from the benchmark";
    let mut endpoints = vec![
        Endpoint::get("sys/health (HTTP floor)", "sys/health"),
        Endpoint::post(
            "transit sign ed25519",
            "transit/sign/ed",
            json!({"input": input}),
            1,
        ),
        Endpoint::post(
            "transit sign ed25519 ×100",
            "transit/sign/ed",
            batch("input", json!(input)),
            BATCH as u64,
        ),
        Endpoint::post(
            "transit sign ecdsa-p256",
            "transit/sign/p256",
            json!({"input": input}),
            1,
        ),
        Endpoint::post(
            "transit sign ecdsa-p256 ×100",
            "transit/sign/p256",
            batch("input", json!(input)),
            BATCH as u64,
        ),
        Endpoint {
            // Not base64: refused by the handler before any work (400), after
            // the host's three RPCs.
            refused: true,
            ..Endpoint::post(
                "crypto floor (refused at once)",
                "crypto/wallets/w/solana/sign-message",
                json!({"message": "!"}),
                0,
            )
        },
        Endpoint::post(
            "crypto solana/sign-message",
            "crypto/wallets/w/solana/sign-message",
            json!({"message": input}),
            1,
        ),
        Endpoint::post(
            "crypto ethereum/sign-message",
            "crypto/wallets/w/ethereum/sign-message",
            json!({"message": msg}),
            1,
        ),
    ];
    const SOL_BATCH: &str = "crypto solana/sign-message ×100";
    const ETH_BATCH: &str = "crypto ethereum/sign-message ×100";
    let batches = [
        Endpoint::post(
            SOL_BATCH,
            "crypto/wallets/w/solana/sign-message",
            batch("message", json!(input)),
            BATCH as u64,
        ),
        Endpoint::post(
            ETH_BATCH,
            "crypto/wallets/w/ethereum/sign-message",
            batch("message", json!(msg)),
            BATCH as u64,
        ),
    ];
    // Every endpoint answers as expected before anything is timed; a build
    // without batch signing (main before issue 16) skips the batch rows.
    let ag = agent();
    for ep in &endpoints {
        let status = send_status(&ag, &format!("{}/v1/{}", server.addr, ep.path), ep);
        let ok = if ep.refused {
            status == 400
        } else {
            (200..300).contains(&status)
        };
        assert!(ok, "{} answered {status} before the benchmark", ep.name);
    }
    for ep in batches {
        let status = send_status(&ag, &format!("{}/v1/{}", server.addr, ep.path), &ep);
        if (200..300).contains(&status) {
            endpoints.push(ep);
        } else {
            println!(
                "({} answered {status}: no batch signing in this build, row skipped)",
                ep.name
            );
        }
    }

    // `BENCH_ONLY=floor,solana`: only the endpoints whose name contains one
    // of these (e.g. for callgrind runs, which are slow).
    if let Ok(only) = std::env::var("BENCH_ONLY") {
        let keep: Vec<&str> = only
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .collect();
        endpoints.retain(|e| keep.iter().any(|k| e.name.contains(k)));
    }
    let wrk = Wrk::new(callgrind);
    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1);
    println!(
        "# vault-plugin-crypto end-to-end benchmark, wrk client ({} cores, load average {} at start, {}s per endpoint and concurrency in {} interleaved rounds, server {})",
        cores,
        load_average(),
        seconds,
        rounds,
        integration_tests::server_binary().display()
    );
    println!();
    println!(
        "| endpoint | conc | req/s | sig/s | p50 ms | p99 ms | non-2xx | host CPU µs/req | plugin CPU µs/req | plugin instructions/req |\n|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
    );
    let slice = Duration::from_secs_f64(seconds as f64 / rounds as f64);
    let find = |name: &str| endpoints.iter().position(|e| e.name == name);
    let mut all = Vec::new();
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
                samples[i].merge(wrk.run(&server, &endpoints[i], c, slice));
            }
        }
        for (ep, s) in endpoints.iter().zip(&samples) {
            let sigs = if ep.sigs == 0 {
                "".to_string()
            } else {
                format!("{:.0}", s.rate() * ep.sigs as f64)
            };
            let ir = if s.plugin_ir == 0 {
                "".to_string()
            } else {
                format!(
                    "{:.0}k",
                    s.plugin_ir as f64 / s.requests.max(1) as f64 / 1e3
                )
            };
            println!(
                "| {} | {} | {:.0} | {} | {:.2} | {:.2} | {}{} | {:.0} | {:.0} | {ir} |",
                ep.name,
                c,
                s.rate(),
                sigs,
                s.p50_ms(),
                s.p99_ms(),
                s.non2xx,
                if s.socket_errors > 0 {
                    format!(" ({} socket errors)", s.socket_errors)
                } else {
                    String::new()
                },
                s.cpu_per_request(s.host_ticks),
                s.cpu_per_request(s.plugin_ticks),
            );
        }
        all.push((c, samples));
    }
    println!();
    println!("load average at the end: {}", load_average());
    println!();
    let ratio = |samples: &[Sample], a: &str, b: &str| -> String {
        match (find(a), find(b)) {
            (Some(a), Some(b)) => format!(
                "{:.2}",
                samples[a].rate() * endpoints[a].sigs.max(1) as f64
                    / (samples[b].rate() * endpoints[b].sigs.max(1) as f64).max(1e-9)
            ),
            _ => "n/a".into(),
        }
    };
    println!(
        "| conc | solana/sign-message ÷ transit ed25519 (≥ 0.5) | ethereum/sign-message ÷ transit ecdsa-p256 (≥ 0.5) | solana ×100 ÷ transit ed25519 ×100, sig/s (≥ 1.0) | ethereum ×100 ÷ transit ecdsa-p256 ×100, sig/s (≥ 0.8) |\n|---:|---:|---:|---:|---:|"
    );
    for (c, samples) in &all {
        println!(
            "| {c} | {} | {} | {} | {} |",
            ratio(
                samples,
                "crypto solana/sign-message",
                "transit sign ed25519"
            ),
            ratio(
                samples,
                "crypto ethereum/sign-message",
                "transit sign ecdsa-p256"
            ),
            ratio(samples, SOL_BATCH, "transit sign ed25519 ×100"),
            ratio(samples, ETH_BATCH, "transit sign ecdsa-p256 ×100"),
        );
    }
    println!();
    println!(
        "| conc | plugin CPU µs/req: floor (≤ 20) | solana/sign-message (≤ 40) | ethereum/sign-message (≤ 40) | p50 ms solana/sign-message (c=1: ≤ 0.6) |\n|---:|---:|---:|---:|---:|"
    );
    for (c, samples) in &all {
        let cpu = |name: &str| {
            find(name).map_or("n/a".into(), |i| {
                format!("{:.0}", samples[i].cpu_per_request(samples[i].plugin_ticks))
            })
        };
        let p50 = find("crypto solana/sign-message").map_or(0.0, |i| samples[i].p50_ms());
        println!(
            "| {c} | {} | {} | {} | {p50:.2} |",
            cpu("crypto floor (refused at once)"),
            cpu("crypto solana/sign-message"),
            cpu("crypto ethereum/sign-message"),
        );
    }

    // Scale: signing on a hot wallet with 1 wallet, then with `wallets` wallets.
    let scale_conc = 8;
    let Some(hot) = find("crypto ethereum/sign-message").map(|i| &endpoints[i]) else {
        return;
    };
    let before = wrk.run(
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
    let after = wrk.run(
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
        before.p50_ms(),
        after.p50_ms()
    );
}
