//! After submitting: the history, the steps with their deadlines, the pickup (with the time
//! to move and the `.ics` event), the signed result, and withdrawing before registration.
//! Fetched again whenever a live notification arrives.

use leptos::prelude::*;
use portal_domain::application::Status;
use portal_domain::calendar::local_day_and_minute;
use portal_domain::organisation::OpeningHours;
use portal_domain::workflow::{Action, Actor, CaseFile, PickupView, Progress};
use portal_i18n::{Lang, Msg};

use crate::api;
use crate::components::{Failure, Loading};
use crate::forms::{ErrorSummary, FormErrors};
use crate::i18n::use_i18n;

/// "24.11.2026 at 14:30 (Astana time)": times of the provider, whatever the browser's zone.
pub fn astana_time(lang: Lang, millis: i64) -> String {
    let (day, minute) = local_day_and_minute(millis);
    let date = format!("{:02}.{:02}.{}", day.day(), day.month(), day.year());
    let time = format!("{:02}:{:02}", minute / 60, minute % 60);
    portal_i18n::tf(
        lang,
        Msg::ProgressLocalTime,
        &[("date", &date), ("time", &time)],
    )
}

pub fn date_text(d: portal_domain::date::Date) -> String {
    format!("{:02}.{:02}.{}", d.day(), d.month(), d.year())
}

/// "Mon 09:00–18:00, break 13:00–14:00; …", one entry per open day.
pub fn hours_text(lang: Lang, hours: &OpeningHours) -> String {
    const DAYS: [Msg; 7] = [
        Msg::ProgressWeekdayMon,
        Msg::ProgressWeekdayTue,
        Msg::ProgressWeekdayWed,
        Msg::ProgressWeekdayThu,
        Msg::ProgressWeekdayFri,
        Msg::ProgressWeekdaySat,
        Msg::ProgressWeekdaySun,
    ];
    hours
        .days
        .iter()
        .zip(DAYS)
        .filter_map(|(day, name)| {
            let d = (*day)?;
            let mut text = format!("{} {}–{}", portal_i18n::t(lang, name), d.open, d.close);
            if let (Some(from), Some(to)) = (d.break_start, d.break_end) {
                text.push_str(", ");
                text.push_str(&portal_i18n::tf(
                    lang,
                    Msg::ProgressBreak,
                    &[("from", &from.to_string()), ("to", &to.to_string())],
                ));
            }
            Some(text)
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// When first-grade applications are sent: open until…, or opening on… (Astana time).
#[component]
pub fn FirstGradeWindow() -> impl IntoView {
    let i18n = use_i18n();
    let window = LocalResource::new(api::first_grade_window);
    move || {
        window.get().and_then(Result::ok).map(|w| {
            let lang = i18n.lang();
            // The last open minute reads better than the first closed one.
            let (msg, at) = if w.open {
                (Msg::FirstGradeWindowOpen, w.closes_at - 60_000)
            } else {
                (Msg::FirstGradeWindowNotOpen, w.opens_at)
            };
            let text = i18n.tf(
                msg,
                &[
                    ("year", &w.school_year.to_string()),
                    ("next", &(w.school_year + 1).to_string()),
                    ("date", &astana_time(lang, at)),
                ],
            );
            view! { <div class="inset-text first-grade-window"><p>{text}</p></div> }
        })
    }
}

/// The documents attached to a move, as download links (`url` of a file id).
pub fn event_files(files: &[CaseFile], url: impl Fn(&str) -> String) -> Option<AnyView> {
    let i18n = use_i18n();
    (!files.is_empty()).then(|| {
        let links = files
            .iter()
            .map(|f| view! { <li><a href=url(&f.id) download=f.file_name.clone()>{f.file_name.clone()}</a></li> })
            .collect_view();
        view! {
            <p class="timeline__detail">{move || i18n.t(Msg::WorkflowFilesAttached)}":"</p>
            <ul class="list timeline__files">{links}</ul>
        }
        .into_any()
    })
}

#[component]
pub fn ApplicationProgress(id: String, status: RwSignal<Status>) -> impl IntoView {
    let i18n = use_i18n();
    let live = crate::live::use_live();
    let id = StoredValue::new(id);
    let progress = LocalResource::new(move || {
        live.tick.track();
        let id = id.get_value();
        async move { api::progress(&id).await }
    });
    // The status shown above follows the history.
    Effect::new(move |_| {
        if let Some(Ok(p)) = progress.get() {
            if let Some(last) = p.timeline.last() {
                if status.get_untracked() != last.to {
                    status.set(last.to);
                }
            }
        }
    });
    view! {
        <section class="progress" aria-labelledby="progress-title">
            <h2 id="progress-title">{move || i18n.t(Msg::ProgressTitle)}</h2>
            <Suspense fallback=|| view! { <Loading message=Msg::CommonLoading/> }>
                {move || progress.get().map(|r| match r {
                    Ok(p) => view! { <ProgressDetails id=id.get_value() progress=p reload=Callback::new(move |_| progress.refetch())/> }.into_any(),
                    Err(failure) => view! { <Failure failure=failure retry=move |_| progress.refetch()/> }.into_any(),
                })}
            </Suspense>
        </section>
    }
}

#[component]
fn ProgressDetails(id: String, progress: Progress, reload: Callback<()>) -> impl IntoView {
    let i18n = use_i18n();
    let lang = i18n.lang_untracked();
    let can_withdraw = progress.allowed.contains(&Action::Withdraw);
    let can_move = progress.allowed.contains(&Action::SetPickup) && progress.paper_result;
    let timeline = progress
        .timeline
        .iter()
        .rev()
        .map(|e| {
            let who = match e.actor {
                Actor::Applicant => i18n.t(Msg::ProgressByYou).to_string(),
                Actor::System => i18n.t(Msg::ProgressBySystem).to_string(),
                Actor::Officer => e.actor_name.clone().unwrap_or_default(),
            };
            let details = e.details.iter().map(|d| view! { <p class="timeline__detail">{d.get(lang).to_string()}</p> }).collect_view();
            let files = event_files(&e.files, |f| api::case_file_url(&id, f));
            view! {
                <li class="timeline__item">
                    <p class="timeline__action"><strong>{i18n.t(e.action.msg())}</strong>" — "{i18n.t(e.to.msg())}</p>
                    <p class="hint">{astana_time(lang, e.at)}" · "{who}</p>
                    {details}
                    {files}
                </li>
            }
        })
        .collect_view();
    let deadlines = progress
        .deadlines
        .iter()
        .map(|d| {
            let (tag, class) = if d.done {
                (i18n.t(Msg::ProgressDone), "tag tag--done")
            } else if d.overdue {
                (i18n.t(Msg::ProgressOverdue), "tag tag--overdue")
            } else {
                ("", "")
            };
            view! {
                <li class="deadline" class:deadline--overdue=d.overdue>
                    {d.step.get(lang).to_string()}" — "{i18n.tf(Msg::ProgressDue, &[("date", &date_text(d.due))])}
                    {(!tag.is_empty()).then(|| view! { " "<strong class=class>{tag}</strong> })}
                </li>
            }
        })
        .collect_view();
    let result = progress.result.clone().map(|r| {
        let code_path = r.verification_url.split("/verify/").nth(1).map(|c| format!("/verify/{c}")).unwrap_or_default();
        view! {
            <h3>{i18n.t(Msg::ProgressResult)}</h3>
            <p>{i18n.t(portal_domain::application::DocumentKind::from(r.decision).msg())}", "{r.number.clone()}", "{astana_time(lang, r.created_at)}</p>
            <ul class="list">
                <li><a href=api::result_url(&id) download=format!("{}.pdf", r.number)>{i18n.t(Msg::ProgressResultDownload)}</a></li>
                <li><a href=api::result_signature_url(&id) download=format!("{}.pdf.cms", r.number)>{i18n.t(Msg::ProgressResultSignature)}</a></li>
                <li><a href=code_path>{i18n.t(Msg::ProgressResultVerify)}</a></li>
            </ul>
        }
    });
    let pickup = progress
        .pickup
        .clone()
        .map(|p| view! { <Pickup id=id.clone() pickup=p can_move=can_move reload=reload/> });
    let due = progress.due.map(|d| {
        view! {
            <p>{i18n.tf(Msg::ProgressDue, &[("date", &date_text(d))])}
            {progress.overdue.then(|| view! { " "<strong class="tag tag--overdue">{i18n.t(Msg::ProgressOverdue)}</strong> })}</p>
        }
    });
    view! {
        {due}
        {pickup}
        {result}
        <h3>{i18n.t(Msg::ProgressDeadlines)}</h3>
        <ul class="list deadlines">{deadlines}</ul>
        <h3>{i18n.t(Msg::ProgressTimeline)}</h3>
        <ol class="timeline">{timeline}</ol>
        {can_withdraw.then(|| view! { <Withdraw id=id.clone() reload=reload/> })}
    }
}

#[component]
fn Pickup(id: String, pickup: PickupView, can_move: bool, reload: Callback<()>) -> impl IntoView {
    let i18n = use_i18n();
    let lang = i18n.lang_untracked();
    let id = StoredValue::new(id);
    let choosing = RwSignal::new(false);
    let slots = LocalResource::new(move || {
        let open = choosing.get();
        let id = id.get_value();
        async move {
            if open {
                api::pickup_slots(&id).await.map(Some)
            } else {
                Ok(None)
            }
        }
    });
    let chosen = RwSignal::new(pickup.slot.clone());
    let saved = RwSignal::new(false);
    let errors = FormErrors::new("pickup");
    let save = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let slot = chosen.get_untracked();
        leptos::task::spawn_local(async move {
            match api::book_pickup(&id.get_value(), &slot).await {
                Ok(_) => {
                    errors.clear();
                    let _ = saved.try_set(true);
                    let _ = choosing.try_set(false);
                    reload.run(());
                }
                Err(failure) => errors.show_failure(failure, "slot"),
            }
        });
    };
    view! {
        <h3>{i18n.t(Msg::ProgressPickup)}</h3>
        <Show when=move || saved.get()>
            <div class="notice notice--success" role="status"><p>{move || i18n.t(Msg::ProgressPickupSaved)}</p></div>
        </Show>
        <dl class="summary-list">
            <div class="summary-list__row"><dt class="summary-list__key">{i18n.t(Msg::ProgressPickupWhen)}</dt><dd class="summary-list__value">{astana_time(lang, pickup.starts_at)}</dd></div>
            <div class="summary-list__row"><dt class="summary-list__key">{i18n.t(Msg::ProgressPickupWhere)}</dt><dd class="summary-list__value">{format!("{}, {}, {}", pickup.place.get(lang), pickup.address.get(lang), pickup.phone)}</dd></div>
            <div class="summary-list__row"><dt class="summary-list__key">{i18n.t(Msg::ProgressPickupHours)}</dt><dd class="summary-list__value">{hours_text(lang, &pickup.hours)}</dd></div>
            <div class="summary-list__row"><dt class="summary-list__key">{i18n.t(Msg::ProgressPickupBring)}</dt><dd class="summary-list__value">{i18n.t(Msg::ProgressPickupBringText)}</dd></div>
        </dl>
        <p><a class="button button--secondary" href=api::pickup_ics_url(&id.get_value(), lang) download="pickup.ics">{i18n.t(Msg::ProgressPickupIcs)}</a></p>
        {can_move.then(|| view! {
            <Show when=move || choosing.get() fallback=move || view! {
                <button type="button" class="button button--secondary" on:click=move |_| choosing.set(true)>{move || i18n.t(Msg::ProgressPickupMove)}</button>
            }>
                <ErrorSummary errors=errors/>
                <form on:submit=save novalidate=true>
                    <div class="form-group">
                        <label class="label" for="pickup-slot">{move || i18n.t(Msg::ProgressPickupSlot)}</label>
                        <select class="select" id="pickup-slot" on:change=move |ev| chosen.set(event_target_value(&ev))>
                            {move || slots.get().and_then(|r| r.ok()).flatten().map(|list| list.into_iter().filter(|s| s.free > 0 || s.id == chosen.get_untracked()).map(|s| {
                                let (day, minute) = local_day_and_minute(s.starts_at);
                                let label = i18n.tf(Msg::ProgressSlotOption, &[
                                    ("date", &date_text(day)),
                                    ("time", &format!("{:02}:{:02}", minute / 60, minute % 60)),
                                    ("free", &s.free.to_string()),
                                ]);
                                let selected = s.id == chosen.get_untracked();
                                view! { <option value=s.id.clone() selected=selected>{label}</option> }
                            }).collect_view())}
                        </select>
                    </div>
                    <button class="button" type="submit">{move || i18n.t(Msg::ProgressPickupSave)}</button>
                </form>
            </Show>
        })}
    }
}

#[component]
fn Withdraw(id: String, reload: Callback<()>) -> impl IntoView {
    let i18n = use_i18n();
    let asking = RwSignal::new(false);
    let id = StoredValue::new(id);
    let errors = FormErrors::new("withdraw");
    let confirm = move |_| {
        leptos::task::spawn_local(async move {
            match api::withdraw(&id.get_value()).await {
                Ok(_) => reload.run(()),
                Err(failure) => errors.show_failure(failure, "withdraw"),
            }
        });
    };
    view! {
        <ErrorSummary errors=errors/>
        <Show when=move || asking.get() fallback=move || view! {
            <button type="button" id="withdraw-withdraw" class="button button--warning-secondary" on:click=move |_| asking.set(true)>{move || i18n.t(Msg::ProgressWithdraw)}</button>
        }>
            <div class="notice notice--warning" role="alertdialog" aria-labelledby="withdraw-question">
                <p id="withdraw-question">{move || i18n.t(Msg::ProgressWithdrawConfirm)}</p>
                <div class="button-group">
                    <button type="button" class="button button--warning" on:click=confirm>{move || i18n.t(Msg::ProgressWithdrawYes)}</button>
                    <button type="button" class="button button--secondary" on:click=move |_| asking.set(false)>{move || i18n.t(Msg::ApplyCancel)}</button>
                </div>
            </div>
        </Show>
    }
}
