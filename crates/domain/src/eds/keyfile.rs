//! A person's key file (PKCS#12, as the national CA issues them): opening it with its password,
//! reading its certificate, and signing detached CMS with it. Used in the browser, where the key
//! never leaves the page, and by the server's tests and tools.
//!
//! Crates: `p12-keystore` 0.4 decrypts the file (it keeps its own pre-release `cms` inside);
//! `cms` 0.2 with `x509-cert` 0.2 and `rsa` 0.9 build the SignedData — the newest generation
//! that compiles for wasm32 together with p12-keystore. rsa 0.9 has a timing side channel
//! (RUSTSEC-2023-0071) that needs an attacker timing many private-key operations; here a
//! person signs their own document in their own browser, once.

use cms::builder::{SignedDataBuilder, SignerInfoBuilder};
use cms::cert::{CertificateChoices, IssuerAndSerialNumber};
use cms::signed_data::{EncapsulatedContentInfo, SignedData, SignerIdentifier};
use const_oid::ObjectIdentifier;
use const_oid::db::{rfc4519, rfc5280, rfc5911, rfc5912};
use der::asn1::{SetOfVec, UtcTime};
use der::{Any, DateTime, Decode, Encode, Tag, Tagged};
use p12_keystore::{KeyStore, Pkcs12ImportPolicy};
use rsa::RsaPrivateKey;
use rsa::pkcs8::DecodePrivateKey;
use sha2::{Digest, Sha256};
use x509_cert::Certificate;
use x509_cert::attr::Attribute;
use x509_cert::ext::pkix::KeyUsage;
use x509_cert::name::Name;
use x509_cert::spki::AlgorithmIdentifierOwned;

use super::{CertificateSummary, KeyPurpose};

/// RFC 5035 `id-aa-signingCertificateV2`: binds the signature to the signer's certificate
/// (what makes CMS SignedData CAdES-BES).
pub const SIGNING_CERTIFICATE_V2: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.16.2.47");

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyFileError {
    /// The password does not open the file.
    WrongPassword,
    /// Not a PKCS#12 key file.
    NotAKeyFile,
    /// The file holds no private key with a certificate.
    NoKey,
    /// The key is not RSA (GOST keys of the national CA are not supported in the browser).
    UnsupportedKey,
}

/// An opened key file: the private key and its certificate.
pub struct KeyFile {
    key: RsaPrivateKey,
    certificate: Certificate,
    certificate_der: Vec<u8>,
    summary: CertificateSummary,
}

impl KeyFile {
    /// A key file made of a key and its certificate (what `open` finds inside a `.p12`), for
    /// programs that issue many certificates to one key, as the load benchmark does.
    pub fn from_parts(key: RsaPrivateKey, certificate: Certificate) -> Result<KeyFile, der::Error> {
        let certificate_der = certificate.to_der()?;
        let summary = summarize_certificate(&certificate);
        Ok(KeyFile {
            key,
            certificate,
            certificate_der,
            summary,
        })
    }

    pub fn open(bytes: &[u8], password: &str) -> Result<KeyFile, KeyFileError> {
        let store = KeyStore::from_pkcs12(bytes, password, Pkcs12ImportPolicy::Relaxed).map_err(
            |e| match e {
                p12_keystore::error::Error::MacError(_)
                | p12_keystore::error::Error::UnpadError
                | p12_keystore::error::Error::Pkcs5Error(_) => KeyFileError::WrongPassword,
                _ => KeyFileError::NotAKeyFile,
            },
        )?;
        let (_, chain) = store.private_key_chain().ok_or(KeyFileError::NoKey)?;
        let certificate_der = chain
            .certs()
            .first()
            .ok_or(KeyFileError::NoKey)?
            .as_der()
            .to_vec();
        let key = RsaPrivateKey::from_pkcs8_der(chain.key().as_der())
            .map_err(|_| KeyFileError::UnsupportedKey)?;
        let certificate =
            Certificate::from_der(&certificate_der).map_err(|_| KeyFileError::NotAKeyFile)?;
        KeyFile::from_parts(key, certificate).map_err(|_| KeyFileError::NotAKeyFile)
    }

    pub fn summary(&self) -> &CertificateSummary {
        &self.summary
    }

    pub fn certificate_der(&self) -> &[u8] {
        &self.certificate_der
    }

    /// A detached CMS SignedData over `content`: RSA PKCS#1 v1.5 with SHA-256, the signer's
    /// certificate embedded, and the signed attributes content-type, message-digest,
    /// signing-time (`signing_time`, Unix seconds — the browser has no system clock to ask) and
    /// signing-certificate-v2.
    pub fn sign_detached(&self, content: &[u8], signing_time: i64) -> Result<Vec<u8>, der::Error> {
        let failed = || der::Error::from(der::ErrorKind::Failed);
        let signer = rsa::pkcs1v15::SigningKey::<Sha256>::new(self.key.clone());
        let digest = Sha256::digest(content);
        let econtent = EncapsulatedContentInfo {
            econtent_type: rfc5911::ID_DATA,
            econtent: None,
        };
        let sid = SignerIdentifier::IssuerAndSerialNumber(IssuerAndSerialNumber {
            issuer: self.certificate.tbs_certificate.issuer.clone(),
            serial_number: self.certificate.tbs_certificate.serial_number.clone(),
        });
        let sha256 = AlgorithmIdentifierOwned {
            oid: rfc5912::ID_SHA_256,
            parameters: None,
        };
        let mut signer_info =
            SignerInfoBuilder::new(&signer, sid, sha256.clone(), &econtent, Some(&digest))
                .map_err(|_| failed())?;
        signer_info
            .add_signed_attribute(signing_time_attribute(signing_time)?)
            .map_err(|_| failed())?;
        signer_info
            .add_signed_attribute(signing_certificate_attribute(&self.certificate_der)?)
            .map_err(|_| failed())?;
        let mut builder = SignedDataBuilder::new(&econtent);
        builder
            .add_digest_algorithm(sha256)
            .map_err(|_| failed())?
            .add_certificate(CertificateChoices::Certificate(self.certificate.clone()))
            .map_err(|_| failed())?
            .add_signer_info::<_, rsa::pkcs1v15::Signature>(signer_info)
            .map_err(|_| failed())?;
        builder.build().map_err(|_| failed())?.to_der()
    }
}

fn signing_time_attribute(unix_seconds: i64) -> der::Result<Attribute> {
    let time =
        DateTime::from_unix_duration(std::time::Duration::from_secs(unix_seconds.max(0) as u64))?;
    let mut values = SetOfVec::new();
    values.insert(Any::from_der(&UtcTime::from_date_time(time)?.to_der()?)?)?;
    Ok(Attribute {
        oid: rfc5911::ID_SIGNING_TIME,
        values,
    })
}

/// `SigningCertificateV2 ::= SEQUENCE { certs SEQUENCE OF ESSCertIDv2 }` with one
/// `ESSCertIDv2 ::= SEQUENCE { certHash OCTET STRING }` (the hash algorithm defaults to SHA-256).
fn signing_certificate_attribute(certificate_der: &[u8]) -> der::Result<Attribute> {
    let hash = Sha256::digest(certificate_der);
    let mut der = vec![0x30, 0x26, 0x30, 0x24, 0x30, 0x22, 0x04, 0x20];
    der.extend_from_slice(&hash);
    let mut values = SetOfVec::new();
    values.insert(Any::from_der(&der)?)?;
    Ok(Attribute {
        oid: SIGNING_CERTIFICATE_V2,
        values,
    })
}

/// The SignedData inside a CMS ContentInfo (DER), if that is what it is.
pub fn signed_data(cms: &[u8]) -> Option<SignedData> {
    let info = cms::content_info::ContentInfo::from_der(cms).ok()?;
    if info.content_type != rfc5911::ID_SIGNED_DATA {
        return None;
    }
    info.content.decode_as().ok()
}

/// The certificate of the (first) signer, found among the SignedData's certificates.
pub fn signer_certificate(signed: &SignedData) -> Option<Certificate> {
    let SignerIdentifier::IssuerAndSerialNumber(sid) =
        &signed.signer_infos.0.as_slice().first()?.sid
    else {
        return None;
    };
    signed
        .certificates
        .iter()
        .flat_map(|set| set.0.iter())
        .find_map(|choice| match choice {
            CertificateChoices::Certificate(c)
                if c.tbs_certificate.issuer == sid.issuer
                    && c.tbs_certificate.serial_number == sid.serial_number =>
            {
                Some(c.clone())
            }
            _ => None,
        })
}

/// Whose certificate made a CMS signature (read, not verified): to explain a wrong key before
/// anything is sent.
pub fn signer_of(cms: &[u8]) -> Option<CertificateSummary> {
    signed_data(cms)
        .as_ref()
        .and_then(signer_certificate)
        .map(|c| summarize_certificate(&c))
}

/// Reads the facts of a DER certificate.
pub fn summarize(certificate_der: &[u8]) -> Result<CertificateSummary, der::Error> {
    Ok(summarize_certificate(&Certificate::from_der(
        certificate_der,
    )?))
}

/// The facts of a decoded certificate.
pub fn summarize_certificate(certificate: &Certificate) -> CertificateSummary {
    let tbs = &certificate.tbs_certificate;
    let iin = name_attribute(&tbs.subject, rfc4519::SERIAL_NUMBER)
        .and_then(|s| s.strip_prefix("IIN").map(str::to_string))
        .filter(|s| s.len() == 12 && s.bytes().all(|b| b.is_ascii_digit()));
    let usage = tbs
        .extensions
        .iter()
        .flatten()
        .find(|e| e.extn_id == rfc5280::ID_CE_KEY_USAGE)
        .and_then(|e| KeyUsage::from_der(e.extn_value.as_bytes()).ok());
    let purpose = match usage {
        Some(u) if u.digital_signature() && u.non_repudiation() => KeyPurpose::Signing,
        Some(u) if u.digital_signature() && !u.key_cert_sign() => KeyPurpose::Authentication,
        _ => KeyPurpose::Other,
    };
    CertificateSummary {
        holder: name_attribute(&tbs.subject, rfc4519::CN).unwrap_or_default(),
        iin,
        issuer: name_attribute(&tbs.issuer, rfc4519::CN).unwrap_or_default(),
        serial: tbs
            .serial_number
            .as_bytes()
            .iter()
            .map(|b| format!("{b:02X}"))
            .collect(),
        not_before: tbs.validity.not_before.to_unix_duration().as_secs() as i64,
        not_after: tbs.validity.not_after.to_unix_duration().as_secs() as i64,
        purpose,
    }
}

/// The first value of an attribute of a name, as text.
pub fn name_attribute(name: &Name, oid: ObjectIdentifier) -> Option<String> {
    name.0
        .iter()
        .flat_map(|rdn| rdn.0.iter())
        .find(|atv| atv.oid == oid)
        .and_then(|atv| match atv.value.tag() {
            Tag::Utf8String | Tag::PrintableString | Tag::Ia5String => {
                std::str::from_utf8(atv.value.value())
                    .ok()
                    .map(str::to_string)
            }
            _ => None,
        })
}
