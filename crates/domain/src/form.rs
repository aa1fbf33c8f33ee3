//! Application forms: how a service's form is described, what an answer is, and the validation
//! that the browser runs for instant feedback and the server runs with authority.
//!
//! A form is pages of fields. Answers are a flat map from field id to value; items of a
//! repeatable group are maps of their own (`children[0].birth_date` names a field inside).

use std::collections::{BTreeMap, BTreeSet};

use portal_i18n::{Lang, Msg};
use serde::{Deserialize, Serialize};

use crate::contact::{Email, PersonName, Phone};
use crate::date::Date;
use crate::iin::Iin;
use crate::organisation::{Organisation, OrganisationKind};
use crate::service::Origin;
use crate::text::Text;
use crate::validation::{FieldIssue, Issues};

/// Longest free text of any field, in characters, whatever the definition says.
pub const MAX_TEXT_CHARS: u32 = 4000;
/// Most items of any repeatable group.
pub const MAX_GROUP_ITEMS: u32 = 20;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FormDefinition {
    /// For whom an application can be made. With more than one choice, the form starts with a
    /// standard page asking it (see [`subject_page`]).
    pub on_behalf: Vec<OnBehalf>,
    pub pages: Vec<FormPage>,
    /// Rules between fields, checked when the form is complete.
    #[serde(default)]
    pub rules: Vec<CrossRule>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum OnBehalf {
    /// The signed-in person applies for themself.
    Myself,
    /// A parent (or guardian) applies for their child.
    Child,
    /// A representative applies with a notarised power of attorney.
    Representative,
}

impl OnBehalf {
    pub fn code(self) -> &'static str {
        match self {
            OnBehalf::Myself => "myself",
            OnBehalf::Child => "child",
            OnBehalf::Representative => "representative",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FormPage {
    pub id: String,
    pub title: Text,
    pub intro: Option<Text>,
    pub visible_if: Option<Condition>,
    pub fields: Vec<Field>,
}

/// (No `deny_unknown_fields` here: serde cannot combine it with the flattened kind.
/// [`unknown_field_keys`] does that check on the raw definition instead.)
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Field {
    pub id: String,
    pub label: Text,
    pub hint: Option<Text>,
    #[serde(flatten)]
    pub kind: FieldKind,
    #[serde(default)]
    pub required: bool,
    pub visible_if: Option<Condition>,
    /// Where the field comes from: the regulation, or general knowledge outside it (shown).
    #[serde(default = "seed")]
    pub origin: Origin,
}

fn seed() -> Origin {
    Origin::Seed
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(no_recursion))]
pub enum FieldKind {
    Text {
        #[serde(default)]
        multiline: bool,
        #[serde(default)]
        min_length: u32,
        max_length: u32,
        /// The shape the whole answer must have, and what to say when it does not.
        #[serde(default)]
        pattern: Option<TextPattern>,
    },
    /// A whole number.
    Number {
        min: i64,
        max: i64,
    },
    Date {
        min: Option<DateLimit>,
        max: Option<DateLimit>,
    },
    Iin,
    /// A person's name (surname, given name or patronymic).
    Name,
    Phone,
    Email,
    Select {
        options: Vec<Choice>,
    },
    Radio {
        options: Vec<Choice>,
    },
    /// One box: ticked or not. `required` means it must be ticked.
    Checkbox,
    Checkboxes {
        options: Vec<Choice>,
        #[serde(default)]
        min: u32,
        max: Option<u32>,
    },
    Address,
    /// A repeatable group of fields, such as "children".
    Group {
        item_label: Text,
        min_items: u32,
        max_items: u32,
        fields: Vec<Field>,
    },
    /// Copies of a document of the service (`documents.items[].id`), uploaded as attachments.
    File {
        document: String,
        #[serde(default = "one")]
        max_files: u32,
    },
    /// A provider organisation of a kind, chosen from the portal's list.
    Organisation {
        kind: OrganisationKind,
    },
    /// One of the priority categories of the organisation chosen in `organisation_field`
    /// (first grade), by its id, or `none`.
    PriorityCategory {
        organisation_field: String,
    },
}

/// The answer of a [`FieldKind::PriorityCategory`] field that claims no category.
pub const NO_PRIORITY: &str = "none";

fn one() -> u32 {
    1
}

/// A text field's pattern (see [`crate::pattern`]) with the message for answers that miss it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TextPattern {
    /// For example `KZ\d{2}[A-Z0-9]{16}`; always matches the whole answer.
    pub pattern: String,
    /// Says what is expected, with an example: "Two letters and six digits, like AB123456".
    pub message: Text,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Choice {
    pub value: String,
    pub label: Text,
}

/// A bound of a date field: `today`, `today+30d`, `today-7y`, or a date `YYYY-MM-DD`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DateLimit {
    Today { days: i32, years: i32 },
    Fixed(Date),
}

impl DateLimit {
    pub fn parse(s: &str) -> Option<DateLimit> {
        if let Some(rest) = s.strip_prefix("today") {
            if rest.is_empty() {
                return Some(DateLimit::Today { days: 0, years: 0 });
            }
            let (sign, rest) = match rest.as_bytes()[0] {
                b'+' => (1, &rest[1..]),
                b'-' => (-1, &rest[1..]),
                _ => return None,
            };
            let (number, unit) = rest.split_at(rest.len().checked_sub(1)?);
            let n: i32 = number
                .parse()
                .ok()
                .filter(|n| (0..=200 * 366).contains(n))?;
            return match unit {
                "d" => Some(DateLimit::Today {
                    days: sign * n,
                    years: 0,
                }),
                "y" => Some(DateLimit::Today {
                    days: 0,
                    years: sign * n,
                }),
                _ => None,
            };
        }
        s.parse().ok().map(DateLimit::Fixed)
    }

    pub fn resolve(self, today: Date) -> Date {
        match self {
            DateLimit::Fixed(d) => d,
            DateLimit::Today { days, years } => {
                let shifted = if years == 0 {
                    today
                } else {
                    let (y, m, d) = (today.year() + years, today.month(), today.day());
                    // 29 February in a common year becomes 28 February.
                    Date::from_ymd(y, m, d)
                        .or_else(|_| Date::from_ymd(y, m, d - 1))
                        .unwrap_or(today)
                };
                shifted.add_days(days)
            }
        }
    }
}

impl std::fmt::Display for DateLimit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DateLimit::Fixed(d) => write!(f, "{d}"),
            DateLimit::Today { days: 0, years: 0 } => f.write_str("today"),
            DateLimit::Today { days, years: 0 } => write!(f, "today{days:+}d"),
            DateLimit::Today { years, .. } => write!(f, "today{years:+}y"),
        }
    }
}

crate::serde_as_string!(
    DateLimit,
    "a date limit such as today, today-7y, today+30d or YYYY-MM-DD",
    "^(today([+-][0-9]+[dy])?|[0-9]{4}-[0-9]{2}-[0-9]{2})$"
);

/// When a page or field is shown.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged, deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(no_recursion))]
pub enum Condition {
    /// The field's answer is this choice.
    Equals {
        field: String,
        equals: String,
    },
    /// The field's answer is one of these choices.
    OneOf {
        field: String,
        one_of: Vec<String>,
    },
    /// The checkbox is (or is not) ticked.
    Checked {
        field: String,
        checked: bool,
    },
    /// The field is answered with a choice other than these.
    AnsweredExcept {
        field: String,
        answered_except: Vec<String>,
    },
    All {
        all: Vec<Condition>,
    },
    Any {
        any: Vec<Condition>,
    },
}

impl Condition {
    pub fn holds(&self, answers: &Answers) -> bool {
        match self {
            Condition::Equals { field, equals } => {
                matches!(answers.get(field), Some(Answer::Text(v)) if v == equals)
            }
            Condition::OneOf { field, one_of } => {
                matches!(answers.get(field), Some(Answer::Text(v)) if one_of.contains(v))
            }
            Condition::Checked { field, checked } => {
                matches!(answers.get(field), Some(Answer::Flag(true))) == *checked
            }
            Condition::AnsweredExcept {
                field,
                answered_except,
            } => {
                matches!(answers.get(field), Some(Answer::Text(v)) if !v.is_empty() && !answered_except.contains(v))
            }
            Condition::All { all } => all.iter().all(|c| c.holds(answers)),
            Condition::Any { any } => any.iter().any(|c| c.holds(answers)),
        }
    }

    fn fields(&self, out: &mut Vec<String>) {
        match self {
            Condition::Equals { field, .. }
            | Condition::OneOf { field, .. }
            | Condition::Checked { field, .. }
            | Condition::AnsweredExcept { field, .. } => out.push(field.clone()),
            Condition::All { all } => all.iter().for_each(|c| c.fields(out)),
            Condition::Any { any } => any.iter().for_each(|c| c.fields(out)),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "rule", rename_all = "snake_case", deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum CrossRule {
    /// Both dates answered: `earlier` must not be after `later`. Reported on `later`.
    DateOrder {
        earlier: String,
        later: String,
        message: Text,
    },
    /// At least one of the fields is answered. Reported on the first.
    AtLeastOne { fields: Vec<String>, message: Text },
}

/// One answer. Files and multiple choices are lists; a group's items are maps.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(no_recursion))]
pub enum Answer {
    Flag(bool),
    Text(String),
    List(Vec<String>),
    Items(Vec<Answers>),
    Address(AddressAnswer),
}

pub type Answers = BTreeMap<String, Answer>;

/// An address in Kazakhstan as people write it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AddressAnswer {
    /// City, town or village.
    pub locality: String,
    /// Street, avenue or microdistrict.
    pub street: String,
    pub house: String,
    #[serde(default)]
    pub apartment: String,
}

/// What validation needs from outside the answers.
#[derive(Clone, Copy, Debug)]
pub struct Context {
    pub today: Date,
    /// How many attachments each file field already has is checked by the server; the browser
    /// counts what it uploaded.
    pub check_files: bool,
}

/// How strict: a draft may be incomplete; a submission may not.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Strictness {
    /// Only what is answered must be valid; unknown fields are still refused.
    Draft,
    /// Everything visible must be complete and valid.
    Complete,
}

/// The reserved page and fields asking for whom the application is made.
pub const SUBJECT_PAGE: &str = "subject";

fn text(msg: Msg) -> Text {
    Text::from_msg(msg)
}

/// The standard first page: for whom, and the details of that person or of the power of
/// attorney. Present when the form allows more than applying for oneself.
pub fn subject_page(on_behalf: &[OnBehalf]) -> Option<FormPage> {
    if on_behalf == [OnBehalf::Myself] || on_behalf.is_empty() {
        return None;
    }
    let option = |o: OnBehalf, msg| Choice {
        value: o.code().to_string(),
        label: text(msg),
    };
    let mut fields = vec![Field {
        id: "on_behalf".into(),
        label: text(Msg::FormOnBehalfLabel),
        hint: None,
        kind: FieldKind::Radio {
            options: on_behalf
                .iter()
                .map(|o| match o {
                    OnBehalf::Myself => option(*o, Msg::FormOnBehalfMyself),
                    OnBehalf::Child => option(*o, Msg::FormOnBehalfChild),
                    OnBehalf::Representative => option(*o, Msg::FormOnBehalfRepresentative),
                })
                .collect(),
        },
        required: true,
        visible_if: None,
        origin: Origin::Seed,
    }];
    let for_others = Condition::OneOf {
        field: "on_behalf".into(),
        one_of: vec!["child".into(), "representative".into()],
    };
    let person = |id: &str, label, kind, required| Field {
        id: id.into(),
        label: text(label),
        hint: None,
        kind,
        required,
        visible_if: Some(for_others.clone()),
        origin: Origin::Seed,
    };
    fields.push(person(
        "subject_iin",
        Msg::FormSubjectIin,
        FieldKind::Iin,
        true,
    ));
    fields.push(person(
        "subject_last_name",
        Msg::FormSubjectLastName,
        FieldKind::Name,
        true,
    ));
    fields.push(person(
        "subject_first_name",
        Msg::FormSubjectFirstName,
        FieldKind::Name,
        true,
    ));
    fields.push(person(
        "subject_middle_name",
        Msg::FormSubjectMiddleName,
        FieldKind::Name,
        false,
    ));
    if on_behalf.contains(&OnBehalf::Representative) {
        let poa = Condition::Equals {
            field: "on_behalf".into(),
            equals: "representative".into(),
        };
        let poa_field = |id: &str, label, kind| Field {
            id: id.into(),
            label: text(label),
            hint: None,
            kind,
            required: true,
            visible_if: Some(poa.clone()),
            origin: Origin::Seed,
        };
        fields.push(poa_field(
            "poa_number",
            Msg::FormPoaNumber,
            FieldKind::Text {
                multiline: false,
                min_length: 1,
                max_length: 50,
                pattern: None,
            },
        ));
        fields.push(poa_field(
            "poa_date",
            Msg::FormPoaDate,
            FieldKind::Date {
                min: DateLimit::parse("today-10y"),
                max: DateLimit::parse("today"),
            },
        ));
        fields.push(poa_field(
            "poa_copy",
            Msg::FormPoaCopy,
            FieldKind::File {
                document: POA_DOCUMENT.into(),
                max_files: 3,
            },
        ));
    }
    Some(FormPage {
        id: SUBJECT_PAGE.into(),
        title: text(Msg::FormSubjectTitle),
        intro: None,
        visible_if: None,
        fields,
    })
}

/// The document slot of a power of attorney's copy, present in every form with representatives.
pub const POA_DOCUMENT: &str = "power-of-attorney";
/// The slot for any other document the applicant wants to add.
pub const OTHER_DOCUMENT: &str = "other";

impl FormDefinition {
    /// The pages as the applicant sees them: the standard subject page first, when there is one.
    pub fn all_pages(&self) -> Vec<FormPage> {
        subject_page(&self.on_behalf)
            .into_iter()
            .chain(self.pages.iter().cloned())
            .collect()
    }

    /// Every field of every page, in order.
    pub fn fields(&self) -> Vec<Field> {
        self.all_pages()
            .into_iter()
            .flat_map(|p| p.fields)
            .collect()
    }

    /// The document slots that take uploads: `(document id, max files)`.
    pub fn file_slots(&self) -> Vec<(String, u32)> {
        let mut slots: Vec<(String, u32)> = self
            .fields()
            .into_iter()
            .filter_map(|f| match f.kind {
                FieldKind::File {
                    document,
                    max_files,
                } => Some((document, max_files)),
                _ => None,
            })
            .collect();
        slots.push((OTHER_DOCUMENT.to_string(), 10));
        slots
    }

    /// Checks the answers; returns them without the answers of hidden pages and fields.
    pub fn validate(
        &self,
        answers: &Answers,
        strictness: Strictness,
        context: Context,
    ) -> Result<Answers, Vec<FieldIssue>> {
        let mut issues = Issues::default();
        let pages = self.all_pages();
        let known: BTreeSet<&str> = pages
            .iter()
            .flat_map(|p| p.fields.iter().map(|f| f.id.as_str()))
            .collect();
        for key in answers.keys() {
            if !known.contains(key.as_str()) {
                issues.add(FieldIssue::new(key.clone(), Msg::ErrorFormUnknownField));
            }
        }
        let mut kept = Answers::new();
        for page in &pages {
            if !page.visible_if.as_ref().is_none_or(|c| c.holds(answers)) {
                continue;
            }
            for field in &page.fields {
                if !field.visible_if.as_ref().is_none_or(|c| c.holds(answers)) {
                    continue;
                }
                let answer = answers.get(&field.id);
                check_field(field, &field.id, answer, strictness, context, &mut issues);
                if let Some(a) = answer {
                    kept.insert(field.id.clone(), a.clone());
                }
            }
        }
        if strictness == Strictness::Complete && issues.is_empty() {
            for rule in &self.rules {
                check_rule(rule, &kept, &mut issues);
            }
        }
        issues.into_result(kept)
    }

    /// The answers with each file field listing the uploaded copies of its document: the files
    /// are the truth, whatever a client sent. `files` are `(slot, attachment id)` of complete
    /// uploads.
    pub fn with_files(&self, mut answers: Answers, files: &[(&str, &str)]) -> Answers {
        for field in self.fields() {
            if let FieldKind::File { document, .. } = &field.kind {
                let ids: Vec<String> = files
                    .iter()
                    .filter(|(slot, _)| slot == document)
                    .map(|(_, id)| id.to_string())
                    .collect();
                if ids.is_empty() {
                    answers.remove(&field.id);
                } else {
                    answers.insert(field.id.clone(), Answer::List(ids));
                }
            }
        }
        answers
    }

    /// The field choosing the organisation the application goes to: the first `organisation`
    /// field of an always-shown page.
    pub fn provider_field(&self) -> Option<(&str, OrganisationKind)> {
        self.pages
            .iter()
            .filter(|p| p.visible_if.is_none())
            .flat_map(|p| p.fields.iter())
            .find_map(|f| match f.kind {
                FieldKind::Organisation { kind } if f.required && f.visible_if.is_none() => {
                    Some((f.id.as_str(), kind))
                }
                _ => None,
            })
    }

    /// Checks one page's answers for the "Continue" button: complete for that page only.
    pub fn validate_page(
        &self,
        page_id: &str,
        answers: &Answers,
        context: Context,
    ) -> Vec<FieldIssue> {
        let mut issues = Issues::default();
        if let Some(page) = self.all_pages().into_iter().find(|p| p.id == page_id) {
            for field in &page.fields {
                if field.visible_if.as_ref().is_none_or(|c| c.holds(answers)) {
                    check_field(
                        field,
                        &field.id,
                        answers.get(&field.id),
                        Strictness::Complete,
                        context,
                        &mut issues,
                    );
                }
            }
        }
        issues.0
    }

    /// Checks the definition itself: unique ids, known documents and condition fields.
    pub fn check(&self, document_ids: &[&str]) -> Vec<(String, String)> {
        let mut problems = Vec::new();
        let mut ids = BTreeSet::new();
        let mut page_ids = BTreeSet::new();
        if self.on_behalf.is_empty() {
            problems.push((
                "form.on_behalf".to_string(),
                "name at least one".to_string(),
            ));
        }
        for (pi, page) in self.pages.iter().enumerate() {
            let at = format!("form.pages[{pi}]");
            if !is_id(&page.id) || page.id == SUBJECT_PAGE || !page_ids.insert(page.id.clone()) {
                problems.push((
                    format!("{at}.id"),
                    "a unique id of a-z, 0-9 and _ (not `subject`)".into(),
                ));
            }
            for_texts(&page.title, &format!("{at}.title"), &mut problems);
            if page.fields.is_empty() {
                problems.push((format!("{at}.fields"), "a page needs fields".into()));
            }
            for (fi, field) in page.fields.iter().enumerate() {
                check_field_definition(
                    field,
                    &format!("{at}.fields[{fi}]"),
                    document_ids,
                    &mut ids,
                    &mut problems,
                );
            }
        }
        let all_ids: BTreeSet<String> = self
            .all_pages()
            .iter()
            .flat_map(|p| p.fields.iter().map(|f| f.id.clone()))
            .collect();
        let mut referenced = Vec::new();
        for page in &self.pages {
            if let Some(c) = &page.visible_if {
                c.fields(&mut referenced);
            }
            for f in &page.fields {
                if let Some(c) = &f.visible_if {
                    c.fields(&mut referenced);
                }
            }
        }
        for rule in &self.rules {
            match rule {
                CrossRule::DateOrder { earlier, later, .. } => {
                    referenced.extend([earlier.clone(), later.clone()])
                }
                CrossRule::AtLeastOne { fields, .. } => referenced.extend(fields.iter().cloned()),
            }
        }
        let pages = self.all_pages();
        let organisation_fields: BTreeSet<&str> = pages
            .iter()
            .flat_map(|p| &p.fields)
            .filter(|f| matches!(f.kind, FieldKind::Organisation { .. }))
            .map(|f| f.id.as_str())
            .collect();
        for field in pages.iter().flat_map(|p| &p.fields) {
            if let FieldKind::PriorityCategory { organisation_field } = &field.kind {
                if !organisation_fields.contains(organisation_field.as_str()) {
                    problems.push((
                        format!("form.{}.organisation_field", field.id),
                        format!("`{organisation_field}` is not an organisation field of the form"),
                    ));
                }
            }
        }
        for f in referenced {
            if !all_ids.contains(&f) {
                problems.push((
                    "form".into(),
                    format!("a condition or rule names the unknown field `{f}`"),
                ));
            }
        }
        problems
    }
}

fn is_id(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 40
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
        && !s.starts_with('_')
}

fn for_texts(t: &Text, at: &str, problems: &mut Vec<(String, String)>) {
    for lang in t.blank_languages() {
        problems.push((format!("{at}.{lang}"), "empty text".into()));
    }
}

const RESERVED: [&str; 8] = [
    "on_behalf",
    "subject_iin",
    "subject_last_name",
    "subject_first_name",
    "subject_middle_name",
    "poa_number",
    "poa_date",
    "poa_copy",
];

fn check_field_definition(
    field: &Field,
    at: &str,
    documents: &[&str],
    ids: &mut BTreeSet<String>,
    problems: &mut Vec<(String, String)>,
) {
    if !is_id(&field.id) || RESERVED.contains(&field.id.as_str()) || !ids.insert(field.id.clone()) {
        problems.push((
            format!("{at}.id"),
            "a unique id of a-z, 0-9 and _, not a reserved one".into(),
        ));
    }
    for_texts(&field.label, &format!("{at}.label"), problems);
    if let Some(h) = &field.hint {
        for_texts(h, &format!("{at}.hint"), problems);
    }
    match &field.kind {
        FieldKind::Text {
            min_length,
            max_length,
            pattern,
            ..
        } => {
            if *max_length == 0 || *max_length > MAX_TEXT_CHARS || min_length > max_length {
                problems.push((
                    format!("{at}.max_length"),
                    format!("1..={MAX_TEXT_CHARS}, not below min_length"),
                ));
            }
            if let Some(p) = pattern {
                if let Err(e) = crate::pattern::Pattern::parse(&p.pattern) {
                    problems.push((format!("{at}.pattern.pattern"), e));
                }
                for_texts(&p.message, &format!("{at}.pattern.message"), problems);
            }
        }
        FieldKind::Number { min, max } if min > max => {
            problems.push((format!("{at}.min"), "min above max".into()))
        }
        FieldKind::Select { options }
        | FieldKind::Radio { options }
        | FieldKind::Checkboxes { options, .. } => {
            let mut values = BTreeSet::new();
            if options.len() < 2 {
                problems.push((format!("{at}.options"), "at least two choices".into()));
            }
            for (i, o) in options.iter().enumerate() {
                if !is_id(&o.value) || !values.insert(&o.value) {
                    problems.push((
                        format!("{at}.options[{i}].value"),
                        "a unique value of a-z, 0-9 and _".into(),
                    ));
                }
                for_texts(&o.label, &format!("{at}.options[{i}].label"), problems);
            }
        }
        FieldKind::Group {
            item_label,
            min_items,
            max_items,
            fields,
        } => {
            for_texts(item_label, &format!("{at}.item_label"), problems);
            if min_items > max_items || *max_items == 0 || *max_items > MAX_GROUP_ITEMS {
                problems.push((
                    format!("{at}.max_items"),
                    format!("1..={MAX_GROUP_ITEMS}, not below min_items"),
                ));
            }
            let mut inner = BTreeSet::new();
            for (i, f) in fields.iter().enumerate() {
                if matches!(
                    f.kind,
                    FieldKind::Group { .. }
                        | FieldKind::File { .. }
                        | FieldKind::PriorityCategory { .. }
                ) {
                    problems.push((
                        format!("{at}.fields[{i}]"),
                        "groups hold simple fields only".into(),
                    ));
                }
                check_field_definition(
                    f,
                    &format!("{at}.fields[{i}]"),
                    documents,
                    &mut inner,
                    problems,
                );
            }
        }
        FieldKind::File {
            document,
            max_files,
        } => {
            if !documents.contains(&document.as_str()) {
                problems.push((
                    format!("{at}.document"),
                    format!("`{document}` is not a document of the service"),
                ));
            }
            if *max_files == 0 || *max_files > 10 {
                problems.push((format!("{at}.max_files"), "1..=10".into()));
            }
        }
        _ => {}
    }
}

fn check_field(
    field: &Field,
    path: &str,
    answer: Option<&Answer>,
    strictness: Strictness,
    context: Context,
    issues: &mut Issues,
) {
    let required = field.required && strictness == Strictness::Complete;
    let blank = match answer {
        None => true,
        Some(Answer::Text(t)) => t.trim().is_empty(),
        Some(Answer::Flag(b)) => !b && matches!(field.kind, FieldKind::Checkbox),
        Some(Answer::List(l)) => l.is_empty(),
        Some(Answer::Items(items)) => items.is_empty(),
        Some(Answer::Address(a)) => {
            a.locality.trim().is_empty() && a.street.trim().is_empty() && a.house.trim().is_empty()
        }
    };
    if blank {
        // A blank answer must still have the field's shape (JSON `[]` reads as an empty list).
        let shape_ok = match (&field.kind, answer) {
            (_, None) | (_, Some(Answer::Text(_))) => true,
            (FieldKind::Group { .. }, Some(Answer::Items(_) | Answer::List(_))) => true,
            (FieldKind::File { .. } | FieldKind::Checkboxes { .. }, Some(Answer::List(_))) => true,
            (FieldKind::Checkbox, Some(Answer::Flag(_))) => true,
            (FieldKind::Address, Some(Answer::Address(_))) => true,
            _ => false,
        };
        if !shape_ok {
            issues.add(FieldIssue::new(path, Msg::ErrorFormWrongShape));
            return;
        }
        if strictness == Strictness::Complete {
            match &field.kind {
                FieldKind::Group { min_items, .. } if *min_items > 0 => {
                    issues.add(
                        FieldIssue::new(path, Msg::ErrorFormTooFewItems)
                            .arg("min", min_items.to_string()),
                    );
                }
                FieldKind::Address if required => {
                    for part in ["locality", "street", "house"] {
                        issues.add(FieldIssue::new(
                            format!("{path}.{part}"),
                            Msg::ErrorFormRequired,
                        ));
                    }
                }
                _ if required => {
                    let msg = match field.kind {
                        FieldKind::Checkbox => Msg::ErrorFormMustTick,
                        FieldKind::File { .. } => Msg::ErrorFormFileMissing,
                        FieldKind::Select { .. }
                        | FieldKind::Radio { .. }
                        | FieldKind::Organisation { .. }
                        | FieldKind::PriorityCategory { .. }
                        | FieldKind::Checkboxes { .. } => Msg::ErrorFormChoose,
                        _ => Msg::ErrorFormRequired,
                    };
                    issues.add(FieldIssue::new(path, msg));
                }
                _ => {}
            }
        }
        return;
    }
    let answer = answer.expect("not blank");
    let wrong_shape = || FieldIssue::new(path, Msg::ErrorFormWrongShape);
    match (&field.kind, answer) {
        (
            FieldKind::Text {
                min_length,
                max_length,
                pattern,
                ..
            },
            Answer::Text(t),
        ) => {
            let n = t.trim().chars().count() as u32;
            let max = (*max_length).min(MAX_TEXT_CHARS);
            if n > max {
                issues
                    .add(FieldIssue::new(path, Msg::ErrorFormTooLong).arg("max", max.to_string()));
            } else if n < *min_length {
                issues.add(
                    FieldIssue::new(path, Msg::ErrorFormTooShort)
                        .arg("min", min_length.to_string()),
                );
            } else if t.chars().any(|c| c.is_control() && c != '\n' && c != '\t') {
                issues.add(FieldIssue::new(path, Msg::ErrorFormControlCharacters));
            } else if let Some(p) = pattern {
                // The definition's pattern was checked at load; an unparseable one refuses all.
                if !crate::pattern::Pattern::parse(&p.pattern).is_ok_and(|re| re.is_match(t.trim()))
                {
                    issues.add(FieldIssue::custom(path, p.message.clone()));
                }
            }
        }
        (FieldKind::Number { min, max }, Answer::Text(t)) => match t.trim().parse::<i64>() {
            Ok(n) if n < *min || n > *max => issues.add(
                FieldIssue::new(path, Msg::ErrorFormNumberRange)
                    .arg("min", min.to_string())
                    .arg("max", max.to_string()),
            ),
            Ok(_) => {}
            Err(_) => issues.add(FieldIssue::new(path, Msg::ErrorFormNotNumber)),
        },
        (FieldKind::Date { min, max }, Answer::Text(t)) => match t.trim().parse::<Date>() {
            Err(_) => issues.add(FieldIssue::new(path, Msg::ErrorFormDate)),
            Ok(d) => {
                if let Some(lo) = min.map(|m| m.resolve(context.today)) {
                    if d < lo {
                        issues.add(
                            FieldIssue::new(path, Msg::ErrorFormDateTooEarly)
                                .arg("date", lo.to_string()),
                        );
                        return;
                    }
                }
                if let Some(hi) = max.map(|m| m.resolve(context.today)) {
                    if d > hi {
                        issues.add(
                            FieldIssue::new(path, Msg::ErrorFormDateTooLate)
                                .arg("date", hi.to_string()),
                        );
                    }
                }
            }
        },
        (FieldKind::Iin, Answer::Text(t)) => {
            if let Err(e) = Iin::parse(t) {
                issues.add(FieldIssue::new(path, e.message()));
            }
        }
        (FieldKind::Name, Answer::Text(t)) => {
            if let Err(msg) = PersonName::parse(t) {
                issues.add(FieldIssue::new(path, msg));
            }
        }
        (FieldKind::Phone, Answer::Text(t)) => {
            if let Err(msg) = Phone::parse(t) {
                issues.add(FieldIssue::new(path, msg));
            }
        }
        (FieldKind::Email, Answer::Text(t)) => {
            if let Err(msg) = Email::parse(t) {
                issues.add(FieldIssue::new(path, msg));
            }
        }
        (FieldKind::Select { options } | FieldKind::Radio { options }, Answer::Text(t)) => {
            if !options.iter().any(|o| &o.value == t) {
                issues.add(FieldIssue::new(path, Msg::ErrorFormNotAChoice));
            }
        }
        (FieldKind::Checkbox, Answer::Flag(_)) => {}
        (FieldKind::Checkboxes { options, min, max }, Answer::List(values)) => {
            let unique: BTreeSet<&String> = values.iter().collect();
            if unique.len() != values.len()
                || !values.iter().all(|v| options.iter().any(|o| &o.value == v))
            {
                issues.add(FieldIssue::new(path, Msg::ErrorFormNotAChoice));
            } else if strictness == Strictness::Complete && (values.len() as u32) < *min {
                issues.add(
                    FieldIssue::new(path, Msg::ErrorFormTooFewChoices).arg("min", min.to_string()),
                );
            } else if max.is_some_and(|m| values.len() as u32 > m) {
                issues.add(
                    FieldIssue::new(path, Msg::ErrorFormTooManyChoices)
                        .arg("max", max.unwrap_or_default().to_string()),
                );
            }
        }
        (FieldKind::Address, Answer::Address(a)) => {
            let parts = [
                ("locality", &a.locality, true),
                ("street", &a.street, true),
                ("house", &a.house, true),
                ("apartment", &a.apartment, false),
            ];
            for (part, value, needed) in parts {
                let n = value.trim().chars().count();
                if n > 200 || value.chars().any(char::is_control) {
                    issues.add(
                        FieldIssue::new(format!("{path}.{part}"), Msg::ErrorFormTooLong)
                            .arg("max", "200"),
                    );
                } else if n == 0 && needed && strictness == Strictness::Complete {
                    issues.add(FieldIssue::new(
                        format!("{path}.{part}"),
                        Msg::ErrorFormRequired,
                    ));
                }
            }
        }
        (
            FieldKind::Group {
                min_items,
                max_items,
                fields,
                ..
            },
            Answer::Items(items),
        ) => {
            let n = items.len() as u32;
            if n > *max_items {
                issues.add(
                    FieldIssue::new(path, Msg::ErrorFormTooManyItems)
                        .arg("max", max_items.to_string()),
                );
                return;
            }
            if strictness == Strictness::Complete && n < *min_items {
                issues.add(
                    FieldIssue::new(path, Msg::ErrorFormTooFewItems)
                        .arg("min", min_items.to_string()),
                );
            }
            let known: BTreeSet<&str> = fields.iter().map(|f| f.id.as_str()).collect();
            for (i, item) in items.iter().enumerate() {
                for key in item.keys() {
                    if !known.contains(key.as_str()) {
                        issues.add(FieldIssue::new(
                            format!("{path}[{i}].{key}"),
                            Msg::ErrorFormUnknownField,
                        ));
                    }
                }
                for f in fields {
                    if f.visible_if.as_ref().is_none_or(|c| c.holds(item)) {
                        check_field(
                            f,
                            &format!("{path}[{i}].{}", f.id),
                            item.get(&f.id),
                            strictness,
                            context,
                            issues,
                        );
                    }
                }
            }
        }
        (FieldKind::File { max_files, .. }, Answer::List(ids)) => {
            if ids.len() as u32 > *max_files {
                issues.add(
                    FieldIssue::new(path, Msg::ErrorFormTooManyFiles)
                        .arg("max", max_files.to_string()),
                );
            } else if ids.iter().any(|id| !is_attachment_id(id)) {
                issues.add(wrong_shape());
            }
        }
        (FieldKind::Organisation { .. } | FieldKind::PriorityCategory { .. }, Answer::Text(t)) => {
            let slug = !t.is_empty()
                && t.len() <= 64
                && t.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
            if !slug {
                issues.add(FieldIssue::new(path, Msg::ErrorFormNotAChoice));
            }
        }
        _ => issues.add(wrong_shape()),
    }
    let _ = context.check_files;
}

/// The keys a field object may have: the common ones and those of its `type`.
fn field_keys(kind: &str) -> Option<&'static [&'static str]> {
    Some(match kind {
        "text" => &["multiline", "min_length", "max_length", "pattern"],
        "number" => &["min", "max"],
        "date" => &["min", "max"],
        "iin" | "name" | "phone" | "email" | "checkbox" | "address" => &[],
        "select" | "radio" => &["options"],
        "checkboxes" => &["options", "min", "max"],
        "group" => &["item_label", "min_items", "max_items", "fields"],
        "file" => &["document", "max_files"],
        "organisation" => &["kind"],
        "priority_category" => &["organisation_field"],
        _ => return None,
    })
}

/// Keys of field objects in a raw form definition that no field type has, as `(path, key)`.
pub fn unknown_field_keys(form: &serde_json::Value) -> Vec<(String, String)> {
    const COMMON: [&str; 7] = [
        "id",
        "label",
        "hint",
        "type",
        "required",
        "visible_if",
        "origin",
    ];
    fn walk(fields: &serde_json::Value, at: &str, out: &mut Vec<(String, String)>) {
        let Some(fields) = fields.as_array() else {
            return;
        };
        for (i, field) in fields.iter().enumerate() {
            let path = format!("{at}[{i}]");
            let Some(object) = field.as_object() else {
                continue;
            };
            let kind = object.get("type").and_then(|t| t.as_str()).unwrap_or("");
            let Some(own) = field_keys(kind) else {
                continue;
            };
            for key in object.keys() {
                if !COMMON.contains(&key.as_str()) && !own.contains(&key.as_str()) {
                    out.push((path.clone(), key.clone()));
                }
            }
            if kind == "group" {
                walk(&object["fields"], &format!("{path}.fields"), out);
            }
        }
    }
    let mut out = Vec::new();
    if let Some(pages) = form.get("pages").and_then(|p| p.as_array()) {
        for (i, page) in pages.iter().enumerate() {
            walk(
                &page["fields"],
                &format!("form.pages[{i}].fields"),
                &mut out,
            );
        }
    }
    out
}

/// Attachment ids are the server's 32 hex digits.
pub fn is_attachment_id(s: &str) -> bool {
    s.len() == 32
        && s.bytes()
            .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
}

fn check_rule(rule: &CrossRule, answers: &Answers, issues: &mut Issues) {
    match rule {
        CrossRule::DateOrder {
            earlier,
            later,
            message,
        } => {
            let date = |id: &String| match answers.get(id) {
                Some(Answer::Text(t)) => t.trim().parse::<Date>().ok(),
                _ => None,
            };
            if let (Some(a), Some(b)) = (date(earlier), date(later)) {
                if a > b {
                    issues.add(FieldIssue::custom(later.clone(), message.clone()));
                }
            }
        }
        CrossRule::AtLeastOne { fields, message } => {
            let answered = fields.iter().any(|f| match answers.get(f) {
                Some(Answer::Text(t)) => !t.trim().is_empty(),
                Some(Answer::List(l)) => !l.is_empty(),
                Some(Answer::Flag(b)) => *b,
                Some(_) => true,
                None => false,
            });
            if !answered {
                issues.add(FieldIssue::custom(
                    fields.first().cloned().unwrap_or_default(),
                    message.clone(),
                ));
            }
        }
    }
}

/// The answer as text for "check your answers", receipts and officers, in `lang`.
pub fn display(field: &Field, answer: &Answer, lang: Lang) -> String {
    match (&field.kind, answer) {
        (FieldKind::Select { options } | FieldKind::Radio { options }, Answer::Text(v)) => options
            .iter()
            .find(|o| &o.value == v)
            .map(|o| o.label.get(lang).to_string())
            .unwrap_or_else(|| v.clone()),
        (FieldKind::Checkboxes { options, .. }, Answer::List(values)) => values
            .iter()
            .map(|v| {
                options
                    .iter()
                    .find(|o| &o.value == v)
                    .map(|o| o.label.get(lang).to_string())
                    .unwrap_or_else(|| v.clone())
            })
            .collect::<Vec<_>>()
            .join(", "),
        (_, Answer::Flag(b)) => {
            portal_i18n::t(lang, if *b { Msg::CommonYes } else { Msg::CommonNo }).to_string()
        }
        (_, Answer::Text(t)) => t.trim().to_string(),
        (_, Answer::List(l)) => l.join(", "),
        (_, Answer::Address(a)) => {
            let mut parts = vec![a.locality.trim(), a.street.trim(), a.house.trim()];
            if !a.apartment.trim().is_empty() {
                parts.push(a.apartment.trim());
            }
            parts
                .into_iter()
                .filter(|p| !p.is_empty())
                .collect::<Vec<_>>()
                .join(", ")
        }
        (_, Answer::Items(items)) => portal_i18n::tp(
            lang,
            portal_i18n::Plural::FormItems,
            items.len() as u64,
            &[],
        ),
    }
}

/// A page of answers as an officer reads them: the page's title, each visible field's label
/// and its answer as text.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SummarySection {
    pub title: Text,
    pub rows: Vec<SummaryRow>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SummaryRow {
    pub label: Text,
    pub value: Text,
}

/// The name of the priority category `id` of the organisation chosen in `organisation_field`.
pub fn priority_name<'o>(
    answers: &Answers,
    organisation_field: &str,
    id: &str,
    organisation: &dyn Fn(&str) -> Option<&'o Organisation>,
) -> Text {
    if id == NO_PRIORITY {
        return Text::from_msg(Msg::FirstGradePriorityNone);
    }
    let chosen = match answers.get(organisation_field) {
        Some(Answer::Text(org)) => organisation(org),
        _ => None,
    };
    chosen
        .and_then(|o| o.first_grade_priorities.iter().find(|c| c.id == id))
        .map(|c| c.name.clone())
        .unwrap_or_else(|| Text::same(id))
}

/// The answers laid out as the form asks them, in every language: hidden pages and fields
/// left out, choices by their labels, organisations by name (`organisation`), files by name
/// (`files`: slot and file name), each item of a group on its own row.
pub fn summary<'o>(
    form: &FormDefinition,
    answers: &Answers,
    files: &[(String, String)],
    organisation: &dyn Fn(&str) -> Option<&'o Organisation>,
) -> Vec<SummarySection> {
    let value = |field: &Field, answer: &Answer| -> Text {
        match (&field.kind, answer) {
            (FieldKind::Organisation { .. }, Answer::Text(id)) => organisation(id)
                .map(|o| o.name.clone())
                .unwrap_or_else(|| Text::same(id)),
            (FieldKind::PriorityCategory { organisation_field }, Answer::Text(id)) => {
                priority_name(answers, organisation_field, id, organisation)
            }
            _ => Text::from_fn(|lang| display(field, answer, lang)),
        }
    };
    form.all_pages()
        .into_iter()
        .filter(|p| p.visible_if.as_ref().is_none_or(|c| c.holds(answers)))
        .map(|page| {
            let mut rows = Vec::new();
            for field in &page.fields {
                if field.visible_if.as_ref().is_some_and(|c| !c.holds(answers)) {
                    continue;
                }
                match (&field.kind, answers.get(&field.id)) {
                    (FieldKind::File { document, .. }, _) => {
                        let names: Vec<&str> = files
                            .iter()
                            .filter(|(slot, _)| slot == document)
                            .map(|(_, name)| name.as_str())
                            .collect();
                        if !names.is_empty() {
                            rows.push(SummaryRow {
                                label: field.label.clone(),
                                value: Text::same(&names.join(", ")),
                            });
                        }
                    }
                    (
                        FieldKind::Group {
                            item_label, fields, ..
                        },
                        Some(Answer::Items(items)),
                    ) => {
                        for (n, item) in items.iter().enumerate() {
                            let parts: Vec<(Text, Text)> = fields
                                .iter()
                                .filter_map(|f| {
                                    item.get(&f.id).map(|a| (f.label.clone(), value(f, a)))
                                })
                                .collect();
                            rows.push(SummaryRow {
                                label: Text::from_fn(|lang| {
                                    format!("{} {}", item_label.get(lang), n + 1)
                                }),
                                value: Text::from_fn(|lang| {
                                    parts
                                        .iter()
                                        .map(|(l, v)| format!("{}: {}", l.get(lang), v.get(lang)))
                                        .collect::<Vec<_>>()
                                        .join("; ")
                                }),
                            });
                        }
                    }
                    (_, Some(answer)) => rows.push(SummaryRow {
                        label: field.label.clone(),
                        value: value(field, answer),
                    }),
                    (_, None) => {}
                }
            }
            SummarySection {
                title: page.title,
                rows,
            }
        })
        .filter(|s| !s.rows.is_empty())
        .collect()
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::service::tests::text;

    fn field(id: &str, kind: FieldKind, required: bool) -> Field {
        Field {
            id: id.into(),
            label: text(id),
            hint: None,
            kind,
            required,
            visible_if: None,
            origin: Origin::Seed,
        }
    }

    fn choices(values: &[&str]) -> Vec<Choice> {
        values
            .iter()
            .map(|v| Choice {
                value: v.to_string(),
                label: text(v),
            })
            .collect()
    }

    pub(crate) fn sample_form() -> FormDefinition {
        FormDefinition {
            on_behalf: vec![OnBehalf::Myself, OnBehalf::Child, OnBehalf::Representative],
            pages: vec![
                FormPage {
                    id: "details".into(),
                    title: text("Details"),
                    intro: None,
                    visible_if: None,
                    fields: vec![
                        field(
                            "reason",
                            FieldKind::Text {
                                multiline: true,
                                min_length: 5,
                                max_length: 50,
                                pattern: None,
                            },
                            true,
                        ),
                        field(
                            "certificate",
                            FieldKind::Text {
                                multiline: false,
                                min_length: 0,
                                max_length: 20,
                                pattern: Some(TextPattern {
                                    pattern: r"[A-Z]{2}\d{6}".into(),
                                    message: text("Two capital letters and six digits"),
                                }),
                            },
                            false,
                        ),
                        field("grade", FieldKind::Number { min: 1, max: 11 }, true),
                        field(
                            "start",
                            FieldKind::Date {
                                min: DateLimit::parse("today"),
                                max: DateLimit::parse("today+1y"),
                            },
                            false,
                        ),
                        field(
                            "end",
                            FieldKind::Date {
                                min: None,
                                max: None,
                            },
                            false,
                        ),
                        field("contact_phone", FieldKind::Phone, false),
                        field("contact_email", FieldKind::Email, false),
                        field(
                            "study_form",
                            FieldKind::Radio {
                                options: choices(&["full_time", "evening"]),
                            },
                            true,
                        ),
                        field(
                            "language",
                            FieldKind::Select {
                                options: choices(&["kk", "ru"]),
                            },
                            false,
                        ),
                        field("agree", FieldKind::Checkbox, true),
                        field(
                            "needs",
                            FieldKind::Checkboxes {
                                options: choices(&["meals", "transport", "books"]),
                                min: 1,
                                max: Some(2),
                            },
                            false,
                        ),
                        field("address", FieldKind::Address, true),
                        field(
                            "school",
                            FieldKind::Organisation {
                                kind: OrganisationKind::School,
                            },
                            false,
                        ),
                        Field {
                            visible_if: Some(Condition::Equals {
                                field: "study_form".into(),
                                equals: "evening".into(),
                            }),
                            ..field(
                                "employer",
                                FieldKind::Text {
                                    multiline: false,
                                    min_length: 0,
                                    max_length: 100,
                                    pattern: None,
                                },
                                true,
                            )
                        },
                    ],
                },
                FormPage {
                    id: "children".into(),
                    title: text("Children"),
                    intro: None,
                    visible_if: None,
                    fields: vec![
                        field(
                            "children",
                            FieldKind::Group {
                                item_label: text("Child"),
                                min_items: 1,
                                max_items: 3,
                                fields: vec![
                                    field("iin", FieldKind::Iin, true),
                                    field("name", FieldKind::Name, true),
                                ],
                            },
                            false,
                        ),
                        field(
                            "application",
                            FieldKind::File {
                                document: "application".into(),
                                max_files: 2,
                            },
                            true,
                        ),
                    ],
                },
            ],
            rules: vec![CrossRule::DateOrder {
                earlier: "start".into(),
                later: "end".into(),
                message: text("The end is before the start"),
            }],
        }
    }

    /// The sample form with a priority category of the chosen school on its last page.
    fn with_priority() -> FormDefinition {
        let mut form = sample_form();
        let last = form.pages.len() - 1;
        form.pages[last].fields.push(field(
            "priority",
            FieldKind::PriorityCategory {
                organisation_field: "school".into(),
            },
            true,
        ));
        form
    }

    #[test]
    fn the_summary_reads_like_the_form() {
        let form = with_priority();
        let mut answers = Answers::new();
        answers.insert("reason".into(), Answer::Text("Переезд".into()));
        answers.insert("study_form".into(), Answer::Text("full_time".into()));
        answers.insert("employer".into(), Answer::Text("stale".into()));
        answers.insert("school".into(), Answer::Text("almaty-school-201".into()));
        answers.insert(
            "needs".into(),
            Answer::List(vec!["meals".into(), "books".into()]),
        );
        let child = |iin: &str, name: &str| {
            let mut a = Answers::new();
            a.insert("iin".into(), Answer::Text(iin.into()));
            a.insert("name".into(), Answer::Text(name.into()));
            a
        };
        answers.insert(
            "children".into(),
            Answer::Items(vec![
                child("190101500011", "Aruzhan"),
                child("200202600022", "Timur"),
            ]),
        );
        let files = vec![
            ("application".to_string(), "scan.pdf".to_string()),
            ("other".to_string(), "extra.pdf".to_string()),
        ];
        answers.insert("priority".into(), Answer::Text("sibling".into()));
        let school = Organisation {
            id: "almaty-school-201".into(),
            kind: OrganisationKind::School,
            name: Text::same("School No. 201"),
            address: Text::same("150 Timiryazev Street"),
            phone: String::new(),
            hours: crate::organisation::OpeningHours { days: [None; 7] },
            provider: true,
            pickup_place: true,
            territory: Vec::new(),
            slot_capacity: 1,
            first_grade_places: Some(100),
            first_grade_priorities: vec![crate::organisation::PriorityCategory {
                id: "sibling".into(),
                name: Text::same("A brother or sister studies here"),
                proof: Text::same("A certificate from the school"),
            }],
            demo: false,
        };
        let organisation = |id: &str| (id == "almaty-school-201").then_some(&school);
        let sections = summary(&form, &answers, &files, &organisation);
        let find = |label: &str| {
            sections
                .iter()
                .flat_map(|s| &s.rows)
                .find(|r| r.label.en == label)
                .map(|r| r.value.en.clone())
        };
        assert_eq!(find("reason").as_deref(), Some("Переезд"));
        assert_eq!(
            find("study_form").as_deref(),
            Some("full_time"),
            "the choice's label"
        );
        assert_eq!(find("needs").as_deref(), Some("meals, books"));
        assert_eq!(find("school").as_deref(), Some("School No. 201"));
        assert_eq!(
            find("priority").as_deref(),
            Some("A brother or sister studies here"),
            "the category by its name at the chosen school"
        );
        answers.insert("priority".into(), Answer::Text(NO_PRIORITY.into()));
        let none = summary(&form, &answers, &files, &organisation);
        let row = none
            .iter()
            .flat_map(|s| &s.rows)
            .find(|r| r.label.en == "priority");
        assert_eq!(row.map(|r| r.value.en.as_str()), Some("None of these"));
        assert_eq!(
            find("employer"),
            None,
            "a hidden field's stale answer is left out"
        );
        assert_eq!(find("grade"), None, "unanswered fields are left out");
        assert_eq!(find("application").as_deref(), Some("scan.pdf"));
        assert_eq!(
            find("Child 2").as_deref(),
            Some("iin: 200202600022; name: Timur")
        );
        assert_eq!(sections[0].title.en, "Details");
    }

    fn ctx() -> Context {
        Context {
            today: "2026-11-24".parse().unwrap(),
            check_files: false,
        }
    }

    fn t(s: &str) -> Answer {
        Answer::Text(s.into())
    }

    fn complete() -> Answers {
        let mut a = Answers::new();
        a.insert("on_behalf".into(), t("myself"));
        a.insert("reason".into(), t("Family moved abroad"));
        a.insert("grade".into(), t("5"));
        a.insert("study_form".into(), t("full_time"));
        a.insert("agree".into(), Answer::Flag(true));
        a.insert(
            "address".into(),
            Answer::Address(AddressAnswer {
                locality: "Алматы".into(),
                street: "Абая".into(),
                house: "10".into(),
                apartment: String::new(),
            }),
        );
        let mut child = Answers::new();
        child.insert("iin".into(), t("190520688017"));
        child.insert("name".into(), t("Аружан"));
        a.insert("children".into(), Answer::Items(vec![child]));
        a.insert(
            "application".into(),
            Answer::List(vec!["0123456789abcdef0123456789abcdef".into()]),
        );
        a
    }

    fn issues(answers: &Answers, strictness: Strictness) -> Vec<(String, Msg)> {
        match sample_form().validate(answers, strictness, ctx()) {
            Ok(_) => vec![],
            Err(i) => i.into_iter().map(|i| (i.field, i.msg)).collect(),
        }
    }

    fn with(key: &str, answer: Answer) -> Answers {
        let mut a = complete();
        a.insert(key.into(), answer);
        a
    }

    #[test]
    fn a_complete_form_is_valid_and_the_definition_is_sound() {
        assert_eq!(issues(&complete(), Strictness::Complete), vec![]);
        assert_eq!(sample_form().check(&["application", POA_DOCUMENT]), vec![]);
    }

    #[test]
    fn a_claimed_priority_category_asks_for_its_proof() {
        let mut form = with_priority();
        let last = form.pages.len() - 1;
        let mut proof = field(
            "priority_proof",
            FieldKind::File {
                document: "application".into(),
                max_files: 3,
            },
            true,
        );
        proof.visible_if = Some(Condition::AnsweredExcept {
            field: "priority".into(),
            answered_except: vec![NO_PRIORITY.into()],
        });
        form.pages[last].fields.push(proof);
        assert_eq!(form.check(&["application", POA_DOCUMENT]), vec![]);
        let fields = |answers: &Answers| -> Vec<String> {
            form.validate(answers, Strictness::Complete, ctx())
                .err()
                .unwrap_or_default()
                .into_iter()
                .map(|i| i.field)
                .collect()
        };
        assert_eq!(
            fields(&complete()),
            ["priority"],
            "the category is asked for"
        );
        let mut none = complete();
        none.insert("priority".into(), t(NO_PRIORITY));
        assert_eq!(fields(&none), Vec::<String>::new(), "no category, no proof");
        let mut claimed = complete();
        claimed.insert("priority".into(), t("sibling"));
        assert_eq!(fields(&claimed), ["priority_proof"]);
        claimed.insert("priority".into(), t("Sibling!"));
        assert_eq!(fields(&claimed), ["priority", "priority_proof"]);

        let mut bad = form.clone();
        if let FieldKind::PriorityCategory { organisation_field } =
            &mut bad.pages[last].fields.iter_mut().rev().nth(1).unwrap().kind
        {
            *organisation_field = "reason".into();
        }
        assert_eq!(
            bad.check(&["application", POA_DOCUMENT]),
            vec![(
                "form.priority.organisation_field".to_string(),
                "`reason` is not an organisation field of the form".to_string()
            )]
        );
    }

    #[test]
    fn a_pattern_shapes_a_text_answer_and_says_what_it_expects() {
        assert_eq!(
            issues(&with("certificate", t("AB123456")), Strictness::Complete),
            vec![]
        );
        assert_eq!(
            issues(&with("certificate", t(" AB123456 ")), Strictness::Complete),
            vec![],
            "surrounding spaces are ignored"
        );
        for wrong in ["ab123456", "AB12345", "AB1234567", "A1234567"] {
            let got = sample_form()
                .validate(&with("certificate", t(wrong)), Strictness::Draft, ctx())
                .unwrap_err();
            assert_eq!(got.len(), 1, "{wrong}");
            assert_eq!(got[0].field, "certificate");
            assert_eq!(
                got[0].message(Lang::En),
                "Two capital letters and six digits",
                "{wrong}"
            );
        }
        let mut bad = sample_form();
        if let FieldKind::Text { pattern, .. } = &mut bad.pages[0].fields[1].kind {
            pattern.as_mut().unwrap().pattern = "[A-Z".into();
        }
        assert_eq!(
            bad.check(&["application", POA_DOCUMENT])[0].0,
            "form.pages[0].fields[1].pattern.pattern"
        );
    }

    #[test]
    fn a_draft_may_be_incomplete_but_not_wrong() {
        let mut partial = Answers::new();
        partial.insert("grade".into(), t("3"));
        assert_eq!(issues(&partial, Strictness::Draft), vec![]);
        partial.insert("grade".into(), t("30"));
        assert_eq!(
            issues(&partial, Strictness::Draft),
            vec![("grade".into(), Msg::ErrorFormNumberRange)]
        );
        let required: Vec<String> = issues(&Answers::new(), Strictness::Complete)
            .into_iter()
            .map(|(f, _)| f)
            .collect();
        let expected = [
            "on_behalf",
            "reason",
            "grade",
            "study_form",
            "agree",
            "address.locality",
            "address.street",
            "address.house",
            "children",
            "application",
        ];
        assert_eq!(required, expected);
    }

    #[test]
    fn unknown_fields_are_refused_even_in_drafts() {
        let a = with("favourite_colour", t("blue"));
        assert_eq!(
            issues(&a, Strictness::Draft),
            vec![("favourite_colour".into(), Msg::ErrorFormUnknownField)]
        );
    }

    #[test]
    fn text_length_and_control_characters() {
        assert_eq!(
            issues(&with("reason", t("no")), Strictness::Complete),
            vec![("reason".into(), Msg::ErrorFormTooShort)]
        );
        assert_eq!(
            issues(&with("reason", t(&"x".repeat(51))), Strictness::Complete),
            vec![("reason".into(), Msg::ErrorFormTooLong)]
        );
        assert_eq!(
            issues(&with("reason", t("hello\u{0}world")), Strictness::Complete),
            vec![("reason".into(), Msg::ErrorFormControlCharacters)]
        );
        assert_eq!(
            issues(
                &with("reason", t("line one\nline two")),
                Strictness::Complete
            ),
            vec![]
        );
    }

    #[test]
    fn numbers_in_range_only() {
        assert_eq!(
            issues(&with("grade", t("0")), Strictness::Complete),
            vec![("grade".into(), Msg::ErrorFormNumberRange)]
        );
        assert_eq!(
            issues(&with("grade", t("five")), Strictness::Complete),
            vec![("grade".into(), Msg::ErrorFormNotNumber)]
        );
        assert_eq!(
            issues(&with("grade", t(" 11 ")), Strictness::Complete),
            vec![]
        );
    }

    #[test]
    fn dates_within_their_limits() {
        assert_eq!(
            issues(&with("start", t("2026-11-23")), Strictness::Complete),
            vec![("start".into(), Msg::ErrorFormDateTooEarly)]
        );
        assert_eq!(
            issues(&with("start", t("2027-11-25")), Strictness::Complete),
            vec![("start".into(), Msg::ErrorFormDateTooLate)]
        );
        assert_eq!(
            issues(&with("start", t("2027-11-24")), Strictness::Complete),
            vec![]
        );
        assert_eq!(
            issues(&with("start", t("2026-02-30")), Strictness::Complete),
            vec![("start".into(), Msg::ErrorFormDate)]
        );
    }

    #[test]
    fn date_limits_parse_and_resolve() {
        let today: Date = "2024-02-29".parse().unwrap();
        assert_eq!(DateLimit::parse("today").unwrap().resolve(today), today);
        assert_eq!(
            DateLimit::parse("today+30d")
                .unwrap()
                .resolve(today)
                .to_string(),
            "2024-03-30"
        );
        assert_eq!(
            DateLimit::parse("today-7y")
                .unwrap()
                .resolve(today)
                .to_string(),
            "2017-02-28"
        );
        assert_eq!(
            DateLimit::parse("2008-01-01")
                .unwrap()
                .resolve(today)
                .to_string(),
            "2008-01-01"
        );
        for bad in ["tomorrow", "today+", "today+3w", "today*3d", "2008-13-01"] {
            assert_eq!(DateLimit::parse(bad), None, "{bad}");
        }
        assert_eq!(
            DateLimit::parse("today-7y").unwrap().to_string(),
            "today-7y"
        );
    }

    #[test]
    fn identities_and_contacts_use_their_parsers() {
        assert_eq!(
            issues(&with("contact_phone", t("123")), Strictness::Complete),
            vec![("contact_phone".into(), Msg::ErrorPhoneInvalid)]
        );
        assert_eq!(
            issues(&with("contact_email", t("nope")), Strictness::Complete),
            vec![("contact_email".into(), Msg::ErrorEmailInvalid)]
        );
        let mut child = Answers::new();
        child.insert("iin".into(), t("190520688018"));
        child.insert("name".into(), t("R2"));
        let found = issues(
            &with("children", Answer::Items(vec![child])),
            Strictness::Complete,
        );
        assert_eq!(
            found,
            vec![
                ("children[0].iin".into(), Msg::ErrorIinChecksum),
                ("children[0].name".into(), Msg::ErrorNameCharacters)
            ]
        );
    }

    #[test]
    fn choices_must_be_offered_ones() {
        assert_eq!(
            issues(&with("study_form", t("part_time")), Strictness::Complete),
            vec![("study_form".into(), Msg::ErrorFormNotAChoice)]
        );
        assert_eq!(
            issues(&with("language", t("de")), Strictness::Complete),
            vec![("language".into(), Msg::ErrorFormNotAChoice)]
        );
        let list = |v: &[&str]| Answer::List(v.iter().map(|s| s.to_string()).collect());
        assert_eq!(
            issues(
                &with("needs", list(&["meals", "books", "transport"])),
                Strictness::Complete
            ),
            vec![("needs".into(), Msg::ErrorFormTooManyChoices)]
        );
        assert_eq!(
            issues(
                &with("needs", list(&["meals", "meals"])),
                Strictness::Complete
            ),
            vec![("needs".into(), Msg::ErrorFormNotAChoice)]
        );
        assert_eq!(
            issues(&with("needs", list(&["books"])), Strictness::Complete),
            vec![]
        );
    }

    #[test]
    fn a_required_checkbox_must_be_ticked() {
        assert_eq!(
            issues(&with("agree", Answer::Flag(false)), Strictness::Complete),
            vec![("agree".into(), Msg::ErrorFormMustTick)]
        );
    }

    #[test]
    fn addresses_need_locality_street_and_house() {
        let address = Answer::Address(AddressAnswer {
            locality: "Алматы".into(),
            street: String::new(),
            house: "1".into(),
            apartment: String::new(),
        });
        assert_eq!(
            issues(&with("address", address), Strictness::Complete),
            vec![("address.street".into(), Msg::ErrorFormRequired)]
        );
    }

    #[test]
    fn groups_count_their_items() {
        assert_eq!(
            issues(
                &with("children", Answer::Items(vec![])),
                Strictness::Complete
            ),
            vec![("children".into(), Msg::ErrorFormTooFewItems)]
        );
        let item = match complete().get("children") {
            Some(Answer::Items(i)) => i[0].clone(),
            _ => unreachable!(),
        };
        let four = Answer::Items(vec![item.clone(), item.clone(), item.clone(), item.clone()]);
        assert_eq!(
            issues(&with("children", four), Strictness::Complete),
            vec![("children".into(), Msg::ErrorFormTooManyItems)]
        );
        let mut odd = item;
        odd.insert("shoe_size".into(), t("31"));
        assert_eq!(
            issues(
                &with("children", Answer::Items(vec![odd])),
                Strictness::Complete
            ),
            vec![("children[0].shoe_size".into(), Msg::ErrorFormUnknownField)]
        );
    }

    #[test]
    fn files_are_lists_of_attachment_ids() {
        let ids = |n: usize| Answer::List((0..n).map(|i| format!("{i:032x}")).collect());
        assert_eq!(
            issues(&with("application", ids(3)), Strictness::Complete),
            vec![("application".into(), Msg::ErrorFormTooManyFiles)]
        );
        assert_eq!(
            issues(
                &with("application", Answer::List(vec!["../etc/passwd".into()])),
                Strictness::Complete
            ),
            vec![("application".into(), Msg::ErrorFormWrongShape)]
        );
        assert_eq!(
            issues(
                &with("application", Answer::List(vec![])),
                Strictness::Complete
            ),
            vec![("application".into(), Msg::ErrorFormFileMissing)]
        );
    }

    #[test]
    fn a_wrong_kind_of_answer_is_refused() {
        assert_eq!(
            issues(&with("grade", Answer::Flag(true)), Strictness::Complete),
            vec![("grade".into(), Msg::ErrorFormWrongShape)]
        );
        assert_eq!(
            issues(&with("agree", t("yes")), Strictness::Complete),
            vec![("agree".into(), Msg::ErrorFormWrongShape)]
        );
    }

    #[test]
    fn hidden_fields_are_not_required_and_are_dropped() {
        let evening = with("study_form", t("evening"));
        assert_eq!(
            issues(&evening, Strictness::Complete),
            vec![("employer".into(), Msg::ErrorFormRequired)]
        );
        let mut day = complete();
        day.insert("employer".into(), t("Factory"));
        let kept = sample_form()
            .validate(&day, Strictness::Complete, ctx())
            .unwrap();
        assert!(
            !kept.contains_key("employer"),
            "an answer to a hidden field is not kept"
        );
    }

    #[test]
    fn the_subject_page_asks_for_the_person_and_the_power_of_attorney() {
        let mut a = with("on_behalf", t("representative"));
        let found: Vec<String> = issues(&a, Strictness::Complete)
            .into_iter()
            .map(|(f, _)| f)
            .collect();
        assert_eq!(
            found,
            vec![
                "subject_iin",
                "subject_last_name",
                "subject_first_name",
                "poa_number",
                "poa_date",
                "poa_copy"
            ]
        );
        a.insert("on_behalf".into(), t("child"));
        let found: Vec<String> = issues(&a, Strictness::Complete)
            .into_iter()
            .map(|(f, _)| f)
            .collect();
        assert_eq!(
            found,
            vec!["subject_iin", "subject_last_name", "subject_first_name"]
        );
        assert!(subject_page(&[OnBehalf::Myself]).is_none());
    }

    #[test]
    fn cross_field_rules_speak_with_the_definitions_words() {
        let mut a = with("start", t("2026-12-10"));
        a.insert("end".into(), t("2026-12-01"));
        let result = sample_form()
            .validate(&a, Strictness::Complete, ctx())
            .unwrap_err();
        assert_eq!(result[0].field, "end");
        assert_eq!(result[0].message(Lang::En), "The end is before the start");
        assert_eq!(
            result[0].message(Lang::Ru),
            "The end is before the start (ru)"
        );
    }

    #[test]
    fn a_page_is_checked_alone() {
        let found = sample_form().validate_page("details", &Answers::new(), ctx());
        let fields: Vec<&str> = found.iter().map(|i| i.field.as_str()).collect();
        assert_eq!(
            fields,
            vec![
                "reason",
                "grade",
                "study_form",
                "agree",
                "address.locality",
                "address.street",
                "address.house"
            ]
        );
    }

    #[test]
    fn definitions_with_mistakes_are_reported() {
        let mut form = sample_form();
        form.pages[0].fields[1].id = "reason".into();
        form.pages[1].fields[1].kind = FieldKind::File {
            document: "passport".into(),
            max_files: 1,
        };
        form.pages[0].fields[12].visible_if = Some(Condition::Equals {
            field: "nope".into(),
            equals: "x".into(),
        });
        let problems: Vec<String> = form
            .check(&["application"])
            .into_iter()
            .map(|(f, _)| f)
            .collect();
        assert_eq!(
            problems,
            vec![
                "form.pages[0].fields[1].id",
                "form.pages[1].fields[1].document",
                "form"
            ]
        );
    }

    #[test]
    fn answers_read_back_in_the_users_language() {
        let f = field(
            "study_form",
            FieldKind::Radio {
                options: choices(&["full_time", "evening"]),
            },
            true,
        );
        assert_eq!(display(&f, &t("evening"), Lang::Ru), "evening (ru)");
        let a = Answer::Address(AddressAnswer {
            locality: "Алматы".into(),
            street: "Абая".into(),
            house: "10".into(),
            apartment: "5".into(),
        });
        assert_eq!(
            display(&field("a", FieldKind::Address, true), &a, Lang::En),
            "Алматы, Абая, 10, 5"
        );
    }

    #[test]
    fn a_misspelt_key_of_a_field_is_reported() {
        let mut json = serde_json::to_value(sample_form()).unwrap();
        json["pages"][0]["fields"][1]["maximum"] = 3.into();
        json["pages"][1]["fields"][0]["fields"][0]["colour"] = "red".into();
        let found = unknown_field_keys(&json);
        assert_eq!(
            found,
            vec![
                ("form.pages[0].fields[1]".to_string(), "maximum".to_string()),
                (
                    "form.pages[1].fields[0].fields[0]".to_string(),
                    "colour".to_string()
                )
            ]
        );
        assert_eq!(
            unknown_field_keys(&serde_json::to_value(sample_form()).unwrap()),
            vec![]
        );
    }

    #[test]
    fn answers_round_trip_through_json() {
        let json = serde_json::to_string(&complete()).unwrap();
        let back: Answers = serde_json::from_str(&json).unwrap();
        assert_eq!(back, complete());
    }
}
