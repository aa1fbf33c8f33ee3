//! Copies of documents attached to a draft: announced, uploaded in resumable chunks, checked
//! by content, hashed, scanned, and served back only to whoever may see the application.
//!
//! The upload protocol follows tus.io's core idea without its headers zoo: `POST` announces
//! the file (slot, name, size) and gets an id; `PATCH …/content` with `Upload-Offset: n`
//! appends bytes from `n`; after a dropped connection `GET` says how many bytes arrived and
//! the browser continues from there.

pub mod clamd;
pub mod storage;

use axum::Json;
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use portal_domain::api::ErrorBody;
use portal_domain::application::{AttachmentView, FileName, NewAttachment};
use portal_i18n::Msg;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::accounts::auth::{Citizen, Officer};
use crate::app::AppState;
use crate::applications::store::{self, ApplicationRow, AttachmentRow};
use crate::applications::{owned, owned_draft};
use crate::error::{ApiError, ApiJson, FieldProblem};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(announce))
        .routes(routes!(progress, remove))
        .routes(routes!(upload, download))
        .routes(routes!(officer_download))
}

/// How long one upload request may hold an attachment.
const UPLOAD_CLAIM_SECONDS: i64 = 120;

async fn owned_attachment(
    state: &AppState,
    application: &ApplicationRow,
    attachment_id: &str,
) -> Result<AttachmentRow, ApiError> {
    if !portal_domain::form::is_attachment_id(attachment_id) {
        return Err(ApiError::NotFound(Msg::ErrorNotFound));
    }
    store::attachment(&state.db, &application.id, attachment_id)
        .await?
        .ok_or(ApiError::NotFound(Msg::ErrorNotFound))
}

/// Announces an upload: which document it is a copy of, the file's name and size.
///
/// Refused before a byte is sent when the slot is not in the form or is full, or the file is
/// larger than the limits allow.
#[utoipa::path(
    post,
    path = "/api/applications/{id}/attachments",
    tag = "applications",
    security(("session" = [])),
    params(("id" = String, Path, description = "The application")),
    request_body = NewAttachment,
    responses(
        (status = 201, body = AttachmentView),
        (status = 404, description = "No such application of the caller", body = ErrorBody),
        (status = 409, description = "Already submitted", body = ErrorBody),
        (status = 422, description = "Bad slot, name or size", body = ErrorBody),
    )
)]
async fn announce(
    State(state): State<AppState>,
    Citizen(auth): Citizen,
    Path(id): Path<String>,
    ApiJson(new): ApiJson<NewAttachment>,
) -> Result<(StatusCode, Json<AttachmentView>), ApiError> {
    let application = owned_draft(&state, &id, &auth.user.id).await?;
    let form = crate::applications::form_of(&state, &application.service_id)?;
    let name = FileName::parse(&new.file_name)
        .map_err(|msg| ApiError::invalid(FieldProblem::new("file_name", msg)))?;
    let Some((_, max_files)) = form
        .file_slots()
        .into_iter()
        .find(|(slot, _)| *slot == new.slot)
    else {
        return Err(ApiError::invalid(FieldProblem::new(
            "slot",
            Msg::ErrorUploadSlot,
        )));
    };
    let existing = store::attachments(&state.db, &application.id).await?;
    if existing.iter().filter(|a| a.slot == new.slot).count() as u32 >= max_files {
        return Err(ApiError::invalid(
            FieldProblem::new("slot", Msg::ErrorFormTooManyFiles).arg("max", max_files.to_string()),
        ));
    }
    let limits = crate::applications::limits(&state);
    if new.size == 0 {
        return Err(ApiError::invalid(FieldProblem::new(
            "size",
            Msg::ErrorUploadEmpty,
        )));
    }
    if new.size > limits.max_file_bytes {
        return Err(ApiError::invalid(
            FieldProblem::new("size", Msg::ErrorUploadTooBig)
                .arg("max", megabytes(limits.max_file_bytes)),
        ));
    }
    let used: u64 = existing.iter().map(|a| a.size as u64).sum();
    if used + new.size > limits.max_application_bytes {
        return Err(ApiError::invalid(
            FieldProblem::new("size", Msg::ErrorUploadApplicationFull)
                .arg("max", megabytes(limits.max_application_bytes)),
        ));
    }
    let attachment_id = store::insert_attachment(
        &state.db,
        &application.id,
        &new.slot,
        name.as_str(),
        new.size,
    )
    .await?;
    store::touch(&state.db, &application.id).await?;
    let row = owned_attachment(&state, &application, &attachment_id).await?;
    Ok((StatusCode::CREATED, Json(row.view())))
}

fn megabytes(bytes: u64) -> String {
    format!("{} MB", bytes >> 20)
}

/// An attachment: how much of it has arrived (to resume an upload), and whether it is complete.
#[utoipa::path(
    get,
    path = "/api/applications/{id}/attachments/{attachment_id}",
    tag = "applications",
    security(("session" = [])),
    params(("id" = String, Path), ("attachment_id" = String, Path)),
    responses((status = 200, body = AttachmentView), (status = 404, body = ErrorBody))
)]
async fn progress(
    State(state): State<AppState>,
    Citizen(auth): Citizen,
    Path((id, attachment_id)): Path<(String, String)>,
) -> Result<Json<AttachmentView>, ApiError> {
    let application = owned(&state, &id, &auth.user.id).await?;
    Ok(Json(
        owned_attachment(&state, &application, &attachment_id)
            .await?
            .view(),
    ))
}

/// Removes an attachment from a draft.
#[utoipa::path(
    delete,
    path = "/api/applications/{id}/attachments/{attachment_id}",
    tag = "applications",
    security(("session" = [])),
    params(("id" = String, Path), ("attachment_id" = String, Path)),
    responses((status = 204), (status = 404, body = ErrorBody), (status = 409, description = "Already submitted", body = ErrorBody))
)]
async fn remove(
    State(state): State<AppState>,
    Citizen(auth): Citizen,
    Path((id, attachment_id)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    let application = owned_draft(&state, &id, &auth.user.id).await?;
    let row = owned_attachment(&state, &application, &attachment_id).await?;
    store::delete_attachment(&state.db, &row.id).await?;
    storage::remove(&state.blobs, &row.id).await;
    store::touch(&state.db, &application.id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Appends bytes to an upload, from `Upload-Offset`.
///
/// The body is the next part of the file (any size up to what remains). A wrong offset gets 409
/// with nothing written; `GET` the attachment for the right one. The first bytes decide the
/// type: anything but PDF, JPEG or PNG is refused and forgotten. When the last byte arrives
/// the file is hashed (SHA-256) and, if configured, scanned by clamd.
#[utoipa::path(
    patch,
    path = "/api/applications/{id}/attachments/{attachment_id}/content",
    tag = "applications",
    security(("session" = [])),
    params(
        ("id" = String, Path), ("attachment_id" = String, Path),
        ("Upload-Offset" = u64, Header, description = "Where this part starts: the bytes the server has"),
    ),
    request_body(content = Vec<u8>, content_type = "application/offset+octet-stream"),
    responses(
        (status = 200, description = "Appended; `complete` once all bytes arrived", body = AttachmentView),
        (status = 404, body = ErrorBody),
        (status = 409, description = "Wrong offset, another upload of this file in progress, or already submitted", body = ErrorBody),
        (status = 413, description = "More bytes than announced", body = ErrorBody),
        (status = 422, description = "Not a PDF, JPEG or PNG by content, or a virus", body = ErrorBody),
        (status = 503, description = "The virus scanner is not available", body = ErrorBody),
    )
)]
async fn upload(
    State(state): State<AppState>,
    Citizen(auth): Citizen,
    Path((id, attachment_id)): Path<(String, String)>,
    headers: HeaderMap,
    body: Body,
) -> Result<Json<AttachmentView>, ApiError> {
    let application = owned_draft(&state, &id, &auth.user.id).await?;
    let row = owned_attachment(&state, &application, &attachment_id).await?;
    if row.complete {
        return Ok(Json(row.view()));
    }
    let offset: u64 = headers
        .get("upload-offset")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse().ok())
        .ok_or(ApiError::BadRequest(Msg::ErrorUploadOffsetMissing))?;
    if offset != row.received as u64 {
        return Err(ApiError::Conflict(Msg::ErrorUploadOffset));
    }
    if !store::claim_upload(&state.db, &row.id, UPLOAD_CLAIM_SECONDS).await? {
        return Err(ApiError::Conflict(Msg::ErrorUploadBusy));
    }
    let (received, appended) =
        storage::append(&state.blobs, &row.id, offset, row.size as u64, body).await;
    match appended {
        Ok(()) => {}
        Err(storage::AppendError::NotAllowedType) => {
            return refuse(&state, &application, &row, Msg::ErrorUploadFileType).await;
        }
        Err(storage::AppendError::Overflow) => {
            store::record_progress(&state.db, &row.id, offset).await?;
            return Err(ApiError::PayloadTooLarge(Msg::ErrorUploadOverflow));
        }
        Err(storage::AppendError::Interrupted(e)) => {
            store::record_progress(&state.db, &row.id, received).await?;
            tracing::info!(attachment = %row.id, received, error = format!("{e:#}"), "upload interrupted; it can resume");
            return Err(ApiError::BadRequest(Msg::ErrorUploadInterrupted));
        }
    }
    if received < row.size as u64 {
        store::record_progress(&state.db, &row.id, received).await?;
        return Ok(Json(
            AttachmentRow {
                received: received as i64,
                ..row
            }
            .view(),
        ));
    }
    let (file_type, sha256) = storage::join(&state.blobs, &row.id, received).await?;
    let Some(file_type) = file_type else {
        return refuse(&state, &application, &row, Msg::ErrorUploadFileType).await;
    };
    if let Some(address) = &state.config.clamd {
        let verdict = match storage::read(&state.blobs, &row.id).await {
            Ok(bytes) => clamd::scan(address, bytes).await,
            Err(e) => Err(e),
        };
        match verdict {
            Ok(clamd::Verdict::Clean) => {}
            Ok(clamd::Verdict::Infected(signature)) => {
                tracing::warn!(attachment = %row.id, %signature, "an upload carried a virus; deleted");
                return refuse(&state, &application, &row, Msg::ErrorUploadVirus).await;
            }
            Err(e) => {
                store::record_progress(&state.db, &row.id, offset).await?;
                tracing::error!(error = format!("{e:#}"), "clamd is not available");
                // Keep nothing unscanned: the last part is sent again once the scanner is back.
                storage::forget_last_part(&state.blobs, &row.id, offset).await?;
                return Err(ApiError::Unavailable(Msg::ErrorUploadScannerDown));
            }
        }
    }
    store::complete_attachment(&state.db, &row.id, file_type.content_type(), &sha256).await?;
    storage::forget_parts(&state.blobs, &row.id).await;
    store::touch(&state.db, &application.id).await?;
    Ok(Json(
        owned_attachment(&state, &application, &row.id)
            .await?
            .view(),
    ))
}

/// Forgets a refused upload entirely and says why.
async fn refuse(
    state: &AppState,
    application: &ApplicationRow,
    row: &AttachmentRow,
    msg: Msg,
) -> Result<Json<AttachmentView>, ApiError> {
    store::delete_attachment(&state.db, &row.id).await?;
    storage::remove(&state.blobs, &row.id).await;
    store::touch(&state.db, &application.id).await?;
    Err(ApiError::invalid(FieldProblem::new("file", msg)))
}

/// Downloads a complete attachment, always as a download (`Content-Disposition: attachment`),
/// never rendered by the portal's origin.
#[utoipa::path(
    get,
    path = "/api/applications/{id}/attachments/{attachment_id}/content",
    tag = "applications",
    security(("session" = [])),
    params(("id" = String, Path), ("attachment_id" = String, Path)),
    responses(
        (status = 200, description = "The file", content_type = "application/octet-stream"),
        (status = 404, body = ErrorBody),
    )
)]
async fn download(
    State(state): State<AppState>,
    Citizen(auth): Citizen,
    Path((id, attachment_id)): Path<(String, String)>,
    request_headers: HeaderMap,
) -> Result<Response, ApiError> {
    let application = owned(&state, &id, &auth.user.id).await?;
    let row = owned_attachment(&state, &application, &attachment_id).await?;
    serve_file(&state, &row, &request_headers).await
}

/// An officer downloads an attachment of an application submitted to their organisation.
/// Applications of other organisations, and drafts, do not exist for them (404).
#[utoipa::path(
    get,
    path = "/api/workspace/applications/{id}/attachments/{attachment_id}/content",
    tag = "workspace",
    security(("session" = [])),
    params(("id" = String, Path), ("attachment_id" = String, Path)),
    responses(
        (status = 200, description = "The file", content_type = "application/octet-stream"),
        (status = 404, body = ErrorBody),
    )
)]
async fn officer_download(
    State(state): State<AppState>,
    officer: Officer,
    Path((id, attachment_id)): Path<(String, String)>,
    request_headers: HeaderMap,
) -> Result<Response, ApiError> {
    if !portal_domain::form::is_attachment_id(&id) {
        return Err(ApiError::NotFound(Msg::ErrorApplicationNotFound));
    }
    let application = store::submitted_to(&state.db, &id, &officer.organisation_id)
        .await?
        .ok_or(ApiError::NotFound(Msg::ErrorApplicationNotFound))?;
    let row = owned_attachment(&state, &application, &attachment_id).await?;
    serve_file(&state, &row, &request_headers).await
}

/// Streams an attachment's file with safe headers, to the applicant or the provider's officers.
pub async fn serve_file(
    state: &AppState,
    row: &AttachmentRow,
    request_headers: &HeaderMap,
) -> Result<Response, ApiError> {
    if !row.complete {
        return Err(ApiError::NotFound(Msg::ErrorNotFound));
    }
    let content_type = row
        .content_type
        .as_deref()
        .unwrap_or("application/octet-stream");
    serve_stored(
        state,
        &row.id,
        content_type,
        &row.file_name,
        request_headers,
    )
    .await
}

/// Streams a stored file (an attachment or a case file, by its id) as a private download.
pub async fn serve_stored(
    state: &AppState,
    id: &str,
    content_type: &str,
    file_name: &str,
    request_headers: &HeaderMap,
) -> Result<Response, ApiError> {
    let range_header = request_headers
        .get(header::RANGE)
        .and_then(|v| v.to_str().ok());
    let range = match range_header {
        None => None,
        Some(wanted) => {
            let size = state
                .blobs
                .size(&storage::key(id))
                .await?
                .ok_or(ApiError::NotFound(Msg::ErrorNotFound))?;
            match crate::blobs::parse_range(Some(wanted), size) {
                Ok(range) => range,
                Err(()) => {
                    return Ok((
                        StatusCode::RANGE_NOT_SATISFIABLE,
                        [(header::CONTENT_RANGE, format!("bytes */{size}"))],
                    )
                        .into_response());
                }
            }
        }
    };
    let (size, stream) = state
        .blobs
        .stream(&storage::key(id), range.clone())
        .await?
        .ok_or(ApiError::NotFound(Msg::ErrorNotFound))?;
    let mut response = Body::from_stream(stream).into_response();
    response
        .headers_mut()
        .insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
    let length = match &range {
        Some(range) => {
            *response.status_mut() = StatusCode::PARTIAL_CONTENT;
            response.headers_mut().insert(
                header::CONTENT_RANGE,
                HeaderValue::from_str(&format!("bytes {}-{}/{size}", range.start, range.end - 1))
                    .map_err(anyhow::Error::from)?,
            );
            range.end - range.start
        }
        None => size,
    };
    response
        .headers_mut()
        .insert(header::CONTENT_LENGTH, HeaderValue::from(length));
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_str(content_type).map_err(anyhow::Error::from)?,
    );
    response
        .headers_mut()
        .insert(header::CONTENT_DISPOSITION, content_disposition(file_name));
    response.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, no-store"),
    );
    Ok(response)
}

/// `attachment; filename="<ASCII fallback>"; filename*=UTF-8''<percent-encoded>` (RFC 6266).
fn content_disposition(name: &str) -> HeaderValue {
    let ascii: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || " .-_()".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    let encoded: String = name
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b".-_".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect();
    HeaderValue::from_str(&format!(
        "attachment; filename=\"{ascii}\"; filename*=UTF-8''{encoded}"
    ))
    .expect("only ASCII characters")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn downloads_keep_non_latin_names_safely() {
        let v = content_disposition("Туу куәлігі \"1\".pdf");
        let s = v.to_str().unwrap();
        assert!(s.starts_with("attachment; filename=\""), "{s}");
        assert!(!s.contains("\"1\""), "quotes cannot break out: {s}");
        assert!(s.contains("filename*=UTF-8''%D0%A2"), "{s}");
    }
}
