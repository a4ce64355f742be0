//! An account: its plan, its billing period and its credit ledger.
//!
//! Every credit moves through a reservation: reserved before the model is called, then
//! captured when the job completes or released when it fails. A reservation is settled once.
mod aggregate;
mod commands;
mod events;
#[cfg(test)]
mod tests;

pub use aggregate::{Account, Reservation};
pub use commands::{AccountCommand, ReservationRequest};
pub use events::AccountEvent;

use crate::ids::ReservationId;
use crate::plan::Plan;
use crate::Credits;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AccountError {
    #[error("account already exists")]
    AlreadyOpened,
    #[error("account does not exist")]
    NotOpened,
    #[error("insufficient credits: {needed} needed, {remaining} remaining")]
    InsufficientCredits { needed: Credits, remaining: Credits },
    #[error("a reservation must be for at least one credit")]
    EmptyReservation,
    #[error("reservation {0} already exists")]
    DuplicateReservation(ReservationId),
    #[error("reservation {0} is not open")]
    ReservationNotOpen(ReservationId),
    #[error("the {0} plan has no overage billing")]
    NoOverageOnPlan(Plan),
    #[error("the account is already on the {0} plan")]
    AlreadyOnPlan(Plan),
    #[error("reservation {reservation_id} holds {reserved} credits; {unused} cannot go unused")]
    UnusedExceedsReservation {
        reservation_id: ReservationId,
        reserved: Credits,
        unused: Credits,
    },
}
