//! A test certificate authority made at test time: a root the client trusts
//! and an intermediate that issues the server's certificates, so the server
//! must send its whole chain.

use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair, KeyUsagePurpose,
};

pub struct TestCa {
    root: CertifiedIssuer<'static, KeyPair>,
    intermediate: CertifiedIssuer<'static, KeyPair>,
}

/// A server certificate: the PEM files' contents and the leaf as the client sees it.
pub struct Issued {
    pub chain_pem: String,
    pub key_pem: String,
    pub leaf_der: Vec<u8>,
}

fn ca_params(name: &str) -> CertificateParams {
    let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    params.distinguished_name.push(DnType::CommonName, name);
    params
}

impl TestCa {
    pub fn new() -> Self {
        let root = CertifiedIssuer::self_signed(
            ca_params("scimhub test root"),
            KeyPair::generate().unwrap(),
        )
        .unwrap();
        let intermediate = CertifiedIssuer::signed_by(
            ca_params("scimhub test intermediate"),
            KeyPair::generate().unwrap(),
            &root,
        )
        .unwrap();
        TestCa { root, intermediate }
    }

    pub fn root_pem(&self) -> String {
        self.root.pem()
    }

    /// A certificate for 127.0.0.1 and localhost named `name`.
    pub fn issue(&self, name: &str) -> Issued {
        let key = KeyPair::generate().unwrap();
        let mut params =
            CertificateParams::new(vec!["127.0.0.1".to_string(), "localhost".to_string()]).unwrap();
        params.distinguished_name.push(DnType::CommonName, name);
        let leaf = params.signed_by(&key, &self.intermediate).unwrap();
        Issued {
            chain_pem: format!("{}{}", leaf.pem(), self.intermediate.pem()),
            key_pem: key.serialize_pem(),
            leaf_der: leaf.der().to_vec(),
        }
    }
}
