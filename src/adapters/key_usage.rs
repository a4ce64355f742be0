//! When each API key was last used. Kept apart from the key's events (using a key is not a
//! change to it) and written at most once a minute per key: this process remembers when it
//! last wrote each key, and the write itself only moves a time older than a minute, so several
//! processes together still change a row at most once a minute.
use std::collections::HashMap;
use std::sync::Mutex;

use altframe_projections::{on_db, timestamp, Db};
use chrono::{DateTime, Duration, Utc};

/// How stale a last-used time may be.
pub const RESOLUTION: Duration = Duration::minutes(1);

pub struct KeyUsage {
    db: Db,
    written: Mutex<HashMap<String, DateTime<Utc>>>,
}

const RECORD: &str = "INSERT INTO api_key_last_used (key_id, last_used_at) VALUES ($1, $2)
     ON CONFLICT (key_id) DO UPDATE SET last_used_at = excluded.last_used_at
     WHERE api_key_last_used.last_used_at <= $3";

impl KeyUsage {
    pub fn new(db: Db) -> KeyUsage {
        KeyUsage {
            db,
            written: Mutex::default(),
        }
    }

    /// Notes that `key_id` was used at `now`; a no-op when this process wrote it less than a
    /// minute ago.
    pub async fn used(&self, key_id: &str, now: DateTime<Utc>) -> Result<(), sqlx::Error> {
        {
            let mut written = self
                .written
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            match written.get(key_id) {
                Some(last) if now - *last < RESOLUTION => return Ok(()),
                _ => {
                    // Keys are few per account; forget old entries so the map stays small.
                    if written.len() > 10_000 {
                        written.retain(|_, last| now - *last < RESOLUTION);
                    }
                    written.insert(key_id.to_string(), now);
                }
            }
        }
        let stale_before = timestamp(now - RESOLUTION);
        on_db!(&self.db, pool => sqlx::query(RECORD)
            .bind(key_id)
            .bind(timestamp(now))
            .bind(stale_before)
            .execute(pool)
            .await
            .map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// The last-used times of those of `key_ids` that were ever used. Asked in chunks, so
    /// that no statement binds more parameters than a database takes.
    pub async fn last_used(
        &self,
        key_ids: &[&str],
    ) -> Result<HashMap<String, String>, sqlx::Error> {
        const CHUNK: usize = 500;
        let mut found = HashMap::new();
        for chunk in key_ids.chunks(CHUNK) {
            let placeholders: Vec<String> = (1..=chunk.len()).map(|i| format!("${i}")).collect();
            let sql = format!(
                "SELECT key_id, last_used_at FROM api_key_last_used WHERE key_id IN ({})",
                placeholders.join(", ")
            );
            let rows: Vec<(String, String)> = on_db!(&self.db, pool => {
                let mut query = sqlx::query_as(&sql);
                for id in chunk {
                    query = query.bind(*id);
                }
                query.fetch_all(pool).await
            })?;
            found.extend(rows);
        }
        Ok(found)
    }
}
