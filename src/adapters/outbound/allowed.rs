//! Hosts an operator lets outbound fetches reach although they are not public: an intranet
//! CMS whose pages are scanned, an image server on the private network. Each is named
//! exactly, by host name or by IP address; everything else stays refused.
use std::net::IpAddr;
use std::str::FromStr;

/// Host names (lower case) and IP addresses fetched even though they resolve to, or are,
/// non-public addresses.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AllowedHosts {
    names: Vec<String>,
    ips: Vec<IpAddr>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not a host name or an IP address (give hosts without a scheme, port or path, comma separated)")]
pub struct BadHost(pub String);

impl AllowedHosts {
    pub fn is_empty(&self) -> bool {
        self.names.is_empty() && self.ips.is_empty()
    }

    /// Whether a URL's host, as the `url` crate gives it, is on the list.
    pub fn allows(&self, host: &url::Host<&str>) -> bool {
        match host {
            url::Host::Domain(name) => self.allows_name(name),
            url::Host::Ipv4(ip) => self.ips.contains(&IpAddr::V4(*ip)),
            url::Host::Ipv6(ip) => self.ips.contains(&IpAddr::V6(*ip)),
        }
    }

    /// Whether a host name, as the resolver is asked for it, is on the list.
    pub fn allows_name(&self, name: &str) -> bool {
        let name = name.trim_end_matches('.');
        self.names.iter().any(|n| n.eq_ignore_ascii_case(name))
    }
}

impl FromStr for AllowedHosts {
    type Err = BadHost;

    /// `cms.intranet, 10.0.0.7, [fd00::7]`: host names or IP addresses, comma separated.
    fn from_str(spec: &str) -> Result<Self, Self::Err> {
        let mut hosts = AllowedHosts::default();
        for entry in spec.split(',').map(str::trim).filter(|e| !e.is_empty()) {
            let bare = entry
                .strip_prefix('[')
                .and_then(|e| e.strip_suffix(']'))
                .unwrap_or(entry);
            if let Ok(ip) = bare.parse::<IpAddr>() {
                hosts.ips.push(ip);
                continue;
            }
            // Parsed as a URL's host would be, so that the name compared is the one a URL
            // holds (lower case, punycode).
            match url::Host::parse(entry) {
                Ok(url::Host::Domain(name)) if is_plain_name(&name) => {
                    hosts.names.push(name.trim_end_matches('.').to_string())
                }
                Ok(url::Host::Ipv4(ip)) => hosts.ips.push(IpAddr::V4(ip)),
                Ok(url::Host::Ipv6(ip)) => hosts.ips.push(IpAddr::V6(ip)),
                _ => return Err(BadHost(entry.to_string())),
            }
        }
        Ok(hosts)
    }
}

/// Letters, digits, dots, hyphens and underscores: no port, path or scheme slipped in.
fn is_plain_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn allows(hosts: &AllowedHosts, url: &str) -> bool {
        let url = url::Url::parse(url).unwrap();
        hosts.allows(&url.host().unwrap())
    }

    #[test]
    fn names_and_addresses_are_allowed_exactly() {
        let hosts: AllowedHosts = " CMS.Intranet , 10.0.0.7,[fd00::7], 127.0.0.1 "
            .parse()
            .unwrap();
        assert!(allows(&hosts, "http://cms.intranet/page"));
        assert!(allows(&hosts, "https://CMS.INTRANET:8443/page"));
        assert!(allows(&hosts, "http://10.0.0.7/a.jpg"));
        assert!(allows(&hosts, "http://[fd00::7]/a.jpg"));
        assert!(allows(&hosts, "http://127.0.0.1:9000/"));
        assert!(hosts.allows_name("cms.intranet."));
        // Nothing near them: not a subdomain, not a neighbour, not another name for the same
        // address.
        assert!(!allows(&hosts, "http://www.cms.intranet/"));
        assert!(!allows(&hosts, "http://10.0.0.8/"));
        assert!(!allows(&hosts, "http://localhost/"));
        assert!(!allows(&hosts, "http://169.254.169.254/"));
        assert!(!hosts.allows_name("intranet"));
    }

    #[test]
    fn an_empty_list_allows_nothing() {
        let hosts: AllowedHosts = "".parse().unwrap();
        assert!(hosts.is_empty());
        assert!(!allows(&hosts, "http://127.0.0.1/"));
    }

    #[test]
    fn entries_with_a_scheme_port_or_path_are_refused() {
        for bad in [
            "http://cms.intranet",
            "cms.intranet:8080",
            "cms.intranet/x",
            "a b",
        ] {
            let err = bad.parse::<AllowedHosts>().unwrap_err();
            assert_eq!(err, BadHost(bad.to_string()), "{bad}");
        }
    }
}
