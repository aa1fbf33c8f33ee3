//! Live notifications: while a citizen is signed in, the app listens to
//! `/api/notifications/stream` (Server-Sent Events). Each new notification bumps [`Live::tick`],
//! so open lists and application pages fetch again without a reload; it is announced in a
//! polite live region, and shown as a browser notification if the person allowed them.

use leptos::prelude::*;
use portal_domain::accounts::Role;
use portal_domain::notifications::NotificationView;
use wasm_bindgen::JsCast;
use wasm_bindgen::closure::Closure;

use crate::i18n::use_i18n;
use crate::session::use_session;

#[derive(Clone, Copy)]
pub struct Live {
    /// Counts notifications received since the page loaded.
    pub tick: RwSignal<u32>,
    pub last: RwSignal<Option<NotificationView>>,
}

/// Called once, above the pages that refresh on news.
pub fn provide_live() {
    provide_context(Live {
        tick: RwSignal::new(0),
        last: RwSignal::new(None),
    });
}

pub fn use_live() -> Live {
    expect_context::<Live>()
}

/// Opens the stream while a citizen is signed in, and shows what arrives.
#[component]
pub fn LiveNotifications() -> impl IntoView {
    let i18n = use_i18n();
    let session = use_session();
    let live = use_live();
    let source = StoredValue::new_local(
        None::<(web_sys::EventSource, Closure<dyn Fn(web_sys::MessageEvent)>)>,
    );
    let close = move || {
        source.update_value(|s| {
            if let Some((es, _)) = s.take() {
                es.close();
            }
        })
    };
    Effect::new(move |_| {
        let citizen = session.role() == Some(Role::Citizen);
        if !citizen {
            close();
            return;
        }
        if source.with_value(Option::is_some) {
            return;
        }
        let Ok(es) = web_sys::EventSource::new("/api/notifications/stream") else {
            return;
        };
        let on_message =
            Closure::<dyn Fn(web_sys::MessageEvent)>::new(move |event: web_sys::MessageEvent| {
                let Some(data) = event.data().as_string() else {
                    return;
                };
                let Ok(view) = serde_json::from_str::<NotificationView>(&data) else {
                    return;
                };
                show_browser_notification(&view, i18n.lang_untracked());
                let _ = live.last.try_set(Some(view));
                let _ = live.tick.try_update(|n| *n += 1);
            });
        let _ = es
            .add_event_listener_with_callback("notification", on_message.as_ref().unchecked_ref());
        source.set_value(Some((es, on_message)));
    });
    on_cleanup(close);
    view! {
        <div class="live-notice" role="status" aria-live="polite">
            {move || live.last.get().map(|n| view! {
                <p class="notice"><strong>{n.title.get(i18n.lang()).to_string()}</strong>" "{n.body.get(i18n.lang()).to_string()}</p>
            })}
        </div>
    }
}

fn show_browser_notification(view: &NotificationView, lang: portal_i18n::Lang) {
    if web_sys::Notification::permission() != web_sys::NotificationPermission::Granted {
        return;
    }
    let options = web_sys::NotificationOptions::new();
    options.set_body(view.body.get(lang));
    let _ = web_sys::Notification::new_with_options(view.title.get(lang), &options);
}
