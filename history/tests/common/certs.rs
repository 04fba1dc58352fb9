//! Certificates for the TLS tests, made with OpenSSL in-process (no `openssl` binary
//! needed): a test CA, a server certificate it signs for `localhost` only (so a
//! connection to 127.0.0.1 passes `verify-ca` and fails `verify-full`), and a second,
//! unrelated CA that must not verify it. P-256 keys: fast to make.

use openssl::asn1::Asn1Time;
use openssl::bn::BigNum;
use openssl::ec::{EcGroup, EcKey};
use openssl::hash::MessageDigest;
use openssl::nid::Nid;
use openssl::pkey::{PKey, Private};
use openssl::x509::extension::{BasicConstraints, SubjectAlternativeName};
use openssl::x509::{X509Name, X509};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

/// The files, all in one directory.
pub struct Certs {
    /// The CA that signed the server's certificate.
    pub ca: PathBuf,
    /// A CA that did not.
    pub other_ca: PathBuf,
    /// The server's certificate (PEM).
    pub server_cert: PathBuf,
    /// The server's key (PEM, 0600).
    pub server_key: PathBuf,
}

fn key() -> PKey<Private> {
    let group = EcGroup::from_curve_name(Nid::X9_62_PRIME256V1).unwrap();
    PKey::from_ec_key(EcKey::generate(&group).unwrap()).unwrap()
}

fn name(cn: &str) -> X509Name {
    let mut n = X509Name::builder().unwrap();
    n.append_entry_by_nid(Nid::COMMONNAME, cn).unwrap();
    n.build()
}

/// A certificate for `subject_key` named `cn`, signed by `issuer` (self when `None`).
fn cert(
    cn: &str,
    subject_key: &PKey<Private>,
    issuer: Option<(&X509, &PKey<Private>)>,
    serial: u32,
) -> X509 {
    let mut b = X509::builder().unwrap();
    b.set_version(2).unwrap();
    b.set_serial_number(&BigNum::from_u32(serial).unwrap().to_asn1_integer().unwrap())
        .unwrap();
    b.set_subject_name(&name(cn)).unwrap();
    b.set_pubkey(subject_key).unwrap();
    b.set_not_before(&Asn1Time::days_from_now(0).unwrap())
        .unwrap();
    b.set_not_after(&Asn1Time::days_from_now(2).unwrap())
        .unwrap();
    match issuer {
        None => {
            b.set_issuer_name(&name(cn)).unwrap();
            let ca = BasicConstraints::new().critical().ca().build().unwrap();
            b.append_extension(ca).unwrap();
            b.sign(subject_key, MessageDigest::sha256()).unwrap();
        }
        Some((ca, ca_key)) => {
            b.set_issuer_name(ca.subject_name()).unwrap();
            let san = SubjectAlternativeName::new()
                .dns("localhost")
                .build(&b.x509v3_context(Some(ca), None))
                .unwrap();
            b.append_extension(san).unwrap();
            b.sign(ca_key, MessageDigest::sha256()).unwrap();
        }
    }
    b.build()
}

impl Certs {
    /// Make them in `dir`.
    pub fn make(dir: &Path) -> Certs {
        let (ca_key, other_key, server_key) = (key(), key(), key());
        let ca = cert("nestbench test CA", &ca_key, None, 1);
        let other = cert("another CA", &other_key, None, 2);
        let server = cert("localhost", &server_key, Some((&ca, &ca_key)), 3);
        let certs = Certs {
            ca: dir.join("ca.crt"),
            other_ca: dir.join("other-ca.crt"),
            server_cert: dir.join("server.crt"),
            server_key: dir.join("server.key"),
        };
        std::fs::write(&certs.ca, ca.to_pem().unwrap()).unwrap();
        std::fs::write(&certs.other_ca, other.to_pem().unwrap()).unwrap();
        std::fs::write(&certs.server_cert, server.to_pem().unwrap()).unwrap();
        std::fs::write(
            &certs.server_key,
            server_key.private_key_to_pem_pkcs8().unwrap(),
        )
        .unwrap();
        std::fs::set_permissions(&certs.server_key, std::fs::Permissions::from_mode(0o600))
            .unwrap();
        certs
    }
}
