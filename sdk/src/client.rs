//! The HTTP core: one `reqwest` client, several nodes, bounded fail-over.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use reqwest::{Method, StatusCode, Url};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::config::{Config, RetryPolicy, Token};
use crate::error::{Error, Result};

/// An async client for the `crypto/` engine (and the few `sys/` paths registration needs).
///
/// Cheap to clone: clones share the connection pool and the "last node that answered" hint.
///
/// ```no_run
/// # async fn demo() -> vault_crypto_sdk::Result<()> {
/// use vault_crypto_sdk::{Client, Config};
/// // VAULT_ADDR / VAULT_TOKEN / VAULT_CACERT / VAULT_NAMESPACE (or BAO_*):
/// let client = Client::from_env()?;
/// // or explicitly, with two nodes for fail-over:
/// let client = Client::new(
///     Config::new(["https://vault-1:8200", "https://vault-2:8200"]).with_token("hvs.example"),
/// )?;
/// let names = client.wallets().list().await?;
/// # let _ = names; Ok(()) }
/// ```
#[derive(Clone, Debug)]
pub struct Client {
    inner: Arc<Inner>,
    mount: Arc<str>,
}

#[derive(Debug)]
struct Inner {
    http: reqwest::Client,
    nodes: Vec<Url>,
    /// Where a redirect may lead (a standby's 307 to the active node): the configured nodes,
    /// plus, for a [`crate::register::Cluster`]'s one-node clients, the cluster's other nodes.
    redirect_targets: Vec<Url>,
    token: Option<Token>,
    namespace: Option<String>,
    retry: RetryPolicy,
    /// Index of the node that answered last; requests start there.
    preferred: AtomicUsize,
}

/// A raw answer: status, JSON body (if any) and the node that gave it.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct RawResponse {
    /// HTTP status.
    pub status: u16,
    /// The JSON body, `None` for `204` or an empty body.
    pub body: Option<Value>,
    /// Base address of the node that answered.
    pub node: String,
}

impl RawResponse {
    /// The `data` object of a Vault response envelope.
    pub fn data(&self) -> Option<&Value> {
        self.body.as_ref().and_then(|b| b.get("data"))
    }
}

fn normalize_node(addr: &str) -> Result<Url> {
    let mut s = addr.trim().to_owned();
    if !s.contains("://") {
        return Err(Error::Config(format!(
            "address {addr:?} needs a scheme (http:// or https://)"
        )));
    }
    if !s.ends_with('/') {
        s.push('/');
    }
    let url = Url::parse(&s).map_err(|e| Error::Config(format!("address {addr:?}: {e}")))?;
    match url.scheme() {
        "http" | "https" => Ok(url),
        other => Err(Error::Config(format!(
            "address {addr:?}: unsupported scheme {other}"
        ))),
    }
}

pub(crate) fn normalize_mount(mount: &str) -> Result<String> {
    let m = mount.trim_matches('/');
    if m.is_empty()
        || m.split('/')
            .any(|seg| seg.is_empty() || seg == "." || seg == "..")
        || m.contains(['?', '#', ' '])
    {
        return Err(Error::Config(format!("mount path {mount:?} is not valid")));
    }
    Ok(m.to_owned())
}

/// How many redirects one request follows (a standby to the active node is one; more is a
/// loop or a misconfiguration).
const MAX_REDIRECTS: u32 = 2;

/// The configured node a redirect from `from` to `location` may be followed to, compared by
/// origin (scheme, host and port; the path and query of `location` are never used: the
/// request is sent again with its own path). `Err` says why not.
pub(crate) fn redirect_target<'a>(
    from: &Url,
    location: &Url,
    allowed: &'a [Url],
) -> std::result::Result<&'a Url, &'static str> {
    if from.scheme() == "https" && location.scheme() != "https" {
        return Err("a redirect from https to http is never followed");
    }
    allowed
        .iter()
        .find(|n| n.origin() == location.origin())
        .ok_or("the target is not one of the configured nodes")
}

fn origin_string(u: &Url) -> String {
    u.origin().ascii_serialization()
}

fn backoff(retry: &RetryPolicy, round: u32) -> Duration {
    let factor = 1u32.checked_shl(round.min(16)).unwrap_or(u32::MAX);
    retry
        .initial_backoff
        .saturating_mul(factor)
        .min(retry.max_backoff)
}

impl Client {
    /// Build a client from a [`Config`].
    ///
    /// Redirects: the client never sends the token or a body to an address that is not one
    /// of `config.addresses`, and never from https to http. A 307/308 (a standby pointing at
    /// the active node) to one of the configured nodes is followed by sending the same request
    /// to that node; any other redirect is an [`Error::Redirect`].
    pub fn new(config: Config) -> Result<Self> {
        Self::with_redirect_targets(config, &[])
    }

    /// [`Client::new`], also following redirects to `extra` (the other nodes of a cluster).
    pub(crate) fn with_redirect_targets(config: Config, extra: &[String]) -> Result<Self> {
        if config.addresses.is_empty() {
            return Err(Error::Config("no node address given".into()));
        }
        let nodes = config
            .addresses
            .iter()
            .map(|a| normalize_node(a))
            .collect::<Result<Vec<_>>>()?;
        let mount = normalize_mount(&config.mount)?;
        let mut redirect_targets = nodes.clone();
        for a in extra {
            redirect_targets.push(normalize_node(a)?);
        }

        let mut builder = reqwest::Client::builder()
            // Redirects are ours to judge (`raw_request`): reqwest's policy would send the
            // X-Vault-Token header and the body to any host a node names.
            .redirect(reqwest::redirect::Policy::none())
            .timeout(config.timeout)
            .connect_timeout(config.connect_timeout)
            .user_agent(concat!("vault-crypto-sdk/", env!("CARGO_PKG_VERSION")));
        let mut pem = config.ca_cert_pem.clone().unwrap_or_default();
        if let Some(path) = &config.ca_cert {
            let bytes = std::fs::read(path).map_err(|source| Error::Io {
                context: format!("reading CA certificate {}", path.display()),
                source,
            })?;
            pem.extend_from_slice(&bytes);
        }
        if !pem.is_empty() {
            let certs = reqwest::Certificate::from_pem_bundle(&pem)
                .map_err(|e| Error::Config(format!("CA certificate: {e}")))?;
            if certs.is_empty() {
                return Err(Error::Config(
                    "CA certificate file holds no certificate".into(),
                ));
            }
            // Vault's VAULT_CACERT semantics: trust these CAs only.
            builder = builder.tls_certs_only(certs);
        }
        let http = builder
            .build()
            .map_err(|e| Error::Config(format!("http client: {e}")))?;

        if let Some(ns) = &config.namespace {
            HeaderValue::from_str(ns)
                .map_err(|_| Error::Config("namespace is not a valid header value".into()))?;
        }
        if let Some(t) = &config.token {
            HeaderValue::from_str(t.expose_secret())
                .map_err(|_| Error::Config("token is not a valid header value".into()))?;
        }
        Ok(Client {
            inner: Arc::new(Inner {
                http,
                nodes,
                redirect_targets,
                token: config.token,
                namespace: config.namespace,
                retry: config.retry,
                preferred: AtomicUsize::new(0),
            }),
            mount: mount.into(),
        })
    }

    /// [`Client::new`] with [`Config::from_env`].
    pub fn from_env() -> Result<Self> {
        Self::new(Config::from_env()?)
    }

    /// The engine's mount path (no slashes at the ends).
    pub fn mount(&self) -> &str {
        &self.mount
    }

    /// The same client (sharing connections) for the engine mounted at another path.
    pub fn with_mount(&self, mount: &str) -> Result<Self> {
        Ok(Client {
            inner: Arc::clone(&self.inner),
            mount: normalize_mount(mount)?.into(),
        })
    }

    /// The node base addresses, in configured order.
    pub fn nodes(&self) -> Vec<String> {
        self.inner.nodes.iter().map(|u| u.to_string()).collect()
    }

    fn headers(&self) -> Result<HeaderMap> {
        let mut h = HeaderMap::new();
        h.insert(
            HeaderName::from_static("x-vault-request"),
            HeaderValue::from_static("true"),
        );
        if let Some(t) = &self.inner.token {
            let mut v = HeaderValue::from_str(t.expose_secret())
                .map_err(|_| Error::Config("token is not a valid header value".into()))?;
            v.set_sensitive(true);
            h.insert(HeaderName::from_static("x-vault-token"), v);
        }
        if let Some(ns) = &self.inner.namespace {
            let v = HeaderValue::from_str(ns)
                .map_err(|_| Error::Config("namespace is not a valid header value".into()))?;
            h.insert(HeaderName::from_static("x-vault-namespace"), v);
        }
        Ok(h)
    }

    /// Send one request to `/v1/<path>` with fail-over, returning any HTTP answer that is not
    /// a reason to move on (including 4xx/5xx other than 429/503). `path` is relative to
    /// `/v1/` and must already be escaped.
    pub async fn raw_request(
        &self,
        method: Method,
        path: &str,
        query: &[(String, String)],
        body: Option<&Value>,
    ) -> Result<RawResponse> {
        let nodes = &self.inner.nodes;
        let retry = &self.inner.retry;
        let headers = self.headers()?;
        let start = self.inner.preferred.load(Ordering::Relaxed) % nodes.len();
        let mut last: Option<Error> = None;
        let max = retry.max_attempts.max(1);
        let mut redirects = 0u32;
        // A followed redirect: the next request goes to this node instead.
        let mut redirected_to: Option<Url> = None;
        let mut attempt = 0u32;
        while attempt < max || redirected_to.is_some() {
            let idx = (start + attempt as usize) % nodes.len();
            let target = redirected_to.take();
            if target.is_none() {
                if attempt > 0 && idx == start {
                    // Every node was tried in this round: pause before the next round.
                    let round = attempt / nodes.len() as u32;
                    tokio::time::sleep(backoff(retry, round.saturating_sub(1))).await;
                }
                attempt += 1;
            }
            let node = match &target {
                Some(t) => t,
                None => &nodes[idx],
            };
            let node_s = node.as_str().trim_end_matches('/').to_owned();
            let url = node
                .join(&format!("v1/{path}"))
                .map_err(|e| Error::Config(format!("bad path {path:?}: {e}")))?;
            let mut req = self
                .inner
                .http
                .request(method.clone(), url)
                .headers(headers.clone());
            if !query.is_empty() {
                req = req.query(query);
            }
            if let Some(b) = body {
                req = req.json(b);
            }
            match req.send().await {
                Ok(resp) if resp.status().is_redirection() => {
                    let status = resp.status().as_u16();
                    let location = resp
                        .headers()
                        .get(reqwest::header::LOCATION)
                        .and_then(|v| v.to_str().ok())
                        .and_then(|l| resp.url().join(l).ok());
                    let refuse = |target: String, reason: &'static str| Error::Redirect {
                        node: node_s.clone(),
                        status,
                        target,
                        reason,
                    };
                    let Some(location) = location else {
                        return Err(refuse(
                            "an invalid location".into(),
                            "the location is missing or invalid",
                        ));
                    };
                    if status != 307 && status != 308 {
                        return Err(refuse(
                            origin_string(&location),
                            "only 307 and 308 keep the method and body",
                        ));
                    }
                    if redirects >= MAX_REDIRECTS {
                        return Err(refuse(origin_string(&location), "too many redirects"));
                    }
                    match redirect_target(node, &location, &self.inner.redirect_targets) {
                        Ok(t) => {
                            redirects += 1;
                            redirected_to = Some(t.clone());
                        }
                        Err(reason) => return Err(refuse(origin_string(&location), reason)),
                    }
                }
                Ok(resp) => {
                    let status = resp.status();
                    let text = resp.text().await.map_err(|source| Error::Transport {
                        node: node_s.clone(),
                        source,
                    })?;
                    let body = if text.trim().is_empty() {
                        None
                    } else {
                        match serde_json::from_str::<Value>(&text) {
                            Ok(v) => Some(v),
                            // Proxies and sealed nodes can answer with non-JSON text.
                            Err(_) => Some(Value::String(text)),
                        }
                    };
                    if status == StatusCode::SERVICE_UNAVAILABLE
                        || status == StatusCode::TOO_MANY_REQUESTS
                    {
                        last = Some(api_error(status.as_u16(), body.as_ref(), &node_s));
                        continue;
                    }
                    // A redirect's target answered: start there next time if it is ours.
                    let answered = match &target {
                        Some(t) => nodes.iter().position(|n| n == t).unwrap_or(idx),
                        None => idx,
                    };
                    self.inner.preferred.store(answered, Ordering::Relaxed);
                    return Ok(RawResponse {
                        status: status.as_u16(),
                        body,
                        node: node_s,
                    });
                }
                // Connection never established: nothing was sent, another node is safe.
                Err(e) if e.is_connect() => {
                    last = Some(Error::Transport {
                        node: node_s,
                        source: e,
                    });
                }
                Err(e) => {
                    return Err(Error::Transport {
                        node: node_s,
                        source: e,
                    });
                }
            }
        }
        Err(Error::Unavailable {
            attempts: max,
            last: Box::new(last.unwrap_or_else(|| Error::Config("no attempt made".into()))),
        })
    }

    /// Like [`Client::raw_request`] but a non-2xx status is an [`Error::Api`].
    pub async fn request_ok(
        &self,
        method: Method,
        path: &str,
        query: &[(String, String)],
        body: Option<&Value>,
    ) -> Result<RawResponse> {
        let r = self.raw_request(method, path, query, body).await?;
        if (200..300).contains(&r.status) {
            Ok(r)
        } else {
            Err(api_error(r.status, r.body.as_ref(), &r.node))
        }
    }

    /// Path under the engine mount.
    pub(crate) fn engine_path(&self, rel: &str) -> String {
        format!("{}/{}", self.mount, rel)
    }

    /// GET `<mount>/<rel>` with `params` as the query string; returns `data`.
    pub(crate) async fn engine_read<P: Serialize, T: DeserializeOwned>(
        &self,
        rel: &str,
        params: &P,
    ) -> Result<T> {
        let path = self.engine_path(rel);
        let query = to_query(params)?;
        let r = self.request_ok(Method::GET, &path, &query, None).await?;
        decode_data(&path, r)
    }

    /// POST `<mount>/<rel>` with a JSON body; returns `data`.
    pub(crate) async fn engine_write<B: Serialize, T: DeserializeOwned>(
        &self,
        rel: &str,
        body: &B,
    ) -> Result<T> {
        let path = self.engine_path(rel);
        let v = serde_json::to_value(body).map_err(|e| Error::decode(&path, e))?;
        let r = self.request_ok(Method::POST, &path, &[], Some(&v)).await?;
        decode_data(&path, r)
    }

    /// DELETE `<mount>/<rel>`.
    pub(crate) async fn engine_delete(&self, rel: &str) -> Result<()> {
        let path = self.engine_path(rel);
        self.request_ok(Method::DELETE, &path, &[], None).await?;
        Ok(())
    }

    /// LIST `<mount>/<rel>` (`GET ?list=true`); a 404 with no message is an empty list,
    /// as in Vault.
    pub(crate) async fn engine_list(&self, rel: &str) -> Result<Vec<String>> {
        let path = self.engine_path(rel);
        let q = vec![("list".to_owned(), "true".to_owned())];
        let r = self.raw_request(Method::GET, &path, &q, None).await?;
        if r.status == 404 {
            let e = api_error(r.status, r.body.as_ref(), &r.node);
            if e.server_messages().is_empty() {
                return Ok(Vec::new());
            }
            return Err(e);
        }
        if !(200..300).contains(&r.status) {
            return Err(api_error(r.status, r.body.as_ref(), &r.node));
        }
        #[derive(serde::Deserialize)]
        struct Keys {
            #[serde(default)]
            keys: Vec<String>,
        }
        let k: Keys = decode_data(&path, r)?;
        Ok(k.keys)
    }
}

/// Build an [`Error::Api`] from a status and body.
pub(crate) fn api_error(status: u16, body: Option<&Value>, node: &str) -> Error {
    let errors = match body {
        Some(Value::Object(m)) => m
            .get("errors")
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .map(|e| match e {
                        Value::String(s) => s.clone(),
                        other => other.to_string(),
                    })
                    .collect()
            })
            .unwrap_or_default(),
        Some(Value::String(s)) if !s.trim().is_empty() => vec![s.trim().to_owned()],
        _ => Vec::new(),
    };
    Error::Api {
        status,
        errors,
        node: node.to_owned(),
    }
}

pub(crate) fn decode_data<T: DeserializeOwned>(path: &str, r: RawResponse) -> Result<T> {
    let data = match r.body {
        Some(Value::Object(mut m)) => m.remove("data").unwrap_or(Value::Null),
        _ => Value::Null,
    };
    let data = if data.is_null() {
        Value::Object(Default::default())
    } else {
        data
    };
    serde_json::from_value(data).map_err(|e| Error::decode(path, e))
}

/// Flatten a serializable struct of scalars into query pairs (`None`s dropped).
pub(crate) fn to_query<P: Serialize>(params: &P) -> Result<Vec<(String, String)>> {
    let v = serde_json::to_value(params).map_err(|e| Error::decode("query", e))?;
    let mut out = Vec::new();
    match v {
        Value::Object(m) => {
            for (k, v) in m {
                match v {
                    Value::Null => {}
                    Value::String(s) => out.push((k, s)),
                    Value::Bool(b) => out.push((k, b.to_string())),
                    Value::Number(n) => out.push((k, n.to_string())),
                    other => out.push((k, other.to_string())),
                }
            }
        }
        Value::Null => {}
        _ => return Err(Error::decode("query", "parameters must be a struct")),
    }
    Ok(out)
}

/// Names: `[A-Za-z0-9][A-Za-z0-9._-]{0,127}` without `..` (api.md; the server's storage
/// refuses keys containing `..`). Checked before building a URL, so a name can never escape
/// its path segment.
pub(crate) fn check_name(field: &'static str, name: &str) -> Result<()> {
    let mut chars = name.chars();
    let ok = match chars.next() {
        Some(c) if c.is_ascii_alphanumeric() => {
            name.len() <= 128
                && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
                && !name.contains("..")
        }
        _ => false,
    };
    if ok {
        Ok(())
    } else {
        Err(Error::invalid(
            field,
            "must match [A-Za-z0-9][A-Za-z0-9._-]{0,127} without \"..\"",
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_checked_before_they_reach_a_url() {
        assert!(check_name("name", "alice").is_ok());
        assert!(check_name("name", "a.b_c-1").is_ok());
        assert!(check_name("name", "../sys").is_err());
        assert!(check_name("name", "").is_err());
        assert!(check_name("name", "a/b").is_err());
        assert!(check_name("name", &"a".repeat(129)).is_err());
        assert!(check_name("name", &"a".repeat(128)).is_ok());
        assert!(check_name("name", "a..b").is_err());
        assert!(check_name("name", "a.b.").is_ok());
    }

    #[test]
    fn mounts_and_addresses_are_normalized() {
        assert_eq!(normalize_mount("/crypto/").ok().as_deref(), Some("crypto"));
        assert_eq!(
            normalize_mount("team/crypto").ok().as_deref(),
            Some("team/crypto")
        );
        assert!(normalize_mount("../sys").is_err());
        assert!(normalize_mount("").is_err());
        assert!(normalize_node("127.0.0.1:8200").is_err());
        assert_eq!(
            normalize_node("http://127.0.0.1:8200")
                .map(|u| u.to_string())
                .ok(),
            Some("http://127.0.0.1:8200/".to_owned())
        );
    }

    #[test]
    fn api_errors_take_the_servers_messages() {
        let body = serde_json::json!({"errors": ["missing field: chain_id"]});
        let e = api_error(400, Some(&body), "http://n1");
        assert_eq!(e.server_messages(), ["missing field: chain_id"]);
        assert!(e.is_bad_request());
        let e = api_error(503, Some(&Value::String("Vault is sealed\n".into())), "n");
        assert_eq!(e.server_messages(), ["Vault is sealed"]);
    }

    #[test]
    fn redirects_are_followed_only_to_configured_nodes_and_never_to_http() {
        let u = |s: &str| Url::parse(s).expect("url");
        let nodes = [
            u("https://n1:8200/"),
            u("https://n2:8200/"),
            u("http://n3:8200/"),
        ];
        // A standby's 307 to the active node: followed (to the configured node, by origin).
        assert_eq!(
            redirect_target(&nodes[0], &u("https://n2:8200/v1/crypto/x?y=1"), &nodes),
            Ok(&nodes[1])
        );
        // Another host, another port, another scheme: refused.
        for bad in [
            "https://evil:8200/v1/x",
            "https://n2:8201/v1/x",
            "http://n2:8200/v1/x",
        ] {
            assert!(
                redirect_target(&nodes[0], &u(bad), &nodes).is_err(),
                "{bad}"
            );
        }
        // https to http, even to a configured node.
        assert_eq!(
            redirect_target(&nodes[0], &u("http://n3:8200/v1/x"), &nodes),
            Err("a redirect from https to http is never followed")
        );
        // http to a configured http node is allowed; http to https as well.
        assert!(redirect_target(&nodes[2], &u("http://n3:8200/v1/x"), &nodes).is_ok());
        assert!(redirect_target(&nodes[2], &u("https://n1:8200/v1/x"), &nodes).is_ok());
        // Userinfo does not make another origin look like a node.
        assert!(redirect_target(&nodes[0], &u("https://n1:8200@evil/v1/x"), &nodes).is_err());
    }

    #[test]
    fn backoff_is_bounded() {
        let r = RetryPolicy::default();
        assert_eq!(backoff(&r, 0), Duration::from_millis(200));
        assert_eq!(backoff(&r, 1), Duration::from_millis(400));
        assert_eq!(backoff(&r, 40), Duration::from_secs(2));
    }
}
