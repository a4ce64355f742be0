use serde::{Deserialize, Serialize};

use crate::{Credits, Micros};

/// The plans of the pricing page. What a plan includes is fixed here, in one table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Plan {
    Free,
    Starter,
    Pro,
    Business,
}

impl Plan {
    pub const ALL: [Plan; 4] = [Plan::Free, Plan::Starter, Plan::Pro, Plan::Business];

    pub fn parse(s: &str) -> Option<Plan> {
        Plan::ALL.into_iter().find(|p| p.as_str() == s)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Plan::Free => "free",
            Plan::Starter => "starter",
            Plan::Pro => "pro",
            Plan::Business => "business",
        }
    }

    pub fn monthly_allocation(self) -> Credits {
        match self {
            Plan::Free => 50,
            Plan::Starter => 1_000,
            Plan::Pro => 5_000,
            Plan::Business => 25_000,
        }
    }

    /// The price of one credit beyond the balance; `None` when the plan has no overage.
    pub fn overage_rate(self) -> Option<Micros> {
        match self {
            Plan::Free | Plan::Starter => None,
            Plan::Pro => Some(Micros(30_000)),
            Plan::Business => Some(Micros(20_000)),
        }
    }

    pub fn tier(self) -> u8 {
        match self {
            Plan::Free => 0,
            Plan::Starter => 1,
            Plan::Pro => 2,
            Plan::Business => 3,
        }
    }

    /// Paid plans carry unused credits into the next period, capped at one allocation.
    pub fn rolls_over(self) -> bool {
        self != Plan::Free
    }

    /// The cheapest plan of at least `tier`, to name in a 403.
    pub fn lowest_with_tier(tier: u8) -> Plan {
        Plan::ALL
            .into_iter()
            .find(|p| p.tier() >= tier)
            .unwrap_or(Plan::Business)
    }
}

impl std::fmt::Display for Plan {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}
