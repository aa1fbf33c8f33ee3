//! The portal's messages in Kazakh, Russian and English.
//!
//! Messages live in `locales/{kk,ru,en}.json`; `build.rs` turns them into the [`Msg`] and
//! [`Plural`] enums, so a message is referred to by a checked name and a missing translation
//! fails the build. The browser and the server use the same tables: a validation error produced
//! by shared code reads the same on both sides.

use serde::{Deserialize, Serialize};

include!(concat!(env!("OUT_DIR"), "/messages.rs"));

/// A language of the portal. Kazakh is the state language and the default.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize,
)]
#[serde(rename_all = "lowercase")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum Lang {
    #[default]
    Kk,
    Ru,
    En,
}

impl Lang {
    pub const ALL: [Lang; 3] = [Lang::Kk, Lang::Ru, Lang::En];

    /// The ISO 639-1 code, as used in `?lang=` and `<html lang>`.
    pub fn code(self) -> &'static str {
        match self {
            Lang::Kk => "kk",
            Lang::Ru => "ru",
            Lang::En => "en",
        }
    }

    /// The language's name in itself, for the language switcher.
    pub fn native_name(self) -> &'static str {
        match self {
            Lang::Kk => "Қазақша",
            Lang::Ru => "Русский",
            Lang::En => "English",
        }
    }

    /// Accepts the code in any letter case, and `kz`, which Kazakh sites often use instead of `kk`.
    pub fn parse(code: &str) -> Option<Lang> {
        match code.trim().to_ascii_lowercase().as_str() {
            "kk" | "kz" => Some(Lang::Kk),
            "ru" => Some(Lang::Ru),
            "en" => Some(Lang::En),
            _ => None,
        }
    }

    /// The first supported language of an `Accept-Language` header (or `navigator.languages`),
    /// honouring quality values; `None` when none is supported.
    pub fn from_accept_language(header: &str) -> Option<Lang> {
        let mut best: Option<(f32, usize, Lang)> = None;
        for (position, part) in header.split(',').enumerate() {
            let mut pieces = part.split(';');
            let tag = pieces.next().unwrap_or("").trim();
            let primary = tag.split(['-', '_']).next().unwrap_or("");
            let Some(lang) = Lang::parse(primary) else {
                continue;
            };
            let quality = pieces
                .filter_map(|p| p.trim().strip_prefix("q="))
                .find_map(|q| q.parse::<f32>().ok())
                .unwrap_or(1.0);
            if quality <= 0.0 {
                continue;
            }
            let better = match best {
                None => true,
                Some((q, p, _)) => quality > q || (quality == q && position < p),
            };
            if better {
                best = Some((quality, position, lang));
            }
        }
        best.map(|(_, _, lang)| lang)
    }

    fn texts(self) -> &'static [&'static str] {
        match self {
            Lang::Kk => &KK_TEXT,
            Lang::Ru => &RU_TEXT,
            Lang::En => &EN_TEXT,
        }
    }

    fn plurals(self) -> &'static [[&'static str; 4]] {
        match self {
            Lang::Kk => &KK_PLURAL,
            Lang::Ru => &RU_PLURAL,
            Lang::En => &EN_PLURAL,
        }
    }

    /// Index into the stored forms `[one, few, many, other]` for a whole number (CLDR rules).
    fn plural_form(self, n: u64) -> usize {
        match self {
            Lang::Ru => {
                let (units, tens) = (n % 10, n % 100);
                if units == 1 && tens != 11 {
                    0
                } else if (2..=4).contains(&units) && !(12..=14).contains(&tens) {
                    1
                } else {
                    2
                }
            }
            Lang::Kk | Lang::En => {
                if n == 1 {
                    0
                } else {
                    3
                }
            }
        }
    }
}

impl std::fmt::Display for Lang {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.code())
    }
}

impl Msg {
    /// Every message, in key order.
    pub fn all() -> &'static [Msg] {
        &MSG_ALL
    }

    /// The dotted key of the message in the locale files, e.g. `catalogue.title`.
    pub fn key(self) -> &'static str {
        MSG_KEYS[self as usize]
    }

    /// The message for a dotted key; error codes sent by the API are such keys.
    pub fn from_key(key: &str) -> Option<Msg> {
        MSG_KEYS.binary_search(&key).ok().map(|i| MSG_ALL[i])
    }
}

impl Serialize for Msg {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.key())
    }
}

impl<'de> Deserialize<'de> for Msg {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Msg, D::Error> {
        let key = String::deserialize(deserializer)?;
        Msg::from_key(&key)
            .ok_or_else(|| serde::de::Error::custom(format!("unknown message key `{key}`")))
    }
}

impl Plural {
    pub fn all() -> &'static [Plural] {
        &PLURAL_ALL
    }

    pub fn key(self) -> &'static str {
        PLURAL_KEYS[self as usize]
    }
}

/// The text of a message.
pub fn t(lang: Lang, msg: Msg) -> &'static str {
    lang.texts()[msg as usize]
}

/// The text of a message with its `{name}` placeholders filled in.
pub fn tf(lang: Lang, msg: Msg, args: &[(&str, &str)]) -> String {
    fill(t(lang, msg), args)
}

/// The form of a plural message for `n`, with `{n}` and the other placeholders filled in.
pub fn tp(lang: Lang, msg: Plural, n: u64, args: &[(&str, &str)]) -> String {
    let forms = &lang.plurals()[msg as usize];
    let form = forms[lang.plural_form(n)];
    let number = n.to_string();
    let mut all_args = vec![("n", number.as_str())];
    all_args.extend_from_slice(args);
    fill(form, &all_args)
}

fn fill(template: &str, args: &[(&str, &str)]) -> String {
    let mut out = String::with_capacity(template.len() + 16);
    let mut rest = template;
    while let Some(start) = rest.find('{') {
        out.push_str(&rest[..start]);
        let after = &rest[start + 1..];
        match after.find('}') {
            Some(end) => {
                let name = &after[..end];
                match args.iter().find(|(k, _)| *k == name) {
                    Some((_, value)) => out.push_str(value),
                    None => {
                        out.push('{');
                        out.push_str(name);
                        out.push('}');
                    }
                }
                rest = &after[end + 1..];
            }
            None => {
                out.push_str(&rest[start..]);
                rest = "";
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_message_has_a_text_in_every_language() {
        for lang in Lang::ALL {
            for msg in Msg::all() {
                assert!(!t(lang, *msg).trim().is_empty(), "{lang} {}", msg.key());
            }
        }
    }

    #[test]
    fn keys_round_trip() {
        for msg in Msg::all() {
            assert_eq!(Msg::from_key(msg.key()), Some(*msg));
        }
        assert_eq!(Msg::from_key("no.such.key"), None);
    }

    #[test]
    fn russian_plural_forms_follow_cldr() {
        let forms: Vec<usize> = [1, 2, 5, 11, 12, 21, 22, 25, 101, 111, 0]
            .map(|n| Lang::Ru.plural_form(n))
            .into();
        assert_eq!(forms, vec![0, 1, 2, 2, 2, 0, 1, 2, 0, 2, 2]);
    }

    #[test]
    fn kazakh_and_english_have_one_and_other() {
        assert_eq!(Lang::Kk.plural_form(1), 0);
        assert_eq!(Lang::Kk.plural_form(3), 3);
        assert_eq!(Lang::En.plural_form(0), 3);
    }

    #[test]
    fn plural_messages_fill_the_number() {
        let plural = Plural::all()[0];
        for lang in Lang::ALL {
            for n in [1, 2, 5, 21] {
                let text = tp(lang, plural, n, &[]);
                assert!(!text.contains("{n}"), "{lang} {n}: {text}");
            }
        }
    }

    #[test]
    fn fill_replaces_known_placeholders_and_keeps_unknown_ones() {
        assert_eq!(fill("{a} and {b}", &[("a", "1")]), "1 and {b}");
        assert_eq!(fill("no braces", &[]), "no braces");
        assert_eq!(fill("open { only", &[]), "open { only");
    }

    #[test]
    fn language_codes_parse() {
        assert_eq!(Lang::parse("KK"), Some(Lang::Kk));
        assert_eq!(Lang::parse("kz"), Some(Lang::Kk));
        assert_eq!(Lang::parse(" ru "), Some(Lang::Ru));
        assert_eq!(Lang::parse("de"), None);
    }

    #[test]
    fn accept_language_picks_the_best_supported_language() {
        assert_eq!(
            Lang::from_accept_language("ru-RU,ru;q=0.9,en;q=0.8"),
            Some(Lang::Ru)
        );
        assert_eq!(
            Lang::from_accept_language("de-DE,en;q=0.5,kk;q=0.7"),
            Some(Lang::Kk)
        );
        assert_eq!(
            Lang::from_accept_language("en;q=0,ru;q=0.1"),
            Some(Lang::Ru)
        );
        assert_eq!(Lang::from_accept_language("fr,de"), None);
        assert_eq!(Lang::from_accept_language(""), None);
    }
}
