//! The node's `rpcdb.Database` server: the database a plugin reaches through `InitializeRequest`
//! field 13 (profiles.md 3.1; wire-45.md 2.6). AvalancheGo serves each chain a prefixed view of
//! its own LevelDB/Pebble; this host serves each chain an in-memory ordered map instead, with the
//! behaviour Go plugins and `avalanche-types` clients rely on (the `store` module):
//!
//! - database errors travel inside OK responses: `Get` of a missing key answers
//!   `err: ERROR_NOT_FOUND`, `Has` answers `false`;
//! - `WriteBatch` applies all of its puts, then all of its deletes, or nothing;
//! - iterators walk a snapshot of the keys that start with `prefix` and are not below `start`, in
//!   key order; `IteratorNext` answers batches and an empty batch at the end; release frees one;
//! - after `Close`, every answer with an `err` field says `ERROR_CLOSED`, `IteratorNext` answers an
//!   empty batch and `HealthCheck` fails with "database closed" (its message has no `err` field);
//! - an iterator ID never handed out (or released) fails `IteratorNext`/`IteratorError` with
//!   "unknown iterator", as in Go.
//!
//! Only the `Database` service is served: the plugins this host drives never call the standard
//! `grpc.health.v1` service on the database address (timestampvm 0.0.18's client has no such call).

mod store;
#[cfg(test)]
mod tests;

use rpcchainvm::pb::rpcdb::{self as pb, database_server};
use rpcchainvm::shutdown::Shutdown;
use rpcchainvm::transport;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use store::{DbError, Store};
use tonic::{Request, Response, Status};

pub use store::ITERATION_BATCH_BYTES;

/// One chain's database service; [`NodeDatabase::serve`] runs it on a loopback port.
#[derive(Debug, Clone, Default)]
pub struct NodeDatabase {
    store: Arc<Mutex<Store>>,
}

/// A running [`NodeDatabase`]: its address (for `ChainParams::db_server_addr`) and a read-only
/// view of what the plugin stored. Serving stops when the `Shutdown` given to `serve` fires.
#[derive(Debug, Clone)]
pub struct NodeDatabaseHandle {
    addr: SocketAddr,
    store: Arc<Mutex<Store>>,
}

impl NodeDatabase {
    /// Binds 127.0.0.1 on an ephemeral port and serves an empty database until `shutdown`.
    pub async fn serve(shutdown: Shutdown) -> std::io::Result<NodeDatabaseHandle> {
        let (listener, addr) = transport::bind_loopback().await?;
        let database = NodeDatabase::default();
        let handle = NodeDatabaseHandle {
            addr,
            store: database.store.clone(),
        };
        // Like the node's servers: no size limit, since a plugin may store large values.
        let service = database_server::DatabaseServer::new(database)
            .max_decoding_message_size(usize::MAX)
            .max_encoding_message_size(usize::MAX);
        tokio::spawn(async move {
            let result = tonic::transport::Server::builder()
                .add_service(service)
                .serve_with_incoming_shutdown(transport::incoming(listener), shutdown.wait())
                .await;
            if let Err(error) = result {
                tracing::warn!(%error, "rpcdb server failed");
            }
        });
        tracing::debug!(%addr, "rpcdb server listening");
        Ok(handle)
    }

    fn store(&self) -> MutexGuard<'_, Store> {
        lock(&self.store)
    }
}

/// The store even if a panic poisoned the lock: no `Store` method can stop halfway through a
/// change, so its data is consistent either way, and no request should fail for it.
fn lock(store: &Mutex<Store>) -> MutexGuard<'_, Store> {
    store.lock().unwrap_or_else(PoisonError::into_inner)
}

impl NodeDatabaseHandle {
    /// Where the plugin dials the database (`host:port`).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The value stored under `key`; `None` if absent or the database was closed.
    pub fn get(&self, key: &[u8]) -> Option<Vec<u8>> {
        lock(&self.store).get(key).ok()
    }

    /// How many keys are stored (0 once closed).
    pub fn len(&self) -> usize {
        lock(&self.store).len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Every stored key, in order.
    pub fn keys(&self) -> Vec<Vec<u8>> {
        lock(&self.store).keys()
    }

    /// Whether the plugin called `Close`.
    pub fn is_closed(&self) -> bool {
        lock(&self.store).is_closed()
    }
}

/// The `rpcdb.Error` number for a result.
fn code(result: Result<(), DbError>) -> i32 {
    let error = match result {
        Ok(()) => pb::Error::Unspecified,
        Err(DbError::Closed) => pb::Error::Closed,
        Err(DbError::NotFound) => pb::Error::NotFound,
    };
    error as i32
}

/// A failure of the call itself; Go sends its plain errors as code Unknown with the text.
fn failure(error: impl std::fmt::Display) -> Status {
    Status::unknown(error.to_string())
}

#[tonic::async_trait]
impl database_server::Database for NodeDatabase {
    async fn has(
        &self,
        request: Request<pb::HasRequest>,
    ) -> Result<Response<pb::HasResponse>, Status> {
        let result = self.store().has(&request.into_inner().key);
        Ok(Response::new(pb::HasResponse {
            has: result.unwrap_or(false),
            err: code(result.map(drop)),
        }))
    }

    async fn get(
        &self,
        request: Request<pb::GetRequest>,
    ) -> Result<Response<pb::GetResponse>, Status> {
        let (value, err) = match self.store().get(&request.into_inner().key) {
            Ok(value) => (value, code(Ok(()))),
            Err(error) => (Vec::new(), code(Err(error))),
        };
        Ok(Response::new(pb::GetResponse { value, err }))
    }

    async fn put(
        &self,
        request: Request<pb::PutRequest>,
    ) -> Result<Response<pb::PutResponse>, Status> {
        let pb::PutRequest { key, value } = request.into_inner();
        let err = code(self.store().put(key, value));
        Ok(Response::new(pb::PutResponse { err }))
    }

    async fn delete(
        &self,
        request: Request<pb::DeleteRequest>,
    ) -> Result<Response<pb::DeleteResponse>, Status> {
        let err = code(self.store().delete(&request.into_inner().key));
        Ok(Response::new(pb::DeleteResponse { err }))
    }

    async fn compact(
        &self,
        _request: Request<pb::CompactRequest>,
    ) -> Result<Response<pb::CompactResponse>, Status> {
        let err = code(self.store().compact());
        Ok(Response::new(pb::CompactResponse { err }))
    }

    async fn close(
        &self,
        _request: Request<pb::CloseRequest>,
    ) -> Result<Response<pb::CloseResponse>, Status> {
        let err = code(self.store().close());
        Ok(Response::new(pb::CloseResponse { err }))
    }

    async fn health_check(
        &self,
        _request: Request<()>,
    ) -> Result<Response<pb::HealthCheckResponse>, Status> {
        let health = self.store().health().map_err(failure)?;
        let details = serde_json::json!({ "database": "memory", "keys": health.keys, "openIterators": health.open_iterators });
        Ok(Response::new(pb::HealthCheckResponse {
            details: details.to_string().into_bytes(),
        }))
    }

    async fn write_batch(
        &self,
        request: Request<pb::WriteBatchRequest>,
    ) -> Result<Response<pb::WriteBatchResponse>, Status> {
        let batch = request.into_inner();
        let puts = batch
            .puts
            .into_iter()
            .map(|put| (put.key, put.value))
            .collect();
        let deletes = batch.deletes.into_iter().map(|delete| delete.key).collect();
        let err = code(self.store().write_batch(puts, deletes));
        Ok(Response::new(pb::WriteBatchResponse { err }))
    }

    async fn new_iterator_with_start_and_prefix(
        &self,
        request: Request<pb::NewIteratorWithStartAndPrefixRequest>,
    ) -> Result<Response<pb::NewIteratorWithStartAndPrefixResponse>, Status> {
        let pb::NewIteratorWithStartAndPrefixRequest { start, prefix } = request.into_inner();
        let id = self.store().new_iterator(&start, &prefix);
        Ok(Response::new(pb::NewIteratorWithStartAndPrefixResponse {
            id,
        }))
    }

    async fn iterator_next(
        &self,
        request: Request<pb::IteratorNextRequest>,
    ) -> Result<Response<pb::IteratorNextResponse>, Status> {
        let batch = self
            .store()
            .iterator_next(request.into_inner().id)
            .map_err(failure)?;
        let data = batch
            .into_iter()
            .map(|(key, value)| pb::PutRequest { key, value })
            .collect();
        Ok(Response::new(pb::IteratorNextResponse { data }))
    }

    async fn iterator_error(
        &self,
        request: Request<pb::IteratorErrorRequest>,
    ) -> Result<Response<pb::IteratorErrorResponse>, Status> {
        let result = self
            .store()
            .iterator_error(request.into_inner().id)
            .map_err(failure)?;
        Ok(Response::new(pb::IteratorErrorResponse {
            err: code(result),
        }))
    }

    async fn iterator_release(
        &self,
        request: Request<pb::IteratorReleaseRequest>,
    ) -> Result<Response<pb::IteratorReleaseResponse>, Status> {
        let err = code(self.store().iterator_release(request.into_inner().id));
        Ok(Response::new(pb::IteratorReleaseResponse { err }))
    }
}
