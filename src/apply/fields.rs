//! One control per field type of a service's form, bound to the draft's answers.

use leptos::prelude::*;
use portal_domain::form::{AddressAnswer, Answer, Answers, Field, FieldKind, NO_PRIORITY};
use portal_domain::organisation::Organisation;
use portal_domain::service::Origin;
use portal_i18n::Msg;

use super::draft::Draft;
use super::uploads::FileSlot;
use crate::forms::FormErrors;
use crate::i18n::use_i18n;

/// Where a field's answer lives: the draft itself, or an item of a repeatable group.
#[derive(Clone, Copy)]
pub struct Binding {
    pub get: Signal<Option<Answer>>,
    pub set: Callback<Option<Answer>>,
}

impl Binding {
    pub fn top_level(draft: Draft, id: String) -> Binding {
        let key = StoredValue::new(id);
        Binding {
            get: Signal::derive(move || {
                key.with_value(|k| draft.answers.with(|a| a.get(k).cloned()))
            }),
            set: Callback::new(move |v| key.with_value(|k| draft.set_answer(k, v))),
        }
    }

    fn text(&self) -> Signal<String> {
        let get = self.get;
        Signal::derive(move || match get.get() {
            Some(Answer::Text(t)) => t,
            _ => String::new(),
        })
    }

    fn set_text(&self, value: String) {
        self.set.run(if value.is_empty() {
            None
        } else {
            Some(Answer::Text(value))
        });
    }
}

fn error_signal(errors: FormErrors, path: String) -> Signal<Option<String>> {
    let i18n = use_i18n();
    Signal::derive(move || {
        let lang = i18n.lang();
        errors.fields.with(|issues| {
            issues
                .iter()
                .find(|i| i.field == path)
                .map(|i| i.message(lang))
        })
    })
}

#[component]
fn Label(field: StoredValue<Field>, for_id: String) -> impl IntoView {
    let i18n = use_i18n();
    view! {
        <label class="label" for=for_id>
            {move || field.with_value(|f| f.label.get(i18n.lang()).to_string())}
            {move || field.with_value(|f| !f.required && !matches!(f.kind, FieldKind::Checkbox))
                .then(|| view! { " " <span class="optional">{i18n.t(Msg::ApplyOptional)}</span> })}
        </label>
    }
}

#[component]
fn Hint(field: StoredValue<Field>, id: String) -> impl IntoView {
    let i18n = use_i18n();
    let has = field.with_value(|f| f.hint.is_some() || f.origin == Origin::OutsideSeeds);
    has.then(|| {
        view! {
            <div class="hint" id=id>
                {move || field.with_value(|f| f.hint.as_ref().map(|h| view! { <p>{h.get(i18n.lang()).to_string()}</p> }))}
                {move || field.with_value(|f| (f.origin == Origin::OutsideSeeds).then(|| view! {
                    <p class="tag tag--outside">{i18n.t(Msg::ApplyOutsideSeeds)}</p>
                }))}
            </div>
        }
    })
}

#[component]
fn ErrorText(error: Signal<Option<String>>, id: String) -> impl IntoView {
    let i18n = use_i18n();
    move || {
        error.get().map(|text| {
            view! {
                <p class="error-message" id=id.clone()>
                    <span class="visually-hidden">{i18n.t(Msg::ErrorSummaryTitle)}": "</span>{text}
                </p>
            }
        })
    }
}

/// A field of several controls (choices, an address, a group's items): a fieldset whose
/// legend is the field's label, with its hint and error.
#[component]
fn FieldsetGroup(
    id: String,
    describedby: Signal<Option<String>>,
    field: StoredValue<Field>,
    hint_id: String,
    error: Signal<Option<String>>,
    error_id: String,
    children: Children,
) -> impl IntoView {
    let i18n = use_i18n();
    let group_class = move || {
        if error.get().is_some() {
            "form-group form-group--error"
        } else {
            "form-group"
        }
    };
    view! {
        <div class=group_class>
            <fieldset class="fieldset" id=id aria-describedby=describedby tabindex="-1">
                <legend class="label">{move || field.with_value(|f| f.label.get(i18n.lang()).to_string())}</legend>
                <Hint field=field id=hint_id/>
                <ErrorText error=error id=error_id/>
                {children()}
            </fieldset>
        </div>
    }
}

/// The control for `field`, whose answer is at `path` (`grade`, `children[1].iin`).
#[component]
pub fn FieldControl(
    draft: Draft,
    field: Field,
    path: String,
    binding: Binding,
    errors: FormErrors,
    providers: Signal<Vec<Organisation>>,
) -> impl IntoView {
    let i18n = use_i18n();
    let id = errors.id(&path);
    let hint_id = format!("{id}-hint");
    let error_id = format!("{id}-error");
    let error = error_signal(errors, path.clone());
    let has_hint = field.hint.is_some() || field.origin == Origin::OutsideSeeds;
    let describedby = {
        let (hint_id, error_id) = (hint_id.clone(), error_id.clone());
        Signal::derive(move || {
            let mut ids = Vec::new();
            if has_hint {
                ids.push(hint_id.clone());
            }
            if error.get().is_some() {
                ids.push(error_id.clone());
            }
            (!ids.is_empty()).then(|| ids.join(" "))
        })
    };
    let stored = StoredValue::new(field.clone());
    let invalid = move || error.get().is_some().then_some("true");
    let group_class = move || {
        if error.get().is_some() {
            "form-group form-group--error"
        } else {
            "form-group"
        }
    };
    match field.kind.clone() {
        FieldKind::Text { .. }
        | FieldKind::Number { .. }
        | FieldKind::Date { .. }
        | FieldKind::Iin
        | FieldKind::Name
        | FieldKind::Phone
        | FieldKind::Email => {
            let (input_type, inputmode, autocomplete, maxlength, narrow) = match &field.kind {
                FieldKind::Number { .. } => ("text", Some("numeric"), None, Some(12), true),
                FieldKind::Date { .. } => ("date", None, None, None, true),
                FieldKind::Iin => ("text", Some("numeric"), None, Some(12), true),
                FieldKind::Name => ("text", None, None, Some(100), false),
                FieldKind::Phone => ("tel", Some("tel"), None, Some(20), true),
                FieldKind::Email => ("email", Some("email"), None, Some(254), false),
                FieldKind::Text { max_length, .. } => {
                    ("text", None, None, Some(*max_length), false)
                }
                _ => ("text", None, None, None, false),
            };
            let _: Option<&str> = autocomplete;
            let multiline = matches!(
                field.kind,
                FieldKind::Text {
                    multiline: true,
                    ..
                }
            );
            let text = binding.text();
            view! {
                <div class=group_class>
                    <Label field=stored for_id=id.clone()/>
                    <Hint field=stored id=hint_id.clone()/>
                    <ErrorText error=error id=error_id.clone()/>
                    {if multiline {
                        view! {
                            <textarea id=id.clone() name=path.clone() class="textarea" rows="5" maxlength=maxlength.map(|m| m.to_string())
                                aria-describedby=describedby aria-invalid=invalid
                                prop:value=move || text.get()
                                on:input=move |ev| binding.set_text(event_target_value(&ev))></textarea>
                        }.into_any()
                    } else {
                        view! {
                            <input id=id.clone() name=path.clone() class="input" class:input--narrow=narrow type=input_type
                                inputmode=inputmode maxlength=maxlength.map(|m| m.to_string()) spellcheck="false"
                                aria-describedby=describedby aria-invalid=invalid
                                prop:value=move || text.get()
                                on:input=move |ev| binding.set_text(event_target_value(&ev))/>
                        }.into_any()
                    }}
                </div>
            }
            .into_any()
        }
        FieldKind::Select { options } => {
            let choices = Signal::stored(
                options
                    .into_iter()
                    .map(|o| (o.value, o.label))
                    .collect::<Vec<_>>(),
            );
            view! {
                <div class=group_class>
                    <Label field=stored for_id=id.clone()/>
                    <Hint field=stored id=hint_id.clone()/>
                    <ErrorText error=error id=error_id.clone()/>
                    <Dropdown id=id.clone() name=path.clone() binding=binding choices=choices describedby=describedby invalid=Signal::derive(invalid)/>
                </div>
            }
            .into_any()
        }
        FieldKind::Radio { options } => {
            let text = binding.text();
            view! {
                <FieldsetGroup id=id.clone() describedby=describedby field=stored hint_id=hint_id.clone() error=error error_id=error_id.clone()>
                    <div class="radios">
                        {options.into_iter().map(|o| {
                            let option_id = format!("{id}-{}", o.value);
                            let value = o.value.clone();
                            let checked = { let value = value.clone(); move || text.get() == value };
                            view! {
                                <div class="radio">
                                    <input type="radio" id=option_id.clone() name=path.clone() value=o.value.clone()
                                        prop:checked=checked on:change=move |_| binding.set_text(value.clone())/>
                                    <label for=option_id>{move || o.label.get(i18n.lang()).to_string()}</label>
                                </div>
                            }
                        }).collect_view()}
                    </div>
                </FieldsetGroup>
            }
            .into_any()
        }
        FieldKind::Checkbox => {
            let get = binding.get;
            view! {
                <div class=group_class>
                    <ErrorText error=error id=error_id.clone()/>
                    <div class="checkbox">
                        <input type="checkbox" id=id.clone() name=path.clone() aria-describedby=describedby aria-invalid=invalid
                            prop:checked=move || matches!(get.get(), Some(Answer::Flag(true)))
                            on:change=move |ev| binding.set.run(event_target_checked(&ev).then_some(Answer::Flag(true)))/>
                        <label for=id.clone()>{move || stored.with_value(|f| f.label.get(i18n.lang()).to_string())}</label>
                    </div>
                    <Hint field=stored id=hint_id.clone()/>
                </div>
            }
            .into_any()
        }
        FieldKind::Checkboxes { options, .. } => {
            let get = binding.get;
            let chosen = move || match get.get() {
                Some(Answer::List(l)) => l,
                _ => Vec::new(),
            };
            view! {
                <FieldsetGroup id=id.clone() describedby=describedby field=stored hint_id=hint_id.clone() error=error error_id=error_id.clone()>
                    {options.into_iter().map(|o| {
                        let option_id = format!("{id}-{}", o.value);
                        let value = StoredValue::new(o.value.clone());
                        view! {
                            <div class="checkbox">
                                <input type="checkbox" id=option_id.clone() name=path.clone()
                                    prop:checked=move || value.with_value(|v| chosen().contains(v))
                                    on:change=move |ev| {
                                        let mut list = chosen();
                                        let v = value.get_value();
                                        list.retain(|x| *x != v);
                                        if event_target_checked(&ev) { list.push(v); }
                                        binding.set.run((!list.is_empty()).then_some(Answer::List(list)));
                                    }/>
                                <label for=option_id>{move || o.label.get(i18n.lang()).to_string()}</label>
                            </div>
                        }
                    }).collect_view()}
                </FieldsetGroup>
            }
            .into_any()
        }
        FieldKind::Address => {
            let get = binding.get;
            let current = move || match get.get() {
                Some(Answer::Address(a)) => a,
                _ => AddressAnswer::default(),
            };
            let part = move |name: &'static str, label: Msg, narrow: bool| {
                let part_path = format!("{path}.{name}");
                let part_id = errors.id(&part_path);
                let part_error = error_signal(errors, part_path.clone());
                let part_error_id = format!("{part_id}-error");
                let value = move || {
                    let a = current();
                    match name {
                        "locality" => a.locality,
                        "street" => a.street,
                        "house" => a.house,
                        _ => a.apartment,
                    }
                };
                view! {
                    <div class="form-group" class:form-group--error=move || part_error.get().is_some()>
                        <label class="label label--small" for=part_id.clone()>{move || i18n.t(label)}</label>
                        <ErrorText error=part_error id=part_error_id/>
                        <input id=part_id class="input" class:input--narrow=narrow type="text" maxlength="200" name=part_path
                            aria-invalid=move || part_error.get().is_some().then_some("true")
                            prop:value=value
                            on:input=move |ev| {
                                let mut a = current();
                                let v = event_target_value(&ev);
                                match name {
                                    "locality" => a.locality = v,
                                    "street" => a.street = v,
                                    "house" => a.house = v,
                                    _ => a.apartment = v,
                                }
                                let empty = a == AddressAnswer::default();
                                binding.set.run((!empty).then_some(Answer::Address(a)));
                            }/>
                    </div>
                }
            };
            view! {
                <FieldsetGroup id=id.clone() describedby=describedby field=stored hint_id=hint_id.clone() error=error error_id=error_id.clone()>
                    {part("locality", Msg::ApplyAddressLocality, false)}
                    {part("street", Msg::ApplyAddressStreet, false)}
                    {part("house", Msg::ApplyAddressHouse, true)}
                    {part("apartment", Msg::ApplyAddressApartment, true)}
                </FieldsetGroup>
            }
            .into_any()
        }
        FieldKind::Group {
            item_label,
            max_items,
            fields,
            ..
        } => {
            let get = binding.get;
            let items = move || match get.get() {
                Some(Answer::Items(items)) => items,
                _ => Vec::new(),
            };
            let item_label = StoredValue::new(item_label);
            let fields = StoredValue::new(fields);
            let group_path = StoredValue::new(path.clone());
            let indices = move || (0..items().len()).collect::<Vec<usize>>();
            let add = move |_| {
                let mut list = items();
                list.push(Answers::new());
                binding.set.run(Some(Answer::Items(list)));
            };
            view! {
                <FieldsetGroup id=id.clone() describedby=describedby field=stored hint_id=hint_id.clone() error=error error_id=error_id.clone()>
                    <For each=indices key=|i| *i let:index>
                        {
                            let name = move || format!("{} {}", item_label.with_value(|l| l.get(i18n.lang()).to_string()), index + 1);
                            let remove = move |_| {
                                let mut list = items();
                                if index < list.len() { list.remove(index); }
                                binding.set.run((!list.is_empty()).then_some(Answer::Items(list)));
                            };
                            view! {
                                <fieldset class="fieldset group-item">
                                    <legend class="label label--small">{name}</legend>
                                    {fields.get_value().into_iter().map(|f| {
                                        let key = StoredValue::new(f.id.clone());
                                        let item_binding = Binding {
                                            get: Signal::derive(move || items().get(index).and_then(|item| key.with_value(|k| item.get(k).cloned()))),
                                            set: Callback::new(move |v: Option<Answer>| {
                                                let mut list = items();
                                                if let Some(item) = list.get_mut(index) {
                                                    let k = key.get_value();
                                                    match v { Some(v) => { item.insert(k, v); } None => { item.remove(&k); } }
                                                }
                                                binding.set.run(Some(Answer::Items(list)));
                                            }),
                                        };
                                        let item_path = format!("{}[{index}].{}", group_path.get_value(), f.id);
                                        view! { <FieldControl draft=draft field=f path=item_path binding=item_binding errors=errors providers=providers/> }
                                    }).collect_view()}
                                    <button type="button" class="button button--secondary" on:click=remove>
                                        {move || i18n.tf(Msg::ApplyRemoveItem, &[("item", &item_label.with_value(|l| l.get(i18n.lang()).to_string())), ("n", &(index + 1).to_string())])}
                                    </button>
                                </fieldset>
                            }
                        }
                    </For>
                    <Show when=move || { (items().len() as u32) < max_items }>
                        <button type="button" class="button button--secondary" on:click=add>
                            {move || i18n.tf(Msg::ApplyAddItem, &[("item", &item_label.with_value(|l| l.get(i18n.lang()).to_string()))])}
                        </button>
                    </Show>
                </FieldsetGroup>
            }
            .into_any()
        }
        FieldKind::Organisation { kind } => {
            let text = binding.text();
            let of_kind = move || {
                providers
                    .get()
                    .into_iter()
                    .filter(|o| o.kind == kind)
                    .collect::<Vec<_>>()
            };
            let choices = Signal::derive(move || {
                of_kind()
                    .into_iter()
                    .map(|o| (o.id, o.name))
                    .collect::<Vec<_>>()
            });
            let chosen = move || of_kind().into_iter().find(|o| o.id == text.get());
            view! {
                <div class=group_class>
                    <Label field=stored for_id=id.clone()/>
                    <Hint field=stored id=hint_id.clone()/>
                    <ErrorText error=error id=error_id.clone()/>
                    <Dropdown id=id.clone() name=path.clone() binding=binding choices=choices describedby=describedby invalid=Signal::derive(invalid)/>
                    {move || chosen().map(|o| view! { <p class="hint">{o.address.get(i18n.lang()).to_string()}", "{o.phone.clone()}</p> })}
                </div>
            }
            .into_any()
        }
        FieldKind::PriorityCategory { organisation_field } => {
            let text = binding.text();
            let organisation_field = StoredValue::new(organisation_field);
            let school = move || match organisation_field
                .with_value(|f| draft.answers.with(|a| a.get(f).cloned()))
            {
                Some(Answer::Text(chosen)) => providers.get().into_iter().find(|o| o.id == chosen),
                _ => None,
            };
            // A school without categories leaves nothing to choose: "none" is the answer.
            Effect::new(move |_| {
                if school().is_some_and(|o| o.first_grade_priorities.is_empty())
                    && text.get_untracked() != NO_PRIORITY
                {
                    binding.set_text(NO_PRIORITY.to_string());
                }
            });
            let (radio_id, radio_name) = (id.clone(), path.clone());
            let radio = move |value: String, label: String, proof: Option<String>| {
                let option_id = format!("{radio_id}-{value}");
                let proof_id = format!("{option_id}-proof");
                let checked = {
                    let value = value.clone();
                    move || text.get() == value
                };
                let set = value.clone();
                view! {
                    <div class="radio">
                        <input type="radio" id=option_id.clone() name=radio_name.clone() value=value
                            aria-describedby=proof.as_ref().map(|_| proof_id.clone())
                            prop:checked=checked on:change=move |_| binding.set_text(set.clone())/>
                        <label for=option_id>{label}</label>
                        {proof.map(|p| view! { <div class="hint" id=proof_id>{p}</div> })}
                    </div>
                }
            };
            let choices = move || {
                let lang = i18n.lang();
                match school() {
                    None => view! { <p>{i18n.t(Msg::FirstGradePriorityChooseSchool)}</p> }.into_any(),
                    Some(o) if o.first_grade_priorities.is_empty() => view! {
                        <p>{i18n.tf(Msg::FirstGradePriorityNoCategories, &[("school", o.name.get(lang))])}</p>
                    }
                    .into_any(),
                    Some(o) => {
                        let categories = o
                            .first_grade_priorities
                            .into_iter()
                            .map(|c| {
                                let proof = i18n.tf(Msg::FirstGradePriorityProof, &[("proof", c.proof.get(lang))]);
                                radio(c.id, c.name.get(lang).to_string(), Some(proof))
                            })
                            .collect_view();
                        let none = radio(NO_PRIORITY.to_string(), i18n.t(Msg::FirstGradePriorityNone).to_string(), None);
                        view! { <div class="radios">{categories}{none}</div> }.into_any()
                    }
                }
            };
            view! {
                <FieldsetGroup id=id.clone() describedby=describedby field=stored hint_id=hint_id.clone() error=error error_id=error_id.clone()>
                    {choices}
                </FieldsetGroup>
            }
            .into_any()
        }
        FieldKind::File {
            document,
            max_files,
        } => {
            let label = field.label.get(i18n.lang_untracked()).to_string();
            let hint = field
                .hint
                .as_ref()
                .map(|h| h.get(i18n.lang_untracked()).to_string());
            view! {
                <FileSlot draft=draft document=document input_id=id.clone() label=label hint=hint max_files=max_files error=error required=field.required/>
            }
            .into_any()
        }
    }
}

/// A `<select>` of `(value, label)` choices with an empty "Choose…" first.
#[component]
fn Dropdown(
    id: String,
    name: String,
    binding: Binding,
    choices: Signal<Vec<(String, portal_domain::text::Text)>>,
    describedby: Signal<Option<String>>,
    invalid: Signal<Option<&'static str>>,
) -> impl IntoView {
    let i18n = use_i18n();
    let text = binding.text();
    view! {
        <select id=id name=name class="select select--wide" aria-describedby=describedby aria-invalid=invalid
            on:change=move |ev| binding.set_text(event_target_value(&ev))>
            <option value="" selected=move || text.get().is_empty()>{move || i18n.t(Msg::ApplyChoose)}</option>
            {move || choices.get().into_iter().map(|(value, label)| {
                let selected = { let value = value.clone(); move || text.get() == value };
                view! { <option value=value selected=selected>{move || label.get(i18n.lang()).to_string()}</option> }
            }).collect_view()}
        </select>
    }
}
