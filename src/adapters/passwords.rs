//! Password hashing with argon2id (the `argon2` crate's defaults: 19 MiB, 2 passes), stored
//! as PHC strings so that the parameters travel with each hash. Hashing takes tens of
//! milliseconds of CPU on purpose, so it runs on the blocking pool, a few at a time: a flood of
//! sign-ins is refused as busy rather than let use all the memory and the pool that image
//! decoding shares.
use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;

/// Hashes computed at once, at most: one per core, at least two.
fn permits() -> &'static tokio::sync::Semaphore {
    static PERMITS: std::sync::OnceLock<tokio::sync::Semaphore> = std::sync::OnceLock::new();
    PERMITS.get_or_init(|| {
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        tokio::sync::Semaphore::new(cores.max(2))
    })
}

/// Runs `work` on the blocking pool once a permit is free, refusing when one does not free
/// up within a second.
async fn limited<T: Send + 'static>(
    work: impl FnOnce() -> T + Send + 'static,
) -> Result<T, PasswordError> {
    let permit = tokio::time::timeout(std::time::Duration::from_secs(1), permits().acquire())
        .await
        .map_err(|_| PasswordError::Busy)?
        .map_err(|_| PasswordError::Busy)?;
    // The permit goes with the work: a request that goes away does not free it while the
    // hashing still runs.
    Ok(tokio::task::spawn_blocking(move || {
        let _permit = permit;
        work()
    })
    .await?)
}

#[derive(Debug, thiserror::Error)]
pub enum PasswordError {
    #[error("too many passwords are being checked at once")]
    Busy,
    #[error("hashing the password: {0}")]
    Hash(String),
    #[error("the hashing task did not finish")]
    Task(#[from] tokio::task::JoinError),
}

pub async fn hash(password: String) -> Result<String, PasswordError> {
    limited(move || {
        let salt = SaltString::generate(&mut OsRng);
        Argon2::default()
            .hash_password(password.as_bytes(), &salt)
            .map(|h| h.to_string())
            .map_err(|e| PasswordError::Hash(e.to_string()))
    })
    .await?
}

/// Whether `password` matches `stored`; a stored value that is not a PHC string matches
/// nothing.
pub async fn verify(password: String, stored: String) -> Result<bool, PasswordError> {
    limited(move || {
        PasswordHash::new(&stored)
            .map(|parsed| {
                Argon2::default()
                    .verify_password(password.as_bytes(), &parsed)
                    .is_ok()
            })
            .unwrap_or(false)
    })
    .await
}

/// A hash of nothing in particular, verified against when an e-mail has no login, so that an
/// unknown e-mail takes as long to refuse as a wrong password.
pub async fn verify_nothing(password: String) -> Result<(), PasswordError> {
    static DECOY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    let decoy = match DECOY.get() {
        Some(d) => d.clone(),
        None => {
            let made = hash("decoy password".into()).await?;
            DECOY.get_or_init(|| made).clone()
        }
    };
    verify(password, decoy).await.map(|_| ())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_hash_verifies_its_password_only() {
        let stored = hash("correct horse battery".into()).await.unwrap();
        assert!(stored.starts_with("$argon2id$"));
        assert!(verify("correct horse battery".into(), stored.clone())
            .await
            .unwrap());
        assert!(!verify("wrong".into(), stored).await.unwrap());
        assert!(!verify("x".into(), "not a phc string".into()).await.unwrap());
    }
}
