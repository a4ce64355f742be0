//! Reads the events table in one global order, for projections and the process manager.
//!
//! Postgres takes `position` at INSERT but shows it at COMMIT, so a reader that only remembers
//! positions could skip one committed late. Events are therefore read in (transaction id,
//! position) order and only from transactions older than every one still running.
//! See docs/decisions/0002-global-order-on-postgres.md for why and what it measured.
use altframe_projections::checkpoint::Checkpoint;
use altframe_projections::{Db, StoredEvent, Tx};
use cqrs_es::persist::SerializedEvent;
use serde_json::Value;

// ORDER BY names the table's columns: the output column `transaction_id` is text, and text
// order puts transaction 10 before 9, so a checkpoint could land before events already applied.
const POSTGRES: &str = "
SELECT e.position, e.transaction_id::text AS transaction_id, e.aggregate_type, e.aggregate_id,
       e.sequence, e.event_type, e.event_version, CAST(e.payload AS TEXT) AS payload
  FROM events e
 WHERE (e.transaction_id, e.position) > ($1::text::xid8, $2)
   AND e.transaction_id < pg_snapshot_xmin(pg_current_snapshot())
 ORDER BY e.transaction_id, e.position
 LIMIT $3";

const SQLITE: &str = "
SELECT rowid AS position, '0' AS transaction_id, aggregate_type, aggregate_id, sequence,
       event_type, event_version, CAST(payload AS TEXT) AS payload
  FROM events
 WHERE rowid > $1
 ORDER BY rowid
 LIMIT $2";

/// Up to `limit` events after `checkpoint`, in global order.
pub async fn after(
    tx: &mut Tx,
    checkpoint: &Checkpoint,
    limit: i64,
) -> Result<Vec<StoredEvent>, sqlx::Error> {
    let events = match tx {
        Tx::Postgres(t) => {
            let rows = sqlx::query(POSTGRES)
                .bind(&checkpoint.transaction_id)
                .bind(checkpoint.position)
                .bind(limit)
                .fetch_all(&mut **t)
                .await?;
            rows.iter().map(stored).collect::<Result<Vec<_>, _>>()?
        }
        Tx::Sqlite(t) => {
            let rows = sqlx::query(SQLITE)
                .bind(checkpoint.position)
                .bind(limit)
                .fetch_all(&mut **t)
                .await?;
            rows.iter().map(stored).collect::<Result<Vec<_>, _>>()?
        }
    };
    let upcasters = super::upcasters::all();
    Ok(events.into_iter().map(|e| upcast(&upcasters, e)).collect())
}

/// A row of the queries above, read by column index: a batch holds thousands, and looking
/// each column up by name showed in a rebuild's profile.
fn stored<R: sqlx::Row>(row: &R) -> Result<StoredEvent, sqlx::Error>
where
    usize: sqlx::ColumnIndex<R>,
    i64: for<'r> sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    String: for<'r> sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
{
    Ok(StoredEvent {
        position: row.try_get(0)?,
        transaction_id: row.try_get(1)?,
        aggregate_type: row.try_get(2)?,
        aggregate_id: row.try_get(3)?,
        sequence: row.try_get(4)?,
        event_type: row.try_get(5)?,
        event_version: row.try_get(6)?,
        payload: row.try_get(7)?,
    })
}

/// Passes a row through the upcasters, as cqrs-es does for aggregate loads. Most events are
/// current and pass untouched, without being parsed here.
fn upcast(upcasters: &[Box<dyn cqrs_es::persist::EventUpcaster>], r: StoredEvent) -> StoredEvent {
    if !upcasters
        .iter()
        .any(|u| u.can_upcast(&r.event_type, &r.event_version))
    {
        return r;
    }
    // A payload that does not parse is passed on as it is, for the reader to report.
    let Ok(payload) = serde_json::from_str::<Value>(&r.payload) else {
        return r;
    };
    let event = SerializedEvent::new(
        r.aggregate_id,
        usize::try_from(r.sequence).unwrap_or_default(),
        r.aggregate_type,
        r.event_type,
        r.event_version,
        payload,
        Value::Null,
    );
    let event = super::upcasters::upcast(upcasters, event);
    StoredEvent {
        position: r.position,
        transaction_id: r.transaction_id,
        aggregate_type: event.aggregate_type,
        aggregate_id: event.aggregate_id,
        sequence: r.sequence,
        event_type: event.event_type,
        event_version: event.event_version,
        payload: event.payload.to_string(),
    }
}

// Whether anything lies beyond a checkpoint is asked as "the first event after it", in index
// order: Postgres plans an `EXISTS` over parameters as a scan of the whole table.
// Why, with measurements: docs/decisions/0002-global-order-on-postgres.md.
pub const PENDING_AFTER_CHECKPOINT: &str = "
SELECT position FROM events
 WHERE (transaction_id, position) > ($1::text::xid8, $2)
 ORDER BY transaction_id, position
 LIMIT 1";

pub const PENDING_AFTER_PROJECTION: &str = "
SELECT e.position FROM events e
 WHERE (e.transaction_id, e.position) >
       (SELECT COALESCE((SELECT transaction_id FROM projection_checkpoints WHERE name = $1), '0')::xid8,
               COALESCE((SELECT position FROM projection_checkpoints WHERE name = $1), 0))
 ORDER BY e.transaction_id, e.position
 LIMIT 1";

/// Whether a committed event lies beyond the projection's checkpoint, whether or not older
/// transactions still hide it from `after`.
pub async fn has_events_after(db: &Db, projection: &str) -> Result<bool, sqlx::Error> {
    match db {
        Db::Postgres(pool) => {
            let first: Option<i64> = sqlx::query_scalar(PENDING_AFTER_PROJECTION)
                .bind(projection)
                .fetch_optional(pool)
                .await?;
            Ok(first.is_some())
        }
        Db::Sqlite(pool) => {
            sqlx::query_scalar(
                "SELECT EXISTS (SELECT 1 FROM events WHERE rowid >
                   COALESCE((SELECT position FROM projection_checkpoints WHERE name = $1), 0))",
            )
            .bind(projection)
            .fetch_one(pool)
            .await
        }
    }
}

/// Whether a committed event lies beyond `checkpoint` (see [`has_events_after`]).
pub async fn has_events_after_checkpoint(
    db: &Db,
    checkpoint: &Checkpoint,
) -> Result<bool, sqlx::Error> {
    match db {
        Db::Postgres(pool) => {
            let first: Option<i64> = sqlx::query_scalar(PENDING_AFTER_CHECKPOINT)
                .bind(&checkpoint.transaction_id)
                .bind(checkpoint.position)
                .fetch_optional(pool)
                .await?;
            Ok(first.is_some())
        }
        Db::Sqlite(pool) => {
            sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM events WHERE rowid > $1)")
                .bind(checkpoint.position)
                .fetch_one(pool)
                .await
        }
    }
}

/// How many committed events a projection has yet to apply: its lag, for GET /metrics.
pub async fn count_events_after(db: &Db, projection: &str) -> Result<i64, sqlx::Error> {
    match db {
        Db::Postgres(pool) => {
            sqlx::query_scalar(
                "SELECT COUNT(*) FROM events e WHERE (e.transaction_id, e.position) >
                   (SELECT COALESCE((SELECT transaction_id FROM projection_checkpoints WHERE name = $1), '0')::xid8,
                           COALESCE((SELECT position FROM projection_checkpoints WHERE name = $1), 0))",
            )
            .bind(projection)
            .fetch_one(pool)
            .await
        }
        Db::Sqlite(pool) => {
            sqlx::query_scalar(
                "SELECT COUNT(*) FROM events WHERE rowid >
                   COALESCE((SELECT position FROM projection_checkpoints WHERE name = $1), 0)",
            )
            .bind(projection)
            .fetch_one(pool)
            .await
        }
    }
}
