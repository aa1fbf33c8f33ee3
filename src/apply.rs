//! Applying online. The form itself arrives with accounts and drafts; until then the page says
//! what the applicant will need and where to start.

use leptos::prelude::*;
use leptos_router::hooks::use_params_map;
use portal_i18n::Msg;

use crate::catalogue::CatalogueResource;
use crate::components::use_title;
use crate::i18n::use_i18n;

#[component]
pub fn ApplyPage() -> impl IntoView {
    let i18n = use_i18n();
    let params = use_params_map();
    let CatalogueResource(services) = expect_context();
    let name = move || {
        let id = params.read().get("id").unwrap_or_default();
        services
            .get()
            .and_then(|r| r.ok())
            .and_then(|list| list.into_iter().find(|s| s.id == id))
            .map(|s| s.short_name.get(i18n.lang()).to_string())
            .unwrap_or_default()
    };
    use_title(move || i18n.tf(Msg::ApplyTitle, &[("service", &name())]));
    view! {
        <h1>{move || i18n.tf(Msg::ApplyTitle, &[("service", &name())])}</h1>
        <p>{move || i18n.t(Msg::ServiceApplyIntro)}</p>
        <p>{move || i18n.t(Msg::ApplyComing)}</p>
    }
}
