//! The event store on either backend, chosen by `DATABASE_URL`, with its migrations.
mod aggregate_store;
pub mod feed;
mod pg_repository;
pub mod upcasters;

use std::str::FromStr;
use std::time::Duration;

use altframe_domain::account::Account;
use altframe_domain::api_key::ApiKey;
use altframe_domain::batch::Batch;
use altframe_domain::job::Job;
use altframe_projections::Db;
use cqrs_es::persist::PersistedEventStore;
use sqlite_es::SqliteEventRepository;
use sqlx::postgres::PgPoolOptions;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::Connection;

pub use aggregate_store::{AggregateStore, CommandError, Keyed};
use pg_repository::PgRepository;

// Accounts and batches use cqrs-es's "aggregate store": every commit writes the aggregate's
// state (a snapshot row) in the same transaction as its events, and a load reads that one row
// and no events, whatever the history. The events stay the source of truth; the row is a cache
// that a replay rebuilds when it cannot be read.
//
// Its "snapshot store" (a snapshot every N events) is not used: in 0.5 it skips events when a
// commit crosses a snapshot boundary, and its load is two statements, not atomic.
// Why, and the flaws in full: docs/decisions/0006-aggregate-store-instead-of-snapshot-store.md.

/// Every aggregate's store, and the database handle for read models.
pub struct Store {
    pub db: Db,
    pub accounts: AggregateStore<Account>,
    pub api_keys: AggregateStore<ApiKey>,
    pub jobs: AggregateStore<Job>,
    pub batches: AggregateStore<Batch>,
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("cannot open the database: {0}")]
    Connect(#[source] sqlx::Error),
    #[error("cannot apply migrations: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("DATABASE_URL must be a postgres:// URL, a sqlite: URL or a file path; got {0}")]
    BadUrl(String),
}

/// Why the store cannot serve yet.
#[derive(Debug, thiserror::Error)]
pub enum NotReady {
    #[error("the database does not answer: {0}")]
    NoAnswer(#[source] sqlx::Error),
    #[error("{applied} of {expected} migrations are applied")]
    Migrations { applied: i64, expected: i64 },
}

/// Where the store lives and how many connections it may open.
#[derive(Debug, Clone)]
pub struct StoreConfig {
    pub url: DatabaseUrl,
    /// `None`: 20 on Postgres, 8 on SQLite.
    pub max_connections: Option<u32>,
}

impl StoreConfig {
    pub fn new(url: DatabaseUrl) -> StoreConfig {
        StoreConfig {
            url,
            max_connections: None,
        }
    }
}

const POSTGRES_CONNECTIONS: u32 = 20;
const SQLITE_CONNECTIONS: u32 = 8;

/// Where the store lives, parsed from `DATABASE_URL`. Its `Debug` hides a password.
#[derive(Clone, PartialEq, Eq)]
pub enum DatabaseUrl {
    Postgres(String),
    SqliteFile(String),
}

impl std::fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DatabaseUrl::Postgres(url) => {
                let shown = match url::Url::parse(url) {
                    Ok(mut parsed) if parsed.password().is_some() => {
                        let _ = parsed.set_password(Some("********"));
                        parsed.to_string()
                    }
                    Ok(parsed) => parsed.to_string(),
                    Err(_) => "(unreadable URL)".to_string(),
                };
                f.debug_tuple("Postgres").field(&shown).finish()
            }
            DatabaseUrl::SqliteFile(path) => f.debug_tuple("SqliteFile").field(path).finish(),
        }
    }
}

impl DatabaseUrl {
    pub fn parse(url: Option<&str>) -> Result<DatabaseUrl, StoreError> {
        match url.map(str::trim).filter(|u| !u.is_empty()) {
            None => Ok(DatabaseUrl::SqliteFile("./altframe.db".into())),
            Some(u) if u.starts_with("postgres://") || u.starts_with("postgresql://") => {
                Ok(DatabaseUrl::Postgres(u.into()))
            }
            Some(u) => {
                let path = u
                    .strip_prefix("sqlite://")
                    .or_else(|| u.strip_prefix("sqlite:"))
                    .unwrap_or(u);
                if path.is_empty() || path.contains("://") {
                    return Err(StoreError::BadUrl(u.into()));
                }
                Ok(DatabaseUrl::SqliteFile(path.into()))
            }
        }
    }
}

/// How long a Postgres connection may sit idle in the pool before it is pinged on its way out.
/// Why, with measurements: docs/decisions/0008-pool-pings-only-idle-connections.md.
const PING_AFTER_IDLE: Duration = Duration::from_secs(1);

impl Store {
    /// Opens the store and brings its schema up to date.
    pub async fn open(config: &StoreConfig) -> Result<Store, StoreError> {
        match &config.url {
            DatabaseUrl::Postgres(url) => {
                let pool = PgPoolOptions::new()
                    .max_connections(config.max_connections.unwrap_or(POSTGRES_CONNECTIONS))
                    .acquire_timeout(Duration::from_secs(10))
                    // A connection keeps buffers as large as the largest message it has carried
                    // (a bulk image is megabytes); twenty of them idle would hold that forever.
                    .after_release(|conn, _| {
                        Box::pin(async move {
                            conn.shrink_buffers();
                            Ok(true)
                        })
                    })
                    // By default sqlx pings every connection it hands out: a round trip before
                    // each of a request's statements. A connection released a moment ago is
                    // alive; only one idle for a while (the server may have restarted) is
                    // pinged, and one that fails is replaced.
                    .test_before_acquire(false)
                    .before_acquire(|conn, meta| {
                        Box::pin(async move {
                            if meta.idle_for >= PING_AFTER_IDLE {
                                conn.ping().await?;
                            }
                            Ok(true)
                        })
                    })
                    .connect(url)
                    .await
                    .map_err(StoreError::Connect)?;
                sqlx::migrate!("./migrations/postgres").run(&pool).await?;
                let repo = || PgRepository::new(pool.clone());
                Ok(Store {
                    accounts: AggregateStore::postgres(
                        PersistedEventStore::new_aggregate_store(repo()),
                        true,
                    ),
                    api_keys: AggregateStore::postgres(
                        PersistedEventStore::new_event_store(repo()),
                        false,
                    ),
                    jobs: AggregateStore::postgres(
                        PersistedEventStore::new_event_store(repo())
                            .with_upcasters(upcasters::all()),
                        false,
                    ),
                    batches: AggregateStore::postgres(
                        PersistedEventStore::new_aggregate_store(repo()),
                        true,
                    ),
                    db: Db::Postgres(pool),
                })
            }
            DatabaseUrl::SqliteFile(path) => {
                // FULL: a committed charge must survive a power cut. The busy timeout lets
                // writers queue for SQLite's single write lock instead of failing.
                let options = SqliteConnectOptions::from_str(&format!("sqlite://{path}"))
                    .map_err(StoreError::Connect)?
                    .create_if_missing(true)
                    .journal_mode(SqliteJournalMode::Wal)
                    .synchronous(SqliteSynchronous::Full)
                    .busy_timeout(Duration::from_secs(30))
                    .foreign_keys(true);
                let pool = SqlitePoolOptions::new()
                    .max_connections(config.max_connections.unwrap_or(SQLITE_CONNECTIONS))
                    .connect_with(options)
                    .await
                    .map_err(StoreError::Connect)?;
                sqlx::migrate!("./migrations/sqlite").run(&pool).await?;
                let repo = || SqliteEventRepository::new(pool.clone());
                Ok(Store {
                    accounts: AggregateStore::sqlite(
                        PersistedEventStore::new_aggregate_store(repo()),
                        true,
                    ),
                    api_keys: AggregateStore::sqlite(
                        PersistedEventStore::new_event_store(repo()),
                        false,
                    ),
                    jobs: AggregateStore::sqlite(
                        PersistedEventStore::new_event_store(repo())
                            .with_upcasters(upcasters::all()),
                        false,
                    ),
                    batches: AggregateStore::sqlite(
                        PersistedEventStore::new_aggregate_store(repo()),
                        true,
                    ),
                    db: Db::Sqlite(pool),
                })
            }
        }
    }

    /// Whether the database answers and every migration this build knows is applied.
    pub async fn readiness(&self) -> Result<(), NotReady> {
        let expected = match &self.db {
            Db::Postgres(_) => sqlx::migrate!("./migrations/postgres").migrations.len(),
            Db::Sqlite(_) => sqlx::migrate!("./migrations/sqlite").migrations.len(),
        } as i64;
        let sql = "SELECT COUNT(*) FROM _sqlx_migrations WHERE success";
        let applied: i64 = altframe_projections::on_db!(&self.db, pool => {
            sqlx::query_scalar(sql)
                .fetch_one(pool)
                .await
                .map_err(NotReady::NoAnswer)?
        });
        if applied < expected {
            return Err(NotReady::Migrations { applied, expected });
        }
        Ok(())
    }

    /// True when no event was ever written: the first start of a new installation.
    pub async fn is_empty(&self) -> Result<bool, sqlx::Error> {
        let sql = "SELECT EXISTS (SELECT 1 FROM events) AS any";
        let any: bool = altframe_projections::on_db!(&self.db, pool => {
            sqlx::query_scalar(sql).fetch_one(pool).await?
        });
        Ok(!any)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_database_password_never_prints() {
        let url = DatabaseUrl::parse(Some("postgres://altframe:hunter2@db.internal/altframe"));
        let printed = format!("{:?}", StoreConfig::new(url.unwrap()));
        assert!(!printed.contains("hunter2"), "{printed}");
        assert!(printed.contains("db.internal"), "{printed}");
    }
}
