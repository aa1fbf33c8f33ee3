//! The provider workspace (officers) and the administration (administrators), served under
//! `/workspace/`. Sign-in happens in the citizen app, which sends staff here.

use leptos::prelude::*;
use leptos_router::components::{A, Route, Router, Routes};
use leptos_router::path;
use portal_domain::accounts::Role;
use portal_domain::organisation::{
    DayHours, NewOfficer, NewOrganisation, OfficerView, OpeningHours, Organisation,
    OrganisationKind, TimeOfDay,
};
use portal_domain::text::Text;
use portal_i18n::{Lang, Msg};
use portal_web::api;
use portal_web::components::{
    AccountLinks, DemoBanner, Failure, LanguageSwitcher, Loading, SkipLink, use_title,
};
use portal_web::forms::{Checkbox, ErrorSummary, FormErrors, SelectField, TextField};
use portal_web::i18n::{initial_lang, provide_i18n, use_i18n};
use portal_web::session::{RequireUser, SessionTimeout, provide_session};

mod calendar;
mod cases;
mod schools;

fn main() {
    console_error_panic_hook::set_once();
    leptos::mount::mount_to_body(WorkspaceApp);
}

#[component]
fn WorkspaceApp() -> impl IntoView {
    provide_i18n(initial_lang());
    view! {
        <Router base="/workspace">
            <Shell/>
        </Router>
    }
}

#[component]
fn Shell() -> impl IntoView {
    let i18n = use_i18n();
    let session = provide_session();
    view! {
        <SkipLink/>
        <header class="header header--workspace">
            <div class="header__inner">
                <a class="header__brand" href="/workspace/">{move || i18n.t(Msg::WorkspaceTitle)}</a>
                <Show when=move || session.role() == Some(Role::Administrator)>
                    <nav class="header__nav" aria-label=move || i18n.t(Msg::NavMainLabel)>
                        <ul>
                            <li><A href="/workspace/admin" exact=true>{move || i18n.t(Msg::AdminOrganisations)}</A></li>
                            <li><A href="/workspace/admin/officers">{move || i18n.t(Msg::AdminOfficers)}</A></li>
                            <li><A href="/workspace/admin/calendar">{move || i18n.t(Msg::AdminCalendar)}</A></li>
                        </ul>
                    </nav>
                </Show>
                <AccountLinks/>
                <LanguageSwitcher/>
            </div>
            <DemoBanner/>
        </header>
        // Before the routes, so that its timer outlives navigation (see the citizen layout).
        <SessionTimeout/>
        <main id="main" class="main" tabindex="-1">
            <Routes fallback=|| view! { <OfficerHome/> }>
                <Route path=path!("/") view=OfficerHome/>
                <Route path=path!("/applications/:id") view=cases::CasePage/>
                <Route path=path!("/admin") view=|| view! { <AdminPage section=AdminSection::Organisations/> }/>
                <Route path=path!("/admin/officers") view=|| view! { <AdminPage section=AdminSection::Officers/> }/>
                <Route path=path!("/admin/calendar") view=|| view! { <AdminPage section=AdminSection::Calendar/> }/>
            </Routes>
        </main>
    }
}

#[component]
fn OfficerHome() -> impl IntoView {
    let i18n = use_i18n();
    use_title(move || i18n.t(Msg::WorkspaceTitle).to_string());
    view! {
        <RequireUser roles=&[Role::Officer, Role::Administrator]>
            <OfficerOrAdmin/>
        </RequireUser>
    }
}

#[component]
fn OfficerOrAdmin() -> impl IntoView {
    let i18n = use_i18n();
    let session = portal_web::session::use_session();
    move || {
        if session.role() == Some(Role::Administrator) {
            view! { <AdminPage section=AdminSection::Organisations/> }.into_any()
        } else {
            let organisation = LocalResource::new(api::workspace);
            view! {
                <h1>{move || i18n.t(Msg::WorkspaceTitle)}</h1>
                <p class="lead">{move || i18n.t(Msg::WorkspaceIntro)}</p>
                {move || match organisation.get() {
                    None => view! { <Loading message=Msg::CommonLoading/> }.into_any(),
                    Some(Err(failure)) => view! { <Failure failure=failure retry=move |_| organisation.refetch()/> }.into_any(),
                    Some(Ok(org)) => view! {
                        <OrganisationCard organisation=org.clone()/>
                        {org.first_grade_places.map(|places| view! { <cases::FirstGradeEnrolment places=places/> })}
                    }.into_any(),
                }}
                <cases::Queue/>
            }
            .into_any()
        }
    }
}

#[component]
fn OrganisationCard(organisation: Organisation) -> impl IntoView {
    let i18n = use_i18n();
    let org = StoredValue::new(organisation);
    view! {
        <section class="card" aria-labelledby="organisation-title">
            <h2 id="organisation-title">{move || i18n.t(Msg::WorkspaceOrganisation)}</h2>
            <dl class="summary-list">
                <div><dt>{move || i18n.t(Msg::AdminName)}</dt><dd>{move || org.with_value(|o| o.name.get(i18n.lang()).to_string())}</dd></div>
                <div><dt>{move || i18n.t(Msg::AdminKind)}</dt><dd>{move || org.with_value(|o| i18n.t(o.kind.label()))}</dd></div>
                <div><dt>{move || i18n.t(Msg::AdminAddress)}</dt><dd>{move || org.with_value(|o| o.address.get(i18n.lang()).to_string())}</dd></div>
                <div><dt>{move || i18n.t(Msg::AdminPhone)}</dt><dd>{org.with_value(|o| o.phone.clone())}</dd></div>
            </dl>
        </section>
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum AdminSection {
    Organisations,
    Officers,
    Calendar,
}

#[component]
fn AdminPage(section: AdminSection) -> impl IntoView {
    let i18n = use_i18n();
    use_title(move || i18n.t(Msg::AdminTitle).to_string());
    view! {
        <RequireUser roles=&[Role::Administrator]>
            <h1>{move || i18n.t(Msg::AdminTitle)}</h1>
            {match section {
                AdminSection::Organisations => view! { <Organisations/> }.into_any(),
                AdminSection::Officers => view! { <Officers/> }.into_any(),
                AdminSection::Calendar => view! { <calendar::CalendarEditor/> }.into_any(),
            }}
        </RequireUser>
    }
}

#[component]
fn Organisations() -> impl IntoView {
    let i18n = use_i18n();
    let list = LocalResource::new(api::organisations);
    // Kept here: the capacity form is rebuilt when the list reloads after a save.
    let capacity_place = RwSignal::new(String::new());
    let capacity_saved = RwSignal::new(None::<(Text, u32)>);
    let school = RwSignal::new(String::new());
    let school_saved = RwSignal::new(None::<Text>);
    view! {
        <h2>{move || i18n.t(Msg::AdminOrganisations)}</h2>
        {move || match list.get() {
            None => view! { <Loading message=Msg::CommonLoading/> }.into_any(),
            Some(Err(failure)) => view! { <Failure failure=failure retry=move |_| list.refetch()/> }.into_any(),
            Some(Ok(orgs)) => view! {
                <OrganisationTable organisations=orgs.clone()/>
                <CapacityForm organisations=orgs.clone() place=capacity_place saved=capacity_saved on_saved=move || list.refetch()/>
                <schools::SchoolFirstGradeForm organisations=orgs school=school saved=school_saved on_saved=move || list.refetch()/>
            }.into_any(),
        }}
        <NewOrganisationForm on_created=move || list.refetch()/>
    }
}

#[component]
fn OrganisationTable(organisations: Vec<Organisation>) -> impl IntoView {
    let i18n = use_i18n();
    let rows = StoredValue::new(organisations);
    view! {
        <div class="table-scroll" role="region" aria-label=move || i18n.t(Msg::AdminOrganisations) tabindex="0">
            <table class="table">
                <caption class="visually-hidden">{move || i18n.t(Msg::AdminOrganisations)}</caption>
                <thead>
                    <tr>
                        <th scope="col">{move || i18n.t(Msg::AdminId)}</th>
                        <th scope="col">{move || i18n.t(Msg::AdminName)}</th>
                        <th scope="col">{move || i18n.t(Msg::AdminKind)}</th>
                        <th scope="col">{move || i18n.t(Msg::AdminPickupPlace)}</th>
                        <th scope="col">{move || i18n.t(Msg::AdminSlotCapacity)}</th>
                    </tr>
                </thead>
                <tbody>
                    {move || {
                        let lang = i18n.lang();
                        rows.with_value(|orgs| {
                            orgs.iter()
                                .map(|o| {
                                    let pickup = if o.pickup_place { Msg::CommonYes } else { Msg::CommonNo };
                                    view! {
                                        <tr>
                                            <td><code>{o.id.clone()}</code></td>
                                            <td>{o.name.get(lang).to_string()}</td>
                                            <td>{portal_i18n::t(lang, o.kind.label())}</td>
                                            <td>{portal_i18n::t(lang, pickup)}</td>
                                            <td>{if o.pickup_place { o.slot_capacity.to_string() } else { "—".to_string() }}</td>
                                        </tr>
                                    }
                                })
                                .collect_view()
                        })
                    }}
                </tbody>
            </table>
        </div>
    }
}

/// How many people a pickup place serves per slot.
#[component]
fn CapacityForm(
    organisations: Vec<Organisation>,
    place: RwSignal<String>,
    saved: RwSignal<Option<(Text, u32)>>,
    #[prop(into)] on_saved: Callback<()>,
) -> impl IntoView {
    let i18n = use_i18n();
    let errors = FormErrors::new("capacity");
    let places = StoredValue::new(
        organisations
            .into_iter()
            .filter(|o| o.pickup_place)
            .collect::<Vec<_>>(),
    );
    if place.get_untracked().is_empty() {
        place.set(places.with_value(|p| p.first().map(|o| o.id.clone()).unwrap_or_default()));
    }
    let capacity_of = move |id: &str| {
        places.with_value(|p| {
            p.iter()
                .find(|o| o.id == id)
                .map(|o| o.slot_capacity.to_string())
                .unwrap_or_default()
        })
    };
    let capacity = RwSignal::new(capacity_of(&place.get_untracked()));
    let options = Signal::derive(move || {
        let lang = i18n.lang();
        places.with_value(|p| {
            p.iter()
                .map(|o| (o.id.clone(), o.name.get(lang).to_string()))
                .collect::<Vec<_>>()
        })
    });
    // Choosing another place shows its current number.
    Effect::new(move |_| {
        let id = place.get();
        capacity.set(capacity_of(&id));
    });
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        saved.set(None);
        let max = portal_domain::organisation::MAX_SLOT_CAPACITY;
        let Some(number) = capacity
            .get_untracked()
            .trim()
            .parse::<u32>()
            .ok()
            .filter(|n| (1..=max).contains(n))
        else {
            errors.show(vec![
                portal_domain::validation::FieldIssue::new(
                    "capacity",
                    Msg::ErrorOrganisationSlotCapacity,
                )
                .arg("max", max.to_string()),
            ]);
            return;
        };
        let id = place.get_untracked();
        leptos::task::spawn_local(async move {
            match api::set_slot_capacity(&id, number).await {
                Ok(org) => {
                    errors.clear();
                    let _ = saved.try_set(Some((org.name, org.slot_capacity)));
                    on_saved.run(());
                }
                Err(failure) => errors.show_failure(failure, "capacity"),
            }
        });
    };
    view! {
        <h2>{move || i18n.t(Msg::AdminCapacityTitle)}</h2>
        <p>{move || i18n.t(Msg::AdminCapacityIntro)}</p>
        <ErrorSummary errors=errors/>
        {move || saved.get().map(|(name, n)| view! {
            <div class="notice notice--success" role="status"><p>{i18n.tf(Msg::AdminCapacitySaved, &[("place", name.get(i18n.lang())), ("capacity", &n.to_string())])}</p></div>
        })}
        <form class="narrow" on:submit=submit novalidate=true>
            <SelectField errors=errors field="place" label=Msg::AdminCapacityPlace value=place options=options/>
            <TextField errors=errors field="capacity" label=Msg::AdminSlotCapacity value=capacity inputmode="numeric" maxlength=2 narrow=true/>
            <button class="button" type="submit">{move || i18n.t(Msg::AdminCapacitySave)}</button>
        </form>
    }
}

fn hours(state_corporation: bool) -> OpeningHours {
    let t = |h, m| TimeOfDay::new(h, m).expect("a valid time");
    if state_corporation {
        let day = DayHours {
            open: t(9, 0),
            close: t(20, 0),
            break_start: None,
            break_end: None,
        };
        OpeningHours {
            days: [
                Some(day),
                Some(day),
                Some(day),
                Some(day),
                Some(day),
                Some(day),
                None,
            ],
        }
    } else {
        let day = DayHours {
            open: t(9, 0),
            close: t(18, 0),
            break_start: Some(t(13, 0)),
            break_end: Some(t(14, 0)),
        };
        OpeningHours {
            days: [
                Some(day),
                Some(day),
                Some(day),
                Some(day),
                Some(day),
                None,
                None,
            ],
        }
    }
}

#[component]
fn NewOrganisationForm(#[prop(into)] on_created: Callback<()>) -> impl IntoView {
    let i18n = use_i18n();
    let errors = FormErrors::new("organisation");
    let id = RwSignal::new(String::new());
    let kind = RwSignal::new(OrganisationKind::School.code().to_string());
    let name = [
        RwSignal::new(String::new()),
        RwSignal::new(String::new()),
        RwSignal::new(String::new()),
    ];
    let address = [
        RwSignal::new(String::new()),
        RwSignal::new(String::new()),
        RwSignal::new(String::new()),
    ];
    let phone = RwSignal::new(String::new());
    let state_corporation_hours = RwSignal::new(false);
    let pickup = RwSignal::new(true);
    let first_grade_places = RwSignal::new(String::new());
    let done = RwSignal::new(false);
    let kinds = Signal::derive(move || {
        OrganisationKind::ALL
            .iter()
            .map(|k| (k.code().to_string(), i18n.t(k.label()).to_string()))
            .collect::<Vec<_>>()
    });
    let text = |fields: [RwSignal<String>; 3]| Text {
        kk: fields[0].get_untracked(),
        ru: fields[1].get_untracked(),
        en: fields[2].get_untracked(),
    };
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        done.set(false);
        let new = NewOrganisation {
            id: id.get_untracked().trim().to_string(),
            kind: OrganisationKind::parse(&kind.get_untracked())
                .unwrap_or(OrganisationKind::School),
            name: text(name),
            address: text(address),
            phone: phone.get_untracked(),
            hours: hours(state_corporation_hours.get_untracked()),
            pickup_place: pickup.get_untracked(),
            territory: Vec::new(),
            first_grade_places: None,
            first_grade_priorities: Vec::new(),
        };
        let places = first_grade_places.get_untracked();
        let new = match places.trim() {
            "" => new,
            typed => match typed.parse::<u32>() {
                Ok(n) => NewOrganisation {
                    first_grade_places: Some(n),
                    ..new
                },
                Err(_) => NewOrganisation {
                    // Out of range on purpose: the check below names the field.
                    first_grade_places: Some(0),
                    ..new
                },
            },
        };
        if let Err(issues) = new.check() {
            errors.show(issues);
            return;
        }
        leptos::task::spawn_local(async move {
            match api::create_organisation(&new).await {
                Ok(_) => {
                    errors.clear();
                    done.set(true);
                    on_created.run(());
                }
                Err(failure) => errors.show_failure(failure, "id"),
            }
        });
    };
    view! {
        <h2>{move || i18n.t(Msg::AdminNewOrganisation)}</h2>
        <ErrorSummary errors=errors/>
        <Show when=move || done.get()>
            <div class="notice notice--success" role="status"><p>{move || i18n.t(Msg::AdminCreatedOrganisation)}</p></div>
        </Show>
        <form class="narrow" on:submit=submit novalidate=true>
            <TextField errors=errors field="id" label=Msg::AdminId hint=Msg::AdminIdHint value=id maxlength=64 narrow=true/>
            <SelectField errors=errors field="kind" label=Msg::AdminKind value=kind options=kinds/>
            {Lang::ALL.into_iter().zip(name).map(|(lang, value)| {
                let field = match lang { Lang::Kk => "name.kk", Lang::Ru => "name.ru", Lang::En => "name.en" };
                view! { <TextField errors=errors field=field label=Msg::AdminName value=value text_lang=lang maxlength=300/> }
            }).collect_view()}
            {Lang::ALL.into_iter().zip(address).map(|(lang, value)| {
                let field = match lang { Lang::Kk => "address.kk", Lang::Ru => "address.ru", Lang::En => "address.en" };
                view! { <TextField errors=errors field=field label=Msg::AdminAddress value=value text_lang=lang maxlength=300/> }
            }).collect_view()}
            <TextField errors=errors field="phone" label=Msg::AdminPhone value=phone input_type="tel" maxlength=40 narrow=true/>
            <fieldset class="fieldset form-group">
                <legend class="label">{move || i18n.t(Msg::AdminHours)}</legend>
                <div class="radios">
                    <div class="radio">
                        <input type="radio" id="organisation-hours-office" name="hours" prop:checked=move || !state_corporation_hours.get()
                            on:change=move |_| state_corporation_hours.set(false)/>
                        <label for="organisation-hours-office">{move || i18n.t(Msg::AdminHoursOffice)}</label>
                    </div>
                    <div class="radio">
                        <input type="radio" id="organisation-hours-sc" name="hours" prop:checked=move || state_corporation_hours.get()
                            on:change=move |_| state_corporation_hours.set(true)/>
                        <label for="organisation-hours-sc">{move || i18n.t(Msg::AdminHoursStateCorporation)}</label>
                    </div>
                </div>
            </fieldset>
            <Checkbox errors=errors field="pickup_place" label=Msg::AdminPickupPlace value=pickup/>
            <TextField errors=errors field="first_grade_places" label=Msg::AdminFirstGradePlaces value=first_grade_places
                inputmode="numeric" maxlength=4 narrow=true/>
            <button class="button" type="submit">{move || i18n.t(Msg::AdminNewOrganisation)}</button>
        </form>
    }
}

#[component]
fn Officers() -> impl IntoView {
    let i18n = use_i18n();
    let list = LocalResource::new(api::officers);
    let organisations = LocalResource::new(api::organisations);
    view! {
        <h2>{move || i18n.t(Msg::AdminOfficers)}</h2>
        {move || match list.get() {
            None => view! { <Loading message=Msg::CommonLoading/> }.into_any(),
            Some(Err(failure)) => view! { <Failure failure=failure retry=move |_| list.refetch()/> }.into_any(),
            Some(Ok(officers)) => view! { <OfficerTable officers=officers/> }.into_any(),
        }}
        {move || match organisations.get() {
            Some(Ok(orgs)) => view! { <NewOfficerForm organisations=orgs on_created=move || list.refetch()/> }.into_any(),
            _ => ().into_any(),
        }}
    }
}

#[component]
fn OfficerTable(officers: Vec<OfficerView>) -> impl IntoView {
    let i18n = use_i18n();
    let rows = StoredValue::new(officers);
    view! {
        <div class="table-scroll" role="region" aria-label=move || i18n.t(Msg::AdminOfficers) tabindex="0">
            <table class="table">
                <caption class="visually-hidden">{move || i18n.t(Msg::AdminOfficers)}</caption>
                <thead>
                    <tr>
                        <th scope="col">{move || i18n.t(Msg::ProfileName)}</th>
                        <th scope="col">{move || i18n.t(Msg::ProfileIin)}</th>
                        <th scope="col">{move || i18n.t(Msg::AdminOrganisation)}</th>
                    </tr>
                </thead>
                <tbody>
                    {move || {
                        let lang = i18n.lang();
                        rows.with_value(|officers| {
                            officers
                                .iter()
                                .map(|o| view! {
                                    <tr>
                                        <td>{format!("{} {}", o.last_name, o.first_name)}</td>
                                        <td>{o.iin_masked.clone()}</td>
                                        <td>{o.organisation.as_ref().map(|org| org.name.get(lang).to_string()).unwrap_or_default()}</td>
                                    </tr>
                                })
                                .collect_view()
                        })
                    }}
                </tbody>
            </table>
        </div>
    }
}

#[component]
fn NewOfficerForm(
    organisations: Vec<Organisation>,
    #[prop(into)] on_created: Callback<()>,
) -> impl IntoView {
    let i18n = use_i18n();
    let errors = FormErrors::new("officer");
    let providers = StoredValue::new(
        organisations
            .into_iter()
            .filter(|o| o.provider)
            .collect::<Vec<_>>(),
    );
    let iin = RwSignal::new(String::new());
    let last_name = RwSignal::new(String::new());
    let first_name = RwSignal::new(String::new());
    let middle_name = RwSignal::new(String::new());
    let email = RwSignal::new(String::new());
    let organisation = RwSignal::new(
        providers.with_value(|p| p.first().map(|o| o.id.clone()).unwrap_or_default()),
    );
    let password = RwSignal::new(String::new());
    let done = RwSignal::new(false);
    let options = Signal::derive(move || {
        let lang = i18n.lang();
        providers.with_value(|p| {
            p.iter()
                .map(|o| (o.id.clone(), o.name.get(lang).to_string()))
                .collect::<Vec<_>>()
        })
    });
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        done.set(false);
        let new = NewOfficer {
            iin: iin.get_untracked(),
            last_name: last_name.get_untracked(),
            first_name: first_name.get_untracked(),
            middle_name: middle_name.get_untracked(),
            email: email.get_untracked(),
            organisation_id: organisation.get_untracked(),
            password: password.get_untracked(),
        };
        if let Err(issues) = new.parse(true) {
            errors.show(issues);
            return;
        }
        leptos::task::spawn_local(async move {
            match api::create_officer(&new).await {
                Ok(_) => {
                    errors.clear();
                    done.set(true);
                    password.set(String::new());
                    on_created.run(());
                }
                Err(failure) => errors.show_failure(failure, "iin"),
            }
        });
    };
    view! {
        <h2>{move || i18n.t(Msg::AdminNewOfficer)}</h2>
        <ErrorSummary errors=errors/>
        <Show when=move || done.get()>
            <div class="notice notice--success" role="status"><p>{move || i18n.t(Msg::AdminCreatedOfficer)}</p></div>
        </Show>
        <form class="narrow" on:submit=submit novalidate=true>
            <TextField errors=errors field="iin" label=Msg::LoginIin value=iin inputmode="numeric" maxlength=14 narrow=true/>
            <TextField errors=errors field="last_name" label=Msg::RegisterLastName value=last_name maxlength=100/>
            <TextField errors=errors field="first_name" label=Msg::RegisterFirstName value=first_name maxlength=100/>
            <TextField errors=errors field="middle_name" label=Msg::RegisterMiddleName value=middle_name maxlength=100/>
            <TextField errors=errors field="email" label=Msg::RegisterEmail value=email input_type="email" maxlength=254/>
            <SelectField errors=errors field="organisation_id" label=Msg::AdminOrganisation value=organisation options=options/>
            <TextField errors=errors field="password" label=Msg::RegisterPassword hint=Msg::RegisterPasswordHint value=password
                input_type="password" autocomplete="new-password" maxlength=128/>
            <button class="button" type="submit">{move || i18n.t(Msg::AdminNewOfficer)}</button>
        </form>
    }
}
