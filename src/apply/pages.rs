//! The pages of applying: start, the task list, one page of questions, check your answers,
//! the confirmation with the receipt, and the public receipt check.

use leptos::prelude::*;
use leptos_router::components::{A, Outlet};
use leptos_router::hooks::{use_navigate, use_params_map, use_query_map};
use portal_domain::accounts::Role;
use portal_domain::application::{Status, SubmitRequest};
use portal_domain::form::{Answer, FieldKind, FormPage, Strictness, display, priority_name};
use portal_domain::organisation::Organisation;
use portal_domain::validation::FieldIssue;
use portal_i18n::Msg;

use super::draft::{Draft, SaveState, context};
use super::fields::{Binding, FieldControl};
use super::signing::{KeyFilePicker, Signer, Via, sign_with_ncalayer, unusable};
use crate::api;
use crate::cabinet::format_instant;
use crate::components::{Failure, Loading, use_title};
use crate::forms::{ErrorSummary, FormErrors};
use crate::i18n::use_i18n;
use crate::session::{RequireUser, go_to};

/// `/services/:id/apply`: starts a draft and opens it.
#[component]
pub fn ApplyStart() -> impl IntoView {
    view! {
        <RequireUser roles=&[Role::Citizen]>
            <StartDraft/>
        </RequireUser>
    }
}

#[component]
fn StartDraft() -> impl IntoView {
    let i18n = use_i18n();
    let params = use_params_map();
    let navigate = use_navigate();
    let failure = RwSignal::new(None);
    use_title(move || i18n.t(Msg::ApplyStarting).to_string());
    let start = StoredValue::new_local(move || {
        let service = params.read_untracked().get("id").unwrap_or_default();
        let navigate = navigate.clone();
        leptos::task::spawn_local(async move {
            match api::create_application(&service).await {
                Ok(view) => go_to(&format!("/applications/{}", view.id), &navigate, true),
                Err(f) => failure.set(Some(f)),
            }
        });
    });
    start.with_value(|f| f());
    view! {
        {move || match failure.get() {
            None => view! { <Loading message=Msg::ApplyStarting/> }.into_any(),
            Some(f) => view! { <h1>{i18n.t(Msg::ApplyTaskListTitle)}</h1><Failure failure=f retry=move |_| { failure.set(None); start.with_value(|f| f()); }/> }.into_any(),
        }}
    }
}

#[derive(Clone, Copy)]
pub struct Providers(pub Signal<Vec<Organisation>>);

/// `/applications/:id/*`: loads the application once and keeps it while moving between its pages.
#[component]
pub fn ApplicationShell() -> impl IntoView {
    view! {
        <RequireUser roles=&[Role::Citizen]>
            <LoadApplication/>
        </RequireUser>
    }
}

#[component]
fn LoadApplication() -> impl IntoView {
    let params = use_params_map();
    // The parameters include the child route's (`page`): only a new id reloads the application.
    let id = Memo::new(move |_| params.read().get("id").unwrap_or_default());
    let loaded = LocalResource::new(move || {
        let id = id.get();
        async move {
            let view = api::application(&id).await?;
            let service = api::service(&view.service_id).await?;
            Ok::<_, api::ApiFailure>((view, service))
        }
    });
    let providers = LocalResource::new(|| async { api::providers().await.unwrap_or_default() });
    provide_context(Providers(Signal::derive(move || {
        providers.get().unwrap_or_default()
    })));
    view! {
        <Suspense fallback=|| view! { <Loading message=Msg::ApplyLoading/> }>
            {move || loaded.get().map(|result| match result {
                Ok((view, service)) => {
                    let draft = Draft::new(view, service);
                    provide_context(draft);
                    view! { <SaveStatus draft=draft/><ConflictChoice draft=draft/><Outlet/> }.into_any()
                }
                Err(failure) => view! { <Failure failure=failure retry=move |_| loaded.refetch()/> }.into_any(),
            })}
        </Suspense>
    }
}

fn use_draft() -> Draft {
    expect_context::<Draft>()
}

#[component]
fn SaveStatus(draft: Draft) -> impl IntoView {
    let i18n = use_i18n();
    let text = move || {
        let lang = i18n.lang();
        match draft.save_state.get() {
            SaveState::Idle => String::new(),
            SaveState::Saving => i18n.t(Msg::ApplySaving).to_string(),
            SaveState::Saved(at) => {
                let time = js_sys::Date::new(&wasm_bindgen::JsValue::from_f64(at));
                let hhmm = format!("{:02}:{:02}", time.get_hours(), time.get_minutes());
                i18n.tf(Msg::ApplySavedAt, &[("time", &hhmm)])
            }
            SaveState::Offline => i18n.t(Msg::ApplySavedLocally).to_string(),
            SaveState::Failed(f) => f.message(lang),
        }
    };
    view! {
        <Show when=move || draft.is_draft()>
            <p class="save-status" role="status" aria-live="polite">{text}</p>
            <Show when=move || draft.restored.get()>
                <div class="notice" role="status"><p>{move || i18n.t(Msg::ApplyRestoredLocal)}</p></div>
            </Show>
        </Show>
    }
}

/// Two copies of the answers: the person chooses which to keep, nothing is overwritten silently.
#[component]
fn ConflictChoice(draft: Draft) -> impl IntoView {
    let i18n = use_i18n();
    view! {
        <Show when=move || draft.conflict.with(Option::is_some)>
            <div class="notice notice--warning" role="alertdialog" aria-labelledby="conflict-title" aria-describedby="conflict-text">
                <h2 id="conflict-title">{move || i18n.t(Msg::ApplyConflictTitle)}</h2>
                <p id="conflict-text">{move || i18n.t(Msg::ApplyConflictText)}</p>
                <div class="button-group">
                    <button type="button" class="button" on:click=move |_| draft.keep_mine()>{move || i18n.t(Msg::ApplyConflictKeepMine)}</button>
                    <button type="button" class="button button--secondary" on:click=move |_| draft.take_saved()>{move || i18n.t(Msg::ApplyConflictTakeSaved)}</button>
                </div>
            </div>
        </Show>
    }
}

fn visible_pages(draft: Draft) -> Vec<FormPage> {
    let answers = draft.answers.get();
    draft
        .form()
        .all_pages()
        .into_iter()
        .filter(|p| p.visible_if.as_ref().is_none_or(|c| c.holds(&answers)))
        .collect()
}

#[derive(Clone, Copy, PartialEq)]
enum PageState {
    Completed,
    InProgress,
    NotStarted,
}

fn page_state(draft: Draft, page: &FormPage) -> PageState {
    let answers = draft.answers_with_files();
    let issues = draft.form().validate_page(&page.id, &answers, context());
    let answered = page.fields.iter().any(|f| answers.contains_key(&f.id));
    match (issues.is_empty(), answered) {
        (true, true) => PageState::Completed,
        (true, false) if page.fields.iter().all(|f| !f.required) => PageState::Completed,
        (_, true) => PageState::InProgress,
        _ => PageState::NotStarted,
    }
}

fn service_title(draft: Draft) -> impl Fn() -> String + Copy {
    let i18n = use_i18n();
    move || {
        draft
            .service
            .with_value(|s| s.short_name.get(i18n.lang()).to_string())
    }
}

/// `/applications/:id`: the task list of a draft, or the confirmation of a sent application.
#[component]
pub fn ApplicationOverview() -> impl IntoView {
    let draft = use_draft();
    move || {
        if draft.is_draft() {
            view! { <TaskList draft=draft/> }.into_any()
        } else {
            view! { <Confirmation draft=draft/> }.into_any()
        }
    }
}

#[component]
fn TaskList(draft: Draft) -> impl IntoView {
    let i18n = use_i18n();
    let title = service_title(draft);
    use_title(move || i18n.tf(Msg::ApplyTitle, &[("service", &title())]));
    let id = draft.id.get_value();
    let deleting = RwSignal::new(false);
    let navigate = use_navigate();
    let delete = move |_| {
        let navigate = navigate.clone();
        leptos::task::spawn_local(async move {
            if api::delete_draft(&draft.id.get_value()).await.is_ok() {
                go_to("/cabinet", &navigate, true);
            }
        });
    };
    view! {
        <span class="caption">{title}</span>
        <h1>{move || i18n.t(Msg::ApplyTaskListTitle)}</h1>
        <p>{move || i18n.t(Msg::ApplyTaskListIntro)}</p>
        <ol class="task-list">
            {move || visible_pages(draft).into_iter().map(|page| {
                let state = page_state(draft, &page);
                let (tag, class) = match state {
                    PageState::Completed => (Msg::ApplyStatusCompleted, "tag tag--done"),
                    PageState::InProgress => (Msg::ApplyStatusInProgress, "tag tag--progress"),
                    PageState::NotStarted => (Msg::ApplyStatusNotStarted, "tag"),
                };
                let href = format!("/applications/{}/pages/{}", draft.id.get_value(), page.id);
                let status_id = format!("task-{}-status", page.id);
                view! {
                    <li class="task-list__item">
                        <A href=href attr:aria-describedby=status_id.clone()>{page.title.get(i18n.lang()).to_string()}</A>
                        <strong class=class id=status_id>{i18n.t(tag)}</strong>
                    </li>
                }
            }).collect_view()}
            <li class="task-list__item">
                <A href=format!("/applications/{id}/check")>{move || i18n.t(Msg::ApplyCheckLink)}</A>
            </li>
        </ol>
        <Show
            when=move || deleting.get()
            fallback=move || view! {
                <button type="button" class="button button--warning-secondary" on:click=move |_| deleting.set(true)>{move || i18n.t(Msg::ApplyDeleteDraft)}</button>
            }
        >
            <div class="notice notice--warning" role="alertdialog" aria-labelledby="delete-question">
                <p id="delete-question">{move || i18n.t(Msg::ApplyDeleteConfirm)}</p>
                <div class="button-group">
                    <button type="button" class="button button--warning" on:click=delete.clone()>{move || i18n.t(Msg::ApplyDeleteYes)}</button>
                    <button type="button" class="button button--secondary" on:click=move |_| deleting.set(false)>{move || i18n.t(Msg::ApplyCancel)}</button>
                </div>
            </div>
        </Show>
    }
}

/// `/applications/:id/pages/:page`: one page of questions.
#[component]
pub fn QuestionPage() -> impl IntoView {
    let draft = use_draft();
    let i18n = use_i18n();
    let params = use_params_map();
    let query = use_query_map();
    let navigate = use_navigate();
    let errors = FormErrors::new("f");
    let Providers(providers) = expect_context::<Providers>();
    let page_id = move || params.read().get("page").unwrap_or_default();
    let page = move || {
        draft
            .form()
            .all_pages()
            .into_iter()
            .find(|p| p.id == page_id())
    };
    let title = service_title(draft);
    use_title(move || {
        page()
            .map(|p| p.title.get(i18n.lang()).to_string())
            .unwrap_or_default()
    });
    let back = move || format!("/applications/{}", draft.id.get_value());
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let Some(page) = page() else { return };
        let issues = draft
            .form()
            .validate_page(&page.id, &draft.answers_with_files(), context());
        if !issues.is_empty() {
            errors.show(issues);
            return;
        }
        errors.clear();
        let id = draft.id.get_value();
        let target = if query.read_untracked().get("return").as_deref() == Some("check") {
            format!("/applications/{id}/check")
        } else {
            let pages = visible_pages(draft);
            let at = pages.iter().position(|p| p.id == page.id);
            match at.and_then(|i| pages.get(i + 1)) {
                Some(next) => format!("/applications/{id}/pages/{}", next.id),
                None => format!("/applications/{id}/check"),
            }
        };
        go_to(&target, &navigate, false);
        let _ = window().scroll_to_with_x_and_y(0.0, 0.0);
    };
    view! {
        <A href=back attr:class="back-link">{move || i18n.t(Msg::ApplyBackToTasks)}</A>
        {move || match page() {
            None => view! { <p>{i18n.t(Msg::ErrorNotFound)}</p> }.into_any(),
            Some(page) => {
                let fields = page.fields.clone();
                view! {
                    <ErrorSummary errors=errors/>
                    <span class="caption">{title}</span>
                    <h1>{page.title.get(i18n.lang()).to_string()}</h1>
                    {page.intro.as_ref().map(|t| view! { <p class="lead">{t.get(i18n.lang()).to_string()}</p> })}
                    {(page.id == portal_domain::form::SUBJECT_PAGE
                        && draft.service.with_value(|s| s.id == "school-enrollment"))
                        .then(|| view! { <RegisterChildren draft=draft/> })}
                    <form novalidate on:submit=on_submit.clone()>
                        {fields.into_iter().map(|field| {
                            let condition = field.visible_if.clone();
                            let binding = Binding::top_level(draft, field.id.clone());
                            let path = field.id.clone();
                            let shown = move || condition.as_ref().is_none_or(|c| draft.answers.with(|a| c.holds(a)));
                            let field = StoredValue::new(field);
                            view! {
                                <Show when=shown.clone()>
                                    <FieldControl draft=draft field=field.get_value() path=path.clone() binding=binding errors=errors providers=providers/>
                                </Show>
                            }
                        }).collect_view()}
                        <button type="submit" class="button">{move || i18n.t(Msg::ApplySaveContinue)}</button>
                    </form>
                }.into_any()
            }
        }}
    }
}

/// A parent's children as the population register knows them: one button fills in the child's
/// IIN, names and home address. Shown when applying for one's own child; nothing when the
/// register is not connected or knows no children of the parent.
#[component]
fn RegisterChildren(draft: Draft) -> impl IntoView {
    let i18n = use_i18n();
    let children = LocalResource::new(api::population_children);
    let filled = RwSignal::new(None::<String>);
    let for_child = move || {
        draft
            .answers
            .with(|a| matches!(a.get("on_behalf"), Some(Answer::Text(w)) if w == "child"))
    };
    move || {
        let list = children.get().and_then(Result::ok).unwrap_or_default();
        (for_child() && !list.is_empty()).then(|| {
            let buttons = list
                .into_iter()
                .map(|child| {
                    let name = [Some(child.last_name.clone()), Some(child.first_name.clone()), child.middle_name.clone()]
                        .into_iter()
                        .flatten()
                        .collect::<Vec<_>>()
                        .join(" ");
                    let born = super::progress::date_text(child.birth_date);
                    let label = i18n.tf(Msg::FirstGradeRegisterFill, &[("name", &name), ("date", &born)]);
                    let fill = move |_| {
                        draft.set_answer("subject_iin", Some(Answer::Text(child.iin.clone())));
                        draft.set_answer("subject_last_name", Some(Answer::Text(child.last_name.clone())));
                        draft.set_answer("subject_first_name", Some(Answer::Text(child.first_name.clone())));
                        draft.set_answer(
                            "subject_middle_name",
                            child.middle_name.clone().map(Answer::Text),
                        );
                        draft.set_answer("residence", Some(Answer::Address(child.address.clone())));
                        filled.set(Some(name.clone()));
                    };
                    view! { <li><button class="button button--secondary" type="button" on:click=fill>{label}</button></li> }
                })
                .collect_view();
            view! {
                <section class="inset-text" aria-labelledby="register-title">
                    <h2 class="heading-s" id="register-title">{i18n.t(Msg::FirstGradeRegisterTitle)}</h2>
                    <ul class="list">{buttons}</ul>
                    {move || filled.get().map(|name| view! { <p role="status">{i18n.tf(Msg::FirstGradeRegisterFilled, &[("name", &name)])}</p> })}
                </section>
            }
        })
    }
}

/// The chosen school's places and applications, and whether the address is in its territory,
/// as the server sees the saved draft.
#[component]
fn SchoolCheckNotice(draft: Draft) -> impl IntoView {
    let i18n = use_i18n();
    let check = LocalResource::new(move || async move {
        draft.flush().await;
        api::application(&draft.id.get_value())
            .await
            .ok()
            .and_then(|v| v.first_grade_school)
    });
    move || {
        check.get().flatten().map(|c| {
            let lang = i18n.lang();
            let school = c.school.get(lang).to_string();
            let applications = c.applications.to_string();
            let counts = match c.places {
                Some(places) => i18n.tf(
                    Msg::FirstGradeSchoolPlaces,
                    &[
                        ("school", &school),
                        ("places", &places.to_string()),
                        ("applications", &applications),
                    ],
                ),
                None => i18n.tf(
                    Msg::FirstGradeSchoolApplications,
                    &[("school", &school), ("applications", &applications)],
                ),
            };
            let territory = c.in_territory.map(|inside| {
                if inside {
                    view! { <p>{i18n.t(Msg::FirstGradeInTerritory)}</p> }.into_any()
                } else {
                    view! { <p><strong>{i18n.t(Msg::FirstGradeOutsideTerritory)}</strong></p> }
                        .into_any()
                }
            });
            view! { <div class="inset-text school-check"><p>{counts}</p>{territory}</div> }
        })
    }
}

/// `/applications/:id/check`: every answer with a change link, consent, and "Send".
#[component]
pub fn CheckAnswersPage() -> impl IntoView {
    let draft = use_draft();
    let i18n = use_i18n();
    let errors = FormErrors::new("check");
    let consent = RwSignal::new(false);
    let sending = RwSignal::new(None::<Via>);
    let signer = Signer::new();
    let navigate = use_navigate();
    let Providers(providers) = expect_context::<Providers>();
    let title = service_title(draft);
    use_title(move || i18n.t(Msg::ApplyCheckTitle).to_string());
    let id = draft.id.get_value();
    // First grade before the window opens: signing schedules the sending at the opening.
    let first_grade = move || {
        draft.service.with_value(|s| s.id == "school-enrollment")
            && draft
                .answers
                .with(|a| matches!(a.get("grade"), Some(Answer::Text(g)) if g.trim() == "1"))
    };
    let opening = LocalResource::new(api::first_grade_window);
    let at_opening =
        move || first_grade() && opening.get().and_then(Result::ok).is_some_and(|w| !w.open);
    // Once scheduled, the page follows the live notifications: when the portal sends it, the
    // confirmation replaces this page.
    let live = crate::live::use_live();
    Effect::new(move |_| {
        live.tick.track();
        if draft.scheduled_for.get_untracked().is_none() {
            return;
        }
        let id = draft.id.get_value();
        leptos::task::spawn_local(async move {
            if let Ok(view) = api::application(&id).await {
                if draft.alive() {
                    draft.apply_view(view);
                }
            }
        });
    });
    let cancel_schedule = move |_| {
        let id = draft.id.get_value();
        leptos::task::spawn_local(async move {
            match api::unschedule_submission(&id).await {
                Ok(view) => draft.apply_view(view),
                Err(failure) => errors.show_failure(failure, "signature"),
            }
        });
    };
    // Signs with the opened key file, or through NCALayer, and sends.
    let send = move |via: Via| {
        if sending.get_untracked().is_some() {
            return;
        }
        let navigate = navigate.clone();
        // Unfinished pages first: each problem links to its row, whose change link fixes it.
        if let Err(issues) =
            draft
                .form()
                .validate(&draft.answers_with_files(), Strictness::Complete, context())
        {
            errors.show(by_row(issues));
            return;
        }
        if !consent.get_untracked() {
            errors.show(vec![FieldIssue::new(
                "consent",
                Msg::ErrorApplicationConsent,
            )]);
            return;
        }
        if via == Via::KeyFile && !signer.is_open() {
            errors.show(vec![FieldIssue::new("signature", Msg::SignChooseFile)]);
            return;
        }
        sending.set(Some(via));
        leptos::task::spawn_local(async move {
            draft.flush().await;
            if !draft.alive() {
                return;
            }
            let id = draft.id.get_value();
            // A fresh document to sign: the draft as the server has it now, with a new nonce.
            let challenge = match api::signing_challenge(&id).await {
                Ok(c) => c,
                Err(failure) => {
                    errors.show_failure(failure, "signature");
                    let _ = sending.try_set(None);
                    return;
                }
            };
            let signed = match via {
                Via::KeyFile => match signer
                    .certificate
                    .get_untracked()
                    .and_then(|c| unusable(&c, &challenge.signer_iin))
                {
                    Some(problem) => Err(problem),
                    None => Ok(signer.sign(&challenge.document)),
                },
                Via::NcaLayer => sign_with_ncalayer(
                    &challenge.document,
                    &challenge.signer_iin,
                    i18n.lang_untracked(),
                )
                .await
                .map(Some),
            };
            let signature = match signed {
                Ok(signature) => signature,
                Err(problem) => {
                    errors.show(vec![problem]);
                    let _ = sending.try_set(None);
                    return;
                }
            };
            let request = SubmitRequest {
                version: draft.version.get_untracked(),
                consent: consent.get_untracked(),
                signature,
            };
            let scheduling = at_opening();
            let sent = if scheduling {
                api::schedule_submission(&id, &request).await
            } else {
                api::submit_application(&id, &request).await
            };
            match sent {
                Ok(view) if scheduling => {
                    errors.clear();
                    draft.apply_view(view);
                }
                Ok(view) => {
                    draft.apply_view(view);
                    go_to(&format!("/applications/{id}"), &navigate, false);
                    let _ = window().scroll_to_with_x_and_y(0.0, 0.0);
                }
                Err(failure) if !failure.fields().is_empty() => {
                    errors.show(by_row(failure.fields()))
                }
                Err(failure) => errors.show_failure(failure, "signature"),
            }
            let _ = sending.try_set(None);
        });
    };
    let send_with_key = {
        let send = send.clone();
        move |ev: leptos::ev::SubmitEvent| {
            ev.prevent_default();
            send(Via::KeyFile);
        }
    };
    let rows = move || {
        let lang = i18n.lang();
        let answers = draft.answers_with_files();
        let attachments = draft.attachments.get();
        let providers = providers.get();
        visible_pages(draft)
            .into_iter()
            .map(|page| {
                let fields: Vec<_> = page.fields.iter().filter(|f| f.visible_if.as_ref().is_none_or(|c| c.holds(&answers))).cloned().collect();
                let page_href = format!("/applications/{}/pages/{}?return=check", draft.id.get_value(), page.id);
                view! {
                    <h2 class="heading-m">{page.title.get(lang).to_string()}</h2>
                    <dl class="summary-list">
                        {fields.into_iter().map(|field| {
                            let value = match (&field.kind, answers.get(&field.id)) {
                                (_, None) => i18n.t(Msg::ApplyNotAnswered).to_string(),
                                (FieldKind::File { document, .. }, Some(_)) => attachments.iter().filter(|a| &a.slot == document).map(|a| a.file_name.clone()).collect::<Vec<_>>().join(", "),
                                (FieldKind::Organisation { .. }, Some(Answer::Text(id))) => providers.iter().find(|o| &o.id == id).map(|o| o.name.get(lang).to_string()).unwrap_or_else(|| id.clone()),
                                (FieldKind::PriorityCategory { organisation_field }, Some(Answer::Text(id))) => {
                                    priority_name(&answers, organisation_field, id, &|o| providers.iter().find(|p| p.id == o)).get(lang).to_string()
                                }
                                (_, Some(answer)) => display(&field, answer, lang),
                            };
                            let label = field.label.get(lang).to_string();
                            let href = page_href.clone();
                            let row_id = errors.id(&field.id);
                            let problem = errors.fields.with(|f| f.iter().find(|i| i.field == field.id).map(|i| i.message(lang)));
                            view! {
                                <div class="summary-list__row" id=row_id tabindex="-1">
                                    <dt class="summary-list__key">{label.clone()}</dt>
                                    <dd class="summary-list__value">
                                        {problem.map(|text| view! { <p class="error-message">{text}</p> })}
                                        {value}
                                    </dd>
                                    <dd class="summary-list__actions">
                                        <A href=href>{i18n.t(Msg::ApplyChange)}<span class="visually-hidden">" "{label}</span></A>
                                    </dd>
                                </div>
                            }
                        }).collect_view()}
                    </dl>
                }
            })
            .collect_view()
    };
    let other_files = move || {
        draft.attachments.with(|a| {
            a.iter()
                .any(|x| x.slot == portal_domain::form::OTHER_DOCUMENT)
        })
    };
    view! {
        <A href=format!("/applications/{id}") attr:class="back-link">{move || i18n.t(Msg::ApplyBackToTasks)}</A>
        <Show when=move || draft.is_draft() fallback=move || view! { <Confirmation draft=draft/> }>
            <ErrorSummary errors=errors/>
            <span class="caption">{title}</span>
            <h1>{move || i18n.t(Msg::ApplyCheckTitle)}</h1>
            <Show when=first_grade>
                <super::progress::FirstGradeWindow/>
                <SchoolCheckNotice draft=draft/>
            </Show>
            {move || draft.scheduled_for.get().map(|at| view! {
                <div class="notice notice--success" role="status">
                    <p>{i18n.tf(Msg::FirstGradeScheduled, &[("date", &super::progress::astana_time(i18n.lang(), at))])}</p>
                    <p><button class="button button--secondary" type="button" on:click=cancel_schedule>{i18n.t(Msg::FirstGradeUnschedule)}</button></p>
                </div>
            })}
            <Applicant/>
            {rows}
            <h2 class="heading-m">{move || i18n.t(Msg::ApplyOtherDocuments)}</h2>
            <FieldControl
                draft=draft
                field=other_documents_field()
                path="other_documents".to_string()
                binding=Binding::top_level(draft, "other_documents".to_string())
                errors=errors
                providers=providers
            />
            <Show when=other_files><span class="visually-hidden">{move || i18n.t(Msg::ApplyFilesAttached)}</span></Show>
            <form novalidate on:submit=send_with_key.clone()>
                <fieldset class="fieldset form-group" id="check-consent" tabindex="-1">
                    <legend class="label">{move || i18n.t(Msg::ApplyConsentLegend)}</legend>
                    {move || errors.fields.with(|f| f.iter().find(|i| i.field == "consent").map(|i| i.message(i18n.lang())))
                        .map(|text| view! { <p class="error-message">{text}</p> })}
                    <div class="checkbox">
                        <input type="checkbox" id="check-consent-box" prop:checked=move || consent.get()
                            on:change=move |ev| consent.set(event_target_checked(&ev))/>
                        <label for="check-consent-box">{move || i18n.t(Msg::ApplyConsentLabel)}</label>
                    </div>
                </fieldset>
                <KeyFilePicker signer=signer errors=errors application_id=id.clone()/>
                <button type="submit" class="button" disabled=move || sending.get().is_some()>
                    {move || i18n.t(if sending.get() == Some(Via::KeyFile) { Msg::SignSigning } else if at_opening() { Msg::FirstGradeScheduleButton } else { Msg::SignSignAndSend })}
                </button>
                <h2 class="heading-s">{move || i18n.t(Msg::SignNcalayerTitle)}</h2>
                <p class="hint">{move || i18n.t(Msg::SignNcalayerHint)}</p>
                <button type="button" class="button button--secondary" disabled=move || sending.get().is_some()
                    on:click={
                        let send = send.clone();
                        move |_| send(Via::NcaLayer)
                    }>
                    {move || i18n.t(if sending.get() == Some(Via::NcaLayer) { Msg::SignNcalayerWaiting } else { Msg::SignNcalayerButton })}
                </button>
            </form>
        </Show>
    }
}

/// Problems keyed by the check page's rows: `residence.locality` belongs to the `residence` row.
fn by_row(
    issues: Vec<portal_domain::validation::FieldIssue>,
) -> Vec<portal_domain::validation::FieldIssue> {
    let mut rows: Vec<portal_domain::validation::FieldIssue> = Vec::new();
    for mut issue in issues {
        issue.field = issue
            .field
            .split(['.', '['])
            .next()
            .unwrap_or_default()
            .to_string();
        if !rows.iter().any(|r| r.field == issue.field) {
            rows.push(issue);
        }
    }
    rows
}

/// Who applies: from the profile, never asked again (catalogue §5.3).
#[component]
fn Applicant() -> impl IntoView {
    let i18n = use_i18n();
    let session = crate::session::use_session();
    move || {
        session.user().map(|u| {
            let name = [Some(u.last_name.clone()), Some(u.first_name.clone()), u.middle_name.clone()].into_iter().flatten().collect::<Vec<_>>().join(" ");
            view! {
                <h2 class="heading-m">{i18n.t(Msg::ReceiptApplicant)}</h2>
                <dl class="summary-list">
                    <div class="summary-list__row">
                        <dt class="summary-list__key">{i18n.t(Msg::ReceiptApplicant)}</dt>
                        <dd class="summary-list__value">{name}", "{i18n.t(Msg::ReceiptIin)}" "{u.iin_masked.clone()}</dd>
                        <dd class="summary-list__actions"><A href="/cabinet/profile">{i18n.t(Msg::CabinetProfile)}</A></dd>
                    </div>
                </dl>
            }
        })
    }
}

/// The portal's own "other documents" slot, shown on the check page.
fn other_documents_field() -> portal_domain::form::Field {
    portal_domain::form::Field {
        id: "other_documents".into(),
        label: portal_domain::text::Text::from_msg(Msg::ApplyOtherDocuments),
        hint: Some(portal_domain::text::Text::from_msg(
            Msg::ApplyOtherDocumentsHint,
        )),
        kind: FieldKind::File {
            document: portal_domain::form::OTHER_DOCUMENT.into(),
            max_files: 10,
        },
        required: false,
        visible_if: None,
        origin: portal_domain::service::Origin::Seed,
    }
}

#[component]
fn Confirmation(draft: Draft) -> impl IntoView {
    let i18n = use_i18n();
    let title = service_title(draft);
    use_title(move || i18n.t(Msg::ApplySubmittedTitle).to_string());
    move || {
        draft.submission.get().map(|s| {
            let lang = i18n.lang();
            let receipt = api::receipt_url(&draft.id.get_value(), lang);
            let expected = s
                .expected_result_date
                .map(|d| format!("{:02}.{:02}.{}", d.day(), d.month(), d.year()))
                .unwrap_or_else(|| portal_i18n::t(lang, Msg::ReceiptNoExpectedDate).to_string());
            view! {
                <div class="panel panel--confirmation">
                    <h1 class="panel__title">{i18n.t(Msg::ApplySubmittedTitle)}</h1>
                    <div class="panel__body">
                        {i18n.t(Msg::ApplyYourNumber)}<br/><strong class="application-number">{s.number.clone()}</strong>
                    </div>
                </div>
                <p class="caption">{title}</p>
                <dl class="summary-list">
                    <div class="summary-list__row"><dt class="summary-list__key">{i18n.t(Msg::ApplySubmittedAt)}</dt><dd class="summary-list__value">{format_instant(lang, s.submitted_at)}</dd></div>
                    <div class="summary-list__row"><dt class="summary-list__key">{i18n.t(Msg::ApplyProvider)}</dt><dd class="summary-list__value">{s.organisation_name.get(lang).to_string()}</dd></div>
                    <div class="summary-list__row"><dt class="summary-list__key">{i18n.t(Msg::ApplyExpectedDate)}</dt><dd class="summary-list__value">{expected}</dd></div>
                    <div class="summary-list__row"><dt class="summary-list__key">{i18n.t(Msg::ApplyResultPlace)}</dt><dd class="summary-list__value">{s.result_place.get(lang).to_string()}</dd></div>
                    <div class="summary-list__row"><dt class="summary-list__key">{i18n.t(Msg::ApplicationStatusLabel)}</dt><dd class="summary-list__value"><strong class="tag">{move || i18n.t(draft.status.get().msg())}</strong></dd></div>
                </dl>
                {s.first_grade.map(|q| {
                    let school = s.organisation_name.get(lang).to_string();
                    view! {
                        <section class="inset-text" aria-labelledby="queue-title">
                            <h2 class="heading-m" id="queue-title">{i18n.t(Msg::FirstGradeQueueTitle)}</h2>
                            <p>{i18n.tf(Msg::FirstGradeQueuePosition, &[("school", &school), ("year", &q.school_year.to_string()), ("next", &(q.school_year + 1).to_string()), ("position", &q.position.to_string())])}</p>
                            {q.places.map(|places| view! { <p>{i18n.tf(Msg::FirstGradeQueuePlaces, &[("places", &places.to_string())])}</p> })}
                            <p class="hint">{i18n.t(Msg::FirstGradeQueueNote)}</p>
                        </section>
                    }
                })}
                <p><a class="button" href=receipt download=format!("receipt-{}.pdf", s.number)>{i18n.t(Msg::ApplyDownloadReceipt)}</a></p>
                {s.signature.clone().map(|signature| view! { <SignatureSection id=draft.id.get_value() number=s.number.clone() signature=signature/> })}
                <super::progress::ApplicationProgress id=draft.id.get_value() status=draft.status/>
                <p>{i18n.t(Msg::ApplyWhatNext)}</p>
                <p><A href="/cabinet">{i18n.t(Msg::CabinetApplications)}</A></p>
            }
        })
    }
}

/// Who signed the application, what the server's check found, and the signed files to keep.
#[component]
fn SignatureSection(
    id: String,
    number: String,
    signature: portal_domain::application::SignatureInfo,
) -> impl IntoView {
    use portal_domain::application::SignatureOutcome;
    let i18n = use_i18n();
    let lang = i18n.lang();
    let signed_on = format_instant(lang, signature.signed_at * 1000);
    let (class, text) = match signature.outcome {
        SignatureOutcome::Valid => ("inset-text", i18n.t(Msg::SignatureValid).to_string()),
        SignatureOutcome::Pending => ("notice", i18n.t(Msg::SignaturePending).to_string()),
        SignatureOutcome::Invalid => {
            let reason = signature
                .reason
                .as_ref()
                .map(|r| r.get(lang).to_string())
                .unwrap_or_default();
            (
                "notice notice--error",
                i18n.tf(Msg::SignatureInvalid, &[("reason", &reason)]),
            )
        }
    };
    view! {
        <h2 class="heading-m">{i18n.t(Msg::SignatureTitle)}</h2>
        <p>{i18n.tf(Msg::SignatureSignedBy, &[("holder", &signature.holder), ("iin", &signature.iin), ("date", &signed_on)])}</p>
        <div class=class role="status"><p>{text}</p></div>
        <ul class="list">
            <li><a href=format!("/api/applications/{id}/signature") download=format!("{number}.cms")>{i18n.t(Msg::SignatureDownloadCms)}</a></li>
            <li><a href=format!("/api/applications/{id}/signed-document") download=format!("{number}.json")>{i18n.t(Msg::SignatureDownloadDocument)}</a></li>
        </ul>
    }
}

/// The cabinet's list of drafts and sent applications.
#[component]
pub fn MyApplications() -> impl IntoView {
    let i18n = use_i18n();
    let live = crate::live::use_live();
    let list = LocalResource::new(move || {
        live.tick.track();
        api::applications()
    });
    view! {
        <h2>{move || i18n.t(Msg::CabinetApplications)}</h2>
        <Suspense fallback=|| view! { <Loading message=Msg::ApplyLoading/> }>
            {move || list.get().map(|r| match r {
                Ok(items) if items.is_empty() => view! {
                    <div class="empty">
                        <p>{move || i18n.t(Msg::CabinetApplicationsEmpty)}</p>
                        <p><a class="button" href="/services">{move || i18n.t(Msg::CabinetFindService)}</a></p>
                    </div>
                }.into_any(),
                Ok(items) => view! {
                    <ul class="application-list">
                        {items.into_iter().map(|a| {
                            let href = format!("/applications/{}", a.id);
                            let status = a.status;
                            let number = a.number.clone();
                            view! {
                                <li class="application-list__item">
                                    <A href=href>{move || a.service_name.get(i18n.lang()).to_string()}</A>
                                    " "<strong class=if status == Status::Draft { "tag" } else { "tag tag--done" }>{move || i18n.t(status.msg())}</strong>
                                    <p class="hint">
                                        {move || number.as_ref().map(|n| i18n.tf(Msg::ApplyNumber, &[("number", n)]) + " · ")}
                                        {move || format_instant(i18n.lang(), a.submitted_at.unwrap_or(a.updated_at))}
                                    </p>
                                </li>
                            }
                        }).collect_view()}
                    </ul>
                    <p><a class="button button--secondary" href="/services">{move || i18n.t(Msg::CabinetFindService)}</a></p>
                }.into_any(),
                Err(failure) => view! { <Failure failure=failure retry=move |_| list.refetch()/> }.into_any(),
            })}
        </Suspense>
    }
}

/// `/verify`: a form to type a document's number and check code. Public.
#[component]
pub fn VerifyFormPage() -> impl IntoView {
    let i18n = use_i18n();
    let navigate = leptos_router::hooks::use_navigate();
    use_title(move || i18n.t(Msg::VerifyTitle).to_string());
    let errors = crate::forms::FormErrors::new("verify");
    let (number, code) = (RwSignal::new(String::new()), RwSignal::new(String::new()));
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let (n, c) = (
            number.get_untracked().trim().to_string(),
            code.get_untracked().trim().to_ascii_lowercase(),
        );
        let mut issues = Vec::new();
        if n.is_empty() {
            issues.push(portal_domain::validation::FieldIssue::new(
                "number",
                Msg::ErrorVerifyNumberRequired,
            ));
        }
        if !portal_domain::form::is_attachment_id(&c) {
            issues.push(portal_domain::validation::FieldIssue::new(
                "code",
                Msg::ErrorVerifyCodeFormat,
            ));
        }
        if !issues.is_empty() {
            errors.show(issues);
            return;
        }
        errors.clear();
        let query: String = js_sys::encode_uri_component(&n).into();
        navigate(&format!("/verify/{c}?number={query}"), Default::default());
    };
    view! {
        <div class="narrow">
            <h1>{move || i18n.t(Msg::VerifyTitle)}</h1>
            <crate::forms::ErrorSummary errors=errors/>
            <p>{move || i18n.t(Msg::VerifyFormIntro)}</p>
            <form on:submit=submit novalidate=true>
                <crate::forms::TextField errors=errors field="number" label=Msg::VerifyNumberLabel value=number maxlength=40 narrow=true/>
                <crate::forms::TextField errors=errors field="code" label=Msg::VerifyCodeLabel hint=Msg::VerifyCodeHint value=code maxlength=40 autocomplete="off"/>
                <button class="button" type="submit">{move || i18n.t(Msg::VerifyCheck)}</button>
            </form>
        </div>
    }
}

/// `/verify/:code`: what the QR code of a receipt or a provider's document opens. Public.
#[component]
pub fn VerifyPage() -> impl IntoView {
    let i18n = use_i18n();
    let params = use_params_map();
    let query = leptos_router::hooks::use_query_map();
    use_title(move || i18n.t(Msg::VerifyTitle).to_string());
    let result = LocalResource::new(move || {
        let code = params.read().get("code").unwrap_or_default();
        let number = query.read().get("number");
        async move { api::verify(&code, number.as_deref()).await }
    });
    let row = move |key: Msg, value: String| {
        view! {
            <div class="summary-list__row"><dt class="summary-list__key">{move || i18n.t(key)}</dt><dd class="summary-list__value">{value}</dd></div>
        }
    };
    view! {
        <h1>{move || i18n.t(Msg::VerifyTitle)}</h1>
        <Suspense fallback=|| view! { <Loading message=Msg::ApplyLoading/> }>
            {move || result.get().map(|r| match r {
                Ok(v) => {
                    let lang = i18n.lang();
                    let signature = match (v.signature_valid, &v.signed_by) {
                        (true, Some(signer)) => i18n.tf(Msg::VerifySignatureValidBy, &[("signer", signer)]),
                        (true, None) => i18n.t(Msg::VerifySignatureValid).to_string(),
                        (false, _) => i18n.t(Msg::VerifySignatureInvalid).to_string(),
                    };
                    view! {
                        <div class=if v.signature_valid { "notice notice--success" } else { "notice notice--error" } role="status">
                            <p>{if v.signature_valid { i18n.t(Msg::VerifyGenuine).to_string() } else { signature.clone() }}</p>
                        </div>
                        <dl class="summary-list">
                            {row(Msg::VerifyKind, i18n.t(v.kind.msg()).to_string())}
                            {row(Msg::ReceiptNumber, v.number.clone())}
                            {row(Msg::VerifyIssuedAt, format_instant(lang, v.issued_at))}
                            {row(Msg::ReceiptService, v.service_name.get(lang).to_string())}
                            {row(Msg::VerifyIssuer, v.organisation_name.get(lang).to_string())}
                            {row(Msg::VerifySignature, signature)}
                            {row(Msg::VerifyStatus, i18n.t(v.status.msg()).to_string())}
                        </dl>
                        <p><a href="/verify">{move || i18n.t(Msg::VerifyAnother)}</a></p>
                    }.into_any()
                }
                Err(failure) => view! {
                    <div class="notice notice--error" role="alert"><p>{
                        if failure.is_not_found() { i18n.t(Msg::ErrorVerifyNotFound).to_string() } else { failure.message(i18n.lang()) }
                    }</p></div>
                    <p><a href="/verify">{move || i18n.t(Msg::VerifyAnother)}</a></p>
                }.into_any(),
            })}
        </Suspense>
    }
}
