//! Entry points for the cargo-fuzz targets in `plugin/fuzz/`. Not an API:
//! hidden from the docs and free to change with the targets.
//!
//! Only what the targets cannot reach otherwise is here; everything else
//! they use (`backend::framework`, `logical::memory::MemoryStorage`,
//! `serve::PluginEnv::from_vars`, `wallet_core`) is public already.

use serde_json::{Map, Value};

use crate::logical::LogicalError;

/// The request body as the bridge reads the host's JSON text
/// (`pb.Request.data`) before a request reaches the backend.
pub fn request_body(text: &str) -> Result<Map<String, Value>, LogicalError> {
    crate::bridge::convert::parse_data(text)
}
