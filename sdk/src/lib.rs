//! Client SDK for the `crypto/` API (see the README).
