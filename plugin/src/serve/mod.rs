//! The go-plugin server (protocol.md §0–§5): environment and magic cookie,
//! AutoMTLS, the unix socket and handshake line, the gRPC services, and the
//! process lifecycle (shutdown, parent death, connect timeout).

mod broker;
mod conn;
mod env;
mod services;
pub mod tls;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use base64::Engine as _;
use tokio::net::UnixListener;
use tokio::sync::{mpsc, watch};
use tokio_rustls::TlsAcceptor;
use tokio_stream::wrappers::ReceiverStream;

pub use broker::{Broker, BrokerError, dial};
pub use conn::ConnId;
pub use env::{EnvError, PluginEnv};

/// The magic cookie value the host sets in `VAULT_BACKEND_PLUGIN`.
pub fn env_cookie() -> &'static str {
    env::MAGIC_COOKIE_VALUE
}
pub use services::plugin_version;

use crate::pb;

/// go-plugin's core protocol version (handshake field 1).
pub const CORE_PROTOCOL_VERSION: u32 = 1;
/// The Vault backend plugin application protocol we speak (AutoMTLS, gRPC).
pub const APP_PROTOCOL_VERSION: u32 = 5;
/// The host may send requests and storage values up to this size; tonic's
/// default 4 MiB decode limit would reject large ones (the Go host allows
/// MaxInt32). Request bodies are bounded again at the path layer.
pub const MAX_MESSAGE_SIZE: usize = 64 * 1024 * 1024;
/// Exit if no host completes a TLS handshake within this time.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(60);
/// After a shutdown request, how long in-flight replies get before we exit.
const SHUTDOWN_GRACE: Duration = Duration::from_millis(1500);

/// A process-wide "stop now" flag that async tasks can wait on.
#[derive(Clone)]
pub struct Shutdown {
    tx: Arc<watch::Sender<bool>>,
}

impl Default for Shutdown {
    fn default() -> Self {
        Self {
            tx: Arc::new(watch::channel(false).0),
        }
    }
}

impl Shutdown {
    pub fn trigger(&self) {
        self.tx.send_replace(true);
    }

    pub fn is_triggered(&self) -> bool {
        *self.tx.borrow()
    }

    pub async fn wait(&self) {
        let mut rx = self.tx.subscribe();
        // An error means the sender is gone, which only happens at exit.
        let _ = rx.wait_for(|stop| *stop).await;
    }
}

/// Runs the plugin: the whole life of the process. `main` only calls this.
pub fn run() -> ExitCode {
    // Read first: if the host dies before our parent-death signal is armed,
    // the watchdog still sees the parent change.
    let parent = nix::unistd::getppid();
    crate::hclog::init(crate::hclog::level_from_env());
    install_panic_hook();
    let env = match PluginEnv::from_vars(std::env::vars()) {
        Ok(env) => env,
        Err(e) => {
            // Run by hand, or probed by the host as another plugin type: a
            // plain message for a person, and a non-zero exit.
            let _ = writeln!(std::io::stderr(), "{}", e.human_message());
            return ExitCode::from(1);
        }
    };
    harden_process();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("vault-plugin-crypto")
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            log::error!("cannot start the async runtime: {e}");
            return ExitCode::from(1);
        }
    };
    let code = runtime.block_on(serve(env, parent));
    // Blocked handlers must not keep the process alive once we decided to exit.
    runtime.shutdown_timeout(Duration::from_millis(200));
    code
}

/// Core dumps off (they would contain key material) and a signal when the
/// host process dies, since a SIGKILLed host leaves plugins orphaned.
fn harden_process() {
    if let Err(e) = nix::sys::prctl::set_dumpable(false) {
        log::warn!("cannot disable core dumps: {e}");
    }
    if let Err(e) = nix::sys::prctl::set_pdeathsig(nix::sys::signal::Signal::SIGTERM) {
        log::warn!("cannot ask for a parent-death signal: {e}");
    }
}

/// Logs a panic as one hclog line with its location only: a panic payload
/// could quote request data, which may be secret.
fn install_panic_hook() {
    std::panic::set_hook(Box::new(|info| {
        let location = info
            .location()
            .map(|l| format!("{}:{}", l.file(), l.line()))
            .unwrap_or_else(|| "unknown".into());
        log::error!(location = location.as_str(); "a request handler panicked; the request was answered with an internal error");
    }));
}

async fn serve(env: PluginEnv, parent: nix::unistd::Pid) -> ExitCode {
    let identity = match tls::Identity::generate() {
        Ok(id) => id,
        Err(e) => {
            log::error!("{e}");
            return ExitCode::from(1);
        }
    };
    let (server_tls, client_tls) = match (
        tls::server_config(&identity, env.host_cert.clone()),
        tls::client_config(&identity, env.host_cert.clone()),
    ) {
        (Ok(s), Ok(c)) => (Arc::new(s), Arc::new(c)),
        (Err(e), _) | (_, Err(e)) => {
            log::error!("{e}");
            return ExitCode::from(1);
        }
    };
    let socket = match Socket::bind(&env) {
        Ok(s) => s,
        Err(e) => {
            log::error!("cannot create the plugin socket: {e}");
            return ExitCode::from(1);
        }
    };

    let shutdown = Shutdown::default();
    let connected = Arc::new(AtomicBool::new(false));
    let (conn_tx, conn_rx) = mpsc::channel(16);
    let listener = socket.listener;
    tokio::spawn(accept_loop(
        listener,
        TlsAcceptor::from(server_tls),
        conn_tx,
        connected.clone(),
        shutdown.clone(),
    ));

    let broker = Arc::new(Broker::new(shutdown.clone()));
    let server = build_router(broker, client_tls, shutdown.clone());
    let stop = shutdown.clone();
    let server_task = tokio::spawn(async move {
        server
            .serve_with_incoming_shutdown(ReceiverStream::new(conn_rx), async move {
                stop.wait().await;
            })
            .await
    });

    // Signal handlers before the handshake: from then on the host (and a
    // Ctrl-C in its terminal) may signal us.
    let signals = match Signals::install() {
        Ok(s) => s,
        Err(e) => {
            log::error!("cannot install signal handlers: {e}");
            return ExitCode::from(1);
        }
    };

    // Listening already: now, and only now, tell the host where we are.
    let line = handshake_line(&socket.path, &identity.cert, env.multiplex_grpc_requested);
    {
        let mut out = std::io::stdout().lock();
        if writeln!(out, "{line}").and_then(|()| out.flush()).is_err() {
            log::error!("cannot write the handshake line to stdout");
            return ExitCode::from(1);
        }
    }
    log::info!(version = plugin_version().as_str(); "plugin started");

    tokio::spawn(watchdogs(
        signals,
        parent,
        connected,
        env.connect_timeout,
        shutdown.clone(),
    ));
    shutdown.wait().await;
    if tokio::time::timeout(SHUTDOWN_GRACE, server_task)
        .await
        .is_err()
    {
        log::debug!("connections still open at exit");
    }
    drop(socket.guard);
    ExitCode::SUCCESS
}

fn build_router(
    broker: Arc<Broker>,
    client_tls: Arc<rustls::ClientConfig>,
    shutdown: Shutdown,
) -> tonic::transport::server::Router {
    use pb::logical::plugin_version_server::PluginVersionServer;
    use pb::multiplexing::plugin_multiplexing_server::PluginMultiplexingServer;
    use pb::plugin::grpc_broker_server::GrpcBrokerServer;
    use pb::plugin::grpc_controller_server::GrpcControllerServer;
    use pb::plugin::grpc_stdio_server::GrpcStdioServer;
    use pb::vault::backend_server::BackendServer;

    let (health_reporter, health) = tonic_health::server::health_reporter();
    // go-plugin's Ping() checks the service named "plugin".
    tokio::spawn(async move {
        health_reporter
            .set_service_status("plugin", tonic_health::ServingStatus::Serving)
            .await;
    });
    let bridge = crate::bridge::BackendBridge::new(broker.clone(), client_tls);
    tonic::transport::Server::builder()
        .add_service(health)
        .add_service(GrpcBrokerServer::new(broker::BrokerService(broker)))
        .add_service(GrpcControllerServer::new(services::Controller(
            shutdown.clone(),
        )))
        .add_service(GrpcStdioServer::new(services::Stdio(shutdown)))
        .add_service(PluginVersionServer::new(services::Version))
        .add_service(PluginMultiplexingServer::new(services::Multiplexing))
        .add_service(
            BackendServer::new(bridge)
                .max_decoding_message_size(MAX_MESSAGE_SIZE)
                .max_encoding_message_size(MAX_MESSAGE_SIZE),
        )
}

/// `CORE|APP|NETWORK|ADDR|PROTOCOL|SERVERCERT[|MUX]` (protocol.md §2). The
/// certificate is base64 *without* padding: the host decodes with
/// RawStdEncoding and padding breaks the load.
pub fn handshake_line(socket: &Path, cert_der: &[u8], multiplex_requested: bool) -> String {
    let cert = base64::engine::general_purpose::STANDARD_NO_PAD.encode(cert_der);
    let mut line = format!(
        "{CORE_PROTOCOL_VERSION}|{APP_PROTOCOL_VERSION}|unix|{}|grpc|{cert}",
        socket.display()
    );
    // Only when the host asked: old hosts split the line into six fields.
    // We don't implement yamux broker multiplexing, so we say so.
    if multiplex_requested {
        line.push_str("|false");
    }
    line
}

async fn accept_loop(
    listener: UnixListener,
    acceptor: TlsAcceptor,
    conns: mpsc::Sender<Result<conn::HostConn, std::io::Error>>,
    connected: Arc<AtomicBool>,
    shutdown: Shutdown,
) {
    loop {
        let accepted = tokio::select! {
            a = listener.accept() => a,
            () = shutdown.wait() => return,
        };
        let (stream, _) = match accepted {
            Ok(s) => s,
            Err(e) => {
                log::warn!("accept on the plugin socket failed: {e}");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let acceptor = acceptor.clone();
        let conns = conns.clone();
        let connected = connected.clone();
        tokio::spawn(async move {
            // A peer without the host's certificate, or without its key, is
            // refused here, before any RPC.
            match tokio::time::timeout(Duration::from_secs(10), acceptor.accept(stream)).await {
                Ok(Ok(stream)) => {
                    connected.store(true, Ordering::SeqCst);
                    let id = ConnId::next();
                    log::debug!(conn = id.0; "host connected");
                    let _ = conns.send(Ok(conn::HostConn { id, stream })).await;
                }
                Ok(Err(e)) => log::warn!("refused a connection: TLS handshake failed: {e}"),
                Err(_) => log::warn!("refused a connection: TLS handshake timed out"),
            }
        });
    }
}

/// Stops the process when the host can no longer manage it: SIGTERM (also
/// our parent-death signal), the parent gone, or no host ever connecting.
/// SIGINT is ignored, like go-plugin does: Ctrl-C in the server's terminal
/// reaches the whole process group and the host shuts us down itself.
struct Signals {
    int: tokio::signal::unix::Signal,
    term: tokio::signal::unix::Signal,
}

impl Signals {
    fn install() -> std::io::Result<Self> {
        use tokio::signal::unix::{SignalKind, signal};
        Ok(Self {
            int: signal(SignalKind::interrupt())?,
            term: signal(SignalKind::terminate())?,
        })
    }
}

async fn watchdogs(
    signals: Signals,
    parent: nix::unistd::Pid,
    connected: Arc<AtomicBool>,
    connect_timeout: Duration,
    shutdown: Shutdown,
) {
    let Signals {
        int: mut sigint,
        term: mut sigterm,
    } = signals;
    let started = tokio::time::Instant::now();
    let mut tick = tokio::time::interval(Duration::from_millis(500));
    loop {
        tokio::select! {
            _ = sigint.recv() => log::debug!("ignoring SIGINT"),
            _ = sigterm.recv() => {
                log::info!("SIGTERM received, exiting");
                break;
            }
            _ = tick.tick() => {
                if nix::unistd::getppid() != parent {
                    log::warn!("the host process is gone, exiting");
                    break;
                }
                if !connected.load(Ordering::SeqCst) && started.elapsed() > connect_timeout {
                    log::warn!("no host connected within {}s, exiting", connect_timeout.as_secs());
                    break;
                }
            }
            () = shutdown.wait() => return,
        }
    }
    shutdown.trigger();
}

/// The listening socket, and what must be removed when we exit.
struct Socket {
    listener: UnixListener,
    path: PathBuf,
    guard: SocketGuard,
}

struct SocketGuard {
    path: PathBuf,
    /// A private directory we created for the socket (removed on exit).
    own_dir: Option<PathBuf>,
}

impl Drop for SocketGuard {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
        if let Some(dir) = &self.own_dir {
            let _ = std::fs::remove_dir(dir);
        }
    }
}

impl Socket {
    /// Binds `plugin<random>` in `PLUGIN_UNIX_SOCKET_DIR` when the host gives
    /// one; otherwise in a fresh 0700 directory under `$TMPDIR` (or `/tmp`),
    /// so no other user can even see the socket. The socket itself is 0600,
    /// or 0660 owned by `PLUGIN_UNIX_SOCKET_GROUP` when that is set.
    fn bind(env: &PluginEnv) -> std::io::Result<Self> {
        use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
        let (dir, own_dir) = match &env.socket_dir {
            Some(dir) => (dir.clone(), None),
            None => {
                let base = std::env::var_os("TMPDIR")
                    .map(PathBuf::from)
                    .unwrap_or_else(|| PathBuf::from("/tmp"));
                let mut made = None;
                for _ in 0..16 {
                    let candidate = base.join(format!("vpc-{:08x}", rand::random::<u32>()));
                    match std::fs::DirBuilder::new().mode(0o700).create(&candidate) {
                        Ok(()) => {
                            made = Some(candidate);
                            break;
                        }
                        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
                        Err(e) => return Err(e),
                    }
                }
                let dir = made.ok_or_else(|| {
                    std::io::Error::other("could not create a private socket directory")
                })?;
                (dir.clone(), Some(dir))
            }
        };
        let mut last_err = None;
        for _ in 0..16 {
            let path = dir.join(format!("plugin{}", rand::random::<u32>()));
            match UnixListener::bind(&path) {
                Ok(listener) => {
                    let guard = SocketGuard {
                        path: path.clone(),
                        own_dir,
                    };
                    match &env.socket_group {
                        Some(group) => {
                            let gid = resolve_group(group)?;
                            nix::unistd::chown(&path, None, Some(gid))
                                .map_err(std::io::Error::from)?;
                            std::fs::set_permissions(
                                &path,
                                std::fs::Permissions::from_mode(0o660),
                            )?;
                        }
                        None => {
                            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600))?
                        }
                    }
                    return Ok(Self {
                        listener,
                        path,
                        guard,
                    });
                }
                Err(e) if e.kind() == std::io::ErrorKind::AddrInUse => last_err = Some(e),
                Err(e) => {
                    if let Some(d) = &own_dir {
                        let _ = std::fs::remove_dir(d);
                    }
                    return Err(e);
                }
            }
        }
        Err(last_err.unwrap_or_else(|| std::io::Error::other("no free socket name")))
    }
}

fn resolve_group(group: &str) -> std::io::Result<nix::unistd::Gid> {
    if let Ok(id) = group.parse::<u32>() {
        return Ok(nix::unistd::Gid::from_raw(id));
    }
    match nix::unistd::Group::from_name(group) {
        Ok(Some(g)) => Ok(g.gid),
        Ok(None) => Err(std::io::Error::new(
            std::io::ErrorKind::NotFound,
            format!("PLUGIN_UNIX_SOCKET_GROUP: no group named {group:?}"),
        )),
        Err(e) => Err(e.into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn handshake_line_has_six_fields_and_unpadded_base64() {
        // 4 bytes of "cert" encode to 6 base64 chars; padded would end in "==".
        let line = handshake_line(Path::new("/tmp/plugin1"), &[1, 2, 3, 4], false);
        assert_eq!(line, "1|5|unix|/tmp/plugin1|grpc|AQIDBA");
        assert_eq!(line.split('|').count(), 6);
    }

    #[test]
    fn handshake_line_answers_a_multiplexing_request_with_false() {
        let line = handshake_line(Path::new("/s"), &[0; 3], true);
        assert!(line.ends_with("|false"), "{line}");
        assert_eq!(line.split('|').count(), 7);
    }
}
