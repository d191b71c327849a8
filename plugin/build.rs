//! Generates the wire types from our own `.proto` files in `../proto`.
//!
//! `protoc` comes from the `protoc-bin-vendored` crate so that a fresh
//! machine needs no system protobuf compiler.

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let protoc = protoc_bin_vendored::protoc_bin_path()?;
    // SAFETY-free: build scripts are single threaded; PROTOC is read by prost-build.
    // SAFETY: build scripts run single-threaded, nothing reads the environment concurrently.
    unsafe { std::env::set_var("PROTOC", protoc) };
    let include = protoc_bin_vendored::include_path()?;
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../proto");
    let files = [
        "plugin/grpc_broker.proto",
        "plugin/grpc_controller.proto",
        "plugin/grpc_stdio.proto",
        "sdk/logical/identity.proto",
        "sdk/logical/plugin.proto",
        "sdk/logical/version.proto",
        "sdk/plugin/pb/backend.proto",
        "sdk/helper/pluginutil/multiplexing.proto",
    ];
    let paths: Vec<_> = files.iter().map(|f| root.join(f)).collect();
    for p in &paths {
        println!("cargo:rerun-if-changed={}", p.display());
    }
    tonic_prost_build::configure()
        .build_client(true)
        .build_server(true)
        .compile_protos(&paths, &[root, include])?;
    Ok(())
}
