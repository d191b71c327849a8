//! EIP-712 typed structured data hashing, as `eth_signTypedData_v4` does it.
//!
//! Spec: <https://eips.ethereum.org/EIPS/eip-712>.
//!
//! - `encodeType`: the primary type first, then every referenced struct type
//!   sorted by name, each as `Name(type1 name1,type2 name2)`.
//! - `hashStruct(s) = keccak256(typeHash || encodeData(s))`; each member is
//!   32 bytes: atomic values ABI-encoded, `string`/`bytes` as keccak256 of
//!   their content, structs as their `hashStruct`, arrays (`T[]`, `T[k]`) as
//!   keccak256 of the concatenated member encodings (v4 semantics).
//! - signing hash `= keccak256(0x19 0x01 || domainSeparator || hashStruct(message))`,
//!   without the message hash when `primaryType` is `EIP712Domain`.
//!
//! Stricter than some wallets, on purpose, because a signer should sign only
//! what is declared: a value's key that its type does not declare is an
//! error (otherwise a `domain.chainId` could be shown to a policy but not be
//! signed), a missing or `null` member is an error, `bytesN` must be exactly
//! N bytes, `bool` must be a JSON boolean.
//!
//! Bounds, each checked before the work it bounds: nesting depth
//! [`MAX_DEPTH`], total encoded values [`MAX_VALUES`], number of types
//! [`MAX_TYPES`], members of all types [`MAX_MEMBERS`], the length of a
//! type or member name [`MAX_NAME_BYTES`], array dimensions of one type
//! [`MAX_ARRAY_DIMENSIONS`], the `encodeType` text hashed for one signature
//! [`MAX_ENCODED_TYPE_BYTES`], JSON text [`MAX_JSON_BYTES`]. Nothing here
//! recurses deeper than [`MAX_DEPTH`] (values) or [`MAX_TYPES`] (type
//! references), so it runs on a 2 MiB thread stack.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use serde_json::{Map, Value};

use super::{U256, keccak256};

/// Maximum nesting of structs and arrays while encoding a value.
pub const MAX_DEPTH: usize = 32;
/// Maximum number of values (atomic, struct or array) encoded for one
/// signature.
pub const MAX_VALUES: usize = 100_000;
/// Maximum number of declared types.
pub const MAX_TYPES: usize = 256;
/// Maximum size of typed data given as JSON text.
pub const MAX_JSON_BYTES: usize = 1 << 20;
/// Maximum number of members of all declared types together.
pub const MAX_MEMBERS: usize = 1024;
/// Maximum length of a type name, a member name or a member's type string.
pub const MAX_NAME_BYTES: usize = 256;
/// Maximum number of array dimensions of one member type (`T[][2][]` has 3).
pub const MAX_ARRAY_DIMENSIONS: usize = MAX_DEPTH;
/// Maximum total length of the `encodeType` strings hashed for one
/// signature (every struct type's string holds its dependencies).
pub const MAX_ENCODED_TYPE_BYTES: usize = 1 << 20;

const NAME_LIMIT: usize = 64;

/// Errors of typed data. Paths such as `message.from.wallet` and type names
/// (public, caller-supplied) name the offending part; no error carries a
/// value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TypedDataError {
    /// The typed data's own structure (`types`, `primaryType`, `domain`,
    /// `message`) is malformed.
    #[error("invalid typed_data.{field}: {reason}")]
    Structure {
        /// The top-level member.
        field: &'static str,
        /// What is wrong.
        reason: &'static str,
    },
    /// A type name is not declared and not an atomic type.
    #[error("typed_data type {0:?} is not defined")]
    UnknownType(String),
    /// A type name or declaration is malformed.
    #[error("typed_data type {name:?} is invalid: {reason}")]
    InvalidType {
        /// The type name.
        name: String,
        /// What is wrong.
        reason: &'static str,
    },
    /// A value does not fit its declared type.
    #[error("invalid typed_data value at {path}: {reason}")]
    InvalidValue {
        /// Where (e.g. `message.to.wallet`).
        path: String,
        /// What is wrong.
        reason: &'static str,
    },
    /// A member declared by the type is missing from the value.
    #[error("typed_data value at {path} is missing")]
    MissingMember {
        /// Where.
        path: String,
    },
    /// A value has a member its type does not declare.
    #[error("typed_data value at {path} is not declared by its type")]
    UndeclaredMember {
        /// Where.
        path: String,
    },
    /// Nesting deeper than [`MAX_DEPTH`].
    #[error("typed_data nesting exceeds {MAX_DEPTH} levels")]
    TooDeep,
    /// More than [`MAX_VALUES`] values, [`MAX_TYPES`] types or
    /// [`MAX_JSON_BYTES`] bytes.
    #[error("typed_data is too large")]
    TooLarge,
    /// The JSON text does not parse.
    #[error("typed_data is not valid JSON")]
    Json,
}

fn clip(s: &str) -> String {
    if s.len() <= NAME_LIMIT {
        s.to_owned()
    } else {
        let mut end = NAME_LIMIT;
        while !s.is_char_boundary(end) {
            end -= 1;
        }
        format!("{}...", &s[..end])
    }
}

/// One member of a struct type.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Member {
    name: String,
    ty: String,
}

/// A parsed type reference.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Ty<'a> {
    Bool,
    Address,
    String,
    Bytes,
    FixedBytes(usize),
    Uint(usize),
    Int(usize),
    Struct(&'a str),
    Array(Box<Ty<'a>>, Option<usize>),
}

/// Parses an atomic or dynamic type name; `None` if it is none of them.
fn atomic(name: &str) -> Option<Ty<'static>> {
    match name {
        "bool" => return Some(Ty::Bool),
        "address" => return Some(Ty::Address),
        "string" => return Some(Ty::String),
        "bytes" => return Some(Ty::Bytes),
        _ => {}
    }
    let width = |digits: &str| -> Option<usize> {
        if digits.is_empty()
            || digits.starts_with('0')
            || !digits.bytes().all(|b| b.is_ascii_digit())
        {
            return None;
        }
        digits.parse().ok()
    };
    if let Some(d) = name.strip_prefix("bytes") {
        return width(d)
            .filter(|n| (1..=32).contains(n))
            .map(Ty::FixedBytes);
    }
    if let Some(d) = name.strip_prefix("uint") {
        return width(d)
            .filter(|n| n % 8 == 0 && (8..=256).contains(n))
            .map(Ty::Uint);
    }
    if let Some(d) = name.strip_prefix("int") {
        return width(d)
            .filter(|n| n % 8 == 0 && (8..=256).contains(n))
            .map(Ty::Int);
    }
    None
}

fn is_identifier(s: &str) -> bool {
    let mut bytes = s.bytes();
    match bytes.next() {
        Some(b) if b.is_ascii_alphabetic() || b == b'_' || b == b'$' => {}
        _ => return false,
    }
    bytes.all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'$')
}

/// Validated EIP-712 typed data (`types`, `primaryType`, `domain`, `message`).
#[derive(Debug, Clone)]
pub struct TypedData {
    types: BTreeMap<String, Vec<Member>>,
    primary_type: String,
    domain: Map<String, Value>,
    message: Value,
}

/// The hashes of typed data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TypedDataHash {
    /// `hashStruct(domain)`.
    pub domain_separator: [u8; 32],
    /// `hashStruct(message)`; `None` when the primary type is `EIP712Domain`.
    pub message_hash: Option<[u8; 32]>,
    /// The digest that is signed.
    pub signing_hash: [u8; 32],
    /// `domain.chainId`, when present.
    pub chain_id: Option<U256>,
}

impl TypedData {
    /// Parses typed data from JSON text (at most [`MAX_JSON_BYTES`]).
    pub fn from_json_str(s: &str) -> Result<Self, TypedDataError> {
        if s.len() > MAX_JSON_BYTES {
            return Err(TypedDataError::TooLarge);
        }
        let v: Value = serde_json::from_str(s).map_err(|_| TypedDataError::Json)?;
        TypedData::from_json(&v)
    }

    /// The API's `typed_data` field: the typed data object itself, or a JSON
    /// string holding it (as `eth_signTypedData_v4` callers often send).
    pub fn from_api_value(v: &Value) -> Result<Self, TypedDataError> {
        match v {
            Value::String(s) => TypedData::from_json_str(s),
            other => TypedData::from_json(other),
        }
    }

    /// Validates the structure and every type declaration. Values are
    /// checked when hashing.
    pub fn from_json(v: &Value) -> Result<Self, TypedDataError> {
        let obj = v.as_object().ok_or(TypedDataError::Structure {
            field: "",
            reason: "must be a JSON object",
        })?;
        let types_v =
            obj.get("types")
                .and_then(Value::as_object)
                .ok_or(TypedDataError::Structure {
                    field: "types",
                    reason: "must be an object",
                })?;
        if types_v.len() > MAX_TYPES {
            return Err(TypedDataError::TooLarge);
        }
        let mut total_members = 0usize;
        for members_v in types_v.values() {
            total_members = total_members.saturating_add(members_v.as_array().map_or(0, Vec::len));
        }
        if total_members > MAX_MEMBERS {
            return Err(TypedDataError::TooLarge);
        }
        let primary_type = obj
            .get("primaryType")
            .and_then(Value::as_str)
            .ok_or(TypedDataError::Structure {
                field: "primaryType",
                reason: "must be a string",
            })?
            .to_owned();
        let domain = obj
            .get("domain")
            .and_then(Value::as_object)
            .ok_or(TypedDataError::Structure {
                field: "domain",
                reason: "must be an object",
            })?
            .clone();
        let message = match obj.get("message") {
            Some(m) => m.clone(),
            None if primary_type == "EIP712Domain" => Value::Object(Map::new()),
            None => {
                return Err(TypedDataError::Structure {
                    field: "message",
                    reason: "is missing",
                });
            }
        };

        let mut types = BTreeMap::new();
        for (name, members_v) in types_v {
            if name.len() > MAX_NAME_BYTES {
                return Err(TypedDataError::InvalidType {
                    name: clip(name),
                    reason: "type names are at most 256 bytes",
                });
            }
            if !is_identifier(name) || atomic(name).is_some() {
                return Err(TypedDataError::InvalidType {
                    name: clip(name),
                    reason: "struct names must be identifiers and not atomic type names",
                });
            }
            let arr = members_v
                .as_array()
                .ok_or_else(|| TypedDataError::InvalidType {
                    name: clip(name),
                    reason: "must be a list of {name, type}",
                })?;
            let mut members = Vec::with_capacity(arr.len());
            let mut seen = BTreeSet::new();
            for m in arr {
                let (Some(mname), Some(mty)) = (
                    m.get("name").and_then(Value::as_str),
                    m.get("type").and_then(Value::as_str),
                ) else {
                    return Err(TypedDataError::InvalidType {
                        name: clip(name),
                        reason: "every member needs a string name and type",
                    });
                };
                if mname.len() > MAX_NAME_BYTES || mty.len() > MAX_NAME_BYTES {
                    return Err(TypedDataError::InvalidType {
                        name: clip(name),
                        reason: "member names and types are at most 256 bytes",
                    });
                }
                if !is_identifier(mname) {
                    return Err(TypedDataError::InvalidType {
                        name: clip(name),
                        reason: "member names must be identifiers",
                    });
                }
                if !seen.insert(mname) {
                    return Err(TypedDataError::InvalidType {
                        name: clip(name),
                        reason: "duplicate member name",
                    });
                }
                members.push(Member {
                    name: mname.to_owned(),
                    ty: mty.to_owned(),
                });
            }
            types.insert(name.clone(), members);
        }

        // EIP712Domain may be omitted from `types`: then it is the fields the
        // domain has, in the order the EIP lists them.
        if !types.contains_key("EIP712Domain") {
            const CANONICAL: [(&str, &str); 5] = [
                ("name", "string"),
                ("version", "string"),
                ("chainId", "uint256"),
                ("verifyingContract", "address"),
                ("salt", "bytes32"),
            ];
            let members = CANONICAL
                .iter()
                .filter(|(n, _)| domain.contains_key(*n))
                .map(|(n, t)| Member {
                    name: (*n).to_owned(),
                    ty: (*t).to_owned(),
                })
                .collect();
            types.insert("EIP712Domain".to_owned(), members);
        }

        let td = TypedData {
            types,
            primary_type,
            domain,
            message,
        };
        for members in td.types.values() {
            for m in members {
                td.parse_type(&m.ty)?;
            }
        }
        if !td.types.contains_key(&td.primary_type) {
            return Err(TypedDataError::UnknownType(clip(&td.primary_type)));
        }
        Ok(td)
    }

    /// The primary type's name.
    pub fn primary_type(&self) -> &str {
        &self.primary_type
    }

    /// `domain.chainId`, when present.
    pub fn domain_chain_id(&self) -> Result<Option<U256>, TypedDataError> {
        match self.domain.get("chainId") {
            None => Ok(None),
            Some(v) => {
                let (neg, mag) = integer(v, "domain.chainId")?;
                if neg && !mag.is_zero() {
                    return Err(TypedDataError::InvalidValue {
                        path: "domain.chainId".into(),
                        reason: "must not be negative",
                    });
                }
                Ok(Some(mag))
            }
        }
    }

    /// The `domain` object.
    pub fn domain(&self) -> &Map<String, Value> {
        &self.domain
    }

    /// The `message` value (an empty object when the primary type is
    /// `EIP712Domain` and no message was given).
    pub fn message(&self) -> &Value {
        &self.message
    }

    /// The declared type of member `member` of struct type `struct_name`
    /// (`EIP712Domain` included), if both are declared.
    pub fn member_type(&self, struct_name: &str, member: &str) -> Option<&str> {
        self.types
            .get(struct_name)?
            .iter()
            .find(|m| m.name == member)
            .map(|m| m.ty.as_str())
    }

    /// `domain.verifyingContract`, when the domain declares it as an
    /// `address` and has it: what is signed. Declared as another type (or
    /// not declared), it names no contract and this is `None`.
    pub fn verifying_contract(&self) -> Result<Option<super::Address>, TypedDataError> {
        if self.member_type("EIP712Domain", "verifyingContract") != Some("address") {
            return Ok(None);
        }
        match self.domain.get("verifyingContract") {
            None | Some(Value::Null) => Ok(None),
            Some(v) => {
                let word = atomic_word("address", v, "domain.verifyingContract")?;
                let mut out = [0u8; 20];
                out.copy_from_slice(&word[12..]);
                Ok(Some(super::Address(out)))
            }
        }
    }

    /// Parses a member type. Iterative: the array dimensions (at most
    /// [`MAX_ARRAY_DIMENSIONS`]) are read from the right, then the element
    /// type is wrapped in them.
    fn parse_type<'a>(&'a self, s: &'a str) -> Result<Ty<'a>, TypedDataError> {
        if s.len() > MAX_NAME_BYTES {
            return Err(TypedDataError::InvalidType {
                name: clip(s),
                reason: "type strings are at most 256 bytes",
            });
        }
        let mut dims: Vec<Option<usize>> = Vec::new();
        let mut elem = s;
        while let Some(head) = elem.strip_suffix(']') {
            if dims.len() == MAX_ARRAY_DIMENSIONS {
                return Err(TypedDataError::InvalidType {
                    name: clip(s),
                    reason: "more than 32 array dimensions",
                });
            }
            let open = head.rfind('[').ok_or_else(|| TypedDataError::InvalidType {
                name: clip(s),
                reason: "unbalanced array brackets",
            })?;
            let len = &head[open + 1..];
            let len = if len.is_empty() {
                None
            } else {
                let n: usize = len
                    .parse()
                    .ok()
                    .filter(|n| *n > 0 && len.bytes().all(|b| b.is_ascii_digit()))
                    .ok_or_else(|| TypedDataError::InvalidType {
                        name: clip(s),
                        reason: "array length must be a positive decimal number",
                    })?;
                Some(n)
            };
            dims.push(len);
            elem = &head[..open];
        }
        let mut ty = if let Some(t) = atomic(elem) {
            t
        } else {
            match self.types.get_key_value(elem) {
                Some((name, _)) => Ty::Struct(name.as_str()),
                None => return Err(TypedDataError::UnknownType(clip(elem))),
            }
        };
        // In `T[2][3]` the outer array (`[3]`, read first) holds `T[2]`:
        // wrap from the last dimension read (the innermost) outwards.
        for len in dims.into_iter().rev() {
            ty = Ty::Array(Box::new(ty), len);
        }
        Ok(ty)
    }

    /// The struct types `name` references, directly or not (not `name`).
    fn dependencies<'a>(
        &'a self,
        name: &'a str,
        found: &mut BTreeSet<&'a str>,
    ) -> Result<(), TypedDataError> {
        let members = self
            .types
            .get(name)
            .ok_or_else(|| TypedDataError::UnknownType(clip(name)))?;
        for m in members {
            let mut t = self.parse_type(&m.ty)?;
            while let Ty::Array(inner, _) = t {
                t = *inner;
            }
            if let Ty::Struct(dep) = t
                && found.insert(dep)
            {
                self.dependencies(dep, found)?;
            }
        }
        Ok(())
    }

    /// `encodeType(name)`.
    pub fn encode_type(&self, name: &str) -> Result<String, TypedDataError> {
        let mut deps = BTreeSet::new();
        self.dependencies(name, &mut deps)?;
        deps.remove(name);
        let mut out = String::new();
        for t in std::iter::once(name).chain(deps.iter().copied()) {
            let members = self
                .types
                .get(t)
                .ok_or_else(|| TypedDataError::UnknownType(clip(t)))?;
            out.push_str(t);
            out.push('(');
            for (i, m) in members.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&m.ty);
                out.push(' ');
                out.push_str(&m.name);
            }
            out.push(')');
        }
        Ok(out)
    }

    /// `typeHash(name) = keccak256(encodeType(name))`.
    pub fn type_hash(&self, name: &str) -> Result<[u8; 32], TypedDataError> {
        Ok(keccak256(self.encode_type(name)?.as_bytes()))
    }

    /// `hashStruct` of `value` as type `name`.
    pub fn hash_struct(&self, name: &str, value: &Value) -> Result<[u8; 32], TypedDataError> {
        let mut enc = Encoder {
            td: self,
            type_hashes: HashMap::new(),
            values: 0,
            type_bytes: 0,
        };
        enc.hash_struct(name, value, &mut String::from("value"), 0)
    }

    /// The domain separator, message hash and signing digest.
    pub fn hash(&self) -> Result<TypedDataHash, TypedDataError> {
        let mut enc = Encoder {
            td: self,
            type_hashes: HashMap::new(),
            values: 0,
            type_bytes: 0,
        };
        let domain = Value::Object(self.domain.clone());
        let domain_separator =
            enc.hash_struct("EIP712Domain", &domain, &mut String::from("domain"), 0)?;
        let message_hash = if self.primary_type == "EIP712Domain" {
            None
        } else {
            Some(enc.hash_struct(
                &self.primary_type,
                &self.message,
                &mut String::from("message"),
                0,
            )?)
        };
        let mut buf = Vec::with_capacity(66);
        buf.extend_from_slice(&[0x19, 0x01]);
        buf.extend_from_slice(&domain_separator);
        if let Some(h) = &message_hash {
            buf.extend_from_slice(h);
        }
        Ok(TypedDataHash {
            domain_separator,
            message_hash,
            signing_hash: keccak256(&buf),
            chain_id: self.domain_chain_id()?,
        })
    }
}

struct Encoder<'a> {
    td: &'a TypedData,
    type_hashes: HashMap<&'a str, [u8; 32]>,
    values: usize,
    /// Total length of the `encodeType` strings hashed so far.
    type_bytes: usize,
}

fn invalid(path: &str, reason: &'static str) -> TypedDataError {
    TypedDataError::InvalidValue {
        path: path.to_owned(),
        reason,
    }
}

/// Reads an integer given as a JSON integer, a decimal string (optionally
/// negative) or a `0x` hex string; returns (negative, magnitude).
fn integer(v: &Value, path: &str) -> Result<(bool, U256), TypedDataError> {
    let text = match v {
        Value::Number(n) => {
            if let Some(u) = n.as_u64() {
                return Ok((false, U256::from(u)));
            }
            n.to_string()
        }
        Value::String(s) => s.trim().to_owned(),
        _ => {
            return Err(invalid(
                path,
                "must be an integer, a decimal string or a 0x hex string",
            ));
        }
    };
    let (neg, body) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text.as_str()),
    };
    let mag = if let Some(h) = body.strip_prefix("0x").or_else(|| body.strip_prefix("0X")) {
        if h.is_empty() || !h.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(invalid(path, "not a valid 0x hex number"));
        }
        U256::from_str_radix(h, 16).map_err(|_| invalid(path, "exceeds 256 bits"))?
    } else {
        if body.is_empty() || !body.bytes().all(|b| b.is_ascii_digit()) {
            return Err(invalid(
                path,
                "must be an integer, a decimal string or a 0x hex string",
            ));
        }
        U256::from_str_radix(body, 10).map_err(|_| invalid(path, "exceeds 256 bits"))?
    };
    Ok((neg, mag))
}

fn hex_value(v: &Value, path: &str) -> Result<Vec<u8>, TypedDataError> {
    let s = v
        .as_str()
        .ok_or_else(|| invalid(path, "must be a 0x hex string"))?;
    let digits = s
        .strip_prefix("0x")
        .or_else(|| s.strip_prefix("0X"))
        .ok_or_else(|| invalid(path, "must be a 0x hex string"))?;
    hex::decode(digits).map_err(|_| {
        invalid(
            path,
            "must be a 0x hex string with an even number of digits",
        )
    })
}

impl<'a> Encoder<'a> {
    fn count(&mut self) -> Result<(), TypedDataError> {
        self.values += 1;
        if self.values > MAX_VALUES {
            return Err(TypedDataError::TooLarge);
        }
        Ok(())
    }

    fn type_hash(&mut self, name: &'a str) -> Result<[u8; 32], TypedDataError> {
        if let Some(h) = self.type_hashes.get(name) {
            return Ok(*h);
        }
        let text = self.td.encode_type(name)?;
        self.type_bytes = self.type_bytes.saturating_add(text.len());
        if self.type_bytes > MAX_ENCODED_TYPE_BYTES {
            return Err(TypedDataError::TooLarge);
        }
        let h = keccak256(text.as_bytes());
        self.type_hashes.insert(name, h);
        Ok(h)
    }

    fn hash_struct(
        &mut self,
        name: &'a str,
        value: &Value,
        path: &mut String,
        depth: usize,
    ) -> Result<[u8; 32], TypedDataError> {
        if depth > MAX_DEPTH {
            return Err(TypedDataError::TooDeep);
        }
        self.count()?;
        let obj = value
            .as_object()
            .ok_or_else(|| invalid(path, "must be an object"))?;
        let members = self
            .td
            .types
            .get(name)
            .ok_or_else(|| TypedDataError::UnknownType(clip(name)))?;
        // Every key must be declared: count the declared ones present
        // (n log n, not keys x members); only when some key is not declared
        // look it up among the sorted member names.
        let declared = members.iter().filter(|m| obj.contains_key(&m.name)).count();
        if declared != obj.len() {
            let mut names: Vec<&str> = members.iter().map(|m| m.name.as_str()).collect();
            names.sort_unstable();
            if let Some(key) = obj
                .keys()
                .find(|k| names.binary_search(&k.as_str()).is_err())
            {
                return Err(TypedDataError::UndeclaredMember {
                    path: format!("{path}.{}", clip(key)),
                });
            }
        }
        let mut buf = Vec::with_capacity(32 * (members.len() + 1));
        buf.extend_from_slice(&self.type_hash(name)?);
        for m in members {
            let len = path.len();
            path.push('.');
            path.push_str(&m.name);
            let v = match obj.get(&m.name) {
                Some(v) if !v.is_null() => v,
                _ => return Err(TypedDataError::MissingMember { path: path.clone() }),
            };
            let ty = self.td.parse_type(&m.ty)?;
            let word = self.encode_value(&ty, v, path, depth + 1)?;
            buf.extend_from_slice(&word);
            path.truncate(len);
        }
        Ok(keccak256(&buf))
    }

    fn encode_value(
        &mut self,
        ty: &Ty<'a>,
        v: &Value,
        path: &mut String,
        depth: usize,
    ) -> Result<[u8; 32], TypedDataError> {
        if depth > MAX_DEPTH {
            return Err(TypedDataError::TooDeep);
        }
        self.count()?;
        let word = match ty {
            Ty::Struct(name) => self.hash_struct(name, v, path, depth)?,
            Ty::Array(elem, len) => {
                let items = v
                    .as_array()
                    .ok_or_else(|| invalid(path, "must be a list"))?;
                if let Some(n) = len
                    && items.len() != *n
                {
                    return Err(invalid(
                        path,
                        "has the wrong length for its fixed-size array type",
                    ));
                }
                let mut buf = Vec::with_capacity(items.len() * 32);
                for (i, item) in items.iter().enumerate() {
                    let plen = path.len();
                    path.push_str(&format!("[{i}]"));
                    buf.extend_from_slice(&self.encode_value(elem, item, path, depth + 1)?);
                    path.truncate(plen);
                }
                keccak256(&buf)
            }
            atomic_ty => encode_atomic(atomic_ty, v, path)?,
        };
        Ok(word)
    }
}

/// The 32-byte encoding of an atomic or dynamic (`string`, `bytes`) value,
/// with every check of its type. Struct and array types are not atomic.
fn encode_atomic(ty: &Ty<'_>, v: &Value, path: &str) -> Result<[u8; 32], TypedDataError> {
    let mut word = [0u8; 32];
    match ty {
        Ty::Bool => {
            let b = v
                .as_bool()
                .ok_or_else(|| invalid(path, "must be true or false"))?;
            word[31] = u8::from(b);
        }
        Ty::Address => {
            let s = v
                .as_str()
                .ok_or_else(|| invalid(path, "must be an address string"))?;
            let digits = s
                .strip_prefix("0x")
                .or_else(|| s.strip_prefix("0X"))
                .filter(|d| d.len() == 40)
                .ok_or_else(|| invalid(path, "must be 0x followed by 40 hex digits"))?;
            hex::decode_to_slice(digits, &mut word[12..])
                .map_err(|_| invalid(path, "must be 0x followed by 40 hex digits"))?;
        }
        Ty::String => {
            let s = v
                .as_str()
                .ok_or_else(|| invalid(path, "must be a string"))?;
            word = keccak256(s.as_bytes());
        }
        Ty::Bytes => {
            word = keccak256(&hex_value(v, path)?);
        }
        Ty::FixedBytes(n) => {
            let b = hex_value(v, path)?;
            if b.len() != *n {
                return Err(invalid(
                    path,
                    "has the wrong number of bytes for its bytesN type",
                ));
            }
            word[..*n].copy_from_slice(&b);
        }
        Ty::Uint(bits) => {
            let (neg, mag) = integer(v, path)?;
            if neg && !mag.is_zero() {
                return Err(invalid(path, "must not be negative for an unsigned type"));
            }
            if *bits < 256 && mag >> *bits != U256::ZERO {
                return Err(invalid(path, "out of range for its uintN type"));
            }
            word = mag.to_be_bytes::<32>();
        }
        Ty::Int(bits) => {
            let (neg, mag) = integer(v, path)?;
            let limit = U256::from(1u8) << (*bits - 1);
            let ok = if neg { mag <= limit } else { mag < limit };
            if !ok {
                return Err(invalid(path, "out of range for its intN type"));
            }
            // Two's complement, sign-extended to 256 bits.
            let val = if neg { mag.wrapping_neg() } else { mag };
            word = val.to_be_bytes::<32>();
        }
        Ty::Struct(_) | Ty::Array(..) => {
            return Err(invalid(path, "is not of an atomic type"));
        }
    }
    Ok(word)
}

/// The word that hashing encodes for `v` as the atomic type `ty_name`
/// (`address`, `uintN`, `bool`, `bytesN`, ...): the same checks, the same
/// bytes. For decoders that must read exactly what is signed.
pub(crate) fn atomic_word(
    ty_name: &str,
    v: &Value,
    path: &str,
) -> Result<[u8; 32], TypedDataError> {
    let ty = atomic(ty_name).ok_or_else(|| TypedDataError::UnknownType(clip(ty_name)))?;
    encode_atomic(&ty, v, path)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn mail() -> Value {
        json!({
            "types": {
                "EIP712Domain": [
                    {"name": "name", "type": "string"},
                    {"name": "version", "type": "string"},
                    {"name": "chainId", "type": "uint256"},
                    {"name": "verifyingContract", "type": "address"}
                ],
                "Person": [{"name": "name", "type": "string"}, {"name": "wallet", "type": "address"}],
                "Mail": [
                    {"name": "from", "type": "Person"},
                    {"name": "to", "type": "Person"},
                    {"name": "contents", "type": "string"}
                ]
            },
            "primaryType": "Mail",
            "domain": {"name": "Ether Mail", "version": "1", "chainId": 1,
                "verifyingContract": "0xCcCCccccCCCCcCCCCCCcCcCccCcCCCcCcccccccC"},
            "message": {
                "from": {"name": "Cow", "wallet": "0xCD2a3d9F938E13CD947Ec05AbC7FE734Df8DD826"},
                "to": {"name": "Bob", "wallet": "0xbBbBBBBbbBBBbbbBbbBbbbbBBbBbbbbBbBbbBBbB"},
                "contents": "Hello, Bob!"
            }
        })
    }

    #[test]
    fn encode_type_orders_dependencies() {
        let td = TypedData::from_json(&mail()).expect("valid");
        assert_eq!(
            td.encode_type("Mail").expect("encode"),
            "Mail(Person from,Person to,string contents)Person(string name,address wallet)"
        );
    }

    #[test]
    fn undeclared_and_missing_members_are_errors() {
        let mut v = mail();
        v["message"]["extra"] = json!(1);
        let td = TypedData::from_json(&v).expect("structure ok");
        assert_eq!(
            td.hash().expect_err("extra"),
            TypedDataError::UndeclaredMember {
                path: "message.extra".into()
            }
        );
        let mut v = mail();
        v["message"]["to"]
            .as_object_mut()
            .expect("obj")
            .remove("wallet");
        let td = TypedData::from_json(&v).expect("structure ok");
        assert_eq!(
            td.hash().expect_err("missing"),
            TypedDataError::MissingMember {
                path: "message.to.wallet".into()
            }
        );
    }

    #[test]
    fn integer_ranges() {
        let td = |ty: &str, val: Value| {
            let v = json!({
                "types": {"T": [{"name": "x", "type": ty}]},
                "primaryType": "T", "domain": {}, "message": {"x": val}
            });
            TypedData::from_json(&v).and_then(|t| t.hash())
        };
        assert!(td("uint8", json!(255)).is_ok());
        assert!(td("uint8", json!(256)).is_err());
        assert!(td("uint8", json!(-1)).is_err());
        assert!(td("int8", json!(-128)).is_ok());
        assert!(td("int8", json!("-129")).is_err());
        assert!(td("int8", json!(127)).is_ok());
        assert!(td("int8", json!(128)).is_err());
        assert!(
            td(
                "uint256",
                json!("0xffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff")
            )
            .is_ok()
        );
        assert!(
            td(
                "int256",
                json!(
                    "-57896044618658097711785492504343953926634992332820282019728792003956564819968"
                )
            )
            .is_ok()
        );
        assert!(
            td(
                "int256",
                json!(
                    "57896044618658097711785492504343953926634992332820282019728792003956564819968"
                )
            )
            .is_err()
        );
        assert!(td("uint7", json!(1)).is_err());
        assert!(td("uint264", json!(1)).is_err());
        assert!(td("bytes33", json!("0x00")).is_err());
        assert!(td("bytes2", json!("0x0001")).is_ok());
        assert!(td("bytes2", json!("0x01")).is_err());
        assert!(td("bool", json!("true")).is_err());
        assert!(td("uint8[2]", json!([1, 2])).is_ok());
        assert!(td("uint8[2]", json!([1])).is_err());
        assert!(td("uint8[0]", json!([])).is_err());
        assert!(td("Nope", json!(1)).is_err());
    }

    #[test]
    fn recursion_is_bounded() {
        let mut msg = json!({"children": []});
        for _ in 0..40 {
            msg = json!({"children": [msg]});
        }
        let v = json!({
            "types": {"Node": [{"name": "children", "type": "Node[]"}]},
            "primaryType": "Node", "domain": {}, "message": msg
        });
        let td = TypedData::from_json(&v).expect("structure");
        assert_eq!(td.hash(), Err(TypedDataError::TooDeep));
    }

    #[test]
    fn api_value_may_be_a_json_string() {
        let text = mail().to_string();
        let a = TypedData::from_api_value(&Value::String(text))
            .expect("string")
            .hash();
        let b = TypedData::from_api_value(&mail()).expect("object").hash();
        assert_eq!(a, b);
        assert_eq!(
            TypedData::from_api_value(&json!("{not json")).err(),
            Some(TypedDataError::Json)
        );
    }

    #[test]
    fn domain_type_may_be_omitted() {
        let mut v = mail();
        v["types"]
            .as_object_mut()
            .expect("obj")
            .remove("EIP712Domain");
        let a = TypedData::from_json(&v)
            .expect("valid")
            .hash()
            .expect("hash");
        let b = TypedData::from_json(&mail())
            .expect("valid")
            .hash()
            .expect("hash");
        assert_eq!(a, b);
        assert_eq!(a.chain_id, Some(U256::from(1u8)));
    }

    /// Runs `f` on a thread with the 2 MiB stack of the runtime's worker
    /// and blocking threads, as the plugin does.
    fn on_worker_stack<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
        std::thread::Builder::new()
            .stack_size(2 * 1024 * 1024)
            .spawn(f)
            .expect("spawn")
            .join()
            .expect("no panic")
    }

    fn one_member(ty: &str) -> String {
        format!(
            r#"{{"types":{{"T":[{{"name":"x","type":"{ty}"}}]}},"primaryType":"T","domain":{{}},"message":{{"x":1}}}}"#
        )
    }

    /// Regression (stack overflow, process abort): a member type with
    /// 400 000 array dimensions (`uint8[][]...`, 800 KB, under the 1 MiB
    /// limit) was parsed by a recursion per dimension.
    #[test]
    fn array_dimensions_are_bounded_before_parsing() {
        let text = one_member(&format!("uint8{}", "[]".repeat(400_000)));
        assert!(text.len() < MAX_JSON_BYTES);
        let r = on_worker_stack(move || TypedData::from_json_str(&text).err());
        assert!(
            matches!(r, Some(TypedDataError::InvalidType { reason, .. }) if reason.contains("256 bytes")),
            "{r:?}"
        );
        // At the bound: 32 dimensions parse, 33 are refused by name.
        let text = one_member(&format!("uint8{}", "[]".repeat(MAX_ARRAY_DIMENSIONS)));
        assert!(TypedData::from_json_str(&text).is_ok());
        let text = one_member(&format!("uint8{}", "[]".repeat(MAX_ARRAY_DIMENSIONS + 1)));
        let r = TypedData::from_json_str(&text).err();
        assert!(
            matches!(&r, Some(TypedDataError::InvalidType { reason, .. }) if reason.contains("32 array dimensions")),
            "{r:?}"
        );
        // Dimensions of fixed size nest the right way round: the outer
        // array of `uint8[2][3]` has 3 elements of `uint8[2]`.
        let v = json!({"types": {"T": [{"name": "x", "type": "uint8[2][3]"}]},
            "primaryType": "T", "domain": {}, "message": {"x": [[1, 2], [3, 4], [5, 6]]}});
        assert!(TypedData::from_json(&v).expect("valid").hash().is_ok());
        let v = json!({"types": {"T": [{"name": "x", "type": "uint8[2][3]"}]},
            "primaryType": "T", "domain": {}, "message": {"x": [[1, 2, 3], [4, 5, 6]]}});
        assert!(TypedData::from_json(&v).expect("valid").hash().is_err());
    }

    #[test]
    fn type_and_member_names_are_bounded() {
        let long = format!("T{}", "a".repeat(MAX_NAME_BYTES));
        let text = format!(
            r#"{{"types":{{"{long}":[]}},"primaryType":"{long}","domain":{{}},"message":{{}}}}"#
        );
        assert!(matches!(
            TypedData::from_json_str(&text),
            Err(TypedDataError::InvalidType { .. })
        ));
        let text = one_member(&format!("uint8[{}]", "1".repeat(MAX_NAME_BYTES)));
        assert!(matches!(
            TypedData::from_json_str(&text),
            Err(TypedDataError::InvalidType { .. })
        ));
    }

    /// Regression (hang): many members, many types and long encodeType
    /// strings made hashing quadratic (each of 256 types' encodeType holds
    /// every declaration).
    #[test]
    fn declared_members_are_bounded() {
        let members: Vec<Value> = (0..=MAX_MEMBERS)
            .map(|i| json!({"name": format!("m{i}"), "type": "bool"}))
            .collect();
        let v = json!({"types": {"T": members}, "primaryType": "T", "domain": {}, "message": {}});
        assert_eq!(
            TypedData::from_json(&v).err(),
            Some(TypedDataError::TooLarge)
        );
    }

    #[test]
    fn an_undeclared_member_is_found_among_many() {
        let members: Vec<Value> = (0..1000)
            .map(|i| json!({"name": format!("m{i}"), "type": "bool"}))
            .collect();
        let mut msg = Map::new();
        for i in 0..1000 {
            msg.insert(format!("m{i}"), json!(true));
        }
        let v = json!({"types": {"T": members}, "primaryType": "T", "domain": {}, "message": msg});
        assert!(TypedData::from_json(&v).expect("valid").hash().is_ok());
        let mut v2 = v.clone();
        v2["message"]["zz"] = json!(true);
        assert_eq!(
            TypedData::from_json(&v2).expect("valid").hash().err(),
            Some(TypedDataError::UndeclaredMember {
                path: "message.zz".into()
            })
        );
    }
}
