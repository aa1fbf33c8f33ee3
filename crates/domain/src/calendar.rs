//! Kazakhstan's working-day calendar and the due dates computed from it.
//!
//! Weekends and the fixed public holidays are rules; the first day of Kurban ait, the days off
//! moved from holidays falling on weekends, and the government's yearly transfers are data
//! (`calendar/kz.json`), because they change every year.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use crate::date::{Date, Weekday};
use crate::service::{Duration, DurationUnit};
use crate::text::Text;
use crate::validation::FieldIssue;
use portal_i18n::Msg;

/// Kazakhstan has kept one time zone, UTC+5, since 1 March 2024.
pub const UTC_OFFSET_MINUTES: i64 = 5 * 60;

/// The fixed public holidays, as (month, day).
pub const FIXED_HOLIDAYS: [(u32, u32); 14] = [
    (1, 1),
    (1, 2),
    (1, 7),
    (3, 8),
    (3, 21),
    (3, 22),
    (3, 23),
    (5, 1),
    (5, 7),
    (5, 9),
    (7, 6),
    (8, 30),
    (10, 25),
    (12, 16),
];

/// Requests made on a working day from this minute of the day on count from the next working
/// day (the provider's day ends at 18:00).
pub const WORKING_DAY_ENDS_AT_MINUTE: u32 = 18 * 60;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CalendarFile {
    pub note: String,
    pub years: BTreeMap<String, CalendarYear>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CalendarYear {
    pub holidays: Vec<Holiday>,
    #[serde(default)]
    pub extra_days_off: Vec<DayNote>,
    #[serde(default)]
    pub working_weekend_days: Vec<DayNote>,
    pub verified: bool,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Holiday {
    pub date: Date,
    pub name: Text,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DayNote {
    pub date: Date,
    pub reason: String,
}

/// The three kinds of dated entries of a calendar year.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DayKind {
    Holiday,
    ExtraDayOff,
    WorkingWeekendDay,
}

impl DayKind {
    /// The list of [`CalendarYear`] holding this kind, as a field name.
    pub fn field(self) -> &'static str {
        match self {
            DayKind::Holiday => "holidays",
            DayKind::ExtraDayOff => "extra_days_off",
            DayKind::WorkingWeekendDay => "working_weekend_days",
        }
    }
}

/// The longest reason or holiday name kept.
pub const MAX_DAY_TEXT_CHARS: usize = 200;

impl CalendarYear {
    fn dates(&self) -> impl Iterator<Item = Date> + '_ {
        self.holidays
            .iter()
            .map(|h| h.date)
            .chain(self.extra_days_off.iter().map(|d| d.date))
            .chain(self.working_weekend_days.iter().map(|d| d.date))
    }

    /// Whether `date` may be added to `year` as `kind`, next to the days already listed.
    pub fn check_new_day(&self, year: i32, kind: DayKind, date: Date) -> Result<(), Msg> {
        check_day(year, kind, date)?;
        if self.dates().any(|d| d == date) {
            return Err(Msg::ErrorCalendarDuplicate);
        }
        Ok(())
    }

    /// Every entry in `year`, of the right weekday for its kind, named, each date once; the
    /// problems keyed by entry (`holidays[2].date`, `extra_days_off[0].reason`…).
    pub fn check(&self, year: i32) -> Result<(), Vec<FieldIssue>> {
        let mut issues = Vec::new();
        let mut seen = BTreeSet::new();
        let mut day = |kind: DayKind, i: usize, date: Date, texts: &[&str]| {
            let at = |part: &str| format!("{}[{i}].{part}", kind.field());
            if let Err(msg) = check_day(year, kind, date) {
                issues.push(FieldIssue::new(at("date"), msg).arg("year", year.to_string()));
            } else if !seen.insert(date) {
                issues.push(FieldIssue::new(at("date"), Msg::ErrorCalendarDuplicate));
            }
            if texts.iter().any(|t| t.trim().is_empty()) {
                issues.push(FieldIssue::new(
                    at(if kind == DayKind::Holiday {
                        "name"
                    } else {
                        "reason"
                    }),
                    Msg::ErrorCalendarTextRequired,
                ));
            } else if texts.iter().any(|t| t.chars().count() > MAX_DAY_TEXT_CHARS) {
                issues.push(
                    FieldIssue::new(at("reason"), Msg::ErrorTextTooLong)
                        .arg("max", MAX_DAY_TEXT_CHARS.to_string()),
                );
            }
        };
        for (i, h) in self.holidays.iter().enumerate() {
            day(
                DayKind::Holiday,
                i,
                h.date,
                &[&h.name.kk, &h.name.ru, &h.name.en],
            );
        }
        for (i, d) in self.extra_days_off.iter().enumerate() {
            day(DayKind::ExtraDayOff, i, d.date, &[&d.reason]);
        }
        for (i, d) in self.working_weekend_days.iter().enumerate() {
            day(DayKind::WorkingWeekendDay, i, d.date, &[&d.reason]);
        }
        if issues.is_empty() {
            Ok(())
        } else {
            Err(issues)
        }
    }
}

fn check_day(year: i32, kind: DayKind, date: Date) -> Result<(), Msg> {
    if date.year() != year {
        return Err(Msg::ErrorCalendarOtherYear);
    }
    match kind {
        DayKind::ExtraDayOff if is_weekend(date) => Err(Msg::ErrorCalendarAlreadyWeekend),
        DayKind::WorkingWeekendDay if !is_weekend(date) => Err(Msg::ErrorCalendarNotWeekend),
        _ => Ok(()),
    }
}

#[derive(Clone, Debug, Default)]
pub struct Calendar {
    days_off: BTreeSet<Date>,
    working_weekends: BTreeSet<Date>,
    /// Years the data covers; other years get weekends and fixed holidays only.
    years: BTreeSet<i32>,
}

impl Calendar {
    pub fn parse(json: &str) -> Result<Calendar, String> {
        let file: CalendarFile = serde_json::from_str(json).map_err(|e| e.to_string())?;
        Calendar::from_file(&file)
    }

    pub fn from_file(file: &CalendarFile) -> Result<Calendar, String> {
        let mut calendar = Calendar::default();
        for (year, data) in &file.years {
            let year: i32 = year
                .parse()
                .map_err(|_| format!("`{year}` is not a year"))?;
            let in_year = |d: &Date, what: &str| {
                if d.year() == year {
                    Ok(*d)
                } else {
                    Err(format!("{year}: {what} {d} is in another year"))
                }
            };
            for h in &data.holidays {
                calendar.days_off.insert(in_year(&h.date, "holiday")?);
            }
            for d in &data.extra_days_off {
                let d = in_year(&d.date, "day off")?;
                if is_weekend(d) {
                    return Err(format!("{year}: extra day off {d} is already a weekend"));
                }
                calendar.days_off.insert(d);
            }
            for d in &data.working_weekend_days {
                let d = in_year(&d.date, "working day")?;
                if !is_weekend(d) {
                    return Err(format!(
                        "{year}: working weekend day {d} is not a Saturday or Sunday"
                    ));
                }
                calendar.working_weekends.insert(d);
            }
            calendar.years.insert(year);
        }
        Ok(calendar)
    }

    pub fn is_working_day(&self, day: Date) -> bool {
        if self.working_weekends.contains(&day) {
            return true;
        }
        if is_weekend(day) || self.days_off.contains(&day) {
            return false;
        }
        self.years.contains(&day.year()) || !FIXED_HOLIDAYS.contains(&(day.month(), day.day()))
    }

    /// `day` itself when it is a working day, else the next one.
    pub fn working_day_from(&self, mut day: Date) -> Date {
        while !self.is_working_day(day) {
            day = day.add_days(1);
        }
        day
    }

    /// The `n`-th working day after `day` (`day` itself not counted).
    pub fn add_working_days(&self, mut day: Date, n: u32) -> Date {
        for _ in 0..n {
            day = self.working_day_from(day.add_days(1));
        }
        day
    }

    /// The day a request received at `at_millis` (Unix time) counts as accepted: that day when
    /// it is a working day and within working hours, otherwise the next working day.
    pub fn acceptance_day(&self, at_millis: i64) -> Date {
        let (day, minute) = local_day_and_minute(at_millis);
        if self.is_working_day(day) && minute < WORKING_DAY_ENDS_AT_MINUTE {
            day
        } else {
            self.working_day_from(day.add_days(1))
        }
    }

    /// When a term that starts with a request at `at_millis` ends. The day of acceptance is not
    /// counted.
    pub fn due_date(&self, at_millis: i64, term: Duration) -> Date {
        let accepted = self.acceptance_day(at_millis);
        match term.unit {
            DurationUnit::Minutes | DurationUnit::Hours => accepted,
            DurationUnit::WorkingDays => self.add_working_days(accepted, term.value),
            DurationUnit::CalendarDays => accepted.add_days(term.value as i32),
        }
    }
}

impl Calendar {
    /// The day each step must be done by, for a request received at `at_millis`: each step's
    /// duration runs from the previous step's due day, the first from the day of acceptance
    /// (not counted). A step without a duration is due with the one before it; `None` before
    /// the first step with a duration.
    pub fn step_due_dates(
        &self,
        at_millis: i64,
        durations: &[Option<Duration>],
    ) -> Vec<Option<Date>> {
        let mut from = self.acceptance_day(at_millis);
        let mut any = false;
        durations
            .iter()
            .map(|duration| {
                if let Some(d) = duration {
                    from = match d.unit {
                        DurationUnit::Minutes | DurationUnit::Hours => from,
                        DurationUnit::WorkingDays => self.add_working_days(from, d.value),
                        DurationUnit::CalendarDays => from.add_days(d.value as i32),
                    };
                    any = true;
                }
                any.then_some(from)
            })
            .collect()
    }
}

/// `PUT /api/admin/calendar/{year}` answers and `GET` shows: a year of the calendar.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CalendarYearView {
    pub year: i32,
    pub data: CalendarYear,
    /// Changed by an administrator (else as shipped in the calendar file, or empty).
    pub edited: bool,
    /// Working days in the year with this data.
    pub working_days: u32,
}

impl Calendar {
    pub fn working_days_in(&self, year: i32) -> u32 {
        let (Ok(mut day), Ok(last)) = (Date::from_ymd(year, 1, 1), Date::from_ymd(year, 12, 31))
        else {
            return 0;
        };
        let mut n = 0;
        while day <= last {
            n += u32::from(self.is_working_day(day));
            day = day.add_days(1);
        }
        n
    }
}

fn is_weekend(day: Date) -> bool {
    matches!(day.weekday(), Weekday::Saturday | Weekday::Sunday)
}

/// The local (UTC+5) date and minute of the day of a Unix time in milliseconds.
pub fn local_day_and_minute(at_millis: i64) -> (Date, u32) {
    let local_minutes = at_millis.div_euclid(60_000) + UTC_OFFSET_MINUTES;
    let day = Date::from_days_since_epoch(local_minutes.div_euclid(24 * 60) as i32);
    (day, local_minutes.rem_euclid(24 * 60) as u32)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> Date {
        s.parse().unwrap()
    }

    /// Unix milliseconds of a local (UTC+5) date and time.
    fn local(date: &str, hour: i64, minute: i64) -> i64 {
        (i64::from(d(date).days_since_epoch()) * 24 * 60 + hour * 60 + minute - UTC_OFFSET_MINUTES)
            * 60_000
    }

    #[test]
    fn an_edited_year_is_checked_entry_by_entry() {
        let note = |date: &str, reason: &str| DayNote {
            date: d(date),
            reason: reason.into(),
        };
        let mut year = CalendarYear {
            holidays: vec![Holiday {
                date: d("2027-05-17"),
                name: Text::same("Kurban ait"),
            }],
            extra_days_off: vec![note("2027-01-08", "moved from Sat 2 Jan")],
            working_weekend_days: vec![note("2027-01-16", "for 8 Jan")],
            verified: false,
        };
        assert_eq!(year.check(2027), Ok(()));
        assert_eq!(
            year.check_new_day(2027, DayKind::ExtraDayOff, d("2027-01-09")),
            Err(Msg::ErrorCalendarAlreadyWeekend),
            "9 Jan 2027 is a Saturday"
        );
        assert_eq!(
            year.check_new_day(2027, DayKind::WorkingWeekendDay, d("2027-01-15")),
            Err(Msg::ErrorCalendarNotWeekend)
        );
        assert_eq!(
            year.check_new_day(2027, DayKind::Holiday, d("2026-12-31")),
            Err(Msg::ErrorCalendarOtherYear)
        );
        assert_eq!(
            year.check_new_day(2027, DayKind::ExtraDayOff, d("2027-01-08")),
            Err(Msg::ErrorCalendarDuplicate)
        );
        assert_eq!(
            year.check_new_day(2027, DayKind::ExtraDayOff, d("2027-03-24")),
            Ok(())
        );
        year.extra_days_off.push(note("2027-01-16", " "));
        year.holidays[0].name.kk = String::new();
        let fields: Vec<String> = year
            .check(2027)
            .unwrap_err()
            .into_iter()
            .map(|i| i.field)
            .collect();
        assert_eq!(
            fields,
            [
                "holidays[0].name",
                "extra_days_off[1].date",
                "extra_days_off[1].reason"
            ]
        );
    }

    fn sample() -> Calendar {
        Calendar::parse(
            r#"{"note": "test", "years": {"2026": {
                "holidays": [
                    {"date": "2026-03-21", "name": {"kk": "Наурыз", "ru": "Наурыз", "en": "Nauryz"}},
                    {"date": "2026-03-22", "name": {"kk": "Наурыз", "ru": "Наурыз", "en": "Nauryz"}},
                    {"date": "2026-03-23", "name": {"kk": "Наурыз", "ru": "Наурыз", "en": "Nauryz"}},
                    {"date": "2026-05-27", "name": {"kk": "Құрбан айт", "ru": "Курбан айт", "en": "Kurban ait"}}
                ],
                "extra_days_off": [{"date": "2026-03-24", "reason": "moved from 21 March, a Saturday"},
                                   {"date": "2026-03-25", "reason": "moved from 22 March, a Sunday"}],
                "working_weekend_days": [{"date": "2026-03-28", "reason": "transfer"}],
                "verified": false}}}"#,
        )
        .unwrap()
    }

    #[test]
    fn weekends_holidays_and_transfers() {
        let c = sample();
        assert!(c.is_working_day(d("2026-11-24")), "a Tuesday");
        assert!(!c.is_working_day(d("2026-11-28")), "a Saturday");
        assert!(!c.is_working_day(d("2026-03-23")), "Nauryz on a Monday");
        assert!(!c.is_working_day(d("2026-03-24")), "moved day off");
        assert!(c.is_working_day(d("2026-03-28")), "a working Saturday");
        assert!(!c.is_working_day(d("2026-05-27")), "Kurban ait");
        // A year without data still has its fixed holidays.
        assert!(
            !c.is_working_day(d("2031-12-16")),
            "Independence Day, a Tuesday"
        );
        assert!(c.is_working_day(d("2031-12-17")));
    }

    #[test]
    fn the_day_of_acceptance_is_not_counted() {
        let c = sample();
        // Tuesday 24 Nov 2026, 10:00: five working days later is Tuesday 1 Dec.
        let five = Duration {
            value: 5,
            unit: DurationUnit::WorkingDays,
        };
        assert_eq!(
            c.due_date(local("2026-11-24", 10, 0), five),
            d("2026-12-01")
        );
        // The same day at 18:30 counts from Wednesday: due Wednesday 2 Dec.
        assert_eq!(
            c.due_date(local("2026-11-24", 18, 30), five),
            d("2026-12-02")
        );
        // Friday night and Saturday count from Monday 30 Nov: due Monday 7 Dec.
        assert_eq!(
            c.due_date(local("2026-11-27", 23, 59), five),
            d("2026-12-07")
        );
        assert_eq!(c.due_date(local("2026-11-28", 9, 0), five), d("2026-12-07"));
        // Across Nauryz: from Friday 20 March, one working day is… Thursday 26 March.
        let one = Duration {
            value: 1,
            unit: DurationUnit::WorkingDays,
        };
        assert_eq!(c.due_date(local("2026-03-20", 9, 0), one), d("2026-03-26"));
        let calendar_days = Duration {
            value: 30,
            unit: DurationUnit::CalendarDays,
        };
        assert_eq!(
            c.due_date(local("2026-11-24", 9, 0), calendar_days),
            d("2026-12-24")
        );
        let hours = Duration {
            value: 2,
            unit: DurationUnit::Hours,
        };
        assert_eq!(
            c.due_date(local("2026-11-28", 9, 0), hours),
            d("2026-11-30")
        );
    }

    #[test]
    fn local_time_is_utc_plus_five() {
        // 2026-11-24 19:30 UTC is 00:30 on the 25th in Almaty.
        let utc = (i64::from(d("2026-11-24").days_since_epoch()) * 24 * 60 + 19 * 60 + 30) * 60_000;
        assert_eq!(local_day_and_minute(utc), (d("2026-11-25"), 30));
    }

    #[test]
    fn bad_data_is_refused() {
        let bad = r#"{"note": "", "years": {"2026": {"holidays": [], "extra_days_off": [{"date": "2026-03-28", "reason": "x"}], "verified": false}}}"#;
        assert!(
            Calendar::parse(bad)
                .unwrap_err()
                .contains("already a weekend")
        );
        let other_year = r#"{"note": "", "years": {"2026": {"holidays": [{"date": "2025-01-01", "name": {"kk": "a", "ru": "a", "en": "a"}}], "verified": false}}}"#;
        assert!(
            Calendar::parse(other_year)
                .unwrap_err()
                .contains("another year")
        );
    }

    #[test]
    fn step_deadlines_run_one_after_another() {
        let c = sample();
        let wd = |value| {
            Some(Duration {
                value,
                unit: DurationUnit::WorkingDays,
            })
        };
        // Submitted Friday 13 March 2026 at 17:00 (accepted that day): two working days end
        // Tuesday 17 March; three more would end Friday 20 March, but Nauryz and the moved days
        // off (21-25 March) push the next step across: 1 working day after 20 March is 26 March.
        let due = c.step_due_dates(local("2026-03-13", 17, 0), &[wd(2), wd(3), None, wd(1)]);
        assert_eq!(
            due,
            vec![
                Some(d("2026-03-17")),
                Some(d("2026-03-20")),
                Some(d("2026-03-20")),
                Some(d("2026-03-26"))
            ]
        );
        // A Saturday submission counts from Monday; a step with no duration before any other
        // has no due day of its own; a working Saturday counts.
        let due = c.step_due_dates(local("2026-03-21", 10, 0), &[None, wd(1), wd(2)]);
        assert_eq!(
            due,
            vec![None, Some(d("2026-03-27")), Some(d("2026-03-30"))],
            "28 March is a working Saturday"
        );
    }

    #[test]
    fn the_committed_calendar_loads() {
        let json = include_str!("../../../calendar/kz.json");
        let c = Calendar::parse(json).unwrap();
        for year in 2025..=2027 {
            assert!(c.years.contains(&year), "{year} is in calendar/kz.json");
            assert!(!c.is_working_day(Date::from_ymd(year, 12, 16).unwrap()));
        }
    }
}
