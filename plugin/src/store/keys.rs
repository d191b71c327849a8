//! Storage keys. This is the only place that builds them.
//!
//! ```text
//! wallet/<name>                       the wallet entry (secrets; seal-wrapped)
//! policy/<name>/<chain>               the signing policy of one chain
//! counters/<name>/<chain>/<scope>     rolling-window spending counters
//! approval/<id>                       a signing request waiting for approvals
//! ```
//!
//! Approval ids are 32 lower-case hex digits (checked at the path boundary).
//!
//! Names follow `[A-Za-z0-9][A-Za-z0-9._-]{0,127}` (checked at the path
//! boundary), so they never contain `/` and `policy/<name>/` cannot collide
//! with another wallet's prefix.

pub const WALLET_PREFIX: &str = "wallet/";
pub const POLICY_PREFIX: &str = "policy/";
pub const COUNTER_PREFIX: &str = "counters/";
pub const APPROVAL_PREFIX: &str = "approval/";

pub fn wallet(name: &str) -> String {
    format!("{WALLET_PREFIX}{name}")
}

/// The folder holding every policy of one wallet.
pub fn policies(name: &str) -> String {
    format!("{POLICY_PREFIX}{name}/")
}

pub fn policy(name: &str, chain: &str) -> String {
    format!("{POLICY_PREFIX}{name}/{chain}")
}

/// The folder holding every counter of one wallet.
pub fn counters(name: &str) -> String {
    format!("{COUNTER_PREFIX}{name}/")
}

/// A counter; `scope` separates windows that must not be summed together
/// (on ethereum the chain id, on bitcoin the network).
pub fn counter(name: &str, chain: &str, scope: &str) -> String {
    format!("{COUNTER_PREFIX}{name}/{chain}/{scope}")
}

pub fn approval(id: &str) -> String {
    format!("{APPROVAL_PREFIX}{id}")
}

/// The lock name of one approval: wallet names never contain `:`, so it
/// cannot be a wallet's lock.
pub fn approval_lock(id: &str) -> String {
    format!("approval:{id}")
}

/// The wallet a storage key belongs to, if it is a wallet entry.
pub fn wallet_name_of(key: &str) -> Option<&str> {
    key.strip_prefix(WALLET_PREFIX).filter(|n| !n.contains('/'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_have_the_documented_layout() {
        assert_eq!(wallet("w"), "wallet/w");
        assert_eq!(policy("w", "ethereum"), "policy/w/ethereum");
        assert_eq!(policies("w"), "policy/w/");
        assert_eq!(counter("w", "ethereum", "1"), "counters/w/ethereum/1");
        assert_eq!(counters("w"), "counters/w/");
        assert_eq!(wallet_name_of("wallet/w"), Some("w"));
        assert_eq!(approval("0f"), "approval/0f");
        assert_eq!(approval_lock("0f"), "approval:0f");
        assert_eq!(wallet_name_of("policy/w/ethereum"), None);
    }
}
