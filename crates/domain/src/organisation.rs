//! Organisations: the providers that decide applications, and the places where people collect
//! results (State Corporation branches and providers' offices), with their opening hours.

use std::fmt;

use portal_i18n::Msg;
use serde::{Deserialize, Serialize};

use crate::accounts::OrganisationRef;
use crate::contact::{Email, PersonName, check_password};
use crate::date::Weekday;
use crate::iin::Iin;
use crate::service::ProviderKind;
use crate::text::Text;
use crate::validation::{FieldIssue, Issues};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum OrganisationKind {
    School,
    College,
    PreschoolOrganisation,
    CityEducationDepartment,
    DistrictEducationDepartment,
    RegionalEducationDepartment,
    /// A branch of the State Corporation "Government for Citizens" (ЦОН / ХҚКО).
    StateCorporationBranch,
}

impl OrganisationKind {
    pub const ALL: [OrganisationKind; 7] = [
        OrganisationKind::School,
        OrganisationKind::College,
        OrganisationKind::PreschoolOrganisation,
        OrganisationKind::CityEducationDepartment,
        OrganisationKind::DistrictEducationDepartment,
        OrganisationKind::RegionalEducationDepartment,
        OrganisationKind::StateCorporationBranch,
    ];

    pub fn code(self) -> &'static str {
        match self {
            OrganisationKind::School => "school",
            OrganisationKind::College => "college",
            OrganisationKind::PreschoolOrganisation => "preschool_organisation",
            OrganisationKind::CityEducationDepartment => "city_education_department",
            OrganisationKind::DistrictEducationDepartment => "district_education_department",
            OrganisationKind::RegionalEducationDepartment => "regional_education_department",
            OrganisationKind::StateCorporationBranch => "state_corporation_branch",
        }
    }

    pub fn parse(code: &str) -> Option<OrganisationKind> {
        OrganisationKind::ALL.into_iter().find(|k| k.code() == code)
    }

    /// The kind of provider this organisation is, if it provides services at all.
    pub fn provider_kind(self) -> Option<ProviderKind> {
        match self {
            OrganisationKind::School => Some(ProviderKind::School),
            OrganisationKind::College => Some(ProviderKind::College),
            OrganisationKind::PreschoolOrganisation => Some(ProviderKind::PreschoolOrganisation),
            OrganisationKind::CityEducationDepartment => {
                Some(ProviderKind::CityEducationDepartment)
            }
            OrganisationKind::DistrictEducationDepartment => {
                Some(ProviderKind::DistrictEducationDepartment)
            }
            OrganisationKind::RegionalEducationDepartment => {
                Some(ProviderKind::RegionalEducationDepartment)
            }
            OrganisationKind::StateCorporationBranch => None,
        }
    }

    pub fn label(self) -> Msg {
        match self {
            OrganisationKind::School => Msg::OrgKindSchool,
            OrganisationKind::College => Msg::OrgKindCollege,
            OrganisationKind::PreschoolOrganisation => Msg::OrgKindPreschoolOrganisation,
            OrganisationKind::CityEducationDepartment => Msg::OrgKindCityEducationDepartment,
            OrganisationKind::DistrictEducationDepartment => {
                Msg::OrgKindDistrictEducationDepartment
            }
            OrganisationKind::RegionalEducationDepartment => {
                Msg::OrgKindRegionalEducationDepartment
            }
            OrganisationKind::StateCorporationBranch => Msg::OrgKindStateCorporationBranch,
        }
    }
}

/// A time of day to the minute, `HH:MM`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TimeOfDay {
    minutes: u16,
}

impl TimeOfDay {
    pub fn new(hour: u16, minute: u16) -> Option<TimeOfDay> {
        (hour < 24 && minute < 60).then_some(TimeOfDay {
            minutes: hour * 60 + minute,
        })
    }

    pub fn parse(s: &str) -> Option<TimeOfDay> {
        let (h, m) = s.split_once(':')?;
        if h.len() != 2 || m.len() != 2 || !h.bytes().chain(m.bytes()).all(|b| b.is_ascii_digit()) {
            return None;
        }
        TimeOfDay::new(h.parse().ok()?, m.parse().ok()?)
    }

    pub fn minutes_since_midnight(self) -> u16 {
        self.minutes
    }
}

impl fmt::Display for TimeOfDay {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:02}:{:02}", self.minutes / 60, self.minutes % 60)
    }
}

crate::serde_as_string!(
    TimeOfDay,
    "a time of day as HH:MM",
    "^[0-2][0-9]:[0-5][0-9]$"
);

/// The hours of one weekday: open from `open` to `close`, closed during `break` if there is one.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DayHours {
    pub open: TimeOfDay,
    pub close: TimeOfDay,
    pub break_start: Option<TimeOfDay>,
    pub break_end: Option<TimeOfDay>,
}

/// Hours for each weekday, Monday first; `null` on the days it is closed. Public holidays are
/// closed everywhere (the working-day calendar decides those).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct OpeningHours {
    pub days: [Option<DayHours>; 7],
}

impl OpeningHours {
    pub fn on(&self, day: Weekday) -> Option<DayHours> {
        self.days[day as usize]
    }

    pub fn validate(&self) -> Result<(), Msg> {
        for day in self.days.iter().flatten() {
            if day.open >= day.close {
                return Err(Msg::ErrorHoursOrder);
            }
            match (day.break_start, day.break_end) {
                (None, None) => {}
                (Some(s), Some(e)) if day.open < s && s < e && e < day.close => {}
                _ => return Err(Msg::ErrorHoursBreak),
            }
        }
        if self.days.iter().all(Option::is_none) {
            return Err(Msg::ErrorHoursNone);
        }
        Ok(())
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Organisation {
    pub id: String,
    pub kind: OrganisationKind,
    pub name: Text,
    pub address: Text,
    pub phone: String,
    pub hours: OpeningHours,
    /// Decides applications (its officers see them).
    pub provider: bool,
    /// Hands out results.
    pub pickup_place: bool,
    /// Streets or microdistricts the organisation serves (schools), as written locally.
    pub territory: Vec<Text>,
    /// How many people a pickup slot of this place serves at once.
    pub slot_capacity: u32,
    /// A school's first-grade places for the coming school year.
    pub first_grade_places: Option<u32>,
    /// A school's first-grade priority categories, the highest first.
    #[serde(default)]
    pub first_grade_priorities: Vec<PriorityCategory>,
    pub demo: bool,
}

/// A first-grade priority category of a school (children enrolled before the others, in
/// the order of the school's list) and the documents that prove it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PriorityCategory {
    /// Lower-case letters, digits and `-`; not `none`.
    pub id: String,
    pub name: Text,
    /// The documents the parent attaches to prove it.
    pub proof: Text,
}

/// More priority categories than any school's rules have.
pub const MAX_PRIORITY_CATEGORIES: usize = 10;

impl Organisation {
    /// The rank (0 the highest) of this school's priority category `id`.
    pub fn priority_rank(&self, id: &str) -> Option<u32> {
        self.first_grade_priorities
            .iter()
            .position(|c| c.id == id)
            .map(|rank| rank as u32)
    }
}

/// The most people one pickup slot may serve: more than any hall has desks.
pub const MAX_SLOT_CAPACITY: u32 = 50;

/// `PUT /api/admin/organisations/{id}/slot-capacity`
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SlotCapacity {
    /// 1 to [`MAX_SLOT_CAPACITY`].
    pub capacity: u32,
}

/// `POST /api/admin/organisations`
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct NewOrganisation {
    pub id: String,
    pub kind: OrganisationKind,
    pub name: Text,
    pub address: Text,
    pub phone: String,
    pub hours: OpeningHours,
    pub pickup_place: bool,
    #[serde(default)]
    pub territory: Vec<Text>,
    /// A school's first-grade places, 1 to [`MAX_FIRST_GRADE_PLACES`].
    #[serde(default)]
    pub first_grade_places: Option<u32>,
    /// A school's first-grade priority categories, the highest first.
    #[serde(default)]
    pub first_grade_priorities: Vec<PriorityCategory>,
}

/// More first-grade places than the largest school has.
pub const MAX_FIRST_GRADE_PLACES: u32 = 2000;

impl NewOrganisation {
    pub fn check(&self) -> Result<(), Vec<FieldIssue>> {
        let mut issues = Issues::default();
        let slug = !self.id.is_empty()
            && self.id.len() <= 64
            && !self.id.starts_with('-')
            && !self.id.ends_with('-')
            && self
                .id
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        if !slug {
            issues.add(FieldIssue::new("id", Msg::ErrorOrganisationId));
        }
        check_text(&mut issues, "name", &self.name);
        check_text(&mut issues, "address", &self.address);
        let phone_ok = !self.phone.trim().is_empty()
            && self.phone.len() <= 40
            && self
                .phone
                .chars()
                .all(|c| c.is_ascii_digit() || matches!(c, '+' | ' ' | '-' | '(' | ')' | ','));
        if !phone_ok {
            issues.add(FieldIssue::new("phone", Msg::ErrorPhoneInvalid));
        }
        issues.check("hours", self.hours.validate());
        check_first_grade(
            &mut issues,
            self.kind,
            self.first_grade_places,
            &self.territory,
            &self.first_grade_priorities,
        );
        issues.into_result(())
    }
}

/// `PUT /api/admin/organisations/{id}/first-grade`: a school's first grade for the coming
/// school year. The field names are those of [`NewOrganisation`], so errors read the same.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FirstGradeSettings {
    /// 1 to [`MAX_FIRST_GRADE_PLACES`]; `None` until the school knows.
    pub first_grade_places: Option<u32>,
    /// Streets or microdistricts the school serves, at most [`MAX_TERRITORY_ENTRIES`].
    #[serde(default)]
    pub territory: Vec<Text>,
    /// The priority categories, the highest first.
    #[serde(default)]
    pub first_grade_priorities: Vec<PriorityCategory>,
}

impl FirstGradeSettings {
    /// The settings of an organisation of `kind` (only schools have any).
    pub fn check(&self, kind: OrganisationKind) -> Result<(), Vec<FieldIssue>> {
        let mut issues = Issues::default();
        check_first_grade(
            &mut issues,
            kind,
            self.first_grade_places,
            &self.territory,
            &self.first_grade_priorities,
        );
        issues.into_result(())
    }
}

/// More streets and microdistricts than a school's territory has.
pub const MAX_TERRITORY_ENTRIES: usize = 500;

fn check_first_grade(
    issues: &mut Issues,
    kind: OrganisationKind,
    places: Option<u32>,
    territory: &[Text],
    priorities: &[PriorityCategory],
) {
    let school = kind == OrganisationKind::School;
    if let Some(places) = places {
        if !school || !(1..=MAX_FIRST_GRADE_PLACES).contains(&places) {
            issues.add(
                FieldIssue::new("first_grade_places", Msg::ErrorOrganisationFirstGradePlaces)
                    .arg("max", MAX_FIRST_GRADE_PLACES.to_string()),
            );
        }
    }
    if !territory.is_empty() {
        if !school || territory.len() > MAX_TERRITORY_ENTRIES {
            issues.add(
                FieldIssue::new("territory", Msg::ErrorOrganisationTerritory)
                    .arg("max", MAX_TERRITORY_ENTRIES.to_string()),
            );
        } else {
            for (i, street) in territory.iter().enumerate() {
                check_text(issues, &format!("territory[{i}]"), street);
            }
        }
    }
    check_priorities(issues, kind, priorities);
}

fn check_priorities(issues: &mut Issues, kind: OrganisationKind, categories: &[PriorityCategory]) {
    if categories.is_empty() {
        return;
    }
    if kind != OrganisationKind::School || categories.len() > MAX_PRIORITY_CATEGORIES {
        issues.add(
            FieldIssue::new("first_grade_priorities", Msg::ErrorOrganisationPriorities)
                .arg("max", MAX_PRIORITY_CATEGORIES.to_string()),
        );
        return;
    }
    for (i, category) in categories.iter().enumerate() {
        let at = format!("first_grade_priorities[{i}]");
        let slug = !category.id.is_empty()
            && category.id.len() <= 64
            && category.id != crate::form::NO_PRIORITY
            && category
                .id
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        let unique = categories[..i].iter().all(|c| c.id != category.id);
        if !slug || !unique {
            issues.add(FieldIssue::new(
                format!("{at}.id"),
                Msg::ErrorOrganisationPriorityId,
            ));
        }
        check_text(issues, &format!("{at}.name"), &category.name);
        check_text(issues, &format!("{at}.proof"), &category.proof);
    }
}

/// A territory typed as one street or microdistrict per line in each language, the lines in
/// the same order; blank lines are skipped. The issue is keyed `territory`.
pub fn territory_from_lines(kk: &str, ru: &str, en: &str) -> Result<Vec<Text>, FieldIssue> {
    let lines = |s: &str| -> Vec<String> {
        s.lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .map(str::to_string)
            .collect()
    };
    let (kk, ru, en) = (lines(kk), lines(ru), lines(en));
    if kk.len() != ru.len() || ru.len() != en.len() {
        return Err(FieldIssue::new(
            "territory",
            Msg::ErrorOrganisationTerritoryLines,
        ));
    }
    Ok(kk
        .into_iter()
        .zip(ru)
        .zip(en)
        .map(|((kk, ru), en)| Text { kk, ru, en })
        .collect())
}

/// A text every language has, of at most 300 characters.
fn check_text(issues: &mut Issues, field: &str, text: &Text) {
    for lang in text.blank_languages() {
        issues.add(FieldIssue::new(
            format!("{field}.{lang}"),
            Msg::ErrorTextEmpty,
        ));
    }
    for lang in portal_i18n::Lang::ALL {
        if text.get(lang).chars().count() > 300 {
            issues.add(
                FieldIssue::new(format!("{field}.{lang}"), Msg::ErrorTextTooLong).arg("max", "300"),
            );
        }
    }
}

/// An officer as the administration lists them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct OfficerView {
    pub id: String,
    pub iin_masked: String,
    pub last_name: String,
    pub first_name: String,
    pub middle_name: Option<String>,
    pub organisation: Option<OrganisationRef>,
    pub demo: bool,
}

/// `POST /api/admin/officers`
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct NewOfficer {
    pub iin: String,
    pub last_name: String,
    pub first_name: String,
    #[serde(default)]
    pub middle_name: String,
    #[serde(default)]
    pub email: String,
    pub organisation_id: String,
    /// The first password; the officer can change it.
    pub password: String,
}

pub struct ValidOfficer {
    pub iin: Iin,
    pub last_name: PersonName,
    pub first_name: PersonName,
    pub middle_name: Option<PersonName>,
    pub email: Option<Email>,
    pub organisation_id: String,
    pub password: String,
}

impl NewOfficer {
    /// Parses the staff account; an organisation is required for officers only (administrators
    /// belong to none).
    pub fn parse(&self, requires_organisation: bool) -> Result<ValidOfficer, Vec<FieldIssue>> {
        let mut issues = Issues::default();
        let iin = issues.check("iin", Iin::parse(&self.iin).map_err(|e| e.message()));
        let last_name = issues.check("last_name", PersonName::parse(&self.last_name));
        let first_name = issues.check("first_name", PersonName::parse(&self.first_name));
        let middle_name = issues.optional("middle_name", &self.middle_name, PersonName::parse);
        let email = issues.optional("email", &self.email, Email::parse);
        if requires_organisation && self.organisation_id.trim().is_empty() {
            issues.add(FieldIssue::new(
                "organisation_id",
                Msg::ErrorOrganisationRequired,
            ));
        }
        issues.check("password", check_password(&self.password, &self.iin));
        match (iin, last_name, first_name, middle_name, email) {
            (Some(iin), Some(last_name), Some(first_name), Some(middle_name), Some(email))
                if issues.is_empty() =>
            {
                Ok(ValidOfficer {
                    iin,
                    last_name,
                    first_name,
                    middle_name,
                    email,
                    organisation_id: self.organisation_id.trim().to_string(),
                    password: self.password.clone(),
                })
            }
            _ => Err(issues.0),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(h: u16, m: u16) -> TimeOfDay {
        TimeOfDay::new(h, m).unwrap()
    }

    fn office() -> OpeningHours {
        let day = DayHours {
            open: t(9, 0),
            close: t(18, 0),
            break_start: Some(t(13, 0)),
            break_end: Some(t(14, 0)),
        };
        OpeningHours {
            days: [
                Some(day),
                Some(day),
                Some(day),
                Some(day),
                Some(day),
                None,
                None,
            ],
        }
    }

    #[test]
    fn times_parse_strictly() {
        assert_eq!(
            TimeOfDay::parse("09:30").unwrap().minutes_since_midnight(),
            570
        );
        assert_eq!(TimeOfDay::parse("23:59").unwrap().to_string(), "23:59");
        for bad in ["9:30", "24:00", "12:60", "12-30", "ab:cd", ""] {
            assert_eq!(TimeOfDay::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn opening_hours_are_checked() {
        assert_eq!(office().validate(), Ok(()));
        assert_eq!(office().on(Weekday::Saturday), None);
        let mut h = office();
        h.days[0].as_mut().unwrap().close = t(8, 0);
        assert_eq!(h.validate(), Err(Msg::ErrorHoursOrder));
        let mut h = office();
        h.days[1].as_mut().unwrap().break_end = None;
        assert_eq!(h.validate(), Err(Msg::ErrorHoursBreak));
        let mut h = office();
        h.days[2].as_mut().unwrap().break_start = Some(t(8, 0));
        assert_eq!(h.validate(), Err(Msg::ErrorHoursBreak));
        assert_eq!(
            OpeningHours { days: [None; 7] }.validate(),
            Err(Msg::ErrorHoursNone)
        );
    }

    #[test]
    fn kinds_map_to_provider_kinds() {
        assert_eq!(
            OrganisationKind::School.provider_kind(),
            Some(ProviderKind::School)
        );
        assert_eq!(
            OrganisationKind::StateCorporationBranch.provider_kind(),
            None
        );
        for kind in OrganisationKind::ALL {
            assert_eq!(OrganisationKind::parse(kind.code()), Some(kind));
        }
    }

    fn school(priorities: Vec<PriorityCategory>) -> NewOrganisation {
        NewOrganisation {
            id: "school-1".into(),
            kind: OrganisationKind::School,
            name: Text::same("School No. 1"),
            address: Text::same("1 Abai Avenue"),
            phone: "+7 727 300 00 01".into(),
            hours: office(),
            pickup_place: true,
            territory: Vec::new(),
            first_grade_places: Some(50),
            first_grade_priorities: priorities,
        }
    }

    fn category(id: &str) -> PriorityCategory {
        PriorityCategory {
            id: id.into(),
            name: Text::same("Sibling at the school"),
            proof: Text::same("Birth certificates"),
        }
    }

    #[test]
    fn priority_categories_are_checked_and_ranked_in_order() {
        assert_eq!(
            school(vec![category("sibling"), category("disability")]).check(),
            Ok(())
        );
        let fields = |o: NewOrganisation| -> Vec<String> {
            o.check()
                .unwrap_err()
                .into_iter()
                .map(|i| i.field)
                .collect()
        };
        assert_eq!(
            fields(school(vec![category("sibling"), category("sibling")])),
            ["first_grade_priorities[1].id"]
        );
        assert_eq!(
            fields(school(vec![category("none")])),
            ["first_grade_priorities[0].id"]
        );
        assert_eq!(
            fields(school(vec![category("Sibling!")])),
            ["first_grade_priorities[0].id"]
        );
        let mut blank = category("sibling");
        blank.proof = Text::same("");
        assert_eq!(
            fields(school(vec![blank])),
            [
                "first_grade_priorities[0].proof.kk",
                "first_grade_priorities[0].proof.ru",
                "first_grade_priorities[0].proof.en"
            ]
        );
        let mut college = school(vec![category("sibling")]);
        college.kind = OrganisationKind::College;
        college.first_grade_places = None;
        assert_eq!(fields(college), ["first_grade_priorities"]);
        let many = (0..=MAX_PRIORITY_CATEGORIES)
            .map(|i| category(&format!("c{i}")))
            .collect();
        assert_eq!(fields(school(many)), ["first_grade_priorities"]);

        let org = Organisation {
            id: "school-1".into(),
            kind: OrganisationKind::School,
            name: Text::same("School No. 1"),
            address: Text::same("1 Abai Avenue"),
            phone: String::new(),
            hours: office(),
            provider: true,
            pickup_place: true,
            territory: Vec::new(),
            slot_capacity: 1,
            first_grade_places: Some(50),
            first_grade_priorities: vec![category("disability"), category("sibling")],
            demo: false,
        };
        assert_eq!(org.priority_rank("disability"), Some(0));
        assert_eq!(org.priority_rank("sibling"), Some(1));
        assert_eq!(org.priority_rank("none"), None);
    }

    #[test]
    fn first_grade_settings_belong_to_schools_and_have_limits() {
        let settings = FirstGradeSettings {
            first_grade_places: Some(60),
            territory: vec![Text::same("Abai Avenue")],
            first_grade_priorities: vec![category("sibling")],
        };
        assert_eq!(settings.check(OrganisationKind::School), Ok(()));
        let fields = |s: &FirstGradeSettings, kind| -> Vec<String> {
            s.check(kind)
                .unwrap_err()
                .into_iter()
                .map(|i| i.field)
                .collect()
        };
        assert_eq!(
            fields(&settings, OrganisationKind::College),
            ["first_grade_places", "territory", "first_grade_priorities"]
        );
        let none = FirstGradeSettings {
            first_grade_places: None,
            territory: Vec::new(),
            first_grade_priorities: Vec::new(),
        };
        assert_eq!(none.check(OrganisationKind::College), Ok(()));
        let zero = FirstGradeSettings {
            first_grade_places: Some(0),
            ..settings.clone()
        };
        assert_eq!(
            fields(&zero, OrganisationKind::School),
            ["first_grade_places"]
        );
        let huge = FirstGradeSettings {
            territory: vec![Text::same("Street"); MAX_TERRITORY_ENTRIES + 1],
            ..settings.clone()
        };
        assert_eq!(fields(&huge, OrganisationKind::School), ["territory"]);
        let mut half = Text::same("Abai Avenue");
        half.en = " ".into();
        let blank = FirstGradeSettings {
            territory: vec![Text::same("Samal-2"), half],
            ..settings
        };
        assert_eq!(
            fields(&blank, OrganisationKind::School),
            ["territory[1].en"]
        );
    }

    #[test]
    fn a_territory_is_typed_line_by_line_in_each_language() {
        let territory = territory_from_lines(
            "Абай даңғылы\n\nSamal-2\n",
            "пр. Абая\nSamal-2",
            "Abai Avenue\n  Samal-2  ",
        )
        .unwrap();
        assert_eq!(
            territory,
            [
                Text {
                    kk: "Абай даңғылы".into(),
                    ru: "пр. Абая".into(),
                    en: "Abai Avenue".into()
                },
                Text::same("Samal-2")
            ]
        );
        assert_eq!(territory_from_lines("", "", ""), Ok(Vec::new()));
        let uneven =
            territory_from_lines("Абай даңғылы\nСамал-2", "пр. Абая", "Abai Avenue").unwrap_err();
        assert_eq!(uneven.field, "territory");
        assert_eq!(uneven.msg, Msg::ErrorOrganisationTerritoryLines);
    }
}
