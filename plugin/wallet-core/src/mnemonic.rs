//! BIP39 mnemonics (English word list): generation from OS randomness,
//! import with checksum verification, and seed derivation.
//!
//! Spec: <https://github.com/bitcoin/bips/blob/master/bip-0039.mediawiki>.
//! Implemented here on `pbkdf2` + `sha2` + `unicode-normalization` rather than
//! with a BIP39 crate, to keep one SHA-2 implementation in the build and to
//! control what error messages say (see DECISIONS.md).

use std::sync::OnceLock;

use rand_core::{OsRng, RngCore};
use sha2::{Digest, Sha256, Sha512};
use unicode_normalization::UnicodeNormalization;
use zeroize::{Zeroize, Zeroizing};

use crate::secret::{Mnemonic, Passphrase, Seed};

/// The BIP39 English word list, from bitcoin/bips `bip-0039/english.txt`.
const ENGLISH: &str = include_str!("bip39_english.txt");

/// PBKDF2 iterations fixed by BIP39.
const PBKDF2_ROUNDS: u32 = 2048;

fn wordlist() -> &'static [&'static str] {
    static LIST: OnceLock<Vec<&'static str>> = OnceLock::new();
    LIST.get_or_init(|| {
        ENGLISH
            .lines()
            .map(str::trim)
            .filter(|w| !w.is_empty())
            .collect()
    })
}

/// Errors of mnemonic handling. None of them carries the phrase or any word
/// of it: at most a word's position.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum MnemonicError {
    /// The number of words is not 12, 15, 18, 21 or 24.
    #[error("mnemonic must have 12, 15, 18, 21 or 24 words, got {0}")]
    WordCount(usize),
    /// A word is not in the English BIP39 list (1-based position).
    #[error("mnemonic word {position} is not in the BIP39 English word list")]
    UnknownWord {
        /// 1-based position of the word in the phrase.
        position: usize,
    },
    /// The checksum bits do not match the entropy.
    #[error("mnemonic checksum is invalid")]
    Checksum,
    /// Entropy must be 16, 20, 24, 28 or 32 bytes.
    #[error("entropy must be 16, 20, 24, 28 or 32 bytes, got {0}")]
    EntropyLength(usize),
    /// The operating system's random number generator failed.
    #[error("operating system randomness unavailable")]
    Randomness,
}

/// Mnemonic lengths allowed by BIP39.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum WordCount {
    /// 12 words, 128 bits of entropy.
    W12,
    /// 15 words, 160 bits.
    W15,
    /// 18 words, 192 bits.
    W18,
    /// 21 words, 224 bits.
    W21,
    /// 24 words, 256 bits (the API's default).
    #[default]
    W24,
}

impl WordCount {
    /// The number of words.
    pub fn words(self) -> usize {
        match self {
            WordCount::W12 => 12,
            WordCount::W15 => 15,
            WordCount::W18 => 18,
            WordCount::W21 => 21,
            WordCount::W24 => 24,
        }
    }

    /// Entropy length in bytes: words × 11 × 32 / 33 / 8.
    pub fn entropy_bytes(self) -> usize {
        self.words() * 4 / 3
    }
}

impl TryFrom<u64> for WordCount {
    type Error = MnemonicError;

    fn try_from(n: u64) -> Result<Self, MnemonicError> {
        Ok(match n {
            12 => WordCount::W12,
            15 => WordCount::W15,
            18 => WordCount::W18,
            21 => WordCount::W21,
            24 => WordCount::W24,
            other => {
                return Err(MnemonicError::WordCount(
                    usize::try_from(other).unwrap_or(usize::MAX),
                ));
            }
        })
    }
}

impl Mnemonic {
    /// Generates a new mnemonic from operating-system randomness.
    pub fn generate(words: WordCount) -> Result<Mnemonic, MnemonicError> {
        let mut entropy = Zeroizing::new([0u8; 32]);
        let len = words.entropy_bytes();
        OsRng
            .try_fill_bytes(&mut entropy[..len])
            .map_err(|_| MnemonicError::Randomness)?;
        Mnemonic::from_entropy(&entropy[..len])
    }

    /// Encodes entropy (16, 20, 24, 28 or 32 bytes) as a mnemonic.
    pub fn from_entropy(entropy: &[u8]) -> Result<Mnemonic, MnemonicError> {
        if !matches!(entropy.len(), 16 | 20 | 24 | 28 | 32) {
            return Err(MnemonicError::EntropyLength(entropy.len()));
        }
        // entropy || first ENT/32 bits of SHA-256(entropy): at most 33 bytes.
        let mut bits = Zeroizing::new([0u8; 33]);
        bits[..entropy.len()].copy_from_slice(entropy);
        bits[entropy.len()] = Sha256::digest(entropy)[0];
        let words = entropy.len() * 3 / 4;
        let list = wordlist();
        let mut phrase = Zeroizing::new(String::with_capacity(words * 9));
        for i in 0..words {
            let index = read_11_bits(&bits[..], i * 11);
            if i > 0 {
                phrase.push(' ');
            }
            phrase.push_str(list[usize::from(index)]);
        }
        Ok(Mnemonic { phrase, words })
    }

    /// Parses and validates a mnemonic: NFKD-normalized, any Unicode
    /// whitespace between words, every word in the English list, checksum
    /// verified. Words are not case-folded (BIP39 words are lower case).
    pub fn parse(phrase: &str) -> Result<Mnemonic, MnemonicError> {
        let normalized: Zeroizing<String> = Zeroizing::new(phrase.nfkd().collect());
        let list = wordlist();
        let count = normalized.split_whitespace().count();
        if !matches!(count, 12 | 15 | 18 | 21 | 24) {
            return Err(MnemonicError::WordCount(count));
        }
        let mut bits = Zeroizing::new([0u8; 33]);
        let mut canonical = Zeroizing::new(String::with_capacity(normalized.len()));
        for (i, word) in normalized.split_whitespace().enumerate() {
            let index = list
                .binary_search(&word)
                .map_err(|_| MnemonicError::UnknownWord { position: i + 1 })?;
            // `index` < 2048 fits 11 bits.
            write_11_bits(&mut bits[..], i * 11, index as u16);
            if i > 0 {
                canonical.push(' ');
            }
            canonical.push_str(list[index]);
        }
        let entropy_len = count * 4 / 3;
        let checksum_bits = count / 3;
        let mut hash: [u8; 32] = Sha256::digest(&bits[..entropy_len]).into();
        let mask = 0xffu8 << (8 - checksum_bits);
        let ok = (hash[0] & mask) == (bits[entropy_len] & mask);
        hash.zeroize();
        if !ok {
            return Err(MnemonicError::Checksum);
        }
        Ok(Mnemonic {
            phrase: canonical,
            words: count,
        })
    }

    /// The entropy the mnemonic encodes.
    pub fn expose_entropy(&self) -> Zeroizing<Vec<u8>> {
        let list = wordlist();
        let mut bits = Zeroizing::new([0u8; 33]);
        for (i, word) in self.phrase.split(' ').enumerate() {
            // The phrase was validated on construction.
            let index = list.binary_search(&word).unwrap_or(0);
            write_11_bits(&mut bits[..], i * 11, index as u16);
        }
        Zeroizing::new(bits[..self.words * 4 / 3].to_vec())
    }

    /// BIP39 seed: PBKDF2-HMAC-SHA512(NFKD(mnemonic),
    /// "mnemonic" || NFKD(passphrase), 2048 rounds, 64 bytes).
    pub fn to_seed(&self, passphrase: &Passphrase) -> Seed {
        let mut salt: Zeroizing<String> = Zeroizing::new(String::from("mnemonic"));
        salt.extend(passphrase.expose_passphrase().nfkd());
        let mut out = Zeroizing::new([0u8; 64]);
        pbkdf2::pbkdf2_hmac::<Sha512>(
            self.phrase.as_bytes(),
            salt.as_bytes(),
            PBKDF2_ROUNDS,
            &mut out[..],
        );
        Seed::from_bytes(&out[..])
    }
}

/// Reads the 11-bit big-endian group starting at bit `pos`.
fn read_11_bits(bytes: &[u8], pos: usize) -> u16 {
    let mut v = 0u16;
    for i in 0..11 {
        let bit = pos + i;
        let b = (bytes[bit / 8] >> (7 - bit % 8)) & 1;
        v = (v << 1) | u16::from(b);
    }
    v
}

/// Writes `value`'s low 11 bits big-endian starting at bit `pos`.
fn write_11_bits(bytes: &mut [u8], pos: usize, value: u16) {
    for i in 0..11 {
        let bit = pos + i;
        if (value >> (10 - i)) & 1 == 1 {
            bytes[bit / 8] |= 1 << (7 - bit % 8);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ABANDON: &str = "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about";

    #[test]
    fn wordlist_is_sorted_unique_2048() {
        let list = wordlist();
        assert_eq!(list.len(), 2048);
        assert!(list.windows(2).all(|w| w[0] < w[1]));
    }

    #[test]
    fn generates_every_length() {
        for wc in [
            WordCount::W12,
            WordCount::W15,
            WordCount::W18,
            WordCount::W21,
            WordCount::W24,
        ] {
            let m = Mnemonic::generate(wc).expect("generate");
            assert_eq!(m.word_count(), wc.words());
            let again = Mnemonic::parse(m.expose_phrase()).expect("round trip");
            assert_eq!(again.expose_phrase(), m.expose_phrase());
            assert_eq!(m.expose_entropy().len(), wc.entropy_bytes());
        }
    }

    #[test]
    fn two_generated_mnemonics_differ() {
        let a = Mnemonic::generate(WordCount::W12).expect("generate");
        let b = Mnemonic::generate(WordCount::W12).expect("generate");
        assert_ne!(a.expose_phrase(), b.expose_phrase());
    }

    #[test]
    fn whitespace_is_normalized() {
        let messy = format!("  {}\t\n", ABANDON.replace(' ', " \u{3000} "));
        let m = Mnemonic::parse(&messy).expect("parse");
        assert_eq!(m.expose_phrase(), ABANDON);
    }

    #[test]
    fn errors_never_contain_words() {
        let bad_word = ABANDON.replace("about", "zzzzsecretword");
        let err = Mnemonic::parse(&bad_word).expect_err("unknown word");
        assert_eq!(err, MnemonicError::UnknownWord { position: 12 });
        assert!(!err.to_string().contains("zzzzsecretword"));
        assert!(!format!("{err:?}").contains("zzzzsecretword"));

        let bad_checksum = ABANDON.replace("about", "abandon");
        let err = Mnemonic::parse(&bad_checksum).expect_err("checksum");
        assert_eq!(err, MnemonicError::Checksum);
        assert!(!err.to_string().contains("abandon"));

        let err = Mnemonic::parse("abandon about").expect_err("count");
        assert_eq!(err, MnemonicError::WordCount(2));
        assert!(!err.to_string().contains("abandon"));
    }

    #[test]
    fn upper_case_words_are_rejected() {
        let upper = ABANDON.to_uppercase();
        assert_eq!(
            Mnemonic::parse(&upper).expect_err("upper"),
            MnemonicError::UnknownWord { position: 1 }
        );
    }

    #[test]
    fn word_count_conversion() {
        assert_eq!(WordCount::try_from(24).expect("24"), WordCount::W24);
        assert_eq!(WordCount::try_from(13), Err(MnemonicError::WordCount(13)));
    }
}
