//! What the commands that speak HTTP share (`courier resolve`, `--directory
//! https://…`): which URLs they accept and one configured client.

use std::net::IpAddr;
use std::time::Duration;

/// Checks an `http(s)://` URL given to `flag`: `https`, or plain `http` to a
/// loopback address only (`why` says what plain http would expose). Returns
/// whether the host is a loopback address.
pub fn check_url(flag: &str, url: &str, why: &str) -> Result<bool, String> {
    let (scheme, rest) = url
        .split_once("://")
        .ok_or_else(|| format!("{flag}: expected a URL such as https://resolver.example.com"))?;
    let authority = rest.split('/').next().unwrap_or("");
    let host = match authority.rsplit_once(':') {
        Some((h, port)) if port.bytes().all(|b| b.is_ascii_digit()) => h,
        _ => authority,
    };
    let host = host.trim_start_matches('[').trim_end_matches(']');
    let loopback = host.eq_ignore_ascii_case("localhost")
        || host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback());
    match scheme.to_ascii_lowercase().as_str() {
        "https" => Ok(loopback),
        "http" if loopback => Ok(true),
        "http" => Err(format!(
            "{flag}: plain http is accepted for a loopback address only; use https:// {why}"
        )),
        _ => Err(format!("{flag}: expected an http(s) URL")),
    }
}

/// A client with a whole-request timeout, no redirects (the URL given is the
/// one used), HTTP errors as answers, and the environment's proxy unless the
/// host is a loopback address.
pub fn agent(loopback: bool, timeout_secs: u64) -> ureq::Agent {
    let config = ureq::Agent::config_builder()
        .timeout_global(Some(Duration::from_secs(timeout_secs)))
        .http_status_as_error(false)
        .max_redirects(0)
        // A proxy between this machine and a loopback service makes no sense.
        .proxy(if loopback {
            None
        } else {
            ureq::Proxy::try_from_env()
        })
        .build();
    ureq::Agent::new_with_config(config)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn https_anywhere_and_http_only_to_loopback() {
        let check = |url| check_url("--server", url, "(why)");
        assert_eq!(check("http://127.0.0.1:8080"), Ok(true));
        assert_eq!(check("http://[::1]:80/"), Ok(true));
        assert_eq!(check("http://localhost"), Ok(true));
        assert_eq!(check("https://resolver.example.com"), Ok(false));
        assert_eq!(check("https://10.0.0.1:8443/x"), Ok(false));
        assert_eq!(
            check("http://resolver.example.com"),
            Err(
                "--server: plain http is accepted for a loopback address only; use https:// (why)"
                    .into()
            )
        );
        assert!(check("http://127.0.0.1.example.com").is_err());
        assert!(check("ftp://127.0.0.1").is_err());
        assert!(check("127.0.0.1:8080").is_err());
    }
}
