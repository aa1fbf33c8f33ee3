//! The public catalogue: the list entry of a service and the search over services.
//!
//! The server answers `GET /api/services?q=&category=` with [`search`]; the browser runs the
//! same function over the list it already has, so results appear while the user types and agree
//! with the API.

use serde::{Deserialize, Serialize};

use crate::service::{Category, Duration, ServiceDefinition, Stated, Window};
use crate::text::Text;

/// Longest accepted search text, in characters.
pub const MAX_QUERY_CHARS: usize = 200;

/// A service as the catalogue lists it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ServiceSummary {
    pub id: String,
    pub catalogue_number: u32,
    pub categories: Vec<Category>,
    pub name: Text,
    pub short_name: Text,
    pub summary: Text,
    pub provider: Text,
    /// Citizens can apply on this portal.
    pub portal: bool,
    pub term_stated: Option<Duration>,
    pub term_derived: Option<Duration>,
    pub windows: Vec<Window>,
    /// `null` when the seed does not state the fee.
    pub fee: Option<Text>,
}

impl From<&ServiceDefinition> for ServiceSummary {
    fn from(def: &ServiceDefinition) -> ServiceSummary {
        ServiceSummary {
            id: def.id.clone(),
            catalogue_number: def.catalogue_number,
            categories: def.categories.clone(),
            name: def.name.clone(),
            short_name: def.short_name.clone(),
            summary: def.summary.clone(),
            provider: def.provider.name.clone(),
            portal: def.has_portal_channel(),
            term_stated: def.term.stated,
            term_derived: def.term.derived,
            windows: def.term.windows.clone(),
            fee: match &def.fee {
                Stated::Stated(t) => Some(t.clone()),
                Stated::NotInSeed => None,
            },
        }
    }
}

/// What the user searches for.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Query {
    pub text: String,
    pub category: Option<Category>,
}

/// The words of a search text, lower-cased, with `ё` folded to `е` as Russian readers expect,
/// and reduced to a stem (see [`stem`]).
pub fn words(text: &str) -> Vec<String> {
    text.split(|c: char| {
        c.is_whitespace() || matches!(c, ',' | '.' | ';' | ':' | '«' | '»' | '"' | '(' | ')')
    })
    .filter(|w| !w.is_empty())
    .map(|w| stem(&normalise(w)))
    .collect()
}

/// A light stem, so the form a person types finds the forms the texts use: Russian drops
/// trailing vowels, `й` and `ь` («опека» finds «опеки», «первый» finds «первого»), English a
/// plural `s` («certificates» finds «certificate»). Kazakh adds suffixes after the stem, so
/// a typed base form already matches as a prefix. Short words are kept whole.
pub fn stem(word: &str) -> String {
    const RUSSIAN_ENDINGS: &[char] = &['а', 'я', 'о', 'е', 'и', 'ы', 'у', 'ю', 'ь', 'й', 'э'];
    let mut chars: Vec<char> = word.chars().collect();
    let cyrillic = chars.iter().any(|c| ('а'..='я').contains(c));
    if cyrillic {
        for _ in 0..2 {
            if chars.len() > 4 && chars.last().is_some_and(|c| RUSSIAN_ENDINGS.contains(c)) {
                chars.pop();
            }
        }
    } else if chars.len() > 4 && chars.ends_with(&['s']) && !chars.ends_with(&['s', 's']) {
        chars.pop();
    }
    chars.into_iter().collect()
}

fn normalise(s: &str) -> String {
    s.to_lowercase().replace('ё', "е")
}

fn field_matches(text: &Text, word: &str) -> bool {
    [&text.kk, &text.ru, &text.en]
        .iter()
        .any(|t| normalise(t).contains(word))
}

/// Whether a service matches: in the category (if any), and every word found in its id, names,
/// summary or provider, in any of the three languages (a user may type Russian on a Kazakh page).
pub fn matches(service: &ServiceSummary, query: &Query) -> bool {
    if let Some(category) = query.category {
        if !service.categories.contains(&category) {
            return false;
        }
    }
    words(&query.text).iter().all(|word| {
        service.id.contains(word.as_str())
            || [
                &service.name,
                &service.short_name,
                &service.summary,
                &service.provider,
            ]
            .into_iter()
            .any(|t| field_matches(t, word))
    })
}

/// The matching services, in catalogue order.
pub fn search<'a>(services: &'a [ServiceSummary], query: &Query) -> Vec<&'a ServiceSummary> {
    let mut found: Vec<&ServiceSummary> = services.iter().filter(|s| matches(s, query)).collect();
    found.sort_by_key(|s| s.catalogue_number);
    found
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::service::tests::sample;

    fn summary() -> ServiceSummary {
        ServiceSummary::from(&sample())
    }

    fn q(text: &str) -> Query {
        Query {
            text: text.into(),
            category: None,
        }
    }

    #[test]
    fn an_empty_query_matches_everything() {
        assert!(matches(&summary(), &Query::default()));
    }

    #[test]
    fn every_word_must_match_somewhere_in_any_language() {
        assert!(matches(&summary(), &q("external")));
        assert!(matches(&summary(), &q("EXTERNAL student")));
        assert!(matches(&summary(), &q("external (ru)")));
        assert!(!matches(&summary(), &q("external adoption")));
    }

    #[test]
    fn matches_the_id_and_the_provider() {
        assert!(matches(&summary(), &q("externat-permission")));
        assert!(matches(&summary(), &q("department")));
    }

    #[test]
    fn folds_yo_and_case_in_cyrillic() {
        let mut s = summary();
        s.summary.ru = "Разрешение на обучение ЭКСТЕРНОМ, учёба дома".into();
        assert!(matches(&s, &q("учеба")));
        assert!(matches(&s, &q("экстерном")));
        s.summary.kk = "Экстернат нысанында оқыту".into();
        assert!(matches(&s, &q("ОҚЫТУ")));
    }

    #[test]
    fn filters_by_category() {
        let query = Query {
            text: String::new(),
            category: Some(Category::Teachers),
        };
        assert!(!matches(&summary(), &query));
        let query = Query {
            text: String::new(),
            category: Some(Category::Schools),
        };
        assert!(matches(&summary(), &query));
    }

    #[test]
    fn results_come_in_catalogue_order() {
        let mut a = summary();
        a.catalogue_number = 9;
        let mut b = summary();
        b.catalogue_number = 3;
        let list = vec![a, b];
        let found: Vec<u32> = search(&list, &Query::default())
            .iter()
            .map(|s| s.catalogue_number)
            .collect();
        assert_eq!(found, vec![3, 9]);
    }

    #[test]
    fn punctuation_separates_words() {
        assert_eq!(
            words("«Школа», 1-класс;  Almaty"),
            vec!["школ", "1-класс", "almaty"]
        );
    }

    #[test]
    fn the_typed_form_finds_other_forms_of_the_word() {
        let mut s = summary();
        s.summary.ru = "Выдача справок по опеке и попечительству для первого класса".into();
        s.summary.en = "Issue of certificates on guardianship".into();
        s.summary.kk = "Қорғаншылықты белгілеу".into();
        for typed in [
            "опека",
            "опеки",
            "первый",
            "класс",
            "certificates",
            "certificate",
            "қорғаншылық",
        ] {
            assert!(matches(&s, &q(typed)), "{typed}");
        }
        assert!(!matches(&s, &q("опекун")), "a different word is not found");
    }

    #[test]
    fn stems_keep_short_words_whole() {
        assert_eq!(stem("дом"), "дом");
        assert_eq!(stem("класс"), "класс");
        assert_eq!(stem("bus"), "bus");
        assert_eq!(stem("class"), "class");
        assert_eq!(stem("опека"), "опек");
        assert_eq!(stem("первый"), "перв");
    }
}
