//! Signing in and creating an account.

use leptos::prelude::*;
use leptos_router::NavigateOptions;
use leptos_router::hooks::{use_navigate, use_query_map};
use portal_domain::accounts::{EdsLoginRequest, LoginRequest, RegisterRequest, Role, SessionInfo};
use portal_domain::eds::KeyPurpose;
use portal_domain::validation::FieldIssue;
use portal_i18n::{Msg, Plural};

use crate::api;
use crate::apply::signing::{Via, ncalayer_problem, open_key_file, out_of_date, sign_with_key};
use crate::components::use_title;
use crate::forms::{ErrorSummary, FormErrors, LanguageChoice, TextField};
use crate::i18n::use_i18n;
use crate::ncalayer::{self, KeyType};
use crate::session::{safe_next, use_session};

/// Where to go after signing in: back where the person was, or their role's home. Officers and
/// administrators work in another app, so they get a full page load.
fn go_home(info: &SessionInfo, next: Option<String>, navigate: impl Fn(&str, NavigateOptions)) {
    let role = info.user.role;
    let next = safe_next(next).filter(|n| (role == Role::Citizen) != n.starts_with("/workspace"));
    let target = next.unwrap_or_else(|| role.home_path().to_string());
    if target.starts_with("/workspace") {
        let _ = window().location().assign(&target);
    } else {
        navigate(
            &target,
            NavigateOptions {
                replace: true,
                ..Default::default()
            },
        );
    }
}

#[component]
pub fn LoginPage() -> impl IntoView {
    let i18n = use_i18n();
    let session = use_session();
    let navigate = use_navigate();
    let query = use_query_map();
    let errors = FormErrors::new("login");
    let iin = RwSignal::new(String::new());
    let password = RwSignal::new(String::new());
    let busy = RwSignal::new(false);
    let retry_minutes = RwSignal::new(None::<u64>);
    let demo =
        LocalResource::new(|| async { api::health().await.map(|h| h.demo).unwrap_or(false) });
    use_title(move || i18n.t(Msg::LoginTitle).to_string());

    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if busy.get_untracked() {
            return;
        }
        retry_minutes.set(None);
        let request = LoginRequest {
            iin: iin.get_untracked(),
            password: password.get_untracked(),
        };
        if let Err(issues) = request.check() {
            errors.show(issues);
            return;
        }
        busy.set(true);
        let navigate = navigate.clone();
        let next = query.get_untracked().get("next");
        leptos::task::spawn_local(async move {
            match api::sign_in(&request).await {
                Ok(info) => {
                    errors.clear();
                    session.start(info.clone());
                    go_home(&info, next, navigate);
                }
                Err(failure) => {
                    if let Some(ApiSeconds(seconds)) = retry_after(&failure) {
                        retry_minutes.set(Some(seconds.div_ceil(60)));
                    }
                    password.set(String::new());
                    errors.show_failure(failure, "iin");
                }
            }
            busy.set(false);
        });
    };
    let notice = move || {
        let q = query.read();
        if q.get("expired").is_some() {
            Some(i18n.t(Msg::LoginExpired))
        } else if q.get("signed_out").is_some() {
            Some(i18n.t(Msg::LoginSignedOut))
        } else {
            None
        }
    };
    view! {
        <div class="narrow">
            <h1>{move || i18n.t(Msg::LoginTitle)}</h1>
            {move || notice().map(|text| view! { <div class="notice" role="status"><p>{text}</p></div> })}
            <ErrorSummary errors=errors/>
            {move || retry_minutes.get().map(|m| view! { <p class="notice notice--error">{i18n.tp(Plural::LoginRetryIn, m)}</p> })}
            <h2 class="heading-m">{move || i18n.t(Msg::LoginPasswordTitle)}</h2>
            <p>{move || i18n.t(Msg::LoginIntro)}</p>
            <form on:submit=submit novalidate=true>
                <TextField errors=errors field="iin" label=Msg::LoginIin hint=Msg::LoginIinHint value=iin
                    inputmode="numeric" autocomplete="username" maxlength=14 narrow=true/>
                <TextField errors=errors field="password" label=Msg::LoginPassword value=password
                    input_type="password" autocomplete="current-password" maxlength=128/>
                <button class="button" type="submit" disabled=move || busy.get()>{move || i18n.t(Msg::LoginSubmit)}</button>
            </form>
            <EdsSignIn errors=errors/>
            <p>{move || i18n.t(Msg::LoginNoAccount)}" "<a href="/register">{move || i18n.t(Msg::LoginRegisterLink)}</a></p>
            <Show when=move || demo.get().unwrap_or(false)>
                <p class="notice">{move || i18n.t(Msg::AppDemoSignins)}</p>
            </Show>
        </div>
    }
}

/// Signing in with the authentication key: a key file opened in the page, or NCALayer. The
/// server's one-time challenge is signed and the certificate names the person.
#[component]
fn EdsSignIn(errors: FormErrors) -> impl IntoView {
    let i18n = use_i18n();
    let session = use_session();
    let navigate = use_navigate();
    let query = use_query_map();
    let file_input = NodeRef::<leptos::html::Input>::new();
    let password = RwSignal::new(String::new());
    let busy = RwSignal::new(None::<Via>);
    let sign_in = move |via: Via| {
        if busy.get_untracked().is_some() {
            return;
        }
        busy.set(Some(via));
        let navigate = navigate.clone();
        let next = query.get_untracked().get("next");
        let file = file_input
            .get_untracked()
            .and_then(|i| i.files())
            .and_then(|f| f.get(0));
        let typed = password.get_untracked();
        leptos::task::spawn_local(async move {
            let outcome = eds_sign_in(via, file, &typed, i18n.lang_untracked()).await;
            if busy.try_set(None).is_some() {
                return;
            }
            password.set(String::new());
            match outcome {
                Ok(info) => {
                    errors.clear();
                    session.start(info.clone());
                    go_home(&info, next, navigate);
                }
                Err(EdsFailure::Problem(problem)) => errors.show(vec![problem]),
                Err(EdsFailure::Api(failure)) => errors.show_failure(failure, "signature"),
            }
        });
    };
    let sign_in_with_file = sign_in.clone();
    let problem = move || {
        errors.fields.with(|f| {
            f.iter()
                .find(|i| i.field == "signature")
                .map(|i| i.message(i18n.lang()))
        })
    };
    view! {
        <h2 class="heading-m">{move || i18n.t(Msg::LoginEdsTitle)}</h2>
        <div class=move || if problem().is_some() { "form-group form-group--error" } else { "form-group" } id=errors.id("signature") tabindex="-1">
            <p class="hint">{move || i18n.t(Msg::LoginEdsIntro)}</p>
            {move || problem().map(|text| view! { <p class="error-message">{text}</p> })}
            <div class="form-group">
                <label class="label" for="login-key-file">{move || i18n.t(Msg::LoginEdsFile)}</label>
                <p class="hint" id="login-key-file-hint">{move || i18n.t(Msg::LoginEdsFileHint)}</p>
                <input type="file" id="login-key-file" class="file-input" accept=".p12,.pfx,application/x-pkcs12"
                    aria-describedby="login-key-file-hint" node_ref=file_input/>
            </div>
            <div class="form-group">
                <label class="label" for="login-key-password">{move || i18n.t(Msg::SignPasswordLabel)}</label>
                <input type="password" id="login-key-password" class="input input--w20" autocomplete="off"
                    prop:value=move || password.get() on:input=move |ev| password.set(event_target_value(&ev))/>
            </div>
            <div class="button-group">
                <button type="button" class="button" disabled=move || busy.get().is_some() on:click=move |_| sign_in_with_file(Via::KeyFile)>
                    {move || i18n.t(if busy.get() == Some(Via::KeyFile) { Msg::LoginEdsWorking } else { Msg::LoginEdsSubmit })}
                </button>
                <button type="button" class="button button--secondary" disabled=move || busy.get().is_some() on:click=move |_| sign_in(Via::NcaLayer)>
                    {move || i18n.t(if busy.get() == Some(Via::NcaLayer) { Msg::SignNcalayerWaiting } else { Msg::LoginEdsNcalayer })}
                </button>
            </div>
        </div>
    }
}

enum EdsFailure {
    Problem(FieldIssue),
    Api(api::ApiFailure),
}

async fn eds_sign_in(
    via: Via,
    file: Option<web_sys::File>,
    password: &str,
    lang: portal_i18n::Lang,
) -> Result<SessionInfo, EdsFailure> {
    let not_authentication =
        || EdsFailure::Problem(FieldIssue::new("signature", Msg::ErrorEdsNotAuthentication));
    let key = match via {
        Via::KeyFile => {
            let key = open_key_file(file, password)
                .await
                .map_err(EdsFailure::Problem)?;
            if key.summary().purpose != KeyPurpose::Authentication {
                return Err(not_authentication());
            }
            if let Some(problem) = out_of_date(key.summary()) {
                return Err(EdsFailure::Problem(problem));
            }
            Some(key)
        }
        Via::NcaLayer => None,
    };
    let challenge = api::eds_login_challenge().await.map_err(EdsFailure::Api)?;
    let signature = match key {
        Some(key) => sign_with_key(&key, &challenge.document).ok_or(EdsFailure::Problem(
            FieldIssue::new("signature", Msg::SignNotAKeyFile),
        ))?,
        None => {
            let cms = ncalayer::sign(
                challenge.document.as_bytes(),
                None,
                KeyType::Authentication,
                lang,
            )
            .await
            .map_err(|e| EdsFailure::Problem(ncalayer_problem(e)))?;
            match portal_domain::eds::signer_of(&cms) {
                Some(s) if s.purpose == KeyPurpose::Authentication => {}
                _ => return Err(not_authentication()),
            }
            base64::Engine::encode(&base64::engine::general_purpose::STANDARD, cms)
        }
    };
    api::sign_in_with_eds(&EdsLoginRequest {
        nonce: challenge.nonce,
        signature,
    })
    .await
    .map_err(EdsFailure::Api)
}

struct ApiSeconds(u64);

fn retry_after(failure: &api::ApiFailure) -> Option<ApiSeconds> {
    match failure {
        api::ApiFailure::Server {
            status: 429,
            body: Some(body),
        } => body.retry_after_seconds.map(|s| ApiSeconds(u64::from(s))),
        _ => None,
    }
}

#[component]
pub fn RegisterPage() -> impl IntoView {
    let i18n = use_i18n();
    let session = use_session();
    let navigate = use_navigate();
    let errors = FormErrors::new("register");
    let iin = RwSignal::new(String::new());
    let last_name = RwSignal::new(String::new());
    let first_name = RwSignal::new(String::new());
    let middle_name = RwSignal::new(String::new());
    let email = RwSignal::new(String::new());
    let phone = RwSignal::new(String::new());
    let language = RwSignal::new(i18n.lang_untracked());
    let password = RwSignal::new(String::new());
    let confirm = RwSignal::new(String::new());
    let busy = RwSignal::new(false);
    use_title(move || i18n.t(Msg::RegisterTitle).to_string());

    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if busy.get_untracked() {
            return;
        }
        let request = RegisterRequest {
            iin: iin.get_untracked(),
            password: password.get_untracked(),
            last_name: last_name.get_untracked(),
            first_name: first_name.get_untracked(),
            middle_name: middle_name.get_untracked(),
            email: email.get_untracked(),
            phone: phone.get_untracked(),
            preferred_lang: language.get_untracked(),
        };
        let mut issues = request.parse().err().unwrap_or_default();
        if !request.password.is_empty() && request.password != confirm.get_untracked() {
            issues.push(FieldIssue::new(
                "password_confirm",
                Msg::ErrorPasswordMismatch,
            ));
        }
        if !issues.is_empty() {
            errors.show(issues);
            return;
        }
        busy.set(true);
        let navigate = navigate.clone();
        leptos::task::spawn_local(async move {
            match api::register(&request).await {
                Ok(info) => {
                    errors.clear();
                    i18n.set(request.preferred_lang);
                    session.start(info.clone());
                    go_home(&info, None, navigate);
                }
                Err(failure) => errors.show_failure(failure, "iin"),
            }
            busy.set(false);
        });
    };
    view! {
        <div class="narrow">
            <h1>{move || i18n.t(Msg::RegisterTitle)}</h1>
            <ErrorSummary errors=errors/>
            <p>{move || i18n.t(Msg::RegisterIntro)}</p>
            <form on:submit=submit novalidate=true>
                <TextField errors=errors field="iin" label=Msg::LoginIin hint=Msg::LoginIinHint value=iin
                    inputmode="numeric" autocomplete="username" maxlength=14 narrow=true/>
                <TextField errors=errors field="last_name" label=Msg::RegisterLastName value=last_name autocomplete="family-name" maxlength=100/>
                <TextField errors=errors field="first_name" label=Msg::RegisterFirstName value=first_name autocomplete="given-name" maxlength=100/>
                <TextField errors=errors field="middle_name" label=Msg::RegisterMiddleName value=middle_name autocomplete="additional-name" maxlength=100/>
                <fieldset class="fieldset">
                    <legend class="label label--large">{move || i18n.t(Msg::RegisterContacts)}</legend>
                    <p class="hint">{move || i18n.t(Msg::RegisterContactsHint)}</p>
                    <TextField errors=errors field="email" label=Msg::RegisterEmail value=email input_type="email" autocomplete="email" maxlength=254/>
                    <TextField errors=errors field="phone" label=Msg::RegisterPhone hint=Msg::RegisterPhoneHint value=phone
                        input_type="tel" autocomplete="tel" maxlength=20 narrow=true/>
                </fieldset>
                <LanguageChoice errors=errors field="preferred_lang" legend=Msg::RegisterLanguage value=language/>
                <TextField errors=errors field="password" label=Msg::RegisterPassword hint=Msg::RegisterPasswordHint value=password
                    input_type="password" autocomplete="new-password" maxlength=128/>
                <TextField errors=errors field="password_confirm" label=Msg::RegisterPasswordConfirm value=confirm
                    input_type="password" autocomplete="new-password" maxlength=128/>
                <button class="button" type="submit" disabled=move || busy.get()>{move || i18n.t(Msg::RegisterSubmit)}</button>
            </form>
            <p>{move || i18n.t(Msg::RegisterHaveAccount)}" "<a href="/login">{move || i18n.t(Msg::RegisterSignInLink)}</a></p>
        </div>
    }
}
