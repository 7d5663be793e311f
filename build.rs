//! Compiles the node's protobuf interfaces in `proto/` into Rust with tonic's builder.
//! protox parses the files in-process, so building needs no system `protoc`.

const PROTOS: &[&str] = &[
    "vm/vm.proto",
    "vm/runtime/runtime.proto",
    "http/http.proto",
    "http/responsewriter/responsewriter.proto",
    "io/reader/reader.proto",
    "appsender/appsender.proto",
    "messenger/messenger.proto",
    "io/prometheus/client/metrics.proto",
];

fn main() -> Result<(), Box<dyn std::error::Error>> {
    println!("cargo:rerun-if-changed=proto");
    let descriptors = protox::compile(PROTOS, ["proto"])?;
    tonic_prost_build::configure()
        .build_server(true)
        .build_client(true)
        .compile_fds(descriptors)?;
    Ok(())
}
