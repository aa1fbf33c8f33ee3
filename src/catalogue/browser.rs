use leptos::prelude::*;
use leptos_router::NavigateOptions;
use leptos_router::hooks::{use_navigate, use_query_map};
use portal_domain::catalogue::{self, Query, ServiceSummary};
use portal_domain::service::Category;
use portal_i18n::{Msg, Plural};

use super::CatalogueResource;
use crate::components::{Failure, Loading, SearchForm, use_title};
use crate::format;
use crate::i18n::use_i18n;

#[component]
pub fn CataloguePage() -> impl IntoView {
    let i18n = use_i18n();
    let CatalogueResource(services) = expect_context();
    use_title(move || i18n.t(Msg::CatalogueTitle).to_string());
    view! {
        <h1>{move || i18n.t(Msg::CatalogueTitle)}</h1>
        <p class="lead">{move || i18n.t(Msg::CatalogueIntro)}</p>
        {move || match services.get() {
            None => view! { <Loading message=Msg::CatalogueLoading/> }.into_any(),
            Some(Ok(list)) => view! { <CatalogueBrowser services=list/> }.into_any(),
            Some(Err(failure)) => view! { <Failure failure=failure retry=move |_| services.refetch()/> }.into_any(),
        }}
    }
}

/// Search and categories over a list of services. Results follow every keystroke (the same
/// matching rules as `GET /api/services`), and the URL keeps the search so it can be shared.
#[component]
pub fn CatalogueBrowser(services: Vec<ServiceSummary>) -> impl IntoView {
    let i18n = use_i18n();
    let query_map = use_query_map();
    let navigate = use_navigate();
    let services = StoredValue::new(services);
    let text = RwSignal::new(query_map.get_untracked().get("q").unwrap_or_default());
    let category = Memo::new(move |_| {
        query_map
            .read()
            .get("category")
            .and_then(|c| Category::parse(&c))
    });
    let found = Memo::new(move |_| {
        let query = Query {
            text: text.get(),
            category: category.get(),
        };
        services.with_value(|all| {
            catalogue::search(all, &query)
                .into_iter()
                .cloned()
                .collect::<Vec<_>>()
        })
    });
    let url_for = move |text: &str, category: Option<Category>| {
        let mut params = Vec::new();
        if !text.trim().is_empty() {
            params.push(format!("q={}", encode(text.trim())));
        }
        if let Some(c) = category {
            params.push(format!("category={}", c.code()));
        }
        if params.is_empty() {
            "/services".to_string()
        } else {
            format!("/services?{}", params.join("&"))
        }
    };
    let update_url = move |text: String| {
        navigate(
            &url_for(&text, category.get_untracked()),
            NavigateOptions {
                replace: true,
                scroll: false,
                ..Default::default()
            },
        );
    };
    view! {
        <SearchForm id="service-search" text=text on_change=update_url.clone() on_submit=update_url/>
        <nav class="categories" aria-label=move || i18n.t(Msg::CatalogueCategoryLegend)>
            <ul>
                <li>
                    <a href=move || url_for(&text.get(), None) aria-current=move || category.get().is_none().then_some("true")>
                        {move || i18n.t(Msg::CatalogueCategoryAll)}
                    </a>
                </li>
                {Category::ALL
                    .into_iter()
                    .map(|c| {
                        view! {
                            <li>
                                <a href=move || url_for(&text.get(), Some(c)) aria-current=move || (category.get() == Some(c)).then_some("true")>
                                    {move || i18n.t(format::category(c))}
                                </a>
                            </li>
                        }
                    })
                    .collect_view()}
            </ul>
        </nav>
        <p class="results-count" role="status">{move || i18n.tp(Plural::CatalogueResults, found.read().len() as u64)}</p>
        <Show
            when=move || !found.read().is_empty()
            fallback=move || {
                view! {
                    <div class="empty">
                        <p><strong>{move || i18n.t(Msg::CatalogueNoResults)}</strong></p>
                        <p>{move || i18n.t(Msg::CatalogueNoResultsHint)}</p>
                    </div>
                }
            }
        >
            <ul class="service-list">
                <For each=move || found.get() key=|s| s.id.clone() let:service>
                    <ServiceCard service=service/>
                </For>
            </ul>
        </Show>
    }
}

#[component]
fn ServiceCard(service: ServiceSummary) -> impl IntoView {
    let i18n = use_i18n();
    let service = StoredValue::new(service);
    let get = move |f: fn(&ServiceSummary) -> String| service.with_value(f);
    let href = format!("/services/{}", get(|s| s.id.clone()));
    view! {
        <li class="service-card">
            <h2 class="service-card__title">
                <a href=href>{move || service.with_value(|s| s.short_name.get(i18n.lang()).to_string())}</a>
            </h2>
            <p class="service-card__summary">{move || service.with_value(|s| s.summary.get(i18n.lang()).to_string())}</p>
            <dl class="facts">
                <div>
                    <dt>{move || i18n.t(Msg::CatalogueTerm)}</dt>
                    <dd>{move || service.with_value(|s| format::term_short(i18n.lang(), s.term_stated, s.term_derived, &s.windows))}</dd>
                </div>
                <div>
                    <dt>{move || i18n.t(Msg::CatalogueFee)}</dt>
                    <dd>
                        {move || service.with_value(|s| match &s.fee {
                            Some(fee) => fee.get(i18n.lang()).to_string(),
                            None => i18n.t(Msg::ServiceNotInSeed).to_string(),
                        })}
                    </dd>
                </div>
            </dl>
            {move || {
                if service.with_value(|s| s.portal) {
                    view! { <p class="tag tag--online">{i18n.t(Msg::CatalogueOnline)}</p> }
                } else {
                    view! { <p class="tag">{i18n.t(Msg::CatalogueInPersonOnly)}</p> }
                }
            }}
        </li>
    }
}

/// Percent-encodes a search text for the query string.
fn encode(text: &str) -> String {
    let mut out = String::new();
    for byte in text.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(byte as char)
            }
            _ => out.push_str(&format!("%{byte:02X}")),
        }
    }
    out
}
