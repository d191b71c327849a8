//! Accepted host connections: TLS over the unix socket, tagged with an id so
//! per-connection state (broker ids) can be told apart.

use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::UnixStream;
use tokio_rustls::server::TlsStream;
use tonic::transport::server::Connected;

/// Identifies one accepted host connection for the life of the process.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ConnId(pub u64);

static NEXT: AtomicU64 = AtomicU64::new(1);

impl ConnId {
    pub fn next() -> Self {
        Self(NEXT.fetch_add(1, Ordering::Relaxed))
    }

    /// The connection a request arrived on (tonic copies `connect_info` into
    /// every request's extensions). Requests built in tests have none: id 0.
    pub fn of<T>(req: &tonic::Request<T>) -> Self {
        req.extensions()
            .get::<ConnId>()
            .copied()
            .unwrap_or(ConnId(0))
    }
}

/// A TLS connection from the host.
pub struct HostConn {
    pub id: ConnId,
    pub stream: TlsStream<UnixStream>,
}

impl Connected for HostConn {
    type ConnectInfo = ConnId;

    fn connect_info(&self) -> Self::ConnectInfo {
        self.id
    }
}

impl AsyncRead for HostConn {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.get_mut().stream).poll_read(cx, buf)
    }
}

impl AsyncWrite for HostConn {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.get_mut().stream).poll_write(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.get_mut().stream).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.get_mut().stream).poll_shutdown(cx)
    }
}
