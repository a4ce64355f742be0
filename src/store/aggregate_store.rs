//! Runs a command against one aggregate: load, decide, commit, and on a write conflict (another
//! request committed to the same aggregate first) load again and decide again. A conflict
//! never reaches the client. That is safe because `handle()` has no outside effect.
use std::collections::HashMap;
use std::time::Duration;

use cqrs_es::event_sink::EventSink;
use cqrs_es::persist::PersistedEventStore;
use cqrs_es::{Aggregate, AggregateError, EventStore};
use postgres_es::PostgresEventRepository;
use rand::Rng;
use sqlite_es::SqliteEventRepository;

/// Enough for hundreds of concurrent writers on one account; each retry waits a little longer.
const MAX_ATTEMPTS: u32 = 200;

pub struct AggregateStore<A: Aggregate> {
    backend: Backend<A>,
    /// Commands on one aggregate wait their turn here, within this process, instead of
    /// loading the same state, conflicting at commit and retrying: a hot account's requests
    /// queue rather than spin. Striped (the aggregate id picks one of a fixed set of locks),
    /// so memory stays bounded; two aggregates on one stripe only wait for each other.
    /// Other processes are still met by the conflict check and retry below.
    stripes: Vec<tokio::sync::Mutex<()>>,
}

enum Backend<A: Aggregate> {
    Postgres(PersistedEventStore<PostgresEventRepository, A>),
    Sqlite(PersistedEventStore<SqliteEventRepository, A>),
}

const STRIPES: usize = 256;

impl<A: Aggregate> AggregateStore<A> {
    pub fn postgres(store: PersistedEventStore<PostgresEventRepository, A>) -> Self {
        Self::with_backend(Backend::Postgres(store))
    }

    pub fn sqlite(store: PersistedEventStore<SqliteEventRepository, A>) -> Self {
        Self::with_backend(Backend::Sqlite(store))
    }

    fn with_backend(backend: Backend<A>) -> Self {
        AggregateStore {
            backend,
            stripes: (0..STRIPES).map(|_| tokio::sync::Mutex::new(())).collect(),
        }
    }

    fn stripe(&self, aggregate_id: &str) -> &tokio::sync::Mutex<()> {
        use std::hash::{Hash, Hasher};
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        aggregate_id.hash(&mut hasher);
        &self.stripes[(hasher.finish() as usize) % STRIPES]
    }
}

#[derive(Debug, thiserror::Error)]
pub enum CommandError<E: std::error::Error> {
    /// The aggregate refused the command: a business rule, for the caller to report.
    #[error(transparent)]
    Rejected(E),
    #[error("event store: {0}")]
    Store(Box<dyn std::error::Error + Send + Sync>),
    #[error("gave up after {MAX_ATTEMPTS} conflicting writes")]
    Contention,
}

impl<A> AggregateStore<A>
where
    A: Aggregate<Services = ()> + Clone,
    A::Command: Clone,
    A::Error: Send + Sync + 'static,
{
    /// Executes `command` and returns the events it committed.
    #[tracing::instrument(skip(self, command), fields(aggregate = A::TYPE))]
    pub async fn execute(
        &self,
        aggregate_id: &str,
        command: A::Command,
    ) -> Result<Vec<A::Event>, CommandError<A::Error>> {
        let _turn = self.stripe(aggregate_id).lock().await;
        for attempt in 0..MAX_ATTEMPTS {
            match self.try_execute(aggregate_id, command.clone()).await {
                Ok(events) => return Ok(events),
                Err(AggregateError::UserError(e)) => return Err(CommandError::Rejected(e)),
                Err(e) if is_retryable(&e) => {
                    tracing::debug!(attempt, "write conflict, retrying");
                    tokio::time::sleep(backoff(attempt)).await;
                }
                Err(e) => return Err(CommandError::Store(Box::new(e))),
            }
        }
        Err(CommandError::Contention)
    }

    /// The aggregate's current state.
    pub async fn load(&self, aggregate_id: &str) -> Result<A, CommandError<A::Error>> {
        let context = match &self.backend {
            Backend::Postgres(s) => s.load_aggregate(aggregate_id).await,
            Backend::Sqlite(s) => s.load_aggregate(aggregate_id).await,
        }
        .map_err(|e| CommandError::Store(Box::new(e)))?;
        Ok(context.aggregate)
    }

    async fn try_execute(
        &self,
        aggregate_id: &str,
        command: A::Command,
    ) -> Result<Vec<A::Event>, AggregateError<A::Error>> {
        match &self.backend {
            Backend::Postgres(s) => run(s, aggregate_id, command).await,
            Backend::Sqlite(s) => run(s, aggregate_id, command).await,
        }
    }
}

async fn run<A, ES>(
    store: &ES,
    aggregate_id: &str,
    command: A::Command,
) -> Result<Vec<A::Event>, AggregateError<A::Error>>
where
    A: Aggregate<Services = ()> + Clone,
    ES: EventStore<A, AC = cqrs_es::persist::EventStoreAggregateContext<A>>,
{
    let context = store.load_aggregate(aggregate_id).await?;
    // `handle` applies its events to the aggregate it is given (through the sink), and a
    // snapshot store applies them again to the context's aggregate when it writes a snapshot.
    // Deciding on a copy keeps the context as loaded, so each event is applied once.
    let mut deciding = context.aggregate.clone();
    let sink = EventSink::default();
    deciding
        .handle(command, &(), &sink)
        .await
        .map_err(AggregateError::UserError)?;
    let events = sink.collect().await;
    if events.is_empty() {
        return Ok(vec![]);
    }
    let committed = store.commit(events, context, HashMap::new()).await?;
    Ok(committed.into_iter().map(|e| e.payload).collect())
}

/// A conflict, or SQLite's write lock still held after the busy timeout.
fn is_retryable<E: std::error::Error>(e: &AggregateError<E>) -> bool {
    match e {
        AggregateError::AggregateConflict => true,
        AggregateError::UnexpectedError(inner) | AggregateError::DatabaseConnectionError(inner) => {
            let msg = inner.to_string();
            msg.contains("database is locked") || msg.contains("(code: 5)")
        }
        _ => false,
    }
}

/// Exponential from 1 ms, capped at 50 ms, with full jitter so that writers spread out.
fn backoff(attempt: u32) -> Duration {
    let cap_ms = (1u64 << attempt.min(6)).min(50);
    Duration::from_micros(rand::thread_rng().gen_range(0..=cap_ms * 1000))
}
