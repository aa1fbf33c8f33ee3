//! Serves the built citizen app from the dist directory.
//!
//! - Hashed assets (Trunk names them `name-<hash>.ext`) never change: cached for a year, immutable.
//! - `index.html` and other unhashed files: `no-cache`, so a deployment is seen at once.
//! - A path without a file extension is a client-side route: it gets `index.html`.
//! - A missing file with an extension is a real 404, never `index.html` with the wrong type.
//! - Brotli and gzip copies are made once, next to the originals, and served when the browser
//!   accepts them; compressing a wasm file at brotli's best level per request would cost seconds.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use tower::ServiceExt;
use tower_http::services::{ServeDir, ServeFile};

#[derive(Clone, Debug)]
pub struct StaticFiles {
    dir: Arc<PathBuf>,
}

impl StaticFiles {
    pub fn new(dir: PathBuf) -> StaticFiles {
        StaticFiles { dir: Arc::new(dir) }
    }
}

pub async fn serve(State(files): State<StaticFiles>, request: Request) -> Response {
    let path = request.uri().path().to_owned();
    let last_segment = path.rsplit('/').next().unwrap_or("");
    let is_file = last_segment.contains('.');
    let result = if is_file {
        ServeDir::new(files.dir.as_path())
            .precompressed_br()
            .precompressed_gzip()
            .append_index_html_on_directories(false)
            .oneshot(request)
            .await
    } else {
        // The provider workspace is a second app, so citizens never download its code.
        let app = if path == "/workspace" || path.starts_with("/workspace/") {
            files.dir.join("workspace")
        } else {
            files.dir.to_path_buf()
        };
        ServeFile::new(app.join("index.html"))
            .precompressed_br()
            .precompressed_gzip()
            .oneshot(request)
            .await
    };
    let mut response = match result {
        Ok(r) => r.into_response(),
        Err(never) => match never {},
    };
    if response.status() == StatusCode::NOT_FOUND && !is_file {
        tracing::warn!(dir = %files.dir.display(), "the citizen app is not built: no index.html");
    }
    let cache = if response.status().is_success() && is_hashed(last_segment) {
        "public, max-age=31536000, immutable"
    } else {
        "no-cache"
    };
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    response
}

/// Whether a file name carries a content hash, as Trunk writes them: `portal-web-1a2b3c4d5e6f7a8b_bg.wasm`.
pub fn is_hashed(file_name: &str) -> bool {
    let stem = file_name.split('.').next().unwrap_or("");
    let stem = stem.strip_suffix("_bg").unwrap_or(stem);
    match stem.rsplit_once('-') {
        Some((name, hash)) => {
            !name.is_empty() && hash.len() >= 8 && hash.bytes().all(|b| b.is_ascii_hexdigit())
        }
        None => false,
    }
}

const COMPRESSIBLE: [&str; 9] = [
    "wasm",
    "js",
    "mjs",
    "css",
    "html",
    "svg",
    "json",
    "txt",
    "webmanifest",
];
const MIN_SIZE: u64 = 1024;

/// Writes `.br` and `.gz` copies of compressible files whose copies are missing or older.
/// Each copy is written under a temporary name and renamed, so a half-written copy is never served.
pub fn precompress(dir: &Path) -> std::io::Result<usize> {
    let mut written = 0;
    let mut stack = vec![dir.to_path_buf()];
    while let Some(current) = stack.pop() {
        for entry in std::fs::read_dir(&current)? {
            let path = entry?.path();
            if path.is_dir() {
                stack.push(path);
                continue;
            }
            let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("");
            if !COMPRESSIBLE.contains(&ext) || std::fs::metadata(&path)?.len() < MIN_SIZE {
                continue;
            }
            let modified = std::fs::metadata(&path)?.modified()?;
            for (suffix, compress) in [
                ("br", brotli_bytes as fn(&[u8]) -> Vec<u8>),
                ("gz", gzip_bytes),
            ] {
                let target = PathBuf::from(format!("{}.{suffix}", path.display()));
                let fresh = std::fs::metadata(&target)
                    .and_then(|m| m.modified())
                    .is_ok_and(|t| t >= modified);
                if fresh {
                    continue;
                }
                let data = std::fs::read(&path)?;
                let tmp = PathBuf::from(format!("{}.{suffix}.tmp", path.display()));
                std::fs::File::create(&tmp)?.write_all(&compress(&data))?;
                std::fs::rename(&tmp, &target)?;
                written += 1;
            }
        }
    }
    Ok(written)
}

fn brotli_bytes(data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    let params = brotli::enc::BrotliEncoderParams {
        quality: 11,
        lgwin: 22,
        ..Default::default()
    };
    brotli::BrotliCompress(&mut &data[..], &mut out, &params)
        .expect("compressing in memory cannot fail");
    out
}

fn gzip_bytes(data: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    encoder
        .write_all(data)
        .expect("writing to memory cannot fail");
    encoder.finish().expect("writing to memory cannot fail")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recognises_trunk_hashed_names() {
        assert!(is_hashed("portal-web-1a2b3c4d5e6f7a8b_bg.wasm"));
        assert!(is_hashed("portal-web-1a2b3c4d5e6f7a8b.js"));
        assert!(is_hashed("main-0123abcd4567ef89.css"));
        assert!(!is_hashed("index.html"));
        assert!(!is_hashed("portal-web.js"));
        assert!(!is_hashed("favicon.svg"));
        assert!(!is_hashed("-1a2b3c4d5e6f7a8b.js"));
        assert!(!is_hashed("site-manifest.webmanifest"));
    }

    #[test]
    fn precompresses_once_and_round_trips() {
        let dir = tempfile::tempdir().unwrap();
        let content = "let x = 1;\n".repeat(500);
        std::fs::write(dir.path().join("app-1a2b3c4d5e6f7a8b.js"), &content).unwrap();
        std::fs::write(dir.path().join("tiny.js"), "1").unwrap();
        std::fs::write(dir.path().join("photo.png"), vec![0u8; 4096]).unwrap();
        assert_eq!(precompress(dir.path()).unwrap(), 2);
        assert_eq!(precompress(dir.path()).unwrap(), 0, "fresh copies are kept");

        let br = std::fs::read(dir.path().join("app-1a2b3c4d5e6f7a8b.js.br")).unwrap();
        let mut decoded = Vec::new();
        brotli::BrotliDecompress(&mut &br[..], &mut decoded).unwrap();
        assert_eq!(decoded, content.as_bytes());
        assert!(br.len() < content.len() / 10);
        assert!(!dir.path().join("tiny.js.br").exists());
        assert!(!dir.path().join("photo.png.br").exists());
    }
}
