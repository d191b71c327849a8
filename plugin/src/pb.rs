//! Generated wire types. Only `bridge` and `serve` may use this module.
#![allow(clippy::all, clippy::pedantic, missing_docs)]

/// go-plugin's internal services (`package plugin`).
pub mod plugin {
    tonic::include_proto!("plugin");
}

/// Vault/OpenBao's backend protocol (`package pb`).
pub mod vault {
    tonic::include_proto!("pb");
}

/// `package logical` (identity, plugin environment, version).
pub mod logical {
    tonic::include_proto!("logical");
}

/// `package pluginutil.multiplexing`.
pub mod multiplexing {
    tonic::include_proto!("pluginutil.multiplexing");
}
