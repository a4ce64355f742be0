//! Requests per API key and endpoint, counted in fixed one-minute windows.
//!
//! On Postgres the counts live in a table that every `serve` process shares: one atomic upsert
//! per request, so the processes together never accept more than the limit in a window. On
//! SQLite (one process by design) they live in this process's memory.
use std::collections::HashMap;
use std::str::FromStr;
use std::sync::Mutex;

use altframe_domain::plan::Plan;
use altframe_projections::Db;
use chrono::{DateTime, Utc};
use sqlx::PgPool;

/// The contract's window: limits are per minute.
pub const WINDOW_SECS: i64 = 60;

/// The endpoints the contract limits, each with its own count.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Endpoint {
    Generate,
    Bulk,
    Batches,
    History,
    Usage,
    /// Our addition: `POST /api/v1/validate`.
    Validate,
    /// Our addition: `POST /api/v1/scan`.
    Scan,
}

impl Endpoint {
    pub const ALL: [Endpoint; 7] = [
        Endpoint::Generate,
        Endpoint::Bulk,
        Endpoint::Batches,
        Endpoint::History,
        Endpoint::Usage,
        Endpoint::Validate,
        Endpoint::Scan,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Endpoint::Generate => "generate",
            Endpoint::Bulk => "bulk",
            Endpoint::Batches => "batches",
            Endpoint::History => "history",
            Endpoint::Usage => "usage",
            Endpoint::Validate => "validate",
            Endpoint::Scan => "scan",
        }
    }

    /// The contract's table, and our additions' rows in its style (a scan fetches a page and
    /// may submit a batch: bulk's limit).
    fn default_limit(self) -> u32 {
        match self {
            Endpoint::Generate | Endpoint::Validate => 60,
            Endpoint::Bulk | Endpoint::Scan => 10,
            Endpoint::Batches | Endpoint::History | Endpoint::Usage => 120,
        }
    }

    fn parse(s: &str) -> Option<Endpoint> {
        Endpoint::ALL.into_iter().find(|e| e.as_str() == s)
    }
}

/// Requests per window for each plan and endpoint: the contract's table unless overridden.
///
/// Overrides are written `endpoint=N` (every plan) or `plan.endpoint=N` (one plan, which wins),
/// comma separated: `generate=60,pro.generate=600,business.bulk=100`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RateLimitTable {
    overrides: HashMap<(Option<Plan>, Endpoint), u32>,
}

impl RateLimitTable {
    pub fn limit(&self, plan: Plan, endpoint: Endpoint) -> u32 {
        self.overrides
            .get(&(Some(plan), endpoint))
            .or_else(|| self.overrides.get(&(None, endpoint)))
            .copied()
            .unwrap_or_else(|| endpoint.default_limit())
    }
}

impl FromStr for RateLimitTable {
    type Err = String;

    fn from_str(spec: &str) -> Result<Self, Self::Err> {
        let mut overrides = HashMap::new();
        for entry in spec.split(',').map(str::trim).filter(|e| !e.is_empty()) {
            let (scope, count) = entry
                .split_once('=')
                .ok_or_else(|| format!("`{entry}`: expected endpoint=N or plan.endpoint=N"))?;
            let count: u32 = count
                .trim()
                .parse()
                .map_err(|_| format!("`{entry}`: the limit must be a whole number"))?;
            let (plan, endpoint) = match scope.trim().split_once('.') {
                Some((plan, endpoint)) => (
                    Some(Plan::parse(plan).ok_or_else(|| format!("`{entry}`: unknown plan"))?),
                    endpoint,
                ),
                None => (None, scope.trim()),
            };
            let endpoint = Endpoint::parse(endpoint).ok_or_else(|| {
                let known: Vec<&str> = Endpoint::ALL.iter().map(|e| e.as_str()).collect();
                format!("`{entry}`: unknown endpoint ({})", known.join(", "))
            })?;
            overrides.insert((plan, endpoint), count);
        }
        Ok(RateLimitTable { overrides })
    }
}

/// The outcome of counting one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Decision {
    pub allowed: bool,
    pub limit: u32,
    pub remaining: u32,
    /// When the window ends, in seconds since the epoch.
    pub reset_at: i64,
}

impl Decision {
    fn new(limit: u32, hits: u32, window_start: i64) -> Decision {
        Decision {
            allowed: hits <= limit,
            limit,
            remaining: limit.saturating_sub(hits),
            reset_at: window_start + WINDOW_SECS,
        }
    }

    /// Whole seconds until the window ends, at least one.
    pub fn retry_after(&self, now: DateTime<Utc>) -> i64 {
        (self.reset_at - now.timestamp()).max(1)
    }
}

pub struct RateLimiter {
    table: RateLimitTable,
    counts: Counts,
}

enum Counts {
    Shared(PgPool),
    Local(Mutex<LocalCounts>),
}

/// The current window's hits per key and endpoint.
#[derive(Default)]
struct LocalCounts {
    window_start: i64,
    hits: HashMap<(String, Endpoint), u32>,
}

/// Counts by a key and endpoint of the current window, upserted in one statement so that two
/// processes counting at once both see the other's request.
const COUNT_HIT: &str = "INSERT INTO rate_limit_windows (key_id, endpoint, window_start, hits)
     VALUES ($1, $2, $3, 1)
     ON CONFLICT (key_id, endpoint, window_start)
     DO UPDATE SET hits = rate_limit_windows.hits + 1
     RETURNING hits";

impl RateLimiter {
    pub fn new(db: &Db, table: RateLimitTable) -> RateLimiter {
        let counts = match db {
            Db::Postgres(pool) => Counts::Shared(pool.clone()),
            Db::Sqlite(_) => Counts::Local(Mutex::default()),
        };
        RateLimiter { table, counts }
    }

    /// The limits it enforces.
    pub fn table(&self) -> &RateLimitTable {
        &self.table
    }

    /// Counts one request of `key_id` to `endpoint`, and says whether it is within the limit.
    /// A request over the limit is counted too; it changes nothing but the count.
    pub async fn hit(
        &self,
        key_id: &str,
        plan: Plan,
        endpoint: Endpoint,
        now: DateTime<Utc>,
    ) -> Result<Decision, sqlx::Error> {
        let limit = self.table.limit(plan, endpoint);
        let window_start = now.timestamp().div_euclid(WINDOW_SECS) * WINDOW_SECS;
        let hits = match &self.counts {
            Counts::Shared(pool) => {
                let hits: i32 = sqlx::query_scalar(COUNT_HIT)
                    .bind(key_id)
                    .bind(endpoint.as_str())
                    .bind(window_start)
                    .fetch_one(pool)
                    .await?;
                u32::try_from(hits).unwrap_or(u32::MAX)
            }
            Counts::Local(counts) => {
                let mut counts = counts
                    .lock()
                    .unwrap_or_else(|poisoned| poisoned.into_inner());
                // Windows only move forward: a request that read the clock just before another
                // opened the next window counts in the newer one rather than resetting it.
                if window_start > counts.window_start {
                    counts.window_start = window_start;
                    counts.hits.clear();
                }
                let hits = counts
                    .hits
                    .entry((key_id.to_string(), endpoint))
                    .or_insert(0);
                *hits = hits.saturating_add(1);
                *hits
            }
        };
        Ok(Decision::new(limit, hits, window_start))
    }

    /// Deletes the shared counts of windows that have ended. Returns how many rows went.
    pub async fn forget_ended_windows(&self, now: DateTime<Utc>) -> Result<u64, sqlx::Error> {
        let Counts::Shared(pool) = &self.counts else {
            return Ok(0);
        };
        let current = now.timestamp().div_euclid(WINDOW_SECS) * WINDOW_SECS;
        let done = sqlx::query("DELETE FROM rate_limit_windows WHERE window_start < $1")
            .bind(current)
            .execute(pool)
            .await?;
        Ok(done.rows_affected())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_contract_table_applies_unless_overridden() {
        let table = RateLimitTable::default();
        assert_eq!(table.limit(Plan::Free, Endpoint::Generate), 60);
        assert_eq!(table.limit(Plan::Pro, Endpoint::Bulk), 10);
        assert_eq!(table.limit(Plan::Business, Endpoint::Usage), 120);
        assert_eq!(table.limit(Plan::Free, Endpoint::Scan), 10);
        let raised: RateLimitTable = "business.scan=100".parse().unwrap();
        assert_eq!(raised.limit(Plan::Business, Endpoint::Scan), 100);
    }

    #[test]
    fn a_plan_override_wins_over_an_all_plans_override() {
        let table: RateLimitTable = "generate=30, pro.generate=600".parse().unwrap();
        assert_eq!(table.limit(Plan::Free, Endpoint::Generate), 30);
        assert_eq!(table.limit(Plan::Pro, Endpoint::Generate), 600);
        assert_eq!(table.limit(Plan::Pro, Endpoint::History), 120);
    }

    #[test]
    fn a_bad_override_is_named() {
        let err = "gold.generate=5".parse::<RateLimitTable>().unwrap_err();
        assert!(err.contains("unknown plan"), "{err}");
        let err = "download=5".parse::<RateLimitTable>().unwrap_err();
        assert!(err.contains("unknown endpoint"), "{err}");
        let err = "generate=lots".parse::<RateLimitTable>().unwrap_err();
        assert!(err.contains("whole number"), "{err}");
    }

    #[tokio::test]
    async fn the_local_count_allows_the_limit_then_refuses_until_the_window_ends() {
        let db = Db::Sqlite(
            sqlx::sqlite::SqlitePoolOptions::new()
                .connect_lazy("sqlite::memory:")
                .unwrap(),
        );
        let limiter = RateLimiter::new(&db, "bulk=2".parse().unwrap());
        let at = |s: i64| DateTime::from_timestamp(s, 0).unwrap();
        let first = limiter
            .hit("key_a", Plan::Free, Endpoint::Bulk, at(120))
            .await
            .unwrap();
        assert_eq!(
            (first.allowed, first.remaining, first.reset_at),
            (true, 1, 180)
        );
        let second = limiter
            .hit("key_a", Plan::Free, Endpoint::Bulk, at(150))
            .await
            .unwrap();
        assert_eq!((second.allowed, second.remaining), (true, 0));
        let third = limiter
            .hit("key_a", Plan::Free, Endpoint::Bulk, at(170))
            .await
            .unwrap();
        assert!(!third.allowed);
        assert_eq!(third.retry_after(at(170)), 10);
        let other_key = limiter
            .hit("key_b", Plan::Free, Endpoint::Bulk, at(170))
            .await
            .unwrap();
        assert!(other_key.allowed);
        let next_window = limiter
            .hit("key_a", Plan::Free, Endpoint::Bulk, at(180))
            .await
            .unwrap();
        assert_eq!((next_window.allowed, next_window.remaining), (true, 1));
    }
}
