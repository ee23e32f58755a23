//! A throwaway certificate authority and one server certificate it issues, for servers under test
//! that speak TLS. Nothing here is fit for production: the keys live in memory and temp files.

use std::io;

use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair, KeyUsagePurpose};

/// A CA's certificate and a server certificate (with its key) it signed, all PEM.
pub(crate) struct Issued {
    pub(crate) ca_pem: String,
    pub(crate) certificate_pem: String,
    pub(crate) key_pem: String,
}

/// A new CA and a certificate from it naming `hosts` (IP addresses or DNS names).
pub(crate) fn issue(hosts: &[&str]) -> io::Result<Issued> {
    let ca_key = KeyPair::generate().map_err(io::Error::other)?;
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).map_err(io::Error::other)?;
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    ca_params.distinguished_name.push(DnType::CommonName, "session-testkit throwaway CA");
    let ca_certificate = ca_params.self_signed(&ca_key).map_err(io::Error::other)?;
    let issuer = Issuer::new(ca_params, ca_key);

    let key = KeyPair::generate().map_err(io::Error::other)?;
    let hosts: Vec<String> = hosts.iter().map(|host| host.to_string()).collect();
    let mut params = CertificateParams::new(hosts).map_err(io::Error::other)?;
    params.distinguished_name.push(DnType::CommonName, "session-testkit server");
    let certificate = params.signed_by(&key, &issuer).map_err(io::Error::other)?;
    Ok(Issued { ca_pem: ca_certificate.pem(), certificate_pem: certificate.pem(), key_pem: key.serialize_pem() })
}
