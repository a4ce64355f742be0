//! How much memory decoding may take at once, across the process.
//!
//! A full-size decode is the largest allocation of all (a 4000×3000 JPEG is 36 MB of RGB, then
//! 48 MB of RGBA), and the bulk workers run several items at once: without a bound, eight
//! large images decoding together take most of a gigabyte. Decoding is CPU-bound, so waiting
//! for room costs no throughput once the cores are busy.
use std::sync::Arc;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

const MIB: u64 = 1024 * 1024;

/// What a decode may hold at its peak, per pixel of the full-size image: the decoder's output
/// (RGB, 3 bytes) while it is converted to RGBA (4 bytes), rounded up.
const BYTES_PER_PIXEL: u64 = 8;

#[derive(Debug, Clone)]
pub struct DecodeBudget {
    permits: Arc<Semaphore>,
    /// The whole budget, in MiB (one permit each).
    total: u32,
}

/// Room held for one decode; given back when dropped.
#[derive(Debug)]
pub struct DecodeRoom {
    _permit: OwnedSemaphorePermit,
}

impl DecodeBudget {
    pub fn new(bytes: u64) -> DecodeBudget {
        let total = u32::try_from(bytes / MIB).unwrap_or(u32::MAX).max(1);
        DecodeBudget {
            permits: Arc::new(Semaphore::new(total as usize)),
            total,
        }
    }

    /// Waits until decoding an image of this size fits in the budget. An image larger than the
    /// whole budget waits for all of it, and then decodes alone.
    pub async fn reserve(&self, width: u32, height: u32) -> DecodeRoom {
        let permits = Self::permits(width, height).min(self.total);
        let permit = Arc::clone(&self.permits)
            .acquire_many_owned(permits)
            .await
            .expect("the decode budget's semaphore is never closed");
        DecodeRoom { _permit: permit }
    }

    fn permits(width: u32, height: u32) -> u32 {
        let bytes = u64::from(width) * u64::from(height) * BYTES_PER_PIXEL;
        u32::try_from(bytes.div_ceil(MIB))
            .unwrap_or(u32::MAX)
            .max(1)
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn a_decode_costs_its_full_size_pixels() {
        assert_eq!(DecodeBudget::permits(1, 1), 1);
        assert_eq!(DecodeBudget::permits(4000, 3000), 92);
    }

    #[tokio::test]
    async fn decodes_wait_for_room_and_an_oversized_one_runs_alone() {
        let budget = DecodeBudget::new(200 * MIB);
        let first = budget.reserve(4000, 3000).await;
        let second = budget.reserve(4000, 3000).await;
        let third = tokio::time::timeout(Duration::from_millis(50), budget.reserve(4000, 3000));
        assert!(third.await.is_err(), "a third large decode must wait");
        drop(first);
        let third = budget.reserve(4000, 3000).await;
        drop((second, third));
        let huge = budget.reserve(20_000, 20_000).await;
        let tiny = tokio::time::timeout(Duration::from_millis(50), budget.reserve(1, 1));
        assert!(
            tiny.await.is_err(),
            "an image over the budget takes all of it"
        );
        drop(huge);
        budget.reserve(1, 1).await;
    }
}
