//! The receipt as a PDF: one A4 page in the applicant's language, with a QR code pointing to
//! the public verification page. DejaVu Sans is embedded because it has every Kazakh letter;
//! the bundled files are already cut down to Latin and Cyrillic (assets/fonts), as printpdf
//! subsets fonts only with its heavy layout feature.

use std::sync::OnceLock;

use portal_domain::application::AttachmentView;
use portal_domain::calendar::local_day_and_minute;
use portal_domain::date::Date;
use portal_domain::form::Answers;
use portal_domain::service::DocumentItem;
use portal_i18n::{Lang, Msg, t};
use printpdf::{Color, Mm, Op, PaintMode, ParsedFont, PdfDocument, PdfFontHandle, PdfPage, PdfSaveOptions, Point, Pt, Rect, Rgb, TextItem};

static REGULAR: &[u8] = include_bytes!("../../../../assets/fonts/DejaVuSans.ttf");
static BOLD: &[u8] = include_bytes!("../../../../assets/fonts/DejaVuSans-Bold.ttf");

fn fonts() -> &'static (ParsedFont, ParsedFont) {
    static FONTS: OnceLock<(ParsedFont, ParsedFont)> = OnceLock::new();
    FONTS.get_or_init(|| {
        let parse = |bytes| ParsedFont::from_bytes(bytes, 0, &mut Vec::new()).expect("the bundled DejaVu fonts parse");
        (parse(REGULAR), parse(BOLD))
    })
}

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

/// Lays text out top-down on one page.
struct Page {
    ops: Vec<Op>,
    /// The baseline of the next line, in mm from the bottom.
    y: f32,
    regular: PdfFontHandle,
    bold: PdfFontHandle,
}

const LEFT: f32 = 20.0;
const WIDTH: f32 = 170.0;

impl Page {
    fn text(&mut self, text: &str, size: f32, bold: bool, x: f32, max_width_mm: f32) {
        // DejaVu Sans averages about 0.55 em per character; wrap by that estimate.
        let chars_per_line = ((max_width_mm / (size * 0.3528 * 0.55)) as usize).max(10);
        for line in wrap(text, chars_per_line) {
            self.ops.push(Op::StartTextSection);
            self.ops.push(Op::SetFont { font: if bold { self.bold.clone() } else { self.regular.clone() }, size: Pt(size) });
            self.ops.push(Op::SetTextCursor { pos: Point::new(Mm(x), Mm(self.y)) });
            self.ops.push(Op::ShowText { items: vec![TextItem::Text(line)] });
            self.ops.push(Op::EndTextSection);
            self.y -= size * 0.3528 * 1.35;
        }
    }

    /// A label in grey and its value below it.
    fn field(&mut self, label: &str, value: &str) {
        self.ops.push(Op::SetFillColor { col: Color::Rgb(Rgb::new(0.35, 0.35, 0.35, None)) });
        self.text(label, 9.0, false, LEFT, WIDTH);
        self.ops.push(Op::SetFillColor { col: Color::Rgb(Rgb::new(0.0, 0.0, 0.0, None)) });
        self.text(value, 11.0, false, LEFT, WIDTH);
        self.y -= 2.5;
    }
}

fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines = Vec::new();
    for paragraph in text.split('\n') {
        let mut line = String::new();
        for word in paragraph.split_whitespace() {
            let mut word = word.to_string();
            while word.chars().count() > width {
                let head: String = word.chars().take(width).collect();
                word = word.chars().skip(width).collect();
                if !line.is_empty() {
                    lines.push(std::mem::take(&mut line));
                }
                lines.push(head);
            }
            if !line.is_empty() && line.chars().count() + 1 + word.chars().count() > width {
                lines.push(std::mem::take(&mut line));
            }
            if !line.is_empty() {
                line.push(' ');
            }
            line.push_str(&word);
        }
        lines.push(line);
    }
    lines
}

/// "24.11.2026 14:05" in local time (UTC+5).
pub fn local_date_time(at_millis: i64) -> String {
    let (day, minute) = local_day_and_minute(at_millis);
    format!("{:02}.{:02}.{} {:02}:{:02}", day.day(), day.month(), day.year(), minute / 60, minute % 60)
}

pub fn render(r: &Receipt) -> anyhow::Result<Vec<u8>> {
    let lang = r.lang;
    let (regular, bold) = fonts();
    let mut doc = PdfDocument::new(&format!("{} {}", t(lang, Msg::ReceiptTitle), r.number));
    let mut page = Page {
        ops: Vec::new(),
        y: 277.0,
        regular: PdfFontHandle::External(doc.add_font(regular)),
        bold: PdfFontHandle::External(doc.add_font(bold)),
    };
    page.text(t(lang, Msg::ReceiptPortal), 9.0, false, LEFT, WIDTH);
    page.y -= 2.0;
    page.text(t(lang, Msg::ReceiptTitle), 18.0, true, LEFT, WIDTH);
    page.y -= 3.0;
    page.field(t(lang, Msg::ReceiptNumber), r.number);
    page.field(t(lang, Msg::ReceiptSubmittedAt), &local_date_time(r.submitted_at));
    page.field(t(lang, Msg::ReceiptService), r.service_name);
    page.field(t(lang, Msg::ReceiptApplicant), &format!("{}, {} {}", r.applicant, t(lang, Msg::ReceiptIin), r.applicant_iin));
    if let Some(subject) = subject(r) {
        page.field(t(lang, Msg::ReceiptSubject), &subject);
    }
    page.field(t(lang, Msg::ReceiptProvider), r.organisation);
    let expected = match r.expected_result_date {
        Some(d) => format!("{:02}.{:02}.{}", d.day(), d.month(), d.year()),
        None => t(lang, Msg::ReceiptNoExpectedDate).to_string(),
    };
    page.field(t(lang, Msg::ReceiptExpectedDate), &expected);
    page.field(t(lang, Msg::ReceiptResultPlace), r.result_place);

    let listed: Vec<String> = r
        .attachments
        .iter()
        .map(|a| {
            let slot = document_name(r, &a.slot, lang);
            format!("• {slot}: {} ({} KB, SHA-256 {}…)", a.file_name, a.size.div_ceil(1024), a.sha256.as_deref().unwrap_or("").get(..16).unwrap_or(""))
        })
        .collect();
    let documents = if listed.is_empty() { t(lang, Msg::ReceiptNoDocuments).to_string() } else { listed.join("\n") };
    page.field(t(lang, Msg::ReceiptDocuments), &documents);

    // The QR code and the address it holds, at the bottom.
    let qr = qrcode::QrCode::with_error_correction_level(r.verification_url.as_bytes(), qrcode::EcLevel::M)?;
    let modules = qr.width();
    let size_mm = 35.0_f32;
    let cell = size_mm / modules as f32;
    let (qr_x, qr_y) = (LEFT, 20.0_f32);
    page.ops.push(Op::SetFillColor { col: Color::Rgb(Rgb::new(0.0, 0.0, 0.0, None)) });
    for (i, dark) in qr.to_colors().iter().enumerate() {
        if *dark == qrcode::Color::Dark {
            let (col, row) = ((i % modules) as f32, (i / modules) as f32);
            page.ops.push(Op::DrawRectangle {
                rectangle: Rect {
                    x: Mm(qr_x + col * cell).into(),
                    y: Mm(qr_y + size_mm - (row + 1.0) * cell).into(),
                    width: Mm(cell).into(),
                    height: Mm(cell).into(),
                    mode: Some(PaintMode::Fill),
                    winding_order: None,
                },
            });
        }
    }
    page.y = qr_y + size_mm - 4.0;
    page.text(t(lang, Msg::ReceiptVerify), 9.0, false, qr_x + size_mm + 6.0, WIDTH - size_mm - 6.0);
    page.text(r.verification_url, 9.0, false, qr_x + size_mm + 6.0, WIDTH - size_mm - 6.0);

    let pdf_page = PdfPage::new(Mm(210.0), Mm(297.0), page.ops);
    let mut warnings = Vec::new();
    Ok(doc.with_pages(vec![pdf_page]).save(&PdfSaveOptions::default(), &mut warnings))
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
    let name = ["subject_last_name", "subject_first_name", "subject_middle_name"].map(text).iter().filter(|s| !s.is_empty()).cloned().collect::<Vec<_>>().join(" ");
    let mut out = format!("{name}, {} {iin}", t(r.lang, Msg::ReceiptIin));
    if !text("poa_number").is_empty() {
        out.push_str(&format!("; {} {} / {}", t(r.lang, Msg::FormPoaNumber), text("poa_number"), text("poa_date")));
    }
    Some(out)
}

fn document_name(r: &Receipt, slot: &str, lang: Lang) -> String {
    match slot {
        portal_domain::form::POA_DOCUMENT => t(lang, Msg::FormPoaCopy).to_string(),
        portal_domain::form::OTHER_DOCUMENT => t(lang, Msg::ApplyOtherDocuments).to_string(),
        _ => r.documents.iter().find(|d| d.id == slot).map(|d| d.name.get(lang).to_string()).unwrap_or_else(|| slot.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_fonts_have_every_kazakh_and_russian_letter() {
        let (regular, bold) = fonts();
        let letters = "АӘБВГҒДЕЁЖЗИЙКҚЛМНҢОӨПРСТУҰҮФХҺЦЧШЩЪЫІЬЭЮЯаәбвгғдеёжзийкқлмнңоөпрстуұүфхһцчшщъыіьэюя№«»–—…•";
        for font in [regular, bold] {
            let missing: String = letters.chars().filter(|c| font.lookup_glyph_index(u32::from(*c)).is_none_or(|g| g == 0)).collect();
            assert_eq!(missing, "", "letters without a glyph");
        }
    }

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

    #[test]
    fn long_text_wraps_on_words() {
        assert_eq!(wrap("one two three", 7), vec!["one two", "three"]);
        assert_eq!(wrap("abcdefghij", 4), vec!["abcd", "efgh", "ij"]);
        assert_eq!(wrap("a\nb", 10), vec!["a", "b"]);
    }

    #[test]
    fn times_are_local() {
        // 2026-11-24 09:05 UTC is 14:05 in Almaty.
        let ms = (i64::from("2026-11-24".parse::<Date>().unwrap().days_since_epoch()) * 1440 + 9 * 60 + 5) * 60_000;
        assert_eq!(local_date_time(ms), "24.11.2026 14:05");
    }
}
