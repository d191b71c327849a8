//! The small go-plugin and Vault services: controller, stdio, version,
//! multiplexing (protocol.md §5 and §7).

use std::pin::Pin;

use futures_util::Stream;
use tonic::{Request, Response, Status};

use super::Shutdown;
use crate::pb::logical::plugin_version_server::PluginVersion;
use crate::pb::logical::{Empty as LogicalEmpty, VersionReply};
use crate::pb::multiplexing::plugin_multiplexing_server::PluginMultiplexing;
use crate::pb::multiplexing::{MultiplexingSupportRequest, MultiplexingSupportResponse};
use crate::pb::plugin::grpc_controller_server::GrpcController;
use crate::pb::plugin::grpc_stdio_server::GrpcStdio;
use crate::pb::plugin::{Empty, StdioData};

/// The version operators pass to `plugin register -version=`: `v` + the
/// crate version, unless a build sets `CRYPTO_PLUGIN_VERSION` (used to make
/// a second, otherwise identical build for upgrade tests).
pub fn plugin_version() -> String {
    let v = option_env!("CRYPTO_PLUGIN_VERSION").unwrap_or(env!("CARGO_PKG_VERSION"));
    if v.starts_with('v') {
        v.to_string()
    } else {
        format!("v{v}")
    }
}

pub struct Controller(pub Shutdown);

#[tonic::async_trait]
impl GrpcController for Controller {
    async fn shutdown(&self, _req: Request<Empty>) -> Result<Response<Empty>, Status> {
        log::info!("host asked the plugin to shut down");
        self.0.trigger();
        Ok(Response::new(Empty {}))
    }
}

/// We log straight to fd 2, so the stdio stream stays open and silent until
/// shutdown (answering Unimplemented only makes the host log a warning).
pub struct Stdio(pub Shutdown);

type StdioStream = Pin<Box<dyn Stream<Item = Result<StdioData, Status>> + Send>>;

#[tonic::async_trait]
impl GrpcStdio for Stdio {
    type StreamStdioStream = StdioStream;

    async fn stream_stdio(&self, _req: Request<()>) -> Result<Response<StdioStream>, Status> {
        let shutdown = self.0.clone();
        let stream = futures_util::stream::once(async move {
            shutdown.wait().await;
            None
        })
        .filter_map(|x: Option<Result<StdioData, Status>>| async move { x });
        Ok(Response::new(Box::pin(stream)))
    }
}

pub struct Version;

#[tonic::async_trait]
impl PluginVersion for Version {
    async fn version(&self, _req: Request<LogicalEmpty>) -> Result<Response<VersionReply>, Status> {
        Ok(Response::new(VersionReply {
            plugin_version: plugin_version(),
        }))
    }
}

/// One process serves every mount of the same catalog entry; instances are
/// told apart by the `multiplex_id` metadata (see `bridge`).
pub struct Multiplexing;

#[tonic::async_trait]
impl PluginMultiplexing for Multiplexing {
    async fn multiplexing_support(
        &self,
        _req: Request<MultiplexingSupportRequest>,
    ) -> Result<Response<MultiplexingSupportResponse>, Status> {
        Ok(Response::new(MultiplexingSupportResponse {
            supported: true,
        }))
    }
}

use futures_util::StreamExt as _;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_is_v_plus_the_crate_version() {
        let v = plugin_version();
        assert!(v.starts_with('v'), "{v}");
        if option_env!("CRYPTO_PLUGIN_VERSION").is_none() {
            assert_eq!(v, format!("v{}", env!("CARGO_PKG_VERSION")));
        }
    }
}
