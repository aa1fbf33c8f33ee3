//! The frame of every page: skip link, header with navigation and language switcher, footer.

use leptos::prelude::*;
use leptos_router::NavigateOptions;
use leptos_router::components::A;
use leptos_router::hooks::{use_location, use_navigate};
use portal_i18n::{Lang, Msg};
use wasm_bindgen::JsCast;

use crate::api;
use crate::i18n::use_i18n;
use crate::session::{SessionTimeout, sign_out, use_session};

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
    view! {
        <SkipLink/>
        <header class="header">
            <div class="header__inner">
                <a class="header__brand" href="/">{move || i18n.t(Msg::AppName)}</a>
                <nav class="header__nav" aria-label=move || i18n.t(Msg::NavMainLabel)>
                    <ul>
                        <li><A href="/" exact=true>{move || i18n.t(Msg::NavHome)}</A></li>
                        <li><A href="/services">{move || i18n.t(Msg::NavCatalogue)}</A></li>
                    </ul>
                </nav>
                <AccountLinks/>
                <LanguageSwitcher/>
            </div>
            <DemoBanner/>
        </header>
        // Before the routed content: built after it, its timer would belong to the current
        // route and stop at the first navigation.
        <SessionTimeout/>
        <main id="main" class="main" tabindex="-1">
            <crate::live::LiveNotifications/>
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

/// The first link of every page: straight to the main content.
#[component]
pub fn SkipLink() -> impl IntoView {
    let i18n = use_i18n();
    // The router would treat `#main` as a navigation; the skip link must move focus instead.
    let skip = move |ev: leptos::ev::MouseEvent| {
        ev.prevent_default();
        focus_main();
    };
    view! { <a class="skip-link" href="#main" on:click=skip>{move || i18n.t(Msg::NavSkipToContent)}</a> }
}

/// "Sign in", or the signed-in person's home and "Sign out".
#[component]
pub fn AccountLinks() -> impl IntoView {
    let i18n = use_i18n();
    let session = use_session();
    let navigate = use_navigate();
    let sign_out = move |_| sign_out(session, navigate.clone());
    view! {
        <nav class="header__account" aria-label=move || i18n.t(Msg::NavAccountLabel)>
            {move || match session.user() {
                None => view! { <a href="/login">{i18n.t(Msg::NavSignIn)}</a> }.into_any(),
                Some(user) => {
                    let home = match user.role {
                        portal_domain::accounts::Role::Citizen => Msg::NavCabinet,
                        portal_domain::accounts::Role::Officer => Msg::NavWorkspace,
                        portal_domain::accounts::Role::Administrator => Msg::NavAdmin,
                    };
                    view! {
                        <a href=user.role.home_path()>{i18n.t(home)}</a>
                        <span class="header__user">{user.display_name()}</span>
                        <button class="link-button" type="button" on:click=sign_out.clone()>{i18n.t(Msg::NavSignOut)}</button>
                    }
                    .into_any()
                }
            }}
        </nav>
    }
}

/// Says plainly, on every page, that this is a demonstration with fictional data.
#[component]
pub fn DemoBanner() -> impl IntoView {
    let i18n = use_i18n();
    let demo =
        LocalResource::new(|| async { api::health().await.map(|h| h.demo).unwrap_or(false) });
    view! {
        <Show when=move || demo.get().unwrap_or(false)>
            <div class="demo-banner">
                <p><strong class="tag tag--warning">{move || i18n.t(Msg::AppDemoBadge)}</strong>" "{move || i18n.t(Msg::AppDemoNotice)}</p>
            </div>
        </Show>
    }
}

pub fn focus_main() {
    if let Some(main) = document()
        .get_element_by_id("main")
        .and_then(|e| e.dyn_into::<web_sys::HtmlElement>().ok())
    {
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
