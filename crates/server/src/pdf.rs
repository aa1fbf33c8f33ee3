//! One-page A4 documents the portal issues (receipts, results): DejaVu Sans embedded because
//! it has every Kazakh letter (the bundled files are already cut down to Latin and Cyrillic,
//! assets/fonts, as printpdf subsets fonts only with its heavy layout feature), text laid out
//! top-down, and a QR code pointing to the public verification page.

use std::sync::OnceLock;

use portal_domain::calendar::local_day_and_minute;
use printpdf::{
    Color, Mm, Op, PaintMode, ParsedFont, PdfDocument, PdfFontHandle, PdfPage, PdfSaveOptions,
    Point, Pt, Rect, Rgb, TextItem,
};

static REGULAR: &[u8] = include_bytes!("../../../assets/fonts/DejaVuSans.ttf");
static BOLD: &[u8] = include_bytes!("../../../assets/fonts/DejaVuSans-Bold.ttf");

fn fonts() -> &'static (ParsedFont, ParsedFont) {
    static FONTS: OnceLock<(ParsedFont, ParsedFont)> = OnceLock::new();
    FONTS.get_or_init(|| {
        let parse = |bytes| {
            ParsedFont::from_bytes(bytes, 0, &mut Vec::new())
                .expect("the bundled DejaVu fonts parse")
        };
        (parse(REGULAR), parse(BOLD))
    })
}

/// Lays text out top-down on one page.
pub struct Page {
    ops: Vec<Op>,
    /// The baseline of the next line, in mm from the bottom.
    pub y: f32,
    regular: PdfFontHandle,
    bold: PdfFontHandle,
}

pub const LEFT: f32 = 20.0;
pub const WIDTH: f32 = 170.0;

impl Page {
    pub fn text(&mut self, text: &str, size: f32, bold: bool, x: f32, max_width_mm: f32) {
        // DejaVu Sans averages about 0.55 em per character; wrap by that estimate.
        let chars_per_line = ((max_width_mm / (size * 0.3528 * 0.55)) as usize).max(10);
        for line in wrap(text, chars_per_line) {
            self.ops.push(Op::StartTextSection);
            self.ops.push(Op::SetFont {
                font: if bold {
                    self.bold.clone()
                } else {
                    self.regular.clone()
                },
                size: Pt(size),
            });
            self.ops.push(Op::SetTextCursor {
                pos: Point::new(Mm(x), Mm(self.y)),
            });
            self.ops.push(Op::ShowText {
                items: vec![TextItem::Text(line)],
            });
            self.ops.push(Op::EndTextSection);
            self.y -= size * 0.3528 * 1.35;
        }
    }

    /// A label in grey and its value below it.
    pub fn field(&mut self, label: &str, value: &str) {
        self.ops.push(Op::SetFillColor {
            col: Color::Rgb(Rgb::new(0.35, 0.35, 0.35, None)),
        });
        self.text(label, 9.0, false, LEFT, WIDTH);
        self.ops.push(Op::SetFillColor {
            col: Color::Rgb(Rgb::new(0.0, 0.0, 0.0, None)),
        });
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
    format!(
        "{:02}.{:02}.{} {:02}:{:02}",
        day.day(),
        day.month(),
        day.year(),
        minute / 60,
        minute % 60
    )
}

impl Page {
    /// A page of a new document titled `title`, with the fonts added.
    pub fn new(title: &str) -> (PdfDocument, Page) {
        let (regular, bold) = fonts();
        let mut doc = PdfDocument::new(title);
        let page = Page {
            ops: Vec::new(),
            y: 277.0,
            regular: PdfFontHandle::External(doc.add_font(regular)),
            bold: PdfFontHandle::External(doc.add_font(bold)),
        };
        (doc, page)
    }

    /// The QR code of `url` at the bottom left, with `label` and the address beside it.
    pub fn verification_qr(&mut self, url: &str, label: &str) -> anyhow::Result<()> {
        let page = self;
        let qr = qrcode::QrCode::with_error_correction_level(url.as_bytes(), qrcode::EcLevel::M)?;
        let modules = qr.width();
        let size_mm = 35.0_f32;
        let cell = size_mm / modules as f32;
        let (qr_x, qr_y) = (LEFT, 20.0_f32);
        page.ops.push(Op::SetFillColor {
            col: Color::Rgb(Rgb::new(0.0, 0.0, 0.0, None)),
        });
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
        page.text(
            label,
            9.0,
            false,
            qr_x + size_mm + 6.0,
            WIDTH - size_mm - 6.0,
        );
        page.text(url, 9.0, false, qr_x + size_mm + 6.0, WIDTH - size_mm - 6.0);
        Ok(())
    }

    pub fn save(self, mut doc: PdfDocument) -> Vec<u8> {
        let pdf_page = PdfPage::new(Mm(210.0), Mm(297.0), self.ops);
        let mut warnings = Vec::new();
        doc.with_pages(vec![pdf_page])
            .save(&PdfSaveOptions::default(), &mut warnings)
    }
}

/// "24.11.2026" of a date.
pub fn date(d: portal_domain::date::Date) -> String {
    format!("{:02}.{:02}.{}", d.day(), d.month(), d.year())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_fonts_have_every_kazakh_and_russian_letter() {
        let (regular, bold) = fonts();
        let letters = "АӘБВГҒДЕЁЖЗИЙКҚЛМНҢОӨПРСТУҰҮФХҺЦЧШЩЪЫІЬЭЮЯаәбвгғдеёжзийкқлмнңоөпрстуұүфхһцчшщъыіьэюя№«»–—…•";
        for font in [regular, bold] {
            let missing: String = letters
                .chars()
                .filter(|c| {
                    font.lookup_glyph_index(u32::from(*c))
                        .is_none_or(|g| g == 0)
                })
                .collect();
            assert_eq!(missing, "", "letters without a glyph");
        }
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
        let ms = (i64::from(
            "2026-11-24"
                .parse::<portal_domain::date::Date>()
                .unwrap()
                .days_since_epoch(),
        ) * 1440
            + 9 * 60
            + 5)
            * 60_000;
        assert_eq!(local_date_time(ms), "24.11.2026 14:05");
    }
}
