//! Keeps the read models up to date from the event store.
//!
//! The framework's in-process query dispatch is not used: it runs after the commit, outside
//! its transaction, and only for this process's own commits. Instead every projection reads
//! the global order from its checkpoint. Commands wake the projector; a poll covers commits
//! made by other processes and anything a crash interrupted.
use altframe_projections::{checkpoint, Db, Projection, ProjectionError};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{Mutex, Notify};

use crate::store::feed;
use crate::subscriber::Subscriber;

const BATCH: i64 = 500;

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

    async fn catch_up_one(&self, projection: Projection) -> Result<usize, ProjectionError> {
        let mut applied = 0;
        loop {
            // A cheap read first: most calls (every history or usage read) find nothing new,
            // and should not take a write lock to learn it.
            if !feed::has_events_after(&self.db, projection.name()).await? {
                return Ok(applied);
            }
            let mut tx = self.db.begin().await?;
            let at = checkpoint::lock(&mut tx, projection.name()).await?;
            let events = feed::after(&mut tx, &at, BATCH).await?;
            let Some(last) = events.last() else {
                tx.commit().await?;
                return Ok(applied);
            };
            let next = checkpoint::Checkpoint {
                transaction_id: last.transaction_id.clone(),
                position: last.position,
            };
            for event in &events {
                projection.apply(&mut tx, event).await?;
            }
            checkpoint::save(&mut tx, projection.name(), &next).await?;
            tx.commit().await?;
            applied += events.len();
            if (events.len() as i64) < BATCH {
                return Ok(applied);
            }
        }
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
        for projection in Projection::ALL {
            applied += self.catch_up_one(projection).await?;
        }
        if applied > 0 {
            self.applied.notify_waiters();
        }
        Ok(applied)
    }

    async fn has_pending(&self) -> Result<bool, ProjectionError> {
        for projection in Projection::ALL {
            if feed::has_events_after(&self.db, projection.name()).await? {
                return Ok(true);
            }
        }
        Ok(false)
    }
}
