//! Signing with the person's EDS key file, in the browser: the `.p12` file is opened with its
//! password here and the key never leaves the page (not sent, not stored). Whose certificate it
//! is, and until when it is valid, is shown before anything is signed; a wrong password, an
//! expired or not-yet-valid certificate, an authentication key or someone else's certificate is
//! explained before anything is sent.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use js_sys::Uint8Array;
use leptos::prelude::*;
use portal_domain::date::Date;
use portal_domain::eds::{CertificateSummary, KeyFile, KeyFileError, KeyPurpose};
use portal_domain::validation::FieldIssue;
use portal_i18n::Msg;
use wasm_bindgen_futures::JsFuture;

use crate::api;
use crate::forms::FormErrors;
use crate::i18n::use_i18n;
use crate::ncalayer::{self, KeyType, NcaError};

/// Key files are a few kilobytes; anything much larger is not one.
const MAX_KEY_FILE_BYTES: f64 = 64.0 * 1024.0;

/// The opened key, shared by the check page's "Sign and send".
#[derive(Clone, Copy)]
pub struct Signer {
    key: StoredValue<Option<KeyFile>, LocalStorage>,
    pub certificate: RwSignal<Option<CertificateSummary>>,
}

impl Signer {
    pub fn new() -> Signer {
        Signer {
            key: StoredValue::new_local(None),
            certificate: RwSignal::new(None),
        }
    }

    /// Signs `document` (its UTF-8 bytes) with the opened key: a detached CMS, base64.
    pub fn sign(&self, document: &str) -> Option<String> {
        self.key
            .with_value(|k| k.as_ref().and_then(|k| sign_with_key(k, document)))
    }

    pub fn is_open(&self) -> bool {
        self.key.with_value(Option::is_some)
    }

    fn forget(&self) {
        self.key.set_value(None);
        self.certificate.set(None);
    }
}

/// How the person signs: with a key file opened in the page, or through NCALayer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Via {
    KeyFile,
    NcaLayer,
}

/// Signs `document` through NCALayer for `iin`: the base64 signature, or what to tell the person.
/// A signature by a key that cannot sign for `iin` is explained here, before anything is sent.
pub async fn sign_with_ncalayer(
    document: &str,
    iin: &str,
    lang: portal_i18n::Lang,
) -> Result<String, FieldIssue> {
    let issue = |msg| FieldIssue::new("signature", msg);
    let cms = ncalayer::sign(document.as_bytes(), Some(iin), KeyType::Signing, lang)
        .await
        .map_err(ncalayer_problem)?;
    let signer = portal_domain::eds::signer_of(&cms)
        .ok_or_else(|| issue(Msg::SignNcalayerFailed).arg("details", "not a CMS signature"))?;
    if let Some(problem) = unusable(&signer, iin) {
        return Err(issue(Msg::SignNcalayerWrongKey).arg("reason", problem.message(lang)));
    }
    Ok(BASE64.encode(cms))
}

/// What to tell the person when NCALayer did not sign.
pub fn ncalayer_problem(error: NcaError) -> FieldIssue {
    let issue = |msg| FieldIssue::new("signature", msg);
    match error {
        NcaError::NotRunning => issue(Msg::SignNcalayerNotRunning),
        NcaError::Cancelled => issue(Msg::SignNcalayerCancelled),
        NcaError::TimedOut => issue(Msg::SignNcalayerTimeout),
        NcaError::Failed(details) => issue(Msg::SignNcalayerFailed)
            .arg("details", details.chars().take(300).collect::<String>()),
    }
}

/// A detached CMS over `document`'s UTF-8 bytes, base64.
pub fn sign_with_key(key: &KeyFile, document: &str) -> Option<String> {
    let now = (js_sys::Date::now() / 1000.0) as i64;
    timed("eds:sign", || key.sign_detached(document.as_bytes(), now))
        .ok()
        .map(|der| BASE64.encode(der))
}

/// Runs `work` between two `performance` marks and records the span as a `measure` named
/// `name`: what the signing benchmark reads (and any real-user monitoring could).
fn timed<T>(name: &str, work: impl FnOnce() -> T) -> T {
    let performance = web_sys::window().and_then(|w| w.performance());
    let start = format!("{name}:start");
    if let Some(p) = &performance {
        let _ = p.mark(&start);
    }
    let out = work();
    if let Some(p) = &performance {
        let _ = p.measure_with_start_mark(name, &start);
    }
    out
}

/// Why the opened certificate cannot sign for `iin` now, if it cannot.
pub fn unusable(summary: &CertificateSummary, iin: &str) -> Option<FieldIssue> {
    if summary.purpose != KeyPurpose::Signing {
        return Some(FieldIssue::new("signature", Msg::SignNotSigning));
    }
    if let Some(problem) = out_of_date(summary) {
        return Some(problem);
    }
    if summary.iin.as_deref() != Some(iin) {
        let issue = FieldIssue::new("signature", Msg::SignOtherIin);
        return Some(
            issue
                .arg("holder", summary.holder.clone())
                .arg("iin", summary.iin.clone().unwrap_or_default()),
        );
    }
    None
}

/// Why the certificate cannot be used today, if it cannot: expired or not yet valid.
pub fn out_of_date(summary: &CertificateSummary) -> Option<FieldIssue> {
    let now = (js_sys::Date::now() / 1000.0) as i64;
    let issue = |msg| FieldIssue::new("signature", msg);
    if now > summary.not_after {
        return Some(issue(Msg::SignExpired).arg("until", day(summary.not_after)));
    }
    if now < summary.not_before {
        return Some(issue(Msg::SignNotYetValid).arg("from", day(summary.not_before)));
    }
    None
}

fn day(unix_seconds: i64) -> String {
    let d = Date::from_days_since_epoch(unix_seconds.div_euclid(86_400) as i32);
    format!("{:02}.{:02}.{}", d.day(), d.month(), d.year())
}

/// Opens the key file picked in `file` with `password`, or says why it cannot be opened.
pub async fn open_key_file(
    file: Option<web_sys::File>,
    password: &str,
) -> Result<KeyFile, FieldIssue> {
    let issue = |msg| FieldIssue::new("signature", msg);
    let file = file.ok_or(issue(Msg::SignChooseFile))?;
    if password.is_empty() {
        return Err(issue(Msg::SignEnterPassword));
    }
    if file.size() > MAX_KEY_FILE_BYTES {
        return Err(issue(Msg::SignTooLarge));
    }
    let buffer = JsFuture::from(file.array_buffer())
        .await
        .map_err(|_| issue(Msg::SignNotAKeyFile))?;
    let bytes = Uint8Array::new(&buffer).to_vec();
    timed("eds:open-key", || KeyFile::open(&bytes, password)).map_err(|e| {
        issue(match e {
            KeyFileError::WrongPassword => Msg::SignWrongPassword,
            KeyFileError::UnsupportedKey => Msg::SignUnsupportedKey,
            KeyFileError::NotAKeyFile | KeyFileError::NoKey => Msg::SignNotAKeyFile,
        })
    })
}

/// The key file, its password, "Open the key", and what the certificate says.
#[component]
pub fn KeyFilePicker(signer: Signer, errors: FormErrors, application_id: String) -> impl IntoView {
    let i18n = use_i18n();
    let file_input = NodeRef::<leptos::html::Input>::new();
    let password = RwSignal::new(String::new());
    let opening = RwSignal::new(false);
    let application_id = StoredValue::new(application_id);
    let open = move |_| {
        if opening.get_untracked() {
            return;
        }
        let file = file_input
            .get_untracked()
            .and_then(|i| i.files())
            .and_then(|f| f.get(0));
        opening.set(true);
        leptos::task::spawn_local(async move {
            let opened = open_key_file(file, &password.get_untracked()).await;
            // The person's full IIN comes from the server with the document to sign.
            let challenge = match &opened {
                Ok(_) => Some(api::signing_challenge(&application_id.get_value()).await),
                Err(_) => None,
            };
            // `try_set` hands the value back when the page has gone meanwhile.
            if opening.try_set(false).is_some() {
                return;
            }
            // The password is not kept once it has opened the key (or failed to).
            password.set(String::new());
            let key = match opened {
                Ok(key) => key,
                Err(problem) => {
                    signer.forget();
                    return errors.show(vec![problem]);
                }
            };
            let summary = key.summary().clone();
            signer.certificate.set(Some(summary.clone()));
            match challenge {
                Some(Ok(c)) => match unusable(&summary, &c.signer_iin) {
                    Some(problem) => {
                        signer.key.set_value(None);
                        errors.show(vec![problem]);
                    }
                    None => {
                        signer.key.set_value(Some(key));
                        errors.clear();
                    }
                },
                Some(Err(failure)) => {
                    signer.key.set_value(None);
                    errors.show_failure(failure, "signature");
                }
                None => {}
            }
        });
    };
    let field_id = errors.id("signature");
    let problem = move || {
        errors.fields.with(|f| {
            f.iter()
                .find(|i| i.field == "signature")
                .map(|i| i.message(i18n.lang()))
        })
    };
    view! {
        <fieldset class=move || if problem().is_some() { "fieldset form-group form-group--error" } else { "fieldset form-group" } id=field_id tabindex="-1">
            <legend class="label label--m">{move || i18n.t(Msg::SignTitle)}</legend>
            <p class="hint">{move || i18n.t(Msg::SignIntro)}</p>
            {move || problem().map(|text| view! { <p class="error-message">{text}</p> })}
            <div class="form-group">
                <label class="label" for="sign-key-file">{move || i18n.t(Msg::SignFileLabel)}</label>
                <p class="hint" id="sign-key-file-hint">{move || i18n.t(Msg::SignFileHint)}</p>
                <input type="file" id="sign-key-file" class="file-input" accept=".p12,.pfx,application/x-pkcs12"
                    aria-describedby="sign-key-file-hint" node_ref=file_input on:change=move |_| signer.forget()/>
            </div>
            <div class="form-group">
                <label class="label" for="sign-key-password">{move || i18n.t(Msg::SignPasswordLabel)}</label>
                <input type="password" id="sign-key-password" class="input input--w20" autocomplete="off"
                    prop:value=move || password.get() on:input=move |ev| password.set(event_target_value(&ev))/>
            </div>
            <button type="button" class="button button--secondary" on:click=open disabled=move || opening.get()>
                {move || i18n.t(if opening.get() { Msg::SignOpening } else { Msg::SignOpen })}
            </button>
            {move || signer.certificate.get().map(|c| {
                let text = portal_i18n::tf(i18n.lang(), Msg::SignCertificate, &[
                    ("holder", &c.holder),
                    ("iin", c.iin.as_deref().unwrap_or("—")),
                    ("until", &day(c.not_after)),
                ]);
                view! { <p class="inset-text" role="status">{text}</p> }
            })}
        </fieldset>
    }
}
