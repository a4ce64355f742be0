//! Keeps the read models up to date from the event store.
//!
//! The framework's in-process query dispatch is not used: it runs after the commit, outside
//! its transaction, and only for this process's own commits. Instead every projection reads
//! the global order from its checkpoint. Commands wake the projector; a poll covers commits
//! made by other processes and anything a crash interrupted.
use altframe_projections::{checkpoint, Db, Projection, ProjectionError, Round};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{Mutex, Notify};

use crate::store::feed;
use crate::subscriber::Subscriber;

/// Events read per round. Large enough that a rebuild makes few rounds; the process
/// manager and workers wait for the round's commit.
const BATCH: i64 = 5000;

pub struct Projector {
    db: Db,
    running: Mutex<()>,
    wake: Notify,
    /// Notified after events were applied: new queue rows may be waiting for workers.
    pub applied: Arc<Notify>,
}

impl Projector {
    pub fn new(db: Db) -> Arc<Projector> {
        Arc::new(Projector {
            db,
            running: Mutex::new(()),
            wake: Notify::new(),
            applied: Arc::new(Notify::new()),
        })
    }

    /// Drops every read model and rebuilds it from the events. Returns how many events were
    /// applied, summed over projections. Fails if anything is left unapplied at the end.
    pub async fn rebuild(&self) -> Result<usize, ProjectionError> {
        {
            let _one_at_a_time = self.running.lock().await;
            let mut tx = self.db.begin().await?;
            checkpoint::reset_all(&mut tx).await?;
            tx.commit().await?;
        }
        let applied = self.catch_up_fully(Duration::from_secs(60)).await?;
        if self.has_pending().await? {
            return Err(ProjectionError::Incomplete);
        }
        Ok(applied)
    }

    /// One round: in one transaction, locks every projection's checkpoint, reads the events
    /// after the earliest once, decodes each once, and gives every projection the events
    /// beyond its own checkpoint. Returns the events read and the applications made.
    async fn round(&self) -> Result<(usize, usize), ProjectionError> {
        let names = Projection::ALL.map(Projection::name);
        let mut tx = self.db.begin().await?;
        let since = checkpoint::lock_all(&mut tx, &names).await?;
        let from = since
            .iter()
            .min_by_key(|c| c.order())
            .cloned()
            .unwrap_or_else(checkpoint::Checkpoint::start);
        let events = feed::after(&mut tx, &from, BATCH).await?;
        let Some(last) = events.last() else {
            tx.commit().await?;
            return Ok((0, 0));
        };
        let end = last.checkpoint();
        let read = events.len();
        let events = events
            .into_iter()
            .map(|event| event.decode().map(|decoded| (event, decoded)))
            .collect::<Result<Vec<_>, _>>()?;
        let mut round = Round::default();
        round.prefetch(&mut tx, &events).await?;
        let mut applied = 0;
        for (event, decoded) in &events {
            let at = event.checkpoint().order();
            for (projection, since) in Projection::ALL.iter().zip(&since) {
                if at > since.order() {
                    projection
                        .apply(&mut tx, &mut round, event, decoded)
                        .await?;
                    applied += 1;
                }
            }
        }
        round.finish(&mut tx).await?;
        let moved: Vec<&str> = names
            .iter()
            .zip(&since)
            .filter(|(_, since)| end.order() > since.order())
            .map(|(name, _)| *name)
            .collect();
        checkpoint::save_all(&mut tx, &moved, &end).await?;
        tx.commit().await?;
        Ok((read, applied))
    }
}

#[async_trait::async_trait]
impl Subscriber for Projector {
    type Error = ProjectionError;

    fn name(&self) -> &'static str {
        "projector"
    }

    fn wake_signal(&self) -> &Notify {
        &self.wake
    }

    /// Applies every event committed before the call to every read model. Returns how many
    /// events were applied, summed over projections.
    async fn catch_up(&self) -> Result<usize, ProjectionError> {
        let _one_at_a_time = self.running.lock().await;
        let mut applied = 0;
        // A cheap read first: most calls (every history or usage read) find nothing new,
        // and should not take a write lock to learn it.
        while self.has_pending().await? {
            let (read, applications) = self.round().await?;
            applied += applications;
            if (read as i64) < BATCH {
                break;
            }
        }
        if applied > 0 {
            self.applied.notify_waiters();
        }
        Ok(applied)
    }

    async fn has_pending(&self) -> Result<bool, ProjectionError> {
        let earliest =
            checkpoint::earliest(&self.db, &Projection::ALL.map(Projection::name)).await?;
        Ok(feed::has_events_after_checkpoint(&self.db, &earliest).await?)
    }
}
