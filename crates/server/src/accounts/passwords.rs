//! Password hashing with Argon2id (OWASP parameters: 19 MiB, 2 passes, 1 lane) and the list of
//! passwords too common to allow.

use std::collections::HashSet;
use std::sync::LazyLock;

use argon2::Argon2;
use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};

static COMMON: LazyLock<HashSet<&'static str>> = LazyLock::new(|| {
    include_str!("common-passwords.txt")
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .collect()
});

/// Verified against when the IIN has no account, so that an unknown IIN takes as long to
/// refuse as a wrong password and the two cannot be told apart.
static DUMMY_HASH: LazyLock<String> =
    LazyLock::new(|| hash_now("no account has this password").expect("hashing works"));

pub fn is_common(password: &str) -> bool {
    COMMON.contains(password.to_lowercase().as_str())
}

fn hash_now(password: &str) -> anyhow::Result<String> {
    Argon2::default()
        .hash_password(password.as_bytes())
        .map(|h| h.to_string())
        .map_err(|e| anyhow::anyhow!("hashing a password: {e}"))
}

/// Hashes on a blocking thread: Argon2 is deliberately slow and must not stall the server.
pub async fn hash(password: String) -> anyhow::Result<String> {
    tokio::task::spawn_blocking(move || hash_now(&password)).await?
}

/// Whether `password` matches `stored`; with `None`, spends the same time and says no.
pub async fn verify(password: String, stored: Option<String>) -> bool {
    tokio::task::spawn_blocking(move || {
        let (phc, exists) = match &stored {
            Some(s) => (s.as_str(), true),
            None => (DUMMY_HASH.as_str(), false),
        };
        let matches = PasswordHash::new(phc).is_ok_and(|parsed| {
            Argon2::default()
                .verify_password(password.as_bytes(), &parsed)
                .is_ok()
        });
        exists && matches
    })
    .await
    .unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn hashes_are_argon2id_with_owasp_parameters_and_verify() {
        let h = hash("Көктем-жаңбыры-7".into()).await.unwrap();
        assert!(h.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{h}");
        assert!(verify("Көктем-жаңбыры-7".into(), Some(h.clone())).await);
        assert!(!verify("көктем-жаңбыры-7".into(), Some(h.clone())).await);
        assert_ne!(h, hash("Көктем-жаңбыры-7".into()).await.unwrap(), "salted");
    }

    #[tokio::test]
    async fn an_unknown_account_never_verifies() {
        assert!(!verify("no account has this password".into(), None).await);
        assert!(!verify("anything".into(), Some("not a hash".into())).await);
    }

    #[test]
    fn common_passwords_are_recognised_in_any_case() {
        assert!(is_common("password1"));
        assert!(is_common("QWERTYUIOP"));
        assert!(is_common("йцукенгш"));
        assert!(!is_common("Көктем-жаңбыры-7"));
        assert!(COMMON.len() > 10_000);
    }
}
