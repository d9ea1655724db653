//! Who a request comes from, for the per-address allowance of refused
//! attempts: the peer, or, when the peer is a trusted proxy, the address that
//! proxy saw (`X-Forwarded-For`, read from the right, past trusted hops only).
//! IPv6 clients are grouped by /64, the block one subscriber usually holds.

use std::net::{IpAddr, Ipv6Addr};
use std::sync::OnceLock;

use axum::http::HeaderMap;
use ipnet::IpNet;

/// The proxies whose `X-Forwarded-For` is believed.
#[derive(Debug, Clone, Default)]
pub(crate) struct TrustedProxies(Vec<IpNet>);

impl TrustedProxies {
    /// Parses `trusted_proxies`: addresses (`10.0.0.5`) or networks (`10.0.0.0/8`).
    pub(crate) fn parse(list: &[String]) -> Result<Self, String> {
        list.iter()
            .map(|s| {
                let s = s.trim();
                s.parse::<IpNet>()
                    .or_else(|_| s.parse::<IpAddr>().map(IpNet::from))
                    .map_err(|_| format!("trusted_proxies: {s:?} is not an address or network"))
            })
            .collect::<Result<Vec<_>, _>>()
            .map(Self)
    }

    fn trusts(&self, ip: IpAddr) -> bool {
        self.0.iter().any(|n| n.contains(&ip))
    }

    /// The client's address: the peer unless it is a trusted proxy; then the
    /// right-most `X-Forwarded-For` entry that is not a trusted proxy (entries
    /// left of it could be made up by the client). An unparsable entry stops
    /// the walk at the last address known good.
    pub(crate) fn client(&self, peer: IpAddr, headers: &HeaderMap) -> IpAddr {
        if !self.trusts(peer) {
            return peer;
        }
        let hops: Vec<&str> = headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .collect();
        let mut client = peer;
        for hop in hops.iter().rev() {
            match hop.trim().parse::<IpAddr>() {
                Ok(ip) => {
                    client = ip;
                    if !self.trusts(ip) {
                        break;
                    }
                }
                Err(_) => break,
            }
        }
        client
    }
}

/// The allowance's key: an IPv4 address, or an IPv6 address's /64.
pub(crate) fn allowance_key(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(_) => ip,
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let bits = u128::from(v6) & !((1u128 << 64) - 1);
                IpAddr::V6(Ipv6Addr::from(bits))
            }
        },
    }
}

/// One request's use of its client's allowance: the first refused attempt
/// spends one unit, and every other attempt of the request (a batch's tokens)
/// shares that decision.
///
/// It also carries the request's deadline: no claim starts past it.
#[derive(Debug)]
pub(crate) struct Allowance {
    pub(crate) key: IpAddr,
    decided: OnceLock<bool>,
    /// When the request's answer is due (`request_timeout_ms` after it came).
    pub(crate) deadline: std::time::Instant,
    /// Whether the request's answers were sent (`delivery.rs`).
    pub(crate) delivery: crate::delivery::Delivery,
}

impl Allowance {
    pub(crate) fn new(client: IpAddr, deadline: std::time::Instant) -> Self {
        Self {
            key: allowance_key(client),
            decided: OnceLock::new(),
            deadline,
            delivery: crate::delivery::Delivery::default(),
        }
    }

    /// Whether this request's refusals are audited (`spend` runs at most once).
    pub(crate) fn admits(&self, spend: impl FnOnce(IpAddr) -> bool) -> bool {
        *self.decided.get_or_init(|| spend(self.key))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers(xff: &[&str]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for v in xff {
            h.append("x-forwarded-for", HeaderValue::from_str(v).unwrap());
        }
        h
    }

    #[test]
    fn forwarded_for_is_believed_only_from_trusted_proxies() {
        let t = TrustedProxies::parse(&["10.0.0.0/8".into(), "192.0.2.7".into()]).unwrap();
        let client: IpAddr = "203.0.113.9".parse().unwrap();
        let spoofed = headers(&["198.51.100.1"]);
        assert_eq!(
            t.client(client, &spoofed),
            client,
            "not a proxy: its own address"
        );
        let proxy: IpAddr = "10.1.2.3".parse().unwrap();
        assert_eq!(
            t.client(proxy, &headers(&["198.51.100.1, 203.0.113.9"])),
            client,
            "the right-most hop the proxy saw; the left one is the client's claim"
        );
        assert_eq!(
            t.client(proxy, &headers(&["203.0.113.9", "192.0.2.7"])),
            client,
            "past a chain of trusted proxies, over repeated headers"
        );
        assert_eq!(
            t.client(proxy, &headers(&[])),
            proxy,
            "no header: the proxy"
        );
        assert_eq!(
            t.client(proxy, &headers(&["garbage"])),
            proxy,
            "an unparsable hop stops the walk"
        );
        assert!(TrustedProxies::parse(&["nope".into()]).is_err());
    }

    #[test]
    fn ipv6_is_grouped_by_64_and_mapped_ipv4_is_ipv4() {
        let a: IpAddr = "2001:db8:1:2:aaaa::1".parse().unwrap();
        let b: IpAddr = "2001:db8:1:2:ffff:1:2:3".parse().unwrap();
        let c: IpAddr = "2001:db8:1:3::1".parse().unwrap();
        assert_eq!(allowance_key(a), allowance_key(b));
        assert_ne!(allowance_key(a), allowance_key(c));
        let mapped: IpAddr = "::ffff:203.0.113.9".parse().unwrap();
        assert_eq!(
            allowance_key(mapped),
            "203.0.113.9".parse::<IpAddr>().unwrap()
        );
    }

    #[test]
    fn a_request_spends_one_unit_however_many_refusals() {
        let a = Allowance::new("203.0.113.9".parse().unwrap(), std::time::Instant::now());
        let mut spent = 0;
        for _ in 0..100 {
            assert!(a.admits(|_| {
                spent += 1;
                true
            }));
        }
        assert_eq!(spent, 1);
    }
}
