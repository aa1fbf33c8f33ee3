//! What a page shows while it loads, and when loading fails.

use leptos::prelude::*;
use portal_i18n::Msg;

use crate::api::ApiFailure;
use crate::i18n::use_i18n;

#[component]
pub fn Loading(message: Msg) -> impl IntoView {
    let i18n = use_i18n();
    view! {
        <p class="loading" role="status">{move || i18n.t(message)}</p>
    }
}

/// An error with a way to try again. Announced to screen readers as an alert.
#[component]
pub fn Failure(failure: ApiFailure, #[prop(into)] retry: Callback<()>) -> impl IntoView {
    let i18n = use_i18n();
    let failure = StoredValue::new(failure);
    view! {
        <div class="notice notice--error" role="alert">
            <p>{move || failure.with_value(|f| f.message(i18n.lang()))}</p>
            <button type="button" class="button button--secondary" on:click=move |_| retry.run(())>
                {move || i18n.t(Msg::CatalogueRetry)}
            </button>
        </div>
    }
}
