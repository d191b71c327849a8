//! Bitcoin rules: sighash types, recipients (as output scripts, whatever
//! network the request names), proven input amounts, fee and fee rate, and
//! the value that leaves the wallet (outputs that are not change, plus the
//! fee).
//!
//! Messages: `allow_message_signing` (default false on bitcoin).
//!
//! Order: `allowed_sighash_types`, `denied_recipients`,
//! `allowed_recipients`, `proven_amounts`, `max_fee`, `max_fee_rate`,
//! `max_value_per_tx`, then `max_value_per_day` (one counter per wallet).

use ruint::aliases::U256;
use wallet_core::bitcoin::{parse_sighash_name, script_from_address, sighash_name};

use super::entry::PolicyEntry;
use super::intent::BtcTransaction;
use super::{Denial, Spend};

/// The one counter scope of a wallet's bitcoin spends: the network a
/// request names does not change the counter.
pub const SCOPE: &str = "all";

const SIGHASH_ALL: u32 = 0x01;
const SIGHASH_DEFAULT: u32 = 0x00;

/// The sighash an input will be signed with, as shown in an intent.
pub fn sighash_label(sighash: Option<u32>, taproot: bool) -> String {
    let v = sighash.unwrap_or(if taproot {
        SIGHASH_DEFAULT
    } else {
        SIGHASH_ALL
    });
    sighash_name(v)
        .map(str::to_string)
        .unwrap_or_else(|| format!("0x{v:x}"))
}

/// The sighash types allowed by a list of names, on top of the defaults
/// (ALL, and DEFAULT on taproot). Unknown names were refused when written.
pub fn allowed_sighashes(names: &[String]) -> Vec<u32> {
    names.iter().filter_map(|n| parse_sighash_name(n)).collect()
}

fn sighash_allowed(sighash: Option<u32>, taproot: bool, extra: &[u32]) -> bool {
    let v = sighash.unwrap_or(if taproot {
        SIGHASH_DEFAULT
    } else {
        SIGHASH_ALL
    });
    v == SIGHASH_ALL || (taproot && v == SIGHASH_DEFAULT) || extra.contains(&v)
}

/// The first input of ours whose sighash type `extra` does not allow.
pub fn refused_sighash(tx: &BtcTransaction, extra: &[u32]) -> Option<(usize, String)> {
    tx.inputs
        .iter()
        .filter(|i| i.ours)
        .find(|i| !sighash_allowed(i.sighash, i.taproot, extra))
        .map(|i| (i.index, sighash_label(i.sighash, i.taproot)))
}

/// Policy recipients as output scripts (entries that do not parse were
/// refused when written; a stored one that no longer parses is skipped for
/// an allow-list, which then refuses, and cannot match a deny-list).
fn scripts(list: &[String]) -> Vec<Vec<u8>> {
    list.iter()
        .filter_map(|a| script_from_address(a).ok().map(|(s, _)| s))
        .collect()
}

/// `sign-message` (BIP-322 or legacy): with a bitcoin policy, refused
/// unless `allow_message_signing` is explicitly true. Bitcoin message
/// signing arrived with this rule, so, unlike ethereum and solana (where
/// message signing predates policies), its default is false.
pub fn message(p: &PolicyEntry) -> Result<Vec<Spend>, Denial> {
    if p.allow_message_signing != Some(true) {
        return Err(Denial::new(
            "allow_message_signing",
            "this wallet's bitcoin policy does not allow message signing (the default for \
             bitcoin is false; set allow_message_signing=true)",
        ));
    }
    Ok(Vec::new())
}

pub fn transaction(p: &PolicyEntry, tx: &BtcTransaction) -> Result<Vec<Spend>, Denial> {
    let extra = allowed_sighashes(&p.allowed_sighash_types);
    if let Some((input, name)) = refused_sighash(tx, &extra) {
        return Err(Denial::new(
            "allowed_sighash_types",
            format!(
                "input {input} asks for sighash {name}, which signs less than the whole \
                 transaction; the policy allows ALL (DEFAULT on taproot){}",
                if p.allowed_sighash_types.is_empty() {
                    String::new()
                } else {
                    format!(" and {}", p.allowed_sighash_types.join(", "))
                }
            ),
        ));
    }
    let recipients = || tx.outputs.iter().filter(|o| !o.is_change);
    let name = |o: &super::intent::BtcOutput| {
        o.address
            .clone()
            .unwrap_or_else(|| format!("script:{}", hex::encode(&o.script_pubkey)))
    };
    if !p.denied_recipients.is_empty() {
        let denied = scripts(&p.denied_recipients);
        if let Some(o) = recipients().find(|o| denied.contains(&o.script_pubkey)) {
            return Err(Denial::new(
                "denied_recipients",
                format!("output {} to {} is denied", o.index, name(o)),
            ));
        }
    }
    if !p.allowed_recipients.is_empty() {
        let allowed = scripts(&p.allowed_recipients);
        if let Some(o) = recipients().find(|o| !allowed.contains(&o.script_pubkey)) {
            return Err(Denial::new(
                "allowed_recipients",
                format!("output {} to {} is not allowed", o.index, name(o)),
            ));
        }
    }
    let limited = p.has_amount_limit();
    if limited && !tx.amounts_proven {
        return Err(Denial::new(
            "proven_amounts",
            "the amount of every input must be proven when the policy limits value or fees: \
             give each segwit v0 and legacy input its full previous transaction \
             (non_witness_utxo), or sign a taproot input without ANYONECANPAY \
             (a witness UTXO alone can lie about the amount: CVE-2020-14199)",
        ));
    }
    let fee = match (tx.fee, limited) {
        (Some(f), _) => U256::from(f),
        (None, false) => U256::ZERO,
        (None, true) => {
            return Err(Denial::new(
                "proven_amounts",
                "the fee is unknown: an input has no amount",
            ));
        }
    };
    if let Some(max) = p.max_fee
        && fee > max
    {
        return Err(Denial::new(
            "max_fee",
            format!("a fee of {fee} sats exceeds the limit of {max}"),
        ));
    }
    if let Some(max_msat) = p.max_fee_rate_msat_vb {
        let vsize = U256::from(tx.estimated_vsize.max(1));
        // fee / vsize > max_msat / 1000  ⇔  fee × 1000 > max_msat × vsize
        if fee.saturating_mul(U256::from(1000u32)) > U256::from(max_msat).saturating_mul(vsize) {
            return Err(Denial::new(
                "max_fee_rate",
                format!(
                    "a fee of {fee} sats for about {} vbytes is above the limit of {} sat/vB",
                    tx.estimated_vsize,
                    super::entry::fee_rate_text(max_msat)
                ),
            ));
        }
    }
    let spent = tx.recipients_total().saturating_add(fee);
    if let Some(max) = p.max_value_per_tx
        && spent > max
    {
        return Err(Denial::new(
            "max_value_per_tx",
            format!(
                "{spent} sats leave the wallet (outputs that are not change, plus the fee), \
                 above the limit of {max} per transaction"
            ),
        ));
    }
    Ok(p.max_value_per_day
        .map(|day| Spend {
            scope: SCOPE.to_string(),
            asset: "bitcoin".to_string(),
            amount: spent,
            daily_limit: day,
            rule: "max_value_per_day",
        })
        .into_iter()
        .collect())
}
