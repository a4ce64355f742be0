//! The Postgres event repository: postgres-es for every read, and every commit as one
//! statement.
//!
//! postgres-es wraps each commit in BEGIN … COMMIT: four round trips for one event and its
//! aggregate's state row, two for an event alone. A request makes four such commits, and on a
//! busy account they queue one behind the other, so those round trips set how fast one account
//! can be charged. Here a commit's events and the state row go in one statement, which
//! Postgres runs as its own transaction: the state row's write is a data-modifying CTE that the
//! events' INSERT reads, so when the state row is not the expected version nothing is written.
//! One event or several (a group of commands committed together) take the same statement: the
//! events come as arrays. See docs/decisions/0001-group-commit.md for why and what it measured.
use cqrs_es::persist::{
    PersistedEventRepository, PersistenceError, ReplayStream, SerializedEvent, SerializedSnapshot,
};
use cqrs_es::Aggregate;
use postgres_es::PostgresEventRepository;
use serde_json::Value;
use sqlx::PgPool;

pub struct PgRepository {
    reads: PostgresEventRepository,
    pool: PgPool,
}

impl PgRepository {
    pub fn new(pool: PgPool) -> PgRepository {
        PgRepository {
            reads: PostgresEventRepository::new(pool.clone()),
            pool,
        }
    }
}

/// The events of a commit, from arrays ($3 … $7, their JSON as text), inserted in sequence order
/// so that their positions follow it; `$from` is what they are selected from besides the
/// arrays. The JSON goes through jsonb, as postgres-es's bound values do, so that the stored
/// text is the same whoever wrote it.
macro_rules! insert_events_from {
    ($from:literal) => {
        concat!(
            "
INSERT INTO events (aggregate_type, aggregate_id, sequence, event_type, event_version, payload, metadata)
SELECT $1, $2, e.sequence, e.event_type, e.event_version, e.payload::jsonb::json, e.metadata::jsonb::json
  FROM ",
            $from,
            "UNNEST($3::bigint[], $4::text[], $5::text[], $6::text[], $7::text[])
       WITH ORDINALITY AS e(sequence, event_type, event_version, payload, metadata, n)
 ORDER BY e.n"
        )
    };
}

/// Events alone (an aggregate without a state row).
const INSERT_EVENTS: &str = insert_events_from!("");

/// The aggregate's first state row, with its events. A row already there (another process
/// committed first) makes an event's sequence or the row's key taken: a conflict.
const INSERT_EVENTS_AND_FIRST_STATE: &str = concat!(
    "
WITH state AS (
    INSERT INTO snapshots (aggregate_type, aggregate_id, last_sequence, current_snapshot, payload)
    VALUES ($1, $2, $10, $8, $9)
    RETURNING 1
)",
    insert_events_from!("state, ")
);

/// The next state row, with its events: only over the version the commands were decided on.
/// Another version there updates nothing, so nothing is inserted (0 rows: a conflict). $10 is
/// the last event's sequence.
const INSERT_EVENTS_AND_NEXT_STATE: &str = concat!(
    "
WITH state AS (
    UPDATE snapshots
       SET last_sequence = $10, current_snapshot = $8, payload = $9
     WHERE aggregate_type = $1 AND aggregate_id = $2 AND current_snapshot = $8 - 1
    RETURNING 1
)",
    insert_events_from!("state, ")
);

impl PersistedEventRepository for PgRepository {
    async fn get_events<A: Aggregate>(
        &self,
        aggregate_id: &str,
    ) -> Result<Vec<SerializedEvent>, PersistenceError> {
        self.reads.get_events::<A>(aggregate_id).await
    }

    async fn get_last_events<A: Aggregate>(
        &self,
        aggregate_id: &str,
        last_sequence: usize,
    ) -> Result<Vec<SerializedEvent>, PersistenceError> {
        self.reads
            .get_last_events::<A>(aggregate_id, last_sequence)
            .await
    }

    async fn get_snapshot<A: Aggregate>(
        &self,
        aggregate_id: &str,
    ) -> Result<Option<SerializedSnapshot>, PersistenceError> {
        self.reads.get_snapshot::<A>(aggregate_id).await
    }

    async fn persist<A: Aggregate>(
        &self,
        events: &[SerializedEvent],
        snapshot_update: Option<(String, Value, usize)>,
    ) -> Result<(), PersistenceError> {
        let Some(first) = events.first() else {
            return Ok(());
        };
        let sql = match &snapshot_update {
            None => INSERT_EVENTS,
            Some((_, _, 1)) => INSERT_EVENTS_AND_FIRST_STATE,
            Some(_) => INSERT_EVENTS_AND_NEXT_STATE,
        };
        let sequences = events
            .iter()
            .map(|e| sequence(e.sequence))
            .collect::<Result<Vec<_>, _>>()?;
        let last_sequence = sequences.last().copied().unwrap_or_default();
        let column =
            |value: fn(&SerializedEvent) -> String| events.iter().map(value).collect::<Vec<_>>();
        let mut query = sqlx::query(sql)
            .bind(A::TYPE)
            .bind(&first.aggregate_id)
            .bind(sequences)
            .bind(column(|e| e.event_type.clone()))
            .bind(column(|e| e.event_version.clone()))
            .bind(column(|e| e.payload.to_string()))
            .bind(column(|e| e.metadata.to_string()));
        if let Some((_, state, version)) = &snapshot_update {
            query = query
                .bind(sequence(*version)?)
                .bind(state)
                .bind(last_sequence);
        }
        let written = query
            .execute(&self.pool)
            .await
            .map_err(persistence_error)?
            .rows_affected();
        // Fewer rows than events: the state row was not at the version decided on.
        if written == events.len() as u64 {
            Ok(())
        } else {
            Err(PersistenceError::OptimisticLockError)
        }
    }

    async fn stream_events<A: Aggregate>(
        &self,
        aggregate_id: &str,
    ) -> Result<ReplayStream, PersistenceError> {
        self.reads.stream_events::<A>(aggregate_id).await
    }

    async fn stream_all_events<A: Aggregate>(&self) -> Result<ReplayStream, PersistenceError> {
        self.reads.stream_all_events::<A>().await
    }
}

fn sequence(n: usize) -> Result<i64, PersistenceError> {
    i64::try_from(n).map_err(|e| PersistenceError::UnknownError(Box::new(e)))
}

/// As postgres-es reports them: a unique violation is a conflict (the sequence, or the first
/// state row, was taken by another commit).
fn persistence_error(e: sqlx::Error) -> PersistenceError {
    match &e {
        sqlx::Error::Database(db) if db.code().as_deref() == Some("23505") => {
            PersistenceError::OptimisticLockError
        }
        sqlx::Error::Io(_) | sqlx::Error::Tls(_) => PersistenceError::ConnectionError(Box::new(e)),
        _ => PersistenceError::UnknownError(Box::new(e)),
    }
}
