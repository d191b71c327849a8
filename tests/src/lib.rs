//! Harness for black-box tests against a real Vault-compatible server.
//!
//! Every test starts its own `bao server -dev` (or `vault`, via `VAULT_BIN`)
//! on a free loopback port, with a private plugin directory holding a copy
//! of the plugin binary, and stops it by PID when dropped. No mock of the
//! host exists anywhere in these tests.
//!
//! The plugin binary comes from `CRYPTO_PLUGIN_BIN`, else
//! `target/debug/vault-plugin-crypto` (`make test` builds it first).

use std::io::Read;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use sha2::Digest;

pub const PLUGIN_NAME: &str = "vault-plugin-crypto";
pub const ROOT_TOKEN: &str = "root";

/// The workspace root (this crate lives in `tests/`).
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ has a parent")
        .to_path_buf()
}

/// The server binary: `VAULT_BIN`, else the project-local `.tools/bin/bao`,
/// else `bao` or `vault` on PATH. Panics (never skips) when none exists.
pub fn server_binary() -> PathBuf {
    if let Some(p) = std::env::var_os("VAULT_BIN") {
        return PathBuf::from(p);
    }
    let local = workspace_root().join(".tools/bin/bao");
    if local.exists() {
        return local;
    }
    for name in ["bao", "vault"] {
        if let Some(dir) = std::env::var_os("PATH") {
            for d in std::env::split_paths(&dir) {
                let c = d.join(name);
                if c.is_file() {
                    return c;
                }
            }
        }
    }
    panic!(
        "no Vault-compatible server found: set VAULT_BIN, or run `make tools` (installs bao into .tools/)"
    );
}

/// The plugin binary under test.
pub fn plugin_binary() -> PathBuf {
    let p = std::env::var_os("CRYPTO_PLUGIN_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace_root().join("target/debug/vault-plugin-crypto"));
    assert!(
        p.is_file(),
        "plugin binary {} is missing: run `cargo build -p vault-plugin-crypto` (make test does)",
        p.display()
    );
    p
}

pub fn sha256_file(path: &Path) -> String {
    let bytes = std::fs::read(path).expect("read file");
    hex::encode(sha2::Sha256::digest(bytes))
}

/// The version the plugin reports (`v` + crate version).
pub fn plugin_version() -> String {
    format!("v{}", env!("CARGO_PKG_VERSION"))
}

fn free_port() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind");
    l.local_addr().expect("addr").port()
}

/// Polls `cond` until it returns `Some` or `timeout` passes.
pub fn wait_until<T>(timeout: Duration, mut cond: impl FnMut() -> Option<T>) -> Option<T> {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(v) = cond() {
            return Some(v);
        }
        if Instant::now() >= deadline {
            return None;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// An HTTP reply: status and JSON body (`Value::Null` when empty).
#[derive(Debug, Clone)]
pub struct Reply {
    pub status: u16,
    pub body: Value,
}

impl Reply {
    /// `data` of a successful reply.
    pub fn data(&self) -> &Value {
        &self.body["data"]
    }

    /// The `errors` list joined, for assertions on messages.
    pub fn errors(&self) -> String {
        self.body["errors"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(Value::as_str)
                    .collect::<Vec<_>>()
                    .join("; ")
            })
            .unwrap_or_default()
    }

    #[track_caller]
    pub fn expect_status(&self, status: u16) -> &Self {
        assert_eq!(self.status, status, "unexpected reply: {}", self.body);
        self
    }
}

/// The audit log's file name in the server's private directory.
pub const AUDIT_LOG: &str = "audit.log";

/// How [`DevServer::start_with`] starts a server; the default is a plain
/// dev server.
#[derive(Debug, Clone, Default)]
pub struct ServerOptions {
    /// Declare a file audit device (path `file/`, HMAC'd values, the
    /// default) writing `<dir>/audit.log`.
    pub audit_file: bool,
    /// `raw_storage_endpoint = true`: `sys/raw/...` reads and writes
    /// storage entries directly.
    pub raw_storage: bool,
    /// The server's log level (`-log-level`); also exported as
    /// `BAO_LOG_LEVEL`, which the plugin inherits and honours.
    pub log_level: Option<String>,
    /// Run the server, and so its plugins, as this uid and gid (the test
    /// runs as root); the private directory is given to that user.
    pub run_as: Option<(u32, u32)>,
    /// The executable registered as the plugin instead of [`plugin_binary`]
    /// (the benchmark's callgrind wrapper).
    pub plugin: Option<PathBuf>,
}

/// A running dev server with its own plugin directory.
pub struct DevServer {
    child: Option<Child>,
    pub addr: String,
    pub dir: tempfile::TempDir,
    pub plugin_path: PathBuf,
    agent: ureq::Agent,
}

impl DevServer {
    /// Starts a dev server and waits (bounded) until it answers.
    pub fn start() -> Self {
        Self::start_with(&ServerOptions::default())
    }

    /// Starts a dev server with `opts` and waits (bounded) until it answers.
    pub fn start_with(opts: &ServerOptions) -> Self {
        let dir = tempfile::Builder::new()
            .prefix("crypto-it-")
            .tempdir()
            .expect("tempdir");
        let plugins = dir.path().join("plugins");
        std::fs::create_dir(&plugins).expect("plugins dir");
        let plugin_path = plugins.join(PLUGIN_NAME);
        let source = opts.plugin.clone().unwrap_or_else(plugin_binary);
        std::fs::copy(source, &plugin_path).expect("copy plugin");
        let config = dir.path().join("config.hcl");
        let mut hcl = format!("plugin_directory = \"{}\"\n", plugins.display());
        if opts.raw_storage {
            hcl.push_str("raw_storage_endpoint = true\n");
        }
        if opts.audit_file {
            // OpenBao 2.x refuses `sys/audit` over the API ("use declarative,
            // config-based audit device management"): declare it here.
            hcl.push_str(&format!(
                "audit \"file\" \"file\" {{\n  options {{\n    file_path = \"{}\"\n  }}\n}}\n",
                dir.path().join(AUDIT_LOG).display()
            ));
        }
        std::fs::write(&config, hcl).expect("config");
        // free_port releases the port before the server binds it (and the dev
        // server also binds port + 1 for its cluster listener), so another
        // process can take it in between: then our server exits, and a health
        // check could even reach someone else's server. Only our own log
        // saying the server started counts; a server that exited is retried
        // on another port.
        let agent = ureq::AgentBuilder::new()
            .timeout(Duration::from_secs(60))
            .build();
        let mut dir = Some(dir);
        for attempt in 1..=3 {
            let dir_ref = dir.as_ref().expect("dir");
            let port = free_port();
            let addr = format!("http://127.0.0.1:{port}");
            let log = std::fs::File::create(dir_ref.path().join("server.log")).expect("log");
            let mut cmd = Command::new(server_binary());
            cmd.args([
                "server",
                "-dev",
                &format!("-dev-root-token-id={ROOT_TOKEN}"),
                &format!("-dev-listen-address=127.0.0.1:{port}"),
                "-dev-no-store-token",
                &format!("-config={}", config.display()),
            ])
            .env("HOME", dir_ref.path())
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("log"))
            .stderr(log);
            if let Some(level) = &opts.log_level {
                // The server's own level, and (inherited) the plugin's.
                cmd.arg(format!("-log-level={level}"))
                    .env("BAO_LOG_LEVEL", level)
                    .env("VAULT_LOG_LEVEL", level);
            }
            if let Some((uid, gid)) = opts.run_as {
                use std::os::unix::process::CommandExt;
                for entry in [dir_ref.path(), &plugins, &config, &plugin_path] {
                    std::os::unix::fs::chown(entry, Some(uid), Some(gid)).expect("chown");
                }
                cmd.uid(uid).gid(gid);
            }
            let child = cmd.spawn().expect("start server");
            let mut server = Self {
                child: Some(child),
                addr,
                dir: dir.take().expect("dir"),
                plugin_path: plugin_path.clone(),
                agent: agent.clone(),
            };
            let up = wait_until(Duration::from_secs(30), || {
                let exited = server
                    .child
                    .as_mut()
                    .is_none_or(|c| c.try_wait().ok().flatten().is_some());
                if exited {
                    return Some(false);
                }
                (server.log().contains("server started!") && server.healthy()).then_some(true)
            });
            match up {
                Some(true) => return server,
                Some(false) if attempt < 3 => {
                    eprintln!(
                        "dev server on {} exited at start (attempt {attempt}), retrying on \
                         another port:\n{}",
                        server.addr,
                        server.log()
                    );
                    // Keep the directory (config, plugin) for the next attempt.
                    let child = server.child.take();
                    drop(child);
                    dir = Some(std::mem::replace(
                        &mut server.dir,
                        tempfile::Builder::new()
                            .prefix("crypto-it-spent-")
                            .tempdir()
                            .expect("tempdir"),
                    ));
                }
                _ => panic!("server did not come up:\n{}", server.log()),
            }
        }
        unreachable!("the last attempt returns or panics")
    }

    /// A server with the plugin registered (SHA256 + version) and mounted at `crypto/`.
    pub fn with_plugin() -> Self {
        let s = Self::start();
        s.register().expect_status(204);
        s.enable("crypto").expect_status(204);
        s
    }

    /// True when `sys/health` answers 200 (false while the server starts).
    pub fn healthy(&self) -> bool {
        self.agent
            .get(&format!("{}/v1/sys/health", self.addr))
            .call()
            .map(|r| r.status() == 200)
            .unwrap_or(false)
    }

    pub fn pid(&self) -> u32 {
        self.child.as_ref().map(Child::id).unwrap_or(0)
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("server.log")).unwrap_or_default()
    }

    /// The file audit device's log (empty unless started with
    /// [`ServerOptions::audit_file`]).
    pub fn audit_log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join(AUDIT_LOG)).unwrap_or_default()
    }

    /// Registers the plugin with its SHA256 and the version it reports.
    pub fn register(&self) -> Reply {
        self.write(
            &format!("sys/plugins/catalog/secret/{PLUGIN_NAME}"),
            json!({
                "sha256": sha256_file(&self.plugin_path),
                "command": PLUGIN_NAME,
                "version": plugin_version(),
            }),
        )
    }

    pub fn enable(&self, path: &str) -> Reply {
        self.enable_with_options(path, json!({}))
    }

    /// Mounts the plugin at `path` with mount `options` (which reach the
    /// plugin in `Setup`, e.g. `{"log_level": "trace"}`).
    pub fn enable_with_options(&self, path: &str, options: Value) -> Reply {
        self.write(
            &format!("sys/mounts/{path}"),
            json!({"type": PLUGIN_NAME, "plugin_version": plugin_version(), "options": options}),
        )
    }

    /// The `uuid` of a mount: its storage lives under `logical/<uuid>/`.
    pub fn mount_uuid(&self, path: &str) -> String {
        let r = self.get(&format!("sys/mounts/{path}"));
        r.expect_status(200);
        r.data()["uuid"]
            .as_str()
            .unwrap_or_else(|| panic!("no uuid for mount {path}: {}", r.body))
            .to_string()
    }

    pub fn disable(&self, path: &str) -> Reply {
        self.delete(&format!("sys/mounts/{path}"))
    }

    fn request(&self, method: &str, path: &str, body: Option<Value>) -> Reply {
        self.try_request(method, path, body)
            .unwrap_or_else(|e| panic!("{method} {path}: transport error: {e}"))
    }

    /// A request whose transport failure (server gone, timeout) is returned
    /// rather than a panic.
    pub fn try_request(
        &self,
        method: &str,
        path: &str,
        body: Option<Value>,
    ) -> Result<Reply, String> {
        self.try_request_as(ROOT_TOKEN, method, path, body)
    }

    /// A request with another token (ACL tests).
    pub fn request_as(&self, token: &str, method: &str, path: &str, body: Option<Value>) -> Reply {
        self.try_request_as(token, method, path, body)
            .unwrap_or_else(|e| panic!("{method} {path}: transport error: {e}"))
    }

    /// [`try_request`](Self::try_request) with a given token.
    pub fn try_request_as(
        &self,
        token: &str,
        method: &str,
        path: &str,
        body: Option<Value>,
    ) -> Result<Reply, String> {
        let url = format!("{}/v1/{}", self.addr, path);
        let req = self.agent.request(method, &url).set("X-Vault-Token", token);
        let result = match body {
            Some(b) => req.send_json(b),
            None => req.call(),
        };
        let resp = match result {
            Ok(r) => r,
            Err(ureq::Error::Status(_, r)) => r,
            Err(e) => return Err(e.to_string()),
        };
        let status = resp.status();
        let mut text = String::new();
        resp.into_reader()
            .take(64 * 1024 * 1024)
            .read_to_string(&mut text)
            .map_err(|e| format!("reading the body: {e}"))?;
        let body = if text.trim().is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or(Value::String(text))
        };
        Ok(Reply { status, body })
    }

    pub fn get(&self, path: &str) -> Reply {
        self.request("GET", path, None)
    }

    pub fn list(&self, path: &str) -> Reply {
        self.request("LIST", path, None)
    }

    pub fn write(&self, path: &str, body: Value) -> Reply {
        self.request("POST", path, Some(body))
    }

    pub fn delete(&self, path: &str) -> Reply {
        self.request("DELETE", path, None)
    }

    /// Runs the server binary as a CLI against this server.
    pub fn cli(&self, args: &[&str]) -> std::process::Output {
        Command::new(server_binary())
            .args(args)
            .env("VAULT_ADDR", &self.addr)
            .env("VAULT_TOKEN", ROOT_TOKEN)
            .env("BAO_ADDR", &self.addr)
            .env("BAO_TOKEN", ROOT_TOKEN)
            .env("HOME", self.dir.path())
            .stdin(Stdio::null())
            .output()
            .expect("run cli")
    }

    /// PIDs of live plugin processes started from this server's plugin
    /// directory (found through /proc, so only ours are ever touched).
    pub fn plugin_pids(&self) -> Vec<i32> {
        plugin_pids_for(&self.plugin_path)
    }

    /// The one serving plugin process. Registration probes the binary in
    /// short-lived processes, so this waits (bounded) until only one is left.
    pub fn plugin_pid(&self) -> i32 {
        wait_until(Duration::from_secs(15), || {
            let pids = self.plugin_pids();
            (pids.len() == 1).then(|| pids[0])
        })
        .unwrap_or_else(|| {
            panic!(
                "expected one plugin process, found {:?}",
                self.plugin_pids()
            )
        })
    }

    /// Sends SIGKILL to the server (it cannot stop its plugins) and reaps it.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Sends SIGTERM to the server and waits (bounded) for it to exit.
    pub fn terminate(&mut self) {
        if let Some(mut child) = self.child.take() {
            let pid = nix::unistd::Pid::from_raw(child.id() as i32);
            let _ = nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM);
            let exited = wait_until(Duration::from_secs(20), || child.try_wait().ok().flatten());
            if exited.is_none() {
                let _ = child.kill();
                let _ = child.wait();
            }
        }
    }
}

impl Drop for DevServer {
    fn drop(&mut self) {
        self.terminate();
        // A server stopped by SIGTERM stops its plugins; anything left is
        // ours alone (matched by executable path) and is killed by PID.
        for pid in self.plugin_pids() {
            let _ = nix::sys::signal::kill(
                nix::unistd::Pid::from_raw(pid),
                nix::sys::signal::Signal::SIGKILL,
            );
        }
    }
}

/// Live processes whose executable is `exe`.
pub fn plugin_pids_for(exe: &Path) -> Vec<i32> {
    let mut pids = Vec::new();
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return pids;
    };
    for e in entries.flatten() {
        let Some(pid) = e.file_name().to_str().and_then(|s| s.parse::<i32>().ok()) else {
            continue;
        };
        if let Ok(target) = std::fs::read_link(e.path().join("exe")) {
            // A replaced binary shows as "<path> (deleted)".
            let t = target.to_string_lossy();
            let t = t.trim_end_matches(" (deleted)");
            if Path::new(t) == exe && !is_zombie(pid) {
                pids.push(pid);
            }
        }
    }
    pids
}

fn is_zombie(pid: i32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|s| {
            s.rsplit_once(')')
                .map(|(_, rest)| rest.trim_start().starts_with('Z'))
        })
        .unwrap_or(false)
}
