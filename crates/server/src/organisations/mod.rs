//! Organisations and their officers: the administrator's pages, the CLI, the demo world, and
//! the officer's own organisation.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use portal_domain::accounts::Role;
use portal_domain::api::ErrorBody;
use portal_domain::organisation::{
    FirstGradeSettings, MAX_SLOT_CAPACITY, NewOfficer, NewOrganisation, OfficerView, OpeningHours,
    Organisation, OrganisationKind, SlotCapacity,
};
use portal_domain::text::Text;
use portal_i18n::Msg;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::accounts::auth::{Admin, Officer};
use crate::accounts::passwords;
use crate::accounts::users::{self, InsertError, NewUser};
use crate::app::AppState;
use crate::db::{Db, now_millis};
use crate::error::{ApiError, ApiJson, FieldProblem};
use crate::on_db;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_organisations, create_organisation))
        .routes(routes!(set_slot_capacity))
        .routes(routes!(set_first_grade))
        .routes(routes!(list_officers, create_officer))
        .routes(routes!(workspace))
        .routes(routes!(providers))
}

#[derive(sqlx::FromRow)]
struct OrganisationRow {
    id: String,
    kind: String,
    name: String,
    address: String,
    phone: String,
    hours: String,
    provider: bool,
    pickup_place: bool,
    territory: String,
    slot_capacity: i64,
    first_grade_places: Option<i64>,
    first_grade_priorities: String,
    demo: bool,
}

impl OrganisationRow {
    fn into_domain(self) -> anyhow::Result<Organisation> {
        Ok(Organisation {
            kind: OrganisationKind::parse(&self.kind)
                .ok_or_else(|| anyhow::anyhow!("unknown organisation kind {}", self.kind))?,
            name: serde_json::from_str(&self.name)?,
            address: serde_json::from_str(&self.address)?,
            hours: serde_json::from_str::<OpeningHours>(&self.hours)?,
            territory: serde_json::from_str::<Vec<Text>>(&self.territory)?,
            first_grade_priorities: serde_json::from_str(&self.first_grade_priorities)?,
            id: self.id,
            phone: self.phone,
            provider: self.provider,
            pickup_place: self.pickup_place,
            slot_capacity: self.slot_capacity.clamp(0, i64::from(u32::MAX)) as u32,
            first_grade_places: self
                .first_grade_places
                .map(|n| n.clamp(0, i64::from(u32::MAX)) as u32),
            demo: self.demo,
        })
    }
}

const COLUMNS: &str = "id, kind, name, address, phone, hours, provider, pickup_place, territory, slot_capacity, first_grade_places, first_grade_priorities, demo";

/// Organisation `id` as read at most [`crate::app::CACHED_FOR`] ago (forms, submissions and
/// views read the chosen provider on every request).
pub async fn get(state: &AppState, id: &str) -> anyhow::Result<Option<Organisation>> {
    state
        .recent
        .organisations
        .get_or_load(&id.to_string(), read(&state.db, id))
        .await
}

/// Organisation `id` as the database has it now.
pub async fn read(db: &Db, id: &str) -> anyhow::Result<Option<Organisation>> {
    let sql = format!("SELECT {COLUMNS} FROM organisations WHERE id = $1");
    let row: Option<OrganisationRow> = on_db!(db, |pool| sqlx::query_as(&sql)
        .bind(id)
        .fetch_optional(pool)
        .await)?;
    row.map(OrganisationRow::into_domain).transpose()
}

pub async fn list(db: &Db) -> anyhow::Result<Vec<Organisation>> {
    let sql = format!("SELECT {COLUMNS} FROM organisations ORDER BY id");
    let rows: Vec<OrganisationRow> = on_db!(db, |pool| sqlx::query_as(&sql).fetch_all(pool).await)?;
    rows.into_iter().map(OrganisationRow::into_domain).collect()
}

/// The organisations that provide services, for choosing one in a form. Public.
#[utoipa::path(
    get,
    path = "/api/providers",
    tag = "catalogue",
    responses((status = 200, body = Vec<Organisation>))
)]
async fn providers(State(state): State<AppState>) -> Result<Json<Vec<Organisation>>, ApiError> {
    Ok(Json(
        list(&state.db)
            .await?
            .into_iter()
            .filter(|o| o.provider)
            .collect(),
    ))
}

/// Why an organisation was not created. Not a `std::error::Error`: it maps to API answers
/// field by field instead of becoming an internal error.
#[derive(Debug)]
pub enum CreateError {
    Invalid(Vec<FieldProblem>),
    Exists,
    Other(anyhow::Error),
}

impl From<anyhow::Error> for CreateError {
    fn from(e: anyhow::Error) -> CreateError {
        CreateError::Other(e)
    }
}

/// Adds an organisation (admin page, CLI and demo world all come through here).
pub async fn create(
    db: &Db,
    new: &NewOrganisation,
    demo: bool,
) -> Result<Organisation, CreateError> {
    new.check().map_err(CreateError::Invalid)?;
    let provider = new.kind.provider_kind().is_some();
    let result = on_db!(db, |pool| {
        sqlx::query(
            "INSERT INTO organisations (id, kind, name, address, phone, hours, provider, pickup_place, territory, demo, created_at, first_grade_places, first_grade_priorities)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
        )
        .bind(&new.id)
        .bind(new.kind.code())
        .bind(serde_json::to_string(&new.name).map_err(anyhow::Error::from)?)
        .bind(serde_json::to_string(&new.address).map_err(anyhow::Error::from)?)
        .bind(new.phone.trim())
        .bind(serde_json::to_string(&new.hours).map_err(anyhow::Error::from)?)
        .bind(provider)
        .bind(new.pickup_place)
        .bind(serde_json::to_string(&new.territory).map_err(anyhow::Error::from)?)
        .bind(demo)
        .bind(now_millis())
        .bind(new.first_grade_places.map(i64::from))
        .bind(serde_json::to_string(&new.first_grade_priorities).map_err(anyhow::Error::from)?)
        .execute(pool)
        .await.map(|r| r.rows_affected())
        .map_err(CreateError::from_sqlx)
    });
    result?;
    read(db, &new.id)
        .await?
        .ok_or_else(|| CreateError::Other(anyhow::anyhow!("the new organisation vanished")))
}

impl CreateError {
    fn from_sqlx(e: sqlx::Error) -> CreateError {
        match &e {
            sqlx::Error::Database(d) if d.is_unique_violation() => CreateError::Exists,
            _ => CreateError::Other(e.into()),
        }
    }
}

impl From<CreateError> for ApiError {
    fn from(e: CreateError) -> ApiError {
        match e {
            CreateError::Invalid(problems) => ApiError::Invalid(problems),
            CreateError::Exists => ApiError::Conflict(Msg::ErrorOrganisationExists),
            CreateError::Other(e) => ApiError::Internal(e),
        }
    }
}

/// Why an officer or administrator was not created.
#[derive(Debug)]
pub enum OfficerError {
    Invalid(Vec<FieldProblem>),
    Exists,
    Other(anyhow::Error),
}

impl From<anyhow::Error> for OfficerError {
    fn from(e: anyhow::Error) -> OfficerError {
        OfficerError::Other(e)
    }
}

impl From<OfficerError> for ApiError {
    fn from(e: OfficerError) -> ApiError {
        match e {
            OfficerError::Invalid(problems) => ApiError::Invalid(problems),
            OfficerError::Exists => ApiError::Conflict(Msg::ErrorOfficerExists),
            OfficerError::Other(e) => ApiError::Internal(e),
        }
    }
}

/// Adds an officer of a provider organisation, or (with `role`) an administrator.
pub async fn create_staff(
    db: &Db,
    new: &NewOfficer,
    role: Role,
    demo: bool,
) -> Result<String, OfficerError> {
    let mut officer = new.parse(role == Role::Officer);
    if role == Role::Officer {
        let organisation = read(db, new.organisation_id.trim()).await?;
        let problem = match organisation {
            None => Some(Msg::ErrorOrganisationUnknown),
            Some(org) if !org.provider => Some(Msg::ErrorOrganisationNotProvider),
            Some(_) => None,
        };
        if let Some(msg) = problem {
            let issue = FieldProblem::new("organisation_id", msg);
            officer = match officer {
                Ok(_) => Err(vec![issue]),
                Err(mut issues) => {
                    if !issues.iter().any(|i| i.field == "organisation_id") {
                        issues.push(issue);
                    }
                    Err(issues)
                }
            };
        }
    }
    let officer = officer.map_err(OfficerError::Invalid)?;
    if passwords::is_common(&officer.password) {
        return Err(OfficerError::Invalid(vec![FieldProblem::new(
            "password",
            Msg::ErrorPasswordCommon,
        )]));
    }
    let user = NewUser {
        iin: officer.iin,
        password_hash: passwords::hash(officer.password).await?,
        role,
        organisation_id: (role == Role::Officer).then_some(officer.organisation_id),
        last_name: officer.last_name.to_string(),
        first_name: officer.first_name.to_string(),
        middle_name: officer.middle_name.map(|n| n.to_string()),
        email: officer.email.map(|e| e.as_str().to_string()),
        phone: None,
        preferred_lang: portal_i18n::Lang::Ru,
        demo,
    };
    users::insert(db, user).await.map_err(|e| match e {
        InsertError::IinTaken => OfficerError::Exists,
        InsertError::Other(e) => OfficerError::Other(e),
    })
}

/// All organisations.
#[utoipa::path(
    get,
    path = "/api/admin/organisations",
    tag = "administration",
    security(("session" = [])),
    responses((status = 200, body = Vec<Organisation>), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody))
)]
async fn list_organisations(
    State(state): State<AppState>,
    _admin: Admin,
) -> Result<Json<Vec<Organisation>>, ApiError> {
    Ok(Json(list(&state.db).await?))
}

/// Adds an organisation.
#[utoipa::path(
    post,
    path = "/api/admin/organisations",
    tag = "administration",
    security(("session" = [])),
    request_body = NewOrganisation,
    responses(
        (status = 201, body = Organisation),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 409, description = "The identifier is taken", body = ErrorBody),
        (status = 422, body = ErrorBody),
    )
)]
async fn create_organisation(
    State(state): State<AppState>,
    Admin(admin): Admin,
    ApiJson(new): ApiJson<NewOrganisation>,
) -> Result<(StatusCode, Json<Organisation>), ApiError> {
    let organisation = create(&state.db, &new, false).await?;
    tracing::info!(admin = %admin.user.id, organisation = %organisation.id, "organisation created");
    Ok((StatusCode::CREATED, Json(organisation)))
}

/// Organisation `id` as it is now, or 404.
async fn existing(state: &AppState, id: &str) -> Result<Organisation, ApiError> {
    let found = if id.len() <= 64 {
        read(&state.db, id).await?
    } else {
        None
    };
    found.ok_or(ApiError::NotFound(Msg::ErrorOrganisationUnknown))
}

/// Organisation `id` after this instance changed it: its cached copy is dropped.
async fn changed(state: &AppState, id: &str) -> anyhow::Result<Organisation> {
    state.recent.organisations.forget(&id.to_string());
    read(&state.db, id)
        .await?
        .ok_or_else(|| anyhow::anyhow!("the organisation vanished"))
}

/// Changes how many people a pickup place serves per slot. Slots still to come follow at once;
/// bookings already made are kept even if the new number is smaller.
#[utoipa::path(
    put,
    path = "/api/admin/organisations/{id}/slot-capacity",
    tag = "administration",
    security(("session" = [])),
    params(("id" = String, Path)),
    request_body = SlotCapacity,
    responses(
        (status = 200, body = Organisation),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 422, description = "Not between 1 and the maximum, or not a pickup place", body = ErrorBody),
    )
)]
async fn set_slot_capacity(
    State(state): State<AppState>,
    Admin(admin): Admin,
    Path(id): Path<String>,
    ApiJson(request): ApiJson<SlotCapacity>,
) -> Result<Json<Organisation>, ApiError> {
    let organisation = existing(&state, &id).await?;
    if !organisation.pickup_place {
        return Err(ApiError::invalid(FieldProblem::new(
            "capacity",
            Msg::ErrorOrganisationNotPickupPlace,
        )));
    }
    if !(1..=MAX_SLOT_CAPACITY).contains(&request.capacity) {
        return Err(ApiError::invalid(
            FieldProblem::new("capacity", Msg::ErrorOrganisationSlotCapacity)
                .arg("max", MAX_SLOT_CAPACITY.to_string()),
        ));
    }
    let capacity = i64::from(request.capacity);
    let now = now_millis();
    on_db!(&state.db, |pool| {
        async {
        let mut tx = pool.begin().await?;
        sqlx::query("UPDATE organisations SET slot_capacity = $1 WHERE id = $2")
            .bind(capacity)
            .bind(&id)
            .execute(&mut *tx)
            .await?;
        // A slot never holds fewer places than it has bookings (the table's CHECK).
        sqlx::query(
            "UPDATE pickup_slots SET capacity = CASE WHEN $1 > booked THEN $1 ELSE booked END WHERE organisation_id = $2 AND starts_at > $3",
        )
        .bind(capacity)
        .bind(&id)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        tx.commit().await
    }
    .await
    })?;
    tracing::info!(admin = %admin.user.id, organisation = %id, capacity, "slot capacity changed");
    Ok(Json(changed(&state, &id).await?))
}

/// Sets a school's first grade: its places, its service territory and its priority
/// categories. Applications already sent keep their queue places; a category removed here no
/// longer counts at the enrolment.
#[utoipa::path(
    put,
    path = "/api/admin/organisations/{id}/first-grade",
    tag = "administration",
    security(("session" = [])),
    params(("id" = String, Path)),
    request_body = FirstGradeSettings,
    responses(
        (status = 200, body = Organisation),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 422, description = "Not a school, or a field out of its limits", body = ErrorBody),
    )
)]
async fn set_first_grade(
    State(state): State<AppState>,
    Admin(admin): Admin,
    Path(id): Path<String>,
    ApiJson(settings): ApiJson<FirstGradeSettings>,
) -> Result<Json<Organisation>, ApiError> {
    let organisation = existing(&state, &id).await?;
    settings
        .check(organisation.kind)
        .map_err(ApiError::Invalid)?;
    let territory = serde_json::to_string(&settings.territory).map_err(anyhow::Error::from)?;
    let priorities =
        serde_json::to_string(&settings.first_grade_priorities).map_err(anyhow::Error::from)?;
    let places = settings.first_grade_places.map(i64::from);
    on_db!(&state.db, |pool| {
        sqlx::query(
        "UPDATE organisations SET first_grade_places = $1, territory = $2, first_grade_priorities = $3 WHERE id = $4"
    )
    .bind(places)
    .bind(&territory)
    .bind(&priorities)
    .bind(&id)
    .execute(pool)
    .await
    .map(drop)
    })?;
    let removed: Vec<_> = organisation
        .first_grade_priorities
        .into_iter()
        .filter(|old| {
            !settings
                .first_grade_priorities
                .iter()
                .any(|c| c.id == old.id)
        })
        .collect();
    let school = changed(&state, &id).await?;
    let told = crate::first_grade::categories_withdrawn(&state, &school, &removed).await?;
    tracing::info!(admin = %admin.user.id, organisation = %id, ?places, streets = settings.territory.len(),
        priorities = settings.first_grade_priorities.len(), removed = removed.len(), parents_told = told,
        "first grade of a school changed");
    Ok(Json(school))
}

/// All officers, with their organisations.
#[utoipa::path(
    get,
    path = "/api/admin/officers",
    tag = "administration",
    security(("session" = [])),
    responses((status = 200, body = Vec<OfficerView>), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody))
)]
async fn list_officers(
    State(state): State<AppState>,
    _admin: Admin,
) -> Result<Json<Vec<OfficerView>>, ApiError> {
    let mut out = Vec::new();
    for user in users::by_role(&state.db, Role::Officer).await? {
        out.push(officer_view(&state.db, &user).await?);
    }
    Ok(Json(out))
}

/// Adds an officer of a provider organisation, with a first password.
#[utoipa::path(
    post,
    path = "/api/admin/officers",
    tag = "administration",
    security(("session" = [])),
    request_body = NewOfficer,
    responses(
        (status = 201, body = OfficerView),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 409, description = "The IIN has an account", body = ErrorBody),
        (status = 422, body = ErrorBody),
    )
)]
async fn create_officer(
    State(state): State<AppState>,
    Admin(admin): Admin,
    ApiJson(new): ApiJson<NewOfficer>,
) -> Result<(StatusCode, Json<OfficerView>), ApiError> {
    let id = create_staff(&state.db, &new, Role::Officer, false).await?;
    let user = users::by_id(&state.db, &id)
        .await?
        .ok_or_else(|| anyhow::anyhow!("the new officer vanished"))?;
    tracing::info!(admin = %admin.user.id, officer = %id, "officer created");
    Ok((
        StatusCode::CREATED,
        Json(officer_view(&state.db, &user).await?),
    ))
}

async fn officer_view(db: &Db, user: &users::UserRow) -> anyhow::Result<OfficerView> {
    let view = users::view(db, user).await?;
    Ok(OfficerView {
        id: view.id,
        iin_masked: view.iin_masked,
        last_name: view.last_name,
        first_name: view.first_name,
        middle_name: view.middle_name,
        organisation: view.organisation,
        demo: view.demo,
    })
}

/// The officer's own organisation, for the workspace.
#[utoipa::path(
    get,
    path = "/api/workspace",
    tag = "workspace",
    security(("session" = [])),
    responses((status = 200, body = Organisation), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody))
)]
async fn workspace(
    State(state): State<AppState>,
    officer: Officer,
) -> Result<Json<Organisation>, ApiError> {
    let organisation = read(&state.db, &officer.organisation_id)
        .await?
        .ok_or(ApiError::Forbidden(Msg::ErrorForbidden))?;
    Ok(Json(organisation))
}
