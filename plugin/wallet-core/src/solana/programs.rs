//! The programs the intent decoder knows: their ids and instruction names.
//!
//! Program ids (base58 in the comments; the bytes are their decoding, and a
//! unit test below checks each one against its base58 form):
//! - System: `11111111111111111111111111111111` (solana-sdk-ids `system_program`).
//! - SPL Token: `TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA` (solana-program/token,
//!   `program/src/lib.rs` `declare_id!`).
//! - Token-2022: `TokenzQdBNbLqP5VEhdkAS6EPFLC1PHnBqCXEpPxuEb` (solana-program/token-2022).
//! - Associated Token Account: `ATokenGPvbdGVxr1b2hvZbsiqW5xWH25efTNsLJA8knL`
//!   (solana-program/associated-token-account).
//! - ComputeBudget: `ComputeBudget111111111111111111111111111111` (solana-sdk-ids
//!   `compute_budget`).
//! - Memo v1: `Memo1UhkJRfHyvLMcVucJwxXeuD728EqVDDwQDxFMNo` and Memo v2 (the program of
//!   spl-memo 2.0 and later): `MemoSq4gqABAXKb96qnH8TysNcWxMyWCqXgDLGmfcHr`
//!   (solana-program/memo, `interface/src/lib.rs`).
//!
//! The integration tests compare these with the ids the upstream interface crates
//! declare (`solana-sdk-ids`, `spl-token-interface`, ...).

use crate::keys::Ed25519PublicKey;

/// The System program.
pub const SYSTEM_PROGRAM: Ed25519PublicKey = Ed25519PublicKey([0u8; 32]);

/// The SPL Token program.
pub const TOKEN_PROGRAM: Ed25519PublicKey = Ed25519PublicKey([
    0x06, 0xdd, 0xf6, 0xe1, 0xd7, 0x65, 0xa1, 0x93, 0xd9, 0xcb, 0xe1, 0x46, 0xce, 0xeb, 0x79, 0xac,
    0x1c, 0xb4, 0x85, 0xed, 0x5f, 0x5b, 0x37, 0x91, 0x3a, 0x8c, 0xf5, 0x85, 0x7e, 0xff, 0x00, 0xa9,
]);

/// The SPL Token-2022 program.
pub const TOKEN_2022_PROGRAM: Ed25519PublicKey = Ed25519PublicKey([
    0x06, 0xdd, 0xf6, 0xe1, 0xee, 0x75, 0x8f, 0xde, 0x18, 0x42, 0x5d, 0xbc, 0xe4, 0x6c, 0xcd, 0xda,
    0xb6, 0x1a, 0xfc, 0x4d, 0x83, 0xb9, 0x0d, 0x27, 0xfe, 0xbd, 0xf9, 0x28, 0xd8, 0xa1, 0x8b, 0xfc,
]);

/// The Associated Token Account program.
pub const ASSOCIATED_TOKEN_PROGRAM: Ed25519PublicKey = Ed25519PublicKey([
    0x8c, 0x97, 0x25, 0x8f, 0x4e, 0x24, 0x89, 0xf1, 0xbb, 0x3d, 0x10, 0x29, 0x14, 0x8e, 0x0d, 0x83,
    0x0b, 0x5a, 0x13, 0x99, 0xda, 0xff, 0x10, 0x84, 0x04, 0x8e, 0x7b, 0xd8, 0xdb, 0xe9, 0xf8, 0x59,
]);

/// The ComputeBudget program.
pub const COMPUTE_BUDGET_PROGRAM: Ed25519PublicKey = Ed25519PublicKey([
    0x03, 0x06, 0x46, 0x6f, 0xe5, 0x21, 0x17, 0x32, 0xff, 0xec, 0xad, 0xba, 0x72, 0xc3, 0x9b, 0xe7,
    0xbc, 0x8c, 0xe5, 0xbb, 0xc5, 0xf7, 0x12, 0x6b, 0x2c, 0x43, 0x9b, 0x3a, 0x40, 0x00, 0x00, 0x00,
]);

/// The Memo program, version 1.
pub const MEMO_V1_PROGRAM: Ed25519PublicKey = Ed25519PublicKey([
    0x05, 0x4a, 0x53, 0x50, 0xf8, 0x5d, 0xc8, 0x82, 0xd6, 0x14, 0xa5, 0x56, 0x72, 0x78, 0x8a, 0x29,
    0x6d, 0xdf, 0x1e, 0xab, 0xab, 0xd0, 0xa6, 0x06, 0x78, 0x88, 0x49, 0x32, 0xf4, 0xee, 0xf6, 0xa0,
]);

/// The Memo program, version 2 (spl-memo 2.0 and later).
pub const MEMO_V2_PROGRAM: Ed25519PublicKey = Ed25519PublicKey([
    0x05, 0x4a, 0x53, 0x5a, 0x99, 0x29, 0x21, 0x06, 0x4d, 0x24, 0xe8, 0x71, 0x60, 0xda, 0x38, 0x7c,
    0x7c, 0x35, 0xb5, 0xdd, 0xbc, 0x92, 0xbb, 0x81, 0xe4, 0x1f, 0xa8, 0x40, 0x41, 0x05, 0x44, 0x8d,
]);

/// The programs the decoder knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum KnownProgram {
    System,
    Token,
    Token2022,
    AssociatedToken,
    ComputeBudget,
    Memo,
}

impl KnownProgram {
    pub(crate) fn of(id: &Ed25519PublicKey) -> Option<KnownProgram> {
        Some(match *id {
            SYSTEM_PROGRAM => KnownProgram::System,
            TOKEN_PROGRAM => KnownProgram::Token,
            TOKEN_2022_PROGRAM => KnownProgram::Token2022,
            ASSOCIATED_TOKEN_PROGRAM => KnownProgram::AssociatedToken,
            COMPUTE_BUDGET_PROGRAM => KnownProgram::ComputeBudget,
            MEMO_V1_PROGRAM | MEMO_V2_PROGRAM => KnownProgram::Memo,
            _ => return None,
        })
    }

    /// The name used in errors and in `undecoded_instructions`.
    pub(crate) fn name(self) -> &'static str {
        match self {
            KnownProgram::System => "system",
            KnownProgram::Token => "spl-token",
            KnownProgram::Token2022 => "spl-token-2022",
            KnownProgram::AssociatedToken => "associated-token-account",
            KnownProgram::ComputeBudget => "compute-budget",
            KnownProgram::Memo => "memo",
        }
    }
}

/// System instruction names by their u32 discriminant (solana-system-interface,
/// `SystemInstruction`, declaration order).
pub(crate) fn system_instruction_name(tag: u32) -> Option<&'static str> {
    const NAMES: [&str; 14] = [
        "CreateAccount",
        "Assign",
        "Transfer",
        "CreateAccountWithSeed",
        "AdvanceNonceAccount",
        "WithdrawNonceAccount",
        "InitializeNonceAccount",
        "AuthorizeNonceAccount",
        "Allocate",
        "AllocateWithSeed",
        "AssignWithSeed",
        "TransferWithSeed",
        "UpgradeNonceAccount",
        "CreateAccountAllowPrefund",
    ];
    NAMES.get(usize::try_from(tag).ok()?).copied()
}

/// SPL Token / Token-2022 instruction names by their u8 tag (spl-token-interface
/// `TokenInstruction` and Token-2022's superset of it: 25..=44 are Token-2022
/// instructions and extension instruction groups, 45 `UnwrapLamports`, 255 `Batch`).
pub(crate) fn token_instruction_name(tag: u8) -> Option<&'static str> {
    const NAMES: [&str; 46] = [
        "InitializeMint",
        "InitializeAccount",
        "InitializeMultisig",
        "Transfer",
        "Approve",
        "Revoke",
        "SetAuthority",
        "MintTo",
        "Burn",
        "CloseAccount",
        "FreezeAccount",
        "ThawAccount",
        "TransferChecked",
        "ApproveChecked",
        "MintToChecked",
        "BurnChecked",
        "InitializeAccount2",
        "SyncNative",
        "InitializeAccount3",
        "InitializeMultisig2",
        "InitializeMint2",
        "GetAccountDataSize",
        "InitializeImmutableOwner",
        "AmountToUiAmount",
        "UiAmountToAmount",
        "InitializeMintCloseAuthority",
        "TransferFeeExtension",
        "ConfidentialTransferExtension",
        "DefaultAccountStateExtension",
        "Reallocate",
        "MemoTransferExtension",
        "CreateNativeMint",
        "InitializeNonTransferableMint",
        "InterestBearingMintExtension",
        "CpiGuardExtension",
        "InitializePermanentDelegate",
        "TransferHookExtension",
        "ConfidentialTransferFeeExtension",
        "WithdrawExcessLamports",
        "MetadataPointerExtension",
        "GroupPointerExtension",
        "GroupMemberPointerExtension",
        "ConfidentialMintBurnExtension",
        "ScaledUiAmountExtension",
        "PausableExtension",
        "UnwrapLamports",
    ];
    if tag == 255 {
        return Some("Batch");
    }
    NAMES.get(usize::from(tag)).copied()
}

/// Associated Token Account instruction names by their borsh u8 tag
/// (spl-associated-token-account-interface, `AssociatedTokenAccountInstruction`).
pub(crate) fn ata_instruction_name(tag: u8) -> Option<&'static str> {
    ["Create", "CreateIdempotent", "RecoverNested"]
        .get(usize::from(tag))
        .copied()
}

/// The associated token account of (owner, mint) for a token program: the
/// program-derived address with seeds `[owner, token_program_id, mint]` under
/// the Associated Token Account program (spl-associated-token-account,
/// `get_associated_token_address_with_program_id`).
///
/// A program-derived address (solana-address `find_program_address`) is the
/// first SHA-256(seeds ‖ [bump] ‖ program_id ‖ "ProgramDerivedAddress"), for
/// bump = 255 down to 0, that is not the encoding of a point on the ed25519
/// curve (checked by decompressing it with curve25519-dalek, as the Solana
/// runtime does). Each bump is off the curve with probability about 1/2, so
/// running out of bumps has probability 2⁻²⁵⁶; in that case (where the Solana
/// libraries panic) this returns the System program id, which is never a token
/// account, so nothing matches it.
pub fn associated_token_address(
    owner: &Ed25519PublicKey,
    mint: &Ed25519PublicKey,
    program: super::intent::TokenProgram,
) -> Ed25519PublicKey {
    let token_program = program.id();
    find_program_address(
        &[&owner.0, &token_program.0, &mint.0],
        &ASSOCIATED_TOKEN_PROGRAM,
    )
    .map_or(SYSTEM_PROGRAM, |(address, _bump)| address)
}

/// `find_program_address` for a fixed number of seeds (the callers pass
/// constants; no seed count or length comes from input).
pub(crate) fn find_program_address(
    seeds: &[&[u8]],
    program_id: &Ed25519PublicKey,
) -> Option<(Ed25519PublicKey, u8)> {
    use sha2::{Digest, Sha256};
    for bump in (0..=u8::MAX).rev() {
        let mut hasher = Sha256::new();
        for seed in seeds {
            hasher.update(seed);
        }
        hasher.update([bump]);
        hasher.update(program_id.0);
        hasher.update(b"ProgramDerivedAddress");
        let candidate: [u8; 32] = hasher.finalize().into();
        let on_curve = curve25519_dalek::edwards::CompressedEdwardsY(candidate)
            .decompress()
            .is_some();
        if !on_curve {
            return Some((Ed25519PublicKey(candidate), bump));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn program_ids_match_their_base58() {
        for (id, text) in [
            (SYSTEM_PROGRAM, "11111111111111111111111111111111"),
            (TOKEN_PROGRAM, "TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA"),
            (
                TOKEN_2022_PROGRAM,
                "TokenzQdBNbLqP5VEhdkAS6EPFLC1PHnBqCXEpPxuEb",
            ),
            (
                ASSOCIATED_TOKEN_PROGRAM,
                "ATokenGPvbdGVxr1b2hvZbsiqW5xWH25efTNsLJA8knL",
            ),
            (
                COMPUTE_BUDGET_PROGRAM,
                "ComputeBudget111111111111111111111111111111",
            ),
            (
                MEMO_V1_PROGRAM,
                "Memo1UhkJRfHyvLMcVucJwxXeuD728EqVDDwQDxFMNo",
            ),
            (
                MEMO_V2_PROGRAM,
                "MemoSq4gqABAXKb96qnH8TysNcWxMyWCqXgDLGmfcHr",
            ),
        ] {
            assert_eq!(super::super::address(&id), text);
        }
    }

    #[test]
    fn instruction_names() {
        assert_eq!(system_instruction_name(2), Some("Transfer"));
        assert_eq!(system_instruction_name(11), Some("TransferWithSeed"));
        assert_eq!(system_instruction_name(14), None);
        assert_eq!(system_instruction_name(u32::MAX), None);
        assert_eq!(token_instruction_name(12), Some("TransferChecked"));
        assert_eq!(token_instruction_name(45), Some("UnwrapLamports"));
        assert_eq!(token_instruction_name(255), Some("Batch"));
        assert_eq!(token_instruction_name(46), None);
        assert_eq!(ata_instruction_name(2), Some("RecoverNested"));
        assert_eq!(ata_instruction_name(3), None);
    }
}
