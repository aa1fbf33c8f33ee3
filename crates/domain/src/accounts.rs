//! Who is who: registration, sign-in, sessions and profiles, as the API exchanges them.

use portal_i18n::{Lang, Msg};
use serde::{Deserialize, Serialize};

use crate::contact::{Email, PersonName, Phone, check_password};
use crate::iin::Iin;
use crate::text::Text;
use crate::validation::{FieldIssue, Issues};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum Role {
    Citizen,
    /// Works for exactly one provider organisation.
    Officer,
    Administrator,
}

impl Role {
    pub fn code(self) -> &'static str {
        match self {
            Role::Citizen => "citizen",
            Role::Officer => "officer",
            Role::Administrator => "administrator",
        }
    }

    pub fn parse(code: &str) -> Option<Role> {
        [Role::Citizen, Role::Officer, Role::Administrator]
            .into_iter()
            .find(|r| r.code() == code)
    }

    /// Where the user lands after signing in.
    pub fn home_path(self) -> &'static str {
        match self {
            Role::Citizen => "/cabinet",
            Role::Officer => "/workspace/",
            Role::Administrator => "/workspace/admin",
        }
    }
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RegisterRequest {
    pub iin: String,
    pub password: String,
    pub last_name: String,
    pub first_name: String,
    #[serde(default)]
    pub middle_name: String,
    /// E-mail, phone, or both: at least one.
    #[serde(default)]
    pub email: String,
    #[serde(default)]
    pub phone: String,
    pub preferred_lang: Lang,
}

/// A registration that passed every rule the browser and the server share.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Registration {
    pub iin: Iin,
    pub password: String,
    pub last_name: PersonName,
    pub first_name: PersonName,
    pub middle_name: Option<PersonName>,
    pub email: Option<Email>,
    pub phone: Option<Phone>,
    pub preferred_lang: Lang,
}

impl RegisterRequest {
    /// Parses every field and reports every problem at once, in the order of the form.
    pub fn parse(&self) -> Result<Registration, Vec<FieldIssue>> {
        let mut issues = Issues::default();
        let iin = issues.check("iin", Iin::parse(&self.iin).map_err(|e| e.message()));
        let last_name = issues.check("last_name", PersonName::parse(&self.last_name));
        let first_name = issues.check("first_name", PersonName::parse(&self.first_name));
        let middle_name = issues.optional("middle_name", &self.middle_name, PersonName::parse);
        let contacts = parse_contacts(&self.email, &self.phone, &mut issues);
        issues.check("password", check_password(&self.password, &self.iin));
        match (iin, last_name, first_name, middle_name, contacts) {
            (
                Some(iin),
                Some(last_name),
                Some(first_name),
                Some(middle_name),
                Some((email, phone)),
            ) if issues.is_empty() => Ok(Registration {
                iin,
                password: self.password.clone(),
                last_name,
                first_name,
                middle_name,
                email,
                phone,
                preferred_lang: self.preferred_lang,
            }),
            _ => Err(issues.0),
        }
    }
}

/// E-mail and phone, each optional, but at least one.
fn parse_contacts(
    email: &str,
    phone: &str,
    issues: &mut Issues,
) -> Option<(Option<Email>, Option<Phone>)> {
    if email.trim().is_empty() && phone.trim().is_empty() {
        issues.add(FieldIssue::new("email", Msg::ErrorContactRequired));
        return None;
    }
    let email = issues.optional("email", email, Email::parse);
    let phone = issues.optional("phone", phone, Phone::parse);
    Some((email?, phone?))
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LoginRequest {
    pub iin: String,
    pub password: String,
}

impl LoginRequest {
    /// Only the form is checked here; whether the IIN and password match is the server's answer.
    pub fn check(&self) -> Result<Iin, Vec<FieldIssue>> {
        let mut issues = Issues::default();
        let iin = issues.check("iin", Iin::parse(&self.iin).map_err(|e| e.message()));
        if self.password.is_empty() {
            issues.add(FieldIssue::new("password", Msg::ErrorPasswordEmpty));
        }
        match iin {
            Some(iin) if issues.is_empty() => Ok(iin),
            _ => Err(issues.0),
        }
    }
}

/// `POST /api/session/eds-challenge`: what to sign with the authentication key to sign in.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct EdsLoginChallenge {
    /// The exact text to sign (its UTF-8 bytes): a [`crate::eds::LoginChallenge`] as JSON.
    pub document: String,
    pub nonce: String,
    /// Unix seconds; the challenge can be used once, until then.
    pub expires_at: i64,
}

/// `POST /api/session/eds`: the challenge signed with the authentication key.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct EdsLoginRequest {
    pub nonce: String,
    /// Detached CMS, base64.
    pub signature: String,
}

/// The organisation an officer belongs to, as shown next to their name.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct OrganisationRef {
    pub id: String,
    pub name: Text,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UserView {
    pub id: String,
    /// `900101******`: enough to recognise, not enough to copy.
    pub iin_masked: String,
    pub last_name: String,
    pub first_name: String,
    pub middle_name: Option<String>,
    pub role: Role,
    pub organisation: Option<OrganisationRef>,
    pub preferred_lang: Lang,
    /// A demo identity of the demo world.
    pub demo: bool,
}

impl UserView {
    pub fn display_name(&self) -> String {
        format!("{} {}", self.first_name, self.last_name)
    }
}

/// `GET /api/session`: who is signed in, and what the browser needs to keep the session.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SessionInfo {
    pub user: UserView,
    /// Sent back in the `X-CSRF-Token` header of every state-changing request.
    pub csrf_token: String,
    /// The session ends after this many seconds without a request.
    pub idle_timeout_seconds: u32,
    /// Seconds left before the session ends if nothing happens.
    pub expires_in_seconds: u32,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct NotificationChannels {
    /// Messages by e-mail (needs an e-mail address).
    pub email: bool,
    /// Notifications from the browser, when the user also allows them there.
    pub browser: bool,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Profile {
    pub user: UserView,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub notifications: NotificationChannels,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ProfileUpdate {
    #[serde(default)]
    pub email: String,
    #[serde(default)]
    pub phone: String,
    pub preferred_lang: Lang,
    pub notifications: NotificationChannels,
}

pub struct ValidProfileUpdate {
    pub email: Option<Email>,
    pub phone: Option<Phone>,
    pub preferred_lang: Lang,
    pub notifications: NotificationChannels,
}

impl ProfileUpdate {
    pub fn parse(&self) -> Result<ValidProfileUpdate, Vec<FieldIssue>> {
        let mut issues = Issues::default();
        let contacts = parse_contacts(&self.email, &self.phone, &mut issues);
        if let Some((None, _)) = contacts {
            if self.notifications.email {
                issues.add(FieldIssue::new(
                    "notifications.email",
                    Msg::ErrorNotificationsEmailNeedsAddress,
                ));
            }
        }
        match contacts {
            Some((email, phone)) if issues.is_empty() => Ok(ValidProfileUpdate {
                email,
                phone,
                preferred_lang: self.preferred_lang,
                notifications: self.notifications,
            }),
            _ => Err(issues.0),
        }
    }
}

/// The answer to a sign-in refused because of too many failures: when to try again.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Lockout {
    pub retry_after_seconds: u32,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn valid() -> RegisterRequest {
        RegisterRequest {
            iin: "900101300126".into(),
            password: "Көктем-жаңбыры-7".into(),
            last_name: "Сейтқали".into(),
            first_name: "Айгерім".into(),
            middle_name: String::new(),
            email: "aigerim@example.kz".into(),
            phone: String::new(),
            preferred_lang: Lang::Kk,
        }
    }

    fn fields(result: Result<Registration, Vec<FieldIssue>>) -> Vec<String> {
        result
            .err()
            .unwrap_or_default()
            .into_iter()
            .map(|i| i.field)
            .collect()
    }

    #[test]
    fn a_complete_registration_parses() {
        let r = valid().parse().unwrap();
        assert_eq!(r.iin.to_string(), "900101300126");
        assert_eq!(r.middle_name, None);
        assert_eq!(r.email.unwrap().as_str(), "aigerim@example.kz");
    }

    #[test]
    fn every_problem_is_reported_in_form_order() {
        let request = RegisterRequest {
            iin: "900101300127".into(),
            password: "short".into(),
            last_name: String::new(),
            first_name: "R2".into(),
            middle_name: "ok".into(),
            email: "nope".into(),
            phone: "123".into(),
            preferred_lang: Lang::Ru,
        };
        assert_eq!(
            fields(request.parse()),
            vec![
                "iin",
                "last_name",
                "first_name",
                "email",
                "phone",
                "password"
            ]
        );
    }

    #[test]
    fn an_e_mail_or_a_phone_is_required() {
        let mut r = valid();
        r.email = String::new();
        let issues = r.parse().unwrap_err();
        assert_eq!(issues[0].field, "email");
        assert_eq!(issues[0].msg, Msg::ErrorContactRequired);
        r.phone = "8 701 123 45 67".into();
        assert!(r.parse().is_ok());
    }

    #[test]
    fn the_iin_error_is_the_precise_one() {
        let mut r = valid();
        r.iin = "900101000126".into();
        assert_eq!(r.parse().unwrap_err()[0].msg, Msg::ErrorIinCenturySex);
    }

    #[test]
    fn unknown_fields_are_refused() {
        let json = r#"{"iin":"900101300126","password":"x","last_name":"a","first_name":"b","preferred_lang":"kk","role":"administrator"}"#;
        assert!(serde_json::from_str::<RegisterRequest>(json).is_err());
    }

    #[test]
    fn login_checks_only_the_form() {
        assert!(
            LoginRequest {
                iin: "900101300126".into(),
                password: "anything".into()
            }
            .check()
            .is_ok()
        );
        let issues = LoginRequest {
            iin: "12".into(),
            password: String::new(),
        }
        .check()
        .unwrap_err();
        assert_eq!(
            issues.iter().map(|i| i.field.as_str()).collect::<Vec<_>>(),
            vec!["iin", "password"]
        );
    }

    #[test]
    fn e_mail_notifications_need_an_address() {
        let update = ProfileUpdate {
            email: String::new(),
            phone: "87011234567".into(),
            preferred_lang: Lang::En,
            notifications: NotificationChannels {
                email: true,
                browser: false,
            },
        };
        assert_eq!(
            update.parse().err().unwrap()[0].field,
            "notifications.email"
        );
    }
}
