//! The service search box, on the home page and above the catalogue.

use leptos::prelude::*;
use portal_i18n::Msg;

use crate::i18n::use_i18n;

/// A labelled search field with a hint and a button. `text` holds what is typed; `on_change`
/// runs on every keystroke, `on_submit` when the form is sent.
#[component]
pub fn SearchForm(
    id: &'static str,
    text: RwSignal<String>,
    #[prop(into, optional)] on_change: Option<Callback<String>>,
    #[prop(into)] on_submit: Callback<String>,
) -> impl IntoView {
    let i18n = use_i18n();
    let hint_id = format!("{id}-hint");
    view! {
        <form
            class="search"
            role="search"
            on:submit=move |ev| {
                ev.prevent_default();
                on_submit.run(text.get_untracked());
            }
        >
            <label class="label" for=id>{move || i18n.t(Msg::CatalogueSearchLabel)}</label>
            <p class="hint" id=hint_id.clone()>{move || i18n.t(Msg::CatalogueSearchHint)}</p>
            <div class="search__row">
                <input
                    id=id
                    class="input"
                    type="search"
                    name="q"
                    maxlength="200"
                    autocomplete="off"
                    aria-describedby=hint_id
                    prop:value=move || text.get()
                    on:input=move |ev| {
                        let value = event_target_value(&ev);
                        text.set(value.clone());
                        if let Some(on_change) = on_change {
                            on_change.run(value);
                        }
                    }
                />
                <button class="button" type="submit">{move || i18n.t(Msg::CatalogueSearchButton)}</button>
            </div>
        </form>
    }
}
