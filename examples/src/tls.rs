//! TLS for the example servers and clients: rustls with the ring provider.
//!
//! Servers use the certificate and key given on the command line, or else a
//! self-signed certificate made with rcgen and kept in the data directory (so
//! clients can pin it across restarts). Clients verify against the Mozilla
//! roots plus any extra CA file, unless `--insecure` asks them not to.

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::{ClientConfig, DigitallySignedStruct, RootCertStore, ServerConfig, SignatureScheme};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use std::fs;
use std::io;
use std::path::Path;
use std::sync::Arc;
use tokio_rustls::{TlsAcceptor, TlsConnector};

/// A certificate chain and its private key.
#[derive(Debug)]
pub struct Identity {
    /// The chain, leaf first.
    pub certs: Vec<CertificateDer<'static>>,
    /// The leaf's private key.
    pub key: PrivateKeyDer<'static>,
}

fn invalid(e: impl std::fmt::Display) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, e.to_string())
}

fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// Reads a PEM certificate chain and a PEM private key.
///
/// # Errors
///
/// I/O errors, or `InvalidData` if the files hold no certificate or key.
pub fn load_pem(cert_path: &Path, key_path: &Path) -> io::Result<Identity> {
    // Every error names its file: the PEM reader's own errors do not.
    let certs = CertificateDer::pem_file_iter(cert_path)
        .map_err(|e| about_file(cert_path, e))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| about_file(cert_path, e))?;
    if certs.is_empty() {
        return Err(invalid(format!("no certificate in {}", cert_path.display())));
    }
    let key = PrivateKeyDer::from_pem_file(key_path).map_err(|e| match e {
        rustls_pki_types::pem::Error::NoItemsFound => {
            invalid(format!("no private key in {}", key_path.display()))
        }
        e => about_file(key_path, e),
    })?;
    Ok(Identity { certs, key })
}

/// A PEM reading error for `path`, keeping the I/O error kind.
fn about_file(path: &Path, e: rustls_pki_types::pem::Error) -> io::Error {
    match e {
        rustls_pki_types::pem::Error::Io(io) => about_path(path, &io),
        e => invalid(format!("{}: {e}", path.display())),
    }
}

/// An I/O error for `path`: the same kind, the path in front of the message.
fn about_path(path: &Path, e: &io::Error) -> io::Error {
    io::Error::new(e.kind(), format!("{}: {e}", path.display()))
}

/// Loads `cert.pem`/`key.pem` from `dir`, or creates a self-signed pair for
/// `names` (DNS names or IP addresses) and stores it there (key mode 0600).
///
/// # Errors
///
/// I/O errors (each names the path it is about), or certificate
/// generation failing.
pub fn load_or_create_self_signed(dir: &Path, names: &[String]) -> io::Result<Identity> {
    let (cert_path, key_path) = (dir.join("cert.pem"), dir.join("key.pem"));
    if cert_path.exists() && key_path.exists() {
        return load_pem(&cert_path, &key_path);
    }
    crate::create_dir_all(dir).map_err(|e| about_path(dir, &e))?;
    let certified = rcgen::generate_simple_self_signed(names.to_vec()).map_err(invalid)?;
    let key_pem = certified.signing_key.serialize_pem();
    {
        use std::io::Write;
        use std::os::unix::fs::OpenOptionsExt;
        let mut f = fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o600)
            .open(&key_path)
            .map_err(|e| about_path(&key_path, &e))?;
        f.write_all(key_pem.as_bytes())
            .map_err(|e| about_path(&key_path, &e))?;
        f.sync_all().map_err(|e| about_path(&key_path, &e))?;
    }
    fs::write(&cert_path, certified.cert.pem()).map_err(|e| about_path(&cert_path, &e))?;
    load_pem(&cert_path, &key_path)
}

/// A server-side TLS acceptor for `identity`.
///
/// # Errors
///
/// `InvalidData` if rustls refuses the certificate or key.
pub fn acceptor(identity: Identity) -> io::Result<TlsAcceptor> {
    let config = ServerConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .map_err(invalid)?
        .with_no_client_auth()
        .with_single_cert(identity.certs, identity.key)
        .map_err(invalid)?;
    Ok(TlsAcceptor::from(Arc::new(config)))
}

/// A client-side TLS connector. With `insecure`, any server certificate is
/// accepted (for self-signed test servers); otherwise the Mozilla roots plus
/// the certificates in `extra_ca` (a PEM file) are trusted.
///
/// # Errors
///
/// I/O errors reading `extra_ca`, or `InvalidData` for a bad certificate.
pub fn connector(insecure: bool, extra_ca: Option<&Path>) -> io::Result<TlsConnector> {
    let builder = ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .map_err(invalid)?;
    let config = if insecure {
        builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(AcceptAnyCert(provider())))
            .with_no_client_auth()
    } else {
        let mut roots = RootCertStore::empty();
        roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
        if let Some(path) = extra_ca {
            for cert in CertificateDer::pem_file_iter(path).map_err(|e| about_file(path, e))? {
                let cert = cert.map_err(|e| about_file(path, e))?;
                roots
                    .add(cert)
                    .map_err(|e| invalid(format!("{}: {e}", path.display())))?;
            }
        }
        builder.with_root_certificates(roots).with_no_client_auth()
    };
    Ok(TlsConnector::from(Arc::new(config)))
}

/// Parses a host name or IP address for SNI and verification.
///
/// # Errors
///
/// `InvalidInput` for a string that is neither.
pub fn server_name(host: &str) -> io::Result<ServerName<'static>> {
    ServerName::try_from(host.to_owned()).map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))
}

/// The `--insecure` verifier: checks signatures (so the handshake is still a
/// real one) but not who signed the certificate or for which name.
#[derive(Debug)]
struct AcceptAnyCert(Arc<rustls::crypto::CryptoProvider>);

impl ServerCertVerifier for AcceptAnyCert {
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
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.0.signature_verification_algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.0.signature_verification_algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    async fn handshake(connector: TlsConnector, acceptor: TlsAcceptor, name: &str) -> io::Result<Vec<u8>> {
        let (client, server) = tokio::io::duplex(64 * 1024);
        let server_task = tokio::spawn(async move {
            let mut s = acceptor.accept(server).await?;
            s.write_all(b"hello over tls").await?;
            s.shutdown().await?;
            io::Result::Ok(())
        });
        let mut c = connector.connect(server_name(name)?, client).await?;
        let mut got = Vec::new();
        c.read_to_end(&mut got).await?;
        server_task.await.map_err(io::Error::other)??;
        Ok(got)
    }

    #[tokio::test]
    async fn self_signed_cert_is_kept_and_verifies_when_pinned() {
        let dir = std::env::temp_dir().join(format!("tls-test-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        let names = vec!["localhost".to_owned(), "127.0.0.1".to_owned()];
        let first = load_or_create_self_signed(&dir, &names).unwrap();
        let again = load_or_create_self_signed(&dir, &names).unwrap();
        assert_eq!(first.certs, again.certs, "certificate kept across restarts");

        // Pinned through --ca-file: verifies.
        let pinned = connector(false, Some(&dir.join("cert.pem"))).unwrap();
        let got = handshake(pinned, acceptor(first).unwrap(), "localhost")
            .await
            .unwrap();
        assert_eq!(got, b"hello over tls");

        // Not pinned: refused.
        let strict = connector(false, None).unwrap();
        let id = load_or_create_self_signed(&dir, &names).unwrap();
        assert!(
            handshake(strict, acceptor(id).unwrap(), "localhost")
                .await
                .is_err()
        );

        // --insecure: accepted.
        let id = load_or_create_self_signed(&dir, &names).unwrap();
        let got = handshake(connector(true, None).unwrap(), acceptor(id).unwrap(), "localhost")
            .await
            .unwrap();
        assert_eq!(got, b"hello over tls");
        let _ = fs::remove_dir_all(dir);
    }
}
