//! The types shared by the transport (`bridge`) and the backend.

use std::collections::BTreeMap;
use std::sync::Arc;

use async_trait::async_trait;
use serde_json::{Map, Value};
use zeroize::Zeroizing;

/// A request operation, as named by the host (`Request.operation`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Operation {
    Create,
    Read,
    Update,
    Patch,
    Delete,
    List,
    Help,
    Rollback,
    Renew,
    Revoke,
    ResolvePath,
    /// Any other operation string the host may send (`scan`, `header`, ...).
    Other(String),
}

impl Operation {
    pub fn parse(s: &str) -> Self {
        match s {
            "create" => Self::Create,
            "read" => Self::Read,
            "update" => Self::Update,
            "patch" => Self::Patch,
            "delete" => Self::Delete,
            "list" => Self::List,
            "help" => Self::Help,
            "rollback" => Self::Rollback,
            "renew" => Self::Renew,
            "revoke" => Self::Revoke,
            "resolve-path" => Self::ResolvePath,
            other => Self::Other(other.to_string()),
        }
    }

    pub fn as_str(&self) -> &str {
        match self {
            Self::Create => "create",
            Self::Read => "read",
            Self::Update => "update",
            Self::Patch => "patch",
            Self::Delete => "delete",
            Self::List => "list",
            Self::Help => "help",
            Self::Rollback => "rollback",
            Self::Renew => "renew",
            Self::Revoke => "revoke",
            Self::ResolvePath => "resolve-path",
            Self::Other(s) => s,
        }
    }
}

/// One request routed to this mount. `path` is relative to the mount.
///
/// `data` may hold secrets (an imported mnemonic), so `Request` deliberately
/// has no `Debug` that prints it.
#[derive(Clone)]
pub struct Request {
    pub operation: Operation,
    pub path: String,
    /// The JSON body (`{}` when the host sent `null`).
    pub data: Map<String, Value>,
    /// The mount point, e.g. `crypto/` (empty for `sys/internal/specs/openapi`).
    pub mount_point: String,
    /// The request id the host assigned (for log correlation only).
    pub id: String,
    /// Whether the host marked the request unauthenticated.
    pub unauthenticated: bool,
    /// The host's storage for this mount.
    pub storage: Arc<dyn Storage>,
    /// The identity entity of the caller's token (empty for a token without
    /// one, such as a root token).
    pub entity_id: String,
    /// The host's identity store, as far as handlers need it.
    pub identity: Arc<dyn Identity>,
}

impl std::fmt::Debug for Request {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Request")
            .field("operation", &self.operation)
            .field("path", &self.path)
            .field("mount_point", &self.mount_point)
            .field("id", &self.id)
            .field("entity_id", &self.entity_id)
            .field("data", &"<redacted>")
            .finish()
    }
}

/// A successful response. `data` becomes the `data` object of the HTTP reply.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Response {
    pub data: Map<String, Value>,
    pub warnings: Vec<String>,
}

impl Response {
    pub fn with_data(data: Map<String, Value>) -> Self {
        Self {
            data,
            warnings: Vec::new(),
        }
    }
}

/// The outcome of an existence check (decides create vs update on writes).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExistenceCheck {
    /// False when the path has no existence check: the operation stays `update`.
    pub check_found: bool,
    pub exists: bool,
}

/// Errors a handler returns. The mapping to HTTP statuses is decided in
/// exactly one place, `bridge::errors`.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LogicalError {
    /// Malformed or missing input: HTTP 400. The message names the field.
    #[error("{0}")]
    BadRequest(String),
    /// A policy or a wallet flag refused the operation: HTTP 403. The message names the rule.
    #[error("{0}")]
    PermissionDenied(String),
    /// The named object does not exist: HTTP 404.
    #[error("{0}")]
    NotFound(String),
    /// The path exists but does not support this operation: HTTP 405.
    #[error("unsupported operation")]
    UnsupportedOperation,
    /// No path matches: HTTP 404.
    #[error("unsupported path")]
    UnsupportedPath,
    /// A storage failure. The host's text is kept verbatim so that a
    /// standby's `cannot write to readonly storage` is forwarded to the active node.
    #[error(transparent)]
    Storage(#[from] StorageError),
    /// Our own fault: HTTP 500. Never carries secret material.
    #[error("internal error: {0}")]
    Internal(String),
}

/// A storage error as reported by the host, or a transport failure to reach it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct StorageError(pub String);

/// Raw bytes of a storage value; zeroized on drop because entries hold keys.
pub type StorageValue = Zeroizing<Vec<u8>>;

/// The host's key/value storage for one mount (keys relative to the mount).
#[async_trait]
pub trait Storage: Send + Sync {
    /// Keys directly under `prefix`; sub-folders end with `/`.
    async fn list(&self, prefix: &str) -> Result<Vec<String>, StorageError>;
    async fn get(&self, key: &str) -> Result<Option<StorageValue>, StorageError>;
    async fn put(&self, key: &str, value: StorageValue) -> Result<(), StorageError>;
    async fn delete(&self, key: &str) -> Result<(), StorageError>;
}

/// Paths with special treatment by the host (`SpecialPaths` RPC).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SpecialPaths {
    pub root: Vec<String>,
    pub unauthenticated: Vec<String>,
    pub local_storage: Vec<String>,
    pub seal_wrap_storage: Vec<String>,
}

/// What the host told us when it set this backend up (`Setup` RPC).
#[derive(Debug, Clone, Default)]
pub struct BackendConfig {
    /// Mount options plus `plugin_name`, `plugin_type`, `plugin_version`.
    pub config: BTreeMap<String, String>,
    pub backend_uuid: String,
}

/// A secrets engine as the transport drives it.
///
/// The transport handles the host lifecycle operations itself (`rollback`
/// answers success, `resolve-path` answers unsupported); everything else,
/// `help` included, reaches `handle_request`.
#[async_trait]
pub trait Backend: Send + Sync {
    /// `Ok(None)` means "nothing here" (the host answers 404 to a read).
    async fn handle_request(&self, req: Request) -> Result<Option<Response>, LogicalError>;
    async fn existence_check(&self, req: Request) -> Result<ExistenceCheck, LogicalError>;
    fn special_paths(&self) -> SpecialPaths;
    /// Called once storage is writable (after `Setup`, on the active node).
    async fn initialize(&self, storage: Arc<dyn Storage>) -> Result<(), LogicalError>;
    /// A storage key under this mount changed on another node (HA standby).
    async fn invalidate(&self, key: &str);
    /// The mount is going away or the process is shutting down.
    async fn cleanup(&self);
    /// The fields a request to `path` may carry in its body, when known:
    /// the bridge parses only those into values. `None` (the default, and
    /// for help requests) parses every field.
    fn body_fields(&self, _path: &str, _operation: &Operation) -> Option<Vec<&'static str>> {
        None
    }
}

/// What handlers may ask of the host's identity store (Vault/OpenBao
/// entities and groups). The bridge implements it over the host's
/// `SystemView` (`EntityInfo`, `GroupsForEntity`); tests use
/// [`memory::MemoryIdentity`](super::memory::MemoryIdentity).
#[async_trait]
pub trait Identity: Send + Sync {
    /// The entity's name, `None` when the host knows no such entity.
    async fn entity_name(&self, entity_id: &str) -> Result<Option<String>, StorageError>;
    /// The names of the groups the entity belongs to (directly or through
    /// a parent group, as the host resolves them).
    async fn group_names(&self, entity_id: &str) -> Result<Vec<String>, StorageError>;
}

/// An identity store that knows nobody (a request built without a host).
pub struct NoIdentity;

#[async_trait]
impl Identity for NoIdentity {
    async fn entity_name(&self, _entity_id: &str) -> Result<Option<String>, StorageError> {
        Ok(None)
    }
    async fn group_names(&self, _entity_id: &str) -> Result<Vec<String>, StorageError> {
        Ok(Vec::new())
    }
}
