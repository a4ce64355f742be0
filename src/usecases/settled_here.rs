//! The reservations this process's own requests have settled, for the process manager.
//!
//! A sync generation captures its credits itself, then the process manager reacts to the same
//! `JobCompleted` and tries to capture again: refused, but only after a fresh load of the
//! account (a refusal on kept state may be stale), a round trip under the account's lock.
//! See docs/decisions/0010-process-manager-skips-what-this-process-settled.md for what it cost.
//!
//! A reservation recorded here was settled by a commit that succeeded, which nothing undoes,
//! so the process manager may skip it without asking the account. What is not here (another
//! process's request, a crash before the settle) is settled by the process manager as before.
use std::collections::HashSet;
use std::sync::Mutex;

use altframe_domain::ReservationId;

/// Entries per generation. One is left behind when the process manager reached the job's
/// outcome before the request recorded its settle, when another process's manager moved the
/// shared checkpoint past it, or when a release had no job outcome to follow (the job could not
/// be recorded). Two generations bound what such leftovers can hold.
const GENERATION: usize = 4096;

#[derive(Default)]
pub struct SettledHere {
    generations: Mutex<Generations>,
}

#[derive(Default)]
struct Generations {
    current: HashSet<ReservationId>,
    previous: HashSet<ReservationId>,
}

impl SettledHere {
    /// Records that a commit of this process settled `reservation_id`.
    pub fn record(&self, reservation_id: &ReservationId) {
        let mut g = self.lock();
        if g.current.len() >= GENERATION {
            g.previous = std::mem::take(&mut g.current);
        }
        g.current.insert(reservation_id.clone());
    }

    /// Whether `reservation_id` was recorded, forgetting it: each job outcome is reacted to
    /// once, and a reaction read again (the feed is at-least-once) settles as before.
    pub fn take(&self, reservation_id: &ReservationId) -> bool {
        let mut g = self.lock();
        g.current.remove(reservation_id) || g.previous.remove(reservation_id)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Generations> {
        self.generations
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_recorded_reservation_is_taken_once() {
        let settled = SettledHere::default();
        settled.record(&ReservationId::new("res_1"));
        assert!(!settled.take(&ReservationId::new("res_2")));
        assert!(settled.take(&ReservationId::new("res_1")));
        assert!(!settled.take(&ReservationId::new("res_1")));
    }

    #[test]
    fn leftovers_are_forgotten_after_two_generations() {
        let settled = SettledHere::default();
        settled.record(&ReservationId::new("left_behind"));
        for i in 0..GENERATION {
            settled.record(&ReservationId::new(format!("res_{i}")));
        }
        assert!(
            settled.take(&ReservationId::new("left_behind")),
            "kept for one more generation"
        );
        settled.record(&ReservationId::new("left_behind"));
        for i in 0..2 * GENERATION {
            settled.record(&ReservationId::new(format!("res_{i}_again")));
        }
        assert!(!settled.take(&ReservationId::new("left_behind")));
        let held = settled.lock();
        assert!(held.current.len() + held.previous.len() <= 2 * GENERATION);
    }
}
