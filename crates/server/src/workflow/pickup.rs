//! Collecting the result in person: half-hour slots in the place's opening hours on working
//! days, each with a capacity; the applicant picks one or the officer proposes one, and either
//! can move it. A conditional increment inside the booking's transaction, under a CHECK that
//! the count never exceeds the capacity, means two people can never take the last place.

use portal_domain::calendar::{Calendar, UTC_OFFSET_MINUTES, local_day_and_minute};
use portal_domain::date::Date;
use portal_domain::organisation::{OpeningHours, Organisation};
use portal_domain::workflow::{Action, Actor, PickupView, SlotView};
use portal_i18n::{Lang, Msg};

use super::events::{self, EventDetails, NewEvent};
use crate::app::AppState;
use crate::applications::store::ApplicationRow;
use crate::db::{Db, now_millis};
use crate::error::ApiError;
use crate::on_db;

pub const SLOT_MINUTES: i64 = 30;
/// How many working days ahead slots are offered.
const DAYS_OFFERED: usize = 10;
/// The earliest slot offered starts at least this long from now: time to prepare the result.
const LEAD_MINUTES: i64 = 60;

/// Unix milliseconds of a local (UTC+5) day and minute.
pub fn local_millis(day: Date, minute: i64) -> i64 {
    (i64::from(day.days_since_epoch()) * 24 * 60 + minute - UTC_OFFSET_MINUTES) * 60_000
}

/// The slots (start, end) in the opening hours of the next working days after `now`.
pub fn slots(calendar: &Calendar, hours: &OpeningHours, now: i64) -> Vec<(i64, i64)> {
    let (mut day, _) = local_day_and_minute(now);
    let earliest = now + LEAD_MINUTES * 60_000;
    let mut out = Vec::new();
    let mut days = 0;
    // A year ahead at most, for a place open only on days that never come.
    for _ in 0..366 {
        if days == DAYS_OFFERED {
            break;
        }
        if let (true, Some(h)) = (calendar.is_working_day(day), hours.on(day.weekday())) {
            let mut any = false;
            let (open, close) = (
                i64::from(h.open.minutes_since_midnight()),
                i64::from(h.close.minutes_since_midnight()),
            );
            let mut minute = open;
            while minute + SLOT_MINUTES <= close {
                let in_break = match (h.break_start, h.break_end) {
                    (Some(s), Some(e)) => {
                        minute + SLOT_MINUTES > i64::from(s.minutes_since_midnight())
                            && minute < i64::from(e.minutes_since_midnight())
                    }
                    _ => false,
                };
                let start = local_millis(day, minute);
                if !in_break && start >= earliest {
                    out.push((start, start + SLOT_MINUTES * 60_000));
                    any = true;
                }
                minute += SLOT_MINUTES;
            }
            days += usize::from(any);
        }
        day = day.add_days(1);
    }
    out
}

async fn capacity(db: &Db, organisation_id: &str) -> anyhow::Result<i64> {
    let (capacity,): (i64,) = on_db!(db, |pool| sqlx::query_as(
        "SELECT slot_capacity FROM organisations WHERE id = $1"
    )
    .bind(organisation_id)
    .fetch_one(pool)
    .await)?;
    Ok(capacity)
}

/// The place's slots with their free places.
pub async fn free_slots(state: &AppState, place: &Organisation) -> anyhow::Result<Vec<SlotView>> {
    let all = slots(&state.calendar.get(), &place.hours, now_millis());
    let Some((first, last)) = all.first().zip(all.last()) else {
        return Ok(vec![]);
    };
    let capacity = capacity(&state.db, &place.id).await?;
    let booked: Vec<(i64, i64)> = on_db!(&state.db, |pool| {
        sqlx::query_as("SELECT starts_at, booked FROM pickup_slots WHERE organisation_id = $1 AND starts_at >= $2 AND starts_at <= $3")
            .bind(&place.id)
            .bind(first.0)
            .bind(last.0)
            .fetch_all(pool)
            .await
    })?;
    let booked: std::collections::HashMap<i64, i64> = booked.into_iter().collect();
    Ok(all
        .into_iter()
        .map(|(starts_at, ends_at)| SlotView {
            id: starts_at.to_string(),
            starts_at,
            ends_at,
            free: (capacity - booked.get(&starts_at).copied().unwrap_or(0)).max(0) as u32,
        })
        .collect())
}

/// The place that hands out `row`'s result: its provider.
pub async fn place_of(state: &AppState, row: &ApplicationRow) -> anyhow::Result<Organisation> {
    let id = row
        .organisation_id
        .as_deref()
        .ok_or_else(|| anyhow::anyhow!("a submitted application has a provider"))?;
    crate::organisations::get(state, id)
        .await?
        .ok_or_else(|| anyhow::anyhow!("organisation {id} vanished"))
}

/// The booked pickup of an application, if any.
pub async fn booking(state: &AppState, application_id: &str) -> anyhow::Result<Option<PickupView>> {
    let row: Option<(String, i64)> = on_db!(&state.db, |pool| {
        sqlx::query_as(
            "SELECT organisation_id, starts_at FROM pickup_bookings WHERE application_id = $1",
        )
        .bind(application_id)
        .fetch_optional(pool)
        .await
    })?;
    let Some((organisation_id, starts_at)) = row else {
        return Ok(None);
    };
    let Some(place) = crate::organisations::get(state, &organisation_id).await? else {
        return Ok(None);
    };
    Ok(Some(PickupView {
        slot: starts_at.to_string(),
        starts_at,
        ends_at: starts_at + SLOT_MINUTES * 60_000,
        place: place.name,
        address: place.address,
        phone: place.phone,
        hours: place.hours,
    }))
}

/// Books (or moves) `row`'s pickup to the slot `slot`. Refused when the slot is not one offered
/// now, when it is full, or when the result is no longer waiting.
pub async fn book(
    state: &AppState,
    row: &ApplicationRow,
    slot: &str,
    actor: Actor,
    actor_id: &str,
) -> Result<PickupView, ApiError> {
    if !super::paper_result(state, &row.service_id) {
        return Err(ApiError::Conflict(Msg::ErrorWorkflowNoPickup));
    }
    let place = place_of(state, row).await?;
    let now = now_millis();
    let starts_at: i64 = slot.parse().map_err(|_| {
        ApiError::invalid(crate::error::FieldProblem::new(
            "slot",
            Msg::ErrorWorkflowSlotUnknown,
        ))
    })?;
    if starts_at < now {
        return Err(ApiError::invalid(crate::error::FieldProblem::new(
            "slot",
            Msg::ErrorWorkflowSlotPast,
        )));
    }
    let Some((_, ends_at)) = slots(&state.calendar.get(), &place.hours, now)
        .into_iter()
        .find(|(s, _)| *s == starts_at)
    else {
        return Err(ApiError::invalid(crate::error::FieldProblem::new(
            "slot",
            Msg::ErrorWorkflowSlotUnknown,
        )));
    };
    let capacity = capacity(&state.db, &place.id).await?;
    let details = EventDetails {
        pickup_at: Some(starts_at),
        ..EventDetails::default()
    };
    let outcome = on_db!(&state.db, |pool| {
        async {
        let mut tx = pool.begin().await?;
        // A write first: the transaction holds the database's write lock from here on.
        let waiting = sqlx::query("UPDATE applications SET updated_at = $1 WHERE id = $2 AND status = 'result_ready'")
            .bind(now)
            .bind(&row.id)
            .execute(&mut *tx)
            .await?;
        if waiting.rows_affected() != 1 {
            tx.rollback().await?;
            return Ok::<_, anyhow::Error>(Err(ApiError::Conflict(Msg::ErrorWorkflowNotNow)));
        }
        let previous: Option<(String, i64)> = sqlx::query_as("SELECT organisation_id, starts_at FROM pickup_bookings WHERE application_id = $1")
            .bind(&row.id)
            .fetch_optional(&mut *tx)
            .await?;
        if previous.as_ref().is_some_and(|(o, s)| *o == place.id && *s == starts_at) {
            tx.commit().await?;
            return Ok(Ok(()));
        }
        sqlx::query(
            "INSERT INTO pickup_slots (organisation_id, starts_at, ends_at, capacity, booked) VALUES ($1, $2, $3, $4, 0)
             ON CONFLICT (organisation_id, starts_at) DO NOTHING",
        )
        .bind(&place.id)
        .bind(starts_at)
        .bind(ends_at)
        .bind(capacity)
        .execute(&mut *tx)
        .await?;
        let taken = sqlx::query("UPDATE pickup_slots SET booked = booked + 1 WHERE organisation_id = $1 AND starts_at = $2 AND booked < capacity")
            .bind(&place.id)
            .bind(starts_at)
            .execute(&mut *tx)
            .await?;
        if taken.rows_affected() != 1 {
            tx.rollback().await?;
            return Ok(Err(ApiError::Conflict(Msg::ErrorWorkflowSlotFull)));
        }
        if let Some((organisation_id, old)) = &previous {
            sqlx::query("UPDATE pickup_slots SET booked = booked - 1 WHERE organisation_id = $1 AND starts_at = $2 AND booked > 0")
                .bind(organisation_id)
                .bind(old)
                .execute(&mut *tx)
                .await?;
        }
        sqlx::query(
            "INSERT INTO pickup_bookings (application_id, organisation_id, starts_at, booked_by, booked_at) VALUES ($1, $2, $3, $4, $5)
             ON CONFLICT (application_id) DO UPDATE SET organisation_id = excluded.organisation_id, starts_at = excluded.starts_at,
                    booked_by = excluded.booked_by, booked_at = excluded.booked_at",
        )
        .bind(&row.id)
        .bind(&place.id)
        .bind(starts_at)
        .bind(actor.code())
        .bind(now)
        .execute(&mut *tx)
        .await?;
        let status = portal_domain::application::Status::ResultReady;
        let event = NewEvent {
            application_id: &row.id,
            at: now,
            actor_id: Some(actor_id),
            actor,
            action: Action::SetPickup,
            from: status,
            to: status,
            details: &details,
        };
        events::append(&mut crate::db::Conn::from(&mut *tx), &event).await?;
        tx.commit().await?;
        Ok(Ok(()))
    }
    .await
    })?;
    outcome?;
    booking(state, &row.id)
        .await?
        .ok_or_else(|| ApiError::Internal(anyhow::anyhow!("the booking vanished")))
}

/// Tells the applicant the pickup time (after the officer set or moved it).
pub async fn announce(state: &AppState, row: &ApplicationRow, pickup: &PickupView) {
    let (day, minute) = local_day_and_minute(pickup.starts_at);
    let args = |lang: Lang| {
        vec![
            ("date", crate::pdf::date(day)),
            ("time", format!("{:02}:{:02}", minute / 60, minute % 60)),
            ("place", pickup.place.get(lang).to_string()),
            ("address", pickup.address.get(lang).to_string()),
        ]
    };
    if let Err(e) = crate::applications::notify_with(
        state,
        row,
        None,
        Msg::NotificationsPickupTitle,
        Msg::NotificationsPickupBody,
        &args,
    )
    .await
    {
        tracing::warn!(application = %row.id, error = %e, "cannot notify the pickup time");
    }
}

/// The pickup as an iCalendar (RFC 5545) event, with a reminder an hour before.
pub fn ics(
    uid: &str,
    pickup: &PickupView,
    summary: &str,
    description: &str,
    lang: Lang,
    now: i64,
) -> String {
    let location = format!("{}, {}", pickup.place.get(lang), pickup.address.get(lang));
    let lines = [
        "BEGIN:VCALENDAR".to_string(),
        "VERSION:2.0".to_string(),
        "PRODID:-//Public services portal//Pickup//EN".to_string(),
        "CALSCALE:GREGORIAN".to_string(),
        "METHOD:PUBLISH".to_string(),
        "BEGIN:VEVENT".to_string(),
        format!("UID:{uid}"),
        format!("DTSTAMP:{}", utc_stamp(now)),
        format!("DTSTART:{}", utc_stamp(pickup.starts_at)),
        format!("DTEND:{}", utc_stamp(pickup.ends_at)),
        format!("SUMMARY:{}", escape(summary)),
        format!("LOCATION:{}", escape(&location)),
        format!("DESCRIPTION:{}", escape(description)),
        "BEGIN:VALARM".to_string(),
        "ACTION:DISPLAY".to_string(),
        "TRIGGER:-PT1H".to_string(),
        format!("DESCRIPTION:{}", escape(summary)),
        "END:VALARM".to_string(),
        "END:VEVENT".to_string(),
        "END:VCALENDAR".to_string(),
    ];
    lines.iter().map(|l| fold(l)).collect::<String>()
}

/// `20261201T050000Z`.
fn utc_stamp(at_millis: i64) -> String {
    let seconds = at_millis.div_euclid(1000);
    let day = Date::from_days_since_epoch(seconds.div_euclid(86_400) as i32);
    let s = seconds.rem_euclid(86_400);
    format!(
        "{:04}{:02}{:02}T{:02}{:02}{:02}Z",
        day.year(),
        day.month(),
        day.day(),
        s / 3600,
        s % 3600 / 60,
        s % 60
    )
}

/// RFC 5545 §3.3.11: backslash, semicolon, comma and newline are escaped in TEXT values.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            ';' => out.push_str("\\;"),
            ',' => out.push_str("\\,"),
            '\n' => out.push_str("\\n"),
            '\r' => {}
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}

/// RFC 5545 §3.1: lines longer than 75 octets are folded (CRLF and a space), never inside a
/// UTF-8 character; every line ends with CRLF.
fn fold(line: &str) -> String {
    let mut out = String::new();
    let mut width = 0;
    for c in line.chars() {
        let len = c.len_utf8();
        // The continuation's leading space counts towards its 75 octets.
        if width + len > 75 {
            out.push_str("\r\n ");
            width = 1;
        }
        out.push(c);
        width += len;
    }
    out.push_str("\r\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use portal_domain::organisation::{DayHours, TimeOfDay};

    fn d(s: &str) -> Date {
        s.parse().unwrap()
    }

    fn office() -> OpeningHours {
        let day = Some(DayHours {
            open: TimeOfDay::parse("09:00").unwrap(),
            close: TimeOfDay::parse("18:00").unwrap(),
            break_start: TimeOfDay::parse("13:00"),
            break_end: TimeOfDay::parse("14:00"),
        });
        OpeningHours {
            days: [day, day, day, day, day, None, None],
        }
    }

    #[test]
    fn slots_follow_the_hours_the_break_and_the_calendar() {
        let calendar = Calendar::parse(include_str!("../../../../calendar/kz.json")).unwrap();
        // Friday 11 December 2026, 17:00: the rest of Friday is too soon; the weekend is closed;
        // 16 December (Independence Day, a Wednesday) is a holiday.
        let all = slots(&calendar, &office(), local_millis(d("2026-12-11"), 17 * 60));
        let days: Vec<Date> = all
            .iter()
            .map(|(s, _)| local_day_and_minute(*s).0)
            .collect();
        assert_eq!(days.first(), Some(&d("2026-12-14")), "Monday");
        assert!(!days.contains(&d("2026-12-16")));
        let monday: Vec<u32> = all
            .iter()
            .filter(|(s, _)| local_day_and_minute(*s).0 == d("2026-12-14"))
            .map(|(s, _)| local_day_and_minute(*s).1)
            .collect();
        assert_eq!(monday.len(), 16, "9:00–13:00 and 14:00–18:00 in half hours");
        assert!(
            !monday.contains(&(13 * 60)) && !monday.contains(&(13 * 60 + 30)),
            "the lunch break"
        );
        assert_eq!(monday.first(), Some(&(9 * 60)));
        assert_eq!(monday.last(), Some(&(17 * 60 + 30)));
        let distinct: std::collections::BTreeSet<Date> = days.into_iter().collect();
        assert_eq!(distinct.len(), DAYS_OFFERED);
    }

    #[test]
    fn an_ics_event_is_rfc_5545() {
        let pickup = PickupView {
            slot: "1".into(),
            starts_at: local_millis(d("2026-12-01"), 10 * 60),
            ends_at: local_millis(d("2026-12-01"), 10 * 60 + 30),
            place: portal_domain::text::Text::same("Школа № 201; отдел выдачи"),
            address: portal_domain::text::Text::same("Алматы, ул. Абая, 1"),
            phone: "+77270000000".into(),
            hours: office(),
        };
        let long =
            "Нәтижені алу: Бастауыш, негізгі орта, жалпы орта білім беру ұйымдарына оқуға қабылдау";
        let text = ics(
            "app-1@portal",
            &pickup,
            long,
            "Line one\nline two",
            Lang::Kk,
            0,
        );
        assert!(text.starts_with("BEGIN:VCALENDAR\r\nVERSION:2.0\r\n"));
        assert!(text.ends_with("END:VCALENDAR\r\n"));
        assert!(
            text.contains("DTSTART:20261201T050000Z\r\n"),
            "10:00 in Almaty is 05:00 UTC"
        );
        assert!(text.contains("DTEND:20261201T053000Z\r\n"));
        let unfolded = text.replace("\r\n ", "");
        assert!(
            unfolded
                .contains("LOCATION:Школа № 201\\; отдел выдачи\\, Алматы\\, ул. Абая\\, 1\r\n")
        );
        assert!(text.contains("DESCRIPTION:Line one\\nline two\r\n"));
        for line in text.split("\r\n") {
            assert!(line.len() <= 75, "{} octets: {line}", line.len());
        }
        assert!(
            unfolded.contains(&format!("SUMMARY:{}\r\n", escape(long))),
            "folding loses nothing"
        );
        assert!(
            !text.replace("\r\n", "").contains('\n'),
            "only CRLF line ends"
        );
    }
}
