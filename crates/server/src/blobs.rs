//! Where stored files live: a local directory (the default, `<data dir>/…`) or an S3-compatible
//! bucket (`PORTAL_S3_BUCKET`). Both go through `object_store`, so one code path, and one test
//! suite, serves both; instances on several hosts share files only through a bucket.
//!
//! Keys are ours (`attachments/<32 hex digits>`, …), never a user's file name.

use std::ops::Range;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context;
use bytes::Bytes;
use futures_util::StreamExt;
use futures_util::stream::BoxStream;
use object_store::aws::AmazonS3Builder;
use object_store::buffered::BufWriter;
use object_store::local::LocalFileSystem;
use object_store::path::Path as Key;
use object_store::{GetOptions, GetRange, ObjectStore, PutPayload};
use tokio::io::AsyncWriteExt;

/// An S3-compatible bucket. Settings left unset come from the standard `AWS_*` variables.
#[derive(Clone)]
pub struct S3 {
    /// `PORTAL_S3_BUCKET`
    pub bucket: String,
    /// `PORTAL_S3_ENDPOINT`, e.g. `http://127.0.0.1:9000` for a server of one's own.
    pub endpoint: Option<String>,
    /// `PORTAL_S3_REGION`
    pub region: Option<String>,
    /// `PORTAL_S3_ACCESS_KEY_ID`
    pub access_key_id: Option<String>,
    /// `PORTAL_S3_SECRET_ACCESS_KEY`
    pub secret_access_key: Option<String>,
}

/// Never prints the secret.
impl std::fmt::Debug for S3 {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("S3")
            .field("bucket", &self.bucket)
            .field("endpoint", &self.endpoint)
            .field("region", &self.region)
            .field("access_key_id", &self.access_key_id)
            .field(
                "secret_access_key",
                &self.secret_access_key.as_ref().map(|_| "…"),
            )
            .finish()
    }
}

/// A stream of an object's bytes.
pub type ByteStream = BoxStream<'static, anyhow::Result<Bytes>>;

/// Files are written in pieces of this size; S3 wants at least 5 MiB per part of a multipart
/// upload, and it bounds the memory one upload holds.
const PART_BYTES: usize = 5 << 20;

#[derive(Clone)]
pub struct Blobs {
    store: Arc<dyn ObjectStore>,
    /// The directory of a local store, whose files are flushed to disk before a write counts.
    local: Option<PathBuf>,
}

impl Blobs {
    /// The bucket when one is configured, else `<data dir>`.
    pub fn open(data_dir: &std::path::Path, s3: Option<&S3>) -> anyhow::Result<Blobs> {
        match s3 {
            Some(s3) => {
                let mut builder = AmazonS3Builder::from_env().with_bucket_name(&s3.bucket);
                if let Some(endpoint) = &s3.endpoint {
                    builder = builder
                        .with_endpoint(endpoint)
                        .with_allow_http(endpoint.starts_with("http://"));
                }
                if let Some(region) = &s3.region {
                    builder = builder.with_region(region);
                }
                if let Some(id) = &s3.access_key_id {
                    builder = builder.with_access_key_id(id);
                }
                if let Some(secret) = &s3.secret_access_key {
                    builder = builder.with_secret_access_key(secret);
                }
                let store = builder
                    .build()
                    .with_context(|| format!("the S3 bucket {} (PORTAL_S3_*)", s3.bucket))?;
                Ok(Blobs {
                    store: Arc::new(store),
                    local: None,
                })
            }
            None => {
                std::fs::create_dir_all(data_dir)
                    .with_context(|| format!("cannot create {}", data_dir.display()))?;
                let root = data_dir
                    .canonicalize()
                    .with_context(|| format!("cannot resolve {}", data_dir.display()))?;
                Ok(Blobs {
                    store: Arc::new(
                        LocalFileSystem::new_with_prefix(&root)?.with_automatic_cleanup(true),
                    ),
                    local: Some(root),
                })
            }
        }
    }

    /// `local` or `s3`, for logs.
    pub fn kind(&self) -> &'static str {
        if self.local.is_some() { "local" } else { "s3" }
    }

    /// Writes `bytes` as the whole of `key`, durably.
    pub async fn put(&self, key: &Key, bytes: Bytes) -> anyhow::Result<()> {
        self.store.put(key, PutPayload::from(bytes)).await?;
        self.flush_local(key).await
    }

    /// Starts writing `key` piece by piece; nothing is visible until [`Writer::finish`].
    pub fn writer(&self, key: &Key) -> Writer {
        Writer {
            inner: BufWriter::with_capacity(self.store.clone(), key.clone(), PART_BYTES),
            key: key.clone(),
            blobs: self.clone(),
        }
    }

    /// The whole object, or `None` when there is none.
    pub async fn read(&self, key: &Key) -> anyhow::Result<Option<Bytes>> {
        match self.store.get(key).await {
            Ok(got) => Ok(Some(got.bytes().await?)),
            Err(object_store::Error::NotFound { .. }) => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    /// The object's bytes, or the `range` of them, as a stream, with the object's whole size.
    /// `None` when there is no such object.
    pub async fn stream(
        &self,
        key: &Key,
        range: Option<Range<u64>>,
    ) -> anyhow::Result<Option<(u64, ByteStream)>> {
        let options = GetOptions {
            range: range.map(GetRange::Bounded),
            ..GetOptions::default()
        };
        match self.store.get_opts(key, options).await {
            Ok(got) => {
                let size = got.meta.size;
                let stream = got.into_stream().map(|r| r.map_err(anyhow::Error::from));
                Ok(Some((size, stream.boxed())))
            }
            Err(object_store::Error::NotFound { .. }) => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    /// The size of `key`, or `None` when there is none.
    pub async fn size(&self, key: &Key) -> anyhow::Result<Option<u64>> {
        match self.store.head(key).await {
            Ok(meta) => Ok(Some(meta.size)),
            Err(object_store::Error::NotFound { .. }) => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    /// The objects under `prefix` and their sizes, by key.
    pub async fn list(&self, prefix: &Key) -> anyhow::Result<Vec<(Key, u64)>> {
        let mut found = Vec::new();
        let mut listing = self.store.list(Some(prefix));
        while let Some(meta) = listing.next().await {
            let meta = meta?;
            found.push((meta.location, meta.size));
        }
        found.sort();
        Ok(found)
    }

    /// Deletes `key`; a missing object is not an error.
    pub async fn delete(&self, key: &Key) -> anyhow::Result<()> {
        match self.store.delete(key).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(e.into()),
        }
    }

    /// Deletes everything under `prefix/`.
    pub async fn delete_all(&self, prefix: &Key) -> anyhow::Result<()> {
        for (part, _) in self.list(prefix).await? {
            self.delete(&part).await?;
        }
        Ok(())
    }

    /// A local store's file and its directory reach the disk (the store itself does not sync);
    /// a bucket has answered only once the object is stored.
    async fn flush_local(&self, key: &Key) -> anyhow::Result<()> {
        let Some(root) = &self.local else {
            return Ok(());
        };
        let file = root.join(key.as_ref());
        tokio::task::spawn_blocking(move || -> std::io::Result<()> {
            std::fs::File::open(&file)?.sync_all()?;
            if let Some(dir) = file.parent() {
                std::fs::File::open(dir)?.sync_all()?;
            }
            Ok(())
        })
        .await??;
        Ok(())
    }
}

/// An object being written.
pub struct Writer {
    inner: BufWriter,
    key: Key,
    blobs: Blobs,
}

impl Writer {
    pub async fn write(&mut self, bytes: &[u8]) -> anyhow::Result<()> {
        self.inner.write_all(bytes).await?;
        Ok(())
    }

    /// Stores what was written, durably.
    pub async fn finish(mut self) -> anyhow::Result<()> {
        if let Err(e) = self.inner.shutdown().await {
            let _ = self.inner.abort().await;
            return Err(e.into());
        }
        self.blobs.flush_local(&self.key).await
    }

    /// Forgets what was written.
    pub async fn abort(mut self) {
        if let Err(e) = self.inner.abort().await {
            tracing::warn!(error = %e, key = %self.key, "cannot abort a stored file's upload");
        }
    }
}

/// `Range: bytes=…` for an object of `size` bytes: `Ok(None)` serves all of it (no header, or
/// several ranges, which need not be honoured); `Err(())` cannot be satisfied (416).
pub fn parse_range(header: Option<&str>, size: u64) -> Result<Option<Range<u64>>, ()> {
    let Some(spec) = header.and_then(|h| h.trim().strip_prefix("bytes=")) else {
        return Ok(None);
    };
    if spec.contains(',') {
        return Ok(None);
    }
    let (first, last) = spec.split_once('-').ok_or(())?;
    let (first, last) = (first.trim(), last.trim());
    let range = if first.is_empty() {
        let suffix: u64 = last.parse().map_err(|_| ())?;
        if suffix == 0 {
            return Err(());
        }
        size.saturating_sub(suffix)..size
    } else {
        let start: u64 = first.parse().map_err(|_| ())?;
        let end = if last.is_empty() {
            size
        } else {
            let last: u64 = last.parse().map_err(|_| ())?;
            if last < start {
                return Err(());
            }
            last.saturating_add(1).min(size)
        };
        start..end
    };
    if range.start >= size {
        return Err(());
    }
    Ok(Some(range))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_follow_rfc_9110() {
        assert_eq!(parse_range(None, 100), Ok(None));
        assert_eq!(parse_range(Some("bytes=0-9"), 100), Ok(Some(0..10)));
        assert_eq!(parse_range(Some("bytes=90-"), 100), Ok(Some(90..100)));
        assert_eq!(parse_range(Some("bytes=-10"), 100), Ok(Some(90..100)));
        assert_eq!(parse_range(Some("bytes=-500"), 100), Ok(Some(0..100)));
        assert_eq!(parse_range(Some("bytes=95-500"), 100), Ok(Some(95..100)));
        // Several ranges need not be honoured: the whole file is a valid answer.
        assert_eq!(parse_range(Some("bytes=0-1,5-6"), 100), Ok(None));
        assert_eq!(parse_range(Some("items=0-1"), 100), Ok(None));
        assert_eq!(parse_range(Some("bytes=100-"), 100), Err(()));
        assert_eq!(parse_range(Some("bytes=9-3"), 100), Err(()));
        assert_eq!(parse_range(Some("bytes=-0"), 100), Err(()));
        assert_eq!(parse_range(Some("bytes=x-1"), 100), Err(()));
        assert_eq!(parse_range(Some("bytes=0-0"), 0), Err(()));
    }

    #[tokio::test]
    async fn a_local_store_writes_lists_reads_ranges_and_deletes() {
        let dir = tempfile::tempdir().unwrap();
        let blobs = Blobs::open(dir.path(), None).unwrap();
        let key = Key::from("attachments/0123456789abcdef0123456789abcdef");
        let mut writer = blobs.writer(&key);
        writer.write(b"%PDF-1.4 ").await.unwrap();
        writer.write(b"hello").await.unwrap();
        writer.finish().await.unwrap();
        assert_eq!(
            std::fs::read(dir.path().join(key.as_ref())).unwrap(),
            b"%PDF-1.4 hello"
        );
        assert_eq!(blobs.size(&key).await.unwrap(), Some(14));
        let (size, stream) = blobs.stream(&key, Some(9..14)).await.unwrap().unwrap();
        assert_eq!(size, 14);
        let part: Vec<Bytes> = stream.map(|b| b.unwrap()).collect().await;
        assert_eq!(part.concat(), b"hello");

        blobs
            .put(&Key::from("uploads/x/1"), Bytes::from_static(b"a"))
            .await
            .unwrap();
        blobs
            .put(&Key::from("uploads/x/0"), Bytes::from_static(b"bc"))
            .await
            .unwrap();
        let listed = blobs.list(&Key::from("uploads/x")).await.unwrap();
        assert_eq!(
            listed,
            vec![(Key::from("uploads/x/0"), 2), (Key::from("uploads/x/1"), 1)]
        );
        blobs.delete_all(&Key::from("uploads/x")).await.unwrap();
        assert!(blobs.list(&Key::from("uploads")).await.unwrap().is_empty());
        blobs.delete(&key).await.unwrap();
        blobs.delete(&key).await.unwrap();
        assert_eq!(blobs.read(&key).await.unwrap(), None);

        // An aborted write leaves nothing behind.
        let mut writer = blobs.writer(&key);
        writer.write(b"half").await.unwrap();
        writer.abort().await;
        assert_eq!(blobs.size(&key).await.unwrap(), None);
    }
}
