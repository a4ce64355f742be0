use serde::{Deserialize, Serialize};

/// An amount of US dollars in millionths. Money is never a float inside the system; it becomes
/// one only at the HTTP edge, where the contract prints dollars.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Micros(pub i64);

impl Micros {
    pub const ZERO: Micros = Micros(0);

    pub fn as_dollars(self) -> f64 {
        self.0 as f64 / 1_000_000.0
    }

    pub fn times(self, n: u32) -> Micros {
        Micros(self.0.saturating_mul(i64::from(n)))
    }
}
