//! Next-hop lookup for the relay queue: MX records (RFC 5321 5.1) with the
//! implicit MX fallback and RFC 7505 null MX, through hickory-resolver.

use hickory_resolver::config::{NameServerConfig, ResolverConfig, ResolverOpts};
use hickory_resolver::name_server::TokioConnectionProvider;
use hickory_resolver::proto::xfer::Protocol;
use hickory_resolver::{ResolveError, TokioResolver};
use std::hash::BuildHasher;
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

/// Why no next hop could be found.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MxError {
    /// The domain publishes a null MX (RFC 7505): it accepts no mail. Permanent.
    #[error("domain {0} accepts no mail (null MX, RFC 7505)")]
    NullMx(String),
    /// The domain does not exist. Permanent.
    #[error("domain {0} does not exist")]
    NoSuchDomain(String),
    /// This server is the domain's best MX: nowhere to relay to (RFC 5321
    /// 5.1, "it is an error condition"). Permanent.
    #[error("this server is the best mail exchanger for {0}: mail loops back")]
    LoopsBack(String),
    /// A DNS failure that may pass (timeout, SERVFAIL). Retry later.
    #[error("DNS lookup for {domain} failed: {reason}")]
    Temporary {
        /// The domain looked up.
        domain: String,
        /// What went wrong.
        reason: String,
    },
}

impl MxError {
    /// True for errors that will not go away by retrying.
    #[must_use]
    pub fn is_permanent(&self) -> bool {
        !matches!(self, MxError::Temporary { .. })
    }
}

/// A resolver using `server` (UDP then TCP), or the system configuration
/// (/etc/resolv.conf) when `server` is `None`.
///
/// # Errors
///
/// Reading the system configuration failing.
pub fn resolver(server: Option<SocketAddr>) -> std::io::Result<TokioResolver> {
    let mut opts = ResolverOpts::default();
    opts.timeout = Duration::from_secs(5);
    opts.attempts = 2;
    let builder = match server {
        Some(addr) => {
            let mut config = ResolverConfig::new();
            config.add_name_server(NameServerConfig::new(addr, Protocol::Udp));
            config.add_name_server(NameServerConfig::new(addr, Protocol::Tcp));
            TokioResolver::builder_with_config(config, TokioConnectionProvider::default())
        }
        None => TokioResolver::builder_tokio().map_err(std::io::Error::other)?,
    };
    Ok(builder.with_options(opts).build())
}

/// The IPv4 address an IPv6 address carries (IPv4-mapped `::ffff:a.b.c.d`
/// or the deprecated IPv4-compatible `::a.b.c.d`), which a connection to it
/// reaches; the address itself otherwise.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => match v6.to_ipv4() {
            // `::` and `::1` are IPv6 addresses, not compatible IPv4 ones.
            Some(v4) if !v6.is_unspecified() && !v6.is_loopback() => IpAddr::V4(v4),
            _ => ip,
        },
        v4 => v4,
    }
}

/// True for an address that names this machine or no machine: loopback or
/// unspecified (IPv4-mapped forms included). No MX host is ever reached
/// there: a relay that connects to one talks to itself or to a local
/// service (RFC 5321 5.1 has a relay discard its own MX records).
#[must_use]
pub fn is_loopback_or_unspecified(ip: IpAddr) -> bool {
    let ip = canonical(ip);
    ip.is_loopback() || ip.is_unspecified()
}

/// True for an address a relay must not connect to on a stranger's word,
/// as when a recipient names it in an address literal (RFC 5321 4.1.3):
/// loopback and unspecified, private (RFC 1918, RFC 4193 unique local),
/// shared (RFC 6598), link-local (RFC 3927, RFC 4291 2.5.6), multicast
/// and broadcast, IPv4-mapped forms included. Such a literal would let
/// any user who may relay reach internal services (SSRF).
#[must_use]
pub fn is_internal(ip: IpAddr) -> bool {
    if is_loopback_or_unspecified(ip) {
        return true;
    }
    match canonical(ip) {
        IpAddr::V4(v4) => {
            let [a, b, ..] = v4.octets();
            v4.is_private()
                || v4.is_link_local()
                || v4.is_multicast()
                || v4.is_broadcast()
                || (a == 100 && (b & 0xc0) == 64)
                || a == 0
        }
        IpAddr::V6(v6) => {
            let first = v6.segments()[0];
            (first & 0xfe00) == 0xfc00 || (first & 0xffc0) == 0xfe80 || v6.is_multicast()
        }
    }
}

/// True when a connection to `ip` on `port` reaches `listener`, a bound
/// listening address: the same address and port, or, for a listener on the
/// unspecified address, any address of this machine on that port (an
/// address this machine has is one a socket can be bound to).
#[must_use]
pub fn reaches(listener: SocketAddr, ip: IpAddr, port: u16) -> bool {
    if listener.port() != port {
        return false;
    }
    let (bound, ip) = (canonical(listener.ip()), canonical(ip));
    if bound == ip {
        return true;
    }
    bound.is_unspecified()
        && (bound.is_ipv6() || ip.is_ipv4())
        && (ip.is_loopback() || std::net::UdpSocket::bind(SocketAddr::new(ip, 0)).is_ok())
}

fn classify(domain: &str, e: &ResolveError) -> Option<MxError> {
    if e.is_nx_domain() {
        return Some(MxError::NoSuchDomain(domain.to_owned()));
    }
    if e.is_no_records_found() {
        return None;
    }
    Some(MxError::Temporary {
        domain: domain.to_owned(),
        reason: e.to_string(),
    })
}

/// The hosts to try for `domain`, best preference first (hosts of equal
/// preference in a random order, RFC 5321 5.1). With no MX records the domain itself is
/// the implicit MX if it has an address (RFC 5321 5.1).
///
/// # Errors
///
/// [`MxError`], telling permanent from temporary failures.
pub async fn mx_hosts(resolver: &TokioResolver, domain: &str) -> Result<Vec<String>, MxError> {
    mx_hosts_except(resolver, domain, &[], |_| false).await
}

/// Most MX hosts whose addresses [`mx_hosts_except`] looks up to find the
/// relay itself among them: a hostile domain can list hundreds, each lookup
/// can take the resolver's timeout, and maild's queue tries no more than
/// this many addresses in one attempt anyway (RFC 5321 5.1 allows "a
/// configurable limit on the number of alternate addresses").
pub const MAX_SELF_LOOKUPS: usize = 10;

/// As [`mx_hosts`], for a relay known by the host names `own` and the
/// addresses for which `own_address` is true: from the first MX record
/// naming one of them, or whose host has such an address, that preference
/// and every higher one are left out (RFC 5321 5.1: "The relay host MUST
/// then inspect the list for any of the names or addresses by which it
/// might be known in mail transactions. If a matching record is found, all
/// records at that preference level and higher-numbered ones MUST be
/// discarded"), so a backup MX never relays to itself or to a worse
/// backup. Addresses are looked up for the first [`MAX_SELF_LOOKUPS`]
/// hosts; a failed lookup counts as not this relay.
///
/// # Errors
///
/// As [`mx_hosts`], and [`MxError::LoopsBack`] when nothing is left (or
/// the implicit MX is this relay).
pub async fn mx_hosts_except(
    resolver: &TokioResolver,
    domain: &str,
    own: &[&str],
    own_address: impl Fn(IpAddr) -> bool,
) -> Result<Vec<String>, MxError> {
    let domain = domain.trim_end_matches('.');
    let fqdn = format!("{domain}.");
    match resolver.mx_lookup(fqdn.as_str()).await {
        Ok(lookup) => {
            let mut records: Vec<(u16, String)> = lookup
                .iter()
                .map(|mx| {
                    (
                        mx.preference(),
                        mx.exchange().to_ascii().trim_end_matches('.').to_owned(),
                    )
                })
                .collect();
            if records.iter().any(|(_, host)| host.is_empty()) {
                return Err(MxError::NullMx(domain.to_owned()));
            }
            if !records.is_empty() {
                // Equal preferences in a random order (RFC 5321 5.1: the
                // sender "MUST randomize them to spread the load"): a hash
                // with a fresh random key is a random order of the hosts.
                let random = std::collections::hash_map::RandomState::new();
                records.sort_by_cached_key(|(pref, host)| (*pref, random.hash_one(host)));
                let is_own = |h: &str| {
                    own.iter()
                        .any(|o| o.trim_end_matches('.').eq_ignore_ascii_case(h))
                };
                let mut cut = None;
                for (k, (pref, host)) in records.iter().enumerate() {
                    if is_own(host) {
                        cut = Some(*pref);
                        break;
                    }
                    if k >= MAX_SELF_LOOKUPS {
                        continue;
                    }
                    // The address of an IP-looking exchange name is itself.
                    let mine = match host.parse::<IpAddr>() {
                        Ok(ip) => own_address(ip),
                        Err(_) => resolver
                            .lookup_ip(format!("{host}."))
                            .await
                            .is_ok_and(|ips| ips.iter().any(&own_address)),
                    };
                    if mine {
                        cut = Some(*pref);
                        break;
                    }
                }
                if let Some(cut) = cut {
                    records.retain(|(p, _)| *p < cut);
                    if records.is_empty() {
                        return Err(MxError::LoopsBack(domain.to_owned()));
                    }
                }
                return Ok(records.into_iter().map(|(_, h)| h).collect());
            }
        }
        Err(e) => {
            if let Some(err) = classify(domain, &e) {
                return Err(err);
            }
        }
    }
    // Implicit MX: the domain itself, if it has an address; when that is
    // this relay, "the implicit MX is unusable" (RFC 5321 5.1).
    if own
        .iter()
        .any(|o| o.trim_end_matches('.').eq_ignore_ascii_case(domain))
    {
        return Err(MxError::LoopsBack(domain.to_owned()));
    }
    match resolver.lookup_ip(fqdn.as_str()).await {
        Ok(ips) if ips.iter().any(&own_address) => Err(MxError::LoopsBack(domain.to_owned())),
        Ok(ips) if ips.iter().next().is_some() => Ok(vec![domain.to_owned()]),
        Ok(_) => Err(MxError::NoSuchDomain(domain.to_owned())),
        Err(e) => Err(classify(domain, &e).unwrap_or_else(|| MxError::NoSuchDomain(domain.to_owned()))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::net::UdpSocket;

    /// Encodes a domain name as DNS labels.
    fn name(n: &str) -> Vec<u8> {
        let mut out = Vec::new();
        for label in n.trim_end_matches('.').split('.').filter(|l| !l.is_empty()) {
            out.push(u8::try_from(label.len()).unwrap());
            out.extend_from_slice(label.as_bytes());
        }
        out.push(0);
        out
    }

    /// A tiny authoritative DNS server for the test zones, on UDP loopback.
    async fn dns_server() -> SocketAddr {
        let sock = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let addr = sock.local_addr().unwrap();
        tokio::spawn(async move {
            let mut buf = [0u8; 512];
            while let Ok((n, peer)) = sock.recv_from(&mut buf).await {
                let q = &buf[..n];
                // Question name: labels from offset 12.
                let mut i = 12;
                let mut labels = Vec::new();
                while i < q.len() && q[i] != 0 {
                    let len = usize::from(q[i]);
                    labels.push(String::from_utf8_lossy(&q[i + 1..i + 1 + len]).to_lowercase());
                    i += 1 + len;
                }
                let qname = labels.join(".");
                let qtype = u16::from_be_bytes([q[i + 1], q[i + 2]]);
                let question = &q[12..i + 5];
                let mut answers: Vec<(u16, Vec<u8>)> = Vec::new();
                let mut rcode = 0u8;
                match (qname.as_str(), qtype) {
                    ("mx.test", 15) => {
                        for (pref, host) in [(20u16, "c.mx.test"), (10, "b.mx.test"), (5, "a.mx.test")] {
                            let mut rd = pref.to_be_bytes().to_vec();
                            rd.extend(name(host));
                            answers.push((15, rd));
                        }
                    }
                    ("null.test", 15) => answers.push((15, vec![0, 0, 0])),
                    ("nomx.test", 1) => answers.push((1, vec![127, 0, 0, 5])),
                    ("nomx.test" | "mx.test" | "null.test", _) => {}
                    _ => rcode = 3,
                }
                let mut r = Vec::new();
                r.extend_from_slice(&q[..2]);
                r.extend_from_slice(&[0x84, 0x80 | rcode]);
                r.extend_from_slice(&[0, 1]);
                r.extend_from_slice(&u16::try_from(answers.len()).unwrap().to_be_bytes());
                r.extend_from_slice(&[0, 0, 0, 0]);
                r.extend_from_slice(question);
                for (t, rd) in answers {
                    r.extend_from_slice(&[0xc0, 12]);
                    r.extend_from_slice(&t.to_be_bytes());
                    r.extend_from_slice(&[0, 1, 0, 0, 0, 60]);
                    r.extend_from_slice(&u16::try_from(rd.len()).unwrap().to_be_bytes());
                    r.extend_from_slice(&rd);
                }
                let _ = sock.send_to(&r, peer).await;
            }
        });
        addr
    }

    #[test]
    fn internal_and_loopback_addresses() {
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        for a in [
            "127.0.0.1",
            "127.9.9.9",
            "0.0.0.0",
            "::1",
            "::",
            "::ffff:127.0.0.1",
        ] {
            assert!(is_loopback_or_unspecified(ip(a)), "{a}");
            assert!(is_internal(ip(a)), "{a}");
        }
        for a in [
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "255.255.255.255",
            "224.0.0.1",
            "fe80::1",
            "fd00::1",
            "ff02::1",
            "::ffff:10.0.0.1",
        ] {
            assert!(!is_loopback_or_unspecified(ip(a)), "{a}");
            assert!(is_internal(ip(a)), "{a}");
        }
        for a in ["192.0.2.1", "8.8.8.8", "2001:db8::1", "100.128.0.1"] {
            assert!(!is_internal(ip(a)), "{a}");
        }
    }

    #[test]
    fn a_listener_is_reached_on_its_address_and_port() {
        let l = |s: &str| s.parse::<SocketAddr>().unwrap();
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        assert!(reaches(l("127.0.0.1:25"), ip("127.0.0.1"), 25));
        assert!(reaches(l("127.0.0.1:25"), ip("::ffff:127.0.0.1"), 25));
        assert!(!reaches(l("127.0.0.1:25"), ip("127.0.0.1"), 2525));
        assert!(!reaches(l("127.0.0.1:25"), ip("192.0.2.1"), 25));
        assert!(reaches(l("0.0.0.0:25"), ip("127.0.0.2"), 25));
        assert!(reaches(l("[::]:25"), ip("::1"), 25));
        // Not an address of this machine.
        assert!(!reaches(l("0.0.0.0:25"), ip("192.0.2.1"), 25));
    }

    #[tokio::test]
    async fn mx_order_implicit_null_and_missing() {
        let r = resolver(Some(dns_server().await)).unwrap();
        assert_eq!(
            mx_hosts(&r, "mx.test").await.unwrap(),
            vec!["a.mx.test", "b.mx.test", "c.mx.test"]
        );
        assert_eq!(mx_hosts(&r, "nomx.test").await.unwrap(), vec!["nomx.test"]);
        let null = mx_hosts(&r, "null.test").await.unwrap_err();
        assert_eq!(null, MxError::NullMx("null.test".into()));
        assert!(null.is_permanent());
        // Known as b.mx.test: b and the worse c are left out.
        assert_eq!(
            mx_hosts_except(&r, "mx.test", &["B.MX.test."], |_| false)
                .await
                .unwrap(),
            vec!["a.mx.test"]
        );
        let own_best = mx_hosts_except(&r, "mx.test", &["a.mx.test"], |_| false)
            .await
            .unwrap_err();
        assert_eq!(own_best, MxError::LoopsBack("mx.test".into()));
        assert!(own_best.is_permanent());
        let missing = mx_hosts(&r, "nowhere.test").await.unwrap_err();
        assert_eq!(missing, MxError::NoSuchDomain("nowhere.test".into()));
    }
}
