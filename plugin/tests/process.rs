//! The plugin binary as a process: what a person sees when running it by
//! hand, the handshake line, AutoMTLS refusals, and the exit conditions.
//!
//! These tests play the host's part of the handshake themselves (they hold
//! the "host" certificate and key), which is what lets them check that a
//! peer *without* that key is refused. Everything else about the host is
//! tested against a real server in `tests/`.

use std::io::{BufRead, BufReader};
use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use base64::Engine as _;
use rustls::pki_types::CertificateDer;
use vault_plugin_crypto::pb::plugin::ConnInfo;
use vault_plugin_crypto::serve::{self, tls};

const BIN: &str = env!("CARGO_BIN_EXE_vault-plugin-crypto");

fn wait_until<T>(timeout: Duration, mut f: impl FnMut() -> Option<T>) -> Option<T> {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(v) = f() {
            return Some(v);
        }
        if Instant::now() > deadline {
            return None;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// A plugin process started the way the host starts it.
struct Launched {
    child: Child,
    socket: PathBuf,
    server_cert: CertificateDer<'static>,
    host: tls::Identity,
}

impl Drop for Launched {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn launch(extra_env: &[(&str, &str)]) -> Launched {
    let host = tls::Identity::generate().expect("host identity");
    let mut cmd = Command::new(BIN);
    cmd.env_clear()
        .env("VAULT_BACKEND_PLUGIN", serve::env_cookie())
        .env("PLUGIN_PROTOCOL_VERSIONS", "5")
        .env("PLUGIN_CLIENT_CERT", host.cert_pem())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    for (k, v) in extra_env {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().expect("spawn plugin");
    let mut line = String::new();
    BufReader::new(child.stdout.take().expect("stdout"))
        .read_line(&mut line)
        .expect("handshake line");
    let fields: Vec<&str> = line.trim_end().split('|').collect();
    assert_eq!(fields.len(), 6, "handshake line: {line:?}");
    assert_eq!(&fields[..3], &["1", "5", "unix"]);
    assert_eq!(fields[4], "grpc");
    assert!(
        !fields[5].ends_with('='),
        "certificate must be unpadded base64"
    );
    let der = base64::engine::general_purpose::STANDARD_NO_PAD
        .decode(fields[5])
        .expect("base64 without padding");
    Launched {
        child,
        socket: PathBuf::from(fields[3]),
        server_cert: CertificateDer::from(der),
        host,
    }
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
}

/// Dials the plugin's socket the way the host does.
async fn dial_plugin(
    socket: &std::path::Path,
    cfg: rustls::ClientConfig,
) -> Result<tonic::transport::Channel, String> {
    let info = ConnInfo {
        service_id: 0,
        network: "unix".into(),
        address: socket.display().to_string(),
        knock: None,
    };
    serve::dial(&info, Arc::new(cfg))
        .await
        .map_err(|e| e.to_string())
}

/// Dials the plugin like the host does and asks the health service.
async fn health_check(socket: &std::path::Path, cfg: rustls::ClientConfig) -> Result<i32, String> {
    let channel = dial_plugin(socket, cfg).await?;
    let mut client = tonic_health::pb::health_client::HealthClient::new(channel);
    let reply = tokio::time::timeout(
        Duration::from_secs(10),
        client.check(tonic_health::pb::HealthCheckRequest {
            service: "plugin".into(),
        }),
    )
    .await
    .map_err(|_| "timeout".to_string())?
    .map_err(|s| s.to_string())?;
    Ok(reply.into_inner().status)
}

fn pinned_client(
    server_cert: &CertificateDer<'static>,
) -> rustls::ConfigBuilder<rustls::ClientConfig, rustls::client::WantsClientCert> {
    rustls::ClientConfig::builder_with_provider(tls::provider())
        .with_safe_default_protocol_versions()
        .expect("versions")
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(tls::PinnedPeer::new(
            server_cert.clone(),
            tls::provider(),
        )))
}

fn with_h2(mut cfg: rustls::ClientConfig) -> rustls::ClientConfig {
    cfg.alpn_protocols = vec![b"h2".to_vec()];
    cfg
}

#[test]
fn run_by_hand_it_prints_a_human_message_and_exits_non_zero() {
    let out = Command::new(BIN)
        .env_clear()
        .stdin(Stdio::null())
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty(), "nothing may reach stdout");
    let msg = String::from_utf8_lossy(&out.stderr);
    assert!(msg.contains("not meant to be run directly"), "{msg}");
    assert!(msg.contains("plugin register -sha256="), "{msg}");
}

#[test]
fn the_hosts_database_probe_and_v4_fallback_are_refused() {
    let out = Command::new(BIN)
        .env_clear()
        .env(
            "VAULT_DATABASE_PLUGIN",
            "926a0820-aea2-be28-51d6-83cdf00e8edb",
        )
        .env("PLUGIN_PROTOCOL_VERSIONS", "5,6")
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty());
    let out = Command::new(BIN)
        .env_clear()
        .env("VAULT_BACKEND_PLUGIN", serve::env_cookie())
        .env("PLUGIN_PROTOCOL_VERSIONS", "3,4")
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty());
}

#[test]
fn the_host_with_its_certificate_and_key_is_served() {
    let p = launch(&[]);
    let cfg = with_h2(
        pinned_client(&p.server_cert)
            .with_client_auth_cert(vec![p.host.cert.clone()], p.host.key_der())
            .expect("client cert"),
    );
    let status = runtime().block_on(health_check(&p.socket, cfg));
    // 1 = SERVING for the service named "plugin".
    assert_eq!(status, Ok(1));
}

#[test]
fn a_client_without_a_certificate_is_refused() {
    let p = launch(&[]);
    let cfg = with_h2(pinned_client(&p.server_cert).with_no_client_auth());
    let status = runtime().block_on(health_check(&p.socket, cfg));
    assert!(status.is_err(), "served a client without a certificate");
}

#[test]
fn a_client_with_another_certificate_is_refused() {
    let p = launch(&[]);
    let other = tls::Identity::generate().expect("other identity");
    let cfg = with_h2(
        pinned_client(&p.server_cert)
            .with_client_auth_cert(vec![other.cert.clone()], other.key_der())
            .expect("client cert"),
    );
    let status = runtime().block_on(health_check(&p.socket, cfg));
    assert!(
        status.is_err(),
        "served a client with a foreign certificate"
    );
}

/// Presents the host's (public) certificate but signs with another key.
#[derive(Debug)]
struct StolenCert(Arc<rustls::sign::CertifiedKey>);

impl rustls::client::ResolvesClientCert for StolenCert {
    fn resolve(
        &self,
        _hints: &[&[u8]],
        _schemes: &[rustls::SignatureScheme],
    ) -> Option<Arc<rustls::sign::CertifiedKey>> {
        Some(self.0.clone())
    }

    fn has_certs(&self) -> bool {
        true
    }
}

#[test]
fn a_client_with_the_hosts_certificate_but_not_its_key_is_refused() {
    let p = launch(&[]);
    let thief = tls::Identity::generate().expect("thief identity");
    let key = tls::provider()
        .key_provider
        .load_private_key(thief.key_der())
        .expect("key");
    let stolen = rustls::sign::CertifiedKey::new(vec![p.host.cert.clone()], key);
    let cfg = with_h2(
        pinned_client(&p.server_cert)
            .with_client_cert_resolver(Arc::new(StolenCert(Arc::new(stolen)))),
    );
    let status = runtime().block_on(health_check(&p.socket, cfg));
    assert!(
        status.is_err(),
        "served a client that cannot prove the host key"
    );
}

#[test]
fn the_socket_is_private_and_removed_on_exit() {
    let mut p = launch(&[("CRYPTO_PLUGIN_CONNECT_TIMEOUT", "1")]);
    let mode = std::fs::metadata(&p.socket)
        .expect("socket")
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600, "socket mode {mode:o}");
    let dir = p.socket.parent().expect("dir").to_path_buf();
    let dmode = std::fs::metadata(&dir).expect("dir").permissions().mode();
    assert_eq!(dmode & 0o777, 0o700, "socket dir mode {dmode:o}");
    // Nobody connects: the plugin must exit by itself and clean up.
    let status = wait_until(Duration::from_secs(20), || {
        p.child.try_wait().ok().flatten()
    });
    assert!(status.is_some(), "plugin did not exit without a host");
    assert!(!p.socket.exists(), "socket left behind");
    assert!(!dir.exists(), "socket directory left behind");
}

#[test]
fn the_plugin_exits_when_its_parent_dies() {
    // A shell stands in as the parent: it starts the plugin, reports its
    // PID, and exits when its stdin closes. Like a real host, we let it go
    // only after the plugin has printed its handshake line.
    let host = tls::Identity::generate().expect("host identity");
    let dir = tempfile_dir();
    let out = dir.join("stdout");
    let mut parent = Command::new("sh")
        .arg("-c")
        .arg("\"$0\" >\"$1\" 2>/dev/null </dev/null & echo $!; read -r _")
        .arg(BIN)
        .arg(&out)
        .env_clear()
        .env("VAULT_BACKEND_PLUGIN", serve::env_cookie())
        .env("PLUGIN_PROTOCOL_VERSIONS", "5")
        .env("PLUGIN_CLIENT_CERT", host.cert_pem())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("spawn parent");
    let mut line = String::new();
    BufReader::new(parent.stdout.take().expect("stdout"))
        .read_line(&mut line)
        .expect("pid line");
    let pid: i32 = line.trim().parse().expect("pid");
    let alive = |pid: i32| {
        std::fs::read_to_string(format!("/proc/{pid}/stat"))
            .map(|s| {
                !s.rsplit_once(')')
                    .is_some_and(|(_, r)| r.trim_start().starts_with('Z'))
            })
            .unwrap_or(false)
    };
    assert!(alive(pid), "plugin not running");
    let ready = wait_until(Duration::from_secs(10), || {
        std::fs::read_to_string(&out)
            .ok()
            .filter(|s| s.starts_with("1|5|unix|"))
    });
    assert!(ready.is_some(), "no handshake line from the plugin");
    drop(parent.stdin.take()); // the parent's `read` returns and it exits
    let _ = parent.wait();
    let gone = wait_until(Duration::from_secs(10), || (!alive(pid)).then_some(()));
    if gone.is_none() {
        let _ = nix::sys::signal::kill(
            nix::unistd::Pid::from_raw(pid),
            nix::sys::signal::Signal::SIGKILL,
        );
        panic!("plugin {pid} outlived its parent");
    }
}

fn tempfile_dir() -> PathBuf {
    let dir =
        std::env::temp_dir().join(format!("vpc-test-{}-{}", std::process::id(), rand_suffix()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

fn rand_suffix() -> u64 {
    use std::time::SystemTime;
    SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(0)
}

#[test]
fn sigint_is_ignored() {
    let mut p = launch(&[]);
    let pid = nix::unistd::Pid::from_raw(p.child.id() as i32);
    nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGINT).expect("signal");
    // Still serving afterwards: a health check succeeds.
    let cfg = with_h2(
        pinned_client(&p.server_cert)
            .with_client_auth_cert(vec![p.host.cert.clone()], p.host.key_der())
            .expect("client cert"),
    );
    assert_eq!(runtime().block_on(health_check(&p.socket, cfg)), Ok(1));
    assert!(p.child.try_wait().expect("wait").is_none());
}

#[test]
fn shutdown_from_the_controller_stops_the_process_and_removes_the_socket() {
    let mut p = launch(&[]);
    let cfg = with_h2(
        pinned_client(&p.server_cert)
            .with_client_auth_cert(vec![p.host.cert.clone()], p.host.key_der())
            .expect("client cert"),
    );
    let socket = p.socket.clone();
    let reply = runtime().block_on(async move {
        let info = ConnInfo {
            service_id: 0,
            network: "unix".into(),
            address: socket.display().to_string(),
            knock: None,
        };
        let channel = serve::dial(&info, Arc::new(cfg))
            .await
            .map_err(|e| e.to_string())?;
        let mut stdio = vault_plugin_crypto::pb::plugin::grpc_stdio_client::GrpcStdioClient::new(
            channel.clone(),
        );
        // The stdio stream opens and stays open (nothing to send).
        let _stream = stdio.stream_stdio(()).await.map_err(|s| s.to_string())?;
        let mut controller =
            vault_plugin_crypto::pb::plugin::grpc_controller_client::GrpcControllerClient::new(
                channel,
            );
        controller
            .shutdown(vault_plugin_crypto::pb::plugin::Empty {})
            .await
            .map(|_| ())
            .map_err(|s| s.to_string())
    });
    assert_eq!(reply, Ok(()));
    let status = wait_until(Duration::from_secs(10), || {
        p.child.try_wait().ok().flatten()
    });
    let status = status.expect("plugin did not exit after Shutdown");
    assert!(status.success(), "exit status {status:?}");
    assert!(!p.socket.exists(), "socket left behind");
}
