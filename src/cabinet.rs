//! The personal cabinet: my applications, notifications, profile.

use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::use_navigate;
use portal_domain::accounts::{NotificationChannels, Profile, ProfileUpdate, Role};
use portal_i18n::{Lang, Msg};

use crate::api;
use crate::apply::MyApplications;
use crate::components::{Failure, Loading, use_title};
use crate::forms::{Checkbox, ErrorSummary, FormErrors, LanguageChoice, TextField};
use crate::i18n::use_i18n;
use crate::session::{RequireUser, go_to, use_session};

#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Section {
    Applications,
    Notifications,
    Profile,
}

#[component]
pub fn CabinetPage(section: Section) -> impl IntoView {
    let i18n = use_i18n();
    let session = use_session();
    use_title(move || {
        i18n.t(match section {
            Section::Applications => Msg::CabinetApplications,
            Section::Notifications => Msg::CabinetNotifications,
            Section::Profile => Msg::CabinetProfile,
        })
        .to_string()
    });
    view! {
        <RequireUser roles=&[Role::Citizen]>
            <h1>{move || i18n.t(Msg::CabinetTitle)}</h1>
            <p class="lead">
                {move || session.user().map(|u| i18n.tf(Msg::CabinetGreeting, &[("name", &u.first_name)])).unwrap_or_default()}
            </p>
            <nav class="tabs" aria-label=move || i18n.t(Msg::CabinetSectionLabel)>
                <ul>
                    <li><A href="/cabinet" exact=true>{move || i18n.t(Msg::CabinetApplications)}</A></li>
                    <li><A href="/cabinet/notifications">{move || i18n.t(Msg::CabinetNotifications)}</A></li>
                    <li><A href="/cabinet/profile">{move || i18n.t(Msg::CabinetProfile)}</A></li>
                </ul>
            </nav>
            {match section {
                Section::Applications => view! { <MyApplications/> }.into_any(),
                Section::Notifications => view! { <Notifications/> }.into_any(),
                Section::Profile => view! { <ProfileSection/> }.into_any(),
            }}
        </RequireUser>
    }
}

/// A moment as the person's language writes dates and times, in their time zone.
pub fn format_instant(lang: Lang, millis: i64) -> String {
    let locale = match lang {
        Lang::Kk => "kk-KZ",
        Lang::Ru => "ru-RU",
        Lang::En => "en-GB",
    };
    let date = js_sys::Date::new(&wasm_bindgen::JsValue::from_f64(millis as f64));
    String::from(date.to_locale_string(locale, &wasm_bindgen::JsValue::UNDEFINED))
}

#[component]
fn Notifications() -> impl IntoView {
    let i18n = use_i18n();
    let live = crate::live::use_live();
    let list = LocalResource::new(move || {
        live.tick.track();
        api::notifications()
    });
    let mark_all = move |_| {
        leptos::task::spawn_local(async move {
            if api::mark_notifications_read().await.is_ok() {
                list.refetch();
            }
        });
    };
    view! {
        <h2>{move || i18n.t(Msg::CabinetNotifications)}</h2>
        {move || match list.get() {
            None => view! { <Loading message=Msg::CommonLoading/> }.into_any(),
            Some(Err(failure)) => view! { <Failure failure=failure retry=move |_| list.refetch()/> }.into_any(),
            Some(Ok(items)) if items.is_empty() => {
                view! { <div class="empty"><p>{move || i18n.t(Msg::CabinetNotificationsEmpty)}</p></div> }.into_any()
            }
            Some(Ok(items)) => {
                let unread = items.iter().any(|n| !n.read);
                view! {
                    <Show when=move || unread>
                        <button class="button button--secondary" type="button" on:click=mark_all>{move || i18n.t(Msg::NotificationsMarkAllRead)}</button>
                    </Show>
                    <ul class="notifications">
                        {items
                            .into_iter()
                            .map(|n| {
                                let read = n.read;
                                view! {
                                    <li class="notification" class:notification--unread=!read>
                                        <h3 class="notification__title">
                                            {match n.link.clone() {
                                                Some(link) => {
                                                    let title = n.title.clone();
                                                    view! { <a href=link>{move || title.get(i18n.lang()).to_string()}</a> }.into_any()
                                                }
                                                None => {
                                                    let title = n.title.clone();
                                                    view! { <span>{move || title.get(i18n.lang()).to_string()}</span> }.into_any()
                                                }
                                            }}
                                            <Show when=move || !read>
                                                <span class="tag tag--online">{move || i18n.t(Msg::NotificationsNew)}</span>
                                            </Show>
                                        </h3>
                                        <p>{move || n.body.get(i18n.lang()).to_string()}</p>
                                        <p class="hint">{move || format_instant(i18n.lang(), n.created_at)}</p>
                                    </li>
                                }
                            })
                            .collect_view()}
                    </ul>
                }
                .into_any()
            }
        }}
    }
}

#[component]
fn ProfileSection() -> impl IntoView {
    let profile = LocalResource::new(api::profile);
    view! {
        {move || match profile.get() {
            None => view! { <Loading message=Msg::CommonLoading/> }.into_any(),
            Some(Err(failure)) => view! { <Failure failure=failure retry=move |_| profile.refetch()/> }.into_any(),
            Some(Ok(p)) => view! { <ProfileForm profile=p/> }.into_any(),
        }}
        <SignOutEverywhere/>
    }
}

#[component]
fn ProfileForm(profile: Profile) -> impl IntoView {
    let i18n = use_i18n();
    let errors = FormErrors::new("profile");
    let email = RwSignal::new(profile.email.clone().unwrap_or_default());
    let phone = RwSignal::new(profile.phone.clone().unwrap_or_default());
    let language = RwSignal::new(profile.user.preferred_lang);
    let notify_email = RwSignal::new(profile.notifications.email);
    let notify_browser = RwSignal::new(profile.notifications.browser);
    let saved = RwSignal::new(false);
    let busy = RwSignal::new(false);
    let user = profile.user.clone();
    let full_name = [
        Some(user.last_name.clone()),
        Some(user.first_name.clone()),
        user.middle_name.clone(),
    ]
    .into_iter()
    .flatten()
    .collect::<Vec<_>>()
    .join(" ");
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if busy.get_untracked() {
            return;
        }
        saved.set(false);
        let update = ProfileUpdate {
            email: email.get_untracked(),
            phone: phone.get_untracked(),
            preferred_lang: language.get_untracked(),
            notifications: NotificationChannels {
                email: notify_email.get_untracked(),
                browser: notify_browser.get_untracked(),
            },
        };
        if let Err(issues) = update.parse() {
            errors.show(issues);
            return;
        }
        busy.set(true);
        leptos::task::spawn_local(async move {
            match api::update_profile(&update).await {
                Ok(p) => {
                    errors.clear();
                    email.set(p.email.unwrap_or_default());
                    phone.set(p.phone.unwrap_or_default());
                    saved.set(true);
                    if notify_browser.get_untracked() {
                        ask_browser_permission();
                    }
                }
                Err(failure) => errors.show_failure(failure, "email"),
            }
            busy.set(false);
        });
    };
    view! {
        <h2>{move || i18n.t(Msg::ProfileDetails)}</h2>
        <dl class="summary-list">
            <div><dt>{move || i18n.t(Msg::ProfileName)}</dt><dd>{full_name}</dd></div>
            <div><dt>{move || i18n.t(Msg::ProfileIin)}</dt><dd>{user.iin_masked.clone()}</dd></div>
        </dl>
        <ErrorSummary errors=errors/>
        <Show when=move || saved.get()>
            <div class="notice notice--success" role="status"><p>{move || i18n.t(Msg::ProfileSaved)}</p></div>
        </Show>
        <form on:submit=submit novalidate=true>
            <h2>{move || i18n.t(Msg::ProfileContacts)}</h2>
            <TextField errors=errors field="email" label=Msg::RegisterEmail value=email input_type="email" autocomplete="email" maxlength=254/>
            <TextField errors=errors field="phone" label=Msg::RegisterPhone hint=Msg::RegisterPhoneHint value=phone
                input_type="tel" autocomplete="tel" maxlength=20 narrow=true/>
            <LanguageChoice errors=errors field="preferred_lang" legend=Msg::ProfileLanguage value=language/>
            <fieldset class="fieldset form-group">
                <legend class="label">{move || i18n.t(Msg::ProfileNotifications)}</legend>
                <p class="hint">{move || i18n.t(Msg::ProfileNotificationsHint)}</p>
                <Checkbox errors=errors field="notifications.email" label=Msg::ProfileNotifyEmail value=notify_email/>
                <Checkbox errors=errors field="notifications.browser" label=Msg::ProfileNotifyBrowser value=notify_browser/>
            </fieldset>
            <button class="button" type="submit" disabled=move || busy.get()>{move || i18n.t(Msg::ProfileSave)}</button>
        </form>
    }
}

/// Browser notifications need the person's permission, asked for when they turn them on.
fn ask_browser_permission() {
    if let Ok(promise) = web_sys::Notification::request_permission() {
        leptos::task::spawn_local(async move {
            let _ = wasm_bindgen_futures::JsFuture::from(promise).await;
        });
    }
}

#[component]
fn SignOutEverywhere() -> impl IntoView {
    let i18n = use_i18n();
    let session = use_session();
    let navigate = use_navigate();
    let click = move |_| {
        let navigate = navigate.clone();
        leptos::task::spawn_local(async move {
            if api::sign_out_everywhere().await.is_ok() {
                session.end();
                go_to("/login?signed_out=1", &navigate, false);
            }
        });
    };
    view! {
        <h2>{move || i18n.t(Msg::ProfileSessions)}</h2>
        <p>{move || i18n.t(Msg::ProfileLogoutEverywhereHint)}</p>
        <button class="button button--warning" type="button" on:click=click>{move || i18n.t(Msg::ProfileLogoutEverywhere)}</button>
    }
}
