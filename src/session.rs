//! Who is signed in, for every page; the warning before an idle session ends; and the way back
//! to the page a person was on after signing in again.

use leptos::prelude::*;
use leptos_router::NavigateOptions;
use leptos_router::hooks::use_navigate;
use portal_domain::accounts::{Role, SessionInfo, UserView};
use portal_i18n::Msg;

use crate::api;
use crate::i18n::use_i18n;

/// Show the warning this many seconds before the session ends.
const WARN_SECONDS: f64 = 120.0;

#[derive(Clone, Copy)]
pub struct Session {
    info: RwSignal<Option<SessionInfo>>,
    /// The first `GET /api/session` has answered.
    loaded: RwSignal<bool>,
    /// When the session ends, in the browser's clock (milliseconds).
    deadline: RwSignal<f64>,
    /// Counts sign-ins and sign-outs, so that the answer to an older question ("who is signed
    /// in?") never overwrites what happened since.
    generation: RwSignal<u64>,
}

impl Session {
    pub fn user(&self) -> Option<UserView> {
        self.info.with(|i| i.as_ref().map(|i| i.user.clone()))
    }

    pub fn is_loaded(&self) -> bool {
        self.loaded.get()
    }

    pub fn role(&self) -> Option<Role> {
        self.info.with(|i| i.as_ref().map(|i| i.user.role))
    }

    /// Records a session that has just started or been confirmed.
    pub fn start(&self, info: SessionInfo) {
        self.generation.update(|g| *g += 1);
        api::set_csrf_token(Some(info.csrf_token.clone()));
        self.deadline
            .set(now() + f64::from(info.expires_in_seconds) * 1000.0);
        self.info.set(Some(info));
        self.loaded.set(true);
    }

    /// Forgets the session (signed out, or ended on the server).
    pub fn end(&self) {
        self.generation.update(|g| *g += 1);
        api::set_csrf_token(None);
        self.info.set(None);
        self.loaded.set(true);
    }

    /// The server says the session now ends in `seconds`.
    /// Asks the server who is signed in, and applies the answer unless the session changed
    /// meanwhile (a sign-in completed while the question was on its way, say).
    fn refresh(&self, on_ended: impl FnOnce() + 'static) {
        let session = *self;
        let asked_at = self.generation.get_untracked();
        leptos::task::spawn_local(async move {
            let answer = api::session().await;
            if session.generation.get_untracked() != asked_at {
                return;
            }
            match answer {
                Ok(info) => session.start(info),
                Err(_) => {
                    session.end();
                    on_ended();
                }
            }
        });
    }

    fn expires_in(&self, seconds: u32) {
        if self.info.with_untracked(Option::is_some) {
            self.deadline.set(now() + f64::from(seconds) * 1000.0);
        }
    }
}

fn now() -> f64 {
    js_sys::Date::now()
}

pub fn use_session() -> Session {
    expect_context::<Session>()
}

/// The path and query of the current page, for `?next=`.
pub fn current_path() -> String {
    let location = window().location();
    format!(
        "{}{}",
        location.pathname().unwrap_or_default(),
        location.search().unwrap_or_default()
    )
}

/// `next` if it is a path of this site (never another site: no open redirects).
pub fn safe_next(next: Option<String>) -> Option<String> {
    next.filter(|n| {
        n.starts_with('/') && !n.starts_with("//") && !n.contains('\\') && !n.starts_with("/login")
    })
}

/// The sign-in page, coming back to `next` afterwards. From the sign-in page itself, that page
/// as it is (its own `next` is the way back).
pub fn login_url(next: &str, expired: bool) -> String {
    if next.starts_with("/login") {
        return next.to_string();
    }
    if next.is_empty() || next == "/" {
        return if expired {
            "/login?expired=1".to_string()
        } else {
            "/login".to_string()
        };
    }
    let next = String::from(js_sys::encode_uri_component(next));
    if expired {
        format!("/login?expired=1&next={next}")
    } else {
        format!("/login?next={next}")
    }
}

/// Goes to a page of the citizen app. From the workspace (another app) that is a page load;
/// inside the citizen app the router navigates without one.
pub fn go_to(path: &str, navigate: &impl Fn(&str, NavigateOptions), replace: bool) {
    if path == current_path() {
        return;
    }
    let in_workspace = window()
        .location()
        .pathname()
        .is_ok_and(|p| p.starts_with("/workspace"));
    if in_workspace {
        let location = window().location();
        let _ = if replace {
            location.replace(path)
        } else {
            location.assign(path)
        };
    } else {
        navigate(
            path,
            NavigateOptions {
                replace,
                ..Default::default()
            },
        );
    }
}

/// Provides the session to the app, asks the server who is signed in, and sends the user to
/// sign in again when the server says the session has ended.
pub fn provide_session() -> Session {
    let session = Session {
        info: RwSignal::new(None),
        loaded: RwSignal::new(false),
        deadline: RwSignal::new(0.0),
        generation: RwSignal::new(0),
    };
    provide_context(session);
    let navigate = use_navigate();
    api::on_session_seen(move |seconds| session.expires_in(seconds));
    api::on_session_ended(move || {
        let was_signed_in = session.info.with_untracked(Option::is_some);
        session.end();
        if was_signed_in {
            go_to(&login_url(&current_path(), true), &navigate, false);
        }
    });
    session.refresh(|| {});
    session
}

/// Sends a signed-out visitor to the sign-in page, then back here. Renders `children` once
/// someone is signed in with one of `roles`.
#[component]
pub fn RequireUser(roles: &'static [Role], children: ChildrenFn) -> impl IntoView {
    let session = use_session();
    let i18n = use_i18n();
    let navigate = use_navigate();
    Effect::new(move |_| {
        if session.is_loaded() && session.user().is_none() {
            go_to(&login_url(&current_path(), false), &navigate, true);
        }
    });
    let children = StoredValue::new(children);
    move || match (session.is_loaded(), session.role()) {
        (false, _) | (true, None) => {
            view! { <p class="loading" role="status">{i18n.t(Msg::CommonLoading)}</p> }.into_any()
        }
        (true, Some(role)) if roles.contains(&role) => children.with_value(|c| c()).into_any(),
        (true, Some(_)) => view! { <p>{i18n.t(Msg::ErrorForbidden)}</p> }.into_any(),
    }
}

/// The warning two minutes before an idle session ends: stay signed in, or sign out now.
/// Uses the native modal `<dialog>`, which keeps focus inside it and closes on Escape.
#[component]
pub fn SessionTimeout() -> impl IntoView {
    let session = use_session();
    let i18n = use_i18n();
    let navigate = use_navigate();
    let dialog = NodeRef::<leptos::html::Dialog>::new();
    let open = RwSignal::new(false);
    let warn = move || {
        if session.info.with_untracked(Option::is_some) && !open.get_untracked() {
            if let Some(d) = dialog.get_untracked() {
                if d.show_modal().is_ok() {
                    open.set(true);
                }
            }
        }
    };
    let expire = {
        let navigate = navigate.clone();
        move || {
            close(dialog, open);
            let navigate = navigate.clone();
            // Confirm with the server: another tab may have kept the session alive.
            session.refresh(move || go_to(&login_url(&current_path(), true), &navigate, false));
        }
    };
    // Two timers armed for the exact moments — the warning, then the end — and re-armed
    // whenever the deadline moves. Nothing wakes up in between. A timer also checks that it
    // is still the current one when it fires: `clearTimeout` cannot be relied on alone (timer
    // ids outside the i32 range, as fake clocks hand out, are truncated on the way to wasm).
    let timers = StoredValue::new(Vec::<TimeoutHandle>::new());
    let armed = StoredValue::new(0u64);
    Effect::new(move |_| {
        let deadline = session.deadline.get();
        let signed_in = session.info.with(Option::is_some);
        timers.update_value(|handles| handles.drain(..).for_each(|h| h.clear()));
        armed.update_value(|n| *n += 1);
        if !signed_in {
            close(dialog, open);
            return;
        }
        let this_round = armed.get_value();
        let current = move || armed.try_get_value() == Some(this_round);
        let left = (deadline - now()).max(0.0);
        let after = |ms: f64| std::time::Duration::from_millis(ms.max(0.0) as u64);
        let expire = expire.clone();
        let mut handles = Vec::new();
        let warn_now = move || {
            if current() {
                warn();
            }
        };
        let expire_now = move || {
            if current() {
                expire();
            }
        };
        if let Ok(h) = set_timeout_with_handle(warn_now, after(left - WARN_SECONDS * 1000.0)) {
            handles.push(h);
        }
        if let Ok(h) = set_timeout_with_handle(expire_now, after(left)) {
            handles.push(h);
        }
        timers.set_value(handles);
    });
    on_cleanup(move || timers.update_value(|handles| handles.drain(..).for_each(|h| h.clear())));
    let stay = move || {
        close(dialog, open);
        leptos::task::spawn_local(async move {
            if let Ok(info) = api::extend_session().await {
                session.start(info);
            }
        });
    };
    let sign_out_now = move |_| {
        close(dialog, open);
        sign_out(session, navigate.clone());
    };
    view! {
        <dialog
            node_ref=dialog
            class="dialog"
            aria-labelledby="session-timeout-title"
            aria-describedby="session-timeout-text"
            on:cancel=move |ev: leptos::ev::Event| {
                // Escape means "not now": stay signed in rather than lose the page.
                ev.prevent_default();
                stay();
            }
        >
            <h2 id="session-timeout-title">{move || i18n.t(Msg::SessionWarningTitle)}</h2>
            <p id="session-timeout-text">{move || i18n.t(Msg::SessionWarningText)}</p>
            <div class="button-group">
                <button type="button" class="button" autofocus=true on:click=move |_| stay()>{move || i18n.t(Msg::SessionStay)}</button>
                <button type="button" class="button button--secondary" on:click=sign_out_now>{move || i18n.t(Msg::SessionSignOutNow)}</button>
            </div>
        </dialog>
    }
}

/// Signs out on the server, forgets the session here, and shows the sign-in page.
pub fn sign_out(session: Session, navigate: impl Fn(&str, NavigateOptions) + 'static) {
    leptos::task::spawn_local(async move {
        let _ = api::sign_out().await;
        session.end();
        go_to("/login?signed_out=1", &navigate, false);
    });
}

fn close(dialog: NodeRef<leptos::html::Dialog>, open: RwSignal<bool>) {
    if let Some(d) = dialog.get_untracked() {
        d.close();
    }
    open.set(false);
}
