//! Attachment files on disk: `<data dir>/attachments/<attachment id>`, outside any directory
//! the server publishes, named by us. Uploads are appended chunk by chunk as they stream in,
//! so no file is ever held in memory whole.

use std::io::SeekFrom;
use std::path::{Path, PathBuf};

use axum::body::Body;
use http_body_util::BodyExt;
use portal_domain::application::FileType;
use sha2::{Digest, Sha256};
use tokio::io::{AsyncReadExt, AsyncSeekExt, AsyncWriteExt};

pub fn dir(data_dir: &Path) -> PathBuf {
    data_dir.join("attachments")
}

pub fn path(data_dir: &Path, attachment_id: &str) -> PathBuf {
    // The id is ours (32 hex digits); checked anyway so a bug elsewhere cannot reach other files.
    assert!(
        portal_domain::form::is_attachment_id(attachment_id),
        "attachment ids are 32 hex digits"
    );
    dir(data_dir).join(attachment_id)
}

pub enum AppendError {
    /// More bytes than announced.
    Overflow,
    /// The first bytes are not those of an accepted type.
    NotAllowedType,
    /// The connection broke or the disk failed; what arrived before is kept.
    Interrupted(anyhow::Error),
}

/// Appends the request body to the file at `offset` (anything past it, from an earlier broken
/// request, is cut first). Returns how many bytes the file has now, also on failure.
pub async fn append(
    file: &Path,
    offset: u64,
    size: u64,
    body: Body,
) -> (u64, Result<(), AppendError>) {
    let mut written = offset;
    let result = append_inner(file, offset, size, body, &mut written).await;
    (written, result)
}

async fn append_inner(
    file: &Path,
    offset: u64,
    size: u64,
    body: Body,
    written: &mut u64,
) -> Result<(), AppendError> {
    let io = |e: std::io::Error| AppendError::Interrupted(e.into());
    if let Some(parent) = file.parent() {
        tokio::fs::create_dir_all(parent).await.map_err(io)?;
    }
    let mut out = tokio::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .read(true)
        .write(true)
        .open(file)
        .await
        .map_err(io)?;
    out.set_len(offset).await.map_err(io)?;
    let sniff_len = (FileType::SNIFF_BYTES as u64).min(size) as usize;
    let mut head = Vec::with_capacity(FileType::SNIFF_BYTES);
    if offset > 0 && (offset as usize) < sniff_len {
        out.seek(SeekFrom::Start(0)).await.map_err(io)?;
        head.resize(offset as usize, 0);
        out.read_exact(&mut head).await.map_err(io)?;
    }
    let mut checked = offset as usize >= sniff_len;
    out.seek(SeekFrom::Start(offset)).await.map_err(io)?;
    let mut body = body;
    while let Some(frame) = body.frame().await {
        let frame = frame
            .map_err(|e| AppendError::Interrupted(anyhow::anyhow!("reading the upload: {e}")))?;
        let Ok(data) = frame.into_data() else {
            continue;
        };
        if *written + data.len() as u64 > size {
            return Err(AppendError::Overflow);
        }
        if !checked {
            let need = sniff_len - head.len();
            head.extend_from_slice(&data[..need.min(data.len())]);
            if head.len() == sniff_len {
                if FileType::sniff(&head).is_none() {
                    return Err(AppendError::NotAllowedType);
                }
                checked = true;
            }
        }
        out.write_all(&data).await.map_err(io)?;
        *written += data.len() as u64;
    }
    out.flush().await.map_err(io)?;
    out.sync_data().await.map_err(io)?;
    Ok(())
}

/// The type (by content) and the hex SHA-256 of a complete file, read in pieces.
pub async fn inspect(file: &Path) -> anyhow::Result<(Option<FileType>, String)> {
    let file = file.to_path_buf();
    tokio::task::spawn_blocking(move || {
        use std::io::Read;
        let mut f = std::fs::File::open(&file)?;
        let mut hasher = Sha256::new();
        let mut buf = vec![0u8; 256 * 1024];
        let mut head = Vec::new();
        loop {
            let n = f.read(&mut buf)?;
            if n == 0 {
                break;
            }
            if head.len() < FileType::SNIFF_BYTES {
                head.extend_from_slice(&buf[..n.min(FileType::SNIFF_BYTES - head.len())]);
            }
            hasher.update(&buf[..n]);
        }
        let hex: String = hasher
            .finalize()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        Ok((FileType::sniff(&head), hex))
    })
    .await?
}

pub async fn remove(data_dir: &Path, attachment_id: &str) {
    let file = path(data_dir, attachment_id);
    if let Err(e) = tokio::fs::remove_file(&file).await {
        if e.kind() != std::io::ErrorKind::NotFound {
            tracing::warn!(error = %e, file = %file.display(), "cannot remove an attachment's file");
        }
    }
}
