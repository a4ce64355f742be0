//! Starts the billing periods of accounts that saw no command since theirs ended (see
//! `usecases::billing`).
use std::time::Duration;

use super::{Round, Task, TaskError};
use crate::usecases::{billing, App};

pub struct BillingPeriods {
    app: App,
    every: Duration,
}

impl BillingPeriods {
    pub fn new(app: App, every: Duration) -> BillingPeriods {
        BillingPeriods { app, every }
    }
}

#[async_trait::async_trait]
impl Task for BillingPeriods {
    fn name(&self) -> &'static str {
        "billing_periods"
    }

    fn poll(&self) -> Duration {
        self.every
    }

    async fn round(&self) -> Result<Round, TaskError> {
        let done = billing::start_due_periods(&self.app).await?;
        // A full round that moved accounts on may have left more behind it.
        Ok(if done.due >= billing::ROUND && done.started > 0 {
            Round::Busy
        } else {
            Round::Idle
        })
    }
}
