//! The service-definition schema: what a public service is, as its regulation describes it.
//!
//! One definition file per service lives in `services/<id>.json` (documented in
//! `services/README.md`). The schema separates what a seed regulation states from what it leaves
//! out: a value the seed does not give is `not_in_seed` (or `null`), never invented, and anything
//! known from outside the seeds is marked as such.

use std::collections::BTreeSet;
use std::fmt;

use serde::{Deserialize, Serialize};

use crate::date::days_in_month;
use crate::text::Text;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ServiceDefinition {
    /// Stable, language-independent id, e.g. `school-enrollment`; equals the file name.
    pub id: String,
    /// Position in the catalogue (the seed catalogue's numbering); orders listings.
    pub catalogue_number: u32,
    pub categories: Vec<Category>,
    /// The official name. Kazakh from the seed; Russian official or a translation (see below).
    pub name: Text,
    /// True when the seed has no Russian text and `name.ru` is our translation.
    pub name_ru_is_translation: bool,
    /// A short name for lists and headings.
    pub short_name: Text,
    /// What the service is for, in plain language.
    pub summary: Text,
    pub source: Source,
    pub provider: Provider,
    pub recipients: Stated<Text>,
    pub fee: Stated<Text>,
    pub channels: Channels,
    /// "Electronic and/or paper" and similar, as the regulation puts it.
    pub form_of_service: Text,
    pub result: ServiceResult,
    pub term: Term,
    pub service_times: ServiceTimes,
    pub documents: Documents,
    pub refusal_grounds: RefusalGrounds,
    /// The procedure steps, in order.
    pub steps: Vec<Step>,
    /// The provider inspects the applicant's home and records an act before deciding.
    #[serde(default)]
    pub home_inspection: bool,
    pub schedule: Schedule,
    /// Rules of the regulation that do not fit a field above.
    #[serde(default)]
    pub special_notes: Vec<Text>,
    /// Contradictions found inside the seed texts.
    #[serde(default)]
    pub discrepancies: Vec<Text>,
    /// General knowledge from outside the seeds, to be verified; shown as such.
    pub outside_seeds: Option<Text>,
    /// The application form; every service with the portal channel has one.
    #[serde(default)]
    pub form: Option<crate::form::FormDefinition>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum Category {
    Schools,
    FamilyAndChildren,
    VocationalEducation,
    Teachers,
}

impl Category {
    pub const ALL: [Category; 4] = [
        Category::Schools,
        Category::FamilyAndChildren,
        Category::VocationalEducation,
        Category::Teachers,
    ];

    pub fn code(self) -> &'static str {
        match self {
            Category::Schools => "schools",
            Category::FamilyAndChildren => "family_and_children",
            Category::VocationalEducation => "vocational_education",
            Category::Teachers => "teachers",
        }
    }

    pub fn parse(code: &str) -> Option<Category> {
        Category::ALL.into_iter().find(|c| c.code() == code)
    }
}

/// A value the seed regulation either states or is silent about.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum Stated<T> {
    Stated(T),
    NotInSeed,
}

impl<T> Stated<T> {
    pub fn as_option(&self) -> Option<&T> {
        match self {
            Stated::Stated(v) => Some(v),
            Stated::NotInSeed => None,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Source {
    /// Seed files under `../shared/seeds/` the definition is built from.
    pub seed_files: Vec<String>,
    /// The regulation (act) and its registration.
    pub act: Text,
    /// The ministerial Standard the regulation implements.
    pub standard: Text,
    pub region: Text,
    /// Whether the act is in force, repealed, or unknown.
    pub legal_status: Text,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Provider {
    /// Which kinds of organisation provide the service; applications are routed by it.
    pub kinds: Vec<ProviderKind>,
    pub name: Text,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum ProviderKind {
    School,
    College,
    PreschoolOrganisation,
    CityEducationDepartment,
    DistrictEducationDepartment,
    RegionalEducationDepartment,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum Channel {
    /// The provider's office (канцелярия / кеңсе).
    ProviderOffice,
    /// State Corporation "Government for Citizens" (ЦОН / ХҚКО).
    StateCorporation,
    /// The e-government portal; in this product, this portal.
    Portal,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Channels {
    /// Where an application can be submitted.
    pub submit: Vec<Channel>,
    /// Where the result can be received.
    pub result: Vec<Channel>,
    /// The portal can book a State Corporation queue slot for this service.
    pub portal_queue_booking: bool,
    pub note: Option<Text>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum ResultForm {
    Electronic,
    Paper,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ServiceResult {
    pub description: Text,
    pub forms: Vec<ResultForm>,
    /// What a portal applicant receives, where it differs from the result itself.
    pub portal_note: Option<Text>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Duration {
    pub value: u32,
    pub unit: DurationUnit,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum DurationUnit {
    Minutes,
    Hours,
    WorkingDays,
    CalendarDays,
}

/// A day of the year without a year, `MM-DD`, for windows that recur every year.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct MonthDay {
    pub month: u32,
    pub day: u32,
}

impl MonthDay {
    pub fn parse(s: &str) -> Option<MonthDay> {
        let (m, d) = s.split_once('-')?;
        if m.len() != 2 || d.len() != 2 || !m.bytes().chain(d.bytes()).all(|b| b.is_ascii_digit()) {
            return None;
        }
        let (month, day) = (m.parse().ok()?, d.parse().ok()?);
        // 2000 is a leap year, so 29 February is accepted.
        ((1..=12).contains(&month) && day >= 1 && day <= days_in_month(2000, month))
            .then_some(MonthDay { month, day })
    }
}

impl fmt::Display for MonthDay {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:02}-{:02}", self.month, self.day)
    }
}

crate::serde_as_string!(
    MonthDay,
    "a day of the year as MM-DD",
    "^[0-9]{2}-[0-9]{2}$"
);

/// A period of the year during which something happens, e.g. first-grade applications.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Window {
    pub what: Text,
    /// First day, or `null` for "not later than `until`".
    pub from: Option<MonthDay>,
    /// Last day, inclusive.
    pub until: MonthDay,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Term {
    /// The overall term as the seed states it; `null` when the seed gives none.
    pub stated: Option<Duration>,
    /// When the seed gives no term: the sum of the step durations, shown as an estimate.
    pub derived: Option<Duration>,
    /// A longer term when applying at a State Corporation office away from the provider.
    pub outside_provider_location: Option<Duration>,
    /// Whether the day of submission counts; `null` when the seed does not say.
    pub submission_day_counted: Option<bool>,
    #[serde(default)]
    pub windows: Vec<Window>,
    pub note: Option<Text>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PlaceMinutes {
    pub provider: Option<u32>,
    pub state_corporation: Option<u32>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ServiceTimes {
    pub max_wait_minutes: PlaceMinutes,
    pub max_service_minutes: PlaceMinutes,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum Origin {
    /// Stated in a seed regulation.
    Seed,
    /// General knowledge from outside the seeds; to be verified.
    OutsideSeeds,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Documents {
    /// False when the seed only refers to "paragraph 9 of the Standard" without listing it.
    pub stated_in_seed: bool,
    pub items: Vec<DocumentItem>,
    pub note: Option<Text>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DocumentItem {
    pub id: String,
    pub name: Text,
    /// `null` when the seed does not say whether it is required.
    pub required: Option<bool>,
    /// The portal takes it from state information systems; the applicant does not upload it.
    pub from_state_systems: bool,
    pub origin: Origin,
    pub note: Option<Text>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RefusalGrounds {
    /// False when the seed gives no grounds (e.g. only refers to paragraph 10 of the Standard).
    pub stated_in_seed: bool,
    pub items: Vec<RefusalGround>,
    /// The appendix of the Standard whose form the refusal-to-accept receipt uses, if given.
    pub refusal_to_accept_appendix: Option<u32>,
    pub note: Option<Text>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RefusalGround {
    pub id: String,
    pub text: Text,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum StepChannel {
    /// Steps inside the provider (also for portal applications).
    Provider,
    /// Steps when the application goes through the State Corporation.
    StateCorporation,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Step {
    pub channel: StepChannel,
    pub actor: Text,
    pub action: Text,
    /// `null` when the step is bounded by a date window or the seed gives no duration.
    pub duration: Option<Duration>,
    pub duration_note: Option<Text>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Schedule {
    /// The provider's hours; `null` when the seed does not give them.
    pub provider: Option<Text>,
    pub state_corporation: Option<Text>,
    pub portal: Option<Text>,
}

/// A problem in a definition, located by a JSON path such as `steps[2].actor.kk`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DefinitionError {
    pub field: String,
    pub problem: String,
}

impl fmt::Display for DefinitionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "field `{}`: {}", self.field, self.problem)
    }
}

impl ServiceDefinition {
    /// Whether citizens can apply for this service on the portal.
    pub fn has_portal_channel(&self) -> bool {
        self.channels.submit.contains(&Channel::Portal)
    }

    /// Checks what the types alone cannot: ids, non-empty texts in every language, consistent
    /// channels and durations. Returns every problem, not just the first.
    pub fn validate(&self) -> Result<(), Vec<DefinitionError>> {
        let mut c = Checker::default();
        if !is_slug(&self.id) {
            c.problem(
                "id",
                "use lower-case letters, digits and single hyphens, at most 64 characters",
            );
        }
        if self.catalogue_number == 0 {
            c.problem("catalogue_number", "must be 1 or more");
        }
        c.non_empty_unique("categories", &self.categories);
        c.text("name", &self.name);
        c.text("short_name", &self.short_name);
        c.text("summary", &self.summary);

        if self.source.seed_files.is_empty() {
            c.problem("source.seed_files", "name at least one seed file");
        }
        for (i, file) in self.source.seed_files.iter().enumerate() {
            if file.is_empty() || file.contains(['/', '\\']) || !file.ends_with(".txt") {
                c.problem(
                    &format!("source.seed_files[{i}]"),
                    "a seed file name such as `001_1e222ad471f55585.txt`",
                );
            }
        }
        c.text("source.act", &self.source.act);
        c.text("source.standard", &self.source.standard);
        c.text("source.region", &self.source.region);
        c.text("source.legal_status", &self.source.legal_status);

        c.non_empty_unique("provider.kinds", &self.provider.kinds);
        c.text("provider.name", &self.provider.name);
        if let Stated::Stated(t) = &self.recipients {
            c.text("recipients.stated", t);
        }
        if let Stated::Stated(t) = &self.fee {
            c.text("fee.stated", t);
        }

        c.non_empty_unique("channels.submit", &self.channels.submit);
        c.non_empty_unique("channels.result", &self.channels.result);
        c.opt_text("channels.note", &self.channels.note);
        c.text("form_of_service", &self.form_of_service);

        c.text("result.description", &self.result.description);
        c.non_empty_unique("result.forms", &self.result.forms);
        c.opt_text("result.portal_note", &self.result.portal_note);

        c.opt_duration("term.stated", self.term.stated);
        c.opt_duration("term.derived", self.term.derived);
        c.opt_duration(
            "term.outside_provider_location",
            self.term.outside_provider_location,
        );
        if self.term.stated.is_some() && self.term.derived.is_some() {
            c.problem("term.derived", "only when the seed states no term");
        }
        if self.term.outside_provider_location.is_some() && self.term.stated.is_none() {
            c.problem("term.outside_provider_location", "needs a stated term");
        }
        for (i, w) in self.term.windows.iter().enumerate() {
            c.text(&format!("term.windows[{i}].what"), &w.what);
        }
        c.opt_text("term.note", &self.term.note);

        let mut ids = BTreeSet::new();
        for (i, d) in self.documents.items.iter().enumerate() {
            let at = format!("documents.items[{i}]");
            if !is_slug(&d.id) {
                c.problem(
                    &format!("{at}.id"),
                    "use lower-case letters, digits and single hyphens",
                );
            } else if !ids.insert(d.id.as_str()) {
                c.problem(&format!("{at}.id"), "the same id appears twice");
            }
            c.text(&format!("{at}.name"), &d.name);
            c.opt_text(&format!("{at}.note"), &d.note);
        }
        if !self.documents.stated_in_seed && self.documents.note.is_none() {
            c.problem(
                "documents.note",
                "say what the seed gives instead of a list",
            );
        }
        c.opt_text("documents.note", &self.documents.note);

        let mut ids = BTreeSet::new();
        for (i, g) in self.refusal_grounds.items.iter().enumerate() {
            let at = format!("refusal_grounds.items[{i}]");
            if !is_slug(&g.id) {
                c.problem(
                    &format!("{at}.id"),
                    "use lower-case letters, digits and single hyphens",
                );
            } else if !ids.insert(g.id.as_str()) {
                c.problem(&format!("{at}.id"), "the same id appears twice");
            }
            c.text(&format!("{at}.text"), &g.text);
        }
        if self.refusal_grounds.stated_in_seed == self.refusal_grounds.items.is_empty() {
            c.problem(
                "refusal_grounds.items",
                "list the grounds exactly when the seed states them",
            );
        }
        if !self.refusal_grounds.stated_in_seed && self.refusal_grounds.note.is_none() {
            c.problem(
                "refusal_grounds.note",
                "say what the seed gives instead of grounds",
            );
        }
        c.opt_text("refusal_grounds.note", &self.refusal_grounds.note);

        if self.steps.is_empty() {
            c.problem("steps", "list the procedure steps");
        }
        for (i, s) in self.steps.iter().enumerate() {
            let at = format!("steps[{i}]");
            c.text(&format!("{at}.actor"), &s.actor);
            c.text(&format!("{at}.action"), &s.action);
            c.opt_duration(&format!("{at}.duration"), s.duration);
            c.opt_text(&format!("{at}.duration_note"), &s.duration_note);
            if s.duration.is_none() && s.duration_note.is_none() {
                c.problem(
                    &format!("{at}.duration_note"),
                    "explain a step without a duration",
                );
            }
        }
        if self
            .steps
            .iter()
            .any(|s| s.channel == StepChannel::StateCorporation)
            && !self.channels.submit.contains(&Channel::StateCorporation)
        {
            c.problem(
                "steps",
                "State Corporation steps, but no State Corporation channel in channels.submit",
            );
        }

        c.opt_text("schedule.provider", &self.schedule.provider);
        c.opt_text(
            "schedule.state_corporation",
            &self.schedule.state_corporation,
        );
        c.opt_text("schedule.portal", &self.schedule.portal);
        for (i, t) in self.special_notes.iter().enumerate() {
            c.text(&format!("special_notes[{i}]"), t);
        }
        for (i, t) in self.discrepancies.iter().enumerate() {
            c.text(&format!("discrepancies[{i}]"), t);
        }
        c.opt_text("outside_seeds", &self.outside_seeds);

        match &self.form {
            None if self.has_portal_channel() => {
                c.problem("form", "a service with the portal channel needs a form")
            }
            None => {}
            Some(form) => {
                let mut documents: Vec<&str> =
                    self.documents.items.iter().map(|d| d.id.as_str()).collect();
                documents.push(crate::form::POA_DOCUMENT);
                for (field, problem) in form.check(&documents) {
                    c.problem(&field, &problem);
                }
                fn code(v: impl Serialize) -> Option<serde_json::Value> {
                    serde_json::to_value(v).ok()
                }
                match form.provider_field() {
                    None => c.problem("form.pages", "needs a required, always-shown `organisation` field choosing the provider"),
                    Some((id, kind)) if !self.provider.kinds.iter().any(|k| code(k) == code(&kind)) => {
                        c.problem("form.pages", &format!("field `{id}` chooses a kind of organisation that is not in provider.kinds"))
                    }
                    Some(_) => {}
                }
            }
        }

        if c.errors.is_empty() {
            Ok(())
        } else {
            Err(c.errors)
        }
    }
}

fn is_slug(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 64
        && !s.starts_with('-')
        && !s.ends_with('-')
        && !s.contains("--")
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

#[derive(Default)]
struct Checker {
    errors: Vec<DefinitionError>,
}

impl Checker {
    fn problem(&mut self, field: &str, problem: &str) {
        self.errors.push(DefinitionError {
            field: field.to_string(),
            problem: problem.to_string(),
        });
    }

    fn text(&mut self, field: &str, text: &Text) {
        for lang in text.blank_languages() {
            self.problem(&format!("{field}.{lang}"), "empty text");
        }
    }

    fn opt_text(&mut self, field: &str, text: &Option<Text>) {
        if let Some(t) = text {
            self.text(field, t);
        }
    }

    fn opt_duration(&mut self, field: &str, d: Option<Duration>) {
        if let Some(d) = d {
            if d.value == 0 {
                self.problem(&format!("{field}.value"), "a duration must be 1 or more");
            }
        }
    }

    fn non_empty_unique<T: Ord>(&mut self, field: &str, items: &[T]) {
        if items.is_empty() {
            self.problem(field, "must not be empty");
        }
        let unique: BTreeSet<&T> = items.iter().collect();
        if unique.len() != items.len() {
            self.problem(field, "contains the same value twice");
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub(crate) fn text(s: &str) -> Text {
        Text {
            kk: format!("{s} (kk)"),
            ru: format!("{s} (ru)"),
            en: s.to_string(),
        }
    }

    pub(crate) fn sample() -> ServiceDefinition {
        ServiceDefinition {
            id: "externat-permission".into(),
            catalogue_number: 2,
            categories: vec![Category::Schools],
            name: text("Permission to study as an external student"),
            name_ru_is_translation: false,
            short_name: text("External study"),
            summary: text("Permission to study at home and take examinations at school"),
            source: Source {
                seed_files: vec!["001_1e222ad471f55585.txt".into()],
                act: text("Resolution No. 3/542"),
                standard: text("MES order No. 179"),
                region: text("Almaty"),
                legal_status: text("Unknown"),
            },
            provider: Provider {
                kinds: vec![ProviderKind::CityEducationDepartment],
                name: text("Education department"),
            },
            recipients: Stated::Stated(text("Physical persons")),
            fee: Stated::Stated(text("Free")),
            channels: Channels {
                submit: vec![Channel::StateCorporation, Channel::Portal],
                result: vec![Channel::StateCorporation, Channel::Portal],
                portal_queue_booking: true,
                note: None,
            },
            form_of_service: text("Electronic and/or paper"),
            result: ServiceResult {
                description: text("Extract from the order"),
                forms: vec![ResultForm::Electronic],
                portal_note: None,
            },
            term: Term {
                stated: Some(Duration {
                    value: 15,
                    unit: DurationUnit::WorkingDays,
                }),
                derived: None,
                outside_provider_location: None,
                submission_day_counted: Some(false),
                windows: vec![Window {
                    what: text("Apply by"),
                    from: None,
                    until: MonthDay { month: 12, day: 1 },
                }],
                note: None,
            },
            service_times: ServiceTimes {
                max_wait_minutes: PlaceMinutes {
                    provider: Some(15),
                    state_corporation: None,
                },
                max_service_minutes: PlaceMinutes {
                    provider: Some(15),
                    state_corporation: None,
                },
            },
            documents: Documents {
                stated_in_seed: false,
                items: vec![DocumentItem {
                    id: "application".into(),
                    name: text("Application"),
                    required: Some(true),
                    from_state_systems: false,
                    origin: Origin::Seed,
                    note: None,
                }],
                note: Some(text("Paragraph 9 of the Standard")),
            },
            refusal_grounds: RefusalGrounds {
                stated_in_seed: false,
                items: vec![],
                refusal_to_accept_appendix: Some(3),
                note: Some(text("Not in seed")),
            },
            home_inspection: false,
            steps: vec![Step {
                channel: StepChannel::Provider,
                actor: text("Specialist"),
                action: text("Prepares the extract"),
                duration: Some(Duration {
                    value: 14,
                    unit: DurationUnit::WorkingDays,
                }),
                duration_note: None,
            }],
            schedule: Schedule {
                provider: None,
                state_corporation: Some(text("Mon–Sat 9–20")),
                portal: Some(text("24/7")),
            },
            special_notes: vec![],
            discrepancies: vec![],
            outside_seeds: None,
            form: Some({
                let mut form = crate::form::tests::sample_form();
                form.pages[0].fields.insert(
                    0,
                    crate::form::Field {
                        id: "department".into(),
                        label: text("Department"),
                        hint: None,
                        kind: crate::form::FieldKind::Organisation {
                            kind: crate::organisation::OrganisationKind::CityEducationDepartment,
                        },
                        required: true,
                        visible_if: None,
                        origin: Origin::Seed,
                    },
                );
                form
            }),
        }
    }

    fn fields(def: &ServiceDefinition) -> Vec<String> {
        def.validate()
            .err()
            .unwrap_or_default()
            .into_iter()
            .map(|e| e.field)
            .collect()
    }

    #[test]
    fn a_complete_definition_is_valid() {
        assert_eq!(sample().validate(), Ok(()));
        assert!(sample().has_portal_channel());
    }

    #[test]
    fn names_the_field_of_an_empty_translation() {
        let mut def = sample();
        def.steps[0].actor.kk = "  ".into();
        assert_eq!(fields(&def), vec!["steps[0].actor.kk"]);
    }

    #[test]
    fn rejects_bad_ids_and_duplicates() {
        let mut def = sample();
        def.id = "Externat_Permission".into();
        def.categories.push(Category::Schools);
        def.documents.items.push(def.documents.items[0].clone());
        assert_eq!(
            fields(&def),
            vec!["id", "categories", "documents.items[1].id"]
        );
    }

    #[test]
    fn refusal_grounds_are_listed_exactly_when_stated() {
        let mut def = sample();
        def.refusal_grounds.stated_in_seed = true;
        assert_eq!(fields(&def), vec!["refusal_grounds.items"]);
    }

    #[test]
    fn a_step_needs_a_duration_or_an_explanation() {
        let mut def = sample();
        def.steps[0].duration = None;
        assert_eq!(fields(&def), vec!["steps[0].duration_note"]);
        def.steps[0].duration = Some(Duration {
            value: 0,
            unit: DurationUnit::Minutes,
        });
        assert_eq!(fields(&def), vec!["steps[0].duration.value"]);
    }

    #[test]
    fn the_form_chooses_a_provider_of_the_service() {
        let mut def = sample();
        def.form.as_mut().unwrap().pages[0].fields.remove(0);
        assert_eq!(fields(&def), vec!["form.pages"], "no provider field");
        let mut def = sample();
        def.provider.kinds = vec![ProviderKind::School];
        assert_eq!(
            fields(&def),
            vec!["form.pages"],
            "a provider field of another kind"
        );
    }

    #[test]
    fn state_corporation_steps_need_that_channel() {
        let mut def = sample();
        def.channels.submit = vec![Channel::Portal];
        def.steps[0].channel = StepChannel::StateCorporation;
        assert_eq!(fields(&def), vec!["steps"]);
    }

    #[test]
    fn a_derived_term_only_stands_in_for_a_missing_one() {
        let mut def = sample();
        def.term.derived = Some(Duration {
            value: 3,
            unit: DurationUnit::WorkingDays,
        });
        assert_eq!(fields(&def), vec!["term.derived"]);
    }

    #[test]
    fn month_days_parse_strictly() {
        assert_eq!(
            MonthDay::parse("06-01"),
            Some(MonthDay { month: 6, day: 1 })
        );
        assert_eq!(
            MonthDay::parse("02-29"),
            Some(MonthDay { month: 2, day: 29 })
        );
        for bad in [
            "6-01", "06-1", "13-01", "04-31", "00-10", "06/01", "ab-cd", "",
        ] {
            assert_eq!(MonthDay::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn unknown_fields_are_rejected_when_parsing() {
        let mut json = serde_json::to_value(sample()).unwrap();
        json["colour"] = "blue".into();
        let err = serde_json::from_value::<ServiceDefinition>(json).unwrap_err();
        assert!(err.to_string().contains("colour"), "{err}");
    }

    #[test]
    fn not_in_seed_is_a_plain_string() {
        let mut def = sample();
        def.fee = Stated::NotInSeed;
        let json = serde_json::to_value(&def).unwrap();
        assert_eq!(json["fee"], "not_in_seed");
        assert_eq!(json["recipients"]["stated"]["en"], "Physical persons");
    }
}
