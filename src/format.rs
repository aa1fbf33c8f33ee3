//! Durations, days of the year and other values as a person reads them, in each language.

use portal_domain::service::{Category, Channel, Duration, DurationUnit, MonthDay, Window};
use portal_i18n::{Lang, Msg, Plural, t, tf, tp};

pub fn duration(lang: Lang, d: Duration) -> String {
    let unit = match d.unit {
        DurationUnit::Minutes => Plural::UnitMinutes,
        DurationUnit::Hours => Plural::UnitHours,
        DurationUnit::WorkingDays => Plural::UnitWorkingDays,
        DurationUnit::CalendarDays => Plural::UnitCalendarDays,
    };
    tp(lang, unit, u64::from(d.value), &[])
}

pub fn month_day(lang: Lang, md: MonthDay) -> String {
    const MONTHS: [Msg; 12] = [
        Msg::MonthM01,
        Msg::MonthM02,
        Msg::MonthM03,
        Msg::MonthM04,
        Msg::MonthM05,
        Msg::MonthM06,
        Msg::MonthM07,
        Msg::MonthM08,
        Msg::MonthM09,
        Msg::MonthM10,
        Msg::MonthM11,
        Msg::MonthM12,
    ];
    let month = t(lang, MONTHS[(md.month as usize).clamp(1, 12) - 1]);
    tf(
        lang,
        Msg::DateDayMonth,
        &[("day", &md.day.to_string()), ("month", month)],
    )
}

pub fn window(lang: Lang, w: &Window) -> String {
    let what = w.what.get(lang);
    let until = month_day(lang, w.until);
    match w.from {
        Some(from) => tf(
            lang,
            Msg::ServiceWindowRange,
            &[
                ("what", what),
                ("from", &month_day(lang, from)),
                ("until", &until),
            ],
        ),
        None => tf(
            lang,
            Msg::ServiceWindowUntil,
            &[("what", what), ("until", &until)],
        ),
    }
}

pub fn category(cat: Category) -> Msg {
    match cat {
        Category::Schools => Msg::CategorySchools,
        Category::FamilyAndChildren => Msg::CategoryFamilyAndChildren,
        Category::VocationalEducation => Msg::CategoryVocationalEducation,
        Category::Teachers => Msg::CategoryTeachers,
    }
}

pub fn channel(ch: Channel) -> Msg {
    match ch {
        Channel::ProviderOffice => Msg::ChannelProviderOffice,
        Channel::StateCorporation => Msg::ChannelStateCorporation,
        Channel::Portal => Msg::ChannelPortal,
    }
}

/// The term as a short phrase for a list: the stated term, else the estimate, else the windows.
pub fn term_short(
    lang: Lang,
    stated: Option<Duration>,
    derived: Option<Duration>,
    windows: &[Window],
) -> String {
    match (stated, derived) {
        (Some(d), _) => duration(lang, d),
        (None, Some(d)) => format!("≈ {}", duration(lang, d)),
        (None, None) => match windows.first() {
            Some(w) => window(lang, w),
            None => t(lang, Msg::ServiceNotInSeed).to_string(),
        },
    }
}
