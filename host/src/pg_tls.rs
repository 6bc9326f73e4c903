//! PostgreSQL addresses and TLS, shared by the PostgreSQL capability's pools and the
//! fleet connection: one place reads a `postgres://` URL (and refuses what the host
//! cannot honour) and one rustls connector (ring provider: no C toolchain, no
//! OpenSSL, so the host still links statically) serves every connection.
//!
//! `sslmode` follows libpq: `disable` never uses TLS, `prefer` (the default) tries
//! TLS and falls back to plain text when the server has none, `require` insists on
//! TLS. None of the three checks the server's certificate: that is what libpq's
//! `require` means (encryption against passive eavesdroppers, no authentication of
//! the server); `verify-ca` / `verify-full` are refused with a clear message
//! instead of being silently weakened.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{CryptoProvider, verify_tls12_signature, verify_tls13_signature};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, SignatureScheme};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio_postgres::tls::{ChannelBinding, MakeTlsConnect, TlsConnect};

/// The `sslmode` values tracker-host honours (those tokio-postgres implements).
const SUPPORTED_SSLMODES: [&str; 3] = ["disable", "prefer", "require"];

/// Parses a `postgres://` / `postgresql://` URL (or key=value string) into a
/// tokio-postgres config; an `sslmode` other than disable, prefer or require is
/// refused naming the supported ones (tokio-postgres's own message names none).
pub fn parse_config(address: &str) -> Result<tokio_postgres::Config, String> {
    if let Some(mode) = sslmode_of(address)
        && !SUPPORTED_SSLMODES.contains(&mode.as_str())
    {
        return Err(format!(
            "sslmode={mode} is not supported by tracker-host (use disable, prefer or \
             require; none of them verifies the server's certificate)"
        ));
    }
    address.parse().map_err(|e: tokio_postgres::Error| {
        format!("not a valid PostgreSQL address ({e}); expected postgres://user@host:port/database")
    })
}

/// The `sslmode` a URL's query (or a key=value string) sets, if any.
fn sslmode_of(address: &str) -> Option<String> {
    let pairs: Vec<&str> = match address.split_once('?') {
        Some((_, query)) => query.split('&').collect(),
        None if !address.contains("://") => address.split_whitespace().collect(),
        None => Vec::new(),
    };
    pairs.iter().find_map(|pair| {
        let (key, value) = pair.split_once('=')?;
        (key.trim() == "sslmode").then(|| value.trim().trim_matches('\'').to_ascii_lowercase())
    })
}

/// The one TLS connector (cheap to clone: an `Arc` of the rustls config).
#[derive(Clone)]
pub struct Tls {
    config: Arc<rustls::ClientConfig>,
}

impl Tls {
    pub fn new() -> anyhow::Result<Self> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config = rustls::ClientConfig::builder_with_provider(provider.clone())
            .with_safe_default_protocol_versions()?
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(NoCertificateCheck(provider)))
            .with_no_client_auth();
        Ok(Self {
            config: Arc::new(config),
        })
    }
}

/// libpq's `sslmode=require` (and `prefer`): the handshake is checked (the server
/// proves it holds the key of the certificate it sent, so the session keys are
/// its), the certificate itself is not (any issuer, any name, any date).
#[derive(Debug)]
struct NoCertificateCheck(Arc<CryptoProvider>);

impl ServerCertVerifier for NoCertificateCheck {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

impl<S> MakeTlsConnect<S> for Tls
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    type Stream = TlsStream<S>;
    type TlsConnect = Connect;
    type Error = rustls::pki_types::InvalidDnsNameError;

    fn make_tls_connect(&mut self, domain: &str) -> Result<Connect, Self::Error> {
        Ok(Connect {
            connector: tokio_rustls::TlsConnector::from(self.config.clone()),
            name: ServerName::try_from(domain.to_owned())?,
        })
    }
}

/// One connection's handshake.
pub struct Connect {
    connector: tokio_rustls::TlsConnector,
    name: ServerName<'static>,
}

impl<S> TlsConnect<S> for Connect
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    type Stream = TlsStream<S>;
    type Error = io::Error;
    type Future = Pin<Box<dyn Future<Output = io::Result<TlsStream<S>>> + Send>>;

    fn connect(self, stream: S) -> Self::Future {
        Box::pin(async move {
            let stream = self.connector.connect(self.name, stream).await?;
            Ok(TlsStream(stream))
        })
    }
}

/// A TLS session to the server.
pub struct TlsStream<S>(tokio_rustls::client::TlsStream<S>);

impl<S: AsyncRead + AsyncWrite + Unpin> AsyncRead for TlsStream<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_read(cx, buf)
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> AsyncWrite for TlsStream<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.0).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_shutdown(cx)
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> tokio_postgres::tls::TlsStream for TlsStream<S> {
    /// No channel binding: SCRAM then authenticates without tying itself to this
    /// TLS session, as libpq does with `channel_binding=prefer` and a server that
    /// does not offer it.
    fn channel_binding(&self) -> ChannelBinding {
        ChannelBinding::none()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio_postgres::config::SslMode;

    #[test]
    fn sslmodes_follow_libpq_and_unsupported_ones_are_named() {
        let mode = |url: &str| parse_config(url).map(|c| c.get_ssl_mode());
        assert!(matches!(
            mode("postgres://u@h/db?sslmode=disable"),
            Ok(SslMode::Disable)
        ));
        assert!(matches!(mode("postgres://u@h/db"), Ok(SslMode::Prefer)));
        assert!(matches!(
            mode("postgresql://u@h:5433/db?application_name=x&sslmode=require"),
            Ok(SslMode::Require)
        ));
        assert!(matches!(
            mode("host=h user=u sslmode=require"),
            Ok(SslMode::Require)
        ));
        for bad in ["verify-full", "verify-ca", "allow"] {
            let error = parse_config(&format!("postgres://u@h/db?sslmode={bad}"))
                .err()
                .unwrap_or_default();
            assert!(
                error.contains(&format!("sslmode={bad} is not supported")),
                "{error}"
            );
        }
        assert!(parse_config("postgres://u@h/db?sslmode=bogus").is_err());
    }

    #[test]
    fn the_connector_builds() {
        assert!(Tls::new().is_ok());
    }
}
