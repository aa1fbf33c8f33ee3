//! A test certification authority modelled on the national CA (НУЦ РК): a root, an issuing CA,
//! and personal certificates — one for signing (digitalSignature + nonRepudiation) and one for
//! authentication (digitalSignature) — whose subject carries `serialNumber=IIN<12 digits>`.
//! The issuing CA publishes a CRL, referenced from every certificate it issues.
//!
//! For demos and tests only: a real deployment trusts the national CA's certificates
//! (`PORTAL_TRUST_DIR`) and issues nothing.

use std::path::Path;
use std::time::Duration;

use anyhow::{Context, anyhow};
use der::asn1::{Ia5String, SetOfVec};
use der::referenced::OwnedToRef;
use der::{Any, Decode, Encode, Tag};
use p12_keystore::{KeyStore, KeyStoreEntry, PrivateKeyChain};
use rand_core::{OsRng, RngCore};
use rsa::RsaPrivateKey;
use rsa::pkcs1v15::SigningKey;
use rsa::pkcs8::{DecodePrivateKey, EncodePrivateKey, LineEnding};
use rsa::signature::{SignatureEncoding, Signer};
use sha2::Sha256;
use x509_cert::Certificate;
use x509_cert::attr::AttributeTypeAndValue;
use x509_cert::builder::{Builder, CertificateBuilder, Profile};
use x509_cert::crl::{CertificateList, RevokedCert, TbsCertList};
use x509_cert::ext::pkix::crl::dp::DistributionPoint;
use x509_cert::ext::pkix::name::{DistributionPointName, GeneralName};
use x509_cert::ext::pkix::{
    AuthorityKeyIdentifier, BasicConstraints, CrlDistributionPoints, CrlNumber, ExtendedKeyUsage,
    KeyUsage, KeyUsages,
};
use x509_cert::ext::{AsExtension, Extension};
use x509_cert::name::{Name, RdnSequence, RelativeDistinguishedName};
use x509_cert::serial_number::SerialNumber;
use x509_cert::spki::{EncodePublicKey, SubjectPublicKeyInfoOwned};
use x509_cert::time::{Time, Validity};

pub use portal_domain::eds::KeyPurpose;

const ROOT_FILE: &str = "root.cer";
const ISSUING_FILE: &str = "issuing.cer";
const ISSUING_KEY_FILE: &str = "issuing.key.pem";

/// Where the issuing CA's CRL is published, relative to the portal's address.
pub const CRL_PATH: &str = "/pki/issuing.crl";

/// The issuing CA with its key, and the root above it.
pub struct Authority {
    pub root: Certificate,
    pub issuing: Certificate,
    key: RsaPrivateKey,
}

/// A person a certificate is issued to.
pub struct Person<'a> {
    pub iin: &'a str,
    pub last_name: &'a str,
    pub first_name: &'a str,
}

/// A freshly issued certificate and its private key.
pub struct Issued {
    pub certificate: Certificate,
    pub key: RsaPrivateKey,
}

impl Authority {
    /// Creates a root and an issuing CA in `dir` (RSA-2048, SHA-256, valid for 20 years).
    pub fn create(dir: &Path, label: &str) -> anyhow::Result<Authority> {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
        let authority = Authority::generate(label)?;
        for (name, bytes) in [ROOT_FILE, ISSUING_FILE, ISSUING_KEY_FILE]
            .into_iter()
            .zip(authority.to_parts()?)
        {
            std::fs::write(dir.join(name), bytes)?;
        }
        Ok(authority)
    }

    /// A new root and issuing CA, in memory.
    pub fn generate(label: &str) -> anyhow::Result<Authority> {
        let root_key = new_key()?;
        let root_name = ca_name(&format!("{label} root CA (RSA)"))?;
        let validity = validity_from(now_seconds() - 86_400, 20 * 365 * 86_400)?;
        let root_signer = SigningKey::<Sha256>::new(root_key.clone());
        let root = CertificateBuilder::new(
            Profile::Root,
            random_serial(),
            validity.clone(),
            root_name.clone(),
            spki(&root_key)?,
            &root_signer,
        )?
        .build::<rsa::pkcs1v15::Signature>()?;
        let key = new_key()?;
        let issuing = CertificateBuilder::new(
            Profile::SubCA {
                issuer: root_name,
                path_len_constraint: Some(0),
            },
            random_serial(),
            validity,
            ca_name(&format!("{label} issuing CA (RSA)"))?,
            spki(&key)?,
            &root_signer,
        )?
        .build::<rsa::pkcs1v15::Signature>()?;
        Ok(Authority { root, issuing, key })
    }

    /// The root certificate (DER), the issuing certificate (DER) and the issuing key (PKCS#8
    /// PEM): what [`Authority::from_parts`] reads.
    pub fn to_parts(&self) -> anyhow::Result<[Vec<u8>; 3]> {
        Ok([
            self.root.to_der()?,
            self.issuing.to_der()?,
            self.key.to_pkcs8_pem(LineEnding::LF)?.as_bytes().to_vec(),
        ])
    }

    pub fn from_parts(root: &[u8], issuing: &[u8], key: &[u8]) -> anyhow::Result<Authority> {
        let root = Certificate::from_der(root).context("root.cer is not a DER certificate")?;
        let issuing =
            Certificate::from_der(issuing).context("issuing.cer is not a DER certificate")?;
        let pem = std::str::from_utf8(key).context("issuing.key.pem is not text")?;
        let key = RsaPrivateKey::from_pkcs8_pem(pem)
            .context("issuing.key.pem is not a PKCS#8 RSA key")?;
        Ok(Authority { root, issuing, key })
    }

    pub fn load(dir: &Path) -> anyhow::Result<Authority> {
        let read = |name: &str| {
            std::fs::read(dir.join(name))
                .with_context(|| format!("cannot read {}", dir.join(name).display()))
        };
        Authority::from_parts(
            &read(ROOT_FILE)?,
            &read(ISSUING_FILE)?,
            &read(ISSUING_KEY_FILE)?,
        )
    }

    /// Whether `dir` holds a CA.
    pub fn exists(dir: &Path) -> bool {
        dir.join(ISSUING_KEY_FILE).exists()
    }

    /// Loads the CA in `dir`, creating it first when the directory has none.
    pub fn load_or_create(dir: &Path, label: &str) -> anyhow::Result<Authority> {
        if Authority::exists(dir) {
            Authority::load(dir)
        } else {
            Authority::create(dir, label)
        }
    }

    /// Issues a personal certificate valid from `not_before` (Unix seconds) for `days`, naming
    /// `crl_url` as its CRL distribution point.
    pub fn issue(
        &self,
        person: &Person<'_>,
        purpose: KeyPurpose,
        not_before: i64,
        days: u32,
        crl_url: &str,
    ) -> anyhow::Result<Issued> {
        let key = new_key()?;
        let certificate = self.issue_to(person, purpose, &key, not_before, days, crl_url)?;
        Ok(Issued { certificate, key })
    }

    /// Issues a personal certificate to an existing `key` (as [`Authority::issue`] does to a
    /// new one).
    pub fn issue_to(
        &self,
        person: &Person<'_>,
        purpose: KeyPurpose,
        key: &RsaPrivateKey,
        not_before: i64,
        days: u32,
        crl_url: &str,
    ) -> anyhow::Result<Certificate> {
        let subject = person_name(person)?;
        let validity = validity_from(not_before, i64::from(days) * 86_400)?;
        let signer = SigningKey::<Sha256>::new(self.key.clone());
        let mut builder = CertificateBuilder::new(
            Profile::Manual {
                issuer: Some(self.issuing.tbs_certificate.subject.clone()),
            },
            random_serial(),
            validity,
            subject,
            spki(key)?,
            &signer,
        )?;
        let usages = match purpose {
            KeyPurpose::Signing => KeyUsages::DigitalSignature | KeyUsages::NonRepudiation,
            KeyPurpose::Authentication => KeyUsages::DigitalSignature | KeyUsages::KeyEncipherment,
            KeyPurpose::Other => KeyUsages::KeyEncipherment.into(),
        };
        builder.add_extension(&BasicConstraints {
            ca: false,
            path_len_constraint: None,
        })?;
        builder.add_extension(&KeyUsage(usages))?;
        // As the national CA: e-mail protection on signing keys, client authentication on the other.
        let purpose_oid = match purpose {
            KeyPurpose::Authentication => const_oid::db::rfc5280::ID_KP_CLIENT_AUTH,
            _ => const_oid::db::rfc5280::ID_KP_EMAIL_PROTECTION,
        };
        builder.add_extension(&ExtendedKeyUsage(vec![purpose_oid]))?;
        builder.add_extension(&AuthorityKeyIdentifier::try_from(
            self.issuing
                .tbs_certificate
                .subject_public_key_info
                .owned_to_ref(),
        )?)?;
        builder.add_extension(&CrlDistributionPoints(vec![DistributionPoint {
            distribution_point: Some(DistributionPointName::FullName(vec![
                GeneralName::UniformResourceIdentifier(Ia5String::new(crl_url)?),
            ])),
            reasons: None,
            crl_issuer: None,
        }]))?;
        Ok(builder.build::<rsa::pkcs1v15::Signature>()?)
    }

    /// A password-protected PKCS#12 file with the key, its certificate and the chain
    /// (AES-256 with PBKDF2-SHA256, as current tools write them).
    pub fn pkcs12(&self, issued: &Issued, password: &str) -> anyhow::Result<Vec<u8>> {
        let key = p12_keystore::PrivateKey::from_der(issued.key.to_pkcs8_der()?.as_bytes())
            .map_err(|e| anyhow!("{e}"))?;
        let chain = [&issued.certificate, &self.issuing, &self.root]
            .iter()
            .map(|c| p12_keystore::Certificate::from_der(&c.to_der()?).map_err(|e| anyhow!("{e}")))
            .collect::<anyhow::Result<Vec<_>>>()?;
        let mut local_key_id = [0u8; 20];
        OsRng.fill_bytes(&mut local_key_id);
        let mut store = KeyStore::new();
        store.add_entry(
            "key",
            KeyStoreEntry::PrivateKeyChain(PrivateKeyChain::new(local_key_id.to_vec(), key, chain)),
        );
        store
            .writer(password)
            .write()
            .map_err(|e| anyhow!("cannot write the PKCS#12 file: {e}"))
    }

    /// The CRL listing `revoked` (serial bytes, revocation time in Unix seconds), numbered
    /// `number`, valid from `this_update` for `valid_for`.
    pub fn crl(
        &self,
        revoked: &[(Vec<u8>, i64)],
        number: u64,
        this_update: i64,
        valid_for: Duration,
    ) -> anyhow::Result<Vec<u8>> {
        let signer = SigningKey::<Sha256>::new(self.key.clone());
        let algorithm =
            x509_cert::spki::DynSignatureAlgorithmIdentifier::signature_algorithm_identifier(
                &signer,
            )?;
        let entries = revoked
            .iter()
            .map(|(serial, at)| {
                Ok(RevokedCert {
                    serial_number: SerialNumber::new(serial)?,
                    revocation_date: time(*at)?,
                    crl_entry_extensions: None,
                })
            })
            .collect::<anyhow::Result<Vec<_>>>()?;
        let crl_number = CrlNumber(der::asn1::Uint::new(&number.to_be_bytes())?);
        let tbs = TbsCertList {
            version: x509_cert::Version::V2,
            signature: algorithm.clone(),
            issuer: self.issuing.tbs_certificate.subject.clone(),
            this_update: time(this_update)?,
            next_update: Some(time(this_update + valid_for.as_secs() as i64)?),
            revoked_certificates: if entries.is_empty() {
                None
            } else {
                Some(entries)
            },
            crl_extensions: Some(vec![
                crl_number.to_extension(&self.issuing.tbs_certificate.subject, &[])?,
            ]),
        };
        let signature = signer.try_sign(&tbs.to_der()?)?;
        let list = CertificateList {
            tbs_cert_list: tbs,
            signature_algorithm: algorithm,
            signature: der::asn1::BitString::from_bytes(&signature.to_bytes())?,
        };
        Ok(list.to_der()?)
    }
}

pub fn new_key() -> anyhow::Result<RsaPrivateKey> {
    RsaPrivateKey::new(&mut OsRng, 2048).context("cannot generate an RSA key")
}

fn spki(key: &RsaPrivateKey) -> anyhow::Result<SubjectPublicKeyInfoOwned> {
    let der = key.to_public_key().to_public_key_der()?;
    Ok(SubjectPublicKeyInfoOwned::from_der(der.as_bytes())?)
}

/// A positive 16-byte random serial number.
fn random_serial() -> SerialNumber {
    let mut bytes = [0u8; 16];
    OsRng.fill_bytes(&mut bytes);
    bytes[0] = (bytes[0] & 0x7f) | 0x01;
    SerialNumber::new(&bytes).expect("16 bytes make a serial number")
}

fn time(unix_seconds: i64) -> anyhow::Result<Time> {
    let at = der::DateTime::from_unix_duration(Duration::from_secs(unix_seconds.max(0) as u64))?;
    Ok(if at.year() < 2050 {
        Time::UtcTime(der::asn1::UtcTime::from_date_time(at)?)
    } else {
        Time::GeneralTime(der::asn1::GeneralizedTime::from_date_time(at))
    })
}

fn validity_from(not_before: i64, seconds: i64) -> anyhow::Result<Validity> {
    Ok(Validity {
        not_before: time(not_before)?,
        not_after: time(not_before + seconds)?,
    })
}

pub fn now_seconds() -> i64 {
    crate::db::now_millis() / 1000
}

fn ca_name(common_name: &str) -> anyhow::Result<Name> {
    name(&[
        (const_oid::db::rfc4519::CN, Tag::Utf8String, common_name),
        (const_oid::db::rfc4519::C, Tag::PrintableString, "KZ"),
    ])
}

/// `CN=<LAST FIRST>, SURNAME=<LAST>, SERIALNUMBER=IIN<iin>, C=KZ, GIVENNAME=<FIRST>`, as the national CA writes it.
fn person_name(person: &Person<'_>) -> anyhow::Result<Name> {
    let common = format!("{} {}", person.last_name, person.first_name)
        .trim()
        .to_uppercase();
    let last = person.last_name.to_uppercase();
    let first = person.first_name.to_uppercase();
    let serial = portal_domain::eds::subject_serial_number(person.iin);
    name(&[
        (const_oid::db::rfc4519::CN, Tag::Utf8String, &common),
        (const_oid::db::rfc4519::SN, Tag::Utf8String, &last),
        (
            const_oid::db::rfc4519::SERIAL_NUMBER,
            Tag::PrintableString,
            &serial,
        ),
        (const_oid::db::rfc4519::C, Tag::PrintableString, "KZ"),
        (const_oid::db::rfc4519::GIVEN_NAME, Tag::Utf8String, &first),
    ])
}

fn name(parts: &[(der::oid::ObjectIdentifier, Tag, &str)]) -> anyhow::Result<Name> {
    let rdns = parts
        .iter()
        .map(|(oid, tag, value)| {
            let atv = AttributeTypeAndValue {
                oid: *oid,
                value: Any::new(*tag, value.as_bytes())?,
            };
            Ok(RelativeDistinguishedName(SetOfVec::try_from(vec![atv])?))
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    Ok(RdnSequence(rdns))
}

/// Parses `IIN`-style serials printed by the CLI (upper-case hex) back to bytes.
pub fn serial_from_hex(hex: &str) -> Option<Vec<u8>> {
    if hex.is_empty() || hex.len() % 2 != 0 {
        return None;
    }
    (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).ok())
        .collect()
}

/// The extension a certificate carries with `oid`, if any.
pub fn extension<'a>(
    certificate: &'a Certificate,
    oid: der::oid::ObjectIdentifier,
) -> Option<&'a Extension> {
    certificate
        .tbs_certificate
        .extensions
        .iter()
        .flatten()
        .find(|e| e.extn_id == oid)
}
