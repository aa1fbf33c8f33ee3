//! Signing through NCALayer, the national CA's desktop app, for people who keep their key on a
//! token or prefer it: NCALayer listens on `wss://127.0.0.1:13579`, shows its own key chooser
//! and password prompt, and answers with a detached CMS.
//!
//! The request goes to the `kz.gov.pki.knca.basics` module (`sign`, CMS, detached, the
//! signer's IIN as a filter); an NCALayer without that module gets the older
//! `kz.gov.pki.knca.commonUtils` `createCAdESFromBase64`. Heartbeat frames are ignored. The
//! caller checks the returned signature's certificate before sending it anywhere.

use std::cell::RefCell;
use std::rc::Rc;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use js_sys::{Function, Promise};
use portal_i18n::Lang;
use serde_json::{Value, json};
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;
use web_sys::{MessageEvent, WebSocket};

pub const URL: &str = "wss://127.0.0.1:13579";
/// NCALayer waits for the person to pick a key and type its password; after this long without
/// an answer it is taken to be stuck.
const TIMEOUT_MS: i32 = 120_000;
const HEARTBEAT: &str = "--heartbeat--";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeyType {
    Signing,
    Authentication,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum NcaError {
    /// Nothing listens on NCALayer's address.
    NotRunning,
    /// The person closed NCALayer's dialog.
    Cancelled,
    TimedOut,
    /// NCALayer answered with an error.
    Failed(String),
}

/// What one frame from NCALayer means.
#[derive(Debug, PartialEq, Eq)]
pub enum Reply {
    /// Heartbeats and the version greeting.
    Ignore,
    Signed(String),
    Cancelled,
    /// The basics module is missing or refused: try commonUtils.
    BasicsFailed(String),
    Failed(String),
}

pub fn read(frame: &str) -> Reply {
    if frame == HEARTBEAT {
        return Reply::Ignore;
    }
    let Ok(value) = serde_json::from_str::<Value>(frame) else {
        return Reply::Failed(frame.chars().take(200).collect());
    };
    if value.pointer("/result/version").is_some() {
        return Reply::Ignore;
    }
    // kz.gov.pki.knca.basics: {"status": true, "body": {"result": [cms]}}; an empty body is a cancel.
    if let Some(status) = value.get("status").and_then(Value::as_bool) {
        if !status {
            let details = value
                .get("details")
                .or(value.get("code"))
                .map(text)
                .unwrap_or_default();
            return Reply::BasicsFailed(details);
        }
        return match value.pointer("/body/result") {
            Some(Value::Array(items)) => items
                .first()
                .and_then(Value::as_str)
                .map_or(Reply::Cancelled, |s| Reply::Signed(s.to_string())),
            Some(Value::String(s)) => Reply::Signed(s.clone()),
            _ => Reply::Cancelled,
        };
    }
    // kz.gov.pki.knca.commonUtils: {"code": "200", "responseObject": cms}.
    match value.get("code").map(text).as_deref() {
        Some("200") => value
            .get("responseObject")
            .and_then(Value::as_str)
            .map_or(Reply::Cancelled, |s| Reply::Signed(s.to_string())),
        Some(_) => {
            let message = value.get("message").map(text).unwrap_or_default();
            if message == "action.canceled" {
                Reply::Cancelled
            } else {
                Reply::Failed(message)
            }
        }
        None => Reply::Ignore,
    }
}

fn text(value: &Value) -> String {
    value
        .as_str()
        .map_or_else(|| value.to_string(), str::to_string)
}

pub fn basics_request(data: &str, iin: Option<&str>, key: KeyType, lang: Lang) -> String {
    // NCALayer's extended key usages: emailProtection marks signing keys, clientAuth authentication ones.
    let usage = match key {
        KeyType::Signing => "1.3.6.1.5.5.7.3.4",
        KeyType::Authentication => "1.3.6.1.5.5.7.3.2",
    };
    let mut signer = json!({ "extKeyUsageOids": [usage] });
    if let Some(iin) = iin {
        signer["iin"] = json!(iin);
    }
    json!({
        "module": "kz.gov.pki.knca.basics",
        "method": "sign",
        "args": {
            "allowedStorages": ["PKCS12", "AKKaztokenStore", "AKKZIDCardStore"],
            "format": "cms",
            "data": data,
            "signingParams": { "decode": true, "encapsulate": false, "digested": false },
            "signerParams": signer,
            "locale": lang.code(),
        }
    })
    .to_string()
}

pub fn common_utils_request(data: &str, key: KeyType) -> String {
    let key = match key {
        KeyType::Signing => "SIGNATURE",
        KeyType::Authentication => "AUTHENTICATION",
    };
    json!({ "module": "kz.gov.pki.knca.commonUtils", "method": "createCAdESFromBase64", "args": ["PKCS12", key, data, false] }).to_string()
}

/// Signs `data` through NCALayer: the detached CMS (DER).
pub async fn sign(
    data: &[u8],
    iin: Option<&str>,
    key: KeyType,
    lang: Lang,
) -> Result<Vec<u8>, NcaError> {
    let data = BASE64.encode(data);
    let Ok(socket) = WebSocket::new(URL) else {
        return Err(NcaError::NotRunning);
    };
    // The handlers live until the answer; they are dropped (and detached) below.
    let handlers: Rc<RefCell<Vec<Closure<dyn FnMut(JsValue)>>>> = Rc::default();
    let opened = Rc::new(RefCell::new(false));
    let basics = basics_request(&data, iin, key, lang);
    let fallback = common_utils_request(&data, key);
    let timer = Rc::new(RefCell::new(None::<i32>));
    let promise = Promise::new(&mut |resolve: Function, reject: Function| {
        let settle = {
            let (resolve, reject) = (resolve.clone(), reject.clone());
            Rc::new(move |outcome: Result<String, &str>| {
                let _ = match outcome {
                    Ok(cms) => resolve.call1(&JsValue::NULL, &JsValue::from_str(&cms)),
                    Err(code) => reject.call1(&JsValue::NULL, &JsValue::from_str(code)),
                };
            })
        };
        let on_open = {
            let (socket, opened, basics) = (socket.clone(), opened.clone(), basics.clone());
            Closure::<dyn FnMut(JsValue)>::new(move |_| {
                *opened.borrow_mut() = true;
                let _ = socket.send_with_str(&basics);
            })
        };
        let on_message = {
            let (socket, settle, fallback) = (socket.clone(), settle.clone(), fallback.clone());
            let mut tried_fallback = false;
            Closure::<dyn FnMut(JsValue)>::new(move |event: JsValue| {
                let Some(frame) = event
                    .dyn_ref::<MessageEvent>()
                    .and_then(|m| m.data().as_string())
                else {
                    return;
                };
                match read(&frame) {
                    Reply::Ignore => {}
                    Reply::Signed(cms) => settle(Ok(cms)),
                    Reply::Cancelled => settle(Err("cancelled")),
                    Reply::BasicsFailed(_) if !tried_fallback => {
                        tried_fallback = true;
                        let _ = socket.send_with_str(&fallback);
                    }
                    Reply::BasicsFailed(details) | Reply::Failed(details) => {
                        FAILURE.with(|f| *f.borrow_mut() = details);
                        settle(Err("failed"));
                    }
                }
            })
        };
        let on_close = {
            let (settle, opened) = (settle.clone(), opened.clone());
            Closure::<dyn FnMut(JsValue)>::new(move |_| {
                settle(Err(if *opened.borrow() {
                    "closed"
                } else {
                    "not_running"
                }))
            })
        };
        let on_timeout = {
            let settle = settle.clone();
            Closure::<dyn FnMut(JsValue)>::new(move |_| settle(Err("timeout")))
        };
        socket.set_onopen(Some(on_open.as_ref().unchecked_ref()));
        socket.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
        // An error is followed by a close; the close decides.
        socket.set_onclose(Some(on_close.as_ref().unchecked_ref()));
        *timer.borrow_mut() = web_sys::window().and_then(|w| {
            w.set_timeout_with_callback_and_timeout_and_arguments_0(
                on_timeout.as_ref().unchecked_ref(),
                TIMEOUT_MS,
            )
            .ok()
        });
        handlers
            .borrow_mut()
            .extend([on_open, on_message, on_close]);
        // Kept alive even after the answer: a timer that could not be cleared then fires
        // harmlessly (settling a settled promise does nothing).
        on_timeout.forget();
    });
    let outcome = JsFuture::from(promise).await;
    socket.set_onopen(None);
    socket.set_onmessage(None);
    socket.set_onclose(None);
    if let (Some(window), Some(id)) = (web_sys::window(), timer.borrow_mut().take()) {
        window.clear_timeout_with_handle(id);
    }
    let _ = socket.close();
    drop(handlers);
    match outcome {
        Ok(cms) => {
            let cms = cms.as_string().unwrap_or_default();
            BASE64
                .decode(cms.split_whitespace().collect::<String>())
                .map_err(|_| NcaError::Failed("not base64".into()))
        }
        Err(code) => Err(match code.as_string().as_deref() {
            Some("cancelled") => NcaError::Cancelled,
            Some("timeout") => NcaError::TimedOut,
            Some("not_running") => NcaError::NotRunning,
            Some("closed") => NcaError::Failed("NCALayer closed the connection".into()),
            _ => NcaError::Failed(FAILURE.with(|f| f.take())),
        }),
    }
}

thread_local! {
    /// The details of the last NCALayer error (a promise rejects with a code only).
    static FAILURE: RefCell<String> = const { RefCell::new(String::new()) };
}
