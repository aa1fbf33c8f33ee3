//! A calendar date without a time zone, with the arithmetic the portal needs (age, weekdays,
//! working-day terms) and no dependency, so it costs the browser bundle almost nothing.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A valid date of the proleptic Gregorian calendar, stored as days since 1970-01-01.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Date {
    days: i32,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Weekday {
    Monday,
    Tuesday,
    Wednesday,
    Thursday,
    Friday,
    Saturday,
    Sunday,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DateError {
    /// Not of the form `YYYY-MM-DD`.
    Format,
    /// Well formed, but no such day (31 April, 29 February of a common year, month 13…).
    NoSuchDay,
}

impl fmt::Display for DateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DateError::Format => f.write_str("expected a date as YYYY-MM-DD"),
            DateError::NoSuchDay => f.write_str("no such day in the calendar"),
        }
    }
}

impl std::error::Error for DateError {}

pub fn is_leap_year(year: i32) -> bool {
    (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
}

pub fn days_in_month(year: i32, month: u32) -> u32 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if is_leap_year(year) => 29,
        2 => 28,
        _ => 0,
    }
}

impl Date {
    pub fn from_ymd(year: i32, month: u32, day: u32) -> Result<Date, DateError> {
        if !(1..=12).contains(&month) || day == 0 || day > days_in_month(year, month) {
            return Err(DateError::NoSuchDay);
        }
        Ok(Date {
            days: days_from_civil(year, month, day),
        })
    }

    pub fn from_days_since_epoch(days: i32) -> Date {
        Date { days }
    }

    pub fn days_since_epoch(self) -> i32 {
        self.days
    }

    pub fn year(self) -> i32 {
        civil_from_days(self.days).0
    }

    pub fn month(self) -> u32 {
        civil_from_days(self.days).1
    }

    pub fn day(self) -> u32 {
        civil_from_days(self.days).2
    }

    pub fn weekday(self) -> Weekday {
        // 1970-01-01 was a Thursday.
        match (self.days.rem_euclid(7) + 3) % 7 {
            0 => Weekday::Monday,
            1 => Weekday::Tuesday,
            2 => Weekday::Wednesday,
            3 => Weekday::Thursday,
            4 => Weekday::Friday,
            5 => Weekday::Saturday,
            _ => Weekday::Sunday,
        }
    }

    pub fn add_days(self, days: i32) -> Date {
        Date {
            days: self.days + days,
        }
    }

    /// Whole years from `self` (a birth date) to `on`: the person's age on that day.
    pub fn years_until(self, on: Date) -> i32 {
        let (y0, m0, d0) = civil_from_days(self.days);
        let (y1, m1, d1) = civil_from_days(on.days);
        let mut years = y1 - y0;
        if (m1, d1) < (m0, d0) {
            years -= 1;
        }
        years
    }
}

impl std::str::FromStr for Date {
    type Err = DateError;

    fn from_str(s: &str) -> Result<Date, DateError> {
        let bytes = s.as_bytes();
        let digits_at = |range: std::ops::Range<usize>| bytes[range].iter().all(u8::is_ascii_digit);
        if bytes.len() != 10
            || bytes[4] != b'-'
            || bytes[7] != b'-'
            || !digits_at(0..4)
            || !digits_at(5..7)
            || !digits_at(8..10)
        {
            return Err(DateError::Format);
        }
        let year = s[0..4].parse().map_err(|_| DateError::Format)?;
        let month = s[5..7].parse().map_err(|_| DateError::Format)?;
        let day = s[8..10].parse().map_err(|_| DateError::Format)?;
        Date::from_ymd(year, month, day)
    }
}

impl fmt::Display for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (y, m, d) = civil_from_days(self.days);
        write!(f, "{y:04}-{m:02}-{d:02}")
    }
}

impl Serialize for Date {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Date {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Date, D::Error> {
        let s = String::deserialize(deserializer)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

// Howard Hinnant's civil-calendar algorithms (http://howardhinnant.github.io/date_algorithms.html).
fn days_from_civil(year: i32, month: u32, day: u32) -> i32 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = month as i32;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + day as i32 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(days: i32) -> (i32, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i32::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(s: &str) -> Date {
        s.parse().unwrap()
    }

    #[test]
    fn the_epoch_is_day_zero_and_a_thursday() {
        assert_eq!(date("1970-01-01").days_since_epoch(), 0);
        assert_eq!(date("1970-01-01").weekday(), Weekday::Thursday);
    }

    #[test]
    fn round_trips_every_day_of_four_centuries() {
        let start = date("1900-01-01").days_since_epoch();
        for days in start..start + 146_097 {
            let d = Date::from_days_since_epoch(days);
            assert_eq!(Date::from_ymd(d.year(), d.month(), d.day()).unwrap(), d);
            assert_eq!(d.to_string().parse::<Date>().unwrap(), d);
        }
    }

    #[test]
    fn knows_weekdays_of_real_dates() {
        assert_eq!(date("2026-11-24").weekday(), Weekday::Tuesday);
        assert_eq!(date("2025-03-21").weekday(), Weekday::Friday);
        assert_eq!(date("2000-02-29").weekday(), Weekday::Tuesday);
    }

    #[test]
    fn leap_years_follow_the_gregorian_rule() {
        assert!(date("2024-02-29").year() == 2024);
        assert_eq!("2023-02-29".parse::<Date>(), Err(DateError::NoSuchDay));
        assert_eq!("1900-02-29".parse::<Date>(), Err(DateError::NoSuchDay));
        assert!("2000-02-29".parse::<Date>().is_ok());
    }

    #[test]
    fn rejects_malformed_and_impossible_dates() {
        for bad in [
            "",
            "2024-1-01",
            "2024/01/01",
            "20240101",
            "2024-01-01T00",
            "abcd-ef-gh",
            "2024-+1-01",
        ] {
            assert_eq!(bad.parse::<Date>(), Err(DateError::Format), "{bad}");
        }
        for impossible in [
            "2024-00-10",
            "2024-13-01",
            "2024-04-31",
            "2024-01-00",
            "2024-01-32",
        ] {
            assert_eq!(
                impossible.parse::<Date>(),
                Err(DateError::NoSuchDay),
                "{impossible}"
            );
        }
    }

    #[test]
    fn age_counts_whole_years_including_leap_day_birthdays() {
        let born = date("2019-09-15");
        assert_eq!(born.years_until(date("2026-09-14")), 6);
        assert_eq!(born.years_until(date("2026-09-15")), 7);
        let leap = date("2020-02-29");
        assert_eq!(leap.years_until(date("2021-02-28")), 0);
        assert_eq!(leap.years_until(date("2021-03-01")), 1);
    }

    #[test]
    fn serialises_as_an_iso_string() {
        let d = date("2026-06-01");
        assert_eq!(serde_json::to_string(&d).unwrap(), "\"2026-06-01\"");
        assert_eq!(serde_json::from_str::<Date>("\"2026-06-01\"").unwrap(), d);
        assert!(serde_json::from_str::<Date>("\"2026-06-31\"").is_err());
    }
}

#[cfg(feature = "openapi")]
impl utoipa::PartialSchema for Date {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::ObjectBuilder::new()
            .schema_type(utoipa::openapi::schema::Type::String)
            .format(Some(utoipa::openapi::SchemaFormat::KnownFormat(
                utoipa::openapi::KnownFormat::Date,
            )))
            .into()
    }
}

#[cfg(feature = "openapi")]
impl utoipa::ToSchema for Date {}
