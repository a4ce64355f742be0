use chrono::{DateTime, Utc};

use crate::credits::Charge;
use crate::generation::Language;
use crate::ids::ReservationId;
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
        reservation_id: ReservationId,
        purpose: String,
        credits: Credits,
        at: DateTime<Utc>,
    },
    /// Charges a reservation: all of it, less `charge.unused` (languages not delivered),
    /// which goes back first.
    CaptureCredits {
        reservation_id: ReservationId,
        charge: Charge,
        at: DateTime<Utc>,
    },
    ReleaseCredits {
        reservation_id: ReservationId,
        reason: String,
        at: DateTime<Utc>,
    },
    SetOverage {
        enabled: bool,
        at: DateTime<Utc>,
    },
    /// Holds credits for every item of a batch at once: all are reserved or none.
    ReserveBatchCredits {
        reservations: Vec<ReservationRequest>,
        at: DateTime<Utc>,
    },
    /// Adds credits to an open reservation (a batch URL turned out to be an advanced format).
    IncreaseReservation {
        reservation_id: ReservationId,
        credits: Credits,
        at: DateTime<Utc>,
    },
    /// Starts any billing period that has begun, so that a read shows the current one.
    /// Emits nothing when the period is current.
    StartDuePeriods {
        at: DateTime<Utc>,
    },
    /// Moves the account to another plan: an upgrade at once, a downgrade when the next period
    /// starts. Naming the current plan cancels a downgrade still to come.
    ChangePlan {
        plan: Plan,
        at: DateTime<Utc>,
    },
    /// The language a request without one is written in.
    SetLanguage {
        language: Language,
        at: DateTime<Utc>,
    },
    /// Sets the secret that signs this account's webhooks (`whsec_...`).
    RotateWebhookSecret {
        secret: String,
        at: DateTime<Utc>,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReservationRequest {
    pub reservation_id: ReservationId,
    pub purpose: String,
    pub credits: Credits,
}
