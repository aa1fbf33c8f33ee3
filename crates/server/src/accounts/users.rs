//! Accounts in the database: citizens, officers and administrators.

use portal_domain::accounts::{NotificationChannels, OrganisationRef, Profile, Role, UserView};
use portal_domain::iin::Iin;
use portal_domain::text::Text;
use portal_i18n::Lang;

use crate::db::{Db, new_id, now_millis};
use crate::on_db;

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct UserRow {
    pub id: String,
    pub iin: String,
    pub password_hash: String,
    pub role: String,
    pub organisation_id: Option<String>,
    pub last_name: String,
    pub first_name: String,
    pub middle_name: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub preferred_lang: String,
    pub notify_email: bool,
    pub notify_browser: bool,
    pub demo: bool,
}

impl crate::db::TxRow for UserRow {
    /// By name: [`COLUMNS`], also within a join that selects them.
    fn from_direct(row: &rusqlite::Row<'_>) -> rusqlite::Result<Self> {
        Ok(UserRow {
            id: row.get("id")?,
            iin: row.get("iin")?,
            password_hash: row.get("password_hash")?,
            role: row.get("role")?,
            organisation_id: row.get("organisation_id")?,
            last_name: row.get("last_name")?,
            first_name: row.get("first_name")?,
            middle_name: row.get("middle_name")?,
            email: row.get("email")?,
            phone: row.get("phone")?,
            preferred_lang: row.get("preferred_lang")?,
            notify_email: row.get("notify_email")?,
            notify_browser: row.get("notify_browser")?,
            demo: row.get("demo")?,
        })
    }
}

impl UserRow {
    pub fn role(&self) -> Role {
        Role::parse(&self.role).unwrap_or(Role::Citizen)
    }

    pub fn lang(&self) -> Lang {
        Lang::parse(&self.preferred_lang).unwrap_or_default()
    }

    /// "Last First Middle", as documents print it.
    pub fn full_name(&self) -> String {
        [
            self.last_name.as_str(),
            self.first_name.as_str(),
            self.middle_name.as_deref().unwrap_or(""),
        ]
        .iter()
        .filter(|s| !s.is_empty())
        .copied()
        .collect::<Vec<_>>()
        .join(" ")
    }

    pub fn masked_iin(&self) -> String {
        Iin::parse(&self.iin)
            .map(|i| i.masked())
            .unwrap_or_else(|_| "************".into())
    }
}

pub(crate) const COLUMNS: &str = "id, iin, password_hash, role, organisation_id, last_name, first_name, middle_name, email, phone, \
                       preferred_lang, notify_email, notify_browser, demo";

pub async fn by_iin(db: &Db, iin: &Iin) -> anyhow::Result<Option<UserRow>> {
    let sql = format!("SELECT {COLUMNS} FROM users WHERE iin = $1");
    Ok(on_db!(db, |pool| sqlx::query_as::<_, UserRow>(&sql)
        .bind(iin.to_string())
        .fetch_optional(pool)
        .await)?)
}

pub async fn by_id(db: &Db, id: &str) -> anyhow::Result<Option<UserRow>> {
    let sql = format!("SELECT {COLUMNS} FROM users WHERE id = $1");
    db.read(&sql, &[crate::db::Arg::Text(Some(id))]).await
}

pub async fn by_role(db: &Db, role: Role) -> anyhow::Result<Vec<UserRow>> {
    let sql = format!("SELECT {COLUMNS} FROM users WHERE role = $1 ORDER BY last_name, first_name");
    Ok(on_db!(db, |pool| sqlx::query_as::<_, UserRow>(&sql)
        .bind(role.code())
        .fetch_all(pool)
        .await)?)
}

pub struct NewUser {
    pub iin: Iin,
    pub password_hash: String,
    pub role: Role,
    pub organisation_id: Option<String>,
    pub last_name: String,
    pub first_name: String,
    pub middle_name: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub preferred_lang: Lang,
    pub demo: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum InsertError {
    #[error("an account with this IIN exists")]
    IinTaken,
    #[error(transparent)]
    Other(#[from] anyhow::Error),
}

/// Creates the account; `IinTaken` when the IIN already has one (checked by the unique index,
/// so two simultaneous registrations cannot both succeed).
pub async fn insert(db: &Db, user: NewUser) -> Result<String, InsertError> {
    let id = new_id();
    let result = on_db!(db, |pool| {
        sqlx::query(
            "INSERT INTO users (id, iin, password_hash, role, organisation_id, last_name, first_name, middle_name, email, phone,
                                preferred_lang, notify_email, notify_browser, demo, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)",
        )
        .bind(&id)
        .bind(user.iin.to_string())
        .bind(&user.password_hash)
        .bind(user.role.code())
        .bind(&user.organisation_id)
        .bind(&user.last_name)
        .bind(&user.first_name)
        .bind(&user.middle_name)
        .bind(&user.email)
        .bind(&user.phone)
        .bind(user.preferred_lang.code())
        .bind(user.email.is_some())
        .bind(false)
        .bind(user.demo)
        .bind(now_millis())
        .execute(pool)
        .await.map(|r| r.rows_affected())
    });
    match result {
        Ok(_) => Ok(id),
        Err(sqlx::Error::Database(e)) if e.is_unique_violation() => Err(InsertError::IinTaken),
        Err(e) => Err(InsertError::Other(e.into())),
    }
}

pub async fn update_password(db: &Db, user_id: &str, password_hash: &str) -> anyhow::Result<()> {
    on_db!(db, |pool| sqlx::query(
        "UPDATE users SET password_hash = $1 WHERE id = $2"
    )
    .bind(password_hash)
    .bind(user_id)
    .execute(pool)
    .await
    .map(|r| r.rows_affected()))?;
    Ok(())
}

pub struct ProfileChange {
    pub email: Option<String>,
    pub phone: Option<String>,
    pub preferred_lang: Lang,
    pub notifications: NotificationChannels,
}

pub async fn update_profile(db: &Db, user_id: &str, change: ProfileChange) -> anyhow::Result<()> {
    on_db!(db, |pool| {
        sqlx::query(
            "UPDATE users SET email = $1, phone = $2, preferred_lang = $3, notify_email = $4, notify_browser = $5 WHERE id = $6",
        )
        .bind(&change.email)
        .bind(&change.phone)
        .bind(change.preferred_lang.code())
        .bind(change.notifications.email)
        .bind(change.notifications.browser)
        .bind(user_id)
        .execute(pool)
        .await.map(|r| r.rows_affected())
    })?;
    Ok(())
}

/// The user as the API shows them, with their organisation's name.
pub async fn view(db: &Db, user: &UserRow) -> anyhow::Result<UserView> {
    let organisation = match &user.organisation_id {
        None => None,
        Some(id) => {
            let row: Option<(String,)> = on_db!(db, |pool| sqlx::query_as(
                "SELECT name FROM organisations WHERE id = $1"
            )
            .bind(id)
            .fetch_optional(pool)
            .await)?;
            match row {
                Some((name,)) => Some(OrganisationRef {
                    id: id.clone(),
                    name: serde_json::from_str::<Text>(&name)?,
                }),
                None => None,
            }
        }
    };
    Ok(UserView {
        id: user.id.clone(),
        iin_masked: user.masked_iin(),
        last_name: user.last_name.clone(),
        first_name: user.first_name.clone(),
        middle_name: user.middle_name.clone(),
        role: user.role(),
        organisation,
        preferred_lang: user.lang(),
        demo: user.demo,
    })
}

pub async fn profile(db: &Db, user: &UserRow) -> anyhow::Result<Profile> {
    Ok(Profile {
        user: view(db, user).await?,
        email: user.email.clone(),
        phone: user.phone.clone(),
        notifications: NotificationChannels {
            email: user.notify_email,
            browser: user.notify_browser,
        },
    })
}
