//! Registering the plugin across an HA cluster, and verifying every node.
//!
//! What the API can and cannot check: the catalog lives in replicated storage, the binary
//! does not (protocol.md §9.4). A standby that lacks the binary, or has a different one, fails
//! to start the mount and crashes on the next invalidation. The binary must therefore be on
//! every node's disk, with the same SHA256, **before** [`Cluster::register`] runs; the
//! scripts (`scripts/setup-ha.sh`, your deployment) check the files, this module checks the
//! catalog, the mount and that every node's engine answers.
//!
//! ```no_run
//! # async fn demo() -> vault_crypto_sdk::Result<()> {
//! use vault_crypto_sdk::Config;
//! use vault_crypto_sdk::register::{Cluster, Registration};
//! let base = Config::default().with_token("root");
//! let cluster = Cluster::new(["http://10.0.0.1:8200", "http://10.0.0.2:8200"], &base)?;
//! let reg = Registration::from_binary("dist/vault-plugin-crypto", "v0.1.0")?;
//! let report = cluster.register(&reg).await?;
//! assert!(report.verify.ok());
//! # Ok(()) }
//! ```

use std::fmt;
use std::io::Read;
use std::path::Path;
use std::time::{Duration, Instant};

use reqwest::Method;
use sha2::{Digest, Sha256};

use crate::client::Client;
use crate::config::{Config, RetryPolicy};
use crate::error::{Error, Result};
use crate::sys::{CatalogEntry, CatalogRegistration, MountInfo};

/// Catalog name of the plugin.
pub const PLUGIN_NAME: &str = "vault-plugin-crypto";

/// SHA256 of a file, lower-case hex.
pub fn sha256_file(path: impl AsRef<Path>) -> Result<String> {
    let path = path.as_ref();
    let io = |source| Error::Io {
        context: format!("reading {}", path.display()),
        source,
    };
    let mut f = std::fs::File::open(path).map_err(io)?;
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 1 << 16];
    loop {
        let n = f.read(&mut buf).map_err(io)?;
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
    }
    Ok(crate::hex::encode(&h.finalize()))
}

fn check_sha(sha: &str) -> Result<String> {
    let s = sha.trim().to_ascii_lowercase();
    if s.len() == 64 && s.bytes().all(|b| b.is_ascii_hexdigit()) {
        Ok(s)
    } else {
        Err(Error::invalid("sha256", "must be 64 hex characters"))
    }
}

/// What to register and mount.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct Registration {
    /// Catalog name (default [`PLUGIN_NAME`]).
    pub name: String,
    /// SHA256 hex of the binary.
    pub sha256: String,
    /// Version the binary reports (`v0.1.0`).
    pub version: String,
    /// File name inside every node's `plugin_directory`.
    pub command: String,
    /// Plugin arguments.
    pub args: Vec<String>,
    /// Plugin environment (`K=V`), API only (the OpenBao CLI has no `-env`).
    pub env: Vec<String>,
    /// Mount path (default `crypto`); `None` registers without mounting.
    pub mount: Option<String>,
    /// How long to wait for replication and reload on every node.
    pub wait: Duration,
}

impl Registration {
    /// From a SHA256 and a command name.
    pub fn new(sha256: &str, version: &str, command: &str) -> Result<Self> {
        if !version.starts_with('v') {
            return Err(Error::invalid(
                "version",
                "must start with `v` (e.g. v0.1.0)",
            ));
        }
        if command.is_empty() || command.contains('/') {
            return Err(Error::invalid(
                "command",
                "must be a file name inside the plugin directory",
            ));
        }
        Ok(Registration {
            name: PLUGIN_NAME.to_owned(),
            sha256: check_sha(sha256)?,
            version: version.to_owned(),
            command: command.to_owned(),
            args: Vec::new(),
            env: Vec::new(),
            mount: Some(crate::config::DEFAULT_MOUNT.to_owned()),
            wait: Duration::from_secs(30),
        })
    }

    /// From a local copy of the binary: SHA256 computed, command = its file name.
    pub fn from_binary(path: impl AsRef<Path>, version: &str) -> Result<Self> {
        let path = path.as_ref();
        let sha = sha256_file(path)?;
        let command = path
            .file_name()
            .and_then(|n| n.to_str())
            .ok_or_else(|| Error::invalid("binary", "has no file name"))?;
        Self::new(&sha, version, command)
    }

    /// Mount path, or `None` to only register.
    pub fn with_mount(mut self, mount: Option<&str>) -> Self {
        self.mount = mount.map(str::to_owned);
        self
    }

    /// Command name (when it differs from the local file name).
    pub fn with_command(mut self, command: &str) -> Self {
        self.command = command.to_owned();
        self
    }

    /// Bound on waiting for replication/reload.
    pub fn with_wait(mut self, wait: Duration) -> Self {
        self.wait = wait;
        self
    }
}

/// One node's state as seen through the API.
#[derive(Clone, Debug, Default)]
#[non_exhaustive]
pub struct NodeReport {
    /// Node address.
    pub address: String,
    /// Answered at all.
    pub reachable: bool,
    /// Sealed (`None` when unreachable).
    pub sealed: Option<bool>,
    /// Active node of the HA cluster.
    pub leader: bool,
    /// Server version.
    pub server_version: Option<String>,
    /// The catalog entry for the expected version, as seen through this node.
    pub catalog: Option<CatalogEntry>,
    /// The mount as seen through this node.
    pub mount: Option<MountInfo>,
    /// The engine answered a request on this node.
    pub engine_ok: Option<bool>,
    /// Problems found, in words.
    pub problems: Vec<String>,
}

impl NodeReport {
    /// No problem found.
    pub fn ok(&self) -> bool {
        self.problems.is_empty()
    }
}

impl fmt::Display for NodeReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let role = if !self.reachable {
            "unreachable"
        } else if self.sealed == Some(true) {
            "sealed"
        } else if self.leader {
            "active"
        } else {
            "standby"
        };
        write!(f, "{:<28} {:<11}", self.address, role)?;
        if let Some(c) = &self.catalog {
            let short = c.sha256.get(..12).unwrap_or(&c.sha256);
            write!(f, " catalog={} sha256={short}…", c.version)?;
        } else {
            write!(f, " catalog=-")?;
        }
        if let Some(m) = &self.mount {
            write!(
                f,
                " running={}",
                if m.running_plugin_version.is_empty() {
                    "-"
                } else {
                    &m.running_plugin_version
                }
            )?;
        }
        if let Some(ok) = self.engine_ok {
            write!(f, " engine={}", if ok { "ok" } else { "FAIL" })?;
        }
        if self.ok() {
            write!(f, " OK")
        } else {
            write!(f, " PROBLEMS: {}", self.problems.join("; "))
        }
    }
}

/// Per-node verification result.
#[derive(Clone, Debug, Default)]
#[non_exhaustive]
pub struct VerifyReport {
    /// One entry per node, in the configured order.
    pub nodes: Vec<NodeReport>,
}

impl VerifyReport {
    /// Every node is fine.
    pub fn ok(&self) -> bool {
        !self.nodes.is_empty() && self.nodes.iter().all(NodeReport::ok)
    }
}

impl fmt::Display for VerifyReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for n in &self.nodes {
            writeln!(f, "{n}")?;
        }
        Ok(())
    }
}

/// What [`Cluster::register`] did.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct RegisterReport {
    /// Address of the active node the catalog write went to.
    pub leader: String,
    /// `enabled`, `tuned` (from another version), `reloaded` (same version) or `not mounted`.
    pub mount_action: String,
    /// `reload_id` of the global reload, when one was done and the server gave an id.
    pub reload_id: Option<String>,
    /// Final per-node state.
    pub verify: VerifyReport,
}

/// The nodes of one cluster, each with its own client (no fail-over: every node is asked
/// itself).
#[derive(Clone, Debug)]
pub struct Cluster {
    nodes: Vec<(String, Client)>,
}

/// What [`Cluster::verify`] expects.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct Expectation {
    /// Catalog name.
    pub name: String,
    /// SHA256 hex.
    pub sha256: String,
    /// Version.
    pub version: String,
    /// Mount to check (`None`: catalog only).
    pub mount: Option<String>,
}

impl From<&Registration> for Expectation {
    fn from(r: &Registration) -> Self {
        Expectation {
            name: r.name.clone(),
            sha256: r.sha256.clone(),
            version: r.version.clone(),
            mount: r.mount.clone(),
        }
    }
}

impl Expectation {
    /// Expect `sha256` and `version` of [`PLUGIN_NAME`] mounted at `mount`.
    pub fn new(sha256: &str, version: &str, mount: Option<&str>) -> Result<Self> {
        Ok(Expectation {
            name: PLUGIN_NAME.to_owned(),
            sha256: check_sha(sha256)?,
            version: version.to_owned(),
            mount: mount.map(str::to_owned),
        })
    }
}

impl Cluster {
    /// One client per address, sharing `base`'s token, TLS, namespace and timeouts.
    pub fn new<I, S>(addresses: I, base: &Config) -> Result<Self>
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let all: Vec<String> = addresses.into_iter().map(Into::into).collect();
        // Each node's client follows a standby's redirect to another node of this cluster,
        // and nowhere else (see `Client::new`).
        let nodes = all
            .iter()
            .map(|a| {
                let mut c = base.clone();
                c.addresses = vec![a.clone()];
                c.retry = RetryPolicy::none();
                Client::with_redirect_targets(c, &all)
                    .map(|cl| (a.trim_end_matches('/').to_owned(), cl))
            })
            .collect::<Result<Vec<_>>>()?;
        if nodes.is_empty() {
            return Err(Error::Config("no node address given".into()));
        }
        Ok(Cluster { nodes })
    }

    /// The node addresses.
    pub fn addresses(&self) -> Vec<&str> {
        self.nodes.iter().map(|(a, _)| a.as_str()).collect()
    }

    /// Reachability, seal state and leadership of every node.
    pub async fn status(&self) -> Vec<NodeReport> {
        let mut out = Vec::with_capacity(self.nodes.len());
        for (addr, c) in &self.nodes {
            let mut r = NodeReport {
                address: addr.clone(),
                ..Default::default()
            };
            match c.sys().seal_status().await {
                Ok(s) => {
                    r.reachable = true;
                    r.sealed = Some(s.sealed);
                    r.server_version = s.version;
                    if !s.initialized {
                        r.problems.push("not initialized".into());
                    }
                    if s.sealed {
                        r.problems.push("sealed".into());
                    }
                }
                Err(e) => r.problems.push(format!("unreachable: {e}")),
            }
            if r.reachable && r.sealed == Some(false) {
                match c.sys().health().await {
                    Ok(h) => r.leader = !h.standby,
                    Err(e) => r.problems.push(format!("sys/health: {e}")),
                }
                match c.sys().leader().await {
                    Ok(l) => r.leader = !l.ha_enabled || l.is_self,
                    Err(e) => r.problems.push(format!("sys/leader: {e}")),
                }
            }
            out.push(r);
        }
        out
    }

    fn leader_index(status: &[NodeReport]) -> Result<usize> {
        let leaders: Vec<usize> = status
            .iter()
            .enumerate()
            .filter(|(_, n)| n.leader)
            .map(|(i, _)| i)
            .collect();
        match leaders.as_slice() {
            [one] => Ok(*one),
            [] => Err(Error::Registration(
                "no active node among the given addresses".into(),
            )),
            _ => Err(Error::Registration(format!(
                "{} nodes claim to be active (HA disabled on several nodes? give one cluster)",
                leaders.len()
            ))),
        }
    }

    /// Register, verify the catalog on every node, enable or tune the mount, reload globally
    /// and verify every node. Refuses to start unless every node is reachable and unsealed.
    pub async fn register(&self, reg: &Registration) -> Result<RegisterReport> {
        let status = self.status().await;
        let bad: Vec<String> = status
            .iter()
            .filter(|n| !n.ok())
            .map(|n| format!("{}: {}", n.address, n.problems.join(", ")))
            .collect();
        if !bad.is_empty() {
            return Err(Error::Registration(format!(
                "every node must be reachable and unsealed first: {}",
                bad.join("; ")
            )));
        }
        let li = Self::leader_index(&status)?;
        let (leader_addr, leader) = &self.nodes[li];

        leader
            .sys()
            .register_plugin(
                &reg.name,
                &CatalogRegistration {
                    sha256: reg.sha256.clone(),
                    command: reg.command.clone(),
                    version: reg.version.clone(),
                    args: reg.args.clone(),
                    env: reg.env.clone(),
                },
            )
            .await?;

        let catalog_only = Expectation {
            mount: None,
            ..Expectation::from(reg)
        };
        let v = self.verify_until(&catalog_only, reg.wait).await;
        if !v.ok() {
            return Err(Error::Registration(format!(
                "catalog entry not the same on every node:\n{v}"
            )));
        }

        let mut mount_action = "not mounted".to_owned();
        let mut reload_id = None;
        if let Some(mount) = &reg.mount {
            match leader.sys().mount(mount).await? {
                None => {
                    leader
                        .sys()
                        .enable_mount(mount, &reg.name, &reg.version)
                        .await?;
                    mount_action = "enabled".into();
                }
                Some(m) => {
                    if m.mount_type != reg.name {
                        return Err(Error::Registration(format!(
                            "{mount}/ is mounted with type {:?}, not {}",
                            m.mount_type, reg.name
                        )));
                    }
                    if m.plugin_version != reg.version {
                        leader
                            .sys()
                            .tune_plugin_version(mount, &reg.version)
                            .await?;
                        mount_action = format!("tuned from {:?}", m.plugin_version);
                    } else {
                        mount_action = "reloaded".into();
                    }
                    reload_id = leader.sys().reload_plugin_global(&reg.name).await?;
                }
            }
        }
        let verify = self.verify_until(&Expectation::from(reg), reg.wait).await;
        if !verify.ok() {
            return Err(Error::Registration(format!(
                "registered, but not every node is serving it:\n{verify}"
            )));
        }
        Ok(RegisterReport {
            leader: leader_addr.clone(),
            mount_action,
            reload_id,
            verify,
        })
    }

    /// Poll [`Cluster::verify`] until it passes or `wait` elapses (replication and reload are
    /// asynchronous on standbys).
    pub async fn verify_until(&self, expect: &Expectation, wait: Duration) -> VerifyReport {
        let deadline = Instant::now() + wait;
        loop {
            let v = self.verify(expect).await;
            if v.ok() || Instant::now() >= deadline {
                return v;
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
    }

    /// Per node: reachable and unsealed, the catalog entry for `version` has `sha256`, the
    /// mount (if any) is of this plugin at this version, and the engine answers.
    pub async fn verify(&self, expect: &Expectation) -> VerifyReport {
        let mut nodes = self.status().await;
        for (r, (_, c)) in nodes.iter_mut().zip(&self.nodes) {
            if !r.ok() {
                continue;
            }
            match c.sys().catalog_entry(&expect.name, &expect.version).await {
                Ok(Some(e)) => {
                    if !e.sha256.eq_ignore_ascii_case(&expect.sha256) {
                        r.problems.push(format!(
                            "catalog sha256 {} differs from {}",
                            e.sha256, expect.sha256
                        ));
                    }
                    if e.version != expect.version {
                        r.problems.push(format!(
                            "catalog version {:?} is not {}",
                            e.version, expect.version
                        ));
                    }
                    r.catalog = Some(e);
                }
                Ok(None) => r.problems.push(format!(
                    "{} {} not in the catalog",
                    expect.name, expect.version
                )),
                Err(e) => r.problems.push(format!("catalog read: {e}")),
            }
            let Some(mount) = &expect.mount else { continue };
            match c.sys().mount(mount).await {
                Ok(Some(m)) => {
                    if m.mount_type != expect.name {
                        r.problems
                            .push(format!("{mount}/ has type {:?}", m.mount_type));
                    }
                    if m.plugin_version != expect.version {
                        r.problems.push(format!(
                            "{mount}/ pinned to {:?}, not {}",
                            m.plugin_version, expect.version
                        ));
                    }
                    if !m.running_plugin_version.is_empty()
                        && m.running_plugin_version != expect.version
                    {
                        r.problems.push(format!(
                            "{mount}/ runs {:?}, not {}",
                            m.running_plugin_version, expect.version
                        ));
                    }
                    if !m.running_sha256.is_empty()
                        && !m.running_sha256.eq_ignore_ascii_case(&expect.sha256)
                    {
                        r.problems
                            .push(format!("{mount}/ runs sha256 {}", m.running_sha256));
                    }
                    r.mount = Some(m);
                }
                Ok(None) => r.problems.push(format!("nothing mounted at {mount}/")),
                Err(e) => r.problems.push(format!("mount read: {e}")),
            }
            // The engine itself must answer on this node: a LIST of wallets is 200, or 404
            // with no message when empty. A nil backend (plugin failed to start here) is a
            // 404 "no handler for route".
            let path = format!("{}/wallets/", mount.trim_matches('/'));
            let q = vec![("list".to_owned(), "true".to_owned())];
            match c.raw_request(Method::GET, &path, &q, None).await {
                Ok(resp) => {
                    let e = crate::client::api_error(resp.status, resp.body.as_ref(), &resp.node);
                    let ok = (200..300).contains(&resp.status)
                        || (resp.status == 404 && e.server_messages().is_empty());
                    r.engine_ok = Some(ok);
                    if !ok {
                        r.problems.push(format!("engine: {e}"));
                    }
                }
                Err(e) => {
                    r.engine_ok = Some(false);
                    r.problems.push(format!("engine: {e}"));
                }
            }
        }
        VerifyReport { nodes }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registrations_are_validated() {
        let sha = "ab".repeat(32);
        assert!(Registration::new(&sha, "v0.1.0", "vault-plugin-crypto").is_ok());
        assert!(Registration::new(&sha, "0.1.0", "vault-plugin-crypto").is_err());
        assert!(Registration::new(&sha, "v0.1.0", "../x").is_err());
        assert!(Registration::new("abc", "v0.1.0", "x").is_err());
    }

    #[test]
    fn sha256_of_a_file() {
        let dir = std::env::temp_dir().join(format!("vcs-sha-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("dir");
        let f = dir.join("bin");
        std::fs::write(&f, b"abc").expect("write");
        assert_eq!(
            sha256_file(&f).expect("sha"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        std::fs::remove_file(&f).ok();
        std::fs::remove_dir(&dir).ok();
    }
}
