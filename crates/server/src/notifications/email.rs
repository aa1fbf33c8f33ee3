//! Notification e-mails through an SMTP relay (`PORTAL_SMTP`, e.g. the organisation's mail
//! server or a local Postfix that handles TLS and delivery onwards). The conversation is plain
//! SMTP (RFC 5321): EHLO, MAIL FROM, RCPT TO, DATA, QUIT; the message is UTF-8 text, Base64
//! encoded, with an RFC 2047 subject.

use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use portal_domain::notifications::NotificationView;
use portal_i18n::{Lang, Msg};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

use crate::config::Config;

/// Where to send, and as whom.
#[derive(Clone, Debug)]
pub struct Smtp {
    /// `host:port` of the relay.
    pub relay: String,
    /// The envelope and `From:` address.
    pub from: String,
}

/// A relay that does not answer within this long is given up on.
const TIMEOUT: Duration = Duration::from_secs(30);

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Message {
    pub to: String,
    pub subject: String,
    pub body: String,
}

impl Message {
    /// A notification in the user's language, with a link to it and to the e-mail settings.
    pub fn notification(config: &Config, to: &str, lang: Lang, view: &NotificationView) -> Message {
        let link = view
            .link
            .as_deref()
            .map(|l| format!("\n\n{}{l}", config.public_url))
            .unwrap_or_default();
        let footer = crate::workflow::fill(
            lang,
            Msg::NotificationsEmailFooter,
            &[("url", format!("{}/cabinet/profile", config.public_url))],
        );
        Message {
            to: to.to_string(),
            subject: view.title.get(lang).to_string(),
            body: format!("{}{link}\n\n-- \n{footer}\n", view.body.get(lang)),
        }
    }

    /// The message as sent after DATA: headers, a blank line, the Base64 body, CRLF line ends.
    fn render(&self, from: &str, date: &str, id: &str) -> String {
        let subject = format!("=?UTF-8?B?{}?=", BASE64.encode(self.subject.as_bytes()));
        let body = BASE64.encode(self.body.replace('\n', "\r\n").as_bytes());
        let mut out = format!(
            "From: {from}\r\nTo: {}\r\nSubject: {subject}\r\nDate: {date}\r\nMessage-ID: <{id}@portal>\r\nMIME-Version: 1.0\r\n\
             Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\nAuto-Submitted: auto-generated\r\n\r\n",
            self.to
        );
        for chunk in body.as_bytes().chunks(76) {
            out.push_str(std::str::from_utf8(chunk).expect("Base64 is ASCII"));
            out.push_str("\r\n");
        }
        out
    }
}

/// Whether `address` can go into an SMTP command as is: the profile already checked its shape,
/// this only guards the protocol against line breaks and angle brackets.
fn safe_address(address: &str) -> bool {
    !address.is_empty()
        && address.len() <= 254
        && address
            .chars()
            .all(|c| c.is_ascii_graphic() && c != '<' && c != '>')
}

pub async fn send(smtp: &Smtp, message: &Message) -> anyhow::Result<()> {
    anyhow::ensure!(
        safe_address(&message.to) && safe_address(&smtp.from),
        "an address unfit for SMTP"
    );
    tokio::time::timeout(TIMEOUT, conversation(smtp, message))
        .await
        .map_err(|_| anyhow::anyhow!("the SMTP relay timed out"))?
}

async fn conversation(smtp: &Smtp, message: &Message) -> anyhow::Result<()> {
    let stream = TcpStream::connect(&smtp.relay).await?;
    let (read, mut write) = stream.into_split();
    let mut read = BufReader::new(read);
    expect(&mut read, 220).await?;
    let mut command = async |line: String, code: u16| -> anyhow::Result<()> {
        write.write_all(line.as_bytes()).await?;
        expect(&mut read, code).await
    };
    command("EHLO portal\r\n".into(), 250).await?;
    command(format!("MAIL FROM:<{}>\r\n", smtp.from), 250).await?;
    command(format!("RCPT TO:<{}>\r\n", message.to), 250).await?;
    command("DATA\r\n".into(), 354).await?;
    let now = crate::db::now_millis();
    let rendered = message.render(&smtp.from, &rfc5322_date(now), &crate::db::random_hex(16));
    // Dot-stuffing: a line starting with "." gets another (Base64 never does; headers might).
    let stuffed = rendered
        .split("\r\n")
        .map(|l| {
            if l.starts_with('.') {
                format!(".{l}")
            } else {
                l.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join("\r\n");
    command(format!("{stuffed}.\r\n"), 250).await?;
    command("QUIT\r\n".into(), 221).await?;
    Ok(())
}

/// Reads a (possibly multi-line) reply and checks its code.
async fn expect(
    read: &mut BufReader<tokio::net::tcp::OwnedReadHalf>,
    code: u16,
) -> anyhow::Result<()> {
    loop {
        let mut line = String::new();
        if read.read_line(&mut line).await? == 0 {
            anyhow::bail!("the SMTP relay closed the connection");
        }
        let got: u16 = line
            .get(..3)
            .and_then(|c| c.parse().ok())
            .ok_or_else(|| anyhow::anyhow!("not an SMTP reply: {line:?}"))?;
        if line.as_bytes().get(3) == Some(&b'-') {
            continue;
        }
        anyhow::ensure!(
            got == code,
            "the SMTP relay answered {} (expected {code})",
            line.trim_end()
        );
        return Ok(());
    }
}

/// "Tue, 24 Nov 2026 09:05:00 +0000".
fn rfc5322_date(at_millis: i64) -> String {
    let seconds = at_millis.div_euclid(1000);
    let day = portal_domain::date::Date::from_days_since_epoch(seconds.div_euclid(86_400) as i32);
    let s = seconds.rem_euclid(86_400);
    let weekday = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"][day.weekday() as usize];
    let month = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ][day.month() as usize - 1];
    format!(
        "{weekday}, {:02} {month} {} {:02}:{:02}:{:02} +0000",
        day.day(),
        day.year(),
        s / 3600,
        s % 3600 / 60,
        s % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_message_is_utf8_base64_with_an_encoded_subject() {
        let m = Message {
            to: "a@example.kz".into(),
            subject: "Өтініш № 1".into(),
            body: "Сәлем\nжол".into(),
        };
        let text = m.render("portal@example.kz", "Tue, 24 Nov 2026 09:05:00 +0000", "id");
        assert!(text.contains(&format!(
            "Subject: =?UTF-8?B?{}?=\r\n",
            BASE64.encode("Өтініш № 1")
        )));
        let body = text.split("\r\n\r\n").nth(1).unwrap().replace("\r\n", "");
        assert_eq!(
            String::from_utf8(BASE64.decode(body).unwrap()).unwrap(),
            "Сәлем\r\nжол"
        );
        assert!(text.lines().all(|l| l.len() <= 998), "RFC 5322 line limit");
    }

    #[test]
    fn addresses_cannot_inject_commands() {
        assert!(safe_address("name@example.kz"));
        assert!(!safe_address("a@b.kz>\r\nRCPT TO:<x@y.kz"));
        assert!(!safe_address("a b@c.kz"));
        assert!(!safe_address(""));
    }

    #[test]
    fn dates_are_rfc5322() {
        let ms = (i64::from(
            "2026-11-24"
                .parse::<portal_domain::date::Date>()
                .unwrap()
                .days_since_epoch(),
        ) * 86_400
            + 9 * 3600
            + 5 * 60)
            * 1000;
        assert_eq!(rfc5322_date(ms), "Tue, 24 Nov 2026 09:05:00 +0000");
    }
}
