//! Requests and replies in the shapes the wire carries: Go's `net/http` as the node fills in the
//! `http.HTTP` messages (docs/spec/node-behaviour.md sections 8.3-8.4, wire-45.md 2.5). The
//! gateway and the `Handle` callbacks both build requests here, and turn the plugin's reply back
//! into an HTTP response here, so the two RPC paths cannot drift apart.

use axum::body::{Body, Bytes};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, HeaderName, HeaderValue, Method, StatusCode, Version};
use axum::response::Response;
use rpcchainvm::pb::http as pb;
use rpcchainvm::protocol::Profile;
use std::net::SocketAddr;

/// Go's `textproto.CanonicalMIMEHeaderKey`: `content-type` → `Content-Type`. Keys with bytes
/// outside the HTTP token set are returned unchanged, as Go does.
pub(super) fn canonical_header_key(key: &str) -> String {
    let token = |b: u8| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b);
    if !key.bytes().all(token) {
        return key.to_owned();
    }
    let mut upper = true;
    key.chars()
        .map(|c| {
            let out = if upper {
                c.to_ascii_uppercase()
            } else {
                c.to_ascii_lowercase()
            };
            upper = c == '-';
            out
        })
        .collect()
}

/// One header of a Go header list.
pub(super) fn element(key: &str, values: Vec<String>) -> pb::Element {
    pb::Element {
        key: key.to_owned(),
        values,
    }
}

/// Request headers as Go's `Request.Header`: canonical keys, values in order, without `Host`
/// and `Transfer-Encoding` (Go moves those into their own fields).
pub(super) fn header_elements(headers: &HeaderMap) -> Vec<pb::Element> {
    headers
        .keys()
        .filter(|k| *k != header::HOST && *k != header::TRANSFER_ENCODING)
        .map(|key| {
            let values = headers.get_all(key).iter();
            let values = values.map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned());
            element(&canonical_header_key(key.as_str()), values.collect())
        })
        .collect()
}

/// Go's `RequestURI`: the raw target (`/path?query`), absolute-form only for HTTP/1 proxies.
pub(super) fn request_target(parts: &Parts) -> String {
    if parts.version < Version::HTTP_2 && parts.uri.scheme().is_some() {
        return parts.uri.to_string();
    }
    parts
        .uri
        .path_and_query()
        .map_or_else(|| "/".to_owned(), |pq| pq.as_str().to_owned())
}

/// The header list the node answers with, given the ones it had preset (`node-id`, …) and the
/// plugin's: up to 39 each returned key replaces that key and the other preset ones stay; from 40
/// the returned list replaces the whole map (node-behaviour.md 8.3).
pub(super) fn node_headers(
    profile: Profile,
    preset: Vec<pb::Element>,
    returned: Vec<pb::Element>,
) -> Vec<pb::Element> {
    if !profile.node_merges_response_headers() {
        return returned;
    }
    let mut merged: Vec<pb::Element> = preset
        .into_iter()
        .filter(|kept| {
            !returned
                .iter()
                .any(|r| r.key.eq_ignore_ascii_case(&kept.key))
        })
        .collect();
    merged.extend(returned);
    merged
}

/// The plugin's answer, its headers already as the node keeps them ([`node_headers`]), as an
/// HTTP response; unrepresentable names/values are dropped, and framing headers that would
/// contradict the buffered body are left to hyper.
pub(super) fn build_response(method: &Method, reply: pb::HandleSimpleHttpResponse) -> Response {
    let pb::HandleSimpleHttpResponse {
        code,
        headers,
        body,
    } = reply;
    let status = u16::try_from(code)
        .ok()
        .filter(|c| (100..=599).contains(c))
        .and_then(|c| StatusCode::from_u16(c).ok())
        .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut map = HeaderMap::new();
    for element in &headers {
        let Ok(name) = HeaderName::from_bytes(element.key.as_bytes()) else {
            tracing::debug!(key = %element.key, "dropping invalid response header name");
            continue;
        };
        for value in &element.values {
            match HeaderValue::from_str(value) {
                Ok(value) => {
                    map.append(name.clone(), value);
                }
                Err(_) => {
                    tracing::debug!(key = %element.key, "dropping invalid response header value")
                }
            }
        }
    }
    map.remove(header::TRANSFER_ENCODING);
    let length_matches = map
        .get(header::CONTENT_LENGTH)
        .is_some_and(|v| v.as_bytes() == body.len().to_string().as_bytes());
    if !length_matches && method != Method::HEAD {
        map.remove(header::CONTENT_LENGTH);
    }
    let mut response = Response::new(Body::from(Bytes::from(body)));
    *response.status_mut() = status;
    *response.headers_mut() = map;
    response
}

/// The `http.Request` Go's server would have built for this request.
pub(super) fn go_request(parts: &Parts, remote: SocketAddr, body_len: usize) -> pb::Request {
    let (proto, major, minor) = match parts.version {
        Version::HTTP_09 => ("HTTP/0.9", 0, 9),
        Version::HTTP_10 => ("HTTP/1.0", 1, 0),
        Version::HTTP_2 => ("HTTP/2.0", 2, 0),
        Version::HTTP_3 => ("HTTP/3.0", 3, 0),
        _ => ("HTTP/1.1", 1, 1),
    };
    let text = |name| {
        parts
            .headers
            .get(name)
            .and_then(|v: &HeaderValue| v.to_str().ok())
    };
    let content_length = text(header::CONTENT_LENGTH)
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(if body_len == 0 { 0 } else { -1 });
    let host = parts
        .uri
        .authority()
        .map(|a| a.as_str())
        .or(text(header::HOST));
    let raw_path = parts.uri.path();
    let path = percent_decode(raw_path);
    pb::Request {
        method: parts.method.to_string(),
        url: Some(pb::Url {
            raw_path: if path == raw_path {
                String::new()
            } else {
                raw_path.to_owned()
            },
            path,
            raw_query: parts.uri.query().unwrap_or_default().to_owned(),
            ..Default::default()
        }),
        proto: proto.to_owned(),
        proto_major: major,
        proto_minor: minor,
        header: header_elements(&parts.headers),
        content_length,
        transfer_encoding: text(header::TRANSFER_ENCODING)
            .map(str::to_owned)
            .into_iter()
            .collect(),
        host: host.unwrap_or_default().to_owned(),
        remote_addr: remote.to_string(),
        request_uri: request_target(parts),
        ..Default::default()
    }
}

/// Decodes `%XX` escapes as Go's `URL.Path` holds them; malformed escapes stay as written.
fn percent_decode(raw: &str) -> String {
    let bytes = raw.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok());
        match (bytes[i], hex.and_then(|h| u8::from_str_radix(h, 16).ok())) {
            (b'%', Some(byte)) => {
                out.push(byte);
                i += 3;
            }
            (byte, _) => {
                out.push(byte);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_keys_follow_go() {
        assert_eq!(canonical_header_key("content-type"), "Content-Type");
        assert_eq!(canonical_header_key("node-id"), "Node-Id");
        assert_eq!(canonical_header_key("X-FORWARDED-FOR"), "X-Forwarded-For");
        assert_eq!(
            canonical_header_key("avalanche-api-route"),
            "Avalanche-Api-Route"
        );
        assert_eq!(canonical_header_key("-x--y"), "-X--Y");
        // Not a token: Go leaves it alone.
        assert_eq!(canonical_header_key("bad key"), "bad key");
    }

    #[test]
    fn responses_are_sanitised() {
        let reply = |code, headers| pb::HandleSimpleHttpResponse {
            code,
            headers,
            body: b"abc".to_vec(),
        };
        let headers = vec![
            element("X-Ok", vec!["1".into()]),
            element("bad key", vec!["x".into()]),
            element("Content-Length", vec!["99".into()]),
        ];
        let response = build_response(&Method::GET, reply(42, headers));
        assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(response.headers().len(), 1, "{:?}", response.headers());
        let response = build_response(&Method::GET, reply(204, Vec::new()));
        assert_eq!(response.status(), StatusCode::NO_CONTENT);
    }

    // Up to 39 the node keeps its preset headers unless the plugin names them; from 40 only
    // what the plugin returned is left.
    #[test]
    fn preset_headers_are_merged_up_to_39_and_replaced_from_40() {
        use rpcchainvm::protocol::HostFlavour;
        let preset = || {
            vec![
                element("Node-Id", vec!["NodeID-x".into()]),
                element("Vary", vec!["Origin".into()]),
            ]
        };
        let returned = || vec![element("vary", vec!["Accept".into()])];
        let keys = |number| {
            let profile = Profile::new(number, HostFlavour::AvalancheGo).unwrap();
            let headers = node_headers(profile, preset(), returned());
            headers
                .iter()
                .map(|h| format!("{}={}", h.key, h.values.join(",")))
                .collect::<Vec<_>>()
        };
        assert_eq!(keys(39), ["Node-Id=NodeID-x", "vary=Accept"]);
        assert_eq!(keys(40), ["vary=Accept"]);
        assert_eq!(keys(45), ["vary=Accept"]);
    }

    #[test]
    fn paths_are_decoded_like_go() {
        assert_eq!(percent_decode("/a%20b%zz%4"), "/a b%zz%4");
        assert_eq!(percent_decode("/ext/bc/x"), "/ext/bc/x");
    }

    #[test]
    fn go_request_fields() {
        let request = axum::http::Request::post("/p%20q?x=1")
            .header("host", "example:9650")
            .header("content-length", "3")
            .header("x-test", "a")
            .body(())
            .unwrap();
        let (parts, ()) = request.into_parts();
        let go = go_request(&parts, "127.0.0.1:5".parse().unwrap(), 3);
        assert_eq!(
            (go.proto.as_str(), go.proto_major, go.proto_minor),
            ("HTTP/1.1", 1, 1)
        );
        let url = go.url.unwrap();
        assert_eq!(
            (url.path.as_str(), url.raw_path.as_str()),
            ("/p q", "/p%20q")
        );
        assert_eq!(url.raw_query, "x=1");
        assert_eq!((go.host.as_str(), go.content_length), ("example:9650", 3));
        assert_eq!(go.request_uri, "/p%20q?x=1");
        assert_eq!(go.remote_addr, "127.0.0.1:5");
        let keys: Vec<&str> = go.header.iter().map(|e| e.key.as_str()).collect();
        assert!(
            keys.contains(&"X-Test") && !keys.contains(&"Host"),
            "{keys:?}"
        );
    }
}
