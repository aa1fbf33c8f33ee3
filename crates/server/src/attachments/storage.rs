//! Stored files (attachments and case files) in the [`Blobs`] store, under our own names: a
//! complete file at `attachments/<id>`. While an upload is in progress each request's part is
//! kept at `uploads/<id>/<offset>`, and the parts are joined once the last byte arrives: a bucket
//! cannot append, and the next part may reach another instance. Nothing is held in memory whole.

use axum::body::Body;
use futures_util::StreamExt;
use http_body_util::BodyExt;
use object_store::path::Path as Key;
use portal_domain::application::FileType;
use sha2::{Digest, Sha256};

use crate::blobs::{Blobs, ByteStream};

/// A complete file.
pub fn key(id: &str) -> Key {
    // The id is ours (32 hex digits); checked anyway so a bug elsewhere cannot reach other files.
    assert!(
        portal_domain::form::is_attachment_id(id),
        "stored file ids are 32 hex digits"
    );
    Key::from(format!("attachments/{id}"))
}

fn parts(id: &str) -> Key {
    assert!(portal_domain::form::is_attachment_id(id));
    Key::from(format!("uploads/{id}"))
}

/// Zero-padded, so the parts list in file order.
fn part(id: &str, offset: u64) -> Key {
    parts(id).child(format!("{offset:020}"))
}

pub enum AppendError {
    /// More bytes than announced.
    Overflow,
    /// The first bytes are not those of an accepted type.
    NotAllowedType,
    /// The connection broke or the store failed; what arrived before is kept.
    Interrupted(anyhow::Error),
}

/// Stores the request body as the part of upload `id` that starts at `offset`, of a file of
/// `size` bytes. Returns how many bytes of the file are stored now, also on failure.
pub async fn append(
    blobs: &Blobs,
    id: &str,
    offset: u64,
    size: u64,
    body: Body,
) -> (u64, Result<(), AppendError>) {
    // Judged once, by the first bytes of the file, whichever requests bring them.
    let sniff_len = match (FileType::SNIFF_BYTES as u64).min(size) {
        judged if offset >= judged => 0,
        n => n as usize,
    };
    let head = if offset > 0 && sniff_len > 0 {
        match joined(blobs, id, offset).await {
            Ok(Some(stream)) => {
                let bytes: Result<Vec<_>, _> =
                    stream.collect::<Vec<_>>().await.into_iter().collect();
                match bytes {
                    Ok(chunks) => chunks.concat(),
                    Err(e) => return (offset, Err(AppendError::Interrupted(e))),
                }
            }
            Ok(None) => {
                let e = anyhow::anyhow!("the stored parts of {id} do not reach {offset}");
                return (offset, Err(AppendError::Interrupted(e)));
            }
            Err(e) => return (offset, Err(AppendError::Interrupted(e))),
        }
    } else {
        Vec::new()
    };
    let (written, result) = write(
        blobs,
        &part(id, offset),
        body,
        size - offset,
        head,
        sniff_len,
    )
    .await;
    (offset + written, result)
}

/// Stores a whole file, as one request's body of at most `max` bytes, at [`key`]`(id)`.
pub async fn store(
    blobs: &Blobs,
    id: &str,
    max: u64,
    body: Body,
) -> (u64, Result<(), AppendError>) {
    let sniff_len = (FileType::SNIFF_BYTES as u64).min(max) as usize;
    write(blobs, &key(id), body, max, Vec::new(), sniff_len).await
}

/// Writes `body` (at most `max` bytes) as `key`. `head` holds the file's bytes before it, so
/// the first `sniff_len` bytes of the file can be judged however the requests cut them.
/// Returns the bytes stored: what arrived before a break is kept, anything refused is not.
async fn write(
    blobs: &Blobs,
    key: &Key,
    mut body: Body,
    max: u64,
    mut head: Vec<u8>,
    sniff_len: usize,
) -> (u64, Result<(), AppendError>) {
    let mut out = blobs.writer(key);
    let mut written = 0u64;
    let mut checked = head.len() >= sniff_len;
    let broke = loop {
        let Some(frame) = body.frame().await else {
            break None;
        };
        let data = match frame {
            Ok(frame) => match frame.into_data() {
                Ok(data) => data,
                Err(_) => continue,
            },
            Err(e) => break Some(anyhow::anyhow!("reading the upload: {e}")),
        };
        if written + data.len() as u64 > max {
            out.abort().await;
            return (0, Err(AppendError::Overflow));
        }
        if !checked {
            let need = sniff_len - head.len();
            head.extend_from_slice(&data[..need.min(data.len())]);
            if head.len() == sniff_len {
                if FileType::sniff(&head).is_none() {
                    out.abort().await;
                    return (0, Err(AppendError::NotAllowedType));
                }
                checked = true;
            }
        }
        if let Err(e) = out.write(&data).await {
            break Some(e);
        }
        written += data.len() as u64;
    };
    if written == 0 && broke.is_some() {
        out.abort().await;
        return (0, Err(AppendError::Interrupted(broke.unwrap())));
    }
    if let Err(e) = out.finish().await {
        return (0, Err(AppendError::Interrupted(e)));
    }
    match broke {
        None => (written, Ok(())),
        Some(e) => (written, Err(AppendError::Interrupted(e))),
    }
}

/// The stored parts of upload `id` joined in order, up to `end`, or `None` when they do not
/// reach it. Parts past a gap (left by a request whose progress was never recorded) are ignored.
async fn joined(blobs: &Blobs, id: &str, end: u64) -> anyhow::Result<Option<ByteStream>> {
    let listed = blobs.list(&parts(id)).await?;
    let mut chain = Vec::new();
    let mut at = 0u64;
    while at < end {
        let wanted = part(id, at);
        let Some((key, size)) = listed.iter().find(|(k, _)| *k == wanted) else {
            return Ok(None);
        };
        if *size == 0 {
            return Ok(None);
        }
        // A part that runs past `end` (sent again after a lost answer) is read only up to it.
        let take = (*size).min(end - at);
        chain.push((key.clone(), take));
        at += take;
    }
    let blobs = blobs.clone();
    let stream = futures_util::stream::iter(chain)
        .then(move |(key, take)| {
            let blobs = blobs.clone();
            async move {
                match blobs.stream(&key, Some(0..take)).await? {
                    Some((_, stream)) => Ok(stream),
                    None => anyhow::bail!("the stored part {key} disappeared"),
                }
            }
        })
        .map(|opened: anyhow::Result<ByteStream>| match opened {
            Ok(stream) => stream,
            Err(e) => futures_util::stream::once(async move { Err(e) }).boxed(),
        })
        .flatten();
    Ok(Some(stream.boxed()))
}

/// Joins the parts of a finished upload into [`key`]`(id)` and judges it. The parts stay until
/// [`forget_parts`], so an answer lost before the database recorded the file can be repeated.
pub async fn join(
    blobs: &Blobs,
    id: &str,
    size: u64,
) -> anyhow::Result<(Option<FileType>, String)> {
    let mut stream = joined(blobs, id, size)
        .await?
        .ok_or_else(|| anyhow::anyhow!("the stored parts of {id} do not make {size} bytes"))?;
    let mut out = blobs.writer(&key(id));
    let mut judge = Judge::default();
    while let Some(chunk) = stream.next().await {
        let chunk = match chunk {
            Ok(chunk) => chunk,
            Err(e) => {
                out.abort().await;
                return Err(e);
            }
        };
        judge.feed(&chunk);
        if let Err(e) = out.write(&chunk).await {
            out.abort().await;
            return Err(e);
        }
    }
    out.finish().await?;
    Ok(judge.verdict())
}

/// Deletes the parts of a finished upload, once the database knows the file is complete.
pub async fn forget_parts(blobs: &Blobs, id: &str) {
    if let Err(e) = blobs.delete_all(&parts(id)).await {
        tracing::warn!(
            error = format!("{e:#}"),
            stored = id,
            "cannot delete an upload's parts"
        );
    }
}

/// Drops the last part (from `offset`) and the joined file: they are sent again.
pub async fn forget_last_part(blobs: &Blobs, id: &str, offset: u64) -> anyhow::Result<()> {
    blobs.delete(&key(id)).await?;
    blobs.delete(&part(id, offset)).await
}

/// The type (by content) and the hex SHA-256 of a complete stored file, read in pieces.
pub async fn inspect(blobs: &Blobs, id: &str) -> anyhow::Result<(Option<FileType>, String)> {
    let (_, mut stream) = blobs
        .stream(&key(id), None)
        .await?
        .ok_or_else(|| anyhow::anyhow!("no stored file {id}"))?;
    let mut judge = Judge::default();
    while let Some(chunk) = stream.next().await {
        judge.feed(&chunk?);
    }
    Ok(judge.verdict())
}

/// A complete stored file's bytes, for the virus scanner.
pub async fn read(blobs: &Blobs, id: &str) -> anyhow::Result<ByteStream> {
    Ok(blobs
        .stream(&key(id), None)
        .await?
        .ok_or_else(|| anyhow::anyhow!("no stored file {id}"))?
        .1)
}

/// Deletes a stored file and any parts of its upload.
pub async fn remove(blobs: &Blobs, id: &str) {
    let gone = async {
        blobs.delete(&key(id)).await?;
        blobs.delete_all(&parts(id)).await
    };
    if let Err(e) = gone.await {
        tracing::warn!(
            error = format!("{e:#}"),
            stored = id,
            "cannot remove a stored file"
        );
    }
}

/// The type by the first bytes and the SHA-256 of everything.
#[derive(Default)]
struct Judge {
    hasher: Sha256,
    head: Vec<u8>,
}

impl Judge {
    fn feed(&mut self, bytes: &[u8]) {
        if self.head.len() < FileType::SNIFF_BYTES {
            let need = FileType::SNIFF_BYTES - self.head.len();
            self.head.extend_from_slice(&bytes[..need.min(bytes.len())]);
        }
        self.hasher.update(bytes);
    }

    fn verdict(self) -> (Option<FileType>, String) {
        let hex = self
            .hasher
            .finalize()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        (FileType::sniff(&self.head), hex)
    }
}
