//! Reusable pieces of the interface.

mod layout;
mod search;
mod status;

pub use layout::{AccountLinks, DemoBanner, LanguageSwitcher, Layout, SkipLink, focus_main};
pub use search::SearchForm;
pub use status::{Failure, Loading};

use leptos::prelude::*;
use portal_i18n::Msg;

use crate::i18n::use_i18n;

/// Keeps `document.title` as "<page> — <portal name>" in the current language.
pub fn use_title(page: impl Fn() -> String + 'static) {
    let i18n = use_i18n();
    Effect::new(move |_| {
        let title = i18n.tf(Msg::AppTitle, &[("page", &page())]);
        document().set_title(&title);
    });
}
