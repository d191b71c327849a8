//! `vault-crypto-register`: register `vault-plugin-crypto` across an HA cluster and verify
//! every node. Thin: argument parsing here, the behaviour in `vault_crypto_sdk::register`.

use std::process::ExitCode;
use std::time::Duration;

use vault_crypto_sdk::Config;
use vault_crypto_sdk::register::{Cluster, Expectation, Registration, sha256_file};

const USAGE: &str = "\
usage: vault-crypto-register <command> [options]

commands:
  register   check every node, register the plugin in the catalog through the active node,
             verify the catalog on every node, enable or tune the mount, reload globally,
             verify every node
  verify     report per node: reachable, unsealed, catalog sha256/version, mount, engine
  status     report per node: reachable, sealed, active/standby
  sha256     print the SHA256 of --binary

options:
  --node ADDR        a node address (repeatable; default: VAULT_ADDR/BAO_ADDR, comma-separated)
  --binary PATH      local copy of the plugin binary (SHA256 computed, command = file name)
  --sha256 HEX       the SHA256 instead of --binary
  --command NAME     file name in the plugin directory (default: the --binary file name)
  --version VER      plugin version, e.g. v0.1.0 (required by register and verify)
  --mount PATH       mount path (default crypto)
  --no-mount         register only; do not enable/tune/reload a mount
  --wait DURATION    bound on waiting for replication and reload (default 30s)

The token comes from VAULT_TOKEN or BAO_TOKEN (never from the command line); TLS from
VAULT_CACERT/BAO_CACERT. The binary must already be on every node's disk in its
plugin_directory, with the same SHA256: the API cannot see remote disks, so the deployment
scripts check the files and this tool checks the catalog, the mount and the engine.
";

#[derive(Default)]
struct Args {
    command: String,
    nodes: Vec<String>,
    binary: Option<String>,
    sha256: Option<String>,
    plugin_command: Option<String>,
    version: Option<String>,
    mount: Option<String>,
    no_mount: bool,
    wait: Option<Duration>,
}

fn parse(argv: Vec<String>) -> Result<Args, String> {
    let mut it = argv.into_iter();
    let mut a = Args {
        command: it.next().ok_or("missing command")?,
        ..Args::default()
    };
    while let Some(flag) = it.next() {
        let (flag, inline) = match flag.split_once('=') {
            Some((f, v)) if f.starts_with("--") => (f.to_owned(), Some(v.to_owned())),
            _ => (flag, None),
        };
        let mut value = |name: &str| -> Result<String, String> {
            inline
                .clone()
                .or_else(|| it.next())
                .ok_or_else(|| format!("{name} needs a value"))
        };
        match flag.as_str() {
            "--node" => a.nodes.push(value("--node")?),
            "--binary" => a.binary = Some(value("--binary")?),
            "--sha256" => a.sha256 = Some(value("--sha256")?),
            "--command" => a.plugin_command = Some(value("--command")?),
            "--version" => a.version = Some(value("--version")?),
            "--mount" => a.mount = Some(value("--mount")?),
            "--no-mount" => a.no_mount = true,
            "--wait" => {
                let v = value("--wait")?;
                a.wait =
                    Some(parse_wait(&v).ok_or_else(|| format!("--wait {v:?} is not a duration"))?);
            }
            "-h" | "--help" => return Err(String::new()),
            other => return Err(format!("unknown option {other}")),
        }
    }
    Ok(a)
}

fn parse_wait(s: &str) -> Option<Duration> {
    let s = s.trim();
    if let Some(n) = s.strip_suffix("ms") {
        return n.parse().ok().map(Duration::from_millis);
    }
    if let Some(n) = s.strip_suffix('m') {
        return n.parse::<u64>().ok().map(|m| Duration::from_secs(m * 60));
    }
    s.strip_suffix('s')
        .unwrap_or(s)
        .parse()
        .ok()
        .map(Duration::from_secs)
}

fn registration(a: &Args) -> Result<Registration, String> {
    let version = a.version.as_deref().ok_or("--version is required")?;
    let mut reg = match (&a.binary, &a.sha256) {
        (Some(path), None) => {
            Registration::from_binary(path, version).map_err(|e| e.to_string())?
        }
        (None, Some(sha)) => {
            let cmd = a
                .plugin_command
                .as_deref()
                .unwrap_or(vault_crypto_sdk::register::PLUGIN_NAME);
            Registration::new(sha, version, cmd).map_err(|e| e.to_string())?
        }
        _ => return Err("give exactly one of --binary and --sha256".into()),
    };
    if let Some(c) = &a.plugin_command {
        reg = reg.with_command(c);
    }
    if a.no_mount {
        reg = reg.with_mount(None);
    } else if let Some(m) = &a.mount {
        reg = reg.with_mount(Some(m));
    }
    if let Some(w) = a.wait {
        reg = reg.with_wait(w);
    }
    Ok(reg)
}

async fn run(a: Args) -> Result<bool, String> {
    if a.command == "sha256" {
        let path = a.binary.as_deref().ok_or("--binary is required")?;
        println!("{}", sha256_file(path).map_err(|e| e.to_string())?);
        return Ok(true);
    }
    let mut base = Config::from_env().map_err(|e| e.to_string())?;
    let nodes = if a.nodes.is_empty() {
        std::mem::take(&mut base.addresses)
    } else {
        a.nodes.clone()
    };
    let cluster = Cluster::new(nodes, &base).map_err(|e| e.to_string())?;
    match a.command.as_str() {
        "status" => {
            let st = cluster.status().await;
            for n in &st {
                println!("{n}");
            }
            Ok(st.iter().all(|n| n.ok()))
        }
        "verify" => {
            let reg = registration(&a)?;
            let v = cluster
                .verify_until(&Expectation::from(&reg), a.wait.unwrap_or(Duration::ZERO))
                .await;
            print!("{v}");
            Ok(v.ok())
        }
        "register" => {
            let reg = registration(&a)?;
            eprintln!(
                "registering {} {} sha256={} command={}",
                reg.name, reg.version, reg.sha256, reg.command
            );
            let r = cluster.register(&reg).await.map_err(|e| e.to_string())?;
            println!("active node: {}", r.leader);
            println!("mount: {}", r.mount_action);
            if let Some(id) = r.reload_id {
                println!("reload_id: {id}");
            }
            print!("{}", r.verify);
            Ok(r.verify.ok())
        }
        other => Err(format!("unknown command {other}")),
    }
}

fn main() -> ExitCode {
    let args = match parse(std::env::args().skip(1).collect()) {
        Ok(a) => a,
        Err(msg) => {
            if !msg.is_empty() {
                eprintln!("error: {msg}\n");
            }
            eprint!("{USAGE}");
            return ExitCode::from(2);
        }
    };
    let rt = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    };
    match rt.block_on(run(args)) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
