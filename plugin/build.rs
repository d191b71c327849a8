//! Generates the wire types from our own `.proto` files in `../proto`.
//!
//! `protoc` comes from the `protoc-bin-vendored` crate so that a fresh
//! machine needs no system protobuf compiler.

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let protoc = protoc_bin_vendored::protoc_bin_path()?;
    let include = protoc_bin_vendored::include_path()?;
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../proto");
    let files = [
        "plugin/grpc_broker.proto",
        "plugin/grpc_controller.proto",
        "plugin/grpc_stdio.proto",
        "sdk/logical/identity.proto",
        "sdk/logical/plugin.proto",
        "sdk/logical/event.proto",
        "sdk/logical/version.proto",
        "sdk/plugin/pb/backend.proto",
        "sdk/helper/pluginutil/multiplexing.proto",
    ];
    let paths: Vec<_> = files.iter().map(|f| root.join(f)).collect();
    for p in &paths {
        println!("cargo:rerun-if-changed={}", p.display());
    }
    let mut config = tonic_prost_build::Config::new();
    config.protoc_executable(protoc);
    tonic_prost_build::configure()
        .build_client(true)
        .build_server(true)
        .compile_with_config(config, &paths, &[root, include])?;
    Ok(())
}
