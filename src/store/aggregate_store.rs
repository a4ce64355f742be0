//! Runs a command against one aggregate: load, decide, commit, and on a write conflict (another
//! request committed to the same aggregate first) load again and decide again. A conflict
//! never reaches the client. That is safe because `handle()` has no outside effect.
//!
//! The state a command leaves is kept for the next command on the same aggregate, which then
//! skips the load: a request makes several commands on its account and job. Keeping it is
//! safe for the same reason retrying is: a commit made on a state that another process has
//! since changed is refused by the store (the sequence is taken), and the command is retried
//! on a fresh load.
use std::collections::HashMap;
use std::time::Duration;

use cqrs_es::event_sink::EventSink;
use cqrs_es::persist::{EventStoreAggregateContext, PersistedEventStore};
use cqrs_es::{Aggregate, AggregateError, EventStore};
use rand::Rng;
use sqlite_es::SqliteEventRepository;

use super::pg_repository::PgRepository;

/// Enough for hundreds of concurrent writers on one account; each retry waits a little longer.
const MAX_ATTEMPTS: u32 = 200;

pub struct AggregateStore<A: Aggregate> {
    backend: Backend<A>,
    /// Commands on one aggregate wait their turn here, within this process, instead of
    /// loading the same state, conflicting at commit and retrying: a hot account's requests
    /// queue rather than spin. Striped (the aggregate id picks one of a fixed set of locks),
    /// so memory stays bounded; two aggregates on one stripe only wait for each other.
    /// Other processes are still met by the conflict check and retry below. Each stripe
    /// keeps the state its last command left, for the next command on that aggregate.
    stripes: Vec<tokio::sync::Mutex<Option<EventStoreAggregateContext<A>>>>,
    /// Whether every commit also writes the aggregate's state row (cqrs-es's "aggregate
    /// store"), which numbers the row's versions.
    writes_state: bool,
    /// Per stripe, the aggregate as `read_settled` last found it. What never changes once
    /// set is read from here without queueing behind the commands that hold the stripe: on a
    /// busy account each such turn in the queue cost a task wake-up.
    settled: Vec<std::sync::Mutex<Option<(String, A)>>>,
}

enum Backend<A: Aggregate> {
    Postgres(PersistedEventStore<PgRepository, A>),
    Sqlite(PersistedEventStore<SqliteEventRepository, A>),
}

const STRIPES: usize = 256;

impl<A: Aggregate> AggregateStore<A> {
    /// `writes_state`: the store was made with `new_aggregate_store`.
    pub fn postgres(store: PersistedEventStore<PgRepository, A>, writes_state: bool) -> Self {
        Self::with_backend(Backend::Postgres(store), writes_state)
    }

    pub fn sqlite(
        store: PersistedEventStore<SqliteEventRepository, A>,
        writes_state: bool,
    ) -> Self {
        Self::with_backend(Backend::Sqlite(store), writes_state)
    }

    fn with_backend(backend: Backend<A>, writes_state: bool) -> Self {
        AggregateStore {
            backend,
            stripes: (0..STRIPES)
                .map(|_| tokio::sync::Mutex::new(None))
                .collect(),
            writes_state,
            settled: (0..STRIPES).map(|_| std::sync::Mutex::new(None)).collect(),
        }
    }

    fn stripe_of(aggregate_id: &str) -> usize {
        use std::hash::{Hash, Hasher};
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        aggregate_id.hash(&mut hasher);
        (hasher.finish() as usize) % STRIPES
    }

    fn stripe(
        &self,
        aggregate_id: &str,
    ) -> &tokio::sync::Mutex<Option<EventStoreAggregateContext<A>>> {
        &self.stripes[Self::stripe_of(aggregate_id)]
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
        self.execute_from(aggregate_id, command, None).await
    }

    /// Executes `command` on an aggregate whose id was just made (a new job's): it has no
    /// events, so nothing is loaded. Were the id taken after all, the commit would conflict
    /// and the command be decided again on the stored state.
    pub async fn execute_new(
        &self,
        aggregate_id: &str,
        command: A::Command,
    ) -> Result<Vec<A::Event>, CommandError<A::Error>> {
        let empty = EventStoreAggregateContext {
            aggregate_id: aggregate_id.to_string(),
            aggregate: A::default(),
            current_sequence: 0,
            current_snapshot: None,
        };
        self.execute_from(aggregate_id, command, Some(empty)).await
    }

    async fn execute_from(
        &self,
        aggregate_id: &str,
        command: A::Command,
        assumed: Option<EventStoreAggregateContext<A>>,
    ) -> Result<Vec<A::Event>, CommandError<A::Error>> {
        let mut kept = self.stripe(aggregate_id).lock().await;
        let mut assumed = assumed;
        for attempt in 0..MAX_ATTEMPTS {
            let (context, fresh) = match assumed.take().or_else(|| kept.take()) {
                Some(context) if context.aggregate_id == aggregate_id => (context, false),
                _ => {
                    let loaded = self
                        .load_context(aggregate_id)
                        .await
                        .map_err(|e| CommandError::Store(Box::new(e)))?;
                    (loaded, true)
                }
            };
            match self.try_execute(context, command.clone()).await {
                // A decision to commit nothing is never checked by the store, so it stands
                // only if made on state just read: a kept state may be behind another
                // process's commits.
                Ok((events, _)) if events.is_empty() && !fresh => continue,
                Err((AggregateError::UserError(_), _)) if !fresh => continue,
                Ok((events, after)) => {
                    *kept = Some(after);
                    return Ok(events);
                }
                Err((AggregateError::UserError(e), refused_on)) => {
                    *kept = refused_on;
                    return Err(CommandError::Rejected(e));
                }
                Err((e, _)) if is_retryable(&e) => {
                    tracing::debug!(attempt, "write conflict, retrying");
                    tokio::time::sleep(backoff(attempt)).await;
                }
                Err((e, _)) => return Err(CommandError::Store(Box::new(e))),
            }
        }
        Err(CommandError::Contention)
    }

    /// Reads what never changes once set, such as an account's plan and default language.
    /// `read` answers `None` while it is not set yet; such an answer is never kept. The
    /// aggregate is taken as this process last saw it, which may be behind another process's
    /// commits: hence only for what, once set, stays.
    pub async fn read_settled<T>(
        &self,
        aggregate_id: &str,
        read: impl Fn(&A) -> Option<T>,
    ) -> Result<Option<T>, CommandError<A::Error>> {
        let stripe = Self::stripe_of(aggregate_id);
        let seen = |slot: &Option<(String, A)>| {
            slot.as_ref()
                .filter(|(id, _)| id == aggregate_id)
                .and_then(|(_, aggregate)| read(aggregate))
        };
        if let Some(value) = seen(
            &self.settled[stripe]
                .lock()
                .unwrap_or_else(|e| e.into_inner()),
        ) {
            return Ok(Some(value));
        }
        let mut kept = self.stripes[stripe].lock().await;
        let kept_value = kept
            .as_ref()
            .filter(|c| c.aggregate_id == aggregate_id)
            .and_then(|c| read(&c.aggregate).map(|value| (value, c.aggregate.clone())));
        // Not set in the kept state, which may be behind another process's commits: loaded.
        let (value, aggregate) = match kept_value {
            Some((value, aggregate)) => (Some(value), aggregate),
            None => {
                let context = self
                    .load_context(aggregate_id)
                    .await
                    .map_err(|e| CommandError::Store(Box::new(e)))?;
                let aggregate = context.aggregate.clone();
                *kept = Some(context);
                (read(&aggregate), aggregate)
            }
        };
        if value.is_some() {
            *self.settled[stripe]
                .lock()
                .unwrap_or_else(|e| e.into_inner()) = Some((aggregate_id.to_string(), aggregate));
        }
        Ok(value)
    }

    /// The aggregate's current state, read from the store (not the state kept for commands,
    /// which another process may have moved on from).
    pub async fn load(&self, aggregate_id: &str) -> Result<A, CommandError<A::Error>> {
        let context = self
            .load_context(aggregate_id)
            .await
            .map_err(|e| CommandError::Store(Box::new(e)))?;
        Ok(context.aggregate)
    }

    async fn load_context(
        &self,
        aggregate_id: &str,
    ) -> Result<EventStoreAggregateContext<A>, AggregateError<A::Error>> {
        match &self.backend {
            Backend::Postgres(s) => s.load_aggregate(aggregate_id).await,
            Backend::Sqlite(s) => s.load_aggregate(aggregate_id).await,
        }
    }

    async fn try_execute(
        &self,
        context: EventStoreAggregateContext<A>,
        command: A::Command,
    ) -> Result<Committed<A>, Failed<A>> {
        match &self.backend {
            Backend::Postgres(s) => run(s, context, command, self.writes_state).await,
            Backend::Sqlite(s) => run(s, context, command, self.writes_state).await,
        }
    }
}

/// The events a command committed and the state after them.
type Committed<A> = (Vec<<A as Aggregate>::Event>, EventStoreAggregateContext<A>);
/// Why a command failed, and, when it was refused, the state it was refused on (still
/// current: nothing was written).
type Failed<A> = (
    AggregateError<<A as Aggregate>::Error>,
    Option<EventStoreAggregateContext<A>>,
);

async fn run<A, ES>(
    store: &ES,
    context: EventStoreAggregateContext<A>,
    command: A::Command,
    writes_state: bool,
) -> Result<Committed<A>, Failed<A>>
where
    A: Aggregate<Services = ()> + Clone,
    ES: EventStore<A, AC = EventStoreAggregateContext<A>>,
{
    // `handle` applies its events to the aggregate it is given (through the sink), and a
    // snapshot store applies them again to the context's aggregate when it writes a snapshot.
    // Deciding on a copy keeps the context as loaded, so each event is applied once.
    let mut deciding = context.aggregate.clone();
    let sink = EventSink::default();
    if let Err(e) = deciding.handle(command, &(), &sink).await {
        return Err((AggregateError::UserError(e), Some(context)));
    }
    let events = sink.collect().await;
    if events.is_empty() {
        return Ok((vec![], context));
    }
    // What a load right after the commit would read.
    let after = EventStoreAggregateContext {
        aggregate_id: context.aggregate_id.clone(),
        aggregate: deciding,
        current_sequence: context.current_sequence + events.len(),
        current_snapshot: if writes_state {
            Some(context.current_snapshot.map_or(1, |n| n + 1))
        } else {
            context.current_snapshot
        },
    };
    match store.commit(events, context, HashMap::new()).await {
        Ok(committed) => Ok((committed.into_iter().map(|e| e.payload).collect(), after)),
        Err(e) => Err((e, None)),
    }
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
