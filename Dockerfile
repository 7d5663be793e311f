# Builds the stampvm plugin and installs it into an AvalancheGo node image under its VM ID.
#   docker build -t avalanchego-stampvm .
#   docker run -p 9650:9650 avalanchego-stampvm --network-id=fuji
# The VM ID defaults to `stampvm vm-id stampvm`; pass --build-arg VM_ID=... for another name.

ARG AVALANCHEGO_IMAGE=avaplatform/avalanchego:v1.14.2

FROM rust:1-bookworm AS build
# RocksDB's bindings are generated with bindgen, which needs libclang.
RUN apt-get update \
    && apt-get install -y --no-install-recommends libclang-dev \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY Cargo.toml Cargo.lock build.rs ./
COPY proto ./proto
COPY src ./src
COPY benches ./benches
RUN cargo build --release --locked --bin stampvm \
    && cp target/release/stampvm /stampvm

FROM ${AVALANCHEGO_IMAGE}
ARG VM_ID=sr8ijvKKXxgbA1qvYYVChqBtVGrXq3vP7WTYLxsXUrt478CmF
# AvalancheGo's default plugin directory is $HOME/.avalanchego/plugins (flag --plugin-dir).
COPY --from=build /stampvm /root/.avalanchego/plugins/${VM_ID}
