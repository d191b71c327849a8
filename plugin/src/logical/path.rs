//! Path declarations: a pattern with named segments, fields, operations,
//! an optional existence check and help text.
//!
//! ```
//! use std::sync::Arc;
//! use vault_plugin_crypto::logical::{
//!     Ctx, Field, HandlerResult, LogicalError, Operation, Path, existence, handler,
//! };
//!
//! struct State;
//!
//! async fn read_wallet(_state: Arc<State>, _ctx: Ctx) -> HandlerResult {
//!     Ok(None)
//! }
//!
//! async fn wallet_exists(_state: Arc<State>, _ctx: Ctx) -> Result<bool, LogicalError> {
//!     Ok(false)
//! }
//!
//! let path: Path<State> = Path::new("wallets/{name}")
//!     .field(Field::name("name", "The name of the wallet.").required())
//!     .operation(Operation::Read, "Read a wallet's public facts.", handler(read_wallet))
//!     .existence_check(existence(wallet_exists))
//!     .help("Manage wallets.", "A wallet is ...");
//! # let _ = path;
//! ```

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use serde_json::{Map, Value};

use super::field::{Field, FieldData};
use super::{LogicalError, Operation, Response, Storage};

/// What a handler receives: the operation, the typed fields and storage.
pub struct Ctx {
    pub operation: Operation,
    /// The request path relative to the mount.
    pub path: String,
    pub fields: FieldData,
    pub storage: Arc<dyn Storage>,
    pub mount_point: String,
    /// The host's request id, for log correlation only.
    pub request_id: String,
    /// The caller's identity entity (empty when the token has none).
    pub entity_id: String,
    /// The host's identity store.
    pub identity: Arc<dyn super::Identity>,
    /// Set only by the engine itself when it re-runs a stored signing
    /// request whose approvals are complete (`approvals/{id}/sign`): the
    /// approval id. Never set from a client's input.
    pub approved: Option<String>,
}

pub type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;
pub type HandlerResult = Result<Option<Response>, LogicalError>;

/// An operation handler over the backend state `S`.
pub type Handler<S> = Arc<dyn Fn(Arc<S>, Ctx) -> BoxFuture<HandlerResult> + Send + Sync>;
/// An existence check: does the object a write would touch already exist?
pub type ExistenceFn<S> =
    Arc<dyn Fn(Arc<S>, Ctx) -> BoxFuture<Result<bool, LogicalError>> + Send + Sync>;

/// Wraps an `async fn(Arc<S>, Ctx) -> HandlerResult` as a [`Handler`].
pub fn handler<S, F, Fut>(f: F) -> Handler<S>
where
    F: Fn(Arc<S>, Ctx) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = HandlerResult> + Send + 'static,
{
    Arc::new(move |s, c| Box::pin(f(s, c)))
}

/// Wraps an `async fn(Arc<S>, Ctx) -> Result<bool, LogicalError>` as an [`ExistenceFn`].
pub fn existence<S, F, Fut>(f: F) -> ExistenceFn<S>
where
    F: Fn(Arc<S>, Ctx) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<bool, LogicalError>> + Send + 'static,
{
    Arc::new(move |s, c| Box::pin(f(s, c)))
}

/// One segment of a pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Segment {
    Literal(String),
    /// `{name}`: one non-empty segment, captured into the field `name` and
    /// validated by that field's type (so a bad value is a 400, not a 404).
    Param(String),
}

/// A path pattern such as `wallets/{name}/addresses/{chain}`.
///
/// A pattern ending in `/` (like `wallets/`) matches with or without the
/// trailing slash, because the host sends `LIST wallets` as `wallets/`
/// but clients may write either.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pattern {
    raw: String,
    segments: Vec<Segment>,
    trailing_slash: bool,
}

impl Pattern {
    /// Parses a pattern. Panics on a malformed pattern: patterns are
    /// compile-time constants of this crate, checked by the backend tests.
    pub fn parse(raw: &str) -> Self {
        let trailing_slash = raw.ends_with('/');
        let body = raw.strip_suffix('/').unwrap_or(raw);
        let segments = if body.is_empty() {
            Vec::new()
        } else {
            body.split('/')
                .map(|s| {
                    assert!(!s.is_empty(), "empty segment in path pattern {raw:?}");
                    match s.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
                        Some(name) => {
                            assert!(
                                !name.is_empty() && !name.contains(['{', '}']),
                                "bad parameter in path pattern {raw:?}"
                            );
                            Segment::Param(name.to_string())
                        }
                        None => {
                            assert!(!s.contains(['{', '}']), "bad segment in {raw:?}");
                            Segment::Literal(s.to_string())
                        }
                    }
                })
                .collect()
        };
        Self {
            raw: raw.to_string(),
            segments,
            trailing_slash,
        }
    }

    pub fn as_str(&self) -> &str {
        &self.raw
    }

    pub fn segments(&self) -> &[Segment] {
        &self.segments
    }

    pub fn params(&self) -> impl Iterator<Item = &str> {
        self.segments.iter().filter_map(|s| match s {
            Segment::Param(p) => Some(p.as_str()),
            Segment::Literal(_) => None,
        })
    }

    /// Matches a request path; returns the captured parameters.
    pub fn matches(&self, path: &str) -> Option<Map<String, Value>> {
        let body = match path.strip_suffix('/') {
            Some(b) if self.trailing_slash => b,
            // A trailing slash on a pattern without one never matches.
            Some(_) => return None,
            None => path,
        };
        let parts: Vec<&str> = if body.is_empty() {
            Vec::new()
        } else {
            body.split('/').collect()
        };
        if parts.len() != self.segments.len() {
            return None;
        }
        let mut captures = Map::new();
        for (seg, part) in self.segments.iter().zip(parts) {
            match seg {
                Segment::Literal(l) if l == part => {}
                Segment::Literal(_) => return None,
                Segment::Param(_) if part.is_empty() => return None,
                Segment::Param(name) => {
                    captures.insert(name.clone(), Value::String(part.to_string()));
                }
            }
        }
        Some(captures)
    }

    /// The OpenAPI path: `/wallets/{name}` (relative to the mount).
    pub fn openapi_path(&self) -> String {
        format!("/{}", self.raw)
    }
}

/// One supported operation of a path.
pub struct OperationSpec<S> {
    pub operation: Operation,
    /// One sentence for OpenAPI's `summary`.
    pub summary: &'static str,
    pub handler: Handler<S>,
}

/// A path of the backend.
pub struct Path<S> {
    pub pattern: Pattern,
    pub fields: Vec<Field>,
    pub operations: Vec<OperationSpec<S>>,
    pub existence_check: Option<ExistenceFn<S>>,
    /// Refuse a request that sends a field the path does not declare (a
    /// 400 naming it) instead of ignoring it with a warning.
    pub strict_fields: bool,
    /// Whether a request may carry `batch_input` (see `logical::batch`).
    pub batch: bool,
    pub help_synopsis: &'static str,
    pub help_description: &'static str,
}

impl<S> Path<S> {
    pub fn new(pattern: &str) -> Self {
        Self {
            pattern: Pattern::parse(pattern),
            fields: Vec::new(),
            operations: Vec::new(),
            existence_check: None,
            strict_fields: false,
            batch: false,
            help_synopsis: "",
            help_description: "",
        }
    }

    pub fn field(mut self, field: Field) -> Self {
        self.fields.push(field);
        self
    }

    pub fn fields(mut self, fields: impl IntoIterator<Item = Field>) -> Self {
        self.fields.extend(fields);
        self
    }

    pub fn operation(
        mut self,
        operation: Operation,
        summary: &'static str,
        handler: Handler<S>,
    ) -> Self {
        self.operations.push(OperationSpec {
            operation,
            summary,
            handler,
        });
        self
    }

    pub fn existence_check(mut self, f: ExistenceFn<S>) -> Self {
        self.existence_check = Some(f);
        self
    }

    /// Unknown fields are a 400 (policy writes: a misspelled limit must not
    /// leave the operator believing in a limit that does not exist).
    pub fn strict_fields(mut self) -> Self {
        self.strict_fields = true;
        self
    }

    /// Accepts `batch_input`: a list of this path's requests, each run by
    /// the path's handler, answered by `batch_results` (`logical::batch`).
    pub fn batch(mut self) -> Self {
        self.batch = true;
        self.fields.push(super::batch::input_field());
        self
    }

    pub fn help(mut self, synopsis: &'static str, description: &'static str) -> Self {
        self.help_synopsis = synopsis;
        self.help_description = description;
        self
    }

    pub fn find_operation(&self, op: &Operation) -> Option<&OperationSpec<S>> {
        self.operations.iter().find(|o| &o.operation == op)
    }

    pub fn supports(&self, op: &Operation) -> bool {
        self.find_operation(op).is_some()
    }

    pub fn field_named(&self, name: &str) -> Option<&Field> {
        self.fields.iter().find(|f| f.name == name)
    }

    /// Whether a field is captured from the path rather than sent in the body.
    pub fn is_path_param(&self, name: &str) -> bool {
        self.pattern.params().any(|p| p == name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn patterns_capture_named_segments() {
        let p = Pattern::parse("wallets/{name}/addresses/{chain}");
        let c = p.matches("wallets/w1/addresses/ethereum").expect("match");
        assert_eq!(c.get("name"), Some(&json!("w1")));
        assert_eq!(c.get("chain"), Some(&json!("ethereum")));
        assert!(p.matches("wallets/w1/addresses").is_none());
        assert!(p.matches("wallets//addresses/ethereum").is_none());
        assert!(p.matches("wallets/w1/addresses/ethereum/x").is_none());
        assert!(p.matches("wallets/w1/addresses/ethereum/").is_none());
        assert_eq!(p.openapi_path(), "/wallets/{name}/addresses/{chain}");
    }

    #[test]
    fn a_trailing_slash_pattern_matches_with_or_without_it() {
        let p = Pattern::parse("wallets/");
        assert!(p.matches("wallets/").is_some());
        assert!(p.matches("wallets").is_some());
        assert!(p.matches("wallets/x").is_none());
        let root = Pattern::parse("");
        assert!(root.matches("").is_some());
        assert!(root.matches("x").is_none());
    }
}
