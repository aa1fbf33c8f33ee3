//! Form fields and errors, GOV.UK style: an error summary at the top that links to each field,
//! and the same message next to the field. Messages are keys, so they follow a language switch.

use leptos::prelude::*;
use portal_domain::validation::FieldIssue;
use portal_i18n::{Lang, Msg};
use wasm_bindgen::JsCast;

use crate::api::ApiFailure;
use crate::i18n::use_i18n;

/// The problems of one form: field issues, plus one message about the form as a whole.
#[derive(Clone, Copy)]
pub struct FormErrors {
    pub fields: RwSignal<Vec<FieldIssue>>,
    pub general: RwSignal<Option<GeneralError>>,
    /// The form's id prefix: the field `iin` of the form `login` is the element `login-iin`.
    prefix: &'static str,
}

/// A problem not tied to one field (wrong password, locked, network), linked to a field.
#[derive(Clone, Debug, PartialEq)]
pub struct GeneralError {
    pub failure: Option<ApiFailure>,
    pub msg: Option<Msg>,
    pub field: &'static str,
}

impl GeneralError {
    pub fn text(&self, lang: Lang) -> String {
        match (&self.failure, self.msg) {
            (_, Some(msg)) => portal_i18n::t(lang, msg).to_string(),
            (Some(f), None) => f.message(lang),
            (None, None) => String::new(),
        }
    }
}

impl FormErrors {
    pub fn new(prefix: &'static str) -> FormErrors {
        FormErrors {
            fields: RwSignal::new(Vec::new()),
            general: RwSignal::new(None),
            prefix,
        }
    }

    pub fn id(&self, field: &str) -> String {
        format!("{}-{}", self.prefix, field.replace(['.', '[', ']'], "-"))
    }

    pub fn clear(&self) {
        self.fields.set(Vec::new());
        self.general.set(None);
    }

    pub fn is_empty(&self) -> bool {
        self.fields.with(Vec::is_empty) && self.general.with(Option::is_none)
    }

    /// Shows `issues` and moves focus to the summary, as GOV.UK forms do after a failed submit.
    pub fn show(&self, issues: Vec<FieldIssue>) {
        self.general.set(None);
        self.fields.set(issues);
        focus_summary(self.prefix);
    }

    pub fn show_general(&self, error: GeneralError) {
        self.fields.set(Vec::new());
        self.general.set(Some(error));
        focus_summary(self.prefix);
    }

    /// A failed request: its field issues if it has any, else its message.
    pub fn show_failure(&self, failure: ApiFailure, field: &'static str) {
        let fields = failure.fields();
        if fields.is_empty() {
            self.show_general(GeneralError {
                failure: Some(failure),
                msg: None,
                field,
            });
        } else {
            self.show(fields);
        }
    }

    /// The message for one field, in the current language.
    pub fn for_field(&self, field: impl Into<String>) -> Signal<Option<String>> {
        let i18n = use_i18n();
        let this = *self;
        let field = field.into();
        Signal::derive(move || {
            let lang = i18n.lang();
            this.fields.with(|issues| {
                issues
                    .iter()
                    .find(|i| i.field == field)
                    .map(|i| i.message(lang))
            })
        })
    }
}

fn focus_summary(prefix: &'static str) {
    // After the summary has rendered.
    request_animation_frame(move || {
        if let Some(el) = document().get_element_by_id(&format!("{prefix}-error-summary")) {
            if let Ok(el) = el.dyn_into::<web_sys::HtmlElement>() {
                let _ = el.focus();
            }
        }
    });
}

/// Focuses a form control by id (the router would treat `#id` links as navigation).
pub fn focus(id: &str) {
    if let Some(el) = document()
        .get_element_by_id(id)
        .and_then(|e| e.dyn_into::<web_sys::HtmlElement>().ok())
    {
        let _ = el.focus();
    }
}

#[component]
pub fn ErrorSummary(errors: FormErrors) -> impl IntoView {
    let i18n = use_i18n();
    let id = format!("{}-error-summary", errors.prefix);
    view! {
        <Show when=move || !errors.is_empty()>
            <div class="error-summary" id=id.clone() tabindex="-1" aria-labelledby=format!("{id}-title")>
                <div role="alert">
                    <h2 class="error-summary__title" id=format!("{id}-title")>{move || i18n.t(Msg::ErrorSummaryTitle)}</h2>
                    <ul class="error-summary__list">
                        {move || {
                            let lang = i18n.lang();
                            let general = errors.general.get().map(|g| (errors.id(g.field), g.text(lang)));
                            let fields = errors.fields.get().into_iter().map(|i| (errors.id(&i.field), i.message(lang)));
                            general
                                .into_iter()
                                .chain(fields)
                                .map(|(target, text)| {
                                    let href = format!("#{target}");
                                    view! {
                                        <li>
                                            <a href=href on:click=move |ev| { ev.prevent_default(); focus(&target); }>{text}</a>
                                        </li>
                                    }
                                })
                                .collect_view()
                        }}
                    </ul>
                </div>
            </div>
        </Show>
    }
}

/// The parts around a labelled control: its id, its error, the ids of its hint and error
/// (for `aria-describedby`), and the label, hint and error to show above it.
struct Labelled {
    id: String,
    error: Signal<Option<String>>,
    describedby: Signal<Option<String>>,
    head: AnyView,
}

fn labelled(
    errors: FormErrors,
    field: &str,
    label: Msg,
    hint: Option<Msg>,
    text_lang: Option<Lang>,
) -> Labelled {
    let i18n = use_i18n();
    let id = errors.id(field);
    let label_text = move || match text_lang {
        Some(lang) => i18n.tf(
            Msg::AdminInLang,
            &[("field", i18n.t(label)), ("language", lang.native_name())],
        ),
        None => i18n.t(label).to_string(),
    };
    let error = errors.for_field(field);
    let hint_id = format!("{id}-hint");
    let error_id = format!("{id}-error");
    let describedby = {
        let (hint_id, error_id) = (hint_id.clone(), error_id.clone());
        Signal::derive(move || {
            let mut ids = Vec::new();
            if hint.is_some() {
                ids.push(hint_id.clone());
            }
            if error.get().is_some() {
                ids.push(error_id.clone());
            }
            (!ids.is_empty()).then(|| ids.join(" "))
        })
    };
    let head = view! {
        <label class="label" for=id.clone()>{label_text}</label>
        {hint.map(|h| view! { <p class="hint" id=hint_id.clone()>{move || i18n.t(h)}</p> })}
        {move || error.get().map(|text| view! {
            <p class="error-message" id=error_id.clone()>
                <span class="visually-hidden">{i18n.t(Msg::ErrorSummaryTitle)}": "</span>{text}
            </p>
        })}
    }
    .into_any();
    Labelled {
        id,
        error,
        describedby,
        head,
    }
}

/// A labelled text input with an optional hint and its error.
#[component]
pub fn TextField(
    errors: FormErrors,
    #[prop(into)] field: String,
    label: Msg,
    value: RwSignal<String>,
    #[prop(optional)] hint: Option<Msg>,
    #[prop(default = "text")] input_type: &'static str,
    #[prop(optional)] autocomplete: Option<&'static str>,
    #[prop(optional)] inputmode: Option<&'static str>,
    #[prop(optional)] maxlength: Option<u32>,
    #[prop(optional)] narrow: bool,
    /// For a text in one of several languages: the label names the language, and the input
    /// is marked as being in it.
    #[prop(optional)]
    text_lang: Option<Lang>,
) -> impl IntoView {
    let Labelled {
        id,
        error,
        describedby,
        head,
    } = labelled(errors, &field, label, hint, text_lang);
    view! {
        <div class="form-group" class:form-group--error=move || error.get().is_some()>
            {head}
            <input
                id=id
                name=field
                lang=text_lang.map(Lang::code)
                class="input"
                class:input--narrow=narrow
                class:input--error=move || error.get().is_some()
                type=input_type
                autocomplete=autocomplete
                inputmode=inputmode
                maxlength=maxlength.map(|m| m.to_string())
                spellcheck="false"
                aria-describedby=describedby
                aria-invalid=move || error.get().is_some().then_some("true")
                prop:value=move || value.get()
                on:input=move |ev| value.set(event_target_value(&ev))
            />
        </div>
    }
}

/// A labelled multi-line text with its error; `text_lang` as for [`TextField`].
#[component]
pub fn TextArea(
    errors: FormErrors,
    #[prop(into)] field: String,
    label: Msg,
    value: RwSignal<String>,
    #[prop(optional)] hint: Option<Msg>,
    #[prop(default = 2000)] maxlength: u32,
    #[prop(default = 3)] rows: u32,
    #[prop(optional)] text_lang: Option<Lang>,
) -> impl IntoView {
    let Labelled {
        id,
        error,
        describedby,
        head,
    } = labelled(errors, &field, label, hint, text_lang);
    view! {
        <div class="form-group" class:form-group--error=move || error.get().is_some()>
            {head}
            <textarea
                id=id
                name=field
                lang=text_lang.map(Lang::code)
                class="textarea"
                rows=rows.to_string()
                maxlength=maxlength.to_string()
                aria-describedby=describedby
                aria-invalid=move || error.get().is_some().then_some("true")
                prop:value=move || value.get()
                on:input=move |ev| value.set(event_target_value(&ev))
            ></textarea>
        </div>
    }
}

/// A choice of one of the portal's languages, each written in itself.
#[component]
pub fn LanguageChoice(
    errors: FormErrors,
    field: &'static str,
    legend: Msg,
    value: RwSignal<Lang>,
) -> impl IntoView {
    let i18n = use_i18n();
    let id = errors.id(field);
    view! {
        <fieldset class="form-group fieldset" id=id.clone()>
            <legend class="label">{move || i18n.t(legend)}</legend>
            <div class="radios">
                {Lang::ALL
                    .into_iter()
                    .map(|lang| {
                        let option_id = format!("{id}-{}", lang.code());
                        view! {
                            <div class="radio">
                                <input
                                    type="radio"
                                    id=option_id.clone()
                                    name=field
                                    value=lang.code()
                                    prop:checked=move || value.get() == lang
                                    on:change=move |_| value.set(lang)
                                />
                                <label for=option_id lang=lang.code()>{lang.native_name()}</label>
                            </div>
                        }
                    })
                    .collect_view()}
            </div>
        </fieldset>
    }
}

/// A drop-down choice of `options` (value, label).
#[component]
pub fn SelectField(
    errors: FormErrors,
    field: &'static str,
    label: Msg,
    value: RwSignal<String>,
    #[prop(into)] options: Signal<Vec<(String, String)>>,
) -> impl IntoView {
    let i18n = use_i18n();
    let id = errors.id(field);
    let error = errors.for_field(field);
    view! {
        <div class="form-group" class:form-group--error=move || error.get().is_some()>
            <label class="label" for=id.clone()>{move || i18n.t(label)}</label>
            {move || error.get().map(|text| view! { <p class="error-message">{text}</p> })}
            <select
                id=id
                name=field
                class="select"
                aria-invalid=move || error.get().is_some().then_some("true")
                on:change=move |ev| value.set(event_target_value(&ev))
            >
                {move || {
                    options
                        .get()
                        .into_iter()
                        .map(|(v, text)| {
                            let selected = value.get_untracked() == v;
                            view! { <option value=v selected=selected>{text}</option> }
                        })
                        .collect_view()
                }}
            </select>
        </div>
    }
}

/// A checkbox with its label.
#[component]
pub fn Checkbox(
    errors: FormErrors,
    field: &'static str,
    label: Msg,
    value: RwSignal<bool>,
) -> impl IntoView {
    let i18n = use_i18n();
    let id = errors.id(field);
    let error = errors.for_field(field);
    view! {
        <div class="checkbox" class:form-group--error=move || error.get().is_some()>
            {move || error.get().map(|text| view! { <p class="error-message">{text}</p> })}
            <input
                type="checkbox"
                id=id.clone()
                name=field
                prop:checked=move || value.get()
                on:change=move |ev| value.set(event_target_checked(&ev))
            />
            <label for=id>{move || i18n.t(label)}</label>
        </div>
    }
}
