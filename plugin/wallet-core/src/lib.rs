//! The pure wallet core: key material, derivation and chain-specific signing.
//!
//! Invariant: this crate performs no I/O, knows nothing of protobuf, gRPC or
//! the host, and never logs. Every secret lives in a type that is zeroized on
//! drop and redacted in `Debug`.
pub mod bitcoin;
