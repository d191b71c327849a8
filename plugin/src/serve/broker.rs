//! go-plugin's connection broker (protocol.md §5.2).
//!
//! The host announces, on the `GRPCBroker/StartStream` stream, a listener per
//! backend instance (`ConnInfo{service_id, network, address}`) where it serves
//! `pb.Storage` and `pb.SystemView`. `Setup{broker_id}` may arrive before the
//! announcement, so `Setup` waits for it (go-plugin waits 5 s too), then dials
//! it with TLS: our certificate as client certificate, the host's pinned.

use std::collections::HashMap;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use futures_util::Stream;
use parking_lot::Mutex;
use rustls::ClientConfig;
use tokio::sync::{Notify, mpsc};
use tokio_stream::StreamExt;
use tokio_stream::wrappers::ReceiverStream;
use tonic::transport::{Channel, Endpoint};
use tonic::{Request, Response, Status, Streaming};

use super::Shutdown;
use super::conn::ConnId;
use crate::pb::plugin::ConnInfo;
use crate::pb::plugin::grpc_broker_server::GrpcBroker;

/// How long `Setup` waits for the host to announce its broker listener.
pub const CONN_INFO_TIMEOUT: Duration = Duration::from_secs(5);

/// Listener announcements, keyed by (our connection, broker id): broker ids
/// are allocated per host connection.
#[derive(Default)]
pub struct Broker {
    known: Mutex<HashMap<(ConnId, u32), ConnInfo>>,
    changed: Notify,
    shutdown: Shutdown,
}

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BrokerError {
    #[error("timeout waiting for connection info for broker id {0}")]
    Timeout(u32),
    #[error("unsupported broker network {0:?}")]
    Network(String),
    #[error("dialling the host broker at {address}: {source}")]
    Dial {
        address: String,
        source: tonic::transport::Error,
    },
}

impl Broker {
    pub fn new(shutdown: Shutdown) -> Self {
        Self {
            known: Mutex::default(),
            changed: Notify::new(),
            shutdown,
        }
    }

    fn record(&self, conn: ConnId, info: ConnInfo) {
        // Knocks only happen in yamux broker multiplexing, which we don't
        // announce; an announcement has an address.
        if info.address.is_empty() {
            log::debug!(service_id = info.service_id; "ignoring broker message without an address");
            return;
        }
        self.known.lock().insert((conn, info.service_id), info);
        self.changed.notify_waiters();
    }

    /// Waits until the host has announced the listener for `id`.
    pub async fn wait_for(&self, conn: ConnId, id: u32) -> Result<ConnInfo, BrokerError> {
        let deadline = tokio::time::Instant::now() + CONN_INFO_TIMEOUT;
        loop {
            let notified = self.changed.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            if let Some(info) = self.known.lock().get(&(conn, id)) {
                return Ok(info.clone());
            }
            if tokio::time::timeout_at(deadline, notified).await.is_err() {
                return Err(BrokerError::Timeout(id));
            }
        }
    }

    /// Forgets an announcement once it has been used.
    pub fn forget(&self, conn: ConnId, id: u32) {
        self.known.lock().remove(&(conn, id));
    }
}

/// Dials a host broker listener and returns a gRPC channel over TLS.
pub async fn dial(info: &ConnInfo, tls: Arc<ClientConfig>) -> Result<Channel, BrokerError> {
    use hyper_util::rt::TokioIo;
    use rustls::pki_types::ServerName;
    use tokio_rustls::TlsConnector;

    let network = info.network.clone();
    if network != "unix" && network != "tcp" {
        return Err(BrokerError::Network(network));
    }
    let address = info.address.clone();
    let connector = TlsConnector::from(tls);
    let target = address.clone();
    let connect = tower::service_fn(move |_: http::Uri| {
        let connector = connector.clone();
        let network = network.clone();
        let target = target.clone();
        async move {
            let name = ServerName::try_from(super::tls::PEER_NAME)
                .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidInput, e))?;
            if network == "unix" {
                let sock = tokio::net::UnixStream::connect(&target).await?;
                let tls = connector.connect(name, sock).await?;
                Ok::<_, std::io::Error>(TokioIo::new(EitherStream::Unix(Box::new(tls))))
            } else {
                let sock = tokio::net::TcpStream::connect(&target).await?;
                let tls = connector.connect(name, sock).await?;
                Ok(TokioIo::new(EitherStream::Tcp(Box::new(tls))))
            }
        }
    });
    // The URI is only used for `:authority`; the connector decides where to go.
    Endpoint::from_static("http://localhost")
        .connect_timeout(Duration::from_secs(10))
        .connect_with_connector(connect)
        .await
        .map_err(|source| BrokerError::Dial { address, source })
}

/// A TLS client stream over either transport the host may announce.
enum EitherStream {
    Unix(Box<tokio_rustls::client::TlsStream<tokio::net::UnixStream>>),
    Tcp(Box<tokio_rustls::client::TlsStream<tokio::net::TcpStream>>),
}

impl tokio::io::AsyncRead for EitherStream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        match self.get_mut() {
            Self::Unix(s) => Pin::new(s.as_mut()).poll_read(cx, buf),
            Self::Tcp(s) => Pin::new(s.as_mut()).poll_read(cx, buf),
        }
    }
}

impl tokio::io::AsyncWrite for EitherStream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &[u8],
    ) -> std::task::Poll<std::io::Result<usize>> {
        match self.get_mut() {
            Self::Unix(s) => Pin::new(s.as_mut()).poll_write(cx, buf),
            Self::Tcp(s) => Pin::new(s.as_mut()).poll_write(cx, buf),
        }
    }

    fn poll_flush(
        self: Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        match self.get_mut() {
            Self::Unix(s) => Pin::new(s.as_mut()).poll_flush(cx),
            Self::Tcp(s) => Pin::new(s.as_mut()).poll_flush(cx),
        }
    }

    fn poll_shutdown(
        self: Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        match self.get_mut() {
            Self::Unix(s) => Pin::new(s.as_mut()).poll_shutdown(cx),
            Self::Tcp(s) => Pin::new(s.as_mut()).poll_shutdown(cx),
        }
    }
}

/// The `plugin.GRPCBroker` service.
pub struct BrokerService(pub Arc<Broker>);

type ConnInfoStream = Pin<Box<dyn Stream<Item = Result<ConnInfo, Status>> + Send>>;

#[tonic::async_trait]
impl GrpcBroker for BrokerService {
    type StartStreamStream = ConnInfoStream;

    async fn start_stream(
        &self,
        request: Request<Streaming<ConnInfo>>,
    ) -> Result<Response<Self::StartStreamStream>, Status> {
        let conn = ConnId::of(&request);
        let mut incoming = request.into_inner();
        let broker = self.0.clone();
        // We never announce listeners of our own; the sender only keeps the
        // reply stream open until the host's side ends or we shut down.
        let (keep_open, rx) = mpsc::channel::<Result<ConnInfo, Status>>(1);
        let shutdown = broker.shutdown.clone();
        tokio::spawn(async move {
            loop {
                tokio::select! {
                    msg = incoming.next() => match msg {
                        Some(Ok(info)) => broker.record(conn, info),
                        Some(Err(status)) => {
                            log::debug!("broker stream ended: {}", status.message());
                            break;
                        }
                        None => break,
                    },
                    () = shutdown.wait() => break,
                }
            }
            drop(keep_open);
        });
        Ok(Response::new(Box::pin(ReceiverStream::new(rx))))
    }
}
