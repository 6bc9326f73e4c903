//! `allowed_outbound_hosts` entries (`scheme://host:port`, with Spin's wildcards:
//! `*` scheme, `*` or `*.domain` host, `*` or a range of ports), parsed once and
//! matched against each outbound request's URI.

use std::collections::BTreeMap;

use http::uri::Scheme;

use super::template::Template;

#[derive(Debug, Clone, PartialEq, Eq)]
enum HostPattern {
    Any,
    /// `*.example.com`: any subdomain, stored as `.example.com`.
    Subdomains(String),
    Exact(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum PortPattern {
    Any,
    Range(u16, u16),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AllowedHost {
    /// `None` is the `*` scheme.
    scheme: Option<String>,
    host: HostPattern,
    port: PortPattern,
}

fn default_port(scheme: &str) -> Option<u16> {
    match scheme {
        "http" => Some(80),
        "https" => Some(443),
        // As Spin: `postgres://db.example.com` means PostgreSQL's own port.
        "postgres" => Some(5432),
        _ => None,
    }
}

impl AllowedHost {
    pub fn parse(text: &str) -> Result<Self, String> {
        if text.contains("{{") {
            return Err(format!(
                "`{text}`: a template is resolved first (see `OutboundHosts`)"
            ));
        }
        let (scheme, rest) = text.split_once("://").ok_or_else(|| {
            format!("`{text}` must be scheme://host[:port], e.g. https://example.com")
        })?;
        let scheme = scheme.to_ascii_lowercase();
        if scheme.is_empty()
            || !(scheme == "*"
                || scheme
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'+' || b == b'-'))
        {
            return Err(format!("`{text}`: invalid scheme `{scheme}`"));
        }
        let authority = rest.strip_suffix('/').unwrap_or(rest);
        if authority.contains(['/', '?', '#']) {
            return Err(format!(
                "`{text}`: a path is not allowed, only scheme://host[:port]"
            ));
        }
        let (host, port) = match authority.rsplit_once(':') {
            Some((h, p)) if !h.ends_with(']') || authority.starts_with('[') => (h, Some(p)),
            _ => (authority, None),
        };
        let host = host.to_ascii_lowercase();
        let host = match host.as_str() {
            "" => return Err(format!("`{text}`: missing host")),
            "*" => HostPattern::Any,
            "self" | "self.alt" => {
                return Err(format!(
                    "`{text}`: `self` (calls to this application) is not supported by tracker-host"
                ));
            }
            h => match h.strip_prefix("*.") {
                Some(domain) if !domain.is_empty() && !domain.contains('*') => {
                    HostPattern::Subdomains(format!(".{domain}"))
                }
                _ if h.contains('*') => {
                    return Err(format!(
                        "`{text}`: `*` is only allowed as `*` or `*.domain`"
                    ));
                }
                _ => HostPattern::Exact(h.to_owned()),
            },
        };
        let port = match port {
            Some("*") => PortPattern::Any,
            Some(p) => match p.split_once("..") {
                Some((lo, hi)) => {
                    let lo = parse_port(lo, text)?;
                    let hi = parse_port(hi, text)?;
                    if lo > hi {
                        return Err(format!("`{text}`: empty port range"));
                    }
                    PortPattern::Range(lo, hi)
                }
                None => {
                    let p = parse_port(p, text)?;
                    PortPattern::Range(p, p)
                }
            },
            None => match default_port(&scheme) {
                Some(p) => PortPattern::Range(p, p),
                None => {
                    return Err(format!(
                        "`{text}`: a port is required for scheme `{scheme}`"
                    ));
                }
            },
        };
        Ok(Self {
            scheme: (scheme != "*").then_some(scheme),
            host,
            port,
        })
    }

    pub fn allows(&self, scheme: &str, host: &str, port: u16) -> bool {
        let host = host.trim_end_matches('.').to_ascii_lowercase();
        let scheme_ok = self
            .scheme
            .as_deref()
            .is_none_or(|s| s.eq_ignore_ascii_case(scheme));
        let host_ok = match &self.host {
            HostPattern::Any => true,
            HostPattern::Subdomains(suffix) => {
                host.ends_with(suffix.as_str()) && host.len() > suffix.len()
            }
            HostPattern::Exact(h) => *h == host,
        };
        let port_ok = match self.port {
            PortPattern::Any => true,
            PortPattern::Range(lo, hi) => (lo..=hi).contains(&port),
        };
        scheme_ok && host_ok && port_ok
    }
}

fn parse_port(p: &str, text: &str) -> Result<u16, String> {
    p.parse()
        .map_err(|_| format!("`{text}`: invalid port `{p}`"))
}

/// One `allowed_outbound_hosts` entry as written: a host, or a template of
/// application variables resolved at start-up (as Spin does, so one manifest
/// serves every deployment).
#[derive(Debug, Clone, PartialEq, Eq)]
enum Entry {
    Host(AllowedHost),
    Templated(Template),
}

/// A component's `allowed_outbound_hosts` as written in the manifest.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OutboundHosts(Vec<Entry>);

impl OutboundHosts {
    /// Parses one entry; a literal is checked now, a template once it is resolved.
    pub fn push(&mut self, text: &str) -> Result<(), String> {
        let entry = if text.contains("{{") {
            Entry::Templated(Template::parse(text)?)
        } else {
            Entry::Host(AllowedHost::parse(text)?)
        };
        self.0.push(entry);
        Ok(())
    }

    /// The allow-list with templates rendered from `app_values`. A template that
    /// renders empty (or to a bare `http://` / `https://`) allows nothing, as in
    /// Spin: an optional endpoint is a variable left at its empty default.
    pub fn resolve(&self, app_values: &BTreeMap<String, String>) -> Result<AllowList, String> {
        let mut hosts = Vec::with_capacity(self.0.len());
        for entry in &self.0 {
            match entry {
                Entry::Host(h) => hosts.push(h.clone()),
                Entry::Templated(t) => {
                    let text = t.render(app_values).map_err(|e| format!("`{t}` {e}"))?;
                    let text = text.trim();
                    if matches!(text, "" | "http://" | "https://") {
                        continue;
                    }
                    hosts.push(
                        AllowedHost::parse(text).map_err(|e| format!("`{t}` resolved to {e}"))?,
                    );
                }
            }
        }
        Ok(AllowList(hosts))
    }
}

/// The parsed allow-list of one component.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AllowList(Vec<AllowedHost>);

impl FromIterator<AllowedHost> for AllowList {
    fn from_iter<I: IntoIterator<Item = AllowedHost>>(hosts: I) -> Self {
        Self(hosts.into_iter().collect())
    }
}

impl AllowList {
    /// Whether a connection to `scheme://host:port` is listed (non-HTTP
    /// capabilities, e.g. PostgreSQL, check the address they are about to dial).
    pub fn allows(&self, scheme: &str, host: &str, port: u16) -> bool {
        let host = host.trim_start_matches('[').trim_end_matches(']');
        self.0.iter().any(|a| a.allows(scheme, host, port))
    }

    /// The entries for `scheme` as written (`postgres://db:5432`), for messages.
    pub fn entries_for(&self, scheme: &str) -> Vec<String> {
        self.0
            .iter()
            .filter(|a| a.scheme.as_deref() == Some(scheme))
            .map(|a| {
                let host = match &a.host {
                    HostPattern::Any => "*".to_owned(),
                    HostPattern::Subdomains(d) => format!("*{d}"),
                    HostPattern::Exact(h) => h.clone(),
                };
                match a.port {
                    PortPattern::Any => format!("{scheme}://{host}:*"),
                    PortPattern::Range(lo, hi) if lo == hi => format!("{scheme}://{host}:{lo}"),
                    PortPattern::Range(lo, hi) => format!("{scheme}://{host}:{lo}..{hi}"),
                }
            })
            .collect()
    }

    pub fn allows_uri(&self, uri: &http::Uri) -> bool {
        let scheme = uri.scheme().unwrap_or(&Scheme::HTTPS).as_str();
        let Some(host) = uri.host() else {
            return false;
        };
        let Some(port) = uri.port_u16().or_else(|| default_port(scheme)) else {
            return false;
        };
        let host = host.trim_start_matches('[').trim_end_matches(']');
        self.0.iter().any(|a| a.allows(scheme, host, port))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn list(entries: &[&str]) -> AllowList {
        entries
            .iter()
            .map(|e| AllowedHost::parse(e).expect("valid allow-list"))
            .collect()
    }

    fn allowed(l: &AllowList, uri: &str) -> bool {
        l.allows_uri(&uri.parse().expect("uri"))
    }

    #[test]
    fn empty_list_denies_everything() {
        let l = list(&[]);
        assert!(!allowed(&l, "https://example.com/"));
        assert!(!allowed(&l, "http://127.0.0.1:3000/"));
    }

    #[test]
    fn exact_host_uses_the_scheme_default_port() {
        let l = list(&["https://api.example.com"]);
        assert!(allowed(&l, "https://api.example.com/v1"));
        assert!(allowed(&l, "https://API.example.com:443/v1"));
        assert!(!allowed(&l, "https://api.example.com:8443/v1"));
        assert!(!allowed(&l, "http://api.example.com/v1"));
        assert!(!allowed(&l, "https://evil.com/api.example.com"));
    }

    #[test]
    fn wildcards_for_scheme_subdomains_and_ports() {
        let l = list(&["*://*.example.com:*", "http://localhost:8000..8010"]);
        assert!(allowed(&l, "http://a.example.com:1234/"));
        assert!(allowed(&l, "https://b.c.example.com/"));
        assert!(
            !allowed(&l, "https://example.com/"),
            "the bare domain is not a subdomain"
        );
        assert!(!allowed(&l, "https://badexample.com/"));
        assert!(allowed(&l, "http://localhost:8005/"));
        assert!(!allowed(&l, "http://localhost:8011/"));
    }

    #[test]
    fn postgres_entries_default_to_port_5432() {
        let l = list(&["postgres://db.internal", "postgres://127.0.0.1:6000"]);
        assert!(l.allows("postgres", "db.internal", 5432));
        assert!(!l.allows("postgres", "db.internal", 5433));
        assert!(l.allows("postgres", "127.0.0.1", 6000));
        assert!(!l.allows("https", "db.internal", 5432));
    }

    #[test]
    fn any_host_with_an_explicit_port() {
        let l = list(&["https://*:443"]);
        assert!(allowed(&l, "https://anything.org/"));
        assert!(!allowed(&l, "http://anything.org/"));
    }

    #[test]
    fn malformed_entries_are_rejected() {
        for bad in [
            "example.com",
            "https://example.com/path",
            "*://example.com",
            "https://ex*ample.com",
            "https://example.com:notaport",
            "https://self",
            "https://{{ host }}",
        ] {
            assert!(AllowedHost::parse(bad).is_err(), "{bad} should be rejected");
        }
    }

    fn values(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn templates_resolve_from_application_variables_and_empty_allows_nothing() {
        let mut hosts = OutboundHosts::default();
        hosts.push("{{ database_host }}").expect("template");
        hosts.push("https://{{ api }}:8443").expect("template");
        let l = hosts
            .resolve(&values(&[
                ("database_host", "postgres://db.internal:6432"),
                ("api", "api.example.com"),
            ]))
            .expect("resolves");
        assert!(l.allows("postgres", "db.internal", 6432));
        assert!(allowed(&l, "https://api.example.com:8443/"));

        let l = hosts
            .resolve(&values(&[("database_host", ""), ("api", "x.example.com")]))
            .expect("an empty host is skipped");
        assert!(!l.allows("postgres", "db.internal", 6432));
        assert!(allowed(&l, "https://x.example.com:8443/"));
    }

    #[test]
    fn a_template_that_resolves_to_a_bad_host_or_names_no_variable_is_refused() {
        let mut hosts = OutboundHosts::default();
        hosts.push("{{ database_host }}").expect("template");
        let err = hosts
            .resolve(&values(&[("database_host", "postgres://u:p@db/app")]))
            .expect_err("a URL with a path is not a host");
        assert!(err.contains("{{ database_host }}"), "{err}");
        let err = hosts.resolve(&values(&[])).expect_err("undeclared");
        assert!(err.contains("database_host"), "{err}");
        assert!(
            OutboundHosts::default()
                .push("https://{{ bad name }}")
                .is_err()
        );
    }
}
