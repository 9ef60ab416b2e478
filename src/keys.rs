//! The fingerprint key: where the HMAC key of [`Fingerprinter`] comes from.
//!
//! - In the Lambda (`FINGERPRINT_KEY_SECRET`) and with `--fingerprint-key-secret`: an AWS
//!   Secrets Manager secret (name or ARN), fetched once per cold start with
//!   `GetSecretValue` and kept in memory; never in an environment variable, never logged.
//! - Otherwise, for local replays: a key file of 32 random bytes created with mode 0600 on
//!   first use under the user's config directory
//!   (`$XDG_CONFIG_HOME/logwarden/fingerprint.key`, else `~/.config/logwarden/...`), so
//!   replays on one machine agree with each other.
//!
//! Rotating the key (a new secret value) changes every fingerprint from then on: alerts of a
//! leaked value before and after the rotation no longer share a fingerprint, and suppressions
//! that name a fingerprint must be written again.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use crate::error::AwsErrorKind;
use crate::mask::Fingerprinter;

/// The shortest key accepted, in bytes.
pub const MIN_KEY_BYTES: usize = 16;

/// Why the fingerprint key could not be had.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    /// Secrets Manager failed.
    #[error("fingerprint key secret {secret} {kind}: {cause}")]
    Secret {
        /// The secret's name or ARN.
        secret: String,
        /// Throttled, not found, access denied ...
        kind: AwsErrorKind,
        /// What the service said (never the value).
        cause: String,
    },
    /// The secret or file holds too short a key.
    #[error("fingerprint key from {from} is {len} bytes; at least {MIN_KEY_BYTES} are needed")]
    TooShort {
        /// Where it came from.
        from: String,
        /// Its length.
        len: usize,
    },
    /// The local key file could not be read or created.
    #[error("fingerprint key file {path}: {source}")]
    File {
        /// The file.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
}

/// The key from the secret `secret` when one is named (through the standard AWS config
/// chain), else the local key file.
pub async fn resolve(secret: Option<&str>) -> Result<Fingerprinter, KeyError> {
    match secret {
        Some(id) => {
            let aws = aws_config::load_from_env().await;
            from_secret(&aws_sdk_secretsmanager::Client::new(&aws), id).await
        }
        None => local(),
    }
}

/// Fetches the key from a Secrets Manager secret (its string, else its binary value).
pub async fn from_secret(
    client: &aws_sdk_secretsmanager::Client,
    secret: &str,
) -> Result<Fingerprinter, KeyError> {
    let out = client
        .get_secret_value()
        .secret_id(secret)
        .send()
        .await
        .map_err(|e| {
            let (kind, cause) = crate::error::classify(&e);
            KeyError::Secret {
                secret: secret.to_owned(),
                kind,
                cause,
            }
        })?;
    let key: Vec<u8> = match (out.secret_string(), out.secret_binary()) {
        (Some(s), _) => s.as_bytes().to_vec(),
        (None, Some(b)) => b.as_ref().to_vec(),
        (None, None) => Vec::new(),
    };
    checked(key, secret)
}

fn checked(key: Vec<u8>, from: &str) -> Result<Fingerprinter, KeyError> {
    if key.len() < MIN_KEY_BYTES {
        return Err(KeyError::TooShort {
            from: from.to_owned(),
            len: key.len(),
        });
    }
    Ok(Fingerprinter::new(&key))
}

/// The local key file's path.
pub fn local_key_path() -> PathBuf {
    let base = std::env::var_os("XDG_CONFIG_HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".config")))
        .unwrap_or_else(|| PathBuf::from("."));
    base.join("logwarden").join("fingerprint.key")
}

/// The local key: read from [`local_key_path`], created (0600, 32 random bytes) if absent.
pub fn local() -> Result<Fingerprinter, KeyError> {
    load_or_create(&local_key_path())
}

/// The key in `path`, created (0600, 32 random bytes) if absent.
pub fn load_or_create(path: &Path) -> Result<Fingerprinter, KeyError> {
    let file_err = |source| KeyError::File {
        path: path.to_owned(),
        source,
    };
    match std::fs::read(path) {
        Ok(key) => return checked(key, &path.display().to_string()),
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(file_err(e)),
        Err(_) => {}
    }
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(file_err)?;
    }
    let mut key = [0u8; 32];
    std::fs::File::open("/dev/urandom")
        .and_then(|mut f| std::io::Read::read_exact(&mut f, &mut key))
        .map_err(file_err)?;
    let created = {
        use std::os::unix::fs::OpenOptionsExt;
        std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(path)
    };
    match created {
        Ok(mut f) => {
            f.write_all(&key).map_err(file_err)?;
            Ok(Fingerprinter::new(&key))
        }
        // Another process created it first: use theirs.
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => checked(
            std::fs::read(path).map_err(file_err)?,
            &path.display().to_string(),
        ),
        Err(e) => Err(file_err(e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn the_local_key_is_created_private_and_reused() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("sub/fingerprint.key");
        let a = load_or_create(&path).expect("created");
        let mode = std::fs::metadata(&path)
            .expect("exists")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
        let b = load_or_create(&path).expect("read back");
        assert_eq!(a.fingerprint(b"x"), b.fingerprint(b"x"));
        std::fs::write(&path, b"short").expect("write");
        assert!(matches!(
            load_or_create(&path),
            Err(KeyError::TooShort { len: 5, .. })
        ));
    }
}
