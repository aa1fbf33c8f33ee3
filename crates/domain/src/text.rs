//! Text that exists in all three languages of the portal.

use portal_i18n::Lang;
use serde::{Deserialize, Serialize};

/// A text in Kazakh, Russian and English. All three are required: the portal has no language
/// in which a user meets an untranslated sentence.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Text {
    pub kk: String,
    pub ru: String,
    pub en: String,
}

impl Text {
    /// A message of the locale files in all three languages.
    pub fn from_msg(msg: portal_i18n::Msg) -> Text {
        Text {
            kk: portal_i18n::t(Lang::Kk, msg).to_string(),
            ru: portal_i18n::t(Lang::Ru, msg).to_string(),
            en: portal_i18n::t(Lang::En, msg).to_string(),
        }
    }

    /// A text built for each language by `f`.
    pub fn from_fn(f: impl Fn(Lang) -> String) -> Text {
        Text {
            kk: f(Lang::Kk),
            ru: f(Lang::Ru),
            en: f(Lang::En),
        }
    }

    /// The same words in every language (names, numbers).
    pub fn same(s: &str) -> Text {
        Text::from_fn(|_| s.to_string())
    }

    pub fn get(&self, lang: Lang) -> &str {
        match lang {
            Lang::Kk => &self.kk,
            Lang::Ru => &self.ru,
            Lang::En => &self.en,
        }
    }

    /// The languages whose text is empty or only whitespace.
    pub fn blank_languages(&self) -> Vec<Lang> {
        Lang::ALL
            .into_iter()
            .filter(|l| self.get(*l).trim().is_empty())
            .collect()
    }

    /// Whether any language's text contains every word of `words` (already lower-cased).
    pub fn contains_all_words(&self, words: &[String]) -> bool {
        words.iter().all(|w| {
            Lang::ALL
                .iter()
                .any(|l| self.get(*l).to_lowercase().contains(w.as_str()))
        })
    }
}
