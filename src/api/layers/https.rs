//! HTTPS: with `ALTFRAME_REQUIRE_HTTPS`, plain-HTTP requests are refused before anything runs;
//! answers over HTTPS carry `Strict-Transport-Security`. A request
//! counts as HTTPS when this process terminated TLS itself, or when it came through a trusted
//! proxy that says so in `X-Forwarded-Proto`. The header of anyone else is ignored: a client
//! could send it over plain HTTP. What it finds is left on the request as a [`Connection`]
//! (HTTPS or not, and the client's address), for the dashboard's cookies and sign-in limits.
use std::net::{IpAddr, SocketAddr};

use axum::extract::{ConnectInfo, Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use ipnet::IpNet;

use crate::api::error::ApiError;

/// An entry of `ALTFRAME_TRUSTED_PROXIES` that is neither an address nor a network.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not an IP address or network")]
pub struct BadProxy(pub String);

#[derive(Debug, Clone, Default)]
pub struct HttpsPolicy {
    /// Refuse requests that did not arrive over HTTPS.
    pub required: bool,
    /// This process terminates TLS: every request it sees arrived encrypted.
    pub terminates_tls: bool,
    /// Proxies whose `X-Forwarded-Proto` is believed.
    pub trusted_proxies: Vec<IpNet>,
}

impl HttpsPolicy {
    /// Parses `ALTFRAME_TRUSTED_PROXIES`: addresses or networks, comma separated.
    pub fn parse_proxies(spec: &str) -> Result<Vec<IpNet>, BadProxy> {
        spec.split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(|s| {
                s.parse::<IpNet>()
                    .or_else(|_| s.parse::<IpAddr>().map(IpNet::from))
                    .map_err(|_| BadProxy(s.to_string()))
            })
            .collect()
    }

    fn connection(&self, request: &Request) -> Connection {
        // An IPv4 client of a dual-stack listener shows as ::ffff:a.b.c.d: read as IPv4.
        let peer = request
            .extensions()
            .get::<ConnectInfo<SocketAddr>>()
            .map(|ConnectInfo(addr)| addr.ip().to_canonical());
        let trusted = peer.is_some_and(|ip| self.is_trusted(ip));
        Connection {
            https: self.terminates_tls || (trusted && self.forwarded_https(request)),
            client: if trusted {
                self.forwarded_client(request).or(peer)
            } else {
                peer
            },
        }
    }

    fn is_trusted(&self, ip: IpAddr) -> bool {
        self.trusted_proxies.iter().any(|n| n.contains(&ip))
    }

    /// The client as trusted proxies tell it: walking `X-Forwarded-For` from the right (the
    /// entry our own proxy added), past every address that is itself a trusted proxy (a CDN in
    /// front of a load balancer, say). Entries further left were written by the client.
    fn forwarded_client(&self, request: &Request) -> Option<IpAddr> {
        // Split as bytes: a client's own unreadable entry must not hide the ones appended to
        // it by our proxies.
        let entries: Vec<&[u8]> = request
            .headers()
            .get_all("x-forwarded-for")
            .iter()
            .flat_map(|v| v.as_bytes().split(|b| *b == b','))
            .collect();
        let mut last = None;
        for entry in entries.into_iter().rev() {
            let ip = std::str::from_utf8(entry)
                .ok()
                .and_then(|e| e.trim().parse::<IpAddr>().ok())?
                .to_canonical();
            last = Some(ip);
            if !self.is_trusted(ip) {
                break;
            }
        }
        last
    }

    fn forwarded_https(&self, request: &Request) -> bool {
        last_forwarded(request, "x-forwarded-proto")
            .is_some_and(|proto| proto.eq_ignore_ascii_case("https"))
    }
}

/// What a request's connection says about it, as a request extension: whether it arrived over
/// HTTPS, and the client's address (the peer's, or what a trusted proxy says it was).
#[derive(Debug, Clone, Copy)]
pub struct Connection {
    pub https: bool,
    pub client: Option<IpAddr>,
}

/// The last value of a header that proxies append to: the one our proxy wrote; earlier ones
/// (a proxy that appends rather than replaces) may be the client's own.
fn last_forwarded<'a>(request: &'a Request, name: &str) -> Option<&'a str> {
    request
        .headers()
        .get_all(name)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .next_back()
}

/// Health probes come from inside the deployment, usually over plain HTTP.
fn is_probe(request: &Request) -> bool {
    matches!(request.uri().path(), "/healthz" | "/readyz")
}

/// Refuses plain HTTP when HTTPS is required, and marks every answer to an HTTPS request with
/// `Strict-Transport-Security`, so that browsers keep to HTTPS from then on (a header the
/// standard says to ignore over plain HTTP, so it is not sent there).
pub async fn require_https(
    State(policy): State<std::sync::Arc<HttpsPolicy>>,
    mut request: Request,
    next: Next,
) -> Response {
    let connection = policy.connection(&request);
    let https = connection.https;
    request.extensions_mut().insert(connection);
    if policy.required && !https && !is_probe(&request) {
        return ApiError::new(StatusCode::FORBIDDEN, "HTTPS is required").into_response();
    }
    let mut response = next.run(request).await;
    if https {
        response.headers_mut().insert(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=31536000"),
        );
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn proxies_are_addresses_or_networks() {
        let proxies = HttpsPolicy::parse_proxies("127.0.0.1, 10.0.0.0/8,::1").unwrap();
        assert_eq!(proxies.len(), 3);
        assert!(proxies[1].contains(&"10.1.2.3".parse::<IpAddr>().unwrap()));
        let err = HttpsPolicy::parse_proxies("10.0.0.0/8,proxy.local").unwrap_err();
        assert!(err.to_string().contains("proxy.local"), "{err}");
    }

    #[test]
    fn the_client_is_the_first_address_left_of_the_trusted_proxies() {
        let policy = HttpsPolicy {
            trusted_proxies: HttpsPolicy::parse_proxies("10.0.0.0/8").unwrap(),
            ..HttpsPolicy::default()
        };
        let with = |header: &str| {
            let request = Request::builder()
                .header("x-forwarded-for", header)
                .body(axum::body::Body::empty())
                .unwrap();
            policy.forwarded_client(&request)
        };
        let client = "203.0.113.7".parse::<IpAddr>().ok();
        // One proxy; a CDN (trusted) in front of it; a client that forged an entry.
        assert_eq!(with("203.0.113.7"), client);
        assert_eq!(with("203.0.113.7, 10.1.1.1"), client);
        assert_eq!(with("198.51.100.1, 203.0.113.7, 10.1.1.1"), client);
        assert_eq!(with("not an address"), None);
        assert_eq!(with("::ffff:203.0.113.7, 10.1.1.1"), client);
    }
}
