//! The server's certificate and key: read from PEM files, checked to belong
//! together, and swapped in place on reload. New handshakes get the current
//! pair; connections already open keep the one they were made with.

use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};

use anyhow::{Context, anyhow};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::{self, PemObject};
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;
use rustls::{Error as TlsError, InconsistentKeys};

/// The certificate files and the pair last loaded from them.
#[derive(Debug)]
pub struct Certificate {
    cert_file: PathBuf,
    key_file: PathBuf,
    provider: Arc<CryptoProvider>,
    current: RwLock<Arc<CertifiedKey>>,
}

impl Certificate {
    /// Loads the pair; any problem is an error naming the file.
    pub fn load(
        cert_file: &Path,
        key_file: &Path,
        provider: Arc<CryptoProvider>,
    ) -> anyhow::Result<Self> {
        let pair = read_pair(cert_file, key_file, &provider)?;
        Ok(Self {
            cert_file: cert_file.to_path_buf(),
            key_file: key_file.to_path_buf(),
            provider,
            current: RwLock::new(Arc::new(pair)),
        })
    }

    pub fn provider(&self) -> Arc<CryptoProvider> {
        self.provider.clone()
    }

    pub fn files(&self) -> [&Path; 2] {
        [&self.cert_file, &self.key_file]
    }

    /// Reads the files again; on any error the current pair stays.
    pub fn reload(&self) -> anyhow::Result<()> {
        let pair = Arc::new(read_pair(&self.cert_file, &self.key_file, &self.provider)?);
        *self.current.write().unwrap_or_else(|e| e.into_inner()) = pair;
        Ok(())
    }

    fn current(&self) -> Arc<CertifiedKey> {
        self.current
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }
}

impl ResolvesServerCert for Certificate {
    fn resolve(&self, _hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        Some(self.current())
    }
}

fn read(file: &Path, what: &str) -> anyhow::Result<Vec<u8>> {
    std::fs::read(file).with_context(|| format!("cannot read TLS {what} {}", file.display()))
}

fn read_pair(
    cert_file: &Path,
    key_file: &Path,
    provider: &CryptoProvider,
) -> anyhow::Result<CertifiedKey> {
    let cert_text = read(cert_file, "certificate file")?;
    let key_text = read(key_file, "key file")?;
    let chain = CertificateDer::pem_slice_iter(&cert_text)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| anyhow!("TLS certificate file {}: {e}", cert_file.display()))?;
    if chain.is_empty() {
        return Err(anyhow!(
            "TLS certificate file {} holds no PEM certificate (-----BEGIN CERTIFICATE-----)",
            cert_file.display()
        ));
    }
    let key = PrivateKeyDer::from_pem_slice(&key_text).map_err(|e| match e {
        pem::Error::NoItemsFound => anyhow!(
            "TLS key file {} holds no PEM private key (-----BEGIN PRIVATE KEY-----)",
            key_file.display()
        ),
        e => anyhow!("TLS key file {}: {e}", key_file.display()),
    })?;
    CertifiedKey::from_der(chain, key, provider).map_err(|e| match e {
        TlsError::InconsistentKeys(InconsistentKeys::KeyMismatch) => anyhow!(
            "TLS key file {} does not match the certificate in {}",
            key_file.display(),
            cert_file.display()
        ),
        TlsError::General(e) => anyhow!("TLS key file {}: {e}", key_file.display()),
        e => anyhow!("TLS certificate file {}: {e}", cert_file.display()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn provider() -> Arc<CryptoProvider> {
        Arc::new(rustls::crypto::aws_lc_rs::default_provider())
    }

    fn pair(name: &str) -> (String, String) {
        let made = rcgen::generate_simple_self_signed(vec![name.to_string()]).unwrap();
        (made.cert.pem(), made.signing_key.serialize_pem())
    }

    fn served(certificate: &Certificate) -> Vec<u8> {
        certificate.current().cert[0].to_vec()
    }

    #[test]
    fn a_failed_reload_keeps_the_current_pair() {
        let dir = tempfile::tempdir().unwrap();
        let (cert_file, key_file) = (dir.path().join("c.pem"), dir.path().join("k.pem"));
        let (first_cert, first_key) = pair("first.example");
        std::fs::write(&cert_file, &first_cert).unwrap();
        std::fs::write(&key_file, &first_key).unwrap();
        let certificate = Certificate::load(&cert_file, &key_file, provider()).unwrap();
        let first = served(&certificate);

        let (second_cert, second_key) = pair("second.example");
        std::fs::write(&cert_file, &second_cert).unwrap();
        let err = format!("{:#}", certificate.reload().unwrap_err());
        assert!(err.contains("does not match the certificate"), "{err}");
        assert_eq!(served(&certificate), first);

        std::fs::remove_file(&key_file).unwrap();
        let err = format!("{:#}", certificate.reload().unwrap_err());
        assert!(err.starts_with("cannot read TLS key file"), "{err}");
        assert_eq!(served(&certificate), first);

        std::fs::write(&key_file, &second_key).unwrap();
        certificate.reload().unwrap();
        assert_ne!(served(&certificate), first);
    }
}
