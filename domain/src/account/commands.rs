use chrono::{DateTime, Utc};

use crate::generation::Language;
use crate::plan::Plan;
use crate::Credits;

#[derive(Debug, Clone, PartialEq)]
pub enum AccountCommand {
    OpenAccount {
        name: String,
        plan: Plan,
        language: Language,
        at: DateTime<Utc>,
    },
    /// Holds credits for work about to start. `purpose` names the job or batch it pays for.
    ReserveCredits {
        reservation_id: String,
        purpose: String,
        credits: Credits,
        at: DateTime<Utc>,
    },
    CaptureCredits {
        reservation_id: String,
        at: DateTime<Utc>,
    },
    ReleaseCredits {
        reservation_id: String,
        reason: String,
        at: DateTime<Utc>,
    },
    SetOverage {
        enabled: bool,
        at: DateTime<Utc>,
    },
}
