//! What a Solana message does, as far as a signing policy needs to know:
//! lamports moved by the System program, SPL Token / Token-2022 transfers and
//! approvals, the ComputeBudget priority fee, every program invoked, and the
//! instructions that we do not decode (which a policy refuses, fail closed).
//!
//! Pure and bounded: the input is an already parsed [`Message`] (at most
//! [`super::MAX_TRANSACTION_BYTES`], so at most a few thousand instructions);
//! the work is linear in the instructions times the (≤ 256) accounts, and
//! nothing here indexes, allocates or recurses by a number the input chooses.
//!
//! Instruction layouts, each read with its exact length (trailing bytes or
//! short data are an error naming the instruction, even where the on-chain
//! program would ignore trailing bytes: we fail closed):
//!
//! - System (solana-system-interface `SystemInstruction`, bincode: u32 LE tag,
//!   u64 LE integers, `String` = u64 LE length + UTF-8 bytes, `Pubkey` = 32 bytes):
//!   - 0 `CreateAccount { lamports, space, owner }` — 52 bytes; accounts
//!     `[funding (w,s), new account (w,s)]`.
//!   - 2 `Transfer { lamports }` — 12 bytes; accounts `[from (w,s), to (w)]`.
//!   - 3 `CreateAccountWithSeed { base, seed, lamports, space, owner }` —
//!     92 + seed bytes; accounts `[funding (w,s), created (w), base (s, optional)]`.
//!   - 4 `AdvanceNonceAccount` — 4 bytes; accounts `[nonce (w), RecentBlockhashes
//!     sysvar, authority (s)]`. Moves nothing: decoded as harmless.
//!   - 11 `TransferWithSeed { lamports, from_seed, from_owner }` — 52 + seed
//!     bytes; accounts `[funding (w), base (s), to (w)]`.
//!   - everything else (`Assign`, `WithdrawNonceAccount`, `Allocate`,
//!     `CreateAccountAllowPrefund`, ...): undecoded.
//! - SPL Token and Token-2022 (spl-token-interface `TokenInstruction::unpack`:
//!   u8 tag, u64 LE amount, u8 decimals; Token-2022 keeps these tags and layouts):
//!   - 3 `Transfer { amount }` — 9 bytes; `[source, destination, authority, signers…]`.
//!   - 4 `Approve { amount }` — 9 bytes; `[source, delegate, owner, signers…]`.
//!   - 12 `TransferChecked { amount, decimals }` — 10 bytes;
//!     `[source, mint, destination, authority, signers…]`.
//!   - 13 `ApproveChecked { amount, decimals }` — 10 bytes;
//!     `[source, mint, delegate, owner, signers…]`.
//!   - 17 `SyncNative` — 1 byte; `[account]`. Harmless (updates a wrapped-SOL
//!     account's balance to its lamports).
//!   - everything else, including `InitializeAccount`/`2`/`3`, is undecoded:
//!     initializing sets the owner of a token account (and of the lamports the
//!     same transaction may have put in it), which the decoder cannot judge;
//!     an operator who needs it lists the token program in `allowed_programs`.
//!     So are `CloseAccount`, `SetAuthority`, `Burn`, `MintTo`, `UnwrapLamports`
//!     (45), `Batch` (255, which carries further token instructions inside its
//!     data) and every Token-2022 extension instruction (e.g.
//!     `TransferCheckedWithFee` inside tag 26).
//! - Associated Token Account (borsh u8 tag; an empty body is the legacy
//!   `Create`): `Create` (empty or 0) and `CreateIdempotent` (1), accounts
//!   `[funding (w,s), associated account (w), wallet, mint, system program,
//!   token program]`: harmless (they only cost rent, which we do not count).
//!   `RecoverNested` (2) is undecoded.
//! - ComputeBudget (solana-compute-budget-interface, borsh u8 tag):
//!   1 `RequestHeapFrame(u32)`, 2 `SetComputeUnitLimit(u32)`,
//!   3 `SetComputeUnitPrice(u64)`, 4 `SetLoadedAccountsDataSizeLimit(u32)`.
//!   A second instruction of the same kind is an error, and so is any other
//!   tag (the runtime rejects both the transaction in either case).
//! - Memo v1 and v2: any data, harmless.

use super::programs::{
    KnownProgram, ata_instruction_name, system_instruction_name, token_instruction_name,
};
use super::{CompiledInstruction, Message};
use crate::keys::Ed25519PublicKey;

/// An account an instruction names: a static key of the message, or one loaded from an
/// address lookup table (v0), which cannot be resolved offline.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AccountRef {
    /// A static account key of the message.
    Key(Ed25519PublicKey),
    /// An account loaded from an address lookup table: its index in the
    /// message's combined account list (static keys, then every table's
    /// writable addresses, then every table's read-only addresses).
    Lookup {
        /// The index in the combined account list.
        index: u8,
    },
}

/// Which System instruction moved lamports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LamportKind {
    /// `Transfer`.
    Transfer,
    /// `TransferWithSeed` (from an account derived from a base key and seed).
    TransferWithSeed,
    /// `CreateAccount`: the lamports funding the new account.
    CreateAccount,
    /// `CreateAccountWithSeed`: the lamports funding the new account.
    CreateAccountWithSeed,
}

/// Lamports moved by a System Program instruction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LamportTransfer {
    /// Index of the instruction in the message.
    pub instruction: usize,
    /// Which instruction.
    pub kind: LamportKind,
    /// The funding account.
    pub from: AccountRef,
    /// The receiving (or created) account.
    pub to: AccountRef,
    /// The lamports moved.
    pub lamports: u64,
}

/// The token program of a movement.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenProgram {
    /// SPL Token (`TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA`).
    Token,
    /// SPL Token-2022 (`TokenzQdBNbLqP5VEhdkAS6EPFLC1PHnBqCXEpPxuEb`).
    Token2022,
}

impl TokenProgram {
    /// The program id.
    pub fn id(self) -> Ed25519PublicKey {
        match self {
            TokenProgram::Token => super::programs::TOKEN_PROGRAM,
            TokenProgram::Token2022 => super::programs::TOKEN_2022_PROGRAM,
        }
    }
}

/// Which token instruction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenKind {
    /// `Transfer` (3).
    Transfer,
    /// `TransferChecked` (12).
    TransferChecked,
    /// `Approve` (4).
    Approve,
    /// `ApproveChecked` (13).
    ApproveChecked,
}

/// An SPL Token / Token-2022 movement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenMovement {
    /// Index of the instruction in the message.
    pub instruction: usize,
    /// Token or Token-2022.
    pub program: TokenProgram,
    /// Which instruction.
    pub kind: TokenKind,
    /// The source token account.
    pub source: AccountRef,
    /// Destination token account (Transfer*) or delegate (Approve*).
    pub counterparty: AccountRef,
    /// The mint: only the *Checked forms name it; None for Transfer/Approve.
    pub mint: Option<AccountRef>,
    /// The owner or delegate authorizing the movement (or its multisig).
    pub authority: AccountRef,
    /// The amount in the token's base units.
    pub amount: u64,
    /// The decimals the *Checked forms assert; None for Transfer/Approve.
    pub decimals: Option<u8>,
}

/// Every instruction's program, and what we could decode.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SolanaIntent {
    /// The fee payer (the first account key).
    pub fee_payer: Ed25519PublicKey,
    /// Lamports moved by System instructions, in instruction order.
    pub lamport_transfers: Vec<LamportTransfer>,
    /// Token movements, in instruction order.
    pub token_movements: Vec<TokenMovement>,
    /// Distinct program ids invoked, in first-use order.
    pub programs: Vec<Ed25519PublicKey>,
    /// Instructions of programs outside System, Token, Token-2022, Associated Token Account,
    /// ComputeBudget and Memo (v1 and v2 program ids): (instruction index, program).
    pub unknown_program_instructions: Vec<(usize, Ed25519PublicKey)>,
    /// Instructions of a known program that we do not decode as value-neutral or as a movement
    /// (e.g. System Assign, Token SetAuthority, CloseAccount, Burn, MintTo, Token-2022
    /// extension instructions): (index, program name, instruction name or number). The policy
    /// refuses these (fail closed) unless allowed_programs lists that program.
    pub undecoded_instructions: Vec<(usize, &'static str, String)>,
    /// ComputeBudget: SetComputeUnitPrice (micro-lamports per CU) and SetComputeUnitLimit.
    pub compute_unit_price: Option<u64>,
    /// ComputeBudget: SetComputeUnitLimit as requested (the runtime caps it at
    /// [`MAX_COMPUTE_UNIT_LIMIT`]).
    pub compute_unit_limit: Option<u32>,
    /// Priority fee in lamports: ceil(price * limit / 1_000_000), with the runtime's default
    /// limit when none is set (200_000 per non-ComputeBudget instruction, capped at
    /// 1_400_000); 0 without a price. Saturating.
    pub priority_fee_lamports: u64,
}

/// Why a message's instructions could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SolanaIntentError {
    /// An instruction of a known program is malformed (wrong data length,
    /// missing accounts, invalid seed text, an index out of range).
    #[error("instruction {index} ({program} {instruction}): {problem}")]
    Malformed {
        /// Index of the instruction.
        index: usize,
        /// The program's name.
        program: &'static str,
        /// The instruction's name, or "instruction" when it has none yet.
        instruction: &'static str,
        /// What is wrong.
        problem: &'static str,
    },
    /// A second ComputeBudget instruction of the same kind (the runtime
    /// rejects the transaction).
    #[error("instruction {index}: duplicate compute-budget {instruction}")]
    DuplicateComputeBudget {
        /// Index of the duplicate.
        index: usize,
        /// Its name.
        instruction: &'static str,
    },
    /// The message has no account keys (no fee payer).
    #[error("message has no fee payer")]
    NoFeePayer,
}

/// The runtime's default compute-unit limit per instruction when a
/// transaction sets none (agave `compute-budget`,
/// `DEFAULT_INSTRUCTION_COMPUTE_UNIT_LIMIT`). Recent runtimes reserve less
/// for builtin programs (3 000, SIMD-0170), so this over-estimates the
/// default limit, and with it the priority fee: the conservative side for a
/// fee cap.
pub const DEFAULT_INSTRUCTION_COMPUTE_UNIT_LIMIT: u64 = 200_000;
/// The runtime's maximum compute-unit limit per transaction (agave
/// `MAX_COMPUTE_UNIT_LIMIT`); a larger `SetComputeUnitLimit` is capped to it.
pub const MAX_COMPUTE_UNIT_LIMIT: u64 = 1_400_000;
const MICRO_LAMPORTS_PER_LAMPORT: u128 = 1_000_000;

/// Decodes what `msg` does. See the module documentation for the
/// instructions decoded and their layouts.
pub fn decode_message(msg: &Message) -> Result<SolanaIntent, SolanaIntentError> {
    let fee_payer = *msg
        .account_keys
        .first()
        .ok_or(SolanaIntentError::NoFeePayer)?;
    // Accounts loaded from lookup tables follow the static keys. `Message`'s
    // fields are public, so nothing here trusts that the parser sanitized it.
    let lookup_count: usize = msg
        .address_table_lookups
        .iter()
        .map(|l| {
            l.writable_indexes
                .len()
                .saturating_add(l.readonly_indexes.len())
        })
        .fold(0usize, usize::saturating_add);
    let accounts = Accounts {
        keys: &msg.account_keys,
        total: msg.account_keys.len().saturating_add(lookup_count),
    };

    let mut intent = SolanaIntent {
        fee_payer,
        lamport_transfers: Vec::new(),
        token_movements: Vec::new(),
        programs: Vec::new(),
        unknown_program_instructions: Vec::new(),
        undecoded_instructions: Vec::new(),
        compute_unit_price: None,
        compute_unit_limit: None,
        priority_fee_lamports: 0,
    };
    let mut budget = BudgetSeen::default();
    let mut non_budget_instructions: u64 = 0;

    for (index, ix) in msg.instructions.iter().enumerate() {
        let program = *msg
            .account_keys
            .get(usize::from(ix.program_id_index))
            .ok_or(SolanaIntentError::Malformed {
                index,
                program: "unknown",
                instruction: "instruction",
                problem: "program id index out of range",
            })?;
        if !intent.programs.contains(&program) {
            intent.programs.push(program);
        }
        let known = KnownProgram::of(&program);
        if known != Some(KnownProgram::ComputeBudget) {
            non_budget_instructions = non_budget_instructions.saturating_add(1);
        }
        let cx = Ix {
            index,
            ix,
            accounts: &accounts,
        };
        match known {
            None => intent.unknown_program_instructions.push((index, program)),
            Some(KnownProgram::System) => decode_system(&cx, &mut intent)?,
            Some(p @ (KnownProgram::Token | KnownProgram::Token2022)) => {
                let tp = if p == KnownProgram::Token {
                    TokenProgram::Token
                } else {
                    TokenProgram::Token2022
                };
                decode_token(&cx, p, tp, &mut intent)?;
            }
            Some(KnownProgram::AssociatedToken) => decode_ata(&cx, &mut intent)?,
            Some(KnownProgram::ComputeBudget) => decode_budget(&cx, &mut budget, &mut intent)?,
            Some(KnownProgram::Memo) => {}
        }
    }

    intent.priority_fee_lamports = priority_fee(
        intent.compute_unit_price,
        intent.compute_unit_limit,
        non_budget_instructions,
    );
    Ok(intent)
}

/// ceil(price × limit / 10⁶) lamports, with the limit capped at
/// [`MAX_COMPUTE_UNIT_LIMIT`] and defaulting to
/// [`DEFAULT_INSTRUCTION_COMPUTE_UNIT_LIMIT`] per non-ComputeBudget
/// instruction (agave `PrioritizationFeeDetails::new`, `prioritization_fee.rs`).
fn priority_fee(price: Option<u64>, limit: Option<u32>, non_budget_instructions: u64) -> u64 {
    let Some(price) = price else {
        return 0;
    };
    let limit = match limit {
        Some(l) => u64::from(l),
        None => non_budget_instructions.saturating_mul(DEFAULT_INSTRUCTION_COMPUTE_UNIT_LIMIT),
    }
    .min(MAX_COMPUTE_UNIT_LIMIT);
    let micro = u128::from(price).saturating_mul(u128::from(limit));
    let fee = micro.saturating_add(MICRO_LAMPORTS_PER_LAMPORT - 1) / MICRO_LAMPORTS_PER_LAMPORT;
    u64::try_from(fee).unwrap_or(u64::MAX)
}

struct Accounts<'a> {
    keys: &'a [Ed25519PublicKey],
    /// Static keys plus lookup-table accounts.
    total: usize,
}

/// One instruction being decoded.
struct Ix<'a> {
    index: usize,
    ix: &'a CompiledInstruction,
    accounts: &'a Accounts<'a>,
}

impl Ix<'_> {
    fn err(
        &self,
        program: KnownProgram,
        instruction: &'static str,
        problem: &'static str,
    ) -> SolanaIntentError {
        SolanaIntentError::Malformed {
            index: self.index,
            program: program.name(),
            instruction,
            problem,
        }
    }

    /// Requires exactly `len` bytes of data.
    fn exact_len(
        &self,
        program: KnownProgram,
        name: &'static str,
        len: usize,
    ) -> Result<&[u8], SolanaIntentError> {
        let data = &self.ix.data[..];
        if data.len() < len {
            return Err(self.err(program, name, "instruction data is too short"));
        }
        if data.len() > len {
            return Err(self.err(program, name, "trailing bytes after the instruction data"));
        }
        Ok(data)
    }

    /// Requires at least `n` accounts.
    fn need_accounts(
        &self,
        program: KnownProgram,
        name: &'static str,
        n: usize,
    ) -> Result<(), SolanaIntentError> {
        if self.ix.accounts.len() < n {
            return Err(self.err(program, name, "missing accounts"));
        }
        Ok(())
    }

    /// The instruction's `pos`-th account.
    fn account(
        &self,
        program: KnownProgram,
        name: &'static str,
        pos: usize,
    ) -> Result<AccountRef, SolanaIntentError> {
        let &i = self
            .ix
            .accounts
            .get(pos)
            .ok_or_else(|| self.err(program, name, "missing accounts"))?;
        if let Some(k) = self.accounts.keys.get(usize::from(i)) {
            Ok(AccountRef::Key(*k))
        } else if usize::from(i) < self.accounts.total {
            Ok(AccountRef::Lookup { index: i })
        } else {
            Err(self.err(program, name, "account index out of range"))
        }
    }

    fn undecoded(&self, program: KnownProgram, name: Option<&'static str>, tag: u64) -> Undecoded {
        (
            self.index,
            program.name(),
            match name {
                Some(n) => n.to_string(),
                None => tag.to_string(),
            },
        )
    }
}

type Undecoded = (usize, &'static str, String);

fn u64_at(data: &[u8], at: usize) -> Option<u64> {
    let bytes: [u8; 8] = data.get(at..at.checked_add(8)?)?.try_into().ok()?;
    Some(u64::from_le_bytes(bytes))
}

fn u32_at(data: &[u8], at: usize) -> Option<u32> {
    let bytes: [u8; 4] = data.get(at..at.checked_add(4)?)?.try_into().ok()?;
    Some(u32::from_le_bytes(bytes))
}

/// The length of a bincode `String` at `at` (u64 LE length, then UTF-8
/// bytes), checked to lie inside `data` and to be UTF-8. Returns the offset
/// just past it.
fn bincode_string_end(data: &[u8], at: usize) -> Result<usize, &'static str> {
    let len = u64_at(data, at).ok_or("instruction data is too short")?;
    let start = at.checked_add(8).ok_or("instruction data is too short")?;
    // Bounded by the data before anything uses it.
    let len = usize::try_from(len)
        .ok()
        .filter(|l| *l <= data.len().saturating_sub(start))
        .ok_or("seed length exceeds the instruction data")?;
    let end = start + len;
    let text = data
        .get(start..end)
        .ok_or("instruction data is too short")?;
    if core::str::from_utf8(text).is_err() {
        return Err("seed is not UTF-8");
    }
    Ok(end)
}

fn decode_system(cx: &Ix<'_>, intent: &mut SolanaIntent) -> Result<(), SolanaIntentError> {
    const P: KnownProgram = KnownProgram::System;
    let data = &cx.ix.data[..];
    let tag =
        u32_at(data, 0).ok_or_else(|| cx.err(P, "instruction", "instruction data is too short"))?;
    let name = system_instruction_name(tag);
    let transfer = |kind: LamportKind,
                    name: &'static str,
                    from: usize,
                    to: usize,
                    lamports: u64|
     -> Result<LamportTransfer, SolanaIntentError> {
        Ok(LamportTransfer {
            instruction: cx.index,
            kind,
            from: cx.account(P, name, from)?,
            to: cx.account(P, name, to)?,
            lamports,
        })
    };
    let short = |name| cx.err(P, name, "instruction data is too short");
    match tag {
        // CreateAccount { lamports: u64, space: u64, owner: Pubkey }
        0 => {
            let name = "CreateAccount";
            let data = cx.exact_len(P, name, 4 + 8 + 8 + 32)?;
            cx.need_accounts(P, name, 2)?;
            let lamports = u64_at(data, 4).ok_or_else(|| short(name))?;
            intent.lamport_transfers.push(transfer(
                LamportKind::CreateAccount,
                name,
                0,
                1,
                lamports,
            )?);
        }
        // Transfer { lamports: u64 }
        2 => {
            let name = "Transfer";
            let data = cx.exact_len(P, name, 4 + 8)?;
            cx.need_accounts(P, name, 2)?;
            let lamports = u64_at(data, 4).ok_or_else(|| short(name))?;
            intent
                .lamport_transfers
                .push(transfer(LamportKind::Transfer, name, 0, 1, lamports)?);
        }
        // CreateAccountWithSeed { base: Pubkey, seed: String, lamports: u64,
        //                         space: u64, owner: Pubkey }
        3 => {
            let name = "CreateAccountWithSeed";
            let seed_end = bincode_string_end(data, 4 + 32).map_err(|p| cx.err(P, name, p))?;
            let data = cx.exact_len(P, name, seed_end.saturating_add(8 + 8 + 32))?;
            cx.need_accounts(P, name, 2)?;
            let lamports = u64_at(data, seed_end).ok_or_else(|| short(name))?;
            intent.lamport_transfers.push(transfer(
                LamportKind::CreateAccountWithSeed,
                name,
                0,
                1,
                lamports,
            )?);
        }
        // AdvanceNonceAccount: no fields.
        4 => {
            let name = "AdvanceNonceAccount";
            cx.exact_len(P, name, 4)?;
            cx.need_accounts(P, name, 3)?;
        }
        // TransferWithSeed { lamports: u64, from_seed: String, from_owner: Pubkey }
        11 => {
            let name = "TransferWithSeed";
            let lamports = u64_at(data, 4).ok_or_else(|| short(name))?;
            let seed_end = bincode_string_end(data, 4 + 8).map_err(|p| cx.err(P, name, p))?;
            cx.exact_len(P, name, seed_end.saturating_add(32))?;
            cx.need_accounts(P, name, 3)?;
            intent.lamport_transfers.push(transfer(
                LamportKind::TransferWithSeed,
                name,
                0,
                2,
                lamports,
            )?);
        }
        _ => intent
            .undecoded_instructions
            .push(cx.undecoded(P, name, u64::from(tag))),
    }
    Ok(())
}

fn decode_token(
    cx: &Ix<'_>,
    p: KnownProgram,
    program: TokenProgram,
    intent: &mut SolanaIntent,
) -> Result<(), SolanaIntentError> {
    let data = &cx.ix.data[..];
    let &tag = data
        .first()
        .ok_or_else(|| cx.err(p, "instruction", "instruction data is too short"))?;
    let name = token_instruction_name(tag);
    // (kind, name, data length, accounts: source, counterparty, mint, authority)
    let (kind, name, len, source, counterparty, mint, authority) = match tag {
        3 => (TokenKind::Transfer, "Transfer", 9, 0, 1, None, 2),
        4 => (TokenKind::Approve, "Approve", 9, 0, 1, None, 2),
        12 => (
            TokenKind::TransferChecked,
            "TransferChecked",
            10,
            0,
            2,
            Some(1),
            3,
        ),
        13 => (
            TokenKind::ApproveChecked,
            "ApproveChecked",
            10,
            0,
            2,
            Some(1),
            3,
        ),
        17 => {
            cx.exact_len(p, "SyncNative", 1)?;
            cx.need_accounts(p, "SyncNative", 1)?;
            return Ok(());
        }
        _ => {
            intent
                .undecoded_instructions
                .push(cx.undecoded(p, name, u64::from(tag)));
            return Ok(());
        }
    };
    let data = cx.exact_len(p, name, len)?;
    cx.need_accounts(p, name, authority + 1)?;
    let amount = u64_at(data, 1).ok_or_else(|| cx.err(p, name, "instruction data is too short"))?;
    let decimals = if len == 10 {
        data.get(9).copied()
    } else {
        None
    };
    intent.token_movements.push(TokenMovement {
        instruction: cx.index,
        program,
        kind,
        source: cx.account(p, name, source)?,
        counterparty: cx.account(p, name, counterparty)?,
        mint: mint.map(|m| cx.account(p, name, m)).transpose()?,
        authority: cx.account(p, name, authority)?,
        amount,
        decimals,
    });
    Ok(())
}

fn decode_ata(cx: &Ix<'_>, intent: &mut SolanaIntent) -> Result<(), SolanaIntentError> {
    const P: KnownProgram = KnownProgram::AssociatedToken;
    let data = &cx.ix.data[..];
    let tag = data.first().copied().unwrap_or(0);
    let name = ata_instruction_name(tag);
    match (tag, name) {
        (0 | 1, Some(name)) => {
            if data.len() > 1 {
                return Err(cx.err(P, name, "trailing bytes after the instruction data"));
            }
            cx.need_accounts(P, name, 6)?;
        }
        _ => intent
            .undecoded_instructions
            .push(cx.undecoded(P, name, u64::from(tag))),
    }
    Ok(())
}

#[derive(Default)]
struct BudgetSeen {
    heap: bool,
    limit: bool,
    price: bool,
    loaded: bool,
}

fn decode_budget(
    cx: &Ix<'_>,
    seen: &mut BudgetSeen,
    intent: &mut SolanaIntent,
) -> Result<(), SolanaIntentError> {
    const P: KnownProgram = KnownProgram::ComputeBudget;
    let data = &cx.ix.data[..];
    let &tag = data
        .first()
        .ok_or_else(|| cx.err(P, "instruction", "instruction data is too short"))?;
    let (name, len, flag) = match tag {
        1 => ("RequestHeapFrame", 5, &mut seen.heap),
        2 => ("SetComputeUnitLimit", 5, &mut seen.limit),
        3 => ("SetComputeUnitPrice", 9, &mut seen.price),
        4 => ("SetLoadedAccountsDataSizeLimit", 5, &mut seen.loaded),
        _ => {
            return Err(cx.err(
                P,
                "instruction",
                "unknown compute-budget instruction (the runtime rejects it)",
            ));
        }
    };
    let data = cx.exact_len(P, name, len)?;
    if *flag {
        return Err(SolanaIntentError::DuplicateComputeBudget {
            index: cx.index,
            instruction: name,
        });
    }
    *flag = true;
    let short = || cx.err(P, name, "instruction data is too short");
    match tag {
        2 => intent.compute_unit_limit = Some(u32_at(data, 1).ok_or_else(short)?),
        3 => intent.compute_unit_price = Some(u64_at(data, 1).ok_or_else(short)?),
        _ => {}
    }
    Ok(())
}

/// Whether `bytes` could be a transaction message to the Solana runtime
/// (legacy or versioned): a lenient structural check, so that
/// `solana/sign-message` can refuse to sign anything a validator might accept
/// as the message of a transaction.
///
/// A validator verifies each signature over exactly the bytes that follow the
/// signatures, and deserializes them as a whole (agave rejects trailing bytes
/// after a transaction), so a signature over `bytes` makes a transaction only
/// if `bytes` is, entirely, a message. This accepts every byte string laid out
/// as one, and more than the runtime does:
///
/// - the first byte with its high bit set is a version prefix: every version
///   0..=126 is read with the v0 layout (the runtime only knows v0 today),
///   and 0xff (version 127) is refused, as the runtime refuses it: it is the
///   first byte of the off-chain message envelope (`\xffsolana offchain`);
///   without the high bit the message is legacy;
/// - then the three header bytes (any values: no check that there is a
///   signer, that the counts fit the keys, or that keys are distinct),
///   a compact-u16 count of 32-byte keys, the 32-byte recent blockhash, a
///   compact-u16 count of instructions (program index byte, compact-u16 count
///   of account index bytes, compact-u16 count of data bytes; no index is
///   checked), and for a versioned message a compact-u16 count of address
///   table lookups (32-byte key, two compact-u16 counted index lists);
/// - compact-u16 lengths are read in 1 to 3 bytes, accepting non-canonical
///   encodings and values up to 2²¹ − 1 (the runtime takes only canonical
///   encodings of values ≤ 65 535);
/// - no size limit (the runtime's is 1232 bytes for a whole transaction);
/// - and the bytes must be consumed exactly.
///
/// Linear in the input, no allocation.
pub fn could_be_transaction_message(bytes: &[u8]) -> bool {
    lenient_message_len(bytes) == Some(bytes.len())
}

/// The length of the message structure at the start of `bytes`, read
/// leniently (see [`could_be_transaction_message`]), or None.
fn lenient_message_len(bytes: &[u8]) -> Option<usize> {
    let mut r = Lenient { buf: bytes, pos: 0 };
    let first = r.byte()?;
    let versioned = first & 0x80 != 0;
    if first == 0xff {
        return None;
    }
    // Header: three bytes; a versioned message has them after its prefix.
    r.skip(if versioned { 3 } else { 2 })?;
    let keys = r.compact()?;
    r.skip(keys.checked_mul(32)?)?;
    r.skip(32)?; // recent blockhash
    for _ in 0..r.compact()? {
        r.skip(1)?; // program id index
        let accounts = r.compact()?;
        r.skip(accounts)?;
        let data = r.compact()?;
        r.skip(data)?;
    }
    if versioned {
        for _ in 0..r.compact()? {
            r.skip(32)?;
            let writable = r.compact()?;
            r.skip(writable)?;
            let readonly = r.compact()?;
            r.skip(readonly)?;
        }
    }
    Some(r.pos)
}

struct Lenient<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl Lenient<'_> {
    fn byte(&mut self) -> Option<u8> {
        let b = *self.buf.get(self.pos)?;
        self.pos += 1;
        Some(b)
    }

    /// Advances by `n` bytes if there are that many. Every loop above reads
    /// at least one byte per iteration (or fails), so the loops are bounded
    /// by the input length even when a count is large.
    fn skip(&mut self, n: usize) -> Option<()> {
        let end = self.pos.checked_add(n)?;
        if end > self.buf.len() {
            return None;
        }
        self.pos = end;
        Some(())
    }

    /// A compact-u16 read leniently: up to three 7-bit groups, little-endian,
    /// high bit = continuation; the third byte's high bit ends it too.
    fn compact(&mut self) -> Option<usize> {
        let mut value = 0usize;
        for i in 0..3 {
            let b = self.byte()?;
            value |= usize::from(b & 0x7f) << (7 * i);
            if b & 0x80 == 0 {
                break;
            }
        }
        Some(value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn priority_fee_rounds_up_and_caps() {
        // No price: no fee, whatever the limit.
        assert_eq!(priority_fee(None, Some(1_000), 1), 0);
        // 1 micro-lamport × 1 CU rounds up to one lamport.
        assert_eq!(priority_fee(Some(1), Some(1), 0), 1);
        // Exactly 1 lamport, no rounding.
        assert_eq!(priority_fee(Some(1_000), Some(1_000), 0), 1);
        assert_eq!(priority_fee(Some(1_000), Some(1_001), 0), 2);
        // Default limit: 200 000 per instruction.
        assert_eq!(priority_fee(Some(1_000_000), None, 2), 400_000);
        // Default limit capped at 1.4M CU.
        assert_eq!(priority_fee(Some(1_000_000), None, 100), 1_400_000);
        // A requested limit above the cap is capped too.
        assert_eq!(priority_fee(Some(1_000_000), Some(u32::MAX), 1), 1_400_000);
        // Saturating: u64::MAX micro-lamports per CU × 1.4M CU overflows u64 lamports.
        assert_eq!(priority_fee(Some(u64::MAX), Some(1_400_000), 1), u64::MAX);
        // Just below saturation: price × limit / 10⁶ computed in u128.
        assert_eq!(
            priority_fee(Some(u64::MAX / 2), Some(2), 1),
            (u64::MAX - 1).div_ceil(1_000_000)
        );
        // Zero limit: zero fee.
        assert_eq!(priority_fee(Some(5), Some(0), 3), 0);
    }

    /// A one-key legacy message with no instructions, and its variants.
    fn tiny_message(prefix: &[u8], key_count: &[u8]) -> Vec<u8> {
        let mut m = prefix.to_vec();
        m.extend_from_slice(&[1, 0, 0]);
        m.extend_from_slice(key_count);
        m.extend_from_slice(&[7; 32]); // the key
        m.extend_from_slice(&[8; 32]); // blockhash
        m.push(0); // no instructions
        m
    }

    #[test]
    fn detector_is_more_lenient_than_the_parser() {
        let legacy = tiny_message(&[], &[1]);
        assert!(super::super::parse_message(&legacy).is_ok());
        assert!(could_be_transaction_message(&legacy));
        let mut v0 = tiny_message(&[0x80], &[1]);
        v0.push(0); // no lookups
        assert!(super::super::parse_message(&v0).is_ok());
        assert!(could_be_transaction_message(&v0));
        // A non-canonical key count (1 as [0x81, 0x00]): the runtime and our parser
        // refuse it, the detector does not.
        let noncanonical = tiny_message(&[], &[0x81, 0x00]);
        assert!(super::super::parse_message(&noncanonical).is_err());
        assert!(could_be_transaction_message(&noncanonical));
        // A future version (v1) read with the v0 layout.
        let mut v1 = tiny_message(&[0x81], &[1]);
        v1.push(0);
        assert!(super::super::parse_message(&v1).is_err());
        assert!(could_be_transaction_message(&v1));
        // Header values the runtime's sanitize refuses (no signer).
        let mut unsigned = legacy.clone();
        unsigned[0] = 0;
        assert!(super::super::parse_message(&unsigned).is_err());
        assert!(could_be_transaction_message(&unsigned));
        // 0xff: the off-chain envelope's first byte, never a message.
        let mut ff = tiny_message(&[0xff], &[1]);
        ff.push(0);
        assert!(!could_be_transaction_message(&ff));
        // Trailing or missing bytes.
        let mut trailing = legacy.clone();
        trailing.push(0);
        assert!(!could_be_transaction_message(&trailing));
        assert!(!could_be_transaction_message(&legacy[..legacy.len() - 1]));
    }

    #[test]
    fn bincode_string_bounds() {
        let mut data = vec![0u8; 4];
        data.extend_from_slice(&3u64.to_le_bytes());
        data.extend_from_slice(b"abc");
        assert_eq!(bincode_string_end(&data, 4), Ok(15));
        // Length beyond the data, including one that would overflow.
        let mut big = vec![0u8; 4];
        big.extend_from_slice(&u64::MAX.to_le_bytes());
        assert!(bincode_string_end(&big, 4).is_err());
        let mut bad = vec![0u8; 4];
        bad.extend_from_slice(&1u64.to_le_bytes());
        bad.push(0xff);
        assert_eq!(bincode_string_end(&bad, 4), Err("seed is not UTF-8"));
        assert!(bincode_string_end(&[0u8; 6], 4).is_err());
    }
}
