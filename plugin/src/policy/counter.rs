//! Rolling 24-hour spending counters (`counters/<name>/<chain>/<scope>`).

use ruint::aliases::U256;
use serde::{Deserialize, Serialize};

use super::entry::u256_dec;
use crate::store::Versioned;

/// The length of the rolling window of `max_value_per_day`.
pub const WINDOW_SECS: u64 = 24 * 60 * 60;

/// Spends within one slot of this many seconds share one counter record,
/// which bounds a counter to `WINDOW_SECS / SLOT_SECS + 1` records however
/// many small spends there are. A record expires 24 hours after the
/// *latest* spend it holds, so the window is never shorter than 24 hours
/// for any spend, and at most one slot longer.
pub const SLOT_SECS: u64 = 5 * 60;

/// The spending counter of one wallet, chain and scope
/// (`counters/<name>/<chain>/<scope>`). Version 1.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CounterEntry {
    pub version: u32,
    /// Oldest first; at most one record per [`SLOT_SECS`] slot.
    #[serde(default)]
    pub spends: Vec<SpendRecord>,
}

/// The spends of one slot: their total and the time of the latest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SpendRecord {
    /// Unix seconds of the latest spend in this record.
    pub time: u64,
    #[serde(with = "u256_dec")]
    pub amount: U256,
}

impl Versioned for CounterEntry {
    const KIND: &'static str = "counter";
    const VERSION: u32 = 1;
    fn version(&self) -> u32 {
        self.version
    }
}

impl CounterEntry {
    pub fn new() -> Self {
        Self {
            version: Self::VERSION,
            spends: Vec::new(),
        }
    }

    /// Drops the records whose latest spend is 24 hours old or more.
    pub fn prune(&mut self, now: u64) {
        self.spends
            .retain(|s| s.time.saturating_add(WINDOW_SECS) > now);
    }

    /// The total of the records still in the window at `now`.
    pub fn spent(&self, now: u64) -> U256 {
        self.spends
            .iter()
            .filter(|s| s.time.saturating_add(WINDOW_SECS) > now)
            .fold(U256::ZERO, |acc, s| acc.saturating_add(s.amount))
    }

    /// Records a spend at `now`, merging it into the latest record when
    /// both fall in the same slot. A clock that went backwards (fail-over
    /// to a node whose clock is behind) merges too, keeping the later time:
    /// a record never expires earlier than any spend it holds.
    pub fn record(&mut self, now: u64, amount: U256) {
        if let Some(last) = self.spends.last_mut()
            && (last.time / SLOT_SECS >= now / SLOT_SECS)
        {
            last.time = last.time.max(now);
            last.amount = last.amount.saturating_add(amount);
            return;
        }
        self.spends.push(SpendRecord { time: now, amount });
    }
}
