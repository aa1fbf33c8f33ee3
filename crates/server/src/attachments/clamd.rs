//! Virus scanning through clamd's `INSTREAM` command, when `PORTAL_CLAMD` names a daemon.

use std::time::Duration;

use futures_util::StreamExt;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

#[derive(Debug, PartialEq, Eq)]
pub enum Verdict {
    Clean,
    /// The signature's name, e.g. `Eicar-Test-Signature`.
    Infected(String),
}

/// Streams the file to clamd and returns its verdict. `address` is `host:port` or a Unix
/// socket path.
pub async fn scan(address: &str, file: crate::blobs::ByteStream) -> anyhow::Result<Verdict> {
    let work = async {
        if address.starts_with('/') {
            #[cfg(unix)]
            {
                let stream = tokio::net::UnixStream::connect(address).await?;
                return instream(stream, file).await;
            }
            #[cfg(not(unix))]
            anyhow::bail!("Unix sockets are not available here");
        }
        let stream = tokio::net::TcpStream::connect(address).await?;
        instream(stream, file).await
    };
    tokio::time::timeout(Duration::from_secs(120), work)
        .await
        .map_err(|_| anyhow::anyhow!("clamd did not answer in time"))?
}

async fn instream<S: AsyncRead + AsyncWrite + Unpin>(
    mut stream: S,
    mut file: crate::blobs::ByteStream,
) -> anyhow::Result<Verdict> {
    stream.write_all(b"zINSTREAM\0").await?;
    while let Some(chunk) = file.next().await {
        // clamd takes chunks of any size up to its stream limit; keep them modest.
        for piece in chunk?.chunks(64 * 1024) {
            stream
                .write_all(&(piece.len() as u32).to_be_bytes())
                .await?;
            stream.write_all(piece).await?;
        }
    }
    stream.write_all(&0u32.to_be_bytes()).await?;
    stream.flush().await?;
    let mut reply = Vec::new();
    stream.read_to_end(&mut reply).await?;
    parse_reply(&String::from_utf8_lossy(&reply))
}

fn parse_reply(reply: &str) -> anyhow::Result<Verdict> {
    let reply = reply.trim_end_matches(['\0', '\n']);
    let result = reply
        .strip_prefix("stream: ")
        .ok_or_else(|| anyhow::anyhow!("unexpected clamd reply `{reply}`"))?;
    if result == "OK" {
        Ok(Verdict::Clean)
    } else if let Some(name) = result.strip_suffix(" FOUND") {
        Ok(Verdict::Infected(name.to_string()))
    } else {
        anyhow::bail!("clamd could not scan: `{result}`")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replies_are_read() {
        assert_eq!(parse_reply("stream: OK\0").unwrap(), Verdict::Clean);
        assert_eq!(
            parse_reply("stream: Eicar-Test-Signature FOUND\0").unwrap(),
            Verdict::Infected("Eicar-Test-Signature".into())
        );
        assert!(parse_reply("INSTREAM size limit exceeded. ERROR\0").is_err());
        assert!(parse_reply("stream: Can't allocate memory ERROR\0").is_err());
    }
}
