//! `--rpc`: asks a node for its accepted block at the proof's height
//! (`timestampvm.getBlockByHeight`) and compares it with the proof.
//!
//! Plain HTTP/1.1 over hyper, already in the tree for `stampvm bench`; no TLS client is, so
//! `https` is refused with a hint rather than pulled in for one request.

use super::Failure;
use anyhow::{anyhow, bail, Context};
use http_body_util::{BodyExt, Limited};
use hyper::client::conn::http1;
use hyper::header::{CONTENT_TYPE, HOST};
use hyper::{Request, Uri};
use hyper_util::rt::TokioIo;
use serde::Deserialize;
use stampvm::api::data::parse_payload;
use stampvm::api::proof_json::{format_hash, parse_hash, BlockFormat};
use stampvm::chain::merkle::{leaf_hash, Hash};
use stampvm::chain::{Id, Proof};
use std::time::Duration;
use tokio::net::TcpStream;

/// Connect, send and read together: a node that takes longer is not going to answer.
const TIMEOUT: Duration = Duration::from_secs(15);
/// A getBlock reply is a few hundred bytes; this only stops a wrong URL from filling memory.
const MAX_REPLY_BYTES: usize = 1 << 20;

/// What the node says of its block, in the terms a proof uses.
#[derive(Debug, PartialEq, Eq)]
pub(super) struct NodeBlock {
    pub id: Id,
    /// As the API prints it: Go's `uint64` cast of the signed seconds.
    pub timestamp: u64,
    pub format: BlockFormat,
    /// A batched block's stated root; a single-payload block's is the leaf hash of its data.
    pub root: Hash,
    pub count: u64,
}

impl NodeBlock {
    /// Whether the node's block is the one the proof names, with the proof's root and shape.
    /// The ID first: if it differs, the rest is about another block.
    pub fn matches(&self, proof: &Proof, format: BlockFormat) -> Result<(), Failure> {
        let name = |format| match format {
            BlockFormat::Single => "single-payload",
            BlockFormat::Batched => "batched",
        };
        if self.id != proof.block_id {
            return Err(Failure::NodeBlockId {
                height: proof.height,
                node: self.id,
                proof: proof.block_id,
            });
        }
        if self.format != format {
            return Err(Failure::NodeFormat {
                node: name(self.format),
                proof: name(format),
            });
        }
        if self.timestamp != proof.timestamp as u64 {
            return Err(Failure::NodeTimestamp {
                node: self.timestamp,
                proof: proof.timestamp as u64,
            });
        }
        if self.root != proof.root {
            return Err(Failure::NodeRoot {
                node: format_hash(&self.root),
                proof: format_hash(&proof.root),
            });
        }
        if self.count != proof.count {
            return Err(Failure::NodeCount {
                node: self.count,
                proof: proof.count,
            });
        }
        Ok(())
    }
}

/// The node's accepted block at `height`. Every failure here means "could not check": the
/// URL, the connection, HTTP, or the node answering with an error (e.g. it has no block at
/// that height yet).
pub(super) fn fetch_block(url: &str, height: u64) -> anyhow::Result<NodeBlock> {
    let uri: Uri = url
        .parse()
        .with_context(|| format!("--rpc {url:?} is not a URL"))?;
    match uri.scheme_str() {
        Some("http") => {}
        Some("https") => bail!(
            "--rpc: https is not supported; use the node's plain http endpoint (e.g. through an \
             SSH tunnel)"
        ),
        _ => bail!("--rpc {url:?}: expected an http:// URL"),
    }
    let body = serde_json::json!({
        "jsonrpc": "2.0",
        "id": 1,
        "method": "timestampvm.getBlockByHeight",
        "params": {"height": height, "encoding": "hex"},
    })
    .to_string();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    // The timeout is made inside the runtime: its timer needs the runtime's clock.
    let reply = runtime
        .block_on(async { tokio::time::timeout(TIMEOUT, post(&uri, body)).await })
        .map_err(|_| anyhow!("no reply from {url} within {TIMEOUT:?}"))?
        .with_context(|| format!("asking {url}"))?;
    parse_reply(&reply, height).with_context(|| format!("the reply of {url}"))
}

/// One POST on a fresh connection; the reply body if the status is a success.
async fn post(uri: &Uri, body: String) -> anyhow::Result<Vec<u8>> {
    let authority = uri.authority().context("the URL has no host")?;
    // `host()` keeps an IPv6 literal's brackets, which the resolver does not take.
    let host = authority
        .host()
        .trim_start_matches('[')
        .trim_end_matches(']');
    let port = authority.port_u16().unwrap_or(80);
    let stream = TcpStream::connect((host, port))
        .await
        .with_context(|| format!("connecting to {authority}"))?;
    let (mut sender, connection) = http1::handshake(TokioIo::new(stream)).await?;
    tokio::spawn(async move {
        let _ = connection.await;
    });
    let path = uri.path_and_query().map_or("/", |p| p.as_str());
    let request = Request::post(path)
        .header(HOST, authority.as_str())
        .header(CONTENT_TYPE, "application/json")
        .body(body)?;
    let response = sender.send_request(request).await?;
    let status = response.status();
    let bytes = Limited::new(response.into_body(), MAX_REPLY_BYTES)
        .collect()
        .await
        .map_err(|e| anyhow!("reading the reply: {e}"))?
        .to_bytes();
    if !status.is_success() {
        let text = String::from_utf8_lossy(&bytes[..bytes.len().min(200)]).into_owned();
        bail!("HTTP {status}: {}", text.trim());
    }
    Ok(bytes.to_vec())
}

/// The JSON-RPC reply, as far as the check reads it.
#[derive(Deserialize)]
struct Reply {
    result: Option<BlockReply>,
    error: Option<ErrorObject>,
}

#[derive(Deserialize)]
struct ErrorObject {
    message: String,
}

/// getBlockByHeight's result members the check needs (methods.rs `BlockReply`).
#[derive(Deserialize)]
struct BlockReply {
    id: String,
    height: String,
    timestamp: String,
    data: String,
    root: Option<String>,
    count: Option<u64>,
}

fn parse_reply(bytes: &[u8], height: u64) -> anyhow::Result<NodeBlock> {
    let reply: Reply = serde_json::from_slice(bytes).context("not a JSON-RPC reply")?;
    if let Some(error) = reply.error {
        bail!("the node answered: {}", error.message);
    }
    let block = reply.result.context("a JSON-RPC reply without a result")?;
    if block.height != height.to_string() {
        bail!("asked for height {height}, got height {:?}", block.height);
    }
    let (format, root, count) = match (block.root, block.count) {
        (Some(root), Some(count)) => {
            let root = parse_hash(&root).with_context(|| format!("root {root:?}"))?;
            (BlockFormat::Batched, root, count)
        }
        (None, None) => {
            let data =
                parse_payload(&block.data).with_context(|| format!("data {:?}", block.data))?;
            (BlockFormat::Single, leaf_hash(&data), 1)
        }
        _ => bail!("a block with only one of `root` and `count`"),
    };
    Ok(NodeBlock {
        id: block
            .id
            .parse()
            .with_context(|| format!("id {:?}", block.id))?,
        timestamp: block
            .timestamp
            .parse()
            .with_context(|| format!("timestamp {:?}", block.timestamp))?,
        format,
        root,
        count,
    })
}

#[cfg(test)]
mod tests {
    //! Reading the node's replies of either format, and the comparison naming what differs.
    //! The HTTP exchange itself is driven in tests/verify_proof_cli.rs against a scripted node.

    use super::*;
    use stampvm::api::data::hex_checksummed;
    use stampvm::chain::Block;

    fn single_reply(block: &Block) -> String {
        format!(
            r#"{{"jsonrpc":"2.0","result":{{"timestamp":"{}","data":"{}","height":"{}","id":"{}","parentID":"{}"}},"id":1}}"#,
            block.timestamp as u64,
            hex_checksummed(&block.payloads()[0]),
            block.height,
            block.id(),
            block.parent,
        )
    }

    #[test]
    fn reads_a_single_payload_block_and_compares() {
        let block = Block::single(Id::EMPTY, 3, -2, [7; 32]);
        let node = parse_reply(single_reply(&block).as_bytes(), 3).unwrap();
        assert_eq!(node.format, BlockFormat::Single);
        assert_eq!((node.root, node.count), (leaf_hash(&[7; 32]), 1));
        let proof = Proof::in_block(&block, block.id(), 0).unwrap();
        assert_eq!(node.matches(&proof, BlockFormat::Single), Ok(()));
        assert_eq!(
            node.matches(&proof, BlockFormat::Batched),
            Err(Failure::NodeFormat {
                node: "single-payload",
                proof: "batched"
            })
        );
        let later = Proof {
            timestamp: 5,
            ..proof.clone()
        };
        assert_eq!(
            node.matches(&later, BlockFormat::Single),
            Err(Failure::NodeTimestamp {
                node: u64::MAX - 1,
                proof: 5
            })
        );
        let other = Proof {
            block_id: Id::EMPTY,
            ..proof
        };
        assert!(matches!(
            node.matches(&other, BlockFormat::Single),
            Err(Failure::NodeBlockId { height: 3, .. })
        ));
        assert!(parse_reply(single_reply(&block).as_bytes(), 4).is_err());
    }

    #[test]
    fn reads_a_batched_block_and_compares() {
        let block = Block::batched(Id::EMPTY, 2, 9, vec![[1; 32], [2; 32], [3; 32]]).unwrap();
        let root = block.root();
        let reply = format!(
            r#"{{"jsonrpc":"2.0","result":{{"timestamp":"9","data":"{}","height":"2","id":"{}","parentID":"{}","root":"{}","count":3}},"id":1}}"#,
            hex_checksummed(&root),
            block.id(),
            block.parent,
            format_hash(&root),
        );
        let node = parse_reply(reply.as_bytes(), 2).unwrap();
        assert_eq!(node.format, BlockFormat::Batched);
        let proof = Proof::in_block(&block, block.id(), 2).unwrap();
        assert_eq!(node.matches(&proof, BlockFormat::Batched), Ok(()));
        let recounted = Proof {
            count: 4,
            ..proof.clone()
        };
        assert_eq!(
            node.matches(&recounted, BlockFormat::Batched),
            Err(Failure::NodeCount { node: 3, proof: 4 })
        );
        let rerooted = Proof {
            root: [0; 32],
            ..proof
        };
        assert!(matches!(
            node.matches(&rerooted, BlockFormat::Batched),
            Err(Failure::NodeRoot { .. })
        ));
        let half = reply.replace(r#","count":3"#, "");
        assert!(parse_reply(half.as_bytes(), 2).is_err());
    }

    #[test]
    fn a_node_error_is_not_a_verdict() {
        let reply = br#"{"jsonrpc":"2.0","error":{"code":-32000,"message":"no accepted block at height 9","data":null},"id":1}"#;
        let error = parse_reply(reply, 9).unwrap_err();
        assert_eq!(
            error.to_string(),
            "the node answered: no accepted block at height 9"
        );
        assert!(parse_reply(b"<html>", 9).is_err());
    }

    #[test]
    fn only_http_urls() {
        for url in [
            "https://example.com/rpc",
            "ftp://x/",
            "not a url",
            "/ext/bc/x/rpc",
        ] {
            assert!(fetch_block(url, 1).is_err(), "{url}");
        }
    }
}
