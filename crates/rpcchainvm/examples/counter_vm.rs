//! A complete VM written with the SDK: an in-memory counter. Each block adds a number to the
//! counter; `POST {"add": n}` to the chain's endpoint queues an addition, `POST {}` reads the
//! counter. Nothing is stored: a restarted chain starts again from genesis.
//!
//! Block format (56 bytes, big-endian): parent ID (32) | height (8) | Unix seconds (8) | add (8).
//! A block's ID is the SHA-256 of its bytes. The genesis bytes are the counter's start value as
//! decimal text (empty: 0).
//!
//! Build it with `cargo build --example counter_vm -p rpcchainvm` and install
//! `target/debug/examples/counter_vm` as a node plugin; `rpcchainvm-host`'s `counter_vm` test
//! drives it like a node.

use rpcchainvm::http::{HeaderField, HttpHandler, HttpReply, HttpRequest};
use rpcchainvm::ids::Id;
use rpcchainvm::node_client::NodeClients;
use rpcchainvm::vm::{EngineState, Event};
use rpcchainvm::{
    AncestorsLimits, BlockInfo, BlockStatus, InitParams, ServeOptions, SharedHandler, Timestamp,
    Vm, VmError,
};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use tokio::sync::watch;

const BLOCK_LEN: usize = 56;

#[derive(Clone, Copy)]
struct Block {
    parent: Id,
    height: u64,
    time: i64,
    add: u64,
}

impl Block {
    fn encode(&self) -> Vec<u8> {
        let mut bytes = Vec::with_capacity(BLOCK_LEN);
        bytes.extend_from_slice(self.parent.as_bytes());
        bytes.extend_from_slice(&self.height.to_be_bytes());
        bytes.extend_from_slice(&self.time.to_be_bytes());
        bytes.extend_from_slice(&self.add.to_be_bytes());
        bytes
    }

    fn decode(bytes: &[u8]) -> Result<Block, VmError> {
        if bytes.len() != BLOCK_LEN {
            let len = bytes.len();
            return Err(VmError::Invalid(format!(
                "a block is {BLOCK_LEN} bytes, not {len}"
            )));
        }
        let word = |at: usize| <[u8; 8]>::try_from(&bytes[at..at + 8]).unwrap_or_default();
        let block = Block {
            parent: Id::from_slice(&bytes[..32]).unwrap_or(Id([0; 32])),
            height: u64::from_be_bytes(word(32)),
            time: i64::from_be_bytes(word(40)),
            add: u64::from_be_bytes(word(48)),
        };
        Timestamp::from_unix(block.time)?;
        Ok(block)
    }

    fn info(&self, status: BlockStatus) -> Result<BlockInfo, VmError> {
        let bytes = self.encode();
        Ok(BlockInfo {
            id: Id::sha256(&bytes),
            parent: self.parent,
            height: self.height,
            timestamp: Timestamp::from_unix(self.time)?,
            bytes,
            status,
        })
    }
}

/// One chain's state, behind one lock (calls are short and never await while holding it).
struct Chain {
    blocks: HashMap<Id, (Block, BlockStatus)>,
    accepted: Vec<Id>,
    preferred: Id,
    value: u64,
    node: NodeClients,
}

impl Chain {
    fn last_accepted(&self) -> Result<BlockInfo, VmError> {
        let id = self
            .accepted
            .last()
            .ok_or(VmError::Internal("no genesis".into()))?;
        let (block, status) = self.blocks[id];
        block.info(status)
    }
}

#[derive(Clone)]
struct CounterVm {
    chain: Arc<Mutex<Option<Chain>>>,
    /// The sum of additions waiting for a block; `wait_for_event` watches it.
    pending: Arc<watch::Sender<u64>>,
}

impl CounterVm {
    fn new() -> CounterVm {
        CounterVm {
            chain: Arc::new(Mutex::new(None)),
            pending: Arc::new(watch::channel(0).0),
        }
    }

    fn with_chain<T>(
        &self,
        f: impl FnOnce(&mut Chain) -> Result<T, VmError>,
    ) -> Result<T, VmError> {
        let mut chain = self
            .chain
            .lock()
            .map_err(|_| VmError::Internal("lock poisoned".into()))?;
        f(chain.as_mut().ok_or(VmError::NotInitialized)?)
    }
}

fn unix_now() -> i64 {
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH);
    now.map_or(0, |d| d.as_secs() as i64)
}

impl Vm for CounterVm {
    async fn initialize(&self, params: InitParams) -> Result<BlockInfo, VmError> {
        let text = String::from_utf8_lossy(&params.genesis_bytes);
        let start = match text.trim() {
            "" => 0,
            number => number
                .parse()
                .map_err(|e| VmError::Invalid(format!("genesis: {e}")))?,
        };
        let genesis = Block {
            parent: Id([0; 32]),
            height: 0,
            time: 0,
            add: start,
        };
        let info = genesis.info(BlockStatus::Accepted)?;
        let chain = Chain {
            blocks: HashMap::from([(info.id, (genesis, BlockStatus::Accepted))]),
            accepted: vec![info.id],
            preferred: info.id,
            value: start,
            node: params.node,
        };
        *self
            .chain
            .lock()
            .map_err(|_| VmError::Internal("lock poisoned".into()))? = Some(chain);
        Ok(info)
    }

    async fn set_state(&self, _state: EngineState) -> Result<BlockInfo, VmError> {
        self.with_chain(|chain| chain.last_accepted())
    }

    async fn shutdown(&self) {
        if let Ok(mut chain) = self.chain.lock() {
            chain.take();
        }
    }

    async fn build_block(&self) -> Result<BlockInfo, VmError> {
        self.with_chain(|chain| {
            let add = self.pending.send_replace(0);
            if add == 0 {
                return Err(VmError::Refused("nothing to add".into()));
            }
            let (parent, _) = chain.blocks[&chain.preferred];
            let time = unix_now().max(parent.time);
            let block = Block {
                parent: chain.preferred,
                height: parent.height + 1,
                time,
                add,
            };
            let info = block.info(BlockStatus::Processing)?;
            chain
                .blocks
                .insert(info.id, (block, BlockStatus::Processing));
            Ok(info)
        })
    }

    async fn parse_block(&self, bytes: &[u8]) -> Result<BlockInfo, VmError> {
        Block::decode(bytes)?.info(BlockStatus::Processing)
    }

    async fn parsed_block_status(&self, block: &BlockInfo) -> Result<BlockStatus, VmError> {
        self.with_chain(|chain| {
            Ok(match chain.accepted.get(block.height as usize) {
                Some(id) if *id == block.id => BlockStatus::Accepted,
                Some(_) => BlockStatus::Rejected,
                None => BlockStatus::Processing,
            })
        })
    }

    async fn get_block(&self, id: Id) -> Result<Option<BlockInfo>, VmError> {
        self.with_chain(|chain| chain.blocks.get(&id).map(|(b, s)| b.info(*s)).transpose())
    }

    async fn verify_block(&self, bytes: &[u8]) -> Result<Timestamp, VmError> {
        let block = Block::decode(bytes)?;
        self.with_chain(|chain| {
            let Some((parent, _)) = chain.blocks.get(&block.parent) else {
                return Err(VmError::Invalid("unknown parent".into()));
            };
            if block.height != parent.height + 1 || block.time < parent.time || block.add == 0 {
                return Err(VmError::Invalid("block breaks the chain's rules".into()));
            }
            let info = block.info(BlockStatus::Processing)?;
            chain
                .blocks
                .entry(info.id)
                .or_insert((block, BlockStatus::Processing));
            Ok(info.timestamp)
        })
    }

    async fn accept_block(&self, id: Id) -> Result<(), VmError> {
        self.with_chain(|chain| {
            let tip = *chain.accepted.last().unwrap_or(&id);
            match chain.blocks.get_mut(&id) {
                Some((block, status)) if block.parent == tip => {
                    *status = BlockStatus::Accepted;
                    chain.value += block.add;
                    chain.accepted.push(id);
                    Ok(())
                }
                _ => Err(VmError::Invalid(format!(
                    "block {id} does not extend the tip"
                ))),
            }
        })
    }

    async fn reject_block(&self, id: Id) -> Result<(), VmError> {
        self.with_chain(|chain| {
            chain.blocks.remove(&id);
            Ok(())
        })
    }

    async fn set_preference(&self, id: Id) -> Result<(), VmError> {
        self.with_chain(|chain| {
            chain.preferred = id;
            Ok(())
        })
    }

    async fn block_id_at_height(&self, height: u64) -> Result<Option<Id>, VmError> {
        self.with_chain(|chain| Ok(chain.accepted.get(height as usize).copied()))
    }

    async fn ancestors(&self, id: Id, limits: AncestorsLimits) -> Result<Vec<Vec<u8>>, VmError> {
        self.with_chain(|chain| {
            let mut found = Vec::new();
            let mut next = Some(id);
            while let Some((block, _)) = next.and_then(|id| chain.blocks.get(&id)) {
                if found.len() >= limits.max_blocks {
                    break;
                }
                found.push(block.encode());
                next = (block.height > 0).then_some(block.parent);
            }
            Ok(found)
        })
    }

    async fn health(&self) -> Result<String, VmError> {
        Ok(r#"{"healthy":true}"#.into())
    }

    async fn version(&self) -> Result<String, VmError> {
        Ok("counter_vm/0.1.0".into())
    }

    async fn create_handlers(&self) -> Result<Vec<(String, SharedHandler)>, VmError> {
        self.with_chain(|_| Ok(()))?;
        Ok(vec![(
            "".into(),
            SharedHandler::new(CounterApi(self.clone())),
        )])
    }

    async fn wait_for_event(&self) -> Result<Event, VmError> {
        let mut pending = self.pending.subscribe();
        let _ = pending.wait_for(|sum| *sum > 0).await;
        Ok(Event::BuildBlock)
    }
}

/// The chain's one JSON endpoint.
struct CounterApi(CounterVm);

impl HttpHandler for CounterApi {
    fn max_body_bytes(&self) -> usize {
        4096
    }

    async fn handle(&self, request: HttpRequest) -> HttpReply {
        let json = |status, body: String| HttpReply {
            status,
            headers: vec![HeaderField::new("Content-Type", "application/json")],
            body: body.into_bytes(),
        };
        let add = match serde_json::from_slice::<serde_json::Value>(&request.body) {
            Ok(value) => value.get("add").and_then(|add| add.as_u64()).unwrap_or(0),
            Err(e) => return json(400, serde_json::json!({"error": e.to_string()}).to_string()),
        };
        let vm = &self.0;
        let state =
            vm.with_chain(|chain| Ok((chain.value, chain.accepted.len(), chain.node.clone())));
        let Ok((value, accepted, node)) = state else {
            return json(503, r#"{"error":"the chain is not running"}"#.into());
        };
        if add > 0 {
            vm.pending.send_modify(|sum| *sum = sum.saturating_add(add));
            // Nodes before protocol 42 do not ask (WaitForEvent); they must be told.
            if node.uses_messenger() {
                let _ = node.notify_build_block().await;
            }
        }
        let pending = *vm.pending.borrow();
        let height = accepted - 1;
        json(
            200,
            serde_json::json!({"value": value, "height": height, "pending": pending}).to_string(),
        )
    }
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let Some((engine_addr, flavour)) = rpcchainvm::serve::engine_address() else {
        eprintln!("counter_vm is an Avalanche VM plugin: a node launches it");
        return std::process::ExitCode::from(2);
    };
    let choice = rpcchainvm::profile_choice::choose(None, false, flavour);
    let profile = match choice {
        Ok(profile) => profile,
        Err(e) => {
            eprintln!("counter_vm: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    let options = ServeOptions {
        engine_addr,
        profile,
        observer: None,
        version: "counter_vm/0.1.0".into(),
    };
    match rpcchainvm::serve(CounterVm::new(), options).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("counter_vm: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}
