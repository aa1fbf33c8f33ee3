//! Attaching copies of documents: photos are made smaller and legible, several photos can be
//! combined into one PDF, uploads show their progress and resume after a dropped connection.

use js_sys::{Promise, Uint8Array};
use leptos::prelude::*;
use portal_domain::api::ErrorBody;
use portal_domain::application::{AttachmentView, NewAttachment};
use portal_domain::pdf::{JpegPage, jpegs_to_pdf};
use portal_i18n::Msg;
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;
use web_sys::{
    Blob, BlobPropertyBag, CanvasRenderingContext2d, File, HtmlCanvasElement, HtmlInputElement,
    ImageBitmap, XmlHttpRequest,
};

use super::draft::{Draft, sleep};
use crate::api::{self, ApiFailure};
use crate::i18n::use_i18n;

/// Bytes per upload request: small enough to resume cheaply, large enough to be fast.
const CHUNK: f64 = 1024.0 * 1024.0;
/// The longer side of a photo after downscaling: a page stays legible at about 170 dpi.
const MAX_SIDE: f64 = 2000.0;
const JPEG_QUALITY: f64 = 0.82;

#[derive(Clone, Debug, PartialEq)]
enum UploadState {
    Preparing,
    Uploading,
    Paused,
    Failed(String),
}

#[derive(Clone, Debug, PartialEq)]
struct Upload {
    key: u32,
    name: String,
    sent: f64,
    size: f64,
    state: UploadState,
}

/// The uploads of one slot, for the file field's view.
#[derive(Clone, Copy)]
pub struct SlotUploads {
    list: RwSignal<Vec<Upload>>,
    next: StoredValue<u32>,
}

fn human_size(bytes: f64) -> String {
    if bytes >= 1024.0 * 1024.0 {
        format!("{:.1} MB", bytes / 1024.0 / 1024.0)
    } else {
        format!("{} KB", (bytes / 1024.0).ceil())
    }
}

/// The file slot: what is attached, what is uploading, and the picker.
#[component]
pub fn FileSlot(
    draft: Draft,
    /// The document's id (the upload slot).
    document: String,
    /// The element id of the picker (error summary links point here).
    input_id: String,
    label: String,
    hint: Option<String>,
    max_files: u32,
    #[prop(into)] error: Signal<Option<String>>,
    required: bool,
) -> impl IntoView {
    let i18n = use_i18n();
    let uploads = SlotUploads {
        list: RwSignal::new(Vec::new()),
        next: StoredValue::new(0),
    };
    let combine = RwSignal::new(false);
    let slot = StoredValue::new(document);
    let attached = move || {
        draft.attachments.with(|a| {
            a.iter()
                .filter(|a| slot.with_value(|s| &a.slot == s))
                .cloned()
                .collect::<Vec<_>>()
        })
    };
    let full = move || attached().len() as u32 >= max_files;
    let limits = draft.limits.get_value();
    let limits_text = move || {
        i18n.tf(
            Msg::ApplyFileLimits,
            &[
                ("file", &human_size(limits.max_file_bytes as f64)),
                ("total", &human_size(limits.max_application_bytes as f64)),
            ],
        )
    };
    let hint_id = format!("{input_id}-hint");
    let error_id = format!("{input_id}-error");
    let on_change = move |ev: web_sys::Event| {
        let Some(input) = ev
            .target()
            .and_then(|t| t.dyn_into::<HtmlInputElement>().ok())
        else {
            return;
        };
        let Some(list) = input.files() else { return };
        let files: Vec<File> = (0..list.length()).filter_map(|i| list.get(i)).collect();
        input.set_value("");
        let slot = slot.get_value();
        let combine = combine.get_untracked();
        leptos::task::spawn_local(async move {
            prepare_and_upload(draft, uploads, slot, files, combine).await
        });
    };
    view! {
        <div class="form-group" class:form-group--error=move || error.get().is_some()>
            <label class="label" for=input_id.clone()>
                {label}
                {(!required).then(|| view! { " " <span class="optional">{move || i18n.t(Msg::ApplyOptional)}</span> })}
            </label>
            <div class="hint" id=hint_id.clone()>
                {hint.map(|h| view! { <p>{h}</p> })}
                <p>{limits_text}</p>
                <p>{move || i18n.t(Msg::ApplyPhotoHint)}</p>
            </div>
            {move || error.get().map(|text| view! {
                <p class="error-message" id=error_id.clone()><span class="visually-hidden">{i18n.t(Msg::ErrorSummaryTitle)}": "</span>{text}</p>
            })}
            <ul class="file-list" aria-label=move || i18n.t(Msg::ApplyFilesAttached)>
                {move || attached().into_iter().map(|a| view! { <AttachedFile draft=draft attachment=a/> }).collect_view()}
                {move || uploads.list.get().into_iter().map(|u| view! { <UploadRow upload=u/> }).collect_view()}
            </ul>
            <Show when=move || draft.is_draft() && !full()>
                <input
                    type="file"
                    class="file-input"
                    id=input_id.clone()
                    accept="application/pdf,image/jpeg,image/png,image/*"
                    multiple={max_files > 1}
                    aria-describedby=hint_id.clone()
                    on:change=on_change
                />
                {(1 < max_files).then(|| {
                    let combine_id = format!("{input_id}-combine");
                    view! {
                        <div class="checkbox checkbox--small">
                            <input type="checkbox" id=combine_id.clone() prop:checked=move || combine.get()
                                on:change=move |ev| combine.set(event_target_checked(&ev))/>
                            <label for=combine_id>{move || i18n.t(Msg::ApplyCombinePhotos)}</label>
                        </div>
                    }
                })}
            </Show>
        </div>
    }
}

#[component]
fn AttachedFile(draft: Draft, attachment: AttachmentView) -> impl IntoView {
    let i18n = use_i18n();
    let id = attachment.id.clone();
    let name = attachment.file_name.clone();
    let href = api::attachment_content_url(&draft.id.get_value(), &attachment.id);
    let remove = move |_| {
        let id = id.clone();
        leptos::task::spawn_local(async move {
            if api::delete_attachment(&draft.id.get_value(), &id)
                .await
                .is_ok()
            {
                draft
                    .attachments
                    .try_update(|list| list.retain(|a| a.id != id));
            }
        });
    };
    let remove_label = {
        let name = name.clone();
        move || i18n.tf(Msg::ApplyRemoveFile, &[("name", &name)])
    };
    view! {
        <li class="file-list__item">
            {if attachment.complete {
                view! { <a href=href download=name.clone()>{name.clone()}</a> }.into_any()
            } else {
                view! { <span>{name.clone()}</span> }.into_any()
            }}
            " "<span class="file-list__size">{human_size(attachment.size as f64)}</span>
            {(!attachment.complete).then(|| view! { <p class="error-message">{move || i18n.t(Msg::ApplyUploadIncomplete)}</p> })}
            <Show when=move || draft.is_draft()>
                " "<button type="button" class="button button--link" on:click=remove.clone()>{remove_label.clone()}</button>
            </Show>
        </li>
    }
}

#[component]
fn UploadRow(upload: Upload) -> impl IntoView {
    let i18n = use_i18n();
    let Upload {
        name,
        sent,
        size,
        state,
        ..
    } = upload;
    let percent = if size > 0.0 {
        (sent / size * 100.0).round()
    } else {
        0.0
    };
    let label = {
        let name = name.clone();
        move || i18n.tf(Msg::ApplyUploading, &[("name", &name)])
    };
    view! {
        <li class="file-list__item file-list__item--uploading">
            {match state {
                UploadState::Failed(reason) => view! {
                    <p class="error-message" role="alert">{i18n.tf(Msg::ApplyUploadFailed, &[("name", &name), ("reason", &reason)])}</p>
                }.into_any(),
                other => view! {
                    <label>
                        {label}
                        <progress max="100" value=percent.to_string()>{format!("{percent}%")}</progress>
                    </label>
                    {(other == UploadState::Paused).then(|| view! { <p class="hint" role="status">{move || i18n.t(Msg::ApplyUploadPaused)}</p> })}
                }.into_any(),
            }}
        </li>
    }
}

fn is_image(file: &File) -> bool {
    file.type_().starts_with("image/")
}

async fn prepare_and_upload(
    draft: Draft,
    uploads: SlotUploads,
    slot: String,
    files: Vec<File>,
    combine: bool,
) {
    let images: Vec<&File> = files.iter().filter(|f| is_image(f)).collect();
    if combine && !images.is_empty() {
        let key = start(uploads, images[0].name(), 0.0);
        let mut pages = Vec::new();
        for file in &images {
            match to_jpeg(file).await {
                Ok(page) => pages.push(page),
                Err(()) => return fail(uploads, key, Msg::ErrorUploadImage),
            }
        }
        let refs: Vec<JpegPage> = pages
            .iter()
            .map(|(w, h, bytes)| JpegPage {
                width: *w,
                height: *h,
                jpeg: bytes,
            })
            .collect();
        let pdf = jpegs_to_pdf(&refs);
        let name = format!("{}.pdf", base_name(&images[0].name()));
        let Ok(blob) = bytes_to_blob(&pdf, "application/pdf") else {
            return fail(uploads, key, Msg::ErrorUploadImage);
        };
        rename(uploads, key, &name, pdf.len() as f64);
        upload(draft, uploads, key, &slot, &name, blob).await;
        for other in files.iter().filter(|f| !is_image(f)) {
            let key = start(uploads, other.name(), other.size());
            upload(
                draft,
                uploads,
                key,
                &slot,
                &other.name(),
                other.clone().into(),
            )
            .await;
        }
        return;
    }
    for file in files {
        let key = start(uploads, file.name(), file.size());
        if is_image(&file) {
            match to_jpeg(&file).await {
                Ok((w, h, bytes)) => {
                    let _ = (w, h);
                    let name = format!("{}.jpg", base_name(&file.name()));
                    let Ok(blob) = bytes_to_blob(&bytes, "image/jpeg") else {
                        return fail(uploads, key, Msg::ErrorUploadImage);
                    };
                    rename(uploads, key, &name, bytes.len() as f64);
                    upload(draft, uploads, key, &slot, &name, blob).await;
                }
                Err(()) => fail(uploads, key, Msg::ErrorUploadImage),
            }
        } else {
            upload(draft, uploads, key, &slot, &file.name(), file.into()).await;
        }
    }
}

fn base_name(name: &str) -> String {
    name.rsplit_once('.')
        .map(|(b, _)| b.to_string())
        .filter(|b| !b.is_empty())
        .unwrap_or_else(|| name.to_string())
}

fn start(uploads: SlotUploads, name: String, size: f64) -> u32 {
    let key = uploads.next.try_get_value().unwrap_or_default();
    uploads.next.try_set_value(key + 1);
    uploads.list.try_update(|l| {
        l.push(Upload {
            key,
            name,
            sent: 0.0,
            size,
            state: UploadState::Preparing,
        })
    });
    key
}

/// Changes an upload's row, unless the page moved on meanwhile.
fn update(uploads: SlotUploads, key: u32, f: impl FnOnce(&mut Upload)) {
    uploads.list.try_update(|l| {
        if let Some(u) = l.iter_mut().find(|u| u.key == key) {
            f(u);
        }
    });
}

fn rename(uploads: SlotUploads, key: u32, name: &str, size: f64) {
    update(uploads, key, |u| {
        u.name = name.to_string();
        u.size = size;
    });
}

fn fail(uploads: SlotUploads, key: u32, msg: Msg) {
    let text = portal_i18n::t(use_i18n_untracked(), msg).to_string();
    update(uploads, key, |u| u.state = UploadState::Failed(text));
}

fn fail_with(uploads: SlotUploads, key: u32, failure: &ApiFailure) {
    let lang = use_i18n_untracked();
    let fields = failure.fields();
    let text = fields
        .first()
        .map(|f| f.message(lang))
        .unwrap_or_else(|| failure.message(lang));
    update(uploads, key, |u| u.state = UploadState::Failed(text));
}

fn use_i18n_untracked() -> portal_i18n::Lang {
    use_context::<crate::i18n::I18n>()
        .map(|i| i.lang_untracked())
        .unwrap_or(portal_i18n::Lang::Kk)
}

/// Announces the file, then sends it in chunks; after a dropped connection it asks the server
/// how much arrived and continues from there.
async fn upload(draft: Draft, uploads: SlotUploads, key: u32, slot: &str, name: &str, blob: Blob) {
    let Some(id) = draft.id.try_get_value() else {
        return;
    };
    let size = blob.size();
    update(uploads, key, |u| u.state = UploadState::Uploading);
    let announced = loop {
        match api::announce_attachment(
            &id,
            &NewAttachment {
                slot: slot.to_string(),
                file_name: name.to_string(),
                size: size as u64,
            },
        )
        .await
        {
            Ok(a) => break a,
            Err(ApiFailure::Network) => {
                update(uploads, key, |u| u.state = UploadState::Paused);
                sleep(3000).await;
            }
            Err(failure) => return fail_with(uploads, key, &failure),
        }
    };
    let mut attachment = announced;
    let mut backoff = 1000;
    while !attachment.complete {
        let offset = attachment.received as f64;
        let end = (offset + CHUNK).min(size);
        let Ok(chunk) = blob.slice_with_f64_and_f64(offset, end) else {
            return fail(uploads, key, Msg::ErrorUploadImage);
        };
        update(uploads, key, |u| {
            u.state = UploadState::Uploading;
            u.sent = offset;
        });
        let url = api::attachment_content_url(&id, &attachment.id);
        match patch(&url, offset, &chunk, move |loaded| {
            update(uploads, key, |u| u.sent = offset + loaded)
        })
        .await
        {
            Ok(next) => {
                attachment = next;
                backoff = 1000;
            }
            Err(ApiFailure::Network) | Err(ApiFailure::Server { status: 400, .. }) => {
                update(uploads, key, |u| u.state = UploadState::Paused);
                sleep(backoff).await;
                backoff = (backoff * 2).min(15_000);
                if let Ok(now) = api::attachment(&id, &attachment.id).await {
                    attachment = now;
                }
            }
            Err(failure)
                if failure.code() == Some("error.upload.offset")
                    || failure.code() == Some("error.upload.busy") =>
            {
                sleep(1000).await;
                if let Ok(now) = api::attachment(&id, &attachment.id).await {
                    attachment = now;
                }
            }
            Err(failure) => return fail_with(uploads, key, &failure),
        }
    }
    uploads.list.try_update(|l| l.retain(|u| u.key != key));
    draft.attachments.try_update(|a| {
        a.retain(|x| x.id != attachment.id);
        a.push(attachment);
    });
}

/// `PATCH` with XMLHttpRequest, the only browser API that reports upload progress.
async fn patch(
    url: &str,
    offset: f64,
    chunk: &Blob,
    on_progress: impl Fn(f64) + 'static,
) -> Result<AttachmentView, ApiFailure> {
    let xhr = XmlHttpRequest::new().map_err(|_| ApiFailure::Network)?;
    xhr.open_with_async("PATCH", url, true)
        .map_err(|_| ApiFailure::Network)?;
    let _ = xhr.set_request_header("Upload-Offset", &format!("{offset}"));
    let _ = xhr.set_request_header("Content-Type", "application/offset+octet-stream");
    if let Some(token) = api::csrf_token() {
        let _ = xhr.set_request_header("X-CSRF-Token", &token);
    }
    let progress =
        Closure::<dyn Fn(web_sys::ProgressEvent)>::new(move |e: web_sys::ProgressEvent| {
            on_progress(e.loaded())
        });
    if let Ok(target) = xhr.upload() {
        target.set_onprogress(Some(progress.as_ref().unchecked_ref()));
    }
    let done = Promise::new(&mut |resolve, _| xhr.set_onloadend(Some(&resolve)));
    xhr.send_with_opt_blob(Some(chunk))
        .map_err(|_| ApiFailure::Network)?;
    let _ = JsFuture::from(done).await;
    drop(progress);
    let status = xhr.status().unwrap_or(0);
    if let Some(seconds) = xhr
        .get_response_header("x-session-expires-in")
        .ok()
        .flatten()
        .and_then(|v| v.parse().ok())
    {
        api::report_session_seen(seconds);
    }
    let text = xhr.response_text().ok().flatten().unwrap_or_default();
    match status {
        0 => Err(ApiFailure::Network),
        200 => serde_json::from_str(&text).map_err(|_| ApiFailure::Network),
        _ => Err(ApiFailure::Server {
            status,
            body: serde_json::from_str::<ErrorBody>(&text).ok(),
        }),
    }
}

/// Draws the photo smaller (longest side 2000 px) and encodes it as JPEG.
async fn to_jpeg(file: &File) -> Result<(u32, u32, Vec<u8>), ()> {
    let promise = window()
        .create_image_bitmap_with_blob(file)
        .map_err(|_| ())?;
    let bitmap: ImageBitmap = JsFuture::from(promise)
        .await
        .map_err(|_| ())?
        .dyn_into()
        .map_err(|_| ())?;
    let (w, h) = (f64::from(bitmap.width()), f64::from(bitmap.height()));
    let scale = (MAX_SIDE / w.max(h)).min(1.0);
    let (tw, th) = (
        (w * scale).round().max(1.0) as u32,
        (h * scale).round().max(1.0) as u32,
    );
    let canvas: HtmlCanvasElement = document()
        .create_element("canvas")
        .map_err(|_| ())?
        .dyn_into()
        .map_err(|_| ())?;
    canvas.set_width(tw);
    canvas.set_height(th);
    let ctx: CanvasRenderingContext2d = canvas
        .get_context("2d")
        .map_err(|_| ())?
        .ok_or(())?
        .dyn_into()
        .map_err(|_| ())?;
    // Transparent PNGs get a white page, not a black one.
    ctx.set_fill_style_str("#ffffff");
    ctx.fill_rect(0.0, 0.0, f64::from(tw), f64::from(th));
    ctx.draw_image_with_image_bitmap_and_dw_and_dh(&bitmap, 0.0, 0.0, f64::from(tw), f64::from(th))
        .map_err(|_| ())?;
    bitmap.close();
    let blob_promise = Promise::new(&mut |resolve, _| {
        let callback = Closure::once_into_js(move |blob: JsValue| {
            let _ = resolve.call1(&JsValue::NULL, &blob);
        });
        let _ = canvas.to_blob_with_type_and_encoder_options(
            callback.unchecked_ref(),
            "image/jpeg",
            &JsValue::from_f64(JPEG_QUALITY),
        );
    });
    let blob: Blob = JsFuture::from(blob_promise)
        .await
        .map_err(|_| ())?
        .dyn_into()
        .map_err(|_| ())?;
    let buffer = JsFuture::from(blob.array_buffer()).await.map_err(|_| ())?;
    Ok((tw, th, Uint8Array::new(&buffer).to_vec()))
}

fn bytes_to_blob(bytes: &[u8], content_type: &str) -> Result<Blob, JsValue> {
    let array = Uint8Array::from(bytes);
    let parts = js_sys::Array::of1(&array);
    let options = BlobPropertyBag::new();
    options.set_type(content_type);
    Blob::new_with_u8_array_sequence_and_options(&parts, &options)
}
