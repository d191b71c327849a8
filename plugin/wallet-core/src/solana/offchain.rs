//! Solana off-chain messages, version 0, as Agave serializes and verifies
//! them (the `solana-offchain-message` crate, also behind the `solana
//! sign-offchain-message` CLI):
//!
//! ```text
//! signing domain  16 bytes  b"\xffsolana offchain"
//! header version   1 byte   0
//! message format   1 byte   0 restricted ASCII, 1 limited UTF-8, 2 extended UTF-8
//! message length   2 bytes  u16 little-endian, not zero
//! message          n bytes
//! ```
//!
//! The format is decided by the message: printable ASCII (0x20–0x7e) of at
//! most 1212 bytes is 0, other UTF-8 of at most 1212 bytes is 1 (1212 = the
//! 1232-byte packet minus the 20 header bytes: what a Ledger signs), UTF-8
//! of at most 65515 bytes is 2 (the u16 length minus the headers). Empty
//! messages and bytes that are not UTF-8 are refused.
//!
//! The proposal text (`docs/src/proposals/off-chain-message-signing.md`)
//! describes a v0 preamble with a 32-byte application domain and a signer
//! list; Agave's implementation, which validators and the CLI use, has
//! neither, and ours follows it (tested byte for byte against the crate).
//! The envelope starts with 0xff, which is never the first byte of a
//! transaction message (legacy: a signer count; versioned: 0x80 | version
//! with version 0 only).

/// The signing domain every off-chain message starts with.
pub const OFFCHAIN_SIGNING_DOMAIN: &[u8; 16] = b"\xffsolana offchain";
/// Bytes before the message: domain, version, format, length.
pub const OFFCHAIN_HEADER_LEN: usize = 16 + 1 + 1 + 2;
/// The longest message of formats 0 and 1.
pub const OFFCHAIN_MAX_LEN_LEDGER: usize = 1232 - OFFCHAIN_HEADER_LEN;
/// The longest message (format 2).
pub const OFFCHAIN_MAX_LEN: usize = u16::MAX as usize - OFFCHAIN_HEADER_LEN;

/// The v0 message formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OffchainFormat {
    RestrictedAscii = 0,
    LimitedUtf8 = 1,
    ExtendedUtf8 = 2,
}

impl OffchainFormat {
    /// The name used in the API.
    pub fn as_str(self) -> &'static str {
        match self {
            OffchainFormat::RestrictedAscii => "restricted-ascii",
            OffchainFormat::LimitedUtf8 => "limited-utf8",
            OffchainFormat::ExtendedUtf8 => "extended-utf8",
        }
    }
}

/// Why a message cannot be an off-chain message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum OffchainError {
    #[error("an off-chain message cannot be empty")]
    Empty,
    #[error("an off-chain message is at most {OFFCHAIN_MAX_LEN} bytes, got {0}")]
    TooLong(usize),
    #[error("an off-chain message must be UTF-8 text (invalid at byte {0})")]
    NotUtf8(usize),
}

/// The format the message takes.
pub fn offchain_format(message: &[u8]) -> Result<OffchainFormat, OffchainError> {
    if message.is_empty() {
        return Err(OffchainError::Empty);
    }
    if message.len() > OFFCHAIN_MAX_LEN {
        return Err(OffchainError::TooLong(message.len()));
    }
    if let Err(e) = std::str::from_utf8(message) {
        return Err(OffchainError::NotUtf8(e.valid_up_to()));
    }
    Ok(if message.len() > OFFCHAIN_MAX_LEN_LEDGER {
        OffchainFormat::ExtendedUtf8
    } else if message.iter().all(|b| (0x20..=0x7e).contains(b)) {
        OffchainFormat::RestrictedAscii
    } else {
        OffchainFormat::LimitedUtf8
    })
}

/// The v0 envelope of `message`: what is signed.
pub fn offchain_envelope(message: &[u8]) -> Result<(Vec<u8>, OffchainFormat), OffchainError> {
    let format = offchain_format(message)?;
    let mut out = Vec::with_capacity(OFFCHAIN_HEADER_LEN + message.len());
    out.extend_from_slice(OFFCHAIN_SIGNING_DOMAIN);
    out.push(0); // header version
    out.push(format as u8);
    // offchain_format bounded the length by u16::MAX - 20.
    out.extend_from_slice(&(message.len() as u16).to_le_bytes());
    out.extend_from_slice(message);
    Ok((out, format))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn formats_and_limits() {
        assert_eq!(offchain_format(b""), Err(OffchainError::Empty));
        assert_eq!(
            offchain_format(b"Test Message"),
            Ok(OffchainFormat::RestrictedAscii)
        );
        // A control character is not restricted ASCII.
        assert_eq!(offchain_format(b"a\nb"), Ok(OffchainFormat::LimitedUtf8));
        assert_eq!(
            offchain_format("é".as_bytes()),
            Ok(OffchainFormat::LimitedUtf8)
        );
        assert_eq!(
            offchain_format(&[b'a', 0xff]),
            Err(OffchainError::NotUtf8(1))
        );
        let ledger = vec![b'a'; OFFCHAIN_MAX_LEN_LEDGER];
        assert_eq!(
            offchain_format(&ledger),
            Ok(OffchainFormat::RestrictedAscii)
        );
        let over = vec![b'a'; OFFCHAIN_MAX_LEN_LEDGER + 1];
        assert_eq!(offchain_format(&over), Ok(OffchainFormat::ExtendedUtf8));
        let max = vec![b'a'; OFFCHAIN_MAX_LEN];
        assert_eq!(offchain_format(&max), Ok(OffchainFormat::ExtendedUtf8));
        let too = vec![b'a'; OFFCHAIN_MAX_LEN + 1];
        assert_eq!(
            offchain_format(&too),
            Err(OffchainError::TooLong(OFFCHAIN_MAX_LEN + 1))
        );
        assert_eq!(OFFCHAIN_MAX_LEN_LEDGER, 1212);
        assert_eq!(OFFCHAIN_MAX_LEN, 65515);
    }
}
