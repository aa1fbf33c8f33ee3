//! The language of the page: chosen by `?lang=`, remembered in the browser, and reflected in
//! `<html lang>`, so screen readers pronounce Kazakh as Kazakh.

use leptos::prelude::*;
use portal_i18n::{Lang, Msg, Plural};

const STORAGE_KEY: &str = "portal.lang";

#[derive(Clone, Copy)]
pub struct I18n {
    lang: RwSignal<Lang>,
}

impl I18n {
    /// The current language (tracked: views re-render when it changes).
    pub fn lang(&self) -> Lang {
        self.lang.get()
    }

    /// The current language, without subscribing the caller to changes.
    pub fn lang_untracked(&self) -> Lang {
        self.lang.get_untracked()
    }

    pub fn t(&self, msg: Msg) -> &'static str {
        portal_i18n::t(self.lang(), msg)
    }

    pub fn tf(&self, msg: Msg, args: &[(&str, &str)]) -> String {
        portal_i18n::tf(self.lang(), msg, args)
    }

    pub fn tp(&self, msg: Plural, n: u64) -> String {
        portal_i18n::tp(self.lang(), msg, n, &[])
    }

    /// Switches the language and remembers the choice.
    pub fn set(&self, lang: Lang) {
        if let Some(storage) = window().local_storage().ok().flatten() {
            let _ = storage.set_item(STORAGE_KEY, lang.code());
        }
        self.lang.set(lang);
    }
}

/// The language to start with: the URL, then the remembered choice, then the browser's
/// preferences, then Kazakh.
pub fn initial_lang() -> Lang {
    let window = window();
    let from_url = window
        .location()
        .search()
        .ok()
        .and_then(|search| lang_param(&search));
    let remembered = || {
        window
            .local_storage()
            .ok()
            .flatten()
            .and_then(|s| s.get_item(STORAGE_KEY).ok().flatten())
            .and_then(|v| Lang::parse(&v))
    };
    let browser = || {
        let languages = window.navigator().languages();
        (0..languages.length())
            .filter_map(|i| languages.get(i).as_string())
            .find_map(|tag| Lang::from_accept_language(&tag))
    };
    from_url
        .or_else(remembered)
        .or_else(browser)
        .unwrap_or_default()
}

/// The `lang` parameter of a query string such as `?q=school&lang=ru`.
pub fn lang_param(search: &str) -> Option<Lang> {
    search
        .trim_start_matches('?')
        .split('&')
        .filter_map(|p| p.split_once('='))
        .find(|(k, _)| *k == "lang")
        .and_then(|(_, v)| Lang::parse(v))
}

/// Provides the language context, keeps `<html lang>` and the stored choice in step with it.
pub fn provide_i18n(initial: Lang) -> I18n {
    let i18n = I18n {
        lang: RwSignal::new(initial),
    };
    i18n.set(initial);
    provide_context(i18n);
    Effect::new(move |_| {
        let lang = i18n.lang();
        if let Some(root) = document().document_element() {
            let _ = root.set_attribute("lang", lang.code());
        }
    });
    i18n
}

pub fn use_i18n() -> I18n {
    expect_context::<I18n>()
}
