//! Connection setup: the store URL's TLS settings, read as libpq reads them,
//! and the rustls connector they call for.
//!
//! `sslmode` is `disable` (the default: the URL names no mode), `require`,
//! `verify-ca` or `verify-full`; `prefer` and `allow` are refused, because they
//! fall back to plain text when the server offers no TLS. `sslrootcert=FILE`
//! (PEM) names the CA that `verify-ca` and `verify-full` check the server's
//! certificate against; with it, `require` checks as `verify-ca` does (as in
//! libpq). No mode that asks for TLS ever continues without it.

use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::WebPkiServerVerifier;
use rustls::crypto::{verify_tls12_signature, verify_tls13_signature, CryptoProvider};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{CertificateError, DigitallySignedStruct, RootCertStore, SignatureScheme};
use tokio_postgres::config::SslMode;
use tokio_postgres_rustls::MakeRustlsConnect;

use crate::error::StoreError;

/// What the URL asks of the connection's encryption.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Mode {
    /// Plain text.
    Disable,
    /// TLS, the server's certificate unchecked (only against passive listeners).
    Require,
    /// TLS, the certificate signed by the given CA, whatever host it names.
    VerifyCa,
    /// TLS, the certificate signed by the given CA and naming the host.
    VerifyFull,
}

/// Where and how to connect: the parsed URL and its TLS connector.
#[derive(Clone)]
pub(crate) struct Target {
    pub(crate) config: tokio_postgres::Config,
    pub(crate) tls: MakeRustlsConnect,
}

/// Parses a `postgres://` URL, its `sslmode` and `sslrootcert` included.
///
/// # Errors
/// [`StoreError::Config`] naming the setting: an unparsable URL, a mode that
/// could fall back to plain text, a CA file that is missing or holds no
/// certificate, a verifying mode without one.
pub(super) fn target(url: &str) -> Result<Target, StoreError> {
    let (rest, mode, root) = split_tls_params(url)?;
    let mut config: tokio_postgres::Config = rest.parse().map_err(|e: tokio_postgres::Error| {
        // tokio-postgres's cause names the option, never a value (the password).
        let cause = std::error::Error::source(&e).map(ToString::to_string);
        StoreError::Config(format!(
            "invalid postgres URL: {}",
            cause.unwrap_or_else(|| e.to_string())
        ))
    })?;
    config.ssl_mode(if mode == Mode::Disable {
        SslMode::Disable
    } else {
        // Require: the server's "no TLS" answer is an error, never plain text.
        SslMode::Require
    });
    let tls = MakeRustlsConnect::new(client_config(mode, root.as_deref())?);
    Ok(Target { config, tls })
}

/// Takes `sslmode` and `sslrootcert` out of the URL's query (tokio-postgres
/// knows neither `verify-*` nor CA files) and returns the rest.
fn split_tls_params(url: &str) -> Result<(String, Mode, Option<String>), StoreError> {
    let (base, query) = url.split_once('?').unwrap_or((url, ""));
    let mut mode = None;
    let mut root = None;
    let mut kept = Vec::new();
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        let value = percent_encoding::percent_decode_str(value)
            .decode_utf8()
            .map_err(|_| StoreError::Config(format!("postgres URL: {key}: not UTF-8")))?;
        match key {
            "sslmode" => {
                mode = Some(match &*value {
                    "disable" => Mode::Disable,
                    "require" => Mode::Require,
                    "verify-ca" => Mode::VerifyCa,
                    "verify-full" => Mode::VerifyFull,
                    "prefer" | "allow" => {
                        return Err(StoreError::Config(format!(
                            "postgres URL: sslmode={value} may fall back to plain text; use \
                             verify-full (or verify-ca, require), or disable"
                        )))
                    }
                    other => {
                        return Err(StoreError::Config(format!(
                            "postgres URL: sslmode={other} is not one of disable, require, \
                             verify-ca, verify-full"
                        )))
                    }
                });
            }
            "sslrootcert" => root = Some(value.into_owned()),
            "sslcert" | "sslkey" | "sslcrl" | "sslpassword" => {
                return Err(StoreError::Config(format!(
                    "postgres URL: {key} is not supported (client certificates, CRLs); \
                     authenticate with a password"
                )))
            }
            _ => kept.push(pair),
        }
    }
    let mode = match (mode, &root) {
        (Some(Mode::Require), Some(_)) => Mode::VerifyCa,
        (Some(m @ (Mode::VerifyCa | Mode::VerifyFull)), None) => {
            let name = if m == Mode::VerifyCa {
                "verify-ca"
            } else {
                "verify-full"
            };
            return Err(StoreError::Config(format!(
                "postgres URL: sslmode={name} needs sslrootcert=FILE (the CA's certificate, PEM)"
            )));
        }
        (Some(Mode::Disable) | None, Some(_)) => {
            return Err(StoreError::Config(
                "postgres URL: sslrootcert without sslmode=verify-full (or verify-ca, require)"
                    .into(),
            ))
        }
        (Some(m), _) => m,
        (None, None) => Mode::Disable,
    };
    let rest = if kept.is_empty() {
        base.to_owned()
    } else {
        format!("{base}?{}", kept.join("&"))
    };
    Ok((rest, mode, root))
}

fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// The rustls client settings for `mode`, trusting only `root` (a PEM file).
fn client_config(mode: Mode, root: Option<&str>) -> Result<rustls::ClientConfig, StoreError> {
    let provider = provider();
    let builder = rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| StoreError::Config(format!("TLS: {e}")))?;
    let chain = match (mode, root) {
        (Mode::VerifyCa | Mode::VerifyFull, Some(path)) => {
            let mut roots = RootCertStore::empty();
            let bad = |e: &dyn std::fmt::Display| {
                StoreError::Config(format!("postgres URL: sslrootcert {path}: {e}"))
            };
            for cert in CertificateDer::pem_file_iter(path).map_err(|e| bad(&e))? {
                roots.add(cert.map_err(|e| bad(&e))?).map_err(|e| bad(&e))?;
            }
            if roots.is_empty() {
                return Err(bad(&"no certificate in it"));
            }
            let webpki =
                WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider.clone())
                    .build()
                    .map_err(|e| bad(&e))?;
            Some(webpki)
        }
        _ => None,
    };
    let verifier = ServerCheck {
        chain,
        host_name: mode == Mode::VerifyFull,
        provider,
    };
    Ok(builder
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(verifier))
        .with_no_client_auth())
}

/// How the server's certificate is checked. Whatever the mode, the server must
/// prove that it holds the certificate's key (the handshake signature).
#[derive(Debug)]
struct ServerCheck {
    /// The chain to the CA (`verify-ca`, `verify-full`); `None` for `require`
    /// without a CA: any certificate, libpq's meaning of `require`, only
    /// against passive listeners (the docs say to use `verify-full`).
    chain: Option<Arc<WebPkiServerVerifier>>,
    /// Whether the certificate must name the host (`verify-full`); without it
    /// (`verify-ca`) one certificate may serve a cluster's replicas.
    host_name: bool,
    provider: Arc<CryptoProvider>,
}

impl ServerCertVerifier for ServerCheck {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let Some(chain) = &self.chain else {
            return Ok(ServerCertVerified::assertion());
        };
        match chain.verify_server_cert(end_entity, intermediates, server_name, ocsp, now) {
            Err(rustls::Error::InvalidCertificate(
                CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. },
            )) if !self.host_name => Ok(ServerCertVerified::assertion()),
            other => other,
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        let algorithms = &self.provider.signature_verification_algorithms;
        verify_tls12_signature(message, cert, dss, algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        let algorithms = &self.provider.signature_verification_algorithms;
        verify_tls13_signature(message, cert, dss, algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(url: &str) -> Result<(String, Mode, Option<String>), String> {
        split_tls_params(url).map_err(|e| e.to_string())
    }

    #[test]
    fn modes_are_read_as_libpq_reads_them_and_fallbacks_are_refused() {
        assert_eq!(
            split("postgres://u@h/db").unwrap(),
            ("postgres://u@h/db".into(), Mode::Disable, None)
        );
        assert_eq!(
            split("postgres://u@h/db?sslmode=require&application_name=x").unwrap(),
            (
                "postgres://u@h/db?application_name=x".into(),
                Mode::Require,
                None
            )
        );
        assert_eq!(
            split("postgres://u@a:1,b:2/db?target_session_attrs=read-write&sslmode=verify-full&sslrootcert=%2Fetc%2Fca.pem").unwrap(),
            (
                "postgres://u@a:1,b:2/db?target_session_attrs=read-write".into(),
                Mode::VerifyFull,
                Some("/etc/ca.pem".into())
            )
        );
        assert_eq!(
            split("postgres://u@h/db?sslmode=require&sslrootcert=/ca.pem")
                .unwrap()
                .1,
            Mode::VerifyCa,
            "require with a CA checks the chain, as in libpq"
        );
        for (url, says) in [
            (
                "postgres://h/db?sslmode=prefer",
                "may fall back to plain text",
            ),
            (
                "postgres://h/db?sslmode=allow",
                "may fall back to plain text",
            ),
            ("postgres://h/db?sslmode=strict", "is not one of"),
            ("postgres://h/db?sslmode=verify-full", "needs sslrootcert"),
            ("postgres://h/db?sslmode=verify-ca", "needs sslrootcert"),
            ("postgres://h/db?sslrootcert=/ca.pem", "without sslmode"),
            ("postgres://h/db?sslcert=/c.pem", "not supported"),
        ] {
            let err = split(url).unwrap_err();
            assert!(err.contains(says), "{url}: {err}");
        }
    }

    #[test]
    fn a_missing_or_empty_ca_file_is_named() {
        let err = target("postgres://h/db?sslmode=verify-full&sslrootcert=/nonexistent/ca.pem")
            .err()
            .unwrap()
            .to_string();
        assert!(err.contains("sslrootcert /nonexistent/ca.pem"), "{err}");
        let dir = tempfile::tempdir().unwrap();
        let empty = dir.path().join("empty.pem");
        std::fs::write(&empty, "no PEM here\n").unwrap();
        let err = target(&format!(
            "postgres://h/db?sslmode=verify-full&sslrootcert={}",
            empty.display()
        ))
        .err()
        .unwrap()
        .to_string();
        assert!(err.contains("no certificate"), "{err}");
        let err = target("postgres://h/db?nonsense_option=1")
            .err()
            .unwrap()
            .to_string();
        assert!(
            err.contains("invalid postgres URL: unknown option `nonsense_option`"),
            "{err}"
        );
    }
}
