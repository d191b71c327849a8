//! Base58 encoding (the Bitcoin alphabet) for the hot signing paths: every
//! Solana signature and address in a response is base58, and the `bs58`
//! crate's byte-at-a-time long division made it a quarter of a batch item's
//! cost (issue 16). Same output, limbs of 58^5 digits fed four input bytes
//! at a time. Decoding (rare, and on input) stays with `bs58`.

const ALPHABET: &[u8; 58] = b"123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";
/// One limb holds five base58 digits: 58^5 = 656 356 768 < 2^32.
const LIMB: u64 = 58 * 58 * 58 * 58 * 58;
const DIGITS_PER_LIMB: usize = 5;

/// Base58 of `input` (leading zero bytes become `1`s), as `bs58::encode`.
pub fn encode(input: &[u8]) -> String {
    let zeros = input.iter().take_while(|&&b| b == 0).count();
    let rest = &input[zeros..];
    // Little-endian limbs of the big-endian number `rest`. Each step
    // multiplies by 2^(8·n) (n ≤ 4) and adds the chunk: a limb (< 2^30)
    // times 2^32 plus a carry (≤ 2^32) stays below 2^63.
    let mut limbs: Vec<u32> = Vec::with_capacity(rest.len() * 138 / 500 + 2);
    let head = rest.len() % 4;
    let chunks = std::iter::once(&rest[..head])
        .filter(|c| !c.is_empty())
        .chain(rest[head..].chunks(4));
    for chunk in chunks {
        let mut carry = chunk.iter().fold(0u64, |acc, &b| (acc << 8) | u64::from(b));
        let mul = 1u64 << (8 * chunk.len());
        for limb in limbs.iter_mut() {
            let x = u64::from(*limb) * mul + carry;
            *limb = (x % LIMB) as u32;
            carry = x / LIMB;
        }
        while carry > 0 {
            limbs.push((carry % LIMB) as u32);
            carry /= LIMB;
        }
    }
    let mut out = String::with_capacity(zeros + limbs.len() * DIGITS_PER_LIMB);
    out.extend(std::iter::repeat_n('1', zeros));
    let mut digits = [0u8; DIGITS_PER_LIMB];
    for (i, &limb) in limbs.iter().rev().enumerate() {
        let mut v = limb;
        for d in digits.iter_mut().rev() {
            *d = ALPHABET[(v % 58) as usize];
            v /= 58;
        }
        // The most significant limb is written without its leading zeros
        // (it is never 0: the number's top limb).
        let skip = if i == 0 {
            digits.iter().take_while(|&&d| d == b'1').count()
        } else {
            0
        };
        out.extend(digits[skip..].iter().map(|&d| char::from(d)));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Bitcoin Core's vectors (tests/vectors/README.md).
    #[test]
    fn bitcoin_core_vectors() {
        let text = include_str!("../tests/vectors/base58_encode_decode.json");
        let vectors: Vec<(String, String)> = serde_json::from_str(text).expect("vectors");
        assert_eq!(vectors.len(), 21);
        for (hex_in, want) in vectors {
            let bytes = hex::decode(&hex_in).expect("hex");
            assert_eq!(encode(&bytes), want, "{hex_in}");
        }
    }

    /// The same output as the `bs58` crate, on inputs of every length up to
    /// 100 bytes, with and without leading zeros and 0xff runs.
    #[test]
    fn same_as_bs58_on_generated_inputs() {
        let mut state = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        for len in 0..=100usize {
            for round in 0..20 {
                let mut v: Vec<u8> = (0..len).map(|_| next() as u8).collect();
                match round % 4 {
                    0 => v.iter_mut().take(round / 4).for_each(|b| *b = 0),
                    1 => v.iter_mut().for_each(|b| *b = 0xff),
                    2 => v.iter_mut().skip(len / 2).for_each(|b| *b = 0),
                    _ => {}
                }
                assert_eq!(encode(&v), bs58::encode(&v).into_string(), "{v:02x?}");
            }
        }
    }
}
