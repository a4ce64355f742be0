//! Runs commands against one aggregate: load, decide, commit, and on a write conflict (another
//! process committed to the same aggregate first) load again and decide again. A conflict
//! never reaches the client. That is safe because `handle()` has no outside effect.
//!
//! Commands on one aggregate take turns, and those that arrive while a commit is on its way
//! are decided one after the other and committed together as one group: on a busy account
//! each commit waits on the database's disk flush, and a group pays one flush for all of its
//! commands instead of one each.
//!
//! The state a group leaves is kept for the next command on the same aggregate, which then
//! skips the load: a request makes several commands on its account and job. Keeping it is
//! safe for the same reason retrying is: a commit made on a state that another process has
//! since changed is refused by the store (the sequence is taken), and the group is decided
//! again on a fresh load.
//!
//! See docs/decisions/0001-group-commit.md for why and what it measured.
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use cqrs_es::event_sink::EventSink;
use cqrs_es::persist::{EventStoreAggregateContext, PersistedEventStore};
use cqrs_es::{Aggregate, AggregateError, EventStore};
use futures_util::FutureExt;
use rand::Rng;
use sqlite_es::SqliteEventRepository;
use tokio::sync::oneshot;
use tracing::Instrument;

use super::pg_repository::PgRepository;

/// Enough for hundreds of concurrent writers on one account; each retry waits a little longer.
const MAX_ATTEMPTS: u32 = 200;

const STRIPES: usize = 256;

pub struct AggregateStore<A: Aggregate> {
    shared: Arc<Shared<A>>,
}

struct Shared<A: Aggregate> {
    backend: Backend<A>,
    /// Commands on one aggregate wait their turn here, within this process, instead of
    /// loading the same state, conflicting at commit and retrying. Striped (the aggregate id
    /// picks one of a fixed set), so memory stays bounded; two aggregates on one stripe only
    /// wait for each other. Other processes are still met by the conflict check and retry.
    stripes: Vec<Stripe<A>>,
    /// Whether every commit also writes the aggregate's state row (cqrs-es's "aggregate
    /// store"), which numbers the row's versions.
    writes_state: bool,
}

struct Stripe<A: Aggregate> {
    /// The state the last group left; held while a group is decided and committed.
    kept: tokio::sync::Mutex<Option<EventStoreAggregateContext<A>>>,
    /// Commands waiting for the stripe: the next group.
    waiting: std::sync::Mutex<Vec<Waiting<A>>>,
}

type Answer<A> = Result<Vec<<A as Aggregate>::Event>, CommandError<<A as Aggregate>::Error>>;

struct Waiting<A: Aggregate> {
    aggregate_id: String,
    command: A::Command,
    /// The state to decide on instead of loading (a new aggregate's), if any.
    assumed: Option<EventStoreAggregateContext<A>>,
    answer: oneshot::Sender<Answer<A>>,
}

enum Backend<A: Aggregate> {
    Postgres(PersistedEventStore<PgRepository, A>),
    Sqlite(PersistedEventStore<SqliteEventRepository, A>),
}

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
        let stripes = (0..STRIPES)
            .map(|_| Stripe {
                kept: tokio::sync::Mutex::new(None),
                waiting: std::sync::Mutex::new(Vec::new()),
            })
            .collect();
        AggregateStore {
            shared: Arc::new(Shared {
                backend,
                stripes,
                writes_state,
            }),
        }
    }
}

fn stripe_of(aggregate_id: &str) -> usize {
    use std::hash::{Hash, Hasher};
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    aggregate_id.hash(&mut hasher);
    (hasher.finish() as usize) % STRIPES
}

/// A std mutex whose holder cannot fail half way: a poisoned lock is taken as it is.
fn locked<T>(m: &std::sync::Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
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

/// An aggregate's id type: commands on a job take a `JobId`, never an `AccountId`.
pub trait Keyed: Aggregate {
    type Id: AsRef<str> + Sync + ?Sized;
}

impl Keyed for altframe_domain::account::Account {
    type Id = altframe_domain::AccountId;
}

impl Keyed for altframe_domain::api_key::ApiKey {
    type Id = altframe_domain::KeyId;
}

impl Keyed for altframe_domain::job::Job {
    type Id = altframe_domain::JobId;
}

impl Keyed for altframe_domain::batch::Batch {
    type Id = altframe_domain::BatchId;
}

impl<A> AggregateStore<A>
where
    A: Keyed<Services = ()> + Clone + 'static,
    A::Command: Clone + Send + Sync,
    A::Error: Send + Sync + 'static,
{
    /// Executes `command` and returns the events it committed.
    #[tracing::instrument(skip(self, aggregate_id, command), fields(aggregate = A::TYPE, aggregate_id = aggregate_id.as_ref()))]
    pub async fn execute(&self, aggregate_id: &A::Id, command: A::Command) -> Answer<A> {
        self.execute_from(aggregate_id.as_ref(), command, None)
            .await
    }

    /// Executes `command` on an aggregate whose id was just made (a new job's): it has no
    /// events, so nothing is loaded. Were the id taken after all, the commit would conflict
    /// and the command be decided again on the stored state.
    pub async fn execute_new(&self, aggregate_id: &A::Id, command: A::Command) -> Answer<A> {
        let aggregate_id = aggregate_id.as_ref();
        let empty = EventStoreAggregateContext {
            aggregate_id: aggregate_id.to_string(),
            aggregate: A::default(),
            current_sequence: 0,
            current_snapshot: None,
        };
        self.execute_from(aggregate_id, command, Some(empty)).await
    }

    /// On a stripe that is free with nothing queued, runs the command at once. Otherwise queues
    /// it, then has a task of its own take the stripe and commit whatever is queued: this
    /// command, or none if an earlier
    /// task took it along. That task is not the caller's, so a request that goes away cannot
    /// cut short a group that holds other requests' commands.
    async fn execute_from(
        &self,
        aggregate_id: &str,
        command: A::Command,
        assumed: Option<EventStoreAggregateContext<A>>,
    ) -> Answer<A> {
        let stripe = stripe_of(aggregate_id);
        if let Ok(mut kept) = self.shared.stripes[stripe].kept.try_lock() {
            if locked(&self.shared.stripes[stripe].waiting).is_empty() {
                let answers = self
                    .shared
                    .execute_group(&mut kept, aggregate_id, assumed, vec![command])
                    .await;
                return answers.into_iter().next().unwrap_or_else(|| {
                    Err(CommandError::Store("a group of one had no answer".into()))
                });
            }
        }
        let (answer, answered) = oneshot::channel();
        locked(&self.shared.stripes[stripe].waiting).push(Waiting {
            aggregate_id: aggregate_id.to_string(),
            command,
            assumed,
            answer,
        });
        let shared = Arc::clone(&self.shared);
        tokio::spawn(async move { shared.run_waiting(stripe).await }.in_current_span());
        answered.await.unwrap_or_else(|_| {
            Err(CommandError::Store(
                "the command's task ended without an answer".into(),
            ))
        })
    }

    /// The aggregate's current state, read from the store (not the state kept for commands,
    /// which another process may have moved on from).
    pub async fn load(&self, aggregate_id: &A::Id) -> Result<A, CommandError<A::Error>> {
        let context = self
            .shared
            .load_context(aggregate_id.as_ref())
            .await
            .map_err(|e| CommandError::Store(Box::new(e)))?;
        Ok(context.aggregate)
    }
}

impl<A> Shared<A>
where
    A: Aggregate<Services = ()> + Clone + 'static,
    A::Command: Clone + Send + Sync,
    A::Error: Send + Sync + 'static,
{
    /// Takes the stripe, then runs every command waiting on it: those of one aggregate as one
    /// group, in the order they arrived.
    async fn run_waiting(&self, stripe: usize) {
        let mut kept = self.stripes[stripe].kept.lock().await;
        let mut waiting = std::mem::take(&mut *locked(&self.stripes[stripe].waiting));
        while !waiting.is_empty() {
            let aggregate_id = waiting[0].aggregate_id.clone();
            let (group, others): (Vec<_>, Vec<_>) = waiting
                .into_iter()
                .partition(|w| w.aggregate_id == aggregate_id);
            waiting = others;
            let mut assumed = None;
            let mut commands = Vec::with_capacity(group.len());
            let mut answers = Vec::with_capacity(group.len());
            for w in group {
                // Only the first command's: a later one's "new aggregate" does not hold for
                // the commands before it.
                if commands.is_empty() {
                    assumed = w.assumed;
                }
                commands.push(w.command);
                answers.push(w.answer);
            }
            // A panic ends this group only: its callers learn that no answer came, and the
            // groups after it, perhaps of other aggregates, still run.
            let group = self.execute_group(&mut kept, &aggregate_id, assumed, commands);
            let Ok(results) = std::panic::AssertUnwindSafe(group).catch_unwind().await else {
                tracing::error!(
                    aggregate = A::TYPE,
                    aggregate_id,
                    "a command group panicked"
                );
                *kept = None;
                continue;
            };
            for (answer, result) in answers.into_iter().zip(results) {
                // The caller may have gone away; what it asked for is done all the same.
                let _ = answer.send(result);
            }
        }
    }

    /// Decides `commands` in turn, each on the state the ones before it left, and commits
    /// their events together. Answers one result per command.
    async fn execute_group(
        &self,
        kept: &mut Option<EventStoreAggregateContext<A>>,
        aggregate_id: &str,
        mut assumed: Option<EventStoreAggregateContext<A>>,
        commands: Vec<A::Command>,
    ) -> Vec<Answer<A>> {
        let every = |error: &dyn Fn() -> CommandError<A::Error>| -> Vec<Answer<A>> {
            commands.iter().map(|_| Err(error())).collect()
        };
        for attempt in 0..MAX_ATTEMPTS {
            let (context, fresh) = match assumed.take().or_else(|| kept.take()) {
                Some(context) if context.aggregate_id == aggregate_id => (context, false),
                _ => match self.load_context(aggregate_id).await {
                    Ok(loaded) => (loaded, true),
                    Err(e) => return every(&|| store_error(&e)),
                },
            };
            let (decisions, after) = decide(&context.aggregate, &commands).await;
            // A refusal, or a decision to commit nothing, is never checked by the store, so it
            // stands only if made on state just read: a kept state may be behind another
            // process's commits.
            let all_commit = decisions
                .iter()
                .all(|d| matches!(d, Ok(events) if !events.is_empty()));
            if !fresh && !all_commit {
                continue;
            }
            let events: Vec<A::Event> = decisions
                .iter()
                .filter_map(|d| d.as_ref().ok())
                .flatten()
                .cloned()
                .collect();
            if events.is_empty() {
                *kept = Some(context);
                return answers::<A>(decisions);
            }
            match self.commit(events, context, after).await {
                Ok(committed) => {
                    *kept = Some(committed);
                    return answers::<A>(decisions);
                }
                Err(e) if is_retryable(&e) => {
                    tracing::debug!(attempt, "write conflict, retrying");
                    tokio::time::sleep(backoff(attempt)).await;
                }
                Err(e) => return every(&|| store_error(&e)),
            }
        }
        every(&|| CommandError::Contention)
    }

    /// Commits `events` over `context`, and returns the context a load right after would read.
    async fn commit(
        &self,
        events: Vec<A::Event>,
        context: EventStoreAggregateContext<A>,
        after: A,
    ) -> Result<EventStoreAggregateContext<A>, AggregateError<A::Error>> {
        let committed = EventStoreAggregateContext {
            aggregate_id: context.aggregate_id.clone(),
            aggregate: after,
            current_sequence: context.current_sequence + events.len(),
            current_snapshot: if self.writes_state {
                Some(context.current_snapshot.map_or(1, |n| n + 1))
            } else {
                context.current_snapshot
            },
        };
        match &self.backend {
            Backend::Postgres(s) => s.commit(events, context, HashMap::new()).await?,
            Backend::Sqlite(s) => s.commit(events, context, HashMap::new()).await?,
        };
        Ok(committed)
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
}

/// Each command's events (or refusal), decided in turn from `start`, and the state after all
/// of them. In a group, a refused command's state is rolled back for the next command; alone,
/// nothing after it reads that state.
async fn decide<A>(start: &A, commands: &[A::Command]) -> (Vec<Result<Vec<A::Event>, A::Error>>, A)
where
    A: Aggregate<Services = ()> + Clone,
    A::Command: Clone,
{
    // `handle` applies its events to the aggregate it is given (through the sink), and a
    // snapshot store applies them again to the context's aggregate when it writes a snapshot.
    // Deciding on a copy keeps the context as loaded, so each event is applied once.
    let mut deciding = start.clone();
    let mut decisions = Vec::with_capacity(commands.len());
    for command in commands {
        let before = (commands.len() > 1).then(|| deciding.clone());
        let sink = EventSink::default();
        match deciding.handle(command.clone(), &(), &sink).await {
            Ok(()) => decisions.push(Ok(sink.collect().await)),
            Err(e) => {
                if let Some(before) = before {
                    deciding = before;
                }
                decisions.push(Err(e));
            }
        }
    }
    (decisions, deciding)
}

fn answers<A: Aggregate>(decisions: Vec<Result<Vec<A::Event>, A::Error>>) -> Vec<Answer<A>> {
    decisions
        .into_iter()
        .map(|d| d.map_err(CommandError::Rejected))
        .collect()
}

/// One caller's copy of an error that every command of a group shares.
fn store_error<E: std::error::Error, F: std::error::Error>(e: &E) -> CommandError<F> {
    CommandError::Store(e.to_string().into())
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
