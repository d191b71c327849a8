//! The few `sys/` paths that registration and health checks need.

use reqwest::Method;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::client::{Client, api_error, decode_data, normalize_mount};
use crate::error::{Error, Result};

/// `sys/seal-status`.
#[derive(Clone, Debug, Default, Deserialize, PartialEq, Eq)]
#[non_exhaustive]
pub struct SealStatus {
    /// Whether the node is sealed.
    pub sealed: bool,
    /// Whether the node is initialized.
    #[serde(default)]
    pub initialized: bool,
    /// Server version.
    #[serde(default)]
    pub version: Option<String>,
    /// Cluster name.
    #[serde(default)]
    pub cluster_name: Option<String>,
}

/// `sys/health` (queried so that every state answers 200).
#[derive(Clone, Debug, Default, Deserialize, PartialEq, Eq)]
#[non_exhaustive]
pub struct Health {
    /// Initialized.
    #[serde(default)]
    pub initialized: bool,
    /// Sealed.
    #[serde(default)]
    pub sealed: bool,
    /// A standby node.
    #[serde(default)]
    pub standby: bool,
    /// Server version.
    #[serde(default)]
    pub version: Option<String>,
}

/// `sys/leader`.
#[derive(Clone, Debug, Default, Deserialize, PartialEq, Eq)]
#[non_exhaustive]
pub struct Leader {
    /// HA enabled.
    #[serde(default)]
    pub ha_enabled: bool,
    /// This node is the active node.
    #[serde(default)]
    pub is_self: bool,
    /// API address of the active node.
    #[serde(default)]
    pub leader_address: String,
}

/// A catalog entry (`sys/plugins/catalog/:type/:name?version=`).
#[derive(Clone, Debug, Default, Deserialize, PartialEq, Eq)]
#[non_exhaustive]
pub struct CatalogEntry {
    /// Plugin name.
    #[serde(default)]
    pub name: String,
    /// Command (file name inside the plugin directory).
    #[serde(default)]
    pub command: String,
    /// Arguments.
    #[serde(default)]
    pub args: Vec<String>,
    /// SHA256 hex.
    #[serde(default)]
    pub sha256: String,
    /// Version (`v0.1.0`).
    #[serde(default)]
    pub version: String,
    /// Built in.
    #[serde(default)]
    pub builtin: bool,
}

/// A catalog registration body.
#[derive(Clone, Debug, Serialize)]
#[non_exhaustive]
pub struct CatalogRegistration {
    /// SHA256 hex of the binary.
    pub sha256: String,
    /// File name inside the plugin directory.
    pub command: String,
    /// Version the plugin reports.
    pub version: String,
    /// Arguments.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub args: Vec<String>,
    /// Environment (`K=V`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub env: Vec<String>,
}

/// A mount as read by `GET sys/mounts/:path`.
#[derive(Clone, Debug, Default, Deserialize, PartialEq, Eq)]
#[non_exhaustive]
pub struct MountInfo {
    /// Engine type (`vault-plugin-crypto`).
    #[serde(rename = "type", default)]
    pub mount_type: String,
    /// Pinned plugin version.
    #[serde(default)]
    pub plugin_version: String,
    /// Version of the running plugin.
    #[serde(default)]
    pub running_plugin_version: String,
    /// SHA256 of the running plugin.
    #[serde(default)]
    pub running_sha256: String,
}

/// `sys/` operations. Obtained with [`Client::sys`].
#[derive(Clone, Copy, Debug)]
pub struct Sys<'a> {
    client: &'a Client,
}

impl Client {
    /// The `sys/` paths used by registration.
    pub fn sys(&self) -> Sys<'_> {
        Sys { client: self }
    }
}

fn query(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

impl Sys<'_> {
    /// `GET sys/seal-status`.
    pub async fn seal_status(&self) -> Result<SealStatus> {
        let r = self
            .client
            .request_ok(Method::GET, "sys/seal-status", &[], None)
            .await?;
        let body = r.body.unwrap_or(Value::Null);
        serde_json::from_value(body).map_err(|e| Error::decode("sys/seal-status", e))
    }

    /// `GET sys/health`, with every state mapped to 200 so that the body is always read.
    pub async fn health(&self) -> Result<Health> {
        let q = query(&[
            ("standbycode", "200"),
            ("sealedcode", "200"),
            ("uninitcode", "200"),
            ("perfstandbyok", "true"),
            ("drsecondarycode", "200"),
            ("performancestandbycode", "200"),
        ]);
        let r = self
            .client
            .request_ok(Method::GET, "sys/health", &q, None)
            .await?;
        let body = r.body.unwrap_or(Value::Null);
        serde_json::from_value(body).map_err(|e| Error::decode("sys/health", e))
    }

    /// `GET sys/leader`.
    pub async fn leader(&self) -> Result<Leader> {
        let r = self
            .client
            .request_ok(Method::GET, "sys/leader", &[], None)
            .await?;
        let body = r.body.unwrap_or(Value::Null);
        serde_json::from_value(body).map_err(|e| Error::decode("sys/leader", e))
    }

    /// `PUT sys/plugins/catalog/secret/:name`.
    pub async fn register_plugin(&self, name: &str, reg: &CatalogRegistration) -> Result<()> {
        crate::client::check_name("name", name)?;
        let path = format!("sys/plugins/catalog/secret/{name}");
        let body = serde_json::to_value(reg).map_err(|e| Error::decode(&path, e))?;
        self.client
            .request_ok(Method::PUT, &path, &[], Some(&body))
            .await?;
        Ok(())
    }

    /// `GET sys/plugins/catalog/secret/:name?version=`; `None` when not registered.
    pub async fn catalog_entry(&self, name: &str, version: &str) -> Result<Option<CatalogEntry>> {
        crate::client::check_name("name", name)?;
        let path = format!("sys/plugins/catalog/secret/{name}");
        let q = query(&[("version", version)]);
        let r = self
            .client
            .raw_request(Method::GET, &path, &q, None)
            .await?;
        match r.status {
            200..=299 => decode_data(&path, r).map(Some),
            404 => Ok(None),
            s => Err(api_error(s, r.body.as_ref(), &r.node)),
        }
    }

    /// `GET sys/mounts/:path`; `None` when nothing is mounted there.
    pub async fn mount(&self, mount: &str) -> Result<Option<MountInfo>> {
        let m = normalize_mount(mount)?;
        let path = format!("sys/mounts/{m}");
        let r = self
            .client
            .raw_request(Method::GET, &path, &[], None)
            .await?;
        match r.status {
            200..=299 => {
                // Vault answers with the mount at top level and again under `data`.
                let v = r.data().cloned().or(r.body.clone()).unwrap_or(Value::Null);
                serde_json::from_value(v)
                    .map(Some)
                    .map_err(|e| Error::decode(&path, e))
            }
            // "No secret engine mount at crypto/" is a 400 in Vault and OpenBao.
            400 | 404 => Ok(None),
            s => Err(api_error(s, r.body.as_ref(), &r.node)),
        }
    }

    /// `POST sys/mounts/:path` with `type` and `plugin_version`.
    pub async fn enable_mount(&self, mount: &str, plugin: &str, version: &str) -> Result<()> {
        let m = normalize_mount(mount)?;
        let body = json!({"type": plugin, "plugin_version": version});
        self.client
            .request_ok(Method::POST, &format!("sys/mounts/{m}"), &[], Some(&body))
            .await?;
        Ok(())
    }

    /// `POST sys/mounts/:path/tune` with `plugin_version`.
    pub async fn tune_plugin_version(&self, mount: &str, version: &str) -> Result<()> {
        let m = normalize_mount(mount)?;
        let body = json!({"plugin_version": version});
        self.client
            .request_ok(
                Method::POST,
                &format!("sys/mounts/{m}/tune"),
                &[],
                Some(&body),
            )
            .await?;
        Ok(())
    }

    /// `PUT sys/plugins/reload/backend` with `scope=global`: every node restarts the plugin.
    /// Returns the `reload_id` when the server gives one.
    pub async fn reload_plugin_global(&self, plugin: &str) -> Result<Option<String>> {
        let body = json!({"plugin": plugin, "scope": "global"});
        let r = self
            .client
            .request_ok(Method::PUT, "sys/plugins/reload/backend", &[], Some(&body))
            .await?;
        Ok(r.data()
            .and_then(|d| d.get("reload_id"))
            .or_else(|| r.body.as_ref().and_then(|b| b.get("reload_id")))
            .and_then(Value::as_str)
            .map(str::to_owned))
    }
}
