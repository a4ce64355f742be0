//! The Postgres event repository: postgres-es for every read, and every commit as one
//! statement.
//!
//! postgres-es wraps each commit in BEGIN … COMMIT: four round trips for one event and its
//! aggregate's state row, two for an event alone. A request makes four such commits, and on a
//! busy account they queue one behind the other, so those round trips set how fast one account
//! can be charged. Here the event and the state row go in one statement, which Postgres runs
//! as its own transaction: the state row's write is a data-modifying CTE that the event's
//! INSERT reads, so when the state row is not the expected version nothing is written.
//! Several events (a group of commands committed together) go in one statement too, from
//! arrays, inserted in sequence order so that their positions follow it.
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

/// Not the text of postgres-es's INSERT, which binds the sequence as a 32-bit integer: sqlx
/// keeps one prepared statement per text and connection, with the parameter types of
/// whichever query prepared it first.
const INSERT_EVENT: &str = "
-- one event, one statement
INSERT INTO events (aggregate_type, aggregate_id, sequence, event_type, event_version, payload, metadata)
VALUES ($1, $2, $3, $4, $5, $6, $7)";

/// The aggregate's first state row, with its event. A row already there (another process
/// committed first) makes the event's sequence or the row's key taken: a conflict.
const INSERT_EVENT_AND_FIRST_STATE: &str = "
WITH state AS (
    INSERT INTO snapshots (aggregate_type, aggregate_id, last_sequence, current_snapshot, payload)
    VALUES ($1, $2, $3, $8, $9)
    RETURNING 1
)
INSERT INTO events (aggregate_type, aggregate_id, sequence, event_type, event_version, payload, metadata)
SELECT $1, $2, $3, $4, $5, $6, $7 FROM state";

/// The next state row, with its event: only over the version the command was decided on.
/// Another version there updates nothing, so nothing is inserted (0 rows: a conflict).
const INSERT_EVENT_AND_NEXT_STATE: &str = "
WITH state AS (
    UPDATE snapshots
       SET last_sequence = $3, current_snapshot = $8, payload = $9
     WHERE aggregate_type = $1 AND aggregate_id = $2 AND current_snapshot = $8 - 1
    RETURNING 1
)
INSERT INTO events (aggregate_type, aggregate_id, sequence, event_type, event_version, payload, metadata)
SELECT $1, $2, $3, $4, $5, $6, $7 FROM state";

/// Several events, from arrays ($3 … $7, their JSON as text), inserted in sequence order. The
/// JSON goes through jsonb as a single event's bound value does, so that the stored text does
/// not depend on how many events a commit held. The two below add the state row's write as
/// above; $10 is the last event's sequence.
const INSERT_EVENTS: &str = "
-- several events, one statement
INSERT INTO events (aggregate_type, aggregate_id, sequence, event_type, event_version, payload, metadata)
SELECT $1, $2, e.sequence, e.event_type, e.event_version, e.payload::jsonb::json, e.metadata::jsonb::json
  FROM UNNEST($3::bigint[], $4::text[], $5::text[], $6::text[], $7::text[])
       WITH ORDINALITY AS e(sequence, event_type, event_version, payload, metadata, n)
 ORDER BY e.n";

const INSERT_EVENTS_AND_FIRST_STATE: &str = "
WITH state AS (
    INSERT INTO snapshots (aggregate_type, aggregate_id, last_sequence, current_snapshot, payload)
    VALUES ($1, $2, $10, $8, $9)
    RETURNING 1
)
INSERT INTO events (aggregate_type, aggregate_id, sequence, event_type, event_version, payload, metadata)
SELECT $1, $2, e.sequence, e.event_type, e.event_version, e.payload::jsonb::json, e.metadata::jsonb::json
  FROM state, UNNEST($3::bigint[], $4::text[], $5::text[], $6::text[], $7::text[])
       WITH ORDINALITY AS e(sequence, event_type, event_version, payload, metadata, n)
 ORDER BY e.n";

const INSERT_EVENTS_AND_NEXT_STATE: &str = "
WITH state AS (
    UPDATE snapshots
       SET last_sequence = $10, current_snapshot = $8, payload = $9
     WHERE aggregate_type = $1 AND aggregate_id = $2 AND current_snapshot = $8 - 1
    RETURNING 1
)
INSERT INTO events (aggregate_type, aggregate_id, sequence, event_type, event_version, payload, metadata)
SELECT $1, $2, e.sequence, e.event_type, e.event_version, e.payload::jsonb::json, e.metadata::jsonb::json
  FROM state, UNNEST($3::bigint[], $4::text[], $5::text[], $6::text[], $7::text[])
       WITH ORDINALITY AS e(sequence, event_type, event_version, payload, metadata, n)
 ORDER BY e.n";

impl PgRepository {
    async fn persist_one<A: Aggregate>(
        &self,
        event: &SerializedEvent,
        snapshot_update: Option<(String, Value, usize)>,
    ) -> Result<u64, PersistenceError> {
        let sql = match &snapshot_update {
            None => INSERT_EVENT,
            Some((_, _, 1)) => INSERT_EVENT_AND_FIRST_STATE,
            Some(_) => INSERT_EVENT_AND_NEXT_STATE,
        };
        let mut query = sqlx::query(sql)
            .bind(A::TYPE)
            .bind(&event.aggregate_id)
            .bind(sequence(event.sequence)?)
            .bind(&event.event_type)
            .bind(&event.event_version)
            .bind(&event.payload)
            .bind(&event.metadata);
        if let Some((_, state, version)) = &snapshot_update {
            query = query.bind(sequence(*version)?).bind(state);
        }
        let written = query.execute(&self.pool).await.map_err(persistence_error)?;
        Ok(written.rows_affected())
    }

    async fn persist_many<A: Aggregate>(
        &self,
        events: &[SerializedEvent],
        snapshot_update: Option<(String, Value, usize)>,
    ) -> Result<u64, PersistenceError> {
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
        let mut query = sqlx::query(sql)
            .bind(A::TYPE)
            .bind(&events[0].aggregate_id)
            .bind(sequences)
            .bind(
                events
                    .iter()
                    .map(|e| e.event_type.as_str())
                    .collect::<Vec<_>>(),
            )
            .bind(
                events
                    .iter()
                    .map(|e| e.event_version.as_str())
                    .collect::<Vec<_>>(),
            )
            .bind(
                events
                    .iter()
                    .map(|e| e.payload.to_string())
                    .collect::<Vec<_>>(),
            )
            .bind(
                events
                    .iter()
                    .map(|e| e.metadata.to_string())
                    .collect::<Vec<_>>(),
            );
        if let Some((_, state, version)) = &snapshot_update {
            query = query
                .bind(sequence(*version)?)
                .bind(state)
                .bind(last_sequence);
        }
        let written = query.execute(&self.pool).await.map_err(persistence_error)?;
        Ok(written.rows_affected())
    }
}

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
        let written = match events {
            [] => return Ok(()),
            [event] => self.persist_one::<A>(event, snapshot_update).await?,
            _ => self.persist_many::<A>(events, snapshot_update).await?,
        };
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
