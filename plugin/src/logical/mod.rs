//! Our small path framework: what a backend sees of a host request.
//!
//! Invariant: nothing in here knows protobuf. `bridge` converts the wire
//! messages into these types and back; handlers and tests use only these.

mod types;

pub use types::*;
