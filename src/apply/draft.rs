//! A draft being filled in: its answers, autosaved to the server while typing and copied to
//! this browser's storage, so nothing is lost offline or when the session times out.

use leptos::prelude::*;
use portal_domain::application::{
    ApplicationView, AttachmentView, SaveDraft, Status, Submission, UploadLimits,
};
use portal_domain::calendar::local_day_and_minute;
use portal_domain::form::{Answer, Answers, Context, FieldKind, FormDefinition, Strictness};
use portal_domain::service::ServiceDefinition;
use serde::{Deserialize, Serialize};
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::Closure;

use crate::api::{self, ApiFailure};

#[derive(Clone, Debug, PartialEq)]
pub enum SaveState {
    Idle,
    Saving,
    /// Saved at this time (ms since the epoch).
    Saved(f64),
    /// No connection: kept in this browser, saved when the connection is back.
    Offline,
    Failed(ApiFailure),
}

/// What this browser keeps of a draft until the server has it.
#[derive(Serialize, Deserialize)]
struct LocalCopy {
    base_version: i64,
    answers: Answers,
}

#[derive(Clone, Copy)]
pub struct Draft {
    pub id: StoredValue<String>,
    pub service: StoredValue<ServiceDefinition>,
    pub answers: RwSignal<Answers>,
    pub version: RwSignal<i64>,
    pub attachments: RwSignal<Vec<AttachmentView>>,
    pub limits: StoredValue<UploadLimits>,
    pub status: RwSignal<Status>,
    pub submission: RwSignal<Option<Submission>>,
    /// A signed first-grade draft the portal sends when applications open: that moment.
    pub scheduled_for: RwSignal<Option<i64>>,
    pub save_state: RwSignal<SaveState>,
    /// The server's copy, when it moved on while this browser had unsaved answers.
    pub conflict: RwSignal<Option<ApplicationView>>,
    /// Answers were restored from this browser's copy.
    pub restored: RwSignal<bool>,
    timer: StoredValue<Option<i32>>,
    in_flight: StoredValue<bool>,
    again: StoredValue<bool>,
}

fn storage() -> Option<web_sys::Storage> {
    window().local_storage().ok().flatten()
}

fn storage_key(id: &str) -> String {
    format!("portal.draft.{id}")
}

pub fn today() -> portal_domain::date::Date {
    local_day_and_minute(js_sys::Date::now() as i64).0
}

pub fn context() -> Context {
    Context {
        today: today(),
        check_files: false,
    }
}

impl Draft {
    /// A draft from the server's copy, reconciled with this browser's unsaved one.
    pub fn new(view: ApplicationView, service: ServiceDefinition) -> Draft {
        let draft = Draft {
            id: StoredValue::new(view.id.clone()),
            service: StoredValue::new(service),
            answers: RwSignal::new(view.answers.clone()),
            version: RwSignal::new(view.version),
            attachments: RwSignal::new(view.attachments.clone()),
            limits: StoredValue::new(view.limits),
            status: RwSignal::new(view.status),
            submission: RwSignal::new(view.submission.clone()),
            scheduled_for: RwSignal::new(view.scheduled_for),
            save_state: RwSignal::new(SaveState::Idle),
            conflict: RwSignal::new(None),
            restored: RwSignal::new(false),
            timer: StoredValue::new(None),
            in_flight: StoredValue::new(false),
            again: StoredValue::new(false),
        };
        if view.status == Status::Draft {
            if let Some(local) = draft.read_local() {
                if local.answers != view.answers {
                    draft.answers.set(local.answers);
                    if local.base_version == view.version {
                        draft.restored.set(true);
                        draft.schedule_save();
                    } else {
                        draft.conflict.set(Some(view));
                    }
                } else {
                    draft.forget_local();
                }
            }
            draft.save_when_online();
        } else {
            draft.forget_local();
        }
        draft
    }

    /// Whether the page still shows this draft: async work that outlived it (a save in flight
    /// when the person went to another page) must not touch it.
    pub fn alive(&self) -> bool {
        self.id.try_with_value(|_| ()).is_some()
    }

    pub fn form(&self) -> FormDefinition {
        self.service.with_value(|s| {
            s.form.clone().unwrap_or(FormDefinition {
                on_behalf: vec![],
                pages: vec![],
                rules: vec![],
            })
        })
    }

    pub fn is_draft(&self) -> bool {
        self.status.get() == Status::Draft
    }

    /// The answers with the file fields filled from the complete uploads, as the server sees them.
    pub fn answers_with_files(&self) -> Answers {
        let files: Vec<(String, String)> = self.attachments.with(|a| {
            a.iter()
                .filter(|a| a.complete)
                .map(|a| (a.slot.clone(), a.id.clone()))
                .collect()
        });
        let refs: Vec<(&str, &str)> = files
            .iter()
            .map(|(s, i)| (s.as_str(), i.as_str()))
            .collect();
        self.form().with_files(self.answers.get(), &refs)
    }

    pub fn set_answer(&self, key: &str, answer: Option<Answer>) {
        self.answers.update(|a| match answer {
            Some(v) => {
                a.insert(key.to_string(), v);
            }
            None => {
                a.remove(key);
            }
        });
        self.write_local();
        self.schedule_save();
    }

    fn read_local(&self) -> Option<LocalCopy> {
        let json = storage()?
            .get_item(&storage_key(&self.id.get_value()))
            .ok()??;
        serde_json::from_str(&json).ok()
    }

    fn write_local(&self) {
        let copy = LocalCopy {
            base_version: self.version.get_untracked(),
            answers: self.answers.get_untracked(),
        };
        if let (Some(s), Ok(json)) = (storage(), serde_json::to_string(&copy)) {
            let _ = s.set_item(&storage_key(&self.id.get_value()), &json);
        }
    }

    fn forget_local(&self) {
        if let Some(s) = storage() {
            let _ = s.remove_item(&storage_key(&self.id.get_value()));
        }
    }

    fn schedule_save(&self) {
        let this = *self;
        if let Some(handle) = self.timer.get_value() {
            window().clear_timeout_with_handle(handle);
        }
        let callback = Closure::once_into_js(move || {
            if !this.alive() {
                return;
            }
            this.timer.set_value(None);
            leptos::task::spawn_local(async move { this.save_now().await });
        });
        let handle = window()
            .set_timeout_with_callback_and_timeout_and_arguments_0(callback.unchecked_ref(), 700)
            .ok();
        self.timer.set_value(handle);
    }

    fn save_when_online(&self) {
        let this = *self;
        let on_online = Closure::<dyn Fn()>::new(move || {
            if this.alive()
                && this.read_local().is_some()
                && this.conflict.get_untracked().is_none()
            {
                leptos::task::spawn_local(async move { this.save_now().await });
            }
        });
        let _ =
            window().add_event_listener_with_callback("online", on_online.as_ref().unchecked_ref());
        // The draft lives as long as the page; so does the listener.
        on_online.forget();
    }

    /// The answers the server will accept now: those still being typed (an IIN half entered)
    /// stay in this browser until they are valid. File fields are the server's business.
    fn savable(&self) -> Answers {
        let form = self.form();
        let mut answers = self.answers.get_untracked();
        for field in form.fields() {
            if matches!(field.kind, FieldKind::File { .. }) {
                answers.remove(&field.id);
            }
        }
        for _ in 0..3 {
            match form.validate(&answers, Strictness::Draft, context()) {
                Ok(_) => break,
                Err(issues) => {
                    for issue in issues {
                        let key = issue
                            .field
                            .split(['.', '['])
                            .next()
                            .unwrap_or_default()
                            .to_string();
                        answers.remove(&key);
                    }
                }
            }
        }
        answers
    }

    /// Saves now (after any save in flight). Returns when the server has the answers, or when
    /// it cannot have them for now.
    pub async fn save_now(self) {
        if self.status.get_untracked() != Status::Draft || self.conflict.get_untracked().is_some() {
            return;
        }
        if self.in_flight.get_value() {
            self.again.set_value(true);
            return;
        }
        self.in_flight.set_value(true);
        self.save_state.set(SaveState::Saving);
        let snapshot = self.answers.get_untracked();
        let request = SaveDraft {
            version: self.version.get_untracked(),
            answers: self.savable(),
        };
        let id = self.id.get_value();
        let result = api::save_draft(&id, &request).await;
        if !self.alive() {
            return;
        }
        match result {
            Ok(view) => {
                self.version.set(view.version);
                self.save_state.set(SaveState::Saved(js_sys::Date::now()));
                if self.answers.get_untracked() == snapshot {
                    self.forget_local();
                } else {
                    self.write_local();
                }
            }
            Err(failure) if failure.code() == Some("error.application.conflict") => {
                self.save_state.set(SaveState::Idle);
                if let Ok(server) = api::application(&id).await {
                    self.conflict.try_set(Some(server));
                }
            }
            Err(failure) if failure.code() == Some("error.application.not_draft") => {
                if let Ok(server) = api::application(&id).await {
                    self.status.try_set(server.status);
                    self.submission.try_set(server.submission);
                }
            }
            Err(ApiFailure::Network) => self.save_state.set(SaveState::Offline),
            Err(failure) => self.save_state.set(SaveState::Failed(failure)),
        }
        if !self.alive() {
            return;
        }
        self.in_flight.set_value(false);
        if self.again.get_value() {
            self.again.set_value(false);
            Box::pin(self.save_now()).await;
        }
    }

    /// Waits for pending and in-flight saves (before submitting).
    pub async fn flush(self) {
        if let Some(handle) = self.timer.get_value() {
            window().clear_timeout_with_handle(handle);
            self.timer.set_value(None);
        }
        while self.in_flight.try_get_value() == Some(true) {
            sleep(100).await;
        }
        if !self.alive() {
            return;
        }
        if self.read_local().is_some() {
            self.save_now().await;
        }
    }

    /// Keeps this browser's answers: they become the next version on the server.
    pub fn keep_mine(&self) {
        if let Some(server) = self.conflict.get_untracked() {
            self.version.set(server.version);
            self.conflict.set(None);
            self.write_local();
            let this = *self;
            leptos::task::spawn_local(async move { this.save_now().await });
        }
    }

    /// Takes the server's answers and drops this browser's.
    pub fn take_saved(&self) {
        if let Some(server) = self.conflict.get_untracked() {
            self.answers.set(server.answers);
            self.version.set(server.version);
            self.attachments.set(server.attachments);
            self.forget_local();
            self.conflict.set(None);
        }
    }

    pub fn apply_view(&self, view: ApplicationView) {
        self.version.set(view.version);
        self.status.set(view.status);
        self.attachments.set(view.attachments);
        self.submission.set(view.submission);
        self.scheduled_for.set(view.scheduled_for);
        if view.status != Status::Draft {
            self.forget_local();
        }
    }
}

/// Sleeps `ms` milliseconds without blocking the page.
pub async fn sleep(ms: i32) {
    let promise = js_sys::Promise::new(&mut |resolve, _| {
        let _ = window().set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, ms);
    });
    let _ = wasm_bindgen_futures::JsFuture::from(promise).await;
}
