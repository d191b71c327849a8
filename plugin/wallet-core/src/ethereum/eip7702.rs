//! EIP-7702 authorizations (ethereum/EIPs `EIPS/eip-7702.md`):
//! an account's signature over `keccak256(MAGIC || rlp([chain_id, address,
//! nonce]))` with `MAGIC = 0x05`, which sets the account's code to a
//! delegation to `address`. `chain_id` 0 is valid on every chain. Nodes
//! skip a tuple whose nonce is `2^64 - 1` or whose `s` is above n/2; such
//! tuples are refused here as malformed.

use serde_json::Value;

use super::{Address, EthereumError, keccak256, parse_hex_bytes, rlp, u64_from_json};
use crate::secret::Secp256k1PrivateKey;
use crate::sign_hash::{RecoverableSignature, sign_digest_secp256k1};

/// The EIP-7702 signing domain byte.
pub const MAGIC: u8 = 0x05;

/// Half the secp256k1 group order (big-endian): the largest `s` accepted.
const HALF_N: [u8; 32] = [
    0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0x5d, 0x57, 0x6e, 0x73, 0x57, 0xa4, 0x50, 0x1d, 0xdf, 0xe9, 0x2f, 0x46, 0x68, 0x1b, 0x20, 0xa0,
];

/// An unsigned authorization.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Authorization {
    /// 0 means any chain.
    pub chain_id: u64,
    /// The delegate contract whose code the account runs.
    pub address: Address,
    /// The authority's account nonce when the tuple is processed.
    pub nonce: u64,
}

/// A signed authorization tuple `[chain_id, address, nonce, y_parity, r, s]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SignedAuthorization {
    /// The authorization.
    pub auth: Authorization,
    /// The signature (low S).
    pub sig: RecoverableSignature,
    /// The account the signature recovers to.
    pub authority: Address,
}

impl Authorization {
    /// Checks what nodes never accept: a nonce of `2^64 - 1`.
    pub fn validate(&self) -> Result<(), EthereumError> {
        if self.nonce == u64::MAX {
            return Err(EthereumError::field("nonce", "must be below 2^64 - 1"));
        }
        Ok(())
    }

    /// `MAGIC || rlp([chain_id, address, nonce])`.
    pub fn signing_payload(&self) -> Vec<u8> {
        let mut items = Vec::with_capacity(40);
        rlp::u64(&mut items, self.chain_id);
        rlp::bytes(&mut items, &self.address.0);
        rlp::u64(&mut items, self.nonce);
        let mut out = vec![MAGIC];
        rlp::list(&mut out, &items);
        out
    }

    /// keccak256 of [`Authorization::signing_payload`].
    pub fn signing_hash(&self) -> [u8; 32] {
        keccak256(&self.signing_payload())
    }

    /// Signs the authorization.
    pub fn sign(&self, key: &Secp256k1PrivateKey) -> Result<SignedAuthorization, EthereumError> {
        self.validate()?;
        let sig = sign_digest_secp256k1(key, &self.signing_hash())?;
        Ok(SignedAuthorization {
            auth: *self,
            sig,
            authority: Address::from_public_key(&key.public_key()),
        })
    }
}

impl SignedAuthorization {
    /// A signed tuple from its parts: the signature must be low-S and
    /// recover (the authority is kept). `field` prefixes error names.
    pub fn from_parts(
        auth: Authorization,
        sig: RecoverableSignature,
        field: &str,
    ) -> Result<Self, EthereumError> {
        auth.validate().map_err(|_| {
            EthereumError::field(format!("{field}.nonce"), "must be below 2^64 - 1")
        })?;
        if sig.y_parity > 1 {
            return Err(EthereumError::field(
                format!("{field}.y_parity"),
                "must be 0 or 1",
            ));
        }
        if sig.s > HALF_N {
            return Err(EthereumError::field(
                format!("{field}.s"),
                "must be at most n/2 (EIP-2 low S)",
            ));
        }
        let key = sig.recover(&auth.signing_hash()).ok_or_else(|| {
            EthereumError::field(
                field.to_string(),
                "the signature does not recover to an account",
            )
        })?;
        Ok(SignedAuthorization {
            auth,
            sig,
            authority: Address::from_public_key(&key),
        })
    }

    /// `r || s || v` with `v = 27 + y_parity`.
    pub fn signature_bytes(&self) -> [u8; 65] {
        self.sig.to_rsv_bytes()
    }

    /// Appends the RLP tuple `[chain_id, address, nonce, y_parity, r, s]`.
    pub(crate) fn encode(&self, out: &mut Vec<u8>) {
        let mut t = Vec::with_capacity(110);
        rlp::u64(&mut t, self.auth.chain_id);
        rlp::bytes(&mut t, &self.auth.address.0);
        rlp::u64(&mut t, self.auth.nonce);
        rlp::u64(&mut t, u64::from(self.sig.y_parity));
        rlp::uint(&mut t, &self.sig.r);
        rlp::uint(&mut t, &self.sig.s);
        rlp::list(out, &t);
    }
}

/// Parses up to 32 bytes of `0x` hex as a big-endian scalar.
fn scalar(v: Option<&Value>, field: &str) -> Result<[u8; 32], EthereumError> {
    let s = v
        .and_then(Value::as_str)
        .ok_or_else(|| EthereumError::field(field.to_string(), "must be a 0x hex string"))?;
    if s.len() > 66 {
        return Err(EthereumError::field(
            field.to_string(),
            "must be at most 32 bytes",
        ));
    }
    let mut digits = s.trim().to_string();
    // Accept quantities with an odd number of digits (`0x1`).
    if digits.len() % 2 == 1 && (digits.starts_with("0x") || digits.starts_with("0X")) {
        digits.insert(2, '0');
    }
    let bytes = parse_hex_bytes(&digits, field)?;
    if bytes.len() > 32 {
        return Err(EthereumError::field(
            field.to_string(),
            "must be at most 32 bytes",
        ));
    }
    let mut out = [0u8; 32];
    out[32 - bytes.len()..].copy_from_slice(&bytes);
    Ok(out)
}

/// Parses one signed tuple as the API returns it (`chain_id`, `address`,
/// `nonce`, `y_parity`, `r`, `s`). When the object also carries
/// `authority` or `signature` (a sign-authorization response passed on
/// whole), they must agree with the tuple. `field` is e.g.
/// `authorization_list[0]`.
pub fn signed_authorization_from_json(
    v: &Value,
    field: &str,
) -> Result<SignedAuthorization, EthereumError> {
    let obj = v
        .as_object()
        .ok_or_else(|| EthereumError::field(field.to_string(), "must be an object"))?;
    let f = |name: &str| format!("{field}.{name}");
    let need = |name: &str| {
        obj.get(name)
            .ok_or_else(|| EthereumError::field(f(name), "is required"))
    };
    let chain_id = u64_from_json(need("chain_id")?, &f("chain_id"))?;
    let address = need("address")?
        .as_str()
        .ok_or_else(|| EthereumError::field(f("address"), "must be a string"))?;
    let address = Address::parse_field(address.trim(), &f("address"))?;
    let nonce = u64_from_json(need("nonce")?, &f("nonce"))?;
    let y_parity = u64_from_json(need("y_parity")?, &f("y_parity"))?;
    let y_parity = u8::try_from(y_parity)
        .ok()
        .filter(|p| *p <= 1)
        .ok_or_else(|| EthereumError::field(f("y_parity"), "must be 0 or 1"))?;
    let r = scalar(obj.get("r"), &f("r"))?;
    let s = scalar(obj.get("s"), &f("s"))?;
    let signed = SignedAuthorization::from_parts(
        Authorization {
            chain_id,
            address,
            nonce,
        },
        RecoverableSignature { r, s, y_parity },
        field,
    )?;
    if let Some(a) = obj.get("authority") {
        let a = a
            .as_str()
            .ok_or_else(|| EthereumError::field(f("authority"), "must be a string"))?;
        if Address::parse_field(a.trim(), &f("authority"))? != signed.authority {
            return Err(EthereumError::field(
                f("authority"),
                "is not the account the signature recovers to",
            ));
        }
    }
    if let Some(sig) = obj.get("signature") {
        let sig = sig
            .as_str()
            .ok_or_else(|| EthereumError::field(f("signature"), "must be a string"))?;
        if sig.len() > 140
            || parse_hex_bytes(sig.trim(), &f("signature"))? != signed.signature_bytes()
        {
            return Err(EthereumError::field(
                f("signature"),
                "does not match y_parity, r and s",
            ));
        }
    }
    Ok(signed)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> Secp256k1PrivateKey {
        Secp256k1PrivateKey::from_bytes(&[0x11; 32]).expect("key")
    }

    #[test]
    fn payload_is_magic_then_rlp_list() {
        let a = Authorization {
            chain_id: 1,
            address: Address([0x22; 20]),
            nonce: 0,
        };
        let p = a.signing_payload();
        // 0x05, list of 1 + 21 + 1 bytes: 0xd7, 0x01, 0x94 <20 bytes>, 0x80.
        assert_eq!(p[..4], [0x05, 0xd7, 0x01, 0x94]);
        assert_eq!(p.len(), 1 + 1 + 23);
        assert_eq!(*p.last().expect("nonce"), 0x80);
    }

    #[test]
    fn json_round_trip_and_errors_name_fields() {
        let a = Authorization {
            chain_id: 0,
            address: Address([0x22; 20]),
            nonce: 3,
        };
        let s = a.sign(&key()).expect("sign");
        let v = serde_json::json!({
            "chain_id": "0", "address": a.address.to_checksum(), "nonce": 3,
            "y_parity": s.sig.y_parity, "r": super::super::to_hex(&s.sig.r),
            "s": super::super::to_hex(&s.sig.s),
            "authority": s.authority.to_checksum(),
            "signature": super::super::to_hex(&s.signature_bytes()),
        });
        let back = signed_authorization_from_json(&v, "authorization_list[0]").expect("parse");
        assert_eq!(back, s);
        let mut wrong = v.clone();
        wrong["nonce"] = serde_json::json!(4);
        let err = signed_authorization_from_json(&wrong, "authorization_list[0]")
            .expect_err("other authority");
        assert!(
            err.to_string().contains("authorization_list[0].authority"),
            "{err}"
        );
        let mut bad = v.clone();
        bad["y_parity"] = serde_json::json!(2);
        let err = signed_authorization_from_json(&bad, "a[1]").expect_err("parity");
        assert!(err.to_string().contains("a[1].y_parity"), "{err}");
        let mut high = v;
        high["s"] = serde_json::json!(format!("0x{}", "f".repeat(64)));
        let err = signed_authorization_from_json(&high, "a[2]").expect_err("high s");
        assert!(err.to_string().contains("a[2].s"), "{err}");
        let max = Authorization {
            nonce: u64::MAX,
            ..a
        };
        assert!(max.sign(&key()).is_err());
    }
}
