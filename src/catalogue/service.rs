use leptos::prelude::*;
use leptos_router::hooks::use_params_map;
use portal_domain::service::{
    Channel, DocumentItem, Origin, PlaceMinutes, ResultForm, ServiceDefinition, Stated, Step,
    StepChannel,
};
use portal_domain::text::Text;
use portal_i18n::{Lang, Msg};

use crate::api;
use crate::components::{Failure, Loading, use_title};
use crate::format;
use crate::i18n::use_i18n;
use crate::not_found::NotFoundPage;

#[component]
pub fn ServicePage() -> impl IntoView {
    let i18n = use_i18n();
    let params = use_params_map();
    let id = move || params.read().get("id").unwrap_or_default();
    let definition = LocalResource::new(move || {
        let id = id();
        async move { api::service(&id).await }
    });
    view! {
        {move || match definition.get() {
            None => view! { <Loading message=Msg::ServiceLoading/> }.into_any(),
            Some(Ok(def)) => view! { <ServiceDetail definition=def/> }.into_any(),
            Some(Err(failure)) if failure.is_not_found() => view! { <NotFoundPage message=Msg::ServiceNotFound/> }.into_any(),
            Some(Err(failure)) => {
                view! {
                    <h1>{move || i18n.t(Msg::ServiceLoading)}</h1>
                    <Failure failure=failure retry=move |_| definition.refetch()/>
                }
                .into_any()
            }
        }}
    }
}

/// Everything a person needs before starting: what they get, how long, what it costs, which
/// documents, where to apply and collect, who provides it, why it could be refused — and what
/// the regulation does not say.
#[component]
pub fn ServiceDetail(definition: ServiceDefinition) -> impl IntoView {
    let i18n = use_i18n();
    let def = StoredValue::new(definition);
    // Reads a text of the definition in the current language.
    let txt = move |f: fn(&ServiceDefinition) -> &Text| {
        move || def.with_value(|d| f(d).get(i18n.lang()).to_string())
    };
    use_title(move || def.with_value(|d| d.short_name.get(i18n.lang()).to_string()));
    let portal = def.with_value(ServiceDefinition::has_portal_channel);
    let id = def.with_value(|d| d.id.clone());

    view! {
        <nav class="breadcrumbs" aria-label=move || i18n.t(Msg::NavBreadcrumbs)>
            <ol>
                <li><a href="/">{move || i18n.t(Msg::NavHome)}</a></li>
                <li><a href="/services">{move || i18n.t(Msg::ServiceAllServices)}</a></li>
            </ol>
        </nav>
        <article class="service">
            <h1>{txt(|d| &d.short_name)}</h1>
            <p class="lead">{txt(|d| &d.summary)}</p>
            <details class="official-name">
                <summary>{move || i18n.t(Msg::ServiceOfficialName)}</summary>
                <p>{txt(|d| &d.name)}</p>
                <Show when=move || i18n.lang() == Lang::Ru && def.with_value(|d| d.name_ru_is_translation)>
                    <p class="hint">{move || i18n.t(Msg::ServiceNameRuTranslation)}</p>
                </Show>
            </details>

            {if portal {
                let href = format!("/services/{id}/apply");
                view! {
                    <section class="call-to-action" aria-labelledby="apply-title">
                        <h2 id="apply-title">{move || i18n.t(Msg::ServiceApplyTitle)}</h2>
                        <p>{move || i18n.t(Msg::ServiceApplyIntro)}</p>
                        <a class="button button--start" href=href>{move || i18n.t(Msg::ServiceApplyStart)}</a>
                    </section>
                }
                .into_any()
            } else {
                view! {
                    <section class="call-to-action call-to-action--in-person" aria-labelledby="in-person-title">
                        <h2 id="in-person-title">{move || i18n.t(Msg::ServiceInPersonTitle)}</h2>
                        <p>{move || i18n.t(Msg::ServiceInPersonText)}</p>
                        <ChannelList channels=def.with_value(|d| d.channels.submit.clone())/>
                    </section>
                }
                .into_any()
            }}

            <dl class="summary-list">
                <div>
                    <dt>{move || i18n.t(Msg::ServiceWhatYouGet)}</dt>
                    <dd>
                        <p>{txt(|d| &d.result.description)}</p>
                        <p class="hint">{move || def.with_value(|d| result_forms(i18n.lang(), &d.result.forms))}</p>
                        {def.with_value(|d| d.result.portal_note.clone()).map(|note| view! { <p>{move || note.get(i18n.lang()).to_string()}</p> })}
                    </dd>
                </div>
                <div>
                    <dt>{move || i18n.t(Msg::ServiceHowLong)}</dt>
                    <dd><Term def=def/></dd>
                </div>
                <div>
                    <dt>{move || i18n.t(Msg::ServiceCost)}</dt>
                    <dd><StatedText value=def.with_value(|d| d.fee.clone())/></dd>
                </div>
                <div>
                    <dt>{move || i18n.t(Msg::ServiceWhoCanApply)}</dt>
                    <dd><StatedText value=def.with_value(|d| d.recipients.clone())/></dd>
                </div>
                <div>
                    <dt>{move || i18n.t(Msg::ServiceProvider)}</dt>
                    <dd>{txt(|d| &d.provider.name)}</dd>
                </div>
            </dl>

            <section aria-labelledby="documents-title">
                <h2 id="documents-title">{move || i18n.t(Msg::ServiceDocuments)}</h2>
                {def.with_value(|d| d.documents.note.clone()).map(|note| view! { <p>{move || note.get(i18n.lang()).to_string()}</p> })}
                <ul class="documents">
                    {def.with_value(|d| d.documents.items.clone()).into_iter().map(|item| view! { <Document item=item/> }).collect_view()}
                </ul>
            </section>

            <section aria-labelledby="channels-title">
                <h2 id="channels-title">{move || i18n.t(Msg::ServiceHowToApply)}</h2>
                <h3>{move || i18n.t(Msg::ServiceSubmitChannels)}</h3>
                <ChannelList channels=def.with_value(|d| d.channels.submit.clone())/>
                <h3>{move || i18n.t(Msg::ServiceResultChannels)}</h3>
                <ChannelList channels=def.with_value(|d| d.channels.result.clone())/>
                <Show when=move || def.with_value(|d| d.channels.portal_queue_booking)>
                    <p>{move || i18n.t(Msg::ServiceQueueBooking)}</p>
                </Show>
                {def.with_value(|d| d.channels.note.clone()).map(|note| view! { <p class="hint">{move || note.get(i18n.lang()).to_string()}</p> })}
                <ServiceTimes times=def.with_value(|d| d.service_times)/>
            </section>

            <section aria-labelledby="steps-title">
                <h2 id="steps-title">{move || i18n.t(Msg::ServiceSteps)}</h2>
                <Steps steps=def.with_value(|d| d.steps.clone()) channel=StepChannel::Provider heading=Msg::ServiceStepsProvider/>
                <Steps steps=def.with_value(|d| d.steps.clone()) channel=StepChannel::StateCorporation heading=Msg::ServiceStepsStateCorporation/>
            </section>

            <section aria-labelledby="refusal-title">
                <h2 id="refusal-title">{move || i18n.t(Msg::ServiceRefusal)}</h2>
                {def.with_value(|d| d.refusal_grounds.note.clone()).map(|note| view! { <p>{move || note.get(i18n.lang()).to_string()}</p> })}
                <Show when=move || def.with_value(|d| !d.refusal_grounds.items.is_empty())>
                    <ol>
                        {def.with_value(|d| d.refusal_grounds.items.clone())
                            .into_iter()
                            .map(|g| view! { <li>{move || g.text.get(i18n.lang()).to_string()}</li> })
                            .collect_view()}
                    </ol>
                </Show>
                {def.with_value(|d| d.refusal_grounds.refusal_to_accept_appendix).map(|n| {
                    view! { <p>{move || i18n.tf(Msg::ServiceRefusalToAccept, &[("number", &n.to_string())])}</p> }
                })}
            </section>

            <section aria-labelledby="schedule-title">
                <h2 id="schedule-title">{move || i18n.t(Msg::ServiceSchedule)}</h2>
                <dl class="summary-list">
                    <ScheduleRow label=Msg::ServiceScheduleProvider value=def.with_value(|d| d.schedule.provider.clone())/>
                    <Show when=move || def.with_value(|d| d.channels.submit.contains(&Channel::StateCorporation))>
                        <ScheduleRow label=Msg::ServiceScheduleStateCorporation value=def.with_value(|d| d.schedule.state_corporation.clone())/>
                    </Show>
                    <Show when=move || portal>
                        <ScheduleRow label=Msg::ServiceSchedulePortal value=def.with_value(|d| d.schedule.portal.clone())/>
                    </Show>
                </dl>
            </section>

            <TextListSection title=Msg::ServiceNotes id="notes-title" items=def.with_value(|d| d.special_notes.clone())/>
            <TextListSection title=Msg::ServiceDiscrepancies id="discrepancies-title" items=def.with_value(|d| d.discrepancies.clone())/>

            {def.with_value(|d| d.outside_seeds.clone()).map(|text| {
                view! {
                    <section class="notice notice--outside" aria-labelledby="outside-title">
                        <h2 id="outside-title">{move || i18n.t(Msg::ServiceOutsideSeeds)}</h2>
                        <p><strong>{move || i18n.t(Msg::ServiceOutsideSeedsWarning)}</strong></p>
                        <p>{move || text.get(i18n.lang()).to_string()}</p>
                    </section>
                }
            })}

            <section class="source" aria-labelledby="source-title">
                <h2 id="source-title">{move || i18n.t(Msg::ServiceSource)}</h2>
                <dl class="summary-list">
                    <div><dt>{move || i18n.t(Msg::ServiceSourceAct)}</dt><dd>{txt(|d| &d.source.act)}</dd></div>
                    <div><dt>{move || i18n.t(Msg::ServiceSourceStandard)}</dt><dd>{txt(|d| &d.source.standard)}</dd></div>
                    <div><dt>{move || i18n.t(Msg::ServiceSourceRegion)}</dt><dd>{txt(|d| &d.source.region)}</dd></div>
                    <div><dt>{move || i18n.t(Msg::ServiceSourceStatus)}</dt><dd>{txt(|d| &d.source.legal_status)}</dd></div>
                </dl>
            </section>
        </article>
    }
}

fn result_forms(lang: Lang, forms: &[ResultForm]) -> String {
    forms
        .iter()
        .map(|f| match f {
            ResultForm::Electronic => portal_i18n::t(lang, Msg::ServiceFormElectronic),
            ResultForm::Paper => portal_i18n::t(lang, Msg::ServiceFormPaper),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

#[component]
fn Term(def: StoredValue<ServiceDefinition>) -> impl IntoView {
    let i18n = use_i18n();
    let term = def.with_value(|d| d.term.clone());
    let term = StoredValue::new(term);
    view! {
        <ul class="plain">
            {move || {
                let lang = i18n.lang();
                term.with_value(|t| {
                    let mut lines = Vec::new();
                    match (t.stated, t.derived) {
                        (Some(d), _) => lines.push(format::duration(lang, d)),
                        (None, Some(d)) => lines.push(portal_i18n::tf(lang, Msg::ServiceEstimate, &[("duration", &format::duration(lang, d))])),
                        (None, None) if t.windows.is_empty() => lines.push(portal_i18n::t(lang, Msg::ServiceTermNone).to_string()),
                        (None, None) => {}
                    }
                    if let Some(d) = t.outside_provider_location {
                        lines.push(portal_i18n::tf(lang, Msg::ServiceOutsideLocation, &[("duration", &format::duration(lang, d))]));
                    }
                    match t.submission_day_counted {
                        Some(false) => lines.push(portal_i18n::t(lang, Msg::ServiceSubmissionDayNotCounted).to_string()),
                        Some(true) => lines.push(portal_i18n::t(lang, Msg::ServiceSubmissionDayCounted).to_string()),
                        None => {}
                    }
                    lines.extend(t.windows.iter().map(|w| format::window(lang, w)));
                    if let Some(note) = &t.note {
                        lines.push(note.get(lang).to_string());
                    }
                    lines.into_iter().map(|line| view! { <li>{line}</li> }).collect_view()
                })
            }}
        </ul>
    }
}

/// A value the regulation may not state: says so plainly instead of leaving a blank.
#[component]
fn StatedText(value: Stated<Text>) -> impl IntoView {
    let i18n = use_i18n();
    match value {
        Stated::Stated(text) => {
            view! { <span>{move || text.get(i18n.lang()).to_string()}</span> }.into_any()
        }
        Stated::NotInSeed => {
            view! { <span class="not-in-seed">{move || i18n.t(Msg::ServiceNotInSeed)}</span> }
                .into_any()
        }
    }
}

#[component]
fn Document(item: DocumentItem) -> impl IntoView {
    let i18n = use_i18n();
    let required = match item.required {
        Some(true) => Msg::ServiceRequired,
        Some(false) => Msg::ServiceOptional,
        None => Msg::ServiceRequiredUnknown,
    };
    let DocumentItem {
        name,
        from_state_systems,
        origin,
        note,
        ..
    } = item;
    view! {
        <li class="document">
            <p class="document__name">{move || name.get(i18n.lang()).to_string()}</p>
            <p class="hint">{move || i18n.t(required)}</p>
            <Show when=move || from_state_systems>
                <p class="tag tag--online">{move || i18n.t(Msg::ServiceFromStateSystems)}</p>
            </Show>
            <Show when=move || origin == Origin::OutsideSeeds>
                <p class="tag tag--warning">{move || i18n.t(Msg::ServiceOutsideSeedsItem)}</p>
            </Show>
            {note.map(|n| view! { <p class="hint">{move || n.get(i18n.lang()).to_string()}</p> })}
        </li>
    }
}

#[component]
fn ChannelList(channels: Vec<Channel>) -> impl IntoView {
    let i18n = use_i18n();
    view! {
        <ul class="channels">
            {channels.into_iter().map(|c| view! { <li>{move || i18n.t(format::channel(c))}</li> }).collect_view()}
        </ul>
    }
}

#[component]
fn ServiceTimes(times: portal_domain::service::ServiceTimes) -> impl IntoView {
    let i18n = use_i18n();
    let describe = move |m: PlaceMinutes| {
        let lang = i18n.lang();
        let mut parts = Vec::new();
        if let Some(n) = m.provider {
            parts.push(portal_i18n::tf(
                lang,
                Msg::ServiceAtProvider,
                &[("minutes", &n.to_string())],
            ));
        }
        if let Some(n) = m.state_corporation {
            parts.push(portal_i18n::tf(
                lang,
                Msg::ServiceAtStateCorporation,
                &[("minutes", &n.to_string())],
            ));
        }
        if parts.is_empty() {
            portal_i18n::t(lang, Msg::ServiceNotInSeed).to_string()
        } else {
            parts.join("; ")
        }
    };
    view! {
        <dl class="summary-list">
            <div>
                <dt>{move || i18n.t(Msg::ServiceMaxWait)}</dt>
                <dd>{move || describe(times.max_wait_minutes)}</dd>
            </div>
            <div>
                <dt>{move || i18n.t(Msg::ServiceMaxService)}</dt>
                <dd>{move || describe(times.max_service_minutes)}</dd>
            </div>
        </dl>
    }
}

/// The steps of one channel as a table; nothing when the channel has none.
#[component]
fn Steps(steps: Vec<Step>, channel: StepChannel, heading: Msg) -> impl IntoView {
    let i18n = use_i18n();
    let steps: Vec<Step> = steps.into_iter().filter(|s| s.channel == channel).collect();
    if steps.is_empty() {
        return ().into_any();
    }
    let rows = steps
        .into_iter()
        .enumerate()
        .map(|(i, step)| {
            let Step { actor, action, duration, duration_note, .. } = step;
            view! {
                <tr>
                    <td>{i + 1}</td>
                    <td>{move || actor.get(i18n.lang()).to_string()}</td>
                    <td>{move || action.get(i18n.lang()).to_string()}</td>
                    <td>
                        {move || match duration {
                            Some(d) => format::duration(i18n.lang(), d),
                            None => i18n.t(Msg::ServiceNoDuration).to_string(),
                        }}
                        {duration_note.map(|n| view! { <span class="hint step-note">{move || n.get(i18n.lang()).to_string()}</span> })}
                    </td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <div class="table-scroll" role="region" aria-label=move || i18n.t(heading) tabindex="0">
            <table class="table">
                <caption>{move || i18n.t(heading)}</caption>
                <thead>
                    <tr>
                        <th scope="col">{move || i18n.t(Msg::ServiceStepNumber)}</th>
                        <th scope="col">{move || i18n.t(Msg::ServiceStepActor)}</th>
                        <th scope="col">{move || i18n.t(Msg::ServiceStepAction)}</th>
                        <th scope="col">{move || i18n.t(Msg::ServiceStepDuration)}</th>
                    </tr>
                </thead>
                <tbody>{rows}</tbody>
            </table>
        </div>
    }
    .into_any()
}

#[component]
fn ScheduleRow(label: Msg, value: Option<Text>) -> impl IntoView {
    let i18n = use_i18n();
    view! {
        <div>
            <dt>{move || i18n.t(label)}</dt>
            <dd>
                {match value {
                    Some(text) => view! { <span>{move || text.get(i18n.lang()).to_string()}</span> }.into_any(),
                    None => view! { <span class="not-in-seed">{move || i18n.t(Msg::ServiceNotInSeed)}</span> }.into_any(),
                }}
            </dd>
        </div>
    }
}

#[component]
fn TextListSection(title: Msg, id: &'static str, items: Vec<Text>) -> impl IntoView {
    let i18n = use_i18n();
    if items.is_empty() {
        return ().into_any();
    }
    view! {
        <section aria-labelledby=id>
            <h2 id=id>{move || i18n.t(title)}</h2>
            <ul>{items.into_iter().map(|t| view! { <li>{move || t.get(i18n.lang()).to_string()}</li> }).collect_view()}</ul>
        </section>
    }
    .into_any()
}
