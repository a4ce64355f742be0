//! When to try a webhook again: the Standard Webhooks schedule, over more than 24 hours.
use std::time::Duration;

use rand::Rng;

/// Delay before attempt n+1 after attempt n failed (n from 1).
const DELAYS_SECS: [u64; 9] = [
    5,
    5 * 60,
    30 * 60,
    2 * 3600,
    5 * 3600,
    10 * 3600,
    14 * 3600,
    20 * 3600,
    24 * 3600,
];

/// The delay after failed attempt `attempt`, with ±10% jitter; `None` once the schedule is
/// spent. A receiver's `Retry-After` lengthens a delay, never shortens it.
pub fn next_delay(attempt: u32, retry_after: Option<u64>) -> Option<Duration> {
    let base = *DELAYS_SECS.get(attempt.checked_sub(1)? as usize)?;
    let base = base.max(retry_after.unwrap_or(0).min(24 * 3600));
    let jitter = rand::thread_rng().gen_range(0.9..1.1);
    Some(Duration::from_secs_f64(base as f64 * jitter))
}

/// How many attempts the schedule allows in all.
pub const MAX_ATTEMPTS: u32 = DELAYS_SECS.len() as u32 + 1;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_span_more_than_a_day_then_stop() {
        let total: f64 = (1..MAX_ATTEMPTS)
            .map(|n| next_delay(n, None).unwrap().as_secs_f64())
            .sum();
        assert!(total > 24.0 * 3600.0 * 0.9 * 3.0, "{total}");
        assert!(next_delay(MAX_ATTEMPTS, None).is_none());
        assert!(next_delay(0, None).is_none());
    }

    #[test]
    fn retry_after_lengthens_a_delay() {
        assert!(next_delay(1, Some(600)).unwrap() >= Duration::from_secs(540));
    }
}
