//! The router: an ordered list of [`Path`]s plus lifecycle hooks, exposed to
//! the transport as a [`Backend`].
//!
//! Routing follows Vault's `framework.Backend`: the first path whose pattern
//! matches wins (order matters), no match is `UnsupportedPath` (404), a match
//! without the operation is `UnsupportedOperation` (405), and `help` is
//! answered here from the path's declaration. Fields are parsed into typed
//! values before the handler runs; fields the path does not declare are
//! ignored with a warning, as Vault does.

use std::sync::Arc;

use async_trait::async_trait;
use serde_json::{Map, Value, json};

use super::batch;
use super::field::{FieldData, FieldType, zeroize_json};
use super::openapi;
use super::path::{BoxFuture, Ctx, OperationSpec, Path};
use super::{
    Backend, ExistenceCheck, LogicalError, Operation, Request, Response, SpecialPaths, Storage,
};

/// Called once storage is writable.
pub type InitializeFn<S> =
    Arc<dyn Fn(Arc<S>, Arc<dyn Storage>) -> BoxFuture<Result<(), LogicalError>> + Send + Sync>;
/// Called with a storage key changed on another node.
pub type InvalidateFn<S> = Arc<dyn Fn(&S, &str) + Send + Sync>;
/// Called when the mount goes away.
pub type CleanupFn<S> = Arc<dyn Fn(&S) + Send + Sync>;

/// A backend built from paths over a shared state `S`.
pub struct Framework<S> {
    state: Arc<S>,
    paths: Vec<Path<S>>,
    special_paths: SpecialPaths,
    /// The backend's own help, shown for `path-help` on the mount root.
    help: &'static str,
    initialize: Option<InitializeFn<S>>,
    invalidate: Option<InvalidateFn<S>>,
    cleanup: Option<CleanupFn<S>>,
}

impl<S: Send + Sync + 'static> Framework<S> {
    pub fn new(state: Arc<S>, help: &'static str, paths: Vec<Path<S>>) -> Self {
        for p in &paths {
            for param in p.pattern.params() {
                assert!(
                    p.field_named(param).is_some(),
                    "path {:?} has no field for its parameter {param:?}",
                    p.pattern.as_str()
                );
            }
        }
        Self {
            state,
            paths,
            special_paths: SpecialPaths::default(),
            help,
            initialize: None,
            invalidate: None,
            cleanup: None,
        }
    }

    pub fn special_paths(mut self, sp: SpecialPaths) -> Self {
        self.special_paths = sp;
        self
    }

    pub fn on_initialize(mut self, f: InitializeFn<S>) -> Self {
        self.initialize = Some(f);
        self
    }

    pub fn on_invalidate(mut self, f: InvalidateFn<S>) -> Self {
        self.invalidate = Some(f);
        self
    }

    pub fn on_cleanup(mut self, f: CleanupFn<S>) -> Self {
        self.cleanup = Some(f);
        self
    }

    pub fn state(&self) -> &Arc<S> {
        &self.state
    }

    pub fn paths(&self) -> &[Path<S>] {
        &self.paths
    }

    /// The first path matching `path`, with its captured parameters.
    fn route(&self, path: &str) -> Option<(&Path<S>, Map<String, Value>)> {
        self.paths
            .iter()
            .find_map(|p| p.pattern.matches(path).map(|c| (p, c)))
    }

    fn ctx(req: &Request, fields: FieldData) -> Ctx {
        Ctx {
            operation: req.operation.clone(),
            path: req.path.clone(),
            fields,
            storage: Arc::clone(&req.storage),
            mount_point: req.mount_point.clone(),
            request_id: req.id.clone(),
            entity_id: req.entity_id.clone(),
            identity: Arc::clone(&req.identity),
            approved: None,
        }
    }

    /// Request data with the path captures merged in; the URL wins over the
    /// body, as in Vault.
    fn raw_data(mut data: Map<String, Value>, captures: Map<String, Value>) -> Map<String, Value> {
        for (k, v) in captures {
            if let Some(mut old) = data.insert(k, v) {
                zeroize_json(&mut old);
            }
        }
        data
    }

    fn help_response(
        &self,
        request_path: &str,
        data: &Map<String, Value>,
    ) -> Result<Option<Response>, LogicalError> {
        let prefix = data
            .get("requestResponsePrefix")
            .and_then(Value::as_str)
            .unwrap_or("");
        if request_path.is_empty() {
            let doc = openapi::document(self.paths.iter(), prefix);
            let mut data = Map::new();
            data.insert("help".into(), Value::String(self.root_help_text()));
            data.insert("see_also".into(), Value::Null);
            data.insert("openapi".into(), doc);
            return Ok(Some(Response::with_data(data)));
        }
        let Some((path, _)) = self.route(request_path) else {
            return Err(LogicalError::UnsupportedPath);
        };
        let doc = openapi::document(std::iter::once(path), prefix);
        let mut data = Map::new();
        data.insert(
            "help".into(),
            Value::String(path_help_text(request_path, path)),
        );
        data.insert("see_also".into(), Value::Null);
        data.insert("openapi".into(), doc);
        Ok(Some(Response::with_data(data)))
    }

    /// Runs each item of a batch through the path's handler, in order, in
    /// one [`batch::scope`]; one result or one `error` per item. A storage
    /// error aborts the batch (the host forwards a standby's write).
    async fn handle_batch(
        &self,
        path: &Path<S>,
        spec: &OperationSpec<S>,
        req: &Request,
        items: Vec<Map<String, Value>>,
    ) -> Result<Option<Response>, LogicalError> {
        batch::scope(async {
            let mut results = Vec::with_capacity(items.len());
            let mut items = items.into_iter();
            let mut storage_error = None;
            for raw in items.by_ref() {
                let result = match FieldData::parse(&path.fields, raw, true) {
                    Err(e) => Err(e),
                    Ok((fields, report)) => match strict_check(path.strict_fields, &report.unknown)
                    {
                        Err(e) => Err(e),
                        Ok(()) => {
                            let ctx = Self::ctx(req, fields);
                            (spec.handler)(Arc::clone(&self.state), ctx)
                                .await
                                .map(|mut r| {
                                    if !report.unknown.is_empty() {
                                        r.get_or_insert_with(Response::default)
                                            .warnings
                                            .push(unknown_warning(&report.unknown));
                                    }
                                    r
                                })
                        }
                    },
                };
                if let Err(LogicalError::Storage(e)) = result {
                    storage_error = Some(e);
                    break;
                }
                results.push(batch::item_result(result));
            }
            if let Some(e) = storage_error {
                items.for_each(|mut m| m.values_mut().for_each(zeroize_json));
                return Err(LogicalError::Storage(e));
            }
            let mut data = Map::new();
            data.insert(batch::BATCH_RESULTS.into(), Value::Array(results));
            Ok(Some(Response::with_data(data)))
        })
        .await
    }

    fn root_help_text(&self) -> String {
        let mut out = String::new();
        out.push_str("## DESCRIPTION\n\n");
        out.push_str(self.help.trim());
        out.push_str("\n\n## PATHS\n\nThe following paths are supported by this backend. To view help for\nany of the paths below, use the help command with any route matching\nthe path pattern. Note that depending on the policy of your auth token,\nyou may or may not be able to access certain paths.\n\n");
        for p in &self.paths {
            out.push_str(&format!(
                "    {}\n        {}\n\n",
                p.pattern.as_str(),
                p.help_synopsis.trim()
            ));
        }
        out
    }
}

/// The text of `vault path-help` for one path, in the shape Vault prints.
fn path_help_text<S>(request_path: &str, path: &Path<S>) -> String {
    let mut out = format!(
        "Request:        {request_path}\nMatching Route: {}\n\n{}\n",
        path.pattern.as_str(),
        path.help_synopsis.trim()
    );
    if !path.fields.is_empty() {
        out.push_str("\n## PARAMETERS\n");
        let mut fields: Vec<_> = path.fields.iter().collect();
        fields.sort_by_key(|f| f.name);
        for f in fields {
            let ty = match f.ty {
                FieldType::String | FieldType::Name | FieldType::BigInt => "string",
                FieldType::Int => "int",
                FieldType::Bool => "bool",
                FieldType::StringList => "list of strings",
                FieldType::Map => "map",
                FieldType::ObjectList => "list of maps",
            };
            out.push_str(&format!("\n    {} ({ty})\n\n", f.name));
            for line in wrap(f.description, 66) {
                out.push_str(&format!("        {line}\n"));
            }
        }
    }
    if !path.help_description.trim().is_empty() {
        out.push_str("\n## DESCRIPTION\n\n");
        out.push_str(path.help_description.trim());
        out.push('\n');
    }
    out
}

fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines = Vec::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        if !line.is_empty() && line.len() + 1 + word.len() > width {
            lines.push(std::mem::take(&mut line));
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    if !line.is_empty() {
        lines.push(line);
    }
    lines
}

#[async_trait]
impl<S: Send + Sync + 'static> Backend for Framework<S> {
    async fn handle_request(&self, mut req: Request) -> Result<Option<Response>, LogicalError> {
        let mut raw_guard = RawGuard(std::mem::take(&mut req.data));
        if req.operation == Operation::Help {
            return self.help_response(&req.path, &raw_guard.0);
        }
        let (path, captures) = self.route(&req.path).ok_or(LogicalError::UnsupportedPath)?;
        let spec = path
            .find_operation(&req.operation)
            .ok_or(LogicalError::UnsupportedOperation)?;
        if path.batch
            && raw_guard
                .0
                .get(batch::BATCH_INPUT)
                .is_some_and(|v| !v.is_null())
        {
            let items = batch::split(&mut raw_guard.0, &captures)?;
            drop(raw_guard);
            return self.handle_batch(path, spec, &req, items).await;
        }
        let raw = Self::raw_data(std::mem::take(&mut raw_guard.0), captures);
        let (fields, report) = FieldData::parse(&path.fields, raw, true)?;
        strict_check(path.strict_fields, &report.unknown)?;
        let ctx = Self::ctx(&req, fields);
        let mut response = (spec.handler)(Arc::clone(&self.state), ctx).await?;
        if !report.unknown.is_empty() {
            response
                .get_or_insert_with(Response::default)
                .warnings
                .push(unknown_warning(&report.unknown));
        }
        Ok(response)
    }

    async fn existence_check(&self, mut req: Request) -> Result<ExistenceCheck, LogicalError> {
        // The body is not needed here; it is zeroized when the guard drops.
        let raw_guard = RawGuard(std::mem::take(&mut req.data));
        if !matches!(req.operation, Operation::Create | Operation::Update) {
            return Err(LogicalError::Internal(format!(
                "incorrect operation type {} for an existence check",
                req.operation.as_str()
            )));
        }
        let Some((path, captures)) = self.route(&req.path) else {
            return Err(LogicalError::UnsupportedPath);
        };
        let Some(check) = &path.existence_check else {
            return Ok(ExistenceCheck {
                check_found: false,
                exists: false,
            });
        };
        // Only the path segments matter for existence, and a bad value must
        // not fail the check: the host answers a failed existence check with
        // a bare "internal error" 500. Treating it as "does not exist" lets
        // the handler run and reject the input with a 400 naming the field.
        drop(raw_guard);
        let raw = Self::raw_data(Map::new(), captures);
        let fields = match FieldData::parse(&path.fields, raw, false) {
            Ok((fields, _)) => fields,
            Err(LogicalError::BadRequest(_)) => {
                return Ok(ExistenceCheck {
                    check_found: true,
                    exists: false,
                });
            }
            Err(e) => return Err(e),
        };
        let exists = match check(Arc::clone(&self.state), Self::ctx(&req, fields)).await {
            Ok(exists) => exists,
            Err(LogicalError::BadRequest(_)) => false,
            Err(e) => return Err(e),
        };
        Ok(ExistenceCheck {
            check_found: true,
            exists,
        })
    }

    fn special_paths(&self) -> SpecialPaths {
        self.special_paths.clone()
    }

    async fn initialize(&self, storage: Arc<dyn Storage>) -> Result<(), LogicalError> {
        match &self.initialize {
            Some(f) => f(Arc::clone(&self.state), storage).await,
            None => Ok(()),
        }
    }

    async fn invalidate(&self, key: &str) {
        if let Some(f) = &self.invalidate {
            f(&self.state, key);
        }
    }

    async fn cleanup(&self) {
        if let Some(f) = &self.cleanup {
            f(&self.state);
        }
    }

    fn body_fields(&self, path: &str, operation: &Operation) -> Option<Vec<&'static str>> {
        if *operation == Operation::Help {
            return None;
        }
        // An unknown path is refused before its body is used: parse nothing.
        Some(
            self.route(path)
                .map_or_else(Vec::new, |(p, _)| p.fields.iter().map(|f| f.name).collect()),
        )
    }
}

/// A path with strict fields refuses unknown ones (a 400 naming them).
fn strict_check(strict: bool, unknown: &[String]) -> Result<(), LogicalError> {
    if strict && !unknown.is_empty() {
        return Err(LogicalError::BadRequest(format!(
            "unknown field{} {}: this path does not have {}",
            if unknown.len() == 1 { "" } else { "s" },
            // Names come from the caller: at most 8 of them, 64 characters
            // each, so an error (which the plugin logs) never carries a
            // long value someone sent as a key.
            unknown
                .iter()
                .take(8)
                .map(|f| format!("\"{}\"", f.chars().take(64).collect::<String>()))
                .collect::<Vec<_>>()
                .join(", "),
            if unknown.len() == 1 { "it" } else { "them" }
        )));
    }
    Ok(())
}

/// Vault's wording (framework.Backend.HandleRequest).
fn unknown_warning(unknown: &[String]) -> String {
    format!(
        "Endpoint ignored these unrecognized parameters: [{}]",
        unknown.join(" ")
    )
}

/// Zeroizes request data that was not handed on (early returns).
struct RawGuard(Map<String, Value>);

impl Drop for RawGuard {
    fn drop(&mut self) {
        self.0.values_mut().for_each(zeroize_json);
    }
}

/// A response with `data` built from a JSON object literal.
pub fn response(data: Value) -> Response {
    match data {
        Value::Object(m) => Response::with_data(m),
        other => Response::with_data(Map::from_iter([("value".to_string(), other)])),
    }
}

/// The `keys` response of a LIST operation.
pub fn list_response(keys: Vec<String>) -> Response {
    response(json!({ "keys": keys }))
}
