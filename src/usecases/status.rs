//! How the service stands: whether it can serve (GET /readyz), and the figures of the shared
//! store that GET /metrics reports.
use altframe_projections::{batches, usage, Projection};

use super::{App, Failure};
use crate::adapters::metrics::StoreFigures;
use crate::adapters::store::feed;

pub use crate::adapters::store::NotReady;

/// Whether the database answers and every migration this build knows is applied.
pub async fn readiness(app: &App) -> Result<(), NotReady> {
    app.store.readiness().await
}

/// Reads the store's figures for one scrape.
pub async fn store_figures(app: &App) -> Result<StoreFigures, Failure> {
    let db = &app.store.db;
    let credits = usage::credit_totals(db).await?;
    let queue_depths = app.queue.depths(app.clock.now()).await?;
    let (webhooks_delivered, webhooks_failed) = batches::webhook_attempt_counts(db).await?;
    let mut subscriber_lags = Vec::new();
    let subscribers = Projection::ALL
        .iter()
        .map(|p| p.name())
        .chain([super::settlement::CHECKPOINT]);
    for name in subscribers {
        subscriber_lags.push((name, feed::count_events_after(db, name).await?));
    }
    Ok(StoreFigures {
        credits,
        queue_depths,
        webhooks_delivered,
        webhooks_failed,
        subscriber_lags,
    })
}
