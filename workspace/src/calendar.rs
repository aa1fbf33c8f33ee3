//! The working-day calendar, year by year: public holidays, extra days off and working weekend
//! days (the government's transfers). Every deadline of every application counts with it.

use leptos::prelude::*;
use portal_domain::calendar::{CalendarYear, CalendarYearView, DayKind, DayNote, Holiday};
use portal_domain::date::Date;
use portal_domain::first_grade::{WindowEdit, WindowView, parse_local_moment};
use portal_domain::text::Text;
use portal_domain::validation::FieldIssue;
use portal_i18n::{Lang, Msg};
use portal_web::api;
use portal_web::apply::progress::{astana_time, date_text};
use portal_web::components::{Failure, Loading};
use portal_web::forms::{Checkbox, ErrorSummary, FormErrors, SelectField, TextField};
use portal_web::i18n::use_i18n;

#[component]
pub fn CalendarEditor() -> impl IntoView {
    let i18n = use_i18n();
    let this_year = portal_domain::calendar::local_day_and_minute(js_sys::Date::now() as i64)
        .0
        .year();
    let year = RwSignal::new(this_year.to_string());
    let years = Signal::derive(move || {
        (this_year - 1..=this_year + 2)
            .map(|y| (y.to_string(), y.to_string()))
            .collect::<Vec<_>>()
    });
    let loaded = LocalResource::new(move || {
        let y = year.get().parse::<i32>().unwrap_or(this_year);
        async move { api::calendar_year(y).await }
    });
    let errors = FormErrors::new("year-choice");
    view! {
        <h2>{move || i18n.t(Msg::AdminCalendar)}</h2>
        <p>{move || i18n.t(Msg::AdminCalendarIntro)}</p>
        <div class="narrow">
            <SelectField errors=errors field="year" label=Msg::AdminCalendarYear value=year options=years/>
        </div>
        {move || match loaded.get() {
            None => view! { <Loading message=Msg::CommonLoading/> }.into_any(),
            Some(Err(failure)) => view! { <Failure failure=failure retry=move |_| loaded.refetch()/> }.into_any(),
            Some(Ok(view)) => view! {
                <YearEditor view=view.clone()/>
                <FirstGradeWindowEditor year=view.year/>
            }.into_any(),
        }}
    }
}

/// The year's first-grade window, to the minute (Astana time).
#[component]
fn FirstGradeWindowEditor(year: i32) -> impl IntoView {
    let i18n = use_i18n();
    let errors = FormErrors::new("first-grade");
    let current = RwSignal::new(None::<WindowView>);
    let opens = RwSignal::new(String::new());
    let closes = RwSignal::new(String::new());
    let youngest = RwSignal::new(String::new());
    let oldest = RwSignal::new(String::new());
    let saved = RwSignal::new(false);
    let typed = |millis: i64| {
        let (day, minute) = portal_domain::calendar::local_day_and_minute(millis);
        format!("{day}T{:02}:{:02}", minute / 60, minute % 60)
    };
    leptos::task::spawn_local(async move {
        if let Ok(w) = api::first_grade_admin_window(year).await {
            let _ = opens.try_set(typed(w.opens_at));
            let _ = closes.try_set(typed(w.closes_at));
            let _ = youngest.try_set(w.age.youngest.to_string());
            let _ = oldest.try_set(w.age.oldest.to_string());
            let _ = current.try_set(Some(w));
        }
    });
    let save = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        saved.set(false);
        let moment = |field: &'static str, value: RwSignal<String>| {
            parse_local_moment(&value.get_untracked())
                .ok_or_else(|| FieldIssue::new(field, Msg::ErrorFirstGradeMoment))
        };
        let (opens_at, closes_at) = match (moment("opens_at", opens), moment("closes_at", closes)) {
            (Ok(o), Ok(c)) => (o, c),
            (o, c) => {
                errors.show([o.err(), c.err()].into_iter().flatten().collect());
                return;
            }
        };
        // A typed age that is not a number is out of range: the check below names the field.
        let age = |value: RwSignal<String>| {
            value
                .get_untracked()
                .trim()
                .parse::<u32>()
                .unwrap_or(u32::MAX)
        };
        let edit = WindowEdit {
            opens_at,
            closes_at,
            age_youngest: age(youngest),
            age_oldest: age(oldest),
        };
        if let Err(issues) = edit.check(year) {
            errors.show(issues);
            return;
        }
        leptos::task::spawn_local(async move {
            match api::set_first_grade_window(year, &edit).await {
                Ok(w) => {
                    errors.clear();
                    let _ = current.try_set(Some(w));
                    let _ = saved.try_set(true);
                }
                Err(failure) => errors.show_failure(failure, "opens_at"),
            }
        });
    };
    view! {
        <h3>{move || i18n.t(Msg::AdminFirstGradeTitle)}</h3>
        <ErrorSummary errors=errors/>
        {move || current.get().map(|w| {
            let lang = i18n.lang();
            let text = i18n.tf(Msg::AdminFirstGradeCurrent, &[
                ("year", &year.to_string()),
                ("next", &(year + 1).to_string()),
                ("opens", &astana_time(lang, w.opens_at)),
                ("closes", &astana_time(lang, w.closes_at - 60_000)),
            ]);
            let source = i18n.t(if w.edited { Msg::AdminFirstGradeEdited } else { Msg::AdminFirstGradeDefault });
            let age = i18n.tf(Msg::AdminFirstGradeAge, &[
                ("youngest", &w.age.youngest.to_string()),
                ("oldest", &w.age.oldest.to_string()),
                ("year", &year.to_string()),
            ]);
            view! { <p>{text}" "{source}</p><p>{age}</p> }
        })}
        <Show when=move || saved.get()>
            <div class="notice notice--success" role="status"><p>{move || i18n.t(Msg::AdminFirstGradeSaved)}</p></div>
        </Show>
        <form class="narrow" on:submit=save novalidate=true>
            <TextField errors=errors field="opens_at" label=Msg::AdminFirstGradeOpens value=opens input_type="datetime-local" narrow=true/>
            <TextField errors=errors field="closes_at" label=Msg::AdminFirstGradeCloses value=closes input_type="datetime-local" narrow=true/>
            <TextField errors=errors field="age_youngest" label=Msg::AdminFirstGradeAgeYoungest value=youngest inputmode="numeric" narrow=true/>
            <TextField errors=errors field="age_oldest" label=Msg::AdminFirstGradeAgeOldest value=oldest inputmode="numeric" narrow=true/>
            <button class="button" type="submit">{move || i18n.t(Msg::AdminFirstGradeSave)}</button>
        </form>
    }
}

#[component]
fn YearEditor(view: CalendarYearView) -> impl IntoView {
    let i18n = use_i18n();
    let errors = FormErrors::new("calendar");
    let year = view.year;
    let data = RwSignal::new(view.data);
    let working_days = RwSignal::new(view.working_days);
    let edited = RwSignal::new(view.edited);
    let dirty = RwSignal::new(false);
    let saved = RwSignal::new(false);
    let verified = RwSignal::new(data.get_untracked().verified);
    let change = move |f: &dyn Fn(&mut CalendarYear)| {
        data.update(|d| f(d));
        dirty.set(true);
        saved.set(false);
    };
    let save = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let mut year_data = data.get_untracked();
        year_data.verified = verified.get_untracked();
        if let Err(issues) = year_data.check(year) {
            errors.show(issues);
            return;
        }
        leptos::task::spawn_local(async move {
            match api::save_calendar_year(year, &year_data).await {
                Ok(view) => {
                    errors.clear();
                    let _ = data.try_set(view.data);
                    let _ = working_days.try_set(view.working_days);
                    let _ = edited.try_set(view.edited);
                    let _ = dirty.try_set(false);
                    let _ = saved.try_set(true);
                }
                Err(failure) => errors.show_failure(failure, "year"),
            }
        });
    };
    let remove = move |kind: DayKind, date: Date| {
        change(&|d: &mut CalendarYear| match kind {
            DayKind::Holiday => d.holidays.retain(|h| h.date != date),
            DayKind::ExtraDayOff => d.extra_days_off.retain(|n| n.date != date),
            DayKind::WorkingWeekendDay => d.working_weekend_days.retain(|n| n.date != date),
        });
    };
    // Entries of one kind: (date, text in the page's language).
    let rows = move |kind: DayKind| {
        move || {
            let lang = i18n.lang();
            let mut list: Vec<(Date, String)> = data.with(|d| match kind {
                DayKind::Holiday => d
                    .holidays
                    .iter()
                    .map(|h| (h.date, h.name.get(lang).to_string()))
                    .collect(),
                DayKind::ExtraDayOff => d
                    .extra_days_off
                    .iter()
                    .map(|n| (n.date, n.reason.clone()))
                    .collect(),
                DayKind::WorkingWeekendDay => d
                    .working_weekend_days
                    .iter()
                    .map(|n| (n.date, n.reason.clone()))
                    .collect(),
            });
            list.sort_by_key(|(date, _)| *date);
            list
        }
    };
    let table = move |kind: DayKind, caption: Msg, text_header: Msg| {
        let rows = rows(kind);
        view! {
            <h3>{move || i18n.t(caption)}</h3>
            {move || {
                let list = rows();
                if list.is_empty() {
                    return view! { <p>{i18n.t(Msg::AdminCalendarNone)}</p> }.into_any();
                }
                view! {
                    <table class="table">
                        <caption class="visually-hidden">{i18n.t(caption)}</caption>
                        <thead><tr>
                            <th scope="col">{i18n.t(Msg::AdminCalendarDate)}</th>
                            <th scope="col">{i18n.t(text_header)}</th>
                            <td></td>
                        </tr></thead>
                        <tbody>
                            {list.into_iter().map(|(date, text)| {
                                let label = i18n.tf(Msg::AdminCalendarRemove, &[("date", &date_text(date))]);
                                view! {
                                    <tr>
                                        <td>{date_text(date)}" ("{i18n.t(weekday(date))}")"</td>
                                        <td>{text}</td>
                                        <td><button class="button button--secondary" type="button"
                                            on:click=move |_| remove(kind, date)>{label}</button></td>
                                    </tr>
                                }
                            }).collect_view()}
                        </tbody>
                    </table>
                }.into_any()
            }}
        }
    };
    view! {
        <ErrorSummary errors=errors/>
        <Show when=move || saved.get()>
            <div class="notice notice--success" role="status"><p>{move || i18n.tf(Msg::AdminCalendarSaved, &[("year", &year.to_string())])}</p></div>
        </Show>
        <p>
            {move || i18n.tf(Msg::AdminCalendarWorkingDays, &[("count", &working_days.get().to_string())])}" "
            {move || i18n.t(if edited.get() { Msg::AdminCalendarEdited } else { Msg::AdminCalendarShipped })}
        </p>
        {table(DayKind::Holiday, Msg::AdminCalendarHolidays, Msg::AdminName)}
        <AddHoliday year=year data=data errors=errors on_add=move |h: Holiday| change(&|d: &mut CalendarYear| d.holidays.push(h.clone()))/>
        {table(DayKind::ExtraDayOff, Msg::AdminCalendarDaysOff, Msg::AdminCalendarReason)}
        <AddDay year=year kind=DayKind::ExtraDayOff data=data errors=errors on_add=move |n: DayNote| change(&|d: &mut CalendarYear| d.extra_days_off.push(n.clone()))/>
        {table(DayKind::WorkingWeekendDay, Msg::AdminCalendarWorkingWeekends, Msg::AdminCalendarReason)}
        <AddDay year=year kind=DayKind::WorkingWeekendDay data=data errors=errors on_add=move |n: DayNote| change(&|d: &mut CalendarYear| d.working_weekend_days.push(n.clone()))/>
        <form class="narrow" on:submit=save novalidate=true>
            <Checkbox errors=errors field="verified" label=Msg::AdminCalendarVerified value=verified/>
            <Show when=move || dirty.get()>
                <p class="inset-text">{move || i18n.t(Msg::AdminCalendarUnsaved)}</p>
            </Show>
            <button class="button" type="submit">{move || i18n.t(Msg::AdminCalendarSave)}</button>
        </form>
    }
}

fn weekday(date: Date) -> Msg {
    use portal_domain::date::Weekday;
    match date.weekday() {
        Weekday::Monday => Msg::ProgressWeekdayMon,
        Weekday::Tuesday => Msg::ProgressWeekdayTue,
        Weekday::Wednesday => Msg::ProgressWeekdayWed,
        Weekday::Thursday => Msg::ProgressWeekdayThu,
        Weekday::Friday => Msg::ProgressWeekdayFri,
        Weekday::Saturday => Msg::ProgressWeekdaySat,
        Weekday::Sunday => Msg::ProgressWeekdaySun,
    }
}

/// The date typed for a new entry of `kind`, if it can join the year.
fn new_date(
    errors: FormErrors,
    field: &'static str,
    typed: &str,
    year: i32,
    kind: DayKind,
    data: RwSignal<CalendarYear>,
) -> Option<Date> {
    let problem = match typed.trim().parse::<Date>() {
        Err(_) => Some(FieldIssue::new(field, Msg::ErrorCalendarDate)),
        Ok(date) => data
            .with_untracked(|d| d.check_new_day(year, kind, date))
            .err()
            .map(|msg| FieldIssue::new(field, msg).arg("year", year.to_string())),
    };
    match problem {
        Some(issue) => {
            errors.show(vec![issue]);
            None
        }
        None => typed.trim().parse().ok(),
    }
}

#[component]
fn AddHoliday(
    year: i32,
    data: RwSignal<CalendarYear>,
    errors: FormErrors,
    #[prop(into)] on_add: Callback<Holiday>,
) -> impl IntoView {
    let i18n = use_i18n();
    let date = RwSignal::new(String::new());
    let names = [
        RwSignal::new(String::new()),
        RwSignal::new(String::new()),
        RwSignal::new(String::new()),
    ];
    let add = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let Some(day) = new_date(
            errors,
            "holiday.date",
            &date.get_untracked(),
            year,
            DayKind::Holiday,
            data,
        ) else {
            return;
        };
        let fields = ["holiday.name.kk", "holiday.name.ru", "holiday.name.en"];
        let missing: Vec<FieldIssue> = fields
            .iter()
            .zip(names)
            .filter(|(_, v)| v.get_untracked().trim().is_empty())
            .map(|(f, _)| FieldIssue::new(*f, Msg::ErrorCalendarTextRequired))
            .collect();
        if !missing.is_empty() {
            errors.show(missing);
            return;
        }
        errors.clear();
        on_add.run(Holiday {
            date: day,
            name: Text {
                kk: names[0].get_untracked().trim().to_string(),
                ru: names[1].get_untracked().trim().to_string(),
                en: names[2].get_untracked().trim().to_string(),
            },
        });
        date.set(String::new());
        names.iter().for_each(|n| n.set(String::new()));
    };
    view! {
        <form class="narrow" on:submit=add novalidate=true>
            <TextField errors=errors field="holiday.date" label=Msg::AdminCalendarDate value=date input_type="date" narrow=true/>
            {Lang::ALL.into_iter().zip(names).map(|(lang, value)| {
                let field = match lang { Lang::Kk => "holiday.name.kk", Lang::Ru => "holiday.name.ru", Lang::En => "holiday.name.en" };
                view! { <TextField errors=errors field=field label=Msg::AdminName value=value text_lang=lang maxlength=200/> }
            }).collect_view()}
            <button class="button button--secondary" type="submit">{move || i18n.t(Msg::AdminCalendarAddHoliday)}</button>
        </form>
    }
}

#[component]
fn AddDay(
    year: i32,
    kind: DayKind,
    data: RwSignal<CalendarYear>,
    errors: FormErrors,
    #[prop(into)] on_add: Callback<DayNote>,
) -> impl IntoView {
    let i18n = use_i18n();
    let date = RwSignal::new(String::new());
    let reason = RwSignal::new(String::new());
    let (date_field, reason_field) = match kind {
        DayKind::WorkingWeekendDay => ("working_day.date", "working_day.reason"),
        _ => ("day_off.date", "day_off.reason"),
    };
    let add = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let Some(day) = new_date(errors, date_field, &date.get_untracked(), year, kind, data)
        else {
            return;
        };
        if reason.get_untracked().trim().is_empty() {
            errors.show(vec![FieldIssue::new(
                reason_field,
                Msg::ErrorCalendarTextRequired,
            )]);
            return;
        }
        errors.clear();
        on_add.run(DayNote {
            date: day,
            reason: reason.get_untracked().trim().to_string(),
        });
        date.set(String::new());
        reason.set(String::new());
    };
    view! {
        <form class="narrow" on:submit=add novalidate=true>
            <TextField errors=errors field=date_field label=Msg::AdminCalendarDate value=date input_type="date" narrow=true/>
            <TextField errors=errors field=reason_field label=Msg::AdminCalendarReason value=reason maxlength=200/>
            <button class="button button--secondary" type="submit">{move || i18n.t(Msg::AdminCalendarAddDay)}</button>
        </form>
    }
}
