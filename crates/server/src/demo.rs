//! The demo world, seeded when `PORTAL_DEMO=1`: fictional organisations and people from
//! `demo/organisations.json` and `demo/identities.json`. Seeding is idempotent: what exists
//! (by organisation id, by IIN) is left as it is.

use std::path::Path;

use anyhow::Context;
use portal_domain::accounts::Role;
use portal_domain::iin::Iin;
use portal_domain::organisation::{NewOfficer, NewOrganisation};
use portal_i18n::Lang;
use serde::Deserialize;

use crate::accounts::passwords;
use crate::accounts::users::{self, InsertError, NewUser};
use crate::db::Db;
use crate::organisations::{self, CreateError, OfficerError};

#[derive(Deserialize)]
struct OrganisationsFile {
    organisations: Vec<NewOrganisation>,
}

#[derive(Deserialize)]
pub struct IdentitiesFile {
    pub people: Vec<Identity>,
    /// The demo people's EDS key files, issued by the demo CA in `pki/`.
    #[serde(default)]
    pub key_files: Vec<DemoKeyFile>,
}

/// A committed `.p12` key file and what it demonstrates.
#[derive(Clone, Debug, Deserialize)]
pub struct DemoKeyFile {
    /// Relative to the demo directory.
    pub file: String,
    pub password: String,
    /// `valid`, `expired`, `revoked` or `other-iin` (someone else's key).
    pub state: String,
    pub description: String,
}

pub fn read_key_files(dir: &Path) -> anyhow::Result<Vec<DemoKeyFile>> {
    Ok(read_identities_file(dir)?.key_files)
}

/// Records the demo key files' certificates with the demo CA, revoking the one that shows a
/// revoked certificate. Returns how many there are.
pub async fn seed_keys(db: &Db, dir: &Path) -> anyhow::Result<usize> {
    let keys = read_key_files(dir)?;
    for key in &keys {
        let bytes =
            std::fs::read(dir.join(&key.file)).with_context(|| format!("reading {}", key.file))?;
        let opened = portal_domain::eds::KeyFile::open(&bytes, &key.password)
            .map_err(|e| anyhow::anyhow!("{}: {e:?}", key.file))?;
        let summary = opened.summary();
        let revoked_at = (key.state == "revoked").then_some(summary.not_before + 86_400);
        crate::signing::record_certificate(db, summary, revoked_at).await?;
    }
    Ok(keys.len())
}

/// One demo person, with the password to sign in.
#[derive(Clone, Debug, Deserialize)]
pub struct Identity {
    pub iin: String,
    pub password: String,
    pub role: Role,
    pub organisation_id: Option<String>,
    pub last_name: String,
    pub first_name: String,
    pub middle_name: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub preferred_lang: Lang,
    pub description: String,
}

pub fn read_identities(dir: &Path) -> anyhow::Result<Vec<Identity>> {
    Ok(read_identities_file(dir)?.people)
}

fn read_identities_file(dir: &Path) -> anyhow::Result<IdentitiesFile> {
    let path = dir.join("identities.json");
    let text =
        std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
    serde_json::from_str(&text).with_context(|| format!("parsing {}", path.display()))
}

/// What seeding did.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Seeded {
    pub organisations: usize,
    pub people: usize,
}

pub async fn seed(db: &Db, dir: &Path) -> anyhow::Result<Seeded> {
    let mut seeded = Seeded::default();
    let path = dir.join("organisations.json");
    let text =
        std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
    let file: OrganisationsFile =
        serde_json::from_str(&text).with_context(|| format!("parsing {}", path.display()))?;
    for organisation in &file.organisations {
        match organisations::create(db, organisation, true).await {
            Ok(_) => seeded.organisations += 1,
            Err(CreateError::Exists) => {}
            Err(CreateError::Invalid(issues)) => anyhow::bail!(
                "demo organisation {} is invalid: {issues:?}",
                organisation.id
            ),
            Err(CreateError::Other(e)) => return Err(e),
        }
    }
    for person in read_identities(dir)? {
        let iin = Iin::parse(&person.iin)
            .map_err(|e| anyhow::anyhow!("demo identity {}: {e}", person.iin))?;
        if users::by_iin(db, &iin).await?.is_some() {
            continue;
        }
        match person.role {
            Role::Citizen => {
                let user = NewUser {
                    iin,
                    password_hash: passwords::hash(person.password.clone()).await?,
                    role: Role::Citizen,
                    organisation_id: None,
                    last_name: person.last_name.clone(),
                    first_name: person.first_name.clone(),
                    middle_name: person.middle_name.clone(),
                    email: person.email.clone(),
                    phone: person.phone.clone(),
                    preferred_lang: person.preferred_lang,
                    demo: true,
                };
                match users::insert(db, user).await {
                    Ok(_) | Err(InsertError::IinTaken) => {}
                    Err(InsertError::Other(e)) => return Err(e),
                }
            }
            role => {
                let staff = NewOfficer {
                    iin: person.iin.clone(),
                    last_name: person.last_name.clone(),
                    first_name: person.first_name.clone(),
                    middle_name: person.middle_name.clone().unwrap_or_default(),
                    email: person.email.clone().unwrap_or_default(),
                    organisation_id: person.organisation_id.clone().unwrap_or_default(),
                    password: person.password.clone(),
                };
                match organisations::create_staff(db, &staff, role, true).await {
                    Ok(_) | Err(OfficerError::Exists) => {}
                    Err(OfficerError::Invalid(issues)) => {
                        anyhow::bail!("demo identity {} is invalid: {issues:?}", person.iin)
                    }
                    Err(OfficerError::Other(e)) => return Err(e),
                }
            }
        }
        seeded.people += 1;
    }
    Ok(seeded)
}
