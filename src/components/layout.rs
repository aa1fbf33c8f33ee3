//! The frame of every page: skip link, header with navigation and language switcher, footer.

use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::{use_location, use_navigate};
use leptos_router::NavigateOptions;
use portal_i18n::{Lang, Msg};
use wasm_bindgen::JsCast;

use crate::i18n::use_i18n;

#[component]
pub fn Layout(children: Children) -> impl IntoView {
    let i18n = use_i18n();
    let location = use_location();
    // After a client-side navigation, move focus to the main content so a screen reader
    // announces the new page, as after a full page load. Not on the first render.
    Effect::new(move |previous: Option<String>| {
        let path = location.pathname.get();
        if previous.is_some_and(|p| p != path) {
            focus_main();
        }
        path
    });
    // The router would treat `#main` as a navigation; the skip link must move focus instead.
    let skip = move |ev: leptos::ev::MouseEvent| {
        ev.prevent_default();
        focus_main();
    };
    view! {
        <a class="skip-link" href="#main" on:click=skip>{move || i18n.t(Msg::NavSkipToContent)}</a>
        <header class="header">
            <div class="header__inner">
                <a class="header__brand" href="/">{move || i18n.t(Msg::AppName)}</a>
                <nav class="header__nav" aria-label=move || i18n.t(Msg::NavMainLabel)>
                    <ul>
                        <li><A href="/" exact=true>{move || i18n.t(Msg::NavHome)}</A></li>
                        <li><A href="/services">{move || i18n.t(Msg::NavCatalogue)}</A></li>
                    </ul>
                </nav>
                <LanguageSwitcher/>
            </div>
        </header>
        <main id="main" class="main" tabindex="-1">
            {children()}
        </main>
        <footer class="footer" aria-label=move || i18n.t(Msg::FooterLabel)>
            <div class="footer__inner">
                <p>{move || i18n.t(Msg::FooterAbout)}</p>
                <p>{move || i18n.t(Msg::FooterContactCentre)}</p>
            </div>
        </footer>
    }
}

fn focus_main() {
    if let Some(main) = document().get_element_by_id("main").and_then(|e| e.dyn_into::<web_sys::HtmlElement>().ok()) {
        let _ = main.focus();
    }
}

/// Links to the page in each language. Each link is written in its own language (`lang`), and
/// the current one is marked for assistive technology.
#[component]
pub fn LanguageSwitcher() -> impl IntoView {
    let i18n = use_i18n();
    let location = use_location();
    let navigate = use_navigate();
    let href_for = move |lang: Lang| {
        let path = location.pathname.get();
        let mut params: Vec<String> = location
            .search
            .get()
            .trim_start_matches('?')
            .split('&')
            .filter(|p| !p.is_empty() && !p.starts_with("lang="))
            .map(str::to_string)
            .collect();
        params.push(format!("lang={}", lang.code()));
        format!("{path}?{}", params.join("&"))
    };
    view! {
        <nav class="languages" aria-label=move || i18n.t(Msg::NavLanguageLabel)>
            <ul>
                {Lang::ALL
                    .into_iter()
                    .map(|lang| {
                        let navigate = navigate.clone();
                        view! {
                            <li>
                                <a
                                    href=move || href_for(lang)
                                    lang=lang.code()
                                    hreflang=lang.code()
                                    aria-current=move || (i18n.lang() == lang).then_some("true")
                                    on:click=move |ev| {
                                        ev.prevent_default();
                                        i18n.set(lang);
                                        navigate(&href_for(lang), NavigateOptions { replace: true, scroll: false, ..Default::default() });
                                    }
                                >
                                    {lang.native_name()}
                                </a>
                            </li>
                        }
                    })
                    .collect_view()}
            </ul>
        </nav>
    }
}
