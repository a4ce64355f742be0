//! Keeps the read models up to date from the event store.
//!
//! The framework's in-process query dispatch is not used: it runs after the commit, outside
//! its transaction, and only for this process's own commits. Instead every projection reads
//! the global order from its checkpoint. Bulk work wakes the projector, since its queues are
//! read models; reads catch up before they answer; a poll every second covers the rest (sync
//! generations, commits made by other processes, anything a crash interrupted).
//! See docs/decisions/0009-sync-generations-do-not-wake-subscribers.md.
use altframe_projections::{
    checkpoint, indexes, Db, DecodedEvent, Projection, ProjectionError, Round, StoredEvent, Tx,
};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{mpsc, Mutex, Notify};

use crate::adapters::store::feed;
use crate::adapters::subscriber::Subscriber;

/// Events read per round. Large enough that a rebuild makes few rounds; the process
/// manager and workers wait for the round's commit.
const BATCH: i64 = 5000;

pub struct Projector {
    db: Db,
    running: Mutex<()>,
    /// Asks the background loop to catch up now.
    wake: Arc<Notify>,
    /// Notified after batch events were applied: the work queues changed, and new rows may be
    /// waiting for workers. (Rounds of synchronous requests alone leave them as they were.)
    queues_changed: Arc<Notify>,
}

impl Projector {
    pub fn new(db: Db) -> Arc<Projector> {
        Arc::new(Projector {
            db,
            running: Mutex::new(()),
            wake: Arc::new(Notify::new()),
            queues_changed: Arc::new(Notify::new()),
        })
    }

    /// Asks the background loop to catch up now, rather than at its next poll.
    pub fn wake(&self) {
        self.wake.notify_one();
    }

    /// What [`Projector::wake`] notifies, for the background loop to wait on.
    pub fn wake_signal(&self) -> Arc<Notify> {
        Arc::clone(&self.wake)
    }

    /// Notified when applied events changed the work queues (new bulk items or webhooks).
    pub fn queues_changed(&self) -> Arc<Notify> {
        Arc::clone(&self.queues_changed)
    }

    /// Empties every read model and applies every event again, in one transaction: nobody sees
    /// a half-built read model (on SQLite reads see the old ones; on Postgres the emptying
    /// makes them wait for the commit), and a rebuild that fails changes nothing. Returns how many events were applied, summed over projections. Fails if
    /// anything is left unapplied at the end.
    pub async fn rebuild(&self) -> Result<usize, ProjectionError> {
        let replayed = {
            let _one_at_a_time = self.running.lock().await;
            let mut tx = self.db.begin().await?;
            checkpoint::reset_all(&mut tx).await?;
            let set_aside = indexes::set_aside(&mut tx, &Projection::all_tables()).await?;
            let replayed = self.replay(&mut tx).await?;
            indexes::restore(&mut tx, &set_aside).await?;
            tx.commit().await?;
            replayed
        };
        // Events committed while the rebuild ran.
        let later = self.catch_up_fully(Duration::from_secs(60)).await?;
        if self.has_pending().await? {
            return Err(ProjectionError::Incomplete);
        }
        Ok(replayed + later)
    }

    /// Applies every event to emptied read models in `tx`. The events are read and decoded
    /// ahead, on a connection of their own, while the previous batch is written.
    async fn replay(&self, tx: &mut Tx) -> Result<usize, ProjectionError> {
        let names = Projection::ALL.map(Projection::name);
        let start = checkpoint::lock_all(tx, &names).await?;
        let (sender, mut batches) = mpsc::channel(2);
        let reader = tokio::spawn(read_ahead(self.db.clone(), sender));
        let mut applied = 0;
        let mut end = None;
        while let Some(decoding) = batches.recv().await {
            let events = decoded(decoding).await?;
            applied += apply(tx, &start, &events).await?;
            end = events.last().map(|(event, _)| event.checkpoint());
        }
        // The reader has finished: it dropped its sender. Had it panicked, the batches would
        // have ended early; the panic is passed on rather than the rebuild committed.
        if let Err(e) = reader.await {
            if e.is_panic() {
                std::panic::resume_unwind(e.into_panic());
            }
        }
        if let Some(end) = end {
            checkpoint::save_all(tx, &names, &end).await?;
        }
        Ok(applied)
    }

    /// One round: in one transaction, locks every projection's checkpoint, reads the events
    /// after the earliest once, decodes each once, and gives every projection the events
    /// beyond its own checkpoint. Returns the events read, the applications made, and
    /// whether a batch event was among them.
    async fn round(&self) -> Result<(usize, usize, bool), ProjectionError> {
        let names = Projection::ALL.map(Projection::name);
        let mut tx = self.db.begin().await?;
        let since = checkpoint::lock_all(&mut tx, &names).await?;
        let from = since
            .iter()
            .min_by_key(|c| c.order())
            .cloned()
            .unwrap_or_else(checkpoint::Checkpoint::start);
        let events = decode_all(feed::after(&mut tx, &from, BATCH).await?)?;
        let Some((last, _)) = events.last() else {
            tx.commit().await?;
            return Ok((0, 0, false));
        };
        let end = last.checkpoint();
        let applied = apply(&mut tx, &since, &events).await?;
        let moved: Vec<&str> = names
            .iter()
            .zip(&since)
            .filter(|(_, since)| end.order() > since.order())
            .map(|(name, _)| *name)
            .collect();
        checkpoint::save_all(&mut tx, &moved, &end).await?;
        tx.commit().await?;
        let batches = events
            .iter()
            .any(|(_, decoded)| matches!(decoded, DecodedEvent::Batch(_)));
        Ok((events.len(), applied, batches))
    }
}

type Batch = Vec<(StoredEvent, DecodedEvent)>;

fn decode_all(events: Vec<StoredEvent>) -> Result<Batch, ProjectionError> {
    // Collected by hand: collecting the iterator reuses the events' buffer, too small for the
    // pairs, and grows it in steps, copying every pair each time.
    let mut batch = Vec::with_capacity(events.len());
    for event in events {
        let decoded = event.decode()?;
        batch.push((event, decoded));
    }
    Ok(batch)
}

/// Gives every projection the events beyond its checkpoint in `since` (one per projection,
/// in `Projection::ALL` order). Returns the applications made.
async fn apply(
    tx: &mut Tx,
    since: &[checkpoint::Checkpoint],
    events: &Batch,
) -> Result<usize, ProjectionError> {
    let mut round = Round::default();
    round.prefetch(tx, events).await?;
    let since: Vec<_> = since.iter().map(checkpoint::Checkpoint::order).collect();
    let mut applied = 0;
    for (event, decoded) in events {
        let at = event.order();
        for (projection, since) in Projection::ALL.iter().zip(&since) {
            if at > *since {
                projection.apply(tx, &mut round, event, decoded).await?;
                applied += 1;
            }
        }
    }
    round.finish(tx).await?;
    Ok(applied)
}

/// A batch being decoded on a blocking thread.
type Decoding = tokio::task::JoinHandle<Result<Batch, ProjectionError>>;

/// Reads every event in global order, a batch at a time, each in a short transaction of its
/// own, and sends each batch on as it is being decoded: parsing the JSON of a batch takes
/// about as long as reading it, and the next read need not wait for it. Stops after the last
/// batch, on an error (sent on), or when the receiver is gone.
/// Why, with measurements: docs/decisions/0011-rebuild-in-one-transaction-reading-ahead.md.
async fn read_ahead(db: Db, batches: mpsc::Sender<Decoding>) {
    let mut from = checkpoint::Checkpoint::start();
    loop {
        let read = async {
            let mut tx = db.begin().await?;
            let events = feed::after(&mut tx, &from, BATCH).await?;
            tx.rollback().await?;
            Ok::<_, ProjectionError>(events)
        }
        .await;
        let more = match &read {
            Ok(events) => match events.last() {
                Some(last) => {
                    from = last.checkpoint();
                    events.len() as i64 == BATCH
                }
                None => return,
            },
            Err(_) => false,
        };
        let decoding = tokio::task::spawn_blocking(move || read.and_then(decode_all));
        if batches.send(decoding).await.is_err() || !more {
            return;
        }
    }
}

/// The decoded batch; a panic while decoding is passed on.
async fn decoded(decoding: Decoding) -> Result<Batch, ProjectionError> {
    match decoding.await {
        Ok(batch) => batch,
        Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
        Err(_) => Err(ProjectionError::Database(sqlx::Error::WorkerCrashed)),
    }
}

#[async_trait::async_trait]
impl Subscriber for Projector {
    type Error = ProjectionError;

    /// Applies every event committed before the call to every read model. Returns how many
    /// events were applied, summed over projections.
    async fn catch_up(&self) -> Result<usize, ProjectionError> {
        let _one_at_a_time = self.running.lock().await;
        let (mut applied, mut queues_changed) = (0, false);
        // A cheap read first: most calls (every history or usage read) find nothing new,
        // and should not take a write lock to learn it.
        while self.has_pending().await? {
            let (read, applications, batches) = self.round().await?;
            applied += applications;
            queues_changed |= batches;
            if (read as i64) < BATCH {
                break;
            }
        }
        if queues_changed {
            self.queues_changed.notify_waiters();
        }
        Ok(applied)
    }

    async fn has_pending(&self) -> Result<bool, ProjectionError> {
        let earliest =
            checkpoint::earliest(&self.db, &Projection::ALL.map(Projection::name)).await?;
        Ok(feed::has_events_after_checkpoint(&self.db, &earliest).await?)
    }
}
