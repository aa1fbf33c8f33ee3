//! The officer's queue and an application's case file with the moves the lifecycle allows.

use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::use_params_map;
use portal_domain::accounts::Role;
use portal_domain::application::Status;
use portal_domain::workflow::{
    Action, ActionRequest, Actor, CaseView, IdentityShown, OfficerAction,
};
use portal_i18n::Msg;
use portal_web::api;
use portal_web::apply::progress::{astana_time, date_text, event_files};
use portal_web::components::{Failure, Loading, use_title};
use portal_web::forms::{ErrorSummary, FormErrors, TextField};
use portal_web::i18n::use_i18n;
use portal_web::session::RequireUser;

/// The organisation's applications, with filters and search.
#[component]
pub fn Queue() -> impl IntoView {
    let i18n = use_i18n();
    let status = RwSignal::new(String::new());
    let due = RwSignal::new(String::new());
    let search = RwSignal::new(String::new());
    let query = RwSignal::new(String::new());
    let list = LocalResource::new(move || {
        let q = query.get();
        async move { api::queue(&q).await }
    });
    let apply = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let mut parts = Vec::new();
        for (key, value) in [
            ("status", status.get_untracked()),
            ("due", due.get_untracked()),
            ("q", search.get_untracked().trim().to_string()),
        ] {
            if !value.is_empty() {
                parts.push(format!(
                    "{key}={}",
                    String::from(js_sys::encode_uri_component(&value))
                ));
            }
        }
        query.set(if parts.is_empty() {
            String::new()
        } else {
            format!("?{}", parts.join("&"))
        });
    };
    let errors = FormErrors::new("queue");
    view! {
        <section aria-labelledby="queue-title">
            <h2 id="queue-title">{move || i18n.t(Msg::QueueTitle)}</h2>
            <form class="filters" on:submit=apply aria-label=move || i18n.t(Msg::QueueFilters)>
                <div class="form-group">
                    <label class="label" for="queue-status">{move || i18n.t(Msg::QueueStatus)}</label>
                    <select class="select" id="queue-status" on:change=move |ev| status.set(event_target_value(&ev))>
                        <option value="">{move || i18n.t(Msg::QueueAnyStatus)}</option>
                        {Status::ALL.into_iter().filter(|s| !matches!(s, Status::Draft | Status::SignaturePending | Status::SignatureRejected)).map(|s| view! {
                            <option value=s.code()>{move || i18n.t(s.msg())}</option>
                        }).collect_view()}
                    </select>
                </div>
                <div class="form-group">
                    <label class="label" for="queue-due">{move || i18n.t(Msg::QueueDue)}</label>
                    <select class="select" id="queue-due" on:change=move |ev| due.set(event_target_value(&ev))>
                        <option value="">{move || i18n.t(Msg::QueueAnyDue)}</option>
                        <option value="overdue">{move || i18n.t(Msg::QueueDueOverdue)}</option>
                        <option value="today">{move || i18n.t(Msg::QueueDueToday)}</option>
                        <option value="week">{move || i18n.t(Msg::QueueDueWeek)}</option>
                    </select>
                </div>
                <TextField errors=errors field="q" label=Msg::QueueSearch value=search inputmode="numeric" maxlength=20 narrow=true/>
                <button class="button button--secondary" type="submit">{move || i18n.t(Msg::QueueShow)}</button>
            </form>
            <Suspense fallback=|| view! { <Loading message=Msg::CommonLoading/> }>
                {move || list.get().map(|r| match r {
                    Ok(items) if items.is_empty() => view! { <p>{move || i18n.t(Msg::QueueEmpty)}</p> }.into_any(),
                    Ok(items) => view! {
                        <table class="table">
                            <caption class="visually-hidden">{move || i18n.t(Msg::QueueTitle)}</caption>
                            <thead><tr>
                                <th scope="col">{move || i18n.t(Msg::QueueNumber)}</th>
                                <th scope="col">{move || i18n.t(Msg::QueueService)}</th>
                                <th scope="col">{move || i18n.t(Msg::QueueApplicant)}</th>
                                <th scope="col">{move || i18n.t(Msg::QueueStatus)}</th>
                                <th scope="col">{move || i18n.t(Msg::QueueDue)}</th>
                                <th scope="col">{move || i18n.t(Msg::QueueAssignee)}</th>
                            </tr></thead>
                            <tbody>
                                {items.into_iter().map(|a| {
                                    let lang = i18n.lang_untracked();
                                    view! {
                                        <tr class:row--overdue=a.overdue>
                                            <td><A href=format!("/workspace/applications/{}", a.id)>{a.number.clone()}</A></td>
                                            <td>{a.service_name.get(lang).to_string()}</td>
                                            <td>{a.applicant.clone()}<br/><span class="hint">{a.applicant_iin.clone()}</span></td>
                                            <td><strong class="tag">{i18n.t(a.status.msg())}</strong></td>
                                            <td>{a.due.map(date_text).unwrap_or_default()}
                                                {a.overdue.then(|| view! { " "<strong class="tag tag--overdue">{i18n.t(Msg::ProgressOverdue)}</strong> })}</td>
                                            <td>{a.assignee.clone().unwrap_or_default()}</td>
                                        </tr>
                                    }
                                }).collect_view()}
                            </tbody>
                        </table>
                    }.into_any(),
                    Err(failure) => view! { <Failure failure=failure retry=move |_| list.refetch()/> }.into_any(),
                })}
            </Suspense>
        </section>
    }
}

/// `/workspace/applications/:id`: the case file.
#[component]
pub fn CasePage() -> impl IntoView {
    let i18n = use_i18n();
    let params = use_params_map();
    use_title(move || i18n.t(Msg::QueueTitle).to_string());
    let case = LocalResource::new(move || {
        let id = params.read().get("id").unwrap_or_default();
        async move { api::case(&id).await }
    });
    // Outlives the case file, which is rebuilt after every move.
    let done = RwSignal::new(None::<Status>);
    view! {
        <RequireUser roles=&[Role::Officer]>
            <p><A href="/workspace/">{move || i18n.t(Msg::CaseBack)}</A></p>
            <Suspense fallback=|| view! { <Loading message=Msg::CommonLoading/> }>
                {move || case.get().map(|r| match r {
                    Ok(c) => view! { <CaseFile case=c done=done reload=Callback::new(move |_| case.refetch())/> }.into_any(),
                    Err(failure) => view! { <Failure failure=failure retry=move |_| case.refetch()/> }.into_any(),
                })}
            </Suspense>
        </RequireUser>
    }
}

#[component]
fn CaseFile(case: CaseView, done: RwSignal<Option<Status>>, reload: Callback<()>) -> impl IntoView {
    let i18n = use_i18n();
    let lang = i18n.lang_untracked();
    let app = &case.application;
    let id = app.id.clone();
    let number = app
        .submission
        .as_ref()
        .map(|s| s.number.clone())
        .unwrap_or_default();
    let answers = case
        .answers
        .iter()
        .map(|section| {
            view! {
                <h3>{section.title.get(lang).to_string()}</h3>
                <dl class="summary-list">
                    {section.rows.iter().map(|row| view! {
                        <div class="summary-list__row"><dt class="summary-list__key">{row.label.get(lang).to_string()}</dt><dd class="summary-list__value">{row.value.get(lang).to_string()}</dd></div>
                    }).collect_view()}
                </dl>
            }
        })
        .collect_view();
    let attachments = app
        .attachments
        .iter()
        .map(|a| view! { <li><a href=api::officer_attachment_url(&id, &a.id) target="_blank" rel="noopener">{a.file_name.clone()}</a>" ("{a.slot.clone()}")"</li> })
        .collect_view();
    let no_attachments = app.attachments.is_empty();
    let signature = app.submission.as_ref().and_then(|s| s.signature.clone()).map(|s| {
        let text = match s.outcome {
            portal_domain::application::SignatureOutcome::Valid => i18n.t(Msg::SignatureValid).to_string(),
            portal_domain::application::SignatureOutcome::Pending => i18n.t(Msg::SignaturePending).to_string(),
            portal_domain::application::SignatureOutcome::Invalid => {
                i18n.tf(Msg::SignatureInvalid, &[("reason", &s.reason.map(|r| r.get(lang).to_string()).unwrap_or_default())])
            }
        };
        view! { <p>{i18n.tf(Msg::SignatureSignedBy, &[("holder", &s.holder), ("iin", &s.iin), ("date", &astana_time(lang, s.signed_at * 1000))])}</p><p>{text}</p> }
    });
    let timeline = case
        .progress
        .timeline
        .iter()
        .rev()
        .map(|e| {
            let who = match e.actor {
                Actor::Applicant => case.applicant.name.clone(),
                Actor::System => i18n.t(Msg::ProgressBySystem).to_string(),
                Actor::Officer => e.actor_name.clone().unwrap_or_default(),
            };
            let details = e
                .details
                .iter()
                .map(|d| view! { <p class="timeline__detail">{d.get(lang).to_string()}</p> })
                .collect_view();
            let files = event_files(&e.files, |f| api::officer_case_file_url(&id, f));
            view! {
                <li class="timeline__item">
                    <p><strong>{i18n.t(e.action.msg())}</strong>" — "{i18n.t(e.to.msg())}</p>
                    <p class="hint">{astana_time(lang, e.at)}" · "{who}</p>
                    {details}
                    {files}
                </li>
            }
        })
        .collect_view();
    let deadlines = case
        .progress
        .deadlines
        .iter()
        .map(|d| {
            view! {
                <li class:deadline--overdue=d.overdue>
                    {d.step.get(lang).to_string()}" — "{i18n.tf(Msg::ProgressDue, &[("date", &date_text(d.due))])}
                    {d.done.then(|| view! { " "<strong class="tag tag--done">{i18n.t(Msg::ProgressDone)}</strong> })}
                    {d.overdue.then(|| view! { " "<strong class="tag tag--overdue">{i18n.t(Msg::ProgressOverdue)}</strong> })}
                </li>
            }
        })
        .collect_view();
    let result = case.progress.result.as_ref().map(|r| {
        view! {
            <h2>{i18n.t(Msg::CaseResult)}</h2>
            <p><a href=api::officer_result_url(&id) download=format!("{}.pdf", r.number)>{r.number.clone()}</a>" · "{r.signed_by.clone()}</p>
        }
    });
    let pickup = case.progress.pickup.as_ref().map(|p| {
        view! { <p>{i18n.t(Msg::ProgressPickup)}": "{astana_time(lang, p.starts_at)}</p> }
    });
    let history = if case.history_intact {
        ("inset-text", Msg::CaseHistoryIntact)
    } else {
        ("notice notice--error", Msg::CaseHistoryBroken)
    };
    let status = app.status;
    let contacts = [case.applicant.phone.clone(), case.applicant.email.clone()]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(", ");
    view! {
        <span class="caption">{i18n.t(Msg::QueueNumber)}" "{number}</span>
        <h1>{case.applicant.name.clone()}" — "<strong class="tag">{i18n.t(status.msg())}</strong></h1>
        <dl class="summary-list">
            <div class="summary-list__row"><dt class="summary-list__key">{i18n.t(Msg::ReceiptIin)}</dt><dd class="summary-list__value">{case.applicant.iin.clone()}</dd></div>
            <div class="summary-list__row"><dt class="summary-list__key">{i18n.t(Msg::CaseContacts)}</dt><dd class="summary-list__value">{contacts}</dd></div>
            {app.submission.as_ref().and_then(|s| s.first_grade).map(|q| view! {
                <div class="summary-list__row"><dt class="summary-list__key">{i18n.t(Msg::FirstGradeQueueLabel)}</dt><dd class="summary-list__value">
                    {q.position}{q.places.map(|p| format!(" / {p}"))}</dd></div>
            })}
            {case.progress.due.map(|d| view! {
                <div class="summary-list__row"><dt class="summary-list__key">{i18n.t(Msg::QueueDue)}</dt><dd class="summary-list__value">{date_text(d)}
                    {case.progress.overdue.then(|| view! { " "<strong class="tag tag--overdue">{i18n.t(Msg::ProgressOverdue)}</strong> })}</dd></div>
            })}
        </dl>
        <Actions case=case.clone() done=done reload=reload/>
        {result}
        {pickup}
        <h2>{i18n.t(Msg::ProgressDeadlines)}</h2>
        <ul class="list">{deadlines}</ul>
        <h2>{i18n.t(Msg::ProgressTimeline)}</h2>
        <p class=history.0>{i18n.t(history.1)}</p>
        <ol class="timeline">{timeline}</ol>
        <h2>{i18n.t(Msg::SignatureTitle)}</h2>
        {signature}
        <h2>{i18n.t(Msg::CaseAttachments)}</h2>
        {if no_attachments { view! { <p>{i18n.t(Msg::CaseNoAttachments)}</p> }.into_any() } else { view! { <ul class="list">{attachments}</ul> }.into_any() }}
        <h2>{i18n.t(Msg::CaseAnswers)}</h2>
        {answers}
    }
}

/// One form per move allowed now.
#[component]
fn Actions(case: CaseView, done: RwSignal<Option<Status>>, reload: Callback<()>) -> impl IntoView {
    let i18n = use_i18n();
    let lang = i18n.lang_untracked();
    let id = StoredValue::new(case.application.id.clone());
    let expected = case.application.status;
    let errors = FormErrors::new("act");
    let busy = RwSignal::new(false);
    // The documents picked for the next move (a scanned act, say): uploaded when it is made.
    let picked = RwSignal::new_local(Vec::<web_sys::File>::new());
    let uploading = RwSignal::new(None::<String>);
    let send = move |action: OfficerAction| {
        busy.set(true);
        let files = picked.get_untracked();
        leptos::task::spawn_local(async move {
            let mut ids = Vec::with_capacity(files.len());
            for file in files {
                let _ = uploading.try_set(Some(file.name()));
                match api::upload_case_file(&id.get_value(), file).await {
                    Ok(uploaded) => ids.push(uploaded.id),
                    Err(failure) => {
                        errors.show_failure(failure, "files");
                        let _ = uploading.try_set(None);
                        let _ = busy.try_set(false);
                        return;
                    }
                }
            }
            let _ = uploading.try_set(None);
            let request = ActionRequest {
                expected,
                action,
                files: ids,
            };
            match api::act(&id.get_value(), &request).await {
                Ok(c) => {
                    errors.clear();
                    let _ = done.try_set(Some(c.application.status));
                    reload.run(());
                }
                Err(failure) => errors.show_failure(failure, "reason"),
            }
            let _ = busy.try_set(false);
        });
    };
    let files_error = errors.for_field("files");
    let file_picker = move || {
        view! {
            <div class="form-group" class:form-group--error=move || files_error.get().is_some()>
                <label class="label" for=errors.id("files")>{move || i18n.t(Msg::WorkflowFilesLabel)}</label>
                <p class="hint" id="act-files-hint">{move || i18n.t(Msg::WorkflowFilesHint)}</p>
                {move || files_error.get().map(|text| view! { <p class="error-message" id="act-files-error">{text}</p> })}
                <input class="file-input" type="file" id=errors.id("files") multiple=true
                    accept=".pdf,.jpg,.jpeg,.png,application/pdf,image/jpeg,image/png"
                    aria-describedby=move || if files_error.get().is_some() { "act-files-hint act-files-error" } else { "act-files-hint" }
                    on:change=move |ev| {
                        let input: web_sys::HtmlInputElement = event_target(&ev);
                        let list = input.files();
                        let files = (0..list.as_ref().map_or(0, |l| l.length()))
                            .filter_map(|i| list.as_ref().and_then(|l| l.get(i)))
                            .collect::<Vec<_>>();
                        picked.set(files);
                    }/>
                {move || uploading.get().map(|name| view! { <p role="status">{i18n.tf(Msg::WorkflowFilesUploading, &[("name", &name)])}</p> })}
            </div>
        }
    };
    let allowed = case.progress.allowed.clone();
    let has = |a: Action| allowed.contains(&a);
    let reason = RwSignal::new(String::new());
    let priority_reason = RwSignal::new(String::new());
    let decision = RwSignal::new(String::new());
    let findings = RwSignal::new(String::new());
    let visited = RwSignal::new(String::new());
    let recipient = RwSignal::new(String::new());
    let missing = RwSignal::new(Vec::<String>::new());
    let grounds = RwSignal::new(Vec::<String>::new());
    let officer = RwSignal::new(
        case.assignee
            .as_ref()
            .or(case.colleagues.first())
            .map(|c| c.id.clone())
            .unwrap_or_default(),
    );
    let shown = RwSignal::new(IdentityShown::IdentityDocument);
    let slot = RwSignal::new(String::new());
    let wants_slots = allowed.contains(&Action::SetPickup);
    let slots = LocalResource::new(move || {
        let wanted = wants_slots;
        let id = id.get_value();
        async move {
            if wanted {
                api::officer_slots(&id).await.unwrap_or_default()
            } else {
                vec![]
            }
        }
    });
    let toggle = |list: RwSignal<Vec<String>>, value: String| {
        move |ev: leptos::ev::Event| {
            let on = event_target_checked(&ev);
            list.update(|l| {
                l.retain(|v| v != &value);
                if on {
                    l.push(value.clone());
                }
            });
        }
    };
    let textarea = move |field: &'static str, label: Msg, value: RwSignal<String>| {
        let error = errors.for_field(field);
        view! {
            <div class="form-group" class:form-group--error=move || error.get().is_some()>
                <label class="label" for=errors.id(field)>{move || i18n.t(label)}</label>
                {move || error.get().map(|text| view! { <p class="error-message" id=format!("act-{field}-error")>{text}</p> })}
                <textarea class="textarea" id=errors.id(field) rows="3" maxlength="2000"
                    aria-describedby=move || error.get().map(|_| format!("act-{field}-error"))
                    prop:value=move || value.get() on:input=move |ev| value.set(event_target_value(&ev))></textarea>
            </div>
        }
    };
    let documents = case.documents.clone();
    let refusal_grounds = case.refusal_grounds.clone();
    let colleagues = case.colleagues.clone();
    view! {
        <section class="card" aria-labelledby="actions-title">
            <h2 id="actions-title">{move || i18n.t(Msg::CaseActions)}</h2>
            <ErrorSummary errors=errors/>
            {move || done.get().map(|s| view! { <div class="notice notice--success" role="status"><p>{i18n.tf(Msg::CaseDone, &[("status", i18n.t(s.msg()))])}</p></div> })}
            {allowed.is_empty().then(|| view! { <p>{i18n.t(Msg::CaseNoActions)}</p> })}
            {allowed.iter().any(|a| *a != Action::SetPickup).then(file_picker)}
            {has(Action::Register).then(|| view! {
                <p><button class="button" type="button" disabled=move || busy.get() on:click=move |_| send(OfficerAction::Register {})>{i18n.t(Msg::CaseDoRegister)}</button></p>
            })}
            {has(Action::Assign).then(|| view! {
                <form on:submit=move |ev| { ev.prevent_default(); send(OfficerAction::Assign { officer_id: officer.get_untracked() }); }>
                    <div class="form-group">
                        <label class="label" for="act-officer_id">{i18n.t(Msg::CaseExecutor)}</label>
                        <select class="select" id="act-officer_id" on:change=move |ev| officer.set(event_target_value(&ev))>
                            {colleagues.iter().map(|c| view! { <option value=c.id.clone() selected=c.id == officer.get_untracked()>{c.name.clone()}</option> }).collect_view()}
                        </select>
                    </div>
                    <button class="button" type="submit" disabled=move || busy.get()>{i18n.t(Msg::CaseDoAssign)}</button>
                </form>
            })}
            {has(Action::RecordInspection).then(|| view! {
                <form on:submit=move |ev| {
                    ev.prevent_default();
                    match visited.get_untracked().parse() {
                        Ok(visited_on) => send(OfficerAction::RecordInspection { visited_on, findings: findings.get_untracked() }),
                        Err(_) => errors.show(vec![portal_domain::validation::FieldIssue::new("visited_on", Msg::ErrorWorkflowVisitDate)]),
                    }
                }>
                    <TextField errors=errors field="visited_on" label=Msg::CaseVisitedOn value=visited input_type="date" narrow=true/>
                    {textarea("findings", Msg::CaseFindings, findings)}
                    <button class="button" type="submit" disabled=move || busy.get()>{i18n.t(Msg::CaseDoRecordInspection)}</button>
                </form>
            })}
            {has(Action::Approve).then(|| view! {
                <form on:submit=move |ev| { ev.prevent_default(); send(OfficerAction::Approve { decision: decision.get_untracked() }); }>
                    {textarea("decision", Msg::CaseDecision, decision)}
                    <button class="button" type="submit" disabled=move || busy.get()>{i18n.t(Msg::CaseDoApprove)}</button>
                </form>
            })}
            {has(Action::Refuse).then(|| view! {
                <form on:submit=move |ev| { ev.prevent_default(); send(OfficerAction::Refuse { grounds: grounds.get_untracked(), reason: reason.get_untracked() }); }>
                    <fieldset class="fieldset form-group" id="act-grounds">
                        <legend class="label">{i18n.t(Msg::CaseGrounds)}</legend>
                        {refusal_grounds.iter().map(|g| {
                            let input_id = format!("ground-{}", g.id);
                            view! {
                                <div class="checkbox">
                                    <input type="checkbox" id=input_id.clone() on:change=toggle(grounds, g.id.clone())/>
                                    <label for=input_id>{g.text.get(lang).to_string()}</label>
                                </div>
                            }
                        }).collect_view()}
                    </fieldset>
                    {textarea("reason", Msg::CaseReason, reason)}
                    <button class="button button--warning" type="submit" disabled=move || busy.get()>{i18n.t(Msg::CaseDoRefuse)}</button>
                </form>
            })}
            {has(Action::RefusePriority).then(|| view! {
                <details class="details">
                    <summary>{i18n.t(Msg::CaseDoRefusePriority)}</summary>
                    <p>{i18n.t(Msg::CasePriorityIntro)}</p>
                    <form on:submit=move |ev| { ev.prevent_default(); send(OfficerAction::RefusePriority { priority_reason: priority_reason.get_untracked() }); }>
                        {textarea("priority_reason", Msg::CasePriorityReason, priority_reason)}
                        <button class="button button--warning" type="submit" disabled=move || busy.get()>{i18n.t(Msg::CaseDoRefusePriority)}</button>
                    </form>
                </details>
            })}
            {has(Action::RefuseToAccept).then(|| view! {
                <details class="details">
                    <summary>{i18n.t(Msg::CaseDoRefuseToAccept)}</summary>
                    <form on:submit=move |ev| { ev.prevent_default(); send(OfficerAction::RefuseToAccept { missing: missing.get_untracked(), reason: reason.get_untracked() }); }>
                        <fieldset class="fieldset form-group" id="act-missing">
                            <legend class="label">{i18n.t(Msg::CaseMissing)}</legend>
                            {documents.iter().map(|d| {
                                let input_id = format!("missing-{}", d.id);
                                view! {
                                    <div class="checkbox">
                                        <input type="checkbox" id=input_id.clone() on:change=toggle(missing, d.id.clone())/>
                                        <label for=input_id>{d.name.get(lang).to_string()}</label>
                                    </div>
                                }
                            }).collect_view()}
                        </fieldset>
                        {textarea("reason", Msg::CaseReason, reason)}
                        <button class="button button--warning" type="submit" disabled=move || busy.get()>{i18n.t(Msg::CaseDoRefuseToAccept)}</button>
                    </form>
                </details>
            })}
            {has(Action::SetPickup).then(|| view! {
                <form on:submit=move |ev| { ev.prevent_default(); send(OfficerAction::SetPickup { slot: slot.get_untracked() }); }>
                    <div class="form-group">
                        <label class="label" for="act-slot">{i18n.t(Msg::CaseSlot)}</label>
                        <select class="select" id="act-slot" on:change=move |ev| slot.set(event_target_value(&ev))>
                            <option value="">"—"</option>
                            {move || slots.get().map(|list| list.into_iter().filter(|s| s.free > 0).map(|s| {
                                let (day, minute) = portal_domain::calendar::local_day_and_minute(s.starts_at);
                                let label = i18n.tf(Msg::ProgressSlotOption, &[("date", &date_text(day)), ("time", &format!("{:02}:{:02}", minute / 60, minute % 60)), ("free", &s.free.to_string())]);
                                view! { <option value=s.id.clone()>{label}</option> }
                            }).collect_view())}
                        </select>
                    </div>
                    <button class="button button--secondary" type="submit" disabled=move || busy.get()>{i18n.t(Msg::CaseDoSetPickup)}</button>
                </form>
            })}
            {has(Action::MarkIssued).then(|| view! {
                <form on:submit=move |ev| { ev.prevent_default(); send(OfficerAction::MarkIssued { shown: shown.get_untracked(), recipient: recipient.get_untracked() }); }>
                    <fieldset class="fieldset form-group">
                        <legend class="label">{i18n.t(Msg::CaseShown)}</legend>
                        <div class="radio">
                            <input type="radio" id="shown-id" name="shown" checked=true on:change=move |_| shown.set(IdentityShown::IdentityDocument)/>
                            <label for="shown-id">{i18n.t(Msg::CaseShownId)}</label>
                        </div>
                        <div class="radio">
                            <input type="radio" id="shown-poa" name="shown" on:change=move |_| shown.set(IdentityShown::NotarisedPowerOfAttorney)/>
                            <label for="shown-poa">{i18n.t(Msg::CaseShownPoa)}</label>
                        </div>
                    </fieldset>
                    <TextField errors=errors field="recipient" label=Msg::CaseRecipient value=recipient maxlength=200/>
                    <button class="button" type="submit" disabled=move || busy.get()>{i18n.t(Msg::CaseDoMarkIssued)}</button>
                </form>
            })}
        </section>
    }
}

/// A school decides its first grade by the queue: enrol while places last, refuse the rest.
#[component]
pub fn FirstGradeEnrolment(places: u32) -> impl IntoView {
    let i18n = use_i18n();
    let errors = FormErrors::new("enrol");
    let year = RwSignal::new(String::new());
    let decision = RwSignal::new(String::new());
    let refusal = RwSignal::new(String::new());
    let done = RwSignal::new(None::<portal_domain::first_grade::EnrolmentOutcome>);
    let busy = RwSignal::new(false);
    // The coming school year, as the window says.
    leptos::task::spawn_local(async move {
        if let Ok(w) = api::first_grade_window().await {
            let _ = year.try_set(w.school_year.to_string());
        }
    });
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let Ok(school_year) = year.get_untracked().trim().parse::<i32>() else {
            errors.show(vec![portal_domain::validation::FieldIssue::new(
                "school_year",
                Msg::ErrorCalendarYear,
            )]);
            return;
        };
        let request = portal_domain::first_grade::EnrolmentRequest {
            school_year,
            decision: decision.get_untracked(),
            refusal: refusal.get_untracked(),
        };
        busy.set(true);
        done.set(None);
        leptos::task::spawn_local(async move {
            match api::enrol_first_grade(&request).await {
                Ok(outcome) => {
                    errors.clear();
                    let _ = done.try_set(Some(outcome));
                }
                Err(failure) => errors.show_failure(failure, "decision"),
            }
            let _ = busy.try_set(false);
        });
    };
    let textarea = move |field: &'static str, label: Msg, value: RwSignal<String>| {
        let error = errors.for_field(field);
        view! {
            <div class="form-group" class:form-group--error=move || error.get().is_some()>
                <label class="label" for=errors.id(field)>{move || i18n.t(label)}</label>
                {move || error.get().map(|text| view! { <p class="error-message" id=format!("enrol-{field}-error")>{text}</p> })}
                <textarea class="textarea" id=errors.id(field) rows="2" maxlength="2000"
                    aria-describedby=move || error.get().map(|_| format!("enrol-{field}-error"))
                    prop:value=move || value.get() on:input=move |ev| value.set(event_target_value(&ev))></textarea>
            </div>
        }
    };
    view! {
        <section class="card" aria-labelledby="enrol-title">
            <h2 id="enrol-title">{move || i18n.t(Msg::FirstGradeEnrolTitle)}</h2>
            <p>{move || i18n.tf(Msg::FirstGradeEnrolIntro, &[("places", &places.to_string())])}</p>
            <ErrorSummary errors=errors/>
            {move || done.get().map(|o| view! {
                <div class="notice notice--success" role="status"><p>{i18n.tf(Msg::FirstGradeEnrolDone, &[("enrolled", &o.enrolled.to_string()), ("refused", &o.refused.to_string())])}</p></div>
            })}
            <form on:submit=submit novalidate=true>
                <TextField errors=errors field="school_year" label=Msg::FirstGradeEnrolYear value=year inputmode="numeric" maxlength=4 narrow=true/>
                {textarea("decision", Msg::FirstGradeEnrolDecision, decision)}
                {textarea("refusal", Msg::FirstGradeEnrolRefusal, refusal)}
                <button class="button" type="submit" disabled=move || busy.get()>{move || i18n.t(Msg::FirstGradeEnrolButton)}</button>
            </form>
        </section>
    }
}
