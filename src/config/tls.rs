//! Built-in HTTPS (`[tls]`, `SCIMHUB_TLS_*`): where the certificate and key
//! are, and whether responses carry `Strict-Transport-Security`.

use std::path::PathBuf;

use anyhow::bail;
use serde::Deserialize;

#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TlsConfig {
    /// PEM certificate chain, the server's certificate first; with `key_file`
    /// `serve` speaks HTTPS only.
    pub cert_file: Option<PathBuf>,
    /// PEM private key (PKCS#8, PKCS#1 or SEC1) of the first certificate.
    pub key_file: Option<PathBuf>,
    /// When set, every response carries `Strict-Transport-Security: max-age=N`.
    pub hsts_max_age_secs: Option<u64>,
}

impl TlsConfig {
    /// The certificate and key files, when HTTPS is configured.
    pub fn files(&self) -> Option<(&PathBuf, &PathBuf)> {
        self.cert_file.as_ref().zip(self.key_file.as_ref())
    }

    pub(super) fn apply_env(&mut self, key: &str, name: &str, value: &str) -> anyhow::Result<()> {
        match name {
            "TLS_CERT_FILE" => self.cert_file = Some(value.into()),
            "TLS_KEY_FILE" => self.key_file = Some(value.into()),
            "TLS_HSTS_MAX_AGE_SECS" => {
                self.hsts_max_age_secs = Some(value.trim().parse().map_err(|_| {
                    anyhow::anyhow!("environment variable {key} has an invalid value")
                })?)
            }
            _ => {}
        }
        Ok(())
    }

    pub(super) fn check(&self) -> anyhow::Result<()> {
        match (&self.cert_file, &self.key_file) {
            (Some(_), None) => bail!("tls.cert_file is set but tls.key_file is not"),
            (None, Some(_)) => bail!("tls.key_file is set but tls.cert_file is not"),
            _ => {}
        }
        if self.hsts_max_age_secs.is_some() && self.files().is_none() {
            bail!(
                "tls.hsts_max_age_secs needs tls.cert_file and tls.key_file (HSTS is only sent over HTTPS)"
            );
        }
        Ok(())
    }
}
