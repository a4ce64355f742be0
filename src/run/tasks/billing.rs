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
        Ok(match billing::start_due_periods(&self.app).await? {
            n if n >= billing::ROUND => Round::Busy,
            _ => Round::Idle,
        })
    }
}
