//! The Vault backend protocol (`pb.Backend`), protocol.md §6–§9.
//!
//! Invariant: this module and `serve` are the only ones that see protobuf;
//! they never touch wallet code. Each mount is one backend *instance*, keyed
//! by the `multiplex_id` gRPC metadata the host puts on every call (one
//! process serves all mounts of a catalog entry).

pub(crate) mod convert;
pub mod errors;
mod identity;
mod storage;

use std::collections::HashMap;
use std::sync::Arc;

use parking_lot::RwLock;
use tonic::{Request, Response, Status};

pub use identity::SystemViewIdentity;
pub use storage::GrpcStorage;

use crate::logical::{Backend, BackendConfig, Identity, LogicalError, Operation, Storage};
use crate::pb::vault::backend_server::Backend as PbBackend;
use crate::pb::vault::system_view_client::SystemViewClient;
use crate::pb::vault::{
    Empty, HandleExistenceCheckArgs, HandleExistenceCheckReply, HandleRequestArgs,
    HandleRequestReply, InitializeArgs, InitializeReply, InvalidateKeyArgs, SetupArgs, SetupReply,
    SpecialPathsReply, TypeReply,
};
use crate::serve::{Broker, ConnId};

/// `TypeReply.type` for a secrets engine (logical.TypeLogical).
const TYPE_LOGICAL: u32 = 1;

struct Instance {
    backend: Arc<dyn Backend>,
    /// The level this mount's work logs at (its `log_level` option, else
    /// the process level): see `hclog`.
    log_level: log::LevelFilter,
    storage: Arc<dyn Storage>,
    /// The host's identity store (entities and groups), over the system view.
    identity: Arc<dyn Identity>,
    /// The host's system view on the same brokered connection (absent in
    /// tests that build an instance without a host).
    system_view: Option<SystemViewClient<tonic::transport::Channel>>,
}

/// Logs which host we run on (`SystemView/PluginEnv`). Best effort: during
/// registration probing the host has no system view and answers an error.
async fn log_host_version(mut sv: SystemViewClient<tonic::transport::Channel>) {
    match sv.plugin_env(crate::pb::vault::Empty {}).await {
        Ok(reply) => {
            let env = reply.into_inner().plugin_environment.unwrap_or_default();
            log::info!(host_version = env.vault_version.as_str(); "mounted on host version {}", env.vault_version);
        }
        Err(status) => log::debug!(
            "the host's system view is not available: {}",
            status.message()
        ),
    }
}

pub struct BackendBridge {
    broker: Arc<Broker>,
    client_tls: Arc<rustls::ClientConfig>,
    instances: RwLock<HashMap<String, Arc<Instance>>>,
}

fn multiplex_id<T>(req: &Request<T>) -> String {
    req.metadata()
        .get("multiplex_id")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string()
}

impl BackendBridge {
    pub fn new(broker: Arc<Broker>, client_tls: Arc<rustls::ClientConfig>) -> Self {
        Self {
            broker,
            client_tls,
            instances: RwLock::default(),
        }
    }

    fn instance<T>(&self, req: &Request<T>) -> Result<Arc<Instance>, Status> {
        let id = multiplex_id(req);
        self.instances
            .read()
            .get(&id)
            .cloned()
            .ok_or_else(|| Status::failed_precondition("backend not set up for this mount"))
    }

    /// Number of live backend instances (mounts served by this process).
    pub fn instance_count(&self) -> usize {
        self.instances.read().len()
    }
}

/// Runs a handler so that a panic becomes a 500 for that request instead of
/// taking the process down; the handler logs at its mount's level.
///
/// The panic is caught where it unwinds (`catch_unwind` around the future),
/// on the task tonic already runs the RPC on: no task spawned per request and
/// no wake-up of another worker to hand the result back (issue 16). The
/// handler is therefore dropped, like any future, if the host cancels the
/// RPC; what it already did stays done (storage writes are single calls, a
/// spend counted before an unsent signature only makes the limit stricter).
async fn isolated<T, F>(log_level: log::LevelFilter, fut: F) -> Result<T, ()>
where
    T: Send + 'static,
    F: std::future::Future<Output = T> + Send + 'static,
{
    use futures_util::FutureExt as _;
    // Unwind safety: a handler shares only the backend's state, whose locks
    // (parking_lot, tokio) do not poison and whose caches hold whole entries.
    std::panic::AssertUnwindSafe(crate::hclog::scope(log_level, fut))
        .catch_unwind()
        .await
        .map_err(|_| ())
}

/// One request of a mount (run inside the mount's log scope).
async fn handle_request(
    inst: Arc<Instance>,
    pbreq: crate::pb::vault::Request,
) -> Result<Response<HandleRequestReply>, Status> {
    let op = Operation::parse(&pbreq.operation);
    match op {
        // The rollback manager calls every mount each minute; we keep no
        // write-ahead log, so there is nothing to roll back.
        Operation::Rollback => return Ok(Response::new(HandleRequestReply::default())),
        // OpenBao ≥2.7 asks before every request whether the path has a
        // canonical form; we have none (an error here would fail the request).
        Operation::ResolvePath => {
            return Ok(Response::new(HandleRequestReply {
                response: None,
                err: Some(errors::to_proto(&LogicalError::UnsupportedOperation)),
            }));
        }
        _ => {}
    }
    let path = pbreq.path.clone();
    // Only the fields the path declares are parsed into values.
    let declared = inst.backend.body_fields(&path, &op);
    let keep_declared = |k: &str| declared.as_ref().is_some_and(|d| d.contains(&k));
    let keep: convert::Keep<'_> = if declared.is_some() {
        Some(&keep_declared)
    } else {
        None
    };
    let req = match convert::request(pbreq, inst.storage.clone(), inst.identity.clone(), keep) {
        Ok(r) => r,
        Err(e) => {
            return Ok(Response::new(HandleRequestReply {
                response: None,
                err: Some(errors::to_proto(&e)),
            }));
        }
    };
    log::debug!(op = op.as_str(), path = path.as_str(); "request");
    let backend = inst.backend.clone();
    let reply = match isolated(
        inst.log_level,
        async move { backend.handle_request(req).await },
    )
    .await
    {
        Ok(Ok(Some(resp))) => HandleRequestReply {
            response: Some(convert::response(resp)),
            err: None,
        },
        Ok(Ok(None)) => HandleRequestReply::default(),
        Ok(Err(e)) => {
            if matches!(e, LogicalError::Internal(_) | LogicalError::Storage(_)) {
                log::warn!(op = op.as_str(), path = path.as_str(); "request failed: {e}");
            }
            HandleRequestReply {
                response: None,
                err: Some(errors::to_proto(&e)),
            }
        }
        Err(()) => HandleRequestReply {
            response: None,
            err: Some(errors::panicked()),
        },
    };
    Ok(Response::new(reply))
}

#[tonic::async_trait]
impl PbBackend for BackendBridge {
    async fn handle_request(
        &self,
        request: Request<HandleRequestArgs>,
    ) -> Result<Response<HandleRequestReply>, Status> {
        let inst = self.instance(&request)?;
        let level = inst.log_level;
        let pbreq = request.into_inner().request.unwrap_or_default();
        crate::hclog::scope(level, handle_request(inst, pbreq)).await
    }

    async fn special_paths(
        &self,
        request: Request<Empty>,
    ) -> Result<Response<SpecialPathsReply>, Status> {
        let paths = match self.instance(&request) {
            Ok(inst) => inst.backend.special_paths(),
            // Asked before Setup (not observed, but harmless): the list is static.
            Err(_) => crate::backend::new(BackendConfig::default()).special_paths(),
        };
        Ok(Response::new(SpecialPathsReply {
            paths: Some(convert::special_paths(paths)),
        }))
    }

    async fn handle_existence_check(
        &self,
        request: Request<HandleExistenceCheckArgs>,
    ) -> Result<Response<HandleExistenceCheckReply>, Status> {
        let inst = self.instance(&request)?;
        let pbreq = request.into_inner().request.unwrap_or_default();
        // The check never reads the body, and must not fail on one.
        let req = convert::request_without_body(pbreq, inst.storage.clone(), inst.identity.clone());
        let backend = inst.backend.clone();
        let reply = match isolated(
            inst.log_level,
            async move { backend.existence_check(req).await },
        )
        .await
        {
            Ok(Ok(check)) => HandleExistenceCheckReply {
                check_found: check.check_found,
                exists: check.exists,
                err: None,
            },
            Ok(Err(e)) => HandleExistenceCheckReply {
                err: Some(errors::to_proto(&e)),
                ..Default::default()
            },
            Err(()) => HandleExistenceCheckReply {
                err: Some(errors::panicked()),
                ..Default::default()
            },
        };
        Ok(Response::new(reply))
    }

    async fn cleanup(&self, request: Request<Empty>) -> Result<Response<Empty>, Status> {
        let id = multiplex_id(&request);
        let inst = self.instances.write().remove(&id);
        if let Some(inst) = inst {
            let remaining = self.instance_count();
            crate::hclog::scope(inst.log_level, async {
                inst.backend.cleanup().await;
                log::info!(remaining = remaining; "backend instance cleaned up");
            })
            .await;
            crate::hclog::set_mount_level(&id, None);
        }
        Ok(Response::new(Empty {}))
    }

    async fn invalidate_key(
        &self,
        request: Request<InvalidateKeyArgs>,
    ) -> Result<Response<Empty>, Status> {
        let inst = self.instance(&request)?;
        let key = request.into_inner().key;
        crate::hclog::scope(inst.log_level, inst.backend.invalidate(&key)).await;
        Ok(Response::new(Empty {}))
    }

    async fn setup(&self, request: Request<SetupArgs>) -> Result<Response<SetupReply>, Status> {
        let conn = ConnId::of(&request);
        let id = multiplex_id(&request);
        let args = request.into_inner();
        let fail = |msg: String| {
            log::error!("setup failed: {msg}");
            Ok(Response::new(SetupReply { err: msg }))
        };
        let info = match self.broker.wait_for(conn, args.broker_id).await {
            Ok(i) => i,
            Err(e) => return fail(e.to_string()),
        };
        let channel = match crate::serve::dial(&info, self.client_tls.clone()).await {
            Ok(c) => c,
            Err(e) => return fail(e.to_string()),
        };
        self.broker.forget(conn, args.broker_id);
        // This mount's level only (hclog): the process serves other mounts.
        let log_level = crate::hclog::set_mount_level(
            &id,
            args.config
                .get("log_level")
                .and_then(|l| crate::hclog::parse_level(l)),
        );
        let config = BackendConfig {
            config: args.config.into_iter().collect(),
            backend_uuid: args.backend_uuid,
        };
        let system_view = Some(SystemViewClient::new(channel.clone()));
        let identity: Arc<dyn Identity> = Arc::new(SystemViewIdentity::new(SystemViewClient::new(
            channel.clone(),
        )));
        let storage: Arc<dyn Storage> = Arc::new(GrpcStorage::new(channel));
        let backend = crate::backend::new(config);
        let old = self.instances.write().insert(
            id,
            Arc::new(Instance {
                backend,
                log_level,
                storage,
                identity,
                system_view,
            }),
        );
        crate::hclog::scope(log_level, async {
            if let Some(old) = old {
                old.backend.cleanup().await;
            }
            log::info!(instances = self.instance_count(); "backend set up");
        })
        .await;
        Ok(Response::new(SetupReply { err: String::new() }))
    }

    async fn initialize(
        &self,
        request: Request<InitializeArgs>,
    ) -> Result<Response<InitializeReply>, Status> {
        let inst = self.instance(&request)?;
        if let Some(sv) = inst.system_view.clone() {
            crate::hclog::scope(inst.log_level, log_host_version(sv)).await;
        }
        let backend = inst.backend.clone();
        let storage = inst.storage.clone();
        let err = match isolated(
            inst.log_level,
            async move { backend.initialize(storage).await },
        )
        .await
        {
            Ok(Ok(())) => None,
            Ok(Err(e)) => Some(errors::to_proto(&e)),
            Err(()) => Some(errors::panicked()),
        };
        Ok(Response::new(InitializeReply { err }))
    }

    async fn r#type(&self, _request: Request<Empty>) -> Result<Response<TypeReply>, Status> {
        Ok(Response::new(TypeReply {
            r#type: TYPE_LOGICAL,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::logical::memory::MemoryStorage;
    use crate::logical::{
        ExistenceCheck, Request as LRequest, Response as LResponse, SpecialPaths,
    };
    use crate::pb::vault::{HandleRequestArgs, Request as PbRequest};

    /// A backend whose handler panics on one path.
    struct Panicky;

    #[async_trait::async_trait]
    impl Backend for Panicky {
        async fn handle_request(&self, req: LRequest) -> Result<Option<LResponse>, LogicalError> {
            if req.path == "boom" {
                panic!("handler bug");
            }
            Ok(Some(LResponse::default()))
        }
        async fn existence_check(&self, _req: LRequest) -> Result<ExistenceCheck, LogicalError> {
            Ok(ExistenceCheck {
                check_found: false,
                exists: false,
            })
        }
        fn special_paths(&self) -> SpecialPaths {
            SpecialPaths::default()
        }
        async fn initialize(&self, _s: Arc<dyn Storage>) -> Result<(), LogicalError> {
            Ok(())
        }
        async fn invalidate(&self, _key: &str) {}
        async fn cleanup(&self) {}
    }

    fn bridge() -> BackendBridge {
        let identity = crate::serve::tls::Identity::generate().expect("identity");
        let tls = crate::serve::tls::client_config(&identity, identity.cert.clone())
            .expect("client config");
        let b = BackendBridge::new(
            Arc::new(Broker::new(crate::serve::Shutdown::default())),
            Arc::new(tls),
        );
        b.instances.write().insert(
            String::new(),
            Arc::new(Instance {
                backend: Arc::new(Panicky),
                log_level: log::LevelFilter::Info,
                storage: Arc::new(MemoryStorage::default()),
                identity: Arc::new(crate::logical::NoIdentity),
                system_view: None,
            }),
        );
        b
    }

    fn args(op: &str, path: &str) -> Request<HandleRequestArgs> {
        Request::new(HandleRequestArgs {
            storage_id: 0,
            request: Some(PbRequest {
                operation: op.into(),
                path: path.into(),
                data: "null".into(),
                ..Default::default()
            }),
        })
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_panicking_handler_is_a_500_and_the_next_request_is_served() {
        let b = bridge();
        let reply = b
            .handle_request(args("read", "boom"))
            .await
            .expect("reply")
            .into_inner();
        let err = reply.err.expect("an error");
        assert_eq!(err.err_type, errors::ERR_INTERNAL);
        assert!(
            !err.err_msg.contains("handler bug"),
            "panic text leaked: {}",
            err.err_msg
        );
        let ok = b
            .handle_request(args("read", "fine"))
            .await
            .expect("reply")
            .into_inner();
        assert!(ok.err.is_none());
        assert_eq!(ok.response.expect("response").data, "{}");
    }

    #[tokio::test]
    async fn rollback_succeeds_and_resolve_path_is_unsupported() {
        let b = bridge();
        let rb = b
            .handle_request(args("rollback", ""))
            .await
            .expect("reply")
            .into_inner();
        assert!(rb.err.is_none() && rb.response.is_none());
        let rp = b
            .handle_request(args("resolve-path", "wallets/x"))
            .await
            .expect("reply")
            .into_inner();
        assert_eq!(
            rp.err.expect("error").err_type,
            errors::ERR_UNSUPPORTED_OPERATION
        );
    }
}
