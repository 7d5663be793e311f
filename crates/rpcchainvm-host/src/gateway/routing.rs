//! Which plugin server answers a request: the handlers a plugin returned, mounted as the node
//! mounts them (`/ext/bc/<chainID><prefix>`, `/ext/vm/<vmID><prefix>`), the header routes of
//! protocols 41 and 42+, and the bootstrapping gate (docs/spec/node-behaviour.md §8).

use super::forward::RequestError;
use super::{GatewayError, Mount, PathRoute, Routes, HTTP2_CHAIN_HEADER, ROUTE_HEADER};
use axum::http::request::Parts;
use axum::http::Version;
use rpcchainvm::ids::Id;
use rpcchainvm::pb::http::http_client::HttpClient;
use rpcchainvm::protocol::ExtraHandlerRpc;
use rpcchainvm::transport;
use tonic::transport::Channel;

/// The routes for `handlers` (`(prefix, server_addr)` pairs) under `mount`, and the first entry
/// that had to be skipped (logged, as the node logs it).
pub(super) fn path_routes(
    mount: Mount,
    handlers: Vec<(String, String)>,
) -> (Vec<PathRoute>, Option<GatewayError>) {
    let mut first_error = None;
    let mut routes = Vec::new();
    for (prefix, addr) in handlers {
        let valid = prefix.is_empty() || prefix.starts_with('/');
        let client = match valid {
            true => plugin_client(&addr),
            false => Err(GatewayError::InvalidPrefix(prefix.clone())),
        };
        match client {
            Ok(client) => routes.push((format!("{}{prefix}", mount.base_path()), client)),
            Err(error) => {
                tracing::warn!(?mount, %error, "HTTP handler not mounted");
                first_error.get_or_insert(error);
            }
        }
    }
    (routes, first_error)
}

/// One lazily connected client per plugin server, with the node's unlimited message sizes.
pub(super) fn plugin_client(addr: &str) -> Result<HttpClient<Channel>, GatewayError> {
    let channel = transport::connect_lazy(addr).map_err(|source| GatewayError::BadAddress {
        addr: addr.to_owned(),
        source,
    })?;
    Ok(HttpClient::new(channel)
        .max_decoding_message_size(usize::MAX)
        .max_encoding_message_size(usize::MAX))
}

impl Routes {
    /// Picks the plugin server for a request and applies the bootstrapping gate to chains.
    pub(super) fn resolve(&self, parts: &Parts) -> Result<HttpClient<Channel>, RequestError> {
        let table = self.read();
        let (mount, client) = match self.header_route(parts)? {
            Some(chain) => {
                let client = table
                    .chains
                    .get(&chain)
                    .and_then(|c| c.header_route.clone());
                (Mount::Chain(chain), client.ok_or(RequestError::NotFound)?)
            }
            None => table
                .paths
                .get(parts.uri.path())
                .cloned()
                .ok_or(RequestError::NotFound)?,
        };
        match mount {
            Mount::Vm(_) => Ok(client),
            Mount::Chain(chain) => match table.chains.get(&chain) {
                Some(entry) if entry.ready => Ok(client),
                _ => Err(RequestError::NotReady),
            },
        }
    }

    /// The chain whose header-routed server takes this request, if the profile routes it by
    /// header: at 41 every HTTP/2 request, by `chain-id` (path routes are unreachable over
    /// HTTP/2 there, so a missing header is a 404); from 42 any request carrying
    /// `Avalanche-Api-Route`. An empty header is a 400, anything but a chain ID a 404.
    pub(super) fn header_route(&self, parts: &Parts) -> Result<Option<Id>, RequestError> {
        let header = match self.profile.extra_handler_rpc() {
            ExtraHandlerRpc::None => return Ok(None),
            ExtraHandlerRpc::NewHttpHandler => ROUTE_HEADER,
            ExtraHandlerRpc::CreateHttp2Handler if parts.version != Version::HTTP_2 => {
                return Ok(None)
            }
            ExtraHandlerRpc::CreateHttp2Handler => {
                let value = parts.headers.get(HTTP2_CHAIN_HEADER);
                let value = value.ok_or(RequestError::NotFound)?;
                return parse_route_header(HTTP2_CHAIN_HEADER, value.as_bytes()).map(Some);
            }
        };
        parts
            .headers
            .get(header)
            .map(|value| parse_route_header(header, value.as_bytes()))
            .transpose()
    }
}

/// Reads a routing header (`Avalanche-Api-Route`, or `chain-id` at 41): an empty value is a
/// 400, anything but a chain ID a 404.
fn parse_route_header(name: &'static str, value: &[u8]) -> Result<Id, RequestError> {
    let text = std::str::from_utf8(value)
        .map_err(|_| RequestError::NotFound)?
        .trim();
    if text.is_empty() {
        return Err(RequestError::EmptyRouteHeader(name));
    }
    text.parse().map_err(|_| RequestError::NotFound)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn route_header_parsing() {
        let chain = Id::from_name("timestamp").unwrap();
        let parse = |value: &[u8]| parse_route_header(ROUTE_HEADER, value);
        assert_eq!(parse(chain.to_string().as_bytes()).unwrap(), chain);
        assert!(matches!(
            parse(b" "),
            Err(RequestError::EmptyRouteHeader(ROUTE_HEADER))
        ));
        assert!(matches!(parse(b"nonsense"), Err(RequestError::NotFound)));
        assert!(matches!(parse(&[0xff]), Err(RequestError::NotFound)));
    }
}
