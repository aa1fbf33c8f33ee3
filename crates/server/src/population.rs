//! The population register (the state's database of individuals) as the portal needs it: a
//! child's record by IIN, with the parents registered for the child, and a parent's children.
//!
//! It sits behind [`PopulationRegister`]. The only implementation here is [`DemoRegister`]
//! (`demo/population.json`, used when `PORTAL_DEMO=1`): a stand-in for the state service that a
//! deployment plugs in. Without a register the portal cannot pre-fill a child's data or check
//! parenthood, and says so (`503` on the children endpoint; first-grade checks that need it are
//! skipped).

use std::path::Path;

use axum::Json;
use axum::extract::State;
use portal_domain::api::ErrorBody;
use portal_domain::date::Date;
use portal_domain::form::AddressAnswer;
use portal_domain::population::RegisterChild;
use portal_i18n::Msg;
use serde::Deserialize;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::accounts::auth::Citizen;
use crate::app::AppState;
use crate::error::ApiError;

/// A child's record and the IINs of the parents registered for the child.
#[derive(Clone, Debug)]
pub struct RegisterRecord {
    pub child: RegisterChild,
    pub parents: Vec<String>,
}

pub trait PopulationRegister: Send + Sync {
    fn child(&self, iin: &str) -> Option<RegisterRecord>;
    fn children_of(&self, parent_iin: &str) -> Vec<RegisterChild>;
}

/// The demo register: the children of the demo world's parents.
pub struct DemoRegister {
    records: Vec<RegisterRecord>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DemoFile {
    #[allow(dead_code)]
    note: String,
    children: Vec<DemoChild>,
}

/// A demo child, born `age` years before the current year on `birthday`, so that the demo
/// world has first-graders every year.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DemoChild {
    parents: Vec<String>,
    age: i32,
    birthday: String,
    female: bool,
    serial: u32,
    last_name: String,
    first_name: String,
    middle_name: Option<String>,
    address: AddressAnswer,
    birth_certificate: bool,
}

/// A valid IIN for a person born on `birth`, from `serial` on.
fn iin_for(birth: Date, female: bool, mut serial: u32) -> String {
    let century = match (birth.year() >= 2000, female) {
        (false, false) => 3,
        (false, true) => 4,
        (true, false) => 5,
        (true, true) => 6,
    };
    loop {
        let first = format!(
            "{:02}{:02}{:02}{century}{:04}",
            birth.year() % 100,
            birth.month(),
            birth.day(),
            serial % 10_000
        );
        let digits: [u8; 11] = first
            .bytes()
            .map(|b| b - b'0')
            .collect::<Vec<_>>()
            .try_into()
            .expect("eleven digits");
        if let Some(control) = portal_domain::iin::control_digit(&digits) {
            return format!("{first}{control}");
        }
        serial += 1;
    }
}

impl DemoRegister {
    pub fn load(path: &Path, today: Date) -> anyhow::Result<DemoRegister> {
        let file: DemoFile = serde_json::from_slice(&std::fs::read(path)?)?;
        let records = file
            .children
            .into_iter()
            .map(|c| {
                let day = portal_domain::service::MonthDay::parse(&c.birthday)
                    .ok_or_else(|| anyhow::anyhow!("`{}` is not MM-DD", c.birthday))?;
                let birth =
                    Date::from_ymd(today.year() - c.age, day.month, day.day).map_err(|_| {
                        anyhow::anyhow!("{} has no {}", today.year() - c.age, c.birthday)
                    })?;
                Ok(RegisterRecord {
                    child: RegisterChild {
                        iin: iin_for(birth, c.female, c.serial),
                        last_name: c.last_name,
                        first_name: c.first_name,
                        middle_name: c.middle_name,
                        birth_date: birth,
                        address: c.address,
                        birth_certificate: c.birth_certificate,
                    },
                    parents: c.parents,
                })
            })
            .collect::<anyhow::Result<Vec<_>>>()?;
        Ok(DemoRegister { records })
    }
}

impl PopulationRegister for DemoRegister {
    fn child(&self, iin: &str) -> Option<RegisterRecord> {
        self.records.iter().find(|r| r.child.iin == iin).cloned()
    }

    fn children_of(&self, parent_iin: &str) -> Vec<RegisterChild> {
        self.records
            .iter()
            .filter(|r| r.parents.iter().any(|p| p == parent_iin))
            .map(|r| r.child.clone())
            .collect()
    }
}

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(my_children))
}

/// The caller's children as the population register knows them, to fill in a form.
#[utoipa::path(
    get,
    path = "/api/population/children",
    tag = "first grade",
    security(("session" = [])),
    responses(
        (status = 200, body = Vec<RegisterChild>),
        (status = 401, body = ErrorBody),
        (status = 503, description = "No population register is connected", body = ErrorBody),
    )
)]
async fn my_children(
    State(state): State<AppState>,
    Citizen(auth): Citizen,
) -> Result<Json<Vec<RegisterChild>>, ApiError> {
    let register = state
        .population
        .as_ref()
        .ok_or(ApiError::Unavailable(Msg::ErrorPopulationUnavailable))?;
    Ok(Json(register.children_of(&auth.user.iin)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn demo_children_are_of_the_same_age_every_year() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../demo/population.json");
        for year in [2026, 2031] {
            let today = Date::from_ymd(year, 11, 24).unwrap();
            let register = DemoRegister::load(&path, today).unwrap();
            let children = register.children_of("880314412019");
            assert!(!children.is_empty());
            for child in &children {
                let iin = portal_domain::iin::Iin::parse(&child.iin).expect("a valid IIN");
                assert_eq!(iin.birth_date(), child.birth_date);
                assert!(child.birth_date.year() >= year - 7);
                let record = register.child(&child.iin).unwrap();
                assert!(record.parents.iter().any(|p| p == "880314412019"));
            }
        }
        assert!(
            DemoRegister::load(&path, Date::from_ymd(2026, 1, 1).unwrap())
                .unwrap()
                .child("000000000000")
                .is_none()
        );
    }
}
