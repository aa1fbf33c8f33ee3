//! The home page: search, categories, and the service most families come for.

use leptos::prelude::*;
use leptos_router::NavigateOptions;
use leptos_router::hooks::use_navigate;
use portal_domain::service::Category;
use portal_i18n::Msg;

use crate::components::{SearchForm, use_title};
use crate::format;
use crate::i18n::use_i18n;

#[component]
pub fn HomePage() -> impl IntoView {
    let i18n = use_i18n();
    let navigate = use_navigate();
    let text = RwSignal::new(String::new());
    use_title(move || i18n.t(Msg::HomeTitle).to_string());
    let on_submit = move |q: String| {
        let target = if q.trim().is_empty() {
            "/services".to_string()
        } else {
            format!(
                "/services?q={}",
                String::from(js_sys::encode_uri_component(q.trim()))
            )
        };
        navigate(&target, NavigateOptions::default());
    };
    view! {
        <h1>{move || i18n.t(Msg::HomeTitle)}</h1>
        <p class="lead">{move || i18n.t(Msg::HomeIntro)}</p>
        <SearchForm id="home-search" text=text on_submit=on_submit/>
        <section class="feature" aria-labelledby="first-grade-title">
            <h2 id="first-grade-title">{move || i18n.t(Msg::HomeFirstGradeTitle)}</h2>
            <p>{move || i18n.t(Msg::HomeFirstGradeText)}</p>
            <a href="/services/school-enrollment">{move || i18n.t(Msg::HomeFirstGradeLink)}</a>
        </section>
        <section aria-labelledby="browse-title">
            <h2 id="browse-title">{move || i18n.t(Msg::HomeBrowseTitle)}</h2>
            <ul class="category-grid">
                {Category::ALL
                    .into_iter()
                    .map(|c| {
                        let href = format!("/services?category={}", c.code());
                        view! { <li><a href=href>{move || i18n.t(format::category(c))}</a></li> }
                    })
                    .collect_view()}
                <li><a href="/services">{move || i18n.t(Msg::HomeAllServices)}</a></li>
            </ul>
        </section>
    }
}
