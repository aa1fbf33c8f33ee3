//! A school's first grade on the administration pages: its places, its service territory and
//! its priority categories with the documents that prove each.

use leptos::prelude::*;
use portal_domain::organisation::{
    FirstGradeSettings, MAX_PRIORITY_CATEGORIES, Organisation, OrganisationKind, PriorityCategory,
    territory_from_lines,
};
use portal_domain::text::Text;
use portal_i18n::{Lang, Msg};
use portal_web::api;
use portal_web::forms::{ErrorSummary, FormErrors, SelectField, TextArea, TextField, focus};
use portal_web::i18n::use_i18n;

/// A text in the three languages, as typed.
type Typed = [RwSignal<String>; 3];

fn typed(text: &Text) -> Typed {
    Lang::ALL.map(|lang| RwSignal::new(text.get(lang).to_string()))
}

fn read(fields: &Typed) -> Text {
    let [kk, ru, en] = fields.map(|f| f.get_untracked());
    Text { kk, ru, en }
}

/// A priority category as it is being edited. `key` keeps the row's inputs when others move.
#[derive(Clone, Copy)]
struct Category {
    key: u64,
    id: RwSignal<String>,
    name: Typed,
    proof: Typed,
}

impl Category {
    fn new(key: u64, category: &PriorityCategory) -> Category {
        Category {
            key,
            id: RwSignal::new(category.id.clone()),
            name: typed(&category.name),
            proof: typed(&category.proof),
        }
    }

    fn read(&self) -> PriorityCategory {
        PriorityCategory {
            id: self.id.get_untracked().trim().to_string(),
            name: read(&self.name),
            proof: read(&self.proof),
        }
    }
}

/// The settings of the school chosen in `school`; `saved` names the school last saved.
#[component]
pub fn SchoolFirstGradeForm(
    organisations: Vec<Organisation>,
    school: RwSignal<String>,
    saved: RwSignal<Option<Text>>,
    #[prop(into)] on_saved: Callback<()>,
) -> impl IntoView {
    let i18n = use_i18n();
    let errors = FormErrors::new("school");
    let schools = StoredValue::new(
        organisations
            .into_iter()
            .filter(|o| o.kind == OrganisationKind::School)
            .collect::<Vec<_>>(),
    );
    if school.get_untracked().is_empty() {
        school.set(schools.with_value(|s| s.first().map(|o| o.id.clone()).unwrap_or_default()));
    }
    let places = RwSignal::new(String::new());
    let territory: Typed = Lang::ALL.map(|_| RwSignal::new(String::new()));
    let categories = RwSignal::new(Vec::<Category>::new());
    let next_key = StoredValue::new(0u64);
    let new_key = move || {
        next_key.update_value(|k| *k += 1);
        next_key.get_value()
    };
    // Choosing a school shows what it has now.
    Effect::new(move |_| {
        let id = school.get();
        schools.with_value(|list| {
            let Some(o) = list.iter().find(|o| o.id == id) else {
                return;
            };
            places.set(
                o.first_grade_places
                    .map(|n| n.to_string())
                    .unwrap_or_default(),
            );
            for (lang, field) in Lang::ALL.into_iter().zip(territory) {
                let lines: Vec<&str> = o.territory.iter().map(|t| t.get(lang)).collect();
                field.set(lines.join("\n"));
            }
            categories.set(
                o.first_grade_priorities
                    .iter()
                    .map(|c| Category::new(new_key(), c))
                    .collect(),
            );
        });
    });
    let options = Signal::derive(move || {
        let lang = i18n.lang();
        schools.with_value(|s| {
            s.iter()
                .map(|o| (o.id.clone(), o.name.get(lang).to_string()))
                .collect::<Vec<_>>()
        })
    });
    let add = move |_| {
        let row = Category::new(
            new_key(),
            &PriorityCategory {
                id: String::new(),
                name: Text::same(""),
                proof: Text::same(""),
            },
        );
        categories.update(|list| list.push(row));
        let at = categories.with_untracked(Vec::len) - 1;
        request_animation_frame(move || {
            focus(&errors.id(&format!("first_grade_priorities[{at}].id")))
        });
    };
    let remove = move |key: u64| categories.update(|list| list.retain(|c| c.key != key));
    let up = move |key: u64| {
        categories.update(|list| {
            if let Some(i) = list.iter().position(|c| c.key == key).filter(|i| *i > 0) {
                list.swap(i - 1, i);
            }
        })
    };
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        saved.set(None);
        let mut issues = Vec::new();
        let first_grade_places = match places.get_untracked().trim() {
            "" => None,
            typed => Some(typed.parse::<u32>().unwrap_or(0)),
        };
        let [kk, ru, en] = territory.map(|f| f.get_untracked());
        let territory = territory_from_lines(&kk, &ru, &en).unwrap_or_else(|issue| {
            issues.push(issue);
            Vec::new()
        });
        let settings = FirstGradeSettings {
            first_grade_places,
            territory,
            first_grade_priorities: categories
                .with_untracked(|list| list.iter().map(Category::read).collect()),
        };
        if let Err(more) = settings.check(OrganisationKind::School) {
            issues.extend(more);
        }
        if !issues.is_empty() {
            errors.show(issues);
            return;
        }
        let id = school.get_untracked();
        leptos::task::spawn_local(async move {
            match api::set_first_grade(&id, &settings).await {
                Ok(org) => {
                    errors.clear();
                    let _ = saved.try_set(Some(org.name));
                    on_saved.run(());
                }
                Err(failure) => errors.show_failure(failure, "school"),
            }
        });
    };
    let text_fields = move |at: &str, label: Msg, fields: Typed| {
        Lang::ALL
            .into_iter()
            .zip(fields)
            .map(|(lang, value)| {
                let field = format!("{at}.{}", lang.code());
                view! { <TextField errors=errors field=field label=label value=value text_lang=lang maxlength=300/> }
            })
            .collect_view()
    };
    let rows = move || {
        categories
            .get()
            .into_iter()
            .enumerate()
            .map(|(i, c)| {
                let n = (i + 1).to_string();
                let at = format!("first_grade_priorities[{i}]");
                let legend = i18n.tf(Msg::AdminPriorityNumber, &[("n", &n)]);
                let up_label = i18n.tf(Msg::AdminPriorityUp, &[("n", &n)]);
                let remove_label = i18n.tf(Msg::AdminPriorityRemove, &[("n", &n)]);
                view! {
                    <fieldset class="fieldset form-group">
                        <legend class="label">{legend}</legend>
                        <TextField errors=errors field=format!("{at}.id") label=Msg::AdminPriorityId hint=Msg::AdminPriorityIdHint value=c.id maxlength=64 narrow=true/>
                        {text_fields(&format!("{at}.name"), Msg::AdminPriorityName, c.name)}
                        {text_fields(&format!("{at}.proof"), Msg::AdminPriorityProof, c.proof)}
                        <p class="button-group">
                            {(i > 0).then(|| view! {
                                <button class="button button--secondary" type="button" on:click=move |_| up(c.key)>{up_label}</button>
                            })}
                            <button class="button button--warning" type="button" on:click=move |_| remove(c.key)>{remove_label}</button>
                        </p>
                    </fieldset>
                }
            })
            .collect_view()
    };
    let territory_error = errors.for_field("territory");
    let full = move || categories.with(Vec::len) >= MAX_PRIORITY_CATEGORIES;
    view! {
        <h2>{move || i18n.t(Msg::AdminFirstGradeSchoolTitle)}</h2>
        <p>{move || i18n.t(Msg::AdminFirstGradeSchoolIntro)}</p>
        <ErrorSummary errors=errors/>
        {move || saved.get().map(|name| view! {
            <div class="notice notice--success" role="status"><p>{i18n.tf(Msg::AdminFirstGradeSchoolSaved, &[("school", name.get(i18n.lang()))])}</p></div>
        })}
        <form on:submit=submit novalidate=true>
            <SelectField errors=errors field="school" label=Msg::AdminSchool value=school options=options/>
            <TextField errors=errors field="first_grade_places" label=Msg::AdminFirstGradePlaces value=places inputmode="numeric" maxlength=4 narrow=true/>
            <fieldset class="fieldset form-group" class:form-group--error=move || territory_error.get().is_some()
                id=errors.id("territory") tabindex="-1">
                <legend class="label">{move || i18n.t(Msg::AdminTerritory)}</legend>
                {move || territory_error.get().map(|text| view! { <p class="error-message">{text}</p> })}
                {Lang::ALL.into_iter().zip(territory).map(|(lang, value)| view! {
                    <TextArea errors=errors field=format!("territory.{}", lang.code()) label=Msg::AdminTerritory value=value text_lang=lang rows=4 maxlength=100_000/>
                }).collect_view()}
            </fieldset>
            <h3>{move || i18n.t(Msg::AdminPriorities)}</h3>
            {move || categories.with(Vec::is_empty).then(|| view! { <p>{i18n.t(Msg::AdminPriorityNone)}</p> })}
            {rows}
            <p>
                <button class="button button--secondary" type="button" on:click=add disabled=full>{move || i18n.t(Msg::AdminPriorityAdd)}</button>
            </p>
            <button class="button" type="submit">{move || i18n.t(Msg::AdminFirstGradeSchoolSave)}</button>
        </form>
    }
}
