//! Outbound HTTP for image URLs (and later webhooks) that cannot be turned against the
//! network it runs in: non-public addresses are refused after DNS resolution, the checked
//! address is the one connected to, and every redirect hop is checked again. The operator may
//! name hosts that are fetched although they are not public ([`AllowedHosts`]).
mod address;
mod allowed;

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use reqwest::redirect::Policy;
use url::Url;

pub use address::is_public;
pub use allowed::{AllowedHosts, BadHost};

#[derive(Debug, Clone)]
pub struct OutboundConfig {
    /// Every non-public address is allowed (development and tests).
    pub allow_private_networks: bool,
    /// These hosts are allowed although they are not public; the rest stays refused.
    pub allowed_hosts: AllowedHosts,
    pub timeout: Duration,
    pub max_redirects: usize,
}

#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    #[error("{0} is not a valid http(s) URL")]
    BadUrl(String),
    #[error("{0} points to a private or reserved network address, which is not allowed")]
    Refused(String),
    #[error("could not fetch {url}: {reason}")]
    Unreachable { url: String, reason: String },
    #[error("fetching {0} timed out")]
    Timeout(String),
    #[error("{url} answered HTTP {status}")]
    Status { url: String, status: u16 },
    #[error("{url} redirected more than {max} times")]
    TooManyRedirects { url: String, max: usize },
    #[error("the response from {url} is larger than {max_bytes} bytes")]
    TooLarge { url: String, max_bytes: usize },
}

/// A body fetched with [`Outbound::get`], and where it came from in the end.
#[derive(Debug, Clone)]
pub struct Fetched {
    /// The URL that answered, after any redirects.
    pub url: Url,
    /// The answer's `Content-Type`, as sent.
    pub content_type: Option<String>,
    pub body: Vec<u8>,
}

#[derive(Clone)]
pub struct Outbound {
    client: reqwest::Client,
    config: OutboundConfig,
}

impl Outbound {
    pub fn new(config: OutboundConfig) -> Result<Outbound, reqwest::Error> {
        let client = reqwest::Client::builder()
            .redirect(Policy::none())
            .no_proxy()
            .timeout(config.timeout)
            .connect_timeout(config.timeout)
            .user_agent(concat!("AltFrame/", env!("CARGO_PKG_VERSION")))
            .dns_resolver(Arc::new(CheckedResolver {
                allow_private: config.allow_private_networks,
                allowed_hosts: config.allowed_hosts.clone(),
            }))
            .build()?;
        Ok(Outbound { client, config })
    }

    /// GETs `url`, following redirects by hand, and returns at most `max_bytes` of body.
    pub async fn get_bytes(&self, url: &str, max_bytes: usize) -> Result<Vec<u8>, FetchError> {
        self.get(url, max_bytes).await.map(|fetched| fetched.body)
    }

    /// [`Outbound::get_bytes`], with the URL that answered and its `Content-Type`.
    pub async fn get(&self, url: &str, max_bytes: usize) -> Result<Fetched, FetchError> {
        let mut current = self.checked_url(url)?;
        for _ in 0..=self.config.max_redirects {
            let response = self
                .client
                .get(current.clone())
                .send()
                .await
                .map_err(|e| classify(current.as_str(), e))?;
            let status = response.status();
            if status.is_redirection() {
                let location = response
                    .headers()
                    .get(reqwest::header::LOCATION)
                    .and_then(|v| v.to_str().ok())
                    .ok_or_else(|| FetchError::Unreachable {
                        url: current.to_string(),
                        reason: format!("HTTP {} without a Location", status.as_u16()),
                    })?;
                let next = current
                    .join(location)
                    .map_err(|_| FetchError::BadUrl(location.to_string()))?;
                current = self.checked_url(next.as_str())?;
                continue;
            }
            if !status.is_success() {
                return Err(FetchError::Status {
                    url: current.to_string(),
                    status: status.as_u16(),
                });
            }
            let content_type = response
                .headers()
                .get(reqwest::header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string);
            let body = read_capped(current.as_str(), response, max_bytes).await?;
            return Ok(Fetched {
                url: current,
                content_type,
                body,
            });
        }
        Err(FetchError::TooManyRedirects {
            url: url.to_string(),
            max: self.config.max_redirects,
        })
    }

    /// POSTs a JSON body once, without following redirects (a webhook receiver that redirects
    /// has not accepted the delivery). Returns the status and any `Retry-After` seconds.
    pub async fn post_json(
        &self,
        url: &str,
        headers: &[(&str, String)],
        body: Vec<u8>,
        timeout: std::time::Duration,
    ) -> Result<(u16, Option<u64>), FetchError> {
        let url = self.checked_url(url)?;
        let mut request = self
            .client
            .post(url.clone())
            .timeout(timeout)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(body);
        for (name, value) in headers {
            request = request.header(*name, value);
        }
        let response = request
            .send()
            .await
            .map_err(|e| classify(url.as_str(), e))?;
        let retry_after = response
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse().ok());
        Ok((response.status().as_u16(), retry_after))
    }

    /// Checks a URL the way a fetch would, without fetching: for webhook URLs at submission.
    pub fn check_url(&self, raw: &str) -> Result<(), FetchError> {
        self.checked_url(raw).map(|_| ())
    }

    /// Parses the URL and checks a literal IP host, which never reaches the resolver.
    fn checked_url(&self, raw: &str) -> Result<Url, FetchError> {
        let url = Url::parse(raw).map_err(|_| FetchError::BadUrl(raw.to_string()))?;
        let Some(host) = url.host() else {
            return Err(FetchError::BadUrl(raw.to_string()));
        };
        if !matches!(url.scheme(), "http" | "https") {
            return Err(FetchError::BadUrl(raw.to_string()));
        }
        if !self.config.allow_private_networks && !self.config.allowed_hosts.allows(&host) {
            let literal = match host {
                url::Host::Ipv4(ip) => Some(IpAddr::V4(ip)),
                url::Host::Ipv6(ip) => Some(IpAddr::V6(ip)),
                url::Host::Domain(_) => None,
            };
            if literal.is_some_and(|ip| !is_public(ip)) {
                return Err(FetchError::Refused(raw.to_string()));
            }
        }
        Ok(url)
    }
}

async fn read_capped(
    url: &str,
    mut response: reqwest::Response,
    max_bytes: usize,
) -> Result<Vec<u8>, FetchError> {
    let too_large = || FetchError::TooLarge {
        url: url.to_string(),
        max_bytes,
    };
    if response
        .content_length()
        .is_some_and(|n| n > max_bytes as u64)
    {
        return Err(too_large());
    }
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(|e| classify(url, e))? {
        if body.len() + chunk.len() > max_bytes {
            return Err(too_large());
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

fn classify(url: &str, e: reqwest::Error) -> FetchError {
    if e.is_timeout() {
        return FetchError::Timeout(url.to_string());
    }
    let mut reason = e.to_string();
    let mut source = std::error::Error::source(&e);
    while let Some(s) = source {
        if s.to_string().contains(address::REFUSED_MARKER) {
            return FetchError::Refused(url.to_string());
        }
        reason = s.to_string();
        source = s.source();
    }
    FetchError::Unreachable {
        url: url.to_string(),
        reason,
    }
}

/// Resolves host names and keeps only public addresses (every address of a host the operator
/// allowed), so the connection goes to an address that was checked, whatever a second DNS
/// answer would say.
struct CheckedResolver {
    allow_private: bool,
    allowed_hosts: AllowedHosts,
}

impl Resolve for CheckedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let allow_private = self.allow_private || self.allowed_hosts.allows_name(name.as_str());
        Box::pin(async move {
            let host = name.as_str().to_string();
            let found: Vec<SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let allowed: Vec<SocketAddr> = found
                .into_iter()
                .filter(|a| allow_private || is_public(a.ip()))
                .collect();
            if allowed.is_empty() {
                return Err(format!("{host}: {}", address::REFUSED_MARKER).into());
            }
            let addrs: Addrs = Box::new(allowed.into_iter());
            Ok(addrs)
        })
    }
}

#[cfg(test)]
mod tests {
    use std::str::FromStr;

    use super::*;

    fn outbound(allowed: &str) -> Outbound {
        Outbound::new(OutboundConfig {
            allow_private_networks: false,
            allowed_hosts: allowed.parse().unwrap(),
            timeout: Duration::from_secs(5),
            max_redirects: 5,
        })
        .unwrap()
    }

    #[test]
    fn an_allowed_address_passes_and_every_other_private_one_is_refused() {
        let allowing = outbound("127.0.0.1, cms.intranet");
        assert!(allowing.check_url("http://127.0.0.1:8080/page").is_ok());
        assert!(allowing.check_url("http://cms.intranet/page").is_ok());
        for refused in [
            "http://127.0.0.2/",
            "http://10.0.0.1/",
            "http://169.254.169.254/latest/meta-data",
            "http://[::1]/",
        ] {
            assert!(
                matches!(allowing.check_url(refused), Err(FetchError::Refused(_))),
                "{refused}"
            );
        }
        assert!(matches!(
            outbound("").check_url("http://127.0.0.1/"),
            Err(FetchError::Refused(_))
        ));
    }

    #[tokio::test]
    async fn the_resolver_gives_private_addresses_only_for_an_allowed_name() {
        let resolver = |allowed: &str| CheckedResolver {
            allow_private: false,
            allowed_hosts: allowed.parse().unwrap(),
        };
        let localhost = || Name::from_str("localhost").unwrap();
        let found: Vec<SocketAddr> = resolver("localhost")
            .resolve(localhost())
            .await
            .unwrap()
            .collect();
        assert!(found.iter().all(|a| a.ip().is_loopback()) && !found.is_empty());
        // The address it resolves to being allowed does not allow the name.
        let refused = resolver("127.0.0.1").resolve(localhost()).await;
        let error = refused.err().expect("refused").to_string();
        assert!(error.contains(address::REFUSED_MARKER), "{error}");
    }
}
