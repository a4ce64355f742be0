//! Identifiers and secrets. Random parts are base62 from the OS's CSPRNG.
use altframe_domain::{AccountId, BatchId, JobId, KeyId, ReservationId};
use rand::distributions::Alphanumeric;
use rand::rngs::OsRng;
use rand::Rng;
use sha2::{Digest, Sha256};

fn random_base62(n: usize) -> String {
    OsRng
        .sample_iter(&Alphanumeric)
        .take(n)
        .map(char::from)
        .collect()
}

/// Base62 digits in ASCII order, so that fixed-width numbers compare as their text does.
const BASE62: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// Width of the time part of an ordered id: 62^8 milliseconds is about 6,900 years.
const TIME_DIGITS: usize = 8;

/// `prefix`, then the time in milliseconds as base62 digits, then 20 random base62
/// characters (119 bits: ids stay unguessable). Ids made one after another sort one after
/// another, so each lands beside the last in a B-tree index (the event store's key, the jobs
/// table's, the open reservations') instead of on a random page.
/// Why, with measurements: docs/decisions/0005-time-ordered-ids.md.
fn time_ordered(prefix: &str, unix_millis: u64) -> String {
    let mut digits = [b'0'; TIME_DIGITS];
    let mut rest = unix_millis.min(62u64.pow(TIME_DIGITS as u32) - 1);
    for digit in digits.iter_mut().rev() {
        *digit = BASE62[(rest % 62) as usize];
        rest /= 62;
    }
    let time: String = digits.iter().map(|&b| char::from(b)).collect();
    format!("{prefix}{time}{}", random_base62(20))
}

fn now_millis() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

/// `job_` and 28 base62 characters: 8 of its creation time, then 20 random, so that ids sort
/// in the order they were made.
pub fn job_id() -> JobId {
    JobId::new(time_ordered("job_", now_millis()))
}

pub fn account_id() -> AccountId {
    AccountId::new(format!("acct_{}", random_base62(16)))
}

pub fn api_key_id() -> KeyId {
    KeyId::new(format!("key_{}", random_base62(16)))
}

/// A batch id is a UUID v4, as the contract shows.
pub fn batch_id() -> BatchId {
    BatchId::new(uuid::Uuid::new_v4().to_string())
}

/// `res_` and 28 base62 characters, ordered by creation time like a job id.
pub fn reservation_id() -> ReservationId {
    ReservationId::new(time_ordered("res_", now_millis()))
}

pub const API_KEY_PREFIX: &str = "af_live_";

/// A new API key secret: `af_live_` and 40 base62 characters (about 238 bits).
pub fn api_key_secret() -> String {
    format!("{API_KEY_PREFIX}{}", random_base62(40))
}

/// What the store keeps of a key. Keys are long random strings, so a plain SHA-256 is as
/// strong as a slow password hash here, and lets a lookup be one indexed equality.
pub fn hash_api_key(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

/// The part of a key shown in listings, enough for a person to recognise it.
pub fn api_key_display_prefix(secret: &str) -> String {
    secret.chars().take(API_KEY_PREFIX.len() + 4).collect()
}

/// A webhook signing secret in the Standard Webhooks form: `whsec_` and base64 of 32 random
/// bytes.
pub fn webhook_secret() -> String {
    use base64::Engine;
    let mut key = [0u8; 32];
    OsRng.fill(&mut key);
    format!(
        "whsec_{}",
        base64::engine::general_purpose::STANDARD.encode(key)
    )
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// A session's secret, as its cookie carries it: 43 base62 characters (about 256 bits).
pub fn session_secret() -> String {
    random_base62(43)
}

/// A form's anti-forgery token.
pub fn csrf_token() -> String {
    random_base62(32)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_have_the_contract_prefix_and_enough_randomness() {
        let k = api_key_secret();
        assert!(k.starts_with("af_live_"));
        assert!(k.len() >= 8 + 32);
        assert_ne!(k, api_key_secret());
        assert_eq!(hash_api_key(&k).len(), 64);
    }

    #[test]
    fn job_ids_have_the_time_then_twenty_random_base62_characters() {
        let id = job_id().into_string();
        let tail = id.strip_prefix("job_").unwrap();
        assert_eq!(tail.len(), TIME_DIGITS + 20);
        assert!(tail.chars().all(|c| c.is_ascii_alphanumeric()));
        let random = |id: &str| id[id.len() - 20..].to_string();
        assert_ne!(random(&id), random(job_id().as_str()));
    }

    #[test]
    fn ordered_ids_sort_by_their_time_as_text() {
        let times = [
            0,
            1,
            61,
            62,
            3_843,
            3_844,
            1_764_633_600_000,
            1_764_633_600_001,
            62u64.pow(8) - 1,
            u64::MAX,
        ];
        let ids: Vec<String> = times.iter().map(|t| time_ordered("job_", *t)).collect();
        let time = |id: &String| id[4..12].to_string();
        for pair in ids[..9].windows(2) {
            assert!(
                time(&pair[0]) < time(&pair[1]),
                "{} then {}",
                pair[0],
                pair[1]
            );
        }
        assert!(ids.iter().all(|id| id.len() == 4 + TIME_DIGITS + 20));
        assert_eq!(&ids[0][4..12], "00000000");
        assert_eq!(&ids[3][4..12], "00000010");
        assert_eq!(&ids[8][4..12], "zzzzzzzz");
        assert_eq!(&ids[9][4..12], "zzzzzzzz");
    }
}
