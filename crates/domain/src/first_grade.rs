//! First-grade enrolment: the application window, the child's age from the IIN, the school's
//! service territory, and the order in which a school's places go.
//!
//! The rules are data where the state changes them: the window per year (the seed regulation
//! says 1 June–30 August, current national practice 1 April–31 August) and the age rule.

use serde::{Deserialize, Serialize};

use crate::calendar::UTC_OFFSET_MINUTES;
use crate::date::Date;
use crate::form::AddressAnswer;
use crate::service::MonthDay;
use crate::text::Text;
use portal_i18n::Msg;

/// When applications for a school year are accepted: from the first day's 00:00 to the last
/// day's 24:00, local time.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Window {
    /// Unix milliseconds.
    pub opens_at: i64,
    /// Unix milliseconds; the first moment it is closed.
    pub closes_at: i64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WindowState {
    NotYetOpen { opens_at: i64 },
    Open,
    Closed,
}

/// Unix milliseconds of a local day's midnight.
fn local_midnight(day: Date) -> i64 {
    local_moment(day, 0)
}

/// Unix milliseconds of a local (Astana) day and minute of the day.
pub fn local_moment(day: Date, minute: u32) -> i64 {
    (i64::from(day.days_since_epoch()) * 24 * 60 + i64::from(minute) - UTC_OFFSET_MINUTES) * 60_000
}

/// `2027-04-01T09:00` (an HTML date-and-time input, Astana time) as Unix milliseconds.
pub fn parse_local_moment(s: &str) -> Option<i64> {
    let (day, time) = s.trim().split_once('T')?;
    let day: Date = day.parse().ok()?;
    let (h, m) = time.get(..5)?.split_once(':')?;
    let (h, m): (u32, u32) = (h.parse().ok()?, m.parse().ok()?);
    (h < 24 && m < 60).then(|| local_moment(day, h * 60 + m))
}

impl Window {
    /// The window of `year` from `first` to `last` (inclusive), or `None` for a date that
    /// does not exist that year or a last day before the first.
    pub fn for_year(year: i32, first: MonthDay, last: MonthDay) -> Option<Window> {
        let first = Date::from_ymd(year, first.month, first.day).ok()?;
        let last = Date::from_ymd(year, last.month, last.day).ok()?;
        (first <= last).then(|| Window {
            opens_at: local_midnight(first),
            closes_at: local_midnight(last.add_days(1)),
        })
    }

    pub fn state(&self, now: i64) -> WindowState {
        if now < self.opens_at {
            WindowState::NotYetOpen {
                opens_at: self.opens_at,
            }
        } else if now < self.closes_at {
            WindowState::Open
        } else {
            WindowState::Closed
        }
    }
}

/// `GET /api/first-grade/window` and the administrators' view of a school year's window.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct WindowView {
    pub school_year: i32,
    /// Unix milliseconds.
    pub opens_at: i64,
    /// Unix milliseconds; the first moment it is closed.
    pub closes_at: i64,
    /// Applications are sent now.
    pub open: bool,
    /// Set by an administrator for this year (else the portal's default days).
    pub edited: bool,
    /// The age rule of this year.
    pub age: AgeRule,
}

/// `PUT /api/admin/first-grade/{year}`: the exact opening and closing moments of a year.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct WindowEdit {
    /// Unix milliseconds.
    pub opens_at: i64,
    /// Unix milliseconds; the first moment it is closed.
    pub closes_at: i64,
    /// The age rule of the year; the portal's (6 and 7) when left out.
    #[serde(default = "default_youngest")]
    pub age_youngest: u32,
    #[serde(default = "default_oldest")]
    pub age_oldest: u32,
}

fn default_youngest() -> u32 {
    AgeRule::default().youngest
}

fn default_oldest() -> u32 {
    AgeRule::default().oldest
}

/// The range an administrator may set the youngest age in; the oldest is at most
/// [`MAX_AGE_SPREAD`] years above it.
pub const YOUNGEST_AGES: std::ops::RangeInclusive<u32> = 4..=8;
pub const MAX_AGE_SPREAD: u32 = 3;

impl WindowEdit {
    /// A window for `school_year` opens in that year or the one before, closes after it opens
    /// and no later than the end of the year; the ages are within bounds and in order.
    pub fn check(
        &self,
        school_year: i32,
    ) -> Result<(Window, AgeRule), Vec<crate::validation::FieldIssue>> {
        use crate::validation::FieldIssue;
        let start = |y: i32| {
            Date::from_ymd(y, 1, 1)
                .map(local_midnight)
                .unwrap_or(i64::MAX)
        };
        let mut issues = Vec::new();
        if self.opens_at < start(school_year - 1) || self.opens_at >= start(school_year + 1) {
            issues.push(
                FieldIssue::new("opens_at", Msg::ErrorFirstGradeWindowYear)
                    .arg("year", school_year.to_string())
                    .arg("next", (school_year + 1).to_string()),
            );
        }
        if self.closes_at <= self.opens_at {
            issues.push(FieldIssue::new(
                "closes_at",
                Msg::ErrorFirstGradeWindowOrder,
            ));
        } else if self.closes_at > start(school_year + 1) {
            issues.push(
                FieldIssue::new("closes_at", Msg::ErrorFirstGradeWindowYear)
                    .arg("year", school_year.to_string())
                    .arg("next", (school_year + 1).to_string()),
            );
        }
        if !YOUNGEST_AGES.contains(&self.age_youngest) {
            issues.push(
                FieldIssue::new("age_youngest", Msg::ErrorFirstGradeAgeYoungest)
                    .arg("min", YOUNGEST_AGES.start().to_string())
                    .arg("max", YOUNGEST_AGES.end().to_string()),
            );
        } else if self.age_oldest < self.age_youngest
            || self.age_oldest > self.age_youngest + MAX_AGE_SPREAD
        {
            issues.push(
                FieldIssue::new("age_oldest", Msg::ErrorFirstGradeAgeOldest)
                    .arg("min", self.age_youngest.to_string())
                    .arg("max", (self.age_youngest + MAX_AGE_SPREAD).to_string()),
            );
        }
        if issues.is_empty() {
            Ok((
                Window {
                    opens_at: self.opens_at,
                    closes_at: self.closes_at,
                },
                AgeRule {
                    youngest: self.age_youngest,
                    oldest: self.age_oldest,
                },
            ))
        } else {
            Err(issues)
        }
    }
}

/// Who may start first grade in a school year: children who turn `youngest` (6) in that
/// calendar year at the latest, and are at most `oldest` (7) on 1 September.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AgeRule {
    pub youngest: u32,
    pub oldest: u32,
}

impl Default for AgeRule {
    fn default() -> AgeRule {
        AgeRule {
            youngest: 6,
            oldest: 7,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AgeVerdict {
    Eligible,
    /// Turns `youngest` only in `year`: apply then.
    TooYoung {
        youngest: u32,
        year: i32,
    },
    /// `age` on 1 September: older than first grade.
    TooOld {
        age: i32,
    },
}

impl AgeVerdict {
    /// The refusal and its arguments, for a child who is not eligible.
    pub fn refusal(self) -> Option<(Msg, Vec<(&'static str, String)>)> {
        match self {
            AgeVerdict::Eligible => None,
            AgeVerdict::TooYoung { youngest, year } => Some((
                Msg::ErrorFirstGradeTooYoung,
                vec![("age", youngest.to_string()), ("year", year.to_string())],
            )),
            AgeVerdict::TooOld { age } => {
                Some((Msg::ErrorFirstGradeTooOld, vec![("age", age.to_string())]))
            }
        }
    }
}

impl AgeRule {
    /// The verdict for a child born on `birth` (from the IIN) for the school year starting on
    /// 1 September of `school_year`.
    pub fn verdict(&self, birth: Date, school_year: i32) -> AgeVerdict {
        let turns_youngest = birth.year() + self.youngest as i32;
        if turns_youngest > school_year {
            return AgeVerdict::TooYoung {
                youngest: self.youngest,
                year: turns_youngest,
            };
        }
        let first_of_september =
            Date::from_ymd(school_year, 9, 1).expect("1 September exists every year");
        let age = birth.years_until(first_of_september);
        if age > self.oldest as i32 {
            return AgeVerdict::TooOld { age };
        }
        AgeVerdict::Eligible
    }
}

/// Words that name the kind of street rather than the street, in the three languages.
const STREET_KINDS: &[&str] = &[
    "улица",
    "ул",
    "көшесі",
    "көше",
    "street",
    "st",
    "проспект",
    "пр",
    "просп",
    "даңғылы",
    "даңғ",
    "avenue",
    "ave",
    "микрорайон",
    "мкр",
    "мөлтекаудан",
    "мөлтекауданы",
    "шағынаудан",
    "шағынауданы",
    "ша",
    "microdistrict",
    "переулок",
    "пер",
    "тұйық",
    "lane",
    "бульвар",
    "бульвары",
    "boulevard",
    "blvd",
];

/// A street or microdistrict name reduced to its words: lower case, no punctuation, no word
/// for the kind of street ("ул.", "даңғылы", "Avenue"…), so "ул. Абая" and "Абая улица" match.
fn street_words(name: &str) -> Vec<String> {
    let mut words: Vec<String> = name
        .to_lowercase()
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty() && !STREET_KINDS.contains(w))
        .map(str::to_string)
        .collect();
    words.sort();
    words
}

/// Whether the address is in the school's territory: its street (or microdistrict) is one of
/// the territory's, written in any of the three languages.
pub fn in_territory(address: &AddressAnswer, territory: &[Text]) -> bool {
    let street = street_words(&address.street);
    !street.is_empty()
        && territory.iter().any(|t| {
            [&t.kk, &t.ru, &t.en]
                .into_iter()
                .any(|name| street_words(name) == street)
        })
}

/// Where a first-grade application stands at its school.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct QueuePlace {
    /// The school year it applies for (starting on 1 September of this year).
    pub school_year: i32,
    /// 1 for the first still-active application the school received, and so on.
    pub position: u64,
    /// The school's first-grade places, when it has said.
    pub places: Option<u32>,
}

/// What a parent choosing a school sees: its places, how many applications it has for the
/// school year, and whether the family's address is in its territory.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SchoolCheck {
    pub school: Text,
    pub places: Option<u32>,
    /// Active applications sent to it for the school year.
    pub applications: u64,
    /// `None` when the school lists no territory or no address is given yet.
    pub in_territory: Option<bool>,
}

/// The refusal ground when a school's first grade is full (general knowledge: the seed lists
/// no grounds; a school cannot enrol beyond its places).
pub fn no_places_ground() -> crate::service::RefusalGround {
    crate::service::RefusalGround {
        id: "first-grade-no-places".into(),
        text: Text {
            kk: "Мектептің бірінші сыныптарында бос орын жоқ.".into(),
            ru: "В первых классах школы нет свободных мест.".into(),
            en: "There are no free places in the school's first grade.".into(),
        },
    }
}

/// `POST /api/workspace/first-grade/enrolment`: decide a school year's first grade by the
/// queue, with the text of the enrolment notice and of the refusal for lack of places.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct EnrolmentRequest {
    pub school_year: i32,
    pub decision: String,
    pub refusal: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct EnrolmentOutcome {
    pub places: u32,
    pub enrolled: u32,
    pub refused: u32,
}

/// An application competing for a school's first-grade places.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Candidate {
    pub id: String,
    /// The order in which the server committed the submission (1 = first).
    pub position: u64,
    /// The rank of the priority category the application proved, 0 the highest; `None` for
    /// none.
    pub priority: Option<u32>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Placement {
    Enrolled,
    /// Over capacity: refused, there are no places.
    NoPlaces,
}

/// Who gets the `places`: priority categories first (by rank), then the order of submission.
pub fn allocate(candidates: &[Candidate], places: u32) -> Vec<(String, Placement)> {
    let mut order: Vec<&Candidate> = candidates.iter().collect();
    order.sort_by_key(|c| (c.priority.unwrap_or(u32::MAX), c.position));
    order
        .into_iter()
        .enumerate()
        .map(|(i, c)| {
            let placement = if (i as u64) < u64::from(places) {
                Placement::Enrolled
            } else {
                Placement::NoPlaces
            };
            (c.id.clone(), placement)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> Date {
        s.parse().unwrap()
    }

    fn md(s: &str) -> MonthDay {
        MonthDay::parse(s).unwrap()
    }

    #[test]
    fn the_window_opens_and_closes_at_local_midnight() {
        let w = Window::for_year(2026, md("04-01"), md("08-31")).unwrap();
        // 1 April 2026 00:00 in Astana is 31 March 19:00 UTC.
        assert_eq!(w.opens_at, 1_774_983_600_000);
        assert_eq!(
            w.state(w.opens_at - 1),
            WindowState::NotYetOpen {
                opens_at: w.opens_at
            }
        );
        assert_eq!(w.state(w.opens_at), WindowState::Open);
        assert_eq!(
            w.state(w.closes_at - 1),
            WindowState::Open,
            "all of 31 August"
        );
        assert_eq!(w.state(w.closes_at), WindowState::Closed);
        assert_eq!(w.closes_at - w.opens_at, 153 * 24 * 3_600_000);
        assert!(Window::for_year(2026, md("08-31"), md("04-01")).is_none());
        assert!(Window::for_year(2026, md("02-29"), md("08-31")).is_none());
    }

    #[test]
    fn an_edited_window_stays_around_its_school_year() {
        let day = |s: &str| local_midnight(d(s));
        let edit = |from: &str, to: &str| WindowEdit {
            opens_at: day(from),
            closes_at: day(to),
            age_youngest: 6,
            age_oldest: 7,
        };
        assert!(edit("2027-04-01", "2027-09-01").check(2027).is_ok());
        assert!(
            edit("2026-12-01", "2027-01-15").check(2027).is_ok(),
            "it may open the year before"
        );
        let fields = |e: WindowEdit| -> Vec<String> {
            e.check(2027)
                .unwrap_err()
                .into_iter()
                .map(|i| i.field)
                .collect()
        };
        assert_eq!(fields(edit("2027-05-01", "2027-04-01")), ["closes_at"]);
        assert_eq!(fields(edit("2025-12-31", "2027-04-01")), ["opens_at"]);
        assert_eq!(fields(edit("2027-04-01", "2028-01-02")), ["closes_at"]);
        let aged = |youngest, oldest| WindowEdit {
            age_youngest: youngest,
            age_oldest: oldest,
            ..edit("2027-04-01", "2027-09-01")
        };
        assert_eq!(
            aged(7, 8).check(2027).unwrap().1,
            AgeRule {
                youngest: 7,
                oldest: 8
            }
        );
        assert_eq!(fields(aged(3, 7)), ["age_youngest"]);
        assert_eq!(fields(aged(9, 9)), ["age_youngest"]);
        assert_eq!(fields(aged(6, 5)), ["age_oldest"]);
        assert_eq!(fields(aged(6, 10)), ["age_oldest"]);
        // Left out of the request: the portal's rule.
        let sent: WindowEdit = serde_json::from_str(r#"{"opens_at": 1, "closes_at": 2}"#).unwrap();
        assert_eq!((sent.age_youngest, sent.age_oldest), (6, 7));
    }

    #[test]
    fn a_typed_local_moment_is_astana_time() {
        assert_eq!(
            parse_local_moment("2026-04-01T00:00"),
            Some(1_774_983_600_000)
        );
        assert_eq!(
            parse_local_moment("2026-04-01T09:30"),
            Some(1_774_983_600_000 + (9 * 60 + 30) * 60_000)
        );
        assert_eq!(parse_local_moment("2026-04-01"), None);
        assert_eq!(parse_local_moment("2026-04-01T24:00"), None);
        assert_eq!(parse_local_moment("2026-02-30T10:00"), None);
    }

    #[test]
    fn age_comes_from_the_birth_date() {
        let rule = AgeRule::default();
        // Turns 6 on 31 December 2026: eligible for 2026.
        assert_eq!(rule.verdict(d("2020-12-31"), 2026), AgeVerdict::Eligible);
        // Turns 6 on 1 January 2027: next year.
        assert_eq!(
            rule.verdict(d("2021-01-01"), 2026),
            AgeVerdict::TooYoung {
                youngest: 6,
                year: 2027
            }
        );
        // 7 on 1 September (turns 8 on the 2nd): still eligible.
        assert_eq!(rule.verdict(d("2018-09-02"), 2026), AgeVerdict::Eligible);
        // Turns 8 on 1 September: too old for first grade.
        assert_eq!(
            rule.verdict(d("2018-09-01"), 2026),
            AgeVerdict::TooOld { age: 8 }
        );
        let strict = AgeRule {
            youngest: 7,
            oldest: 7,
        };
        assert_eq!(
            strict.verdict(d("2020-03-01"), 2026),
            AgeVerdict::TooYoung {
                youngest: 7,
                year: 2027
            }
        );
        let (msg, args) = strict.verdict(d("2020-03-01"), 2026).refusal().unwrap();
        assert_eq!(msg, Msg::ErrorFirstGradeTooYoung);
        assert_eq!(
            args,
            vec![("age", "7".to_string()), ("year", "2027".to_string())]
        );
        assert!(AgeVerdict::Eligible.refusal().is_none());
    }

    #[test]
    fn the_territory_matches_streets_however_they_are_written() {
        let territory = vec![
            Text {
                kk: "Абай даңғылы".into(),
                ru: "проспект Абая".into(),
                en: "Abay Avenue".into(),
            },
            Text {
                kk: "Самал-2 шағынауданы".into(),
                ru: "мкр. Самал-2".into(),
                en: "Samal-2 microdistrict".into(),
            },
        ];
        let at = |street: &str| AddressAnswer {
            locality: "Алматы".into(),
            street: street.into(),
            house: "10".into(),
            apartment: String::new(),
        };
        assert!(in_territory(&at("Абай даңғылы"), &territory));
        assert!(in_territory(&at("пр. Абая"), &territory));
        assert!(in_territory(&at("ABAY avenue"), &territory));
        assert!(in_territory(&at("Самал-2"), &territory));
        assert!(!in_territory(&at("ул. Толе би"), &territory));
        assert!(!in_territory(&at("Абая"), &territory[1..]));
        assert!(
            !in_territory(&at("улица"), &territory),
            "only the kind of street"
        );
    }

    #[test]
    fn priority_categories_go_first_then_the_order_of_submission() {
        let c = |id: &str, position, priority| Candidate {
            id: id.into(),
            position,
            priority,
        };
        let candidates = vec![
            c("a", 1, None),
            c("b", 2, Some(1)),
            c("c", 3, None),
            c("d", 4, Some(0)),
            c("e", 5, Some(1)),
        ];
        let result = allocate(&candidates, 3);
        assert_eq!(
            result,
            vec![
                ("d".to_string(), Placement::Enrolled),
                ("b".to_string(), Placement::Enrolled),
                ("e".to_string(), Placement::Enrolled),
                ("a".to_string(), Placement::NoPlaces),
                ("c".to_string(), Placement::NoPlaces),
            ]
        );
        assert!(
            allocate(&candidates, 10)
                .iter()
                .all(|(_, p)| *p == Placement::Enrolled)
        );
        assert!(
            allocate(&candidates, 0)
                .iter()
                .all(|(_, p)| *p == Placement::NoPlaces)
        );
    }
}
