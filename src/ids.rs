//! Identifiers and secrets. Random parts are base62 from the OS's CSPRNG.
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

pub fn job_id() -> String {
    format!("job_{}", random_base62(24))
}

pub fn account_id() -> String {
    format!("acct_{}", random_base62(16))
}

pub fn api_key_id() -> String {
    format!("key_{}", random_base62(16))
}

pub fn reservation_id() -> String {
    format!("res_{}", random_base62(24))
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
    fn job_ids_have_twenty_or_more_base62_characters() {
        let id = job_id();
        let tail = id.strip_prefix("job_").unwrap();
        assert!(tail.len() >= 20 && tail.chars().all(|c| c.is_ascii_alphanumeric()));
    }
}
