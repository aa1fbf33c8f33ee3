//! The receipt as a PDF: one A4 page in the applicant's language, with a QR code pointing to
//! the public verification page.

use portal_domain::application::AttachmentView;
use portal_domain::date::Date;
use portal_domain::form::Answers;
use portal_domain::service::DocumentItem;
use portal_i18n::{Lang, Msg, t};

use crate::pdf::{LEFT, Page, WIDTH, local_date_time};

pub struct Receipt<'a> {
    pub lang: Lang,
    pub number: &'a str,
    pub submitted_at: i64,
    pub service_name: &'a str,
    pub applicant: &'a str,
    pub applicant_iin: &'a str,
    pub answers: &'a Answers,
    pub attachments: &'a [AttachmentView],
    pub documents: &'a [DocumentItem],
    pub organisation: &'a str,
    pub expected_result_date: Option<Date>,
    pub result_place: &'a str,
    pub verification_url: &'a str,
}

pub fn render(r: &Receipt) -> anyhow::Result<Vec<u8>> {
    let lang = r.lang;
    let (doc, mut page) = Page::new(&format!("{} {}", t(lang, Msg::ReceiptTitle), r.number));
    page.text(t(lang, Msg::ReceiptPortal), 9.0, false, LEFT, WIDTH);
    page.y -= 2.0;
    page.text(t(lang, Msg::ReceiptTitle), 18.0, true, LEFT, WIDTH);
    page.y -= 3.0;
    page.field(t(lang, Msg::ReceiptNumber), r.number);
    page.field(
        t(lang, Msg::ReceiptSubmittedAt),
        &local_date_time(r.submitted_at),
    );
    page.field(t(lang, Msg::ReceiptService), r.service_name);
    page.field(
        t(lang, Msg::ReceiptApplicant),
        &format!(
            "{}, {} {}",
            r.applicant,
            t(lang, Msg::ReceiptIin),
            r.applicant_iin
        ),
    );
    if let Some(subject) = subject(r) {
        page.field(t(lang, Msg::ReceiptSubject), &subject);
    }
    page.field(t(lang, Msg::ReceiptProvider), r.organisation);
    let expected = match r.expected_result_date {
        Some(d) => crate::pdf::date(d),
        None => t(lang, Msg::ReceiptNoExpectedDate).to_string(),
    };
    page.field(t(lang, Msg::ReceiptExpectedDate), &expected);
    page.field(t(lang, Msg::ReceiptResultPlace), r.result_place);

    let listed: Vec<String> = r
        .attachments
        .iter()
        .map(|a| {
            let slot = document_name(r, &a.slot, lang);
            format!(
                "• {slot}: {} ({} KB, SHA-256 {}…)",
                a.file_name,
                a.size.div_ceil(1024),
                a.sha256.as_deref().unwrap_or("").get(..16).unwrap_or("")
            )
        })
        .collect();
    let documents = if listed.is_empty() {
        t(lang, Msg::ReceiptNoDocuments).to_string()
    } else {
        listed.join("\n")
    };
    page.field(t(lang, Msg::ReceiptDocuments), &documents);

    page.verification_qr(r.verification_url, t(lang, Msg::ReceiptVerify))?;
    Ok(page.save(doc))
}

/// "For whom", when the applicant applied for someone else.
fn subject(r: &Receipt) -> Option<String> {
    use portal_domain::form::Answer;
    let text = |id: &str| match r.answers.get(id) {
        Some(Answer::Text(s)) => s.trim().to_string(),
        _ => String::new(),
    };
    let iin = text("subject_iin");
    if iin.is_empty() {
        return None;
    }
    let name = [
        "subject_last_name",
        "subject_first_name",
        "subject_middle_name",
    ]
    .map(text)
    .iter()
    .filter(|s| !s.is_empty())
    .cloned()
    .collect::<Vec<_>>()
    .join(" ");
    let mut out = format!("{name}, {} {iin}", t(r.lang, Msg::ReceiptIin));
    if !text("poa_number").is_empty() {
        out.push_str(&format!(
            "; {} {} / {}",
            t(r.lang, Msg::FormPoaNumber),
            text("poa_number"),
            text("poa_date")
        ));
    }
    Some(out)
}

fn document_name(r: &Receipt, slot: &str, lang: Lang) -> String {
    match slot {
        portal_domain::form::POA_DOCUMENT => t(lang, Msg::FormPoaCopy).to_string(),
        portal_domain::form::OTHER_DOCUMENT => t(lang, Msg::ApplyOtherDocuments).to_string(),
        _ => r
            .documents
            .iter()
            .find(|d| d.id == slot)
            .map(|d| d.name.get(lang).to_string())
            .unwrap_or_else(|| slot.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_kazakh_receipt_renders_as_a_pdf() {
        let receipt = Receipt {
            lang: Lang::Kk,
            number: "261124-000042-7",
            submitted_at: 1_795_000_000_000,
            service_name: "Бастауыш, негізгі орта, жалпы орта білім беру ұйымдарына оқуға қабылдау",
            applicant: "Өмірзақова Әйгерім Ұлықпанқызы",
            applicant_iin: "880314412019",
            answers: &Answers::new(),
            attachments: &[],
            documents: &[],
            organisation: "№ 201 мектеп-гимназиясы",
            expected_result_date: "2026-12-01".parse().ok(),
            result_place: "Жеке кабинетте",
            verification_url: "https://portal.example.kz/verify/00112233445566778899aabbccddeeff",
        };
        let pdf = render(&receipt).unwrap();
        assert!(pdf.starts_with(b"%PDF-"));
        // The bundled fonts are cut down: a receipt stays far below the size of the full fonts.
        assert!(pdf.len() < 150_000, "{} bytes", pdf.len());
    }
}
