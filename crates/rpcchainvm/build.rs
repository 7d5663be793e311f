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
    "rpcdb/rpcdb.proto",
];

/// Messages whose field numbers mean different things in different protocol profiles: their Rust
/// types are written by hand in `src/wire` and the generated code uses those.
const HAND_WRITTEN: &[(&str, &str)] = &[
    (".vm.InitializeRequest", "crate::wire::InitializeRequest"),
    (".vm.Handler", "crate::wire::Handler"),
    (
        ".appsender.SendAppGossipMsg",
        "crate::wire::SendAppGossipMsg",
    ),
    (".io.reader.ReadResponse", "crate::wire::ReadResponse"),
];

fn main() -> Result<(), Box<dyn std::error::Error>> {
    println!("cargo:rerun-if-changed=proto");
    let descriptors = protox::compile(PROTOS, ["proto"])?;
    let mut builder = tonic_prost_build::configure();
    for (proto, rust) in HAND_WRITTEN {
        builder = builder.extern_path(*proto, *rust);
    }
    builder
        .build_server(true)
        .build_client(true)
        .compile_fds(descriptors)?;
    Ok(())
}
