//! Our small path framework: what a backend sees of a host request.
//!
//! Invariant: nothing in here knows protobuf. `bridge` converts the wire
//! messages into these types and back; handlers and tests use only these.
//!
//! - `types`: the fixed interface between transport and backend.
//! - `field`: typed field schemas; parsing request data at the boundary.
//! - `path`: path patterns, operations, existence checks, help text.
//! - `framework`: the router implementing [`Backend`] from an ordered path list.
//! - `openapi`: the OpenAPI document generated from the declarations.
//! - `batch`: `batch_input` split into items run by the path's own handler.
//! - `memory`: an in-memory [`Storage`] for tests.

pub mod batch;
pub mod field;
pub mod framework;
pub mod memory;
pub mod openapi;
pub mod path;
mod types;

pub use field::{Field, FieldData, FieldType, FieldValue};
pub use framework::{Framework, list_response, response};
pub use path::{Ctx, HandlerResult, Path, existence, handler};
pub use types::*;

#[cfg(test)]
mod tests;
