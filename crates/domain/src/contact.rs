//! People's names, e-mail addresses, phone numbers and passwords, parsed once and trusted after.

use std::fmt;

use portal_i18n::Msg;
use serde::{Deserialize, Serialize};

/// Longest name part, in characters.
pub const MAX_NAME_CHARS: usize = 100;
pub const MIN_PASSWORD_CHARS: usize = 8;
/// Longest password: Argon2 hashes anything, but an unbounded input is a denial-of-service lever.
pub const MAX_PASSWORD_CHARS: usize = 128;

/// A surname, given name or patronymic: letters of any alphabet (Kazakh, Russian, Latin…),
/// with spaces, hyphens and apostrophes between them.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct PersonName(String);

impl PersonName {
    pub fn parse(input: &str) -> Result<PersonName, Msg> {
        let name: String = input.split_whitespace().collect::<Vec<_>>().join(" ");
        if name.is_empty() {
            return Err(Msg::ErrorNameEmpty);
        }
        if name.chars().count() > MAX_NAME_CHARS {
            return Err(Msg::ErrorNameTooLong);
        }
        let allowed = |c: char| c.is_alphabetic() || matches!(c, ' ' | '-' | '\'' | '’' | '.');
        if !name.chars().all(allowed) || !name.chars().next().is_some_and(char::is_alphabetic) {
            return Err(Msg::ErrorNameCharacters);
        }
        Ok(PersonName(name))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for PersonName {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        PersonName::parse(&s).map_err(|m| m.key().to_string())
    }
}

impl From<PersonName> for String {
    fn from(n: PersonName) -> String {
        n.0
    }
}

impl fmt::Display for PersonName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// An e-mail address: one `@`, a non-empty local part, a domain with a dot, no spaces, at most
/// 254 characters. Deliverability is proven by sending, not by parsing.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Email(String);

impl Email {
    pub fn parse(input: &str) -> Result<Email, Msg> {
        let email = input.trim();
        if email.is_empty() {
            return Err(Msg::ErrorEmailEmpty);
        }
        let valid = email.len() <= 254
            && !email.chars().any(|c| c.is_whitespace() || c.is_control())
            && match email.split_once('@') {
                Some((local, domain)) => {
                    !local.is_empty()
                        && local.len() <= 64
                        && !domain.contains('@')
                        && domain.contains('.')
                        && !domain.starts_with('.')
                        && !domain.ends_with('.')
                        && !domain.contains("..")
                }
                None => false,
            };
        if valid {
            Ok(Email(email.to_string()))
        } else {
            Err(Msg::ErrorEmailInvalid)
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Email {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        Email::parse(&s).map_err(|m| m.key().to_string())
    }
}

impl From<Email> for String {
    fn from(e: Email) -> String {
        e.0
    }
}

/// A Kazakhstan mobile number, stored as `+77XXXXXXXXX`. Accepts the ways people write it:
/// `8 701 123 45 67`, `+7 (701) 123-45-67`, `87011234567`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Phone(String);

impl Phone {
    pub fn parse(input: &str) -> Result<Phone, Msg> {
        let trimmed = input.trim();
        if trimmed.is_empty() {
            return Err(Msg::ErrorPhoneEmpty);
        }
        if !trimmed
            .chars()
            .all(|c| c.is_ascii_digit() || matches!(c, '+' | ' ' | '-' | '(' | ')'))
            || trimmed[1..].contains('+')
        {
            return Err(Msg::ErrorPhoneInvalid);
        }
        let digits: String = trimmed.chars().filter(char::is_ascii_digit).collect();
        let national = match (trimmed.starts_with('+'), digits.len()) {
            (true, 11) if digits.starts_with('7') => &digits[1..],
            (false, 11) if digits.starts_with('8') || digits.starts_with('7') => &digits[1..],
            (false, 10) => &digits[..],
            _ => return Err(Msg::ErrorPhoneInvalid),
        };
        // Mobile ranges are 70x and 74x–77x after the country code; 71x–72x are landline
        // area codes (Astana 7172, Almaty 727, Aktau 7292…).
        let mobile = national.starts_with('7')
            && matches!(national.as_bytes()[1], b'0' | b'4' | b'5' | b'6' | b'7');
        if !mobile {
            return Err(Msg::ErrorPhoneInvalid);
        }
        Ok(Phone(format!("+7{national}")))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Phone {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        Phone::parse(&s).map_err(|m| m.key().to_string())
    }
}

impl From<Phone> for String {
    fn from(p: Phone) -> String {
        p.0
    }
}

/// The rules a password must meet that the browser can check itself. The server also refuses
/// common passwords (a list too large to send to every browser).
pub fn check_password(password: &str, iin: &str) -> Result<(), Msg> {
    let chars = password.chars().count();
    if chars == 0 {
        return Err(Msg::ErrorPasswordEmpty);
    }
    if chars < MIN_PASSWORD_CHARS {
        return Err(Msg::ErrorPasswordTooShort);
    }
    if chars > MAX_PASSWORD_CHARS {
        return Err(Msg::ErrorPasswordTooLong);
    }
    if !iin.trim().is_empty() && password.contains(iin.trim()) {
        return Err(Msg::ErrorPasswordContainsIin);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_accept_every_alphabet_and_tidy_spaces() {
        assert_eq!(
            PersonName::parse("  Нұрланқызы ").unwrap().as_str(),
            "Нұрланқызы"
        );
        assert_eq!(
            PersonName::parse("Анна-Мария  Иванова").unwrap().as_str(),
            "Анна-Мария Иванова"
        );
        assert_eq!(PersonName::parse("O'Neil").unwrap().as_str(), "O'Neil");
        assert!(PersonName::parse("Әлия").is_ok());
    }

    #[test]
    fn names_reject_digits_symbols_and_empty_input() {
        assert_eq!(PersonName::parse("   "), Err(Msg::ErrorNameEmpty));
        assert_eq!(PersonName::parse("R2D2"), Err(Msg::ErrorNameCharacters));
        assert_eq!(PersonName::parse("<script>"), Err(Msg::ErrorNameCharacters));
        assert_eq!(PersonName::parse("-Anna"), Err(Msg::ErrorNameCharacters));
        assert_eq!(
            PersonName::parse(&"а".repeat(101)),
            Err(Msg::ErrorNameTooLong)
        );
    }

    #[test]
    fn emails_need_a_local_part_and_a_dotted_domain() {
        assert!(Email::parse(" aigerim@example.kz ").is_ok());
        for bad in [
            "aigerim",
            "@example.kz",
            "a@b",
            "a@@b.kz",
            "a b@c.kz",
            "a@.kz",
            "a@kz.",
            "a@b..kz",
        ] {
            assert_eq!(Email::parse(bad), Err(Msg::ErrorEmailInvalid), "{bad}");
        }
        assert_eq!(Email::parse(""), Err(Msg::ErrorEmailEmpty));
        assert_eq!(
            Email::parse(&format!("{}@example.kz", "a".repeat(65))),
            Err(Msg::ErrorEmailInvalid)
        );
    }

    #[test]
    fn phones_are_normalised_from_the_ways_people_write_them() {
        for written in [
            "+7 (701) 123-45-67",
            "8 701 123 45 67",
            "87011234567",
            "7011234567",
            "+77011234567",
        ] {
            assert_eq!(
                Phone::parse(written).unwrap().as_str(),
                "+77011234567",
                "{written}"
            );
        }
    }

    #[test]
    fn phones_reject_foreign_landline_and_malformed_numbers() {
        for bad in [
            "+1 202 555 0100",
            "8 727 250 00 00",
            "12345",
            "+7 701 123 45 67 8",
            "7011234567a",
            "+7+7011234567",
        ] {
            assert_eq!(Phone::parse(bad), Err(Msg::ErrorPhoneInvalid), "{bad}");
        }
        assert_eq!(Phone::parse(" "), Err(Msg::ErrorPhoneEmpty));
    }

    #[test]
    fn passwords_have_a_length_range_and_must_not_contain_the_iin() {
        assert_eq!(check_password("", ""), Err(Msg::ErrorPasswordEmpty));
        assert_eq!(check_password("short", ""), Err(Msg::ErrorPasswordTooShort));
        assert_eq!(
            check_password(&"x".repeat(129), ""),
            Err(Msg::ErrorPasswordTooLong)
        );
        assert_eq!(
            check_password("a900101300126b", "900101300126"),
            Err(Msg::ErrorPasswordContainsIin)
        );
        assert_eq!(check_password("Көктем-жаңбыры-7", "900101300126"), Ok(()));
        assert_eq!(
            check_password("абвгдежз", ""),
            Ok(()),
            "eight Cyrillic letters are eight characters"
        );
    }

    #[test]
    fn deserialising_validates() {
        assert!(serde_json::from_str::<Phone>("\"8 701 123 45 67\"").is_ok());
        assert!(serde_json::from_str::<Email>("\"nope\"").is_err());
        assert!(serde_json::from_str::<PersonName>("\"\"").is_err());
    }
}
