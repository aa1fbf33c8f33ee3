//! A minimal PDF writer for one thing: pages that are JPEG images, so several phone photos of a
//! document's pages become one PDF in the browser before upload.

/// One page: the JPEG's pixel size and bytes.
pub struct JpegPage<'a> {
    pub width: u32,
    pub height: u32,
    pub jpeg: &'a [u8],
}

/// A PDF with one A4-wide page per image, each image filling its page.
pub fn jpegs_to_pdf(pages: &[JpegPage]) -> Vec<u8> {
    let mut out: Vec<u8> = b"%PDF-1.4\n%\xE2\xE3\xCF\xD3\n".to_vec();
    let mut offsets: Vec<usize> = Vec::new();
    let count = pages.len();
    // Objects: 1 catalog, 2 page tree, then per page: page, contents, image.
    let page_id = |i: usize| 3 + i * 3;
    let mut object = |out: &mut Vec<u8>, body: &[u8]| {
        offsets.push(out.len());
        out.extend_from_slice(format!("{} 0 obj\n", offsets.len()).as_bytes());
        out.extend_from_slice(body);
        out.extend_from_slice(b"\nendobj\n");
    };
    object(&mut out, b"<< /Type /Catalog /Pages 2 0 R >>");
    let kids: Vec<String> = (0..count).map(|i| format!("{} 0 R", page_id(i))).collect();
    object(
        &mut out,
        format!(
            "<< /Type /Pages /Kids [{}] /Count {count} >>",
            kids.join(" ")
        )
        .as_bytes(),
    );
    for (i, page) in pages.iter().enumerate() {
        let width = 595.0_f64;
        let height = (width * f64::from(page.height.max(1)) / f64::from(page.width.max(1))).round();
        let (contents, image) = (page_id(i) + 1, page_id(i) + 2);
        object(
            &mut out,
            format!(
                "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 {width} {height}] /Resources << /XObject << /Im{i} {image} 0 R >> >> /Contents {contents} 0 R >>"
            )
            .as_bytes(),
        );
        let draw = format!("q {width} 0 0 {height} 0 0 cm /Im{i} Do Q");
        object(
            &mut out,
            format!("<< /Length {} >>\nstream\n{draw}\nendstream", draw.len()).as_bytes(),
        );
        let mut body = format!(
            "<< /Type /XObject /Subtype /Image /Width {} /Height {} /ColorSpace /DeviceRGB /BitsPerComponent 8 /Filter /DCTDecode /Length {} >>\nstream\n",
            page.width,
            page.height,
            page.jpeg.len()
        )
        .into_bytes();
        body.extend_from_slice(page.jpeg);
        body.extend_from_slice(b"\nendstream");
        object(&mut out, &body);
    }
    let xref = out.len();
    out.extend_from_slice(
        format!("xref\n0 {}\n0000000000 65535 f \n", offsets.len() + 1).as_bytes(),
    );
    for o in &offsets {
        out.extend_from_slice(format!("{o:010} 00000 n \n").as_bytes());
    }
    out.extend_from_slice(
        format!(
            "trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n",
            offsets.len() + 1
        )
        .as_bytes(),
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_page_and_the_cross_reference_table_are_where_they_say() {
        let jpeg = [0xFF, 0xD8, 0xFF, 0xE0, 1, 2, 3, 0xFF, 0xD9];
        let pdf = jpegs_to_pdf(&[
            JpegPage {
                width: 1000,
                height: 1414,
                jpeg: &jpeg,
            },
            JpegPage {
                width: 800,
                height: 600,
                jpeg: &jpeg,
            },
        ]);
        assert!(pdf.starts_with(b"%PDF-1.4"));
        assert!(pdf.ends_with(b"%%EOF\n"));
        let text = String::from_utf8_lossy(&pdf);
        assert!(text.contains("/Count 2"));
        assert!(
            text.contains("/MediaBox [0 0 595 841]"),
            "A4 proportions kept"
        );
        assert!(text.contains("/MediaBox [0 0 595 446]"));
        // Each xref entry points at "<n> 0 obj".
        let xref_at: usize = text
            .rsplit("startxref\n")
            .next()
            .unwrap()
            .lines()
            .next()
            .unwrap()
            .parse()
            .unwrap();
        let table = String::from_utf8(pdf[xref_at..].to_vec()).unwrap();
        for (n, line) in table.lines().skip(3).take(8).enumerate() {
            let offset: usize = line[..10].parse().unwrap();
            assert!(
                pdf[offset..].starts_with(format!("{} 0 obj", n + 1).as_bytes()),
                "object {}",
                n + 1
            );
        }
        assert_eq!(
            crate::application::FileType::sniff(&pdf),
            Some(crate::application::FileType::Pdf)
        );
    }
}
