//! Solana rules: messages, programs, recipients (system transfers, and
//! token destinations matched directly or through the associated token
//! account of a listed owner), the priority fee, lamport and token limits.
//!
//! Order: `allow_message_signing`, `instructions` (malformed data of a
//! known program), `allowed_programs`, `token_limits`
//! (a token instruction without a mint, or of an unlisted mint),
//! `denied_recipients`, `allowed_recipients`, `max_priority_fee`,
//! `max_value_per_tx`, `token_limits` amounts, then the daily limits.
//!
//! Every lamport and token movement of the transaction counts and every
//! destination is checked, whoever's account it leaves: the engine cannot
//! always tell which accounts the key controls (an account derived from it
//! with a seed, an SPL multisig it belongs to, a delegation), so it does not
//! try. A transaction other parties also sign is judged whole.

use ruint::aliases::U256;
use wallet_core::Ed25519PublicKey;
use wallet_core::solana::{AccountRef, TokenMovement, associated_token_address};
use wallet_core::solana::{address, parse_address};

use super::entry::PolicyEntry;
use super::intent::SolTransaction;
use super::{Denial, Spend, token_limit};

pub const NATIVE_SCOPE: &str = "sol";

/// The program id behind a known program's name in the decoder's intent.
fn known_program_id(name: &str) -> Option<Ed25519PublicKey> {
    use wallet_core::solana::{
        ASSOCIATED_TOKEN_PROGRAM, COMPUTE_BUDGET_PROGRAM, MEMO_V2_PROGRAM, SYSTEM_PROGRAM,
        TOKEN_2022_PROGRAM, TOKEN_PROGRAM,
    };
    Some(match name {
        "system" => SYSTEM_PROGRAM,
        "spl-token" => TOKEN_PROGRAM,
        "spl-token-2022" => TOKEN_2022_PROGRAM,
        "associated-token-account" => ASSOCIATED_TOKEN_PROGRAM,
        "compute-budget" => COMPUTE_BUDGET_PROGRAM,
        "memo" => MEMO_V2_PROGRAM,
        _ => return None,
    })
}

fn mint_scope(mint: &Ed25519PublicKey) -> String {
    format!("spl-{}", address(mint))
}

pub fn message(p: &PolicyEntry) -> Result<Vec<Spend>, Denial> {
    if !p.allows_message_signing() {
        return Err(Denial::new(
            "allow_message_signing",
            "this wallet's solana policy does not allow message signing",
        ));
    }
    Ok(Vec::new())
}

fn keys(list: &[String]) -> Vec<Ed25519PublicKey> {
    list.iter().filter_map(|a| parse_address(a).ok()).collect()
}

/// Whether `who` is listed, directly or as the associated token account of
/// a listed owner for `mint` (token destinations).
fn listed(
    who: &Ed25519PublicKey,
    list: &[Ed25519PublicKey],
    token: Option<(&Ed25519PublicKey, &TokenMovement)>,
) -> bool {
    if list.contains(who) {
        return true;
    }
    let Some((mint, m)) = token else {
        return false;
    };
    list.iter()
        .any(|owner| associated_token_address(owner, mint, m.program) == *who)
}

fn resolved<'a>(
    a: &'a AccountRef,
    what: &str,
    rule: &'static str,
) -> Result<&'a Ed25519PublicKey, Denial> {
    match a {
        AccountRef::Key(k) => Ok(k),
        AccountRef::Lookup { index } => Err(Denial::new(
            rule,
            format!(
                "the {what} is loaded from an address lookup table (#{index}) and cannot be \
                 checked offline; put it in the message's static accounts"
            ),
        )),
    }
}

pub fn transaction(p: &PolicyEntry, tx: &SolTransaction) -> Result<Vec<Spend>, Denial> {
    let d = match &tx.decoded {
        Ok(d) => d,
        Err(e) => return Err(Denial::new("instructions", e.clone())),
    };
    let extra_programs = keys(&p.allowed_programs);
    if let Some((i, program)) = d
        .unknown_program_instructions
        .iter()
        .find(|(_, prog)| !extra_programs.contains(prog))
    {
        return Err(Denial::new(
            "allowed_programs",
            format!(
                "instruction {i} calls program {}, which is not in allowed_programs",
                address(program)
            ),
        ));
    }
    // An instruction of a known program that the engine does not decode is
    // refused. Those of System, Token and Token-2022 (Assign, SetAuthority,
    // CloseAccount of wrapped SOL, Batch, UnwrapLamports, ...) can hand over
    // or move value, so nothing unlocks them; those of the other known
    // programs are allowed when the operator lists the program.
    if let Some((i, program, name)) = d.undecoded_instructions.iter().find(|(_, program, _)| {
        let value_moving = matches!(*program, "system" | "spl-token" | "spl-token-2022");
        value_moving || !known_program_id(program).is_some_and(|id| extra_programs.contains(&id))
    }) {
        return Err(Denial::new(
            "allowed_programs",
            format!(
                "instruction {i} ({program} {name}) has an effect this policy cannot evaluate \
                 (System and Token instructions the engine does not decode can move or hand \
                 over value and are always refused with a policy)"
            ),
        ));
    }
    let denied = keys(&p.denied_recipients);
    let allowed = keys(&p.allowed_recipients);
    let check = |who: &AccountRef,
                 role: &str,
                 token: Option<(&Ed25519PublicKey, &TokenMovement)>|
     -> Result<(), Denial> {
        if denied.is_empty() && allowed.is_empty() {
            return Ok(());
        }
        let k = resolved(who, role, "allowed_recipients")?;
        if listed(k, &denied, token) {
            return Err(Denial::new(
                "denied_recipients",
                format!("{role} {} is denied", address(k)),
            ));
        }
        if !allowed.is_empty() && !listed(k, &allowed, token) {
            return Err(Denial::new(
                "allowed_recipients",
                format!("{role} {} is not allowed", address(k)),
            ));
        }
        Ok(())
    };

    // Every lamport movement.
    let mut lamports = U256::ZERO;
    for t in &d.lamport_transfers {
        check(&t.to, "recipient", None)?;
        lamports = lamports.saturating_add(U256::from(t.lamports));
    }
    // Every token movement.
    let mut per_mint: Vec<(Ed25519PublicKey, U256)> = Vec::new();
    for m in &d.token_movements {
        let Some(mint) = &m.mint else {
            return Err(Denial::new(
                "token_limits",
                format!(
                    "instruction {} is an SPL token {} that names no mint; sign the checked \
                     form (TransferChecked / ApproveChecked)",
                    m.instruction,
                    if matches!(
                        m.kind,
                        wallet_core::solana::TokenKind::Approve
                            | wallet_core::solana::TokenKind::ApproveChecked
                    ) {
                        "approval"
                    } else {
                        "transfer"
                    }
                ),
            ));
        };
        let mint = *resolved(mint, "mint", "token_limits")?;
        if !p.token_limits.contains_key(&address(&mint)) {
            return Err(Denial::new(
                "token_limits",
                format!(
                    "instruction {} moves mint {}, which is not in token_limits",
                    m.instruction,
                    address(&mint)
                ),
            ));
        }
        check(&m.counterparty, "token destination", Some((&mint, m)))?;
        match per_mint.iter_mut().find(|(k, _)| *k == mint) {
            Some((_, sum)) => *sum = sum.saturating_add(U256::from(m.amount)),
            None => per_mint.push((mint, U256::from(m.amount))),
        }
    }
    if let Some(max) = p.max_priority_fee
        && U256::from(d.priority_fee_lamports) > max
    {
        return Err(Denial::new(
            "max_priority_fee",
            format!(
                "a priority fee of {} lamports exceeds the limit of {max}",
                d.priority_fee_lamports
            ),
        ));
    }
    if let Some(max) = p.max_value_per_tx
        && lamports > max
    {
        return Err(Denial::new(
            "max_value_per_tx",
            format!("{lamports} lamports exceed the limit of {max} per transaction"),
        ));
    }
    let mut spends = Vec::new();
    if let Some(day) = p.max_value_per_day {
        spends.push(Spend {
            scope: NATIVE_SCOPE.to_string(),
            asset: "SOL".to_string(),
            amount: lamports,
            daily_limit: day,
            rule: "max_value_per_day",
        });
    }
    for (mint, total) in per_mint {
        let Some(limit) = p.token_limits.get(&address(&mint)) else {
            continue;
        };
        let asset = format!("mint {}", address(&mint));
        spends.extend(token_limit(limit, total, &asset, || Ok(mint_scope(&mint)))?);
    }
    Ok(spends)
}
