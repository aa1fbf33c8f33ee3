use leptos::prelude::*;
use portal_i18n::Msg;

use crate::components::use_title;
use crate::i18n::use_i18n;

/// "Page not found", with what was not found and the way back to the services.
#[component]
pub fn NotFoundPage(#[prop(default = Msg::NotFoundText)] message: Msg) -> impl IntoView {
    let i18n = use_i18n();
    use_title(move || i18n.t(Msg::NotFoundTitle).to_string());
    view! {
        <h1>{move || i18n.t(Msg::NotFoundTitle)}</h1>
        <p>{move || i18n.t(message)}</p>
        <p><a href="/services">{move || i18n.t(Msg::HomeAllServices)}</a></p>
    }
}
