//! Documents an officer attaches to a move: a scanned home-inspection act, a paper refusal
//! signed by hand. Uploaded first (checked by content, hashed, scanned), then named by the move;
//! the event records each file's hash, so the history chain vouches for the content too. The
//! applicant sees the files of the moves on their application; an upload no move named yet is
//! the officer's draft and stays with the provider.

use axum::Json;
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use portal_domain::api::ErrorBody;
use portal_domain::application::FileName;
use portal_domain::workflow::{CaseFile, MAX_FILES_PER_MOVE};
use portal_i18n::Msg;
use serde::Deserialize;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::accounts::auth::{Citizen, Officer};
use crate::app::AppState;
use crate::applications::store::ApplicationRow;
use crate::attachments::{clamd, serve_stored, storage};
use crate::db::{new_id, now_millis};
use crate::error::{ApiError, ApiQuery, FieldProblem};
use crate::on_db;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(upload))
        .routes(routes!(officer_download))
        .routes(routes!(citizen_download))
}

/// More files than any case needs; a runaway script stops here.
const MAX_FILES_PER_APPLICATION: i64 = 50;

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
struct UploadQuery {
    /// The file's name as the officer's computer knows it.
    name: String,
}

#[derive(sqlx::FromRow)]
struct CaseFileRow {
    id: String,
    file_name: String,
    content_type: String,
    size: i64,
    sha256: String,
    attached: bool,
}

impl CaseFileRow {
    fn view(self) -> CaseFile {
        CaseFile {
            id: self.id,
            file_name: self.file_name,
            content_type: self.content_type,
            size: self.size as u64,
            sha256: self.sha256,
        }
    }
}

async fn file_of(
    state: &AppState,
    application_id: &str,
    file_id: &str,
) -> Result<Option<CaseFileRow>, ApiError> {
    if !portal_domain::form::is_attachment_id(file_id) {
        return Ok(None);
    }
    Ok(on_db!(&state.db, |pool| {
        sqlx::query_as(
        "SELECT id, file_name, content_type, size, sha256, attached FROM case_files WHERE id = $1 AND application_id = $2"
    )
    .bind(file_id)
    .bind(application_id)
    .fetch_optional(pool)
    .await
    })?)
}

/// Uploads a document to attach to the next move on an application (PDF, JPEG or PNG by
/// content, within the portal's file size limit). The body is the file itself.
#[utoipa::path(
    post,
    path = "/api/workspace/applications/{id}/files",
    tag = "workspace",
    security(("session" = [])),
    params(("id" = String, Path), UploadQuery),
    request_body(content = Vec<u8>, content_type = "application/octet-stream"),
    responses(
        (status = 201, body = CaseFile),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 422, description = "Bad name, empty, too big, not a PDF/JPEG/PNG, or a virus", body = ErrorBody),
        (status = 503, description = "The virus scanner is not available", body = ErrorBody),
    )
)]
async fn upload(
    State(state): State<AppState>,
    officer: Officer,
    Path(id): Path<String>,
    ApiQuery(query): ApiQuery<UploadQuery>,
    body: Body,
) -> Result<(StatusCode, Json<CaseFile>), ApiError> {
    let row = super::officer::of_organisation(&state, &id, &officer.organisation_id).await?;
    let name = FileName::parse(&query.name)
        .map_err(|msg| ApiError::invalid(FieldProblem::new("file_name", msg)))?;
    let count: i64 = on_db!(&state.db, |pool| sqlx::query_scalar(
        "SELECT COUNT(*) FROM case_files WHERE application_id = $1"
    )
    .bind(&row.id)
    .fetch_one(pool)
    .await)?;
    if count >= MAX_FILES_PER_APPLICATION {
        return Err(ApiError::invalid(
            FieldProblem::new("file", Msg::ErrorFormTooManyFiles)
                .arg("max", MAX_FILES_PER_APPLICATION.to_string()),
        ));
    }
    let file_id = new_id();
    let max = state.config.max_file_bytes;
    let refuse = |problem: FieldProblem| async {
        storage::remove(&state.blobs, &file_id).await;
        Err(ApiError::invalid(problem))
    };
    let (received, appended) = storage::store(&state.blobs, &file_id, max, body).await;
    match appended {
        Ok(()) => {}
        Err(storage::AppendError::Overflow) => {
            return refuse(
                FieldProblem::new("file", Msg::ErrorUploadTooBig)
                    .arg("max", format!("{} MB", max >> 20)),
            )
            .await;
        }
        Err(storage::AppendError::NotAllowedType) => {
            return refuse(FieldProblem::new("file", Msg::ErrorUploadFileType)).await;
        }
        Err(storage::AppendError::Interrupted(e)) => {
            storage::remove(&state.blobs, &file_id).await;
            tracing::info!(error = format!("{e:#}"), "a case file upload broke off");
            return Err(ApiError::BadRequest(Msg::ErrorUploadInterrupted));
        }
    }
    if received == 0 {
        return refuse(FieldProblem::new("file", Msg::ErrorUploadEmpty)).await;
    }
    let (file_type, sha256) = storage::inspect(&state.blobs, &file_id).await?;
    let Some(file_type) = file_type else {
        return refuse(FieldProblem::new("file", Msg::ErrorUploadFileType)).await;
    };
    if let Some(address) = &state.config.clamd {
        let verdict = match storage::read(&state.blobs, &file_id).await {
            Ok(bytes) => clamd::scan(address, bytes).await,
            Err(e) => Err(e),
        };
        match verdict {
            Ok(clamd::Verdict::Clean) => {}
            Ok(clamd::Verdict::Infected(signature)) => {
                tracing::warn!(application = %row.id, %signature, "a case file carried a virus; deleted");
                return refuse(FieldProblem::new("file", Msg::ErrorUploadVirus)).await;
            }
            Err(e) => {
                storage::remove(&state.blobs, &file_id).await;
                tracing::error!(error = format!("{e:#}"), "clamd is not available");
                return Err(ApiError::Unavailable(Msg::ErrorUploadScannerDown));
            }
        }
    }
    let file = CaseFile {
        id: file_id,
        file_name: name.as_str().to_string(),
        content_type: file_type.content_type().to_string(),
        size: received,
        sha256,
    };
    on_db!(&state.db, |pool| {
        sqlx::query(
        "INSERT INTO case_files (id, application_id, uploaded_by, file_name, content_type, size, sha256, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"
    )
    .bind(&file.id)
    .bind(&row.id)
    .bind(&officer.auth.user.id)
    .bind(&file.file_name)
    .bind(&file.content_type)
    .bind(file.size as i64)
    .bind(&file.sha256)
    .bind(now_millis())
    .execute(pool)
    .await.map(|r| r.rows_affected())
    })?;
    Ok((StatusCode::CREATED, Json(file)))
}

/// The uploads a move names: each of this application, not yet part of another move.
pub async fn for_move(
    state: &AppState,
    row: &ApplicationRow,
    ids: &[String],
) -> Result<Vec<CaseFile>, ApiError> {
    let unknown = || ApiError::invalid(FieldProblem::new("files", Msg::ErrorWorkflowUnknownFile));
    if ids.len() > MAX_FILES_PER_MOVE {
        return Err(ApiError::invalid(
            FieldProblem::new("files", Msg::ErrorFormTooManyFiles)
                .arg("max", MAX_FILES_PER_MOVE.to_string()),
        ));
    }
    let mut files: Vec<CaseFile> = Vec::with_capacity(ids.len());
    for id in ids {
        let file = file_of(state, &row.id, id).await?.ok_or_else(unknown)?;
        if file.attached || files.iter().any(|f| &f.id == id) {
            return Err(unknown());
        }
        files.push(file.view());
    }
    Ok(files)
}

/// Marks the files as belonging to the move that was just recorded, in its transaction.
pub async fn attach(conn: &mut crate::db::Conn<'_>, files: &[CaseFile]) -> Result<(), sqlx::Error> {
    for file in files {
        crate::on_conn!(conn, |c| sqlx::query(
            "UPDATE case_files SET attached = TRUE WHERE id = $1"
        )
        .bind(&file.id)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
    }
    Ok(())
}

/// A document attached to a move, or uploaded for the next one, on an application of the
/// officer's organisation.
#[utoipa::path(
    get,
    path = "/api/workspace/applications/{id}/files/{file_id}",
    tag = "workspace",
    security(("session" = [])),
    params(("id" = String, Path), ("file_id" = String, Path)),
    responses(
        (status = 200, description = "The file", content_type = "application/octet-stream"),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
    )
)]
async fn officer_download(
    State(state): State<AppState>,
    officer: Officer,
    Path((id, file_id)): Path<(String, String)>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let row = super::officer::of_organisation(&state, &id, &officer.organisation_id).await?;
    let file = file_of(&state, &row.id, &file_id)
        .await?
        .ok_or(ApiError::NotFound(Msg::ErrorNotFound))?;
    serve_stored(
        &state,
        &file.id,
        &file.content_type,
        &file.file_name,
        &headers,
    )
    .await
}

/// A document attached to a move on the caller's application.
#[utoipa::path(
    get,
    path = "/api/applications/{id}/files/{file_id}",
    tag = "applications",
    security(("session" = [])),
    params(("id" = String, Path), ("file_id" = String, Path)),
    responses(
        (status = 200, description = "The file", content_type = "application/octet-stream"),
        (status = 401, body = ErrorBody),
        (status = 404, body = ErrorBody),
    )
)]
async fn citizen_download(
    State(state): State<AppState>,
    Citizen(auth): Citizen,
    Path((id, file_id)): Path<(String, String)>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let row = crate::applications::owned(&state, &id, &auth.user.id).await?;
    let file = file_of(&state, &row.id, &file_id)
        .await?
        .filter(|f| f.attached)
        .ok_or(ApiError::NotFound(Msg::ErrorNotFound))?;
    serve_stored(
        &state,
        &file.id,
        &file.content_type,
        &file.file_name,
        &headers,
    )
    .await
}
