//! Typed field schemas and the parsing of request data into typed values.
//!
//! Every value a handler sees went through [`FieldData::parse`]: a bad type or
//! an unknown enum value is a 400 that names the field, before the handler
//! runs. Values arrive either as JSON (HTTP API) or as strings (the CLI's
//! `vault write path k=v` sends every value as a JSON string, and GET query
//! parameters are strings too), so scalars accept both forms, like Vault's
//! own `framework.FieldData`.

use std::collections::{BTreeMap, BTreeSet};

use ruint::aliases::U256;
use serde_json::{Map, Number, Value};
use zeroize::{Zeroize, Zeroizing};

use super::LogicalError;

/// The type of a field, which decides parsing and the OpenAPI schema.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum FieldType {
    String,
    /// A signed 64-bit integer: a JSON integer or a decimal string.
    Int,
    /// A JSON boolean or one of the strings `true`/`false`/`1`/`0`.
    Bool,
    /// A JSON array of strings, or one comma-separated string (CLI form).
    StringList,
    /// A JSON object, or a string holding a JSON object.
    Map,
    /// An unsigned integer up to 2^256-1 (wei, sats, lamports, gas): a decimal
    /// string, a `0x` hex string or a JSON integer. Large integers must not
    /// travel as JSON numbers in responses (the host decodes them as float64).
    BigInt,
    /// A name: `[A-Za-z0-9][A-Za-z0-9._-]{0,127}` without `..`.
    Name,
    /// A JSON array of JSON objects, or a string holding one (CLI form),
    /// e.g. an Ethereum access list.
    ObjectList,
}

impl FieldType {
    fn describe(&self) -> &'static str {
        match self {
            FieldType::String => "a string",
            FieldType::Int => "an integer",
            FieldType::Bool => "a boolean",
            FieldType::StringList => "a list of strings",
            FieldType::Map => "a JSON object",
            FieldType::BigInt => {
                "a non-negative integer (decimal string, 0x hex string or JSON integer) below 2^256"
            }
            FieldType::Name => "a name",
            FieldType::ObjectList => "a list of JSON objects",
        }
    }
}

/// The rule a [`FieldType::Name`] follows, as a regular expression for docs
/// (ECMA-262, as OpenAPI's `pattern`: the lookahead refuses `..`).
pub const NAME_PATTERN: &str = "^(?!.*\\.\\.)[A-Za-z0-9][A-Za-z0-9._-]{0,127}$";

/// Whether `s` is a valid name (see [`NAME_PATTERN`]).
///
/// `..` anywhere is refused: the host's storage refuses every key that
/// contains it ("relative paths not supported", OpenBao's
/// `logical.StorageView` and `vault.BarrierView` sanity checks), so such a
/// wallet could never be stored, and the storage error would be a 500.
pub fn is_valid_name(s: &str) -> bool {
    let b = s.as_bytes();
    !b.is_empty()
        && b.len() <= 128
        && b[0].is_ascii_alphanumeric()
        && b[1..]
            .iter()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'.' | b'_' | b'-'))
        && !s.contains("..")
}

/// One field of a path: its name, type, description and constraints.
#[derive(Debug, Clone)]
pub struct Field {
    pub name: &'static str,
    pub ty: FieldType,
    /// A full sentence (or several): this is the documentation.
    pub description: &'static str,
    pub default: Option<Value>,
    pub required: bool,
    /// For strings: the accepted values (anything else is a 400).
    pub allowed: &'static [&'static str],
    /// For integers: the accepted values (anything else is a 400).
    pub allowed_ints: &'static [i64],
    /// For integers: inclusive bounds.
    pub min: Option<i64>,
    pub max: Option<i64>,
    /// Secret input (mnemonic, key): never echoed in an error message and
    /// marked `format: password` in OpenAPI.
    pub secret: bool,
}

impl Field {
    pub fn new(name: &'static str, ty: FieldType, description: &'static str) -> Self {
        Self {
            name,
            ty,
            description,
            default: None,
            required: false,
            allowed: &[],
            allowed_ints: &[],
            min: None,
            max: None,
            secret: false,
        }
    }
    pub fn string(name: &'static str, description: &'static str) -> Self {
        Self::new(name, FieldType::String, description)
    }
    pub fn int(name: &'static str, description: &'static str) -> Self {
        Self::new(name, FieldType::Int, description)
    }
    pub fn bool(name: &'static str, description: &'static str) -> Self {
        Self::new(name, FieldType::Bool, description)
    }
    pub fn string_list(name: &'static str, description: &'static str) -> Self {
        Self::new(name, FieldType::StringList, description)
    }
    pub fn map(name: &'static str, description: &'static str) -> Self {
        Self::new(name, FieldType::Map, description)
    }
    pub fn big_int(name: &'static str, description: &'static str) -> Self {
        Self::new(name, FieldType::BigInt, description)
    }

    pub fn object_list(name: &'static str, description: &'static str) -> Self {
        Self::new(name, FieldType::ObjectList, description)
    }
    pub fn name(name: &'static str, description: &'static str) -> Self {
        Self::new(name, FieldType::Name, description)
    }

    pub fn default(mut self, value: impl Into<Value>) -> Self {
        self.default = Some(value.into());
        self
    }
    pub fn required(mut self) -> Self {
        self.required = true;
        self
    }
    pub fn one_of(mut self, allowed: &'static [&'static str]) -> Self {
        self.allowed = allowed;
        self
    }
    pub fn one_of_ints(mut self, allowed: &'static [i64]) -> Self {
        self.allowed_ints = allowed;
        self
    }
    pub fn range(mut self, min: i64, max: i64) -> Self {
        self.min = Some(min);
        self.max = Some(max);
        self
    }
    pub fn secret(mut self) -> Self {
        self.secret = true;
        self
    }

    fn type_error(&self) -> LogicalError {
        LogicalError::BadRequest(format!(
            "invalid value for field \"{}\": expected {}",
            self.name,
            self.ty.describe()
        ))
    }

    /// Parses one raw JSON value into a typed value, enforcing the constraints.
    fn parse(&self, raw: &Value) -> Result<FieldValue, LogicalError> {
        let value = match self.ty {
            FieldType::String => match raw {
                Value::String(s) => FieldValue::String(s.clone()),
                // The CLI and query strings send scalars as strings; JSON
                // clients may send a number where a string is documented.
                Value::Number(n) if !self.secret => FieldValue::String(n.to_string()),
                _ => return Err(self.type_error()),
            },
            FieldType::Name => match raw {
                Value::String(s) if is_valid_name(s) => FieldValue::String(s.clone()),
                Value::String(_) => {
                    return Err(LogicalError::BadRequest(format!(
                        "invalid value for field \"{}\": a name is 1 to 128 characters of \
                         letters, digits, '.', '_' or '-', starting with a letter or digit, \
                         without two dots in a row",
                        self.name
                    )));
                }
                _ => return Err(self.type_error()),
            },
            FieldType::Int => FieldValue::Int(parse_int(raw).ok_or_else(|| self.type_error())?),
            FieldType::Bool => FieldValue::Bool(parse_bool(raw).ok_or_else(|| self.type_error())?),
            FieldType::StringList => {
                FieldValue::StringList(parse_string_list(raw).ok_or_else(|| self.type_error())?)
            }
            FieldType::Map => match raw {
                Value::Object(m) => FieldValue::Map(m.clone()),
                Value::String(s) => match serde_json::from_str::<Value>(s) {
                    Ok(Value::Object(m)) => FieldValue::Map(m),
                    _ => return Err(self.type_error()),
                },
                _ => return Err(self.type_error()),
            },
            FieldType::BigInt => {
                FieldValue::BigInt(parse_big_int(raw).ok_or_else(|| self.type_error())?)
            }
            FieldType::ObjectList => {
                let parsed;
                let items = match raw {
                    Value::Array(items) => items,
                    Value::String(s) => match serde_json::from_str::<Value>(s) {
                        Ok(Value::Array(items)) => {
                            parsed = items;
                            &parsed
                        }
                        _ => return Err(self.type_error()),
                    },
                    _ => return Err(self.type_error()),
                };
                if !items.iter().all(Value::is_object) {
                    return Err(self.type_error());
                }
                FieldValue::ObjectList(items.clone())
            }
        };
        self.check_constraints(&value)?;
        Ok(value)
    }

    fn check_constraints(&self, value: &FieldValue) -> Result<(), LogicalError> {
        match value {
            FieldValue::String(s)
                if !self.allowed.is_empty() && !self.allowed.contains(&s.as_str()) =>
            {
                return Err(LogicalError::BadRequest(format!(
                    "invalid value for field \"{}\": must be one of {}",
                    self.name,
                    self.allowed.join(", ")
                )));
            }
            FieldValue::Int(i) => {
                if !self.allowed_ints.is_empty() && !self.allowed_ints.contains(i) {
                    let list: Vec<String> =
                        self.allowed_ints.iter().map(|i| i.to_string()).collect();
                    return Err(LogicalError::BadRequest(format!(
                        "invalid value for field \"{}\": must be one of {}",
                        self.name,
                        list.join(", ")
                    )));
                }
                let below = self.min.is_some_and(|min| *i < min);
                let above = self.max.is_some_and(|max| *i > max);
                if below || above {
                    return Err(LogicalError::BadRequest(format!(
                        "invalid value for field \"{}\": must be between {} and {}",
                        self.name,
                        self.min.map_or("-".into(), |v| v.to_string()),
                        self.max.map_or("-".into(), |v| v.to_string()),
                    )));
                }
            }
            _ => {}
        }
        Ok(())
    }
}

fn parse_int(raw: &Value) -> Option<i64> {
    match raw {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => {
            let s = s.trim();
            if s.is_empty() || s.starts_with('+') {
                return None;
            }
            s.parse().ok()
        }
        _ => None,
    }
}

fn parse_bool(raw: &Value) -> Option<bool> {
    match raw {
        Value::Bool(b) => Some(*b),
        Value::String(s) => match s.trim().to_ascii_lowercase().as_str() {
            "true" | "1" | "t" => Some(true),
            "false" | "0" | "f" => Some(false),
            _ => None,
        },
        Value::Number(n) => match n.as_u64() {
            Some(1) => Some(true),
            Some(0) => Some(false),
            _ => None,
        },
        _ => None,
    }
}

fn parse_string_list(raw: &Value) -> Option<Vec<String>> {
    match raw {
        Value::Array(items) => items
            .iter()
            .map(|v| match v {
                Value::String(s) => Some(s.clone()),
                Value::Number(n) => Some(n.to_string()),
                _ => None,
            })
            .collect(),
        // The CLI form `allowed_recipients=a,b`; an empty string is an empty list.
        Value::String(s) => Some(
            s.split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_string)
                .collect(),
        ),
        Value::Number(n) => Some(vec![n.to_string()]),
        _ => None,
    }
}

/// Parses a big unsigned integer: decimal string, `0x` hex string or JSON
/// integer (kept exact thanks to serde_json's `arbitrary_precision`).
pub fn parse_big_int(raw: &Value) -> Option<U256> {
    match raw {
        Value::String(s) => parse_big_int_str(s.trim()),
        // With arbitrary_precision the number keeps its literal digits; a
        // fraction or exponent is not an integer and is refused.
        Value::Number(n) => parse_big_int_str(&n.to_string()),
        _ => None,
    }
}

fn parse_big_int_str(s: &str) -> Option<U256> {
    if let Some(hex) = s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        if hex.is_empty() || !hex.bytes().all(|c| c.is_ascii_hexdigit()) {
            return None;
        }
        U256::from_str_radix(hex, 16).ok()
    } else {
        if s.is_empty() || !s.bytes().all(|c| c.is_ascii_digit()) {
            return None;
        }
        U256::from_str_radix(s, 10).ok()
    }
}

/// A large integer as a response value: a decimal string (never a JSON
/// number, which the host would round through float64).
pub fn big_int_value(v: &U256) -> Value {
    Value::String(v.to_string())
}

/// A parsed, typed value.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum FieldValue {
    String(String),
    Int(i64),
    Bool(bool),
    StringList(Vec<String>),
    Map(Map<String, Value>),
    BigInt(U256),
    ObjectList(Vec<Value>),
}

impl FieldValue {
    fn to_json(&self) -> Value {
        match self {
            FieldValue::String(s) => Value::String(s.clone()),
            FieldValue::Int(i) => Value::Number(Number::from(*i)),
            FieldValue::Bool(b) => Value::Bool(*b),
            FieldValue::StringList(l) => {
                Value::Array(l.iter().cloned().map(Value::String).collect())
            }
            FieldValue::Map(m) => Value::Object(m.clone()),
            FieldValue::BigInt(v) => big_int_value(v),
            FieldValue::ObjectList(l) => Value::Array(l.clone()),
        }
    }
}

impl Zeroize for FieldValue {
    fn zeroize(&mut self) {
        match self {
            FieldValue::String(s) => s.zeroize(),
            FieldValue::StringList(l) => l.iter_mut().for_each(Zeroize::zeroize),
            FieldValue::Map(m) => m.values_mut().for_each(zeroize_json),
            FieldValue::ObjectList(l) => l.iter_mut().for_each(zeroize_json),
            FieldValue::Int(_) | FieldValue::Bool(_) | FieldValue::BigInt(_) => {}
        }
    }
}

/// Overwrites every string inside a JSON value (request bodies may hold a
/// mnemonic or a key). Numbers are left alone: they are never secret here.
pub fn zeroize_json(v: &mut Value) {
    match v {
        Value::String(s) => s.zeroize(),
        Value::Array(a) => a.iter_mut().for_each(zeroize_json),
        Value::Object(m) => m.values_mut().for_each(zeroize_json),
        _ => {}
    }
}

/// The typed fields of one request, after validation at the boundary.
///
/// Values are parsed when the request arrives; getters therefore cannot
/// fail on user input. Asking for an undeclared field or with the wrong type
/// is a programming error (a `debug_assert!`, and `None` in release builds).
/// Every string is zeroized on drop, because request bodies carry secrets,
/// and `Debug` shows only the names of the fields, never a value.
#[derive(Default)]
pub struct FieldData {
    values: BTreeMap<&'static str, FieldValue>,
    /// Fields the client actually sent (as opposed to defaults).
    sent: BTreeSet<&'static str>,
}

impl std::fmt::Debug for FieldData {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FieldData")
            .field("fields", &self.values.keys().collect::<Vec<_>>())
            .field("sent", &self.sent)
            .finish_non_exhaustive()
    }
}

impl Drop for FieldData {
    fn drop(&mut self) {
        self.values.values_mut().for_each(Zeroize::zeroize);
    }
}

/// What [`FieldData::parse`] found besides the typed values.
#[derive(Debug, Default)]
pub struct ParseReport {
    /// Keys the client sent that this path does not declare (sorted).
    pub unknown: Vec<String>,
}

impl FieldData {
    /// Parses `raw` (the request body or query, with path captures already
    /// merged in, captures taking priority) against `schema`. `enforce_required`
    /// is false for existence checks (like Vault, which only validates types there).
    pub fn parse(
        schema: &[Field],
        mut raw: Map<String, Value>,
        enforce_required: bool,
    ) -> Result<(Self, ParseReport), LogicalError> {
        let mut data = FieldData::default();
        let result = (|| {
            for field in schema {
                match raw.get(field.name) {
                    // JSON null is "not sent" (the host turns an empty body into null).
                    Some(v) if !v.is_null() => {
                        let value = field.parse(v)?;
                        data.values.insert(field.name, value);
                        data.sent.insert(field.name);
                    }
                    _ => {
                        if enforce_required && field.required {
                            return Err(LogicalError::BadRequest(format!(
                                "missing required field \"{}\"",
                                field.name
                            )));
                        }
                        if let Some(default) = &field.default {
                            let value = field.parse(default).map_err(|_| {
                                LogicalError::Internal(format!(
                                    "default of field {} does not fit its type",
                                    field.name
                                ))
                            })?;
                            data.values.insert(field.name, value);
                        }
                    }
                }
            }
            Ok(())
        })();
        let mut unknown: Vec<String> = raw
            .keys()
            .filter(|k| !schema.iter().any(|f| f.name == k.as_str()))
            .cloned()
            .collect();
        unknown.sort();
        raw.values_mut().for_each(zeroize_json);
        result.map(|()| (data, ParseReport { unknown }))
    }

    /// Builds field data directly from typed values (tests, internal calls).
    pub fn from_values(values: impl IntoIterator<Item = (&'static str, FieldValue)>) -> Self {
        let mut data = FieldData::default();
        for (k, v) in values {
            data.sent.insert(k);
            data.values.insert(k, v);
        }
        data
    }

    /// Whether the client sent this field (defaults do not count).
    pub fn is_sent(&self, name: &str) -> bool {
        self.sent.contains(name)
    }

    /// The names of the fields the client sent, in order.
    pub fn sent_fields(&self) -> impl Iterator<Item = &'static str> + '_ {
        self.sent.iter().copied()
    }

    pub fn get(&self, name: &str) -> Option<&FieldValue> {
        self.values.get(name)
    }

    pub fn str(&self, name: &str) -> Option<&str> {
        match self.values.get(name) {
            Some(FieldValue::String(s)) => Some(s),
            other => wrong_type(name, "string", other),
        }
    }

    pub fn int(&self, name: &str) -> Option<i64> {
        match self.values.get(name) {
            Some(FieldValue::Int(i)) => Some(*i),
            other => wrong_type(name, "int", other),
        }
    }

    pub fn bool(&self, name: &str) -> Option<bool> {
        match self.values.get(name) {
            Some(FieldValue::Bool(b)) => Some(*b),
            other => wrong_type(name, "bool", other),
        }
    }

    pub fn string_list(&self, name: &str) -> Option<&[String]> {
        match self.values.get(name) {
            Some(FieldValue::StringList(l)) => Some(l),
            other => wrong_type(name, "string list", other),
        }
    }

    pub fn map(&self, name: &str) -> Option<&Map<String, Value>> {
        match self.values.get(name) {
            Some(FieldValue::Map(m)) => Some(m),
            other => wrong_type(name, "map", other),
        }
    }

    pub fn object_list(&self, name: &str) -> Option<&[Value]> {
        match self.values.get(name) {
            Some(FieldValue::ObjectList(l)) => Some(l),
            other => wrong_type(name, "object list", other),
        }
    }

    pub fn big_int(&self, name: &str) -> Option<U256> {
        match self.values.get(name) {
            Some(FieldValue::BigInt(v)) => Some(*v),
            other => wrong_type(name, "big int", other),
        }
    }

    /// Moves a secret string out; the caller keeps it in a zeroizing wrapper.
    pub fn take_secret(&mut self, name: &str) -> Option<Zeroizing<String>> {
        match self.values.remove(name) {
            Some(FieldValue::String(s)) => Some(Zeroizing::new(s)),
            Some(mut other) => {
                other.zeroize();
                wrong_type(name, "string", Some(&other))
            }
            None => None,
        }
    }

    /// The typed values as JSON (for tests and echoing non-secret input).
    pub fn to_json(&self, name: &str) -> Option<Value> {
        self.values.get(name).map(FieldValue::to_json)
    }
}

fn wrong_type<T>(name: &str, wanted: &str, found: Option<&FieldValue>) -> Option<T> {
    debug_assert!(
        found.is_none(),
        "field {name} read as {wanted} but holds another type"
    );
    let _ = (name, wanted);
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn schema() -> Vec<Field> {
        vec![
            Field::name("name", "The name."),
            Field::int("words", "Words.")
                .one_of_ints(&[12, 24])
                .default(24),
            Field::int("count", "Count.").range(1, 1000),
            Field::bool("flag", "Flag.").default(false),
            Field::string("curve", "Curve.").one_of(&["secp256k1", "ed25519"]),
            Field::string_list("list", "List."),
            Field::map("obj", "Object."),
            Field::big_int("value", "Value."),
            Field::string("needed", "Needed.").required(),
        ]
    }

    fn parse(v: Value) -> Result<(FieldData, ParseReport), LogicalError> {
        let Value::Object(m) = v else {
            unreachable!("test input is an object")
        };
        FieldData::parse(&schema(), m, true)
    }

    fn bad_request(v: Value) -> String {
        match parse(v) {
            Err(LogicalError::BadRequest(m)) => m,
            other => panic!("expected a 400, got {:?}", other.map(|_| ())),
        }
    }

    #[test]
    fn debug_of_the_fields_names_them_and_shows_no_value() {
        let (d, _) = parse(json!({
            "needed": "correct horse battery staple", "list": ["s3cr3t-list-item"],
            "obj": {"k": "s3cr3t-object-value"}
        }))
        .expect("valid");
        let shown = format!("{d:?}\n{d:#?}");
        for value in ["correct horse", "s3cr3t-list-item", "s3cr3t-object-value"] {
            assert!(!shown.contains(value), "Debug shows {value:?}: {shown}");
        }
        assert!(shown.contains("needed") && shown.contains("obj"), "{shown}");
    }

    #[test]
    fn scalars_accept_json_and_cli_strings() {
        let (d, r) = parse(json!({
            "needed": "x", "words": "12", "flag": "true", "count": 5,
            "list": "a, b,,c", "obj": "{\"k\":1}", "value": "0x10", "extra": 1
        }))
        .expect("valid");
        assert_eq!(d.int("words"), Some(12));
        assert_eq!(d.bool("flag"), Some(true));
        assert_eq!(d.int("count"), Some(5));
        assert_eq!(
            d.string_list("list").map(<[String]>::to_vec),
            Some(vec!["a".to_string(), "b".into(), "c".into()])
        );
        assert_eq!(d.map("obj").and_then(|m| m.get("k")), Some(&json!(1)));
        assert_eq!(d.big_int("value"), Some(U256::from(16u8)));
        assert_eq!(r.unknown, vec!["extra".to_string()]);
    }

    #[test]
    fn defaults_apply_but_do_not_count_as_sent() {
        let (d, _) = parse(json!({"needed": "x"})).expect("valid");
        assert_eq!(d.int("words"), Some(24));
        assert!(!d.is_sent("words"));
        assert!(d.is_sent("needed"));
        assert_eq!(d.int("count"), None);
    }

    #[test]
    fn bad_values_are_400s_naming_the_field() {
        assert!(bad_request(json!({"needed": "x", "words": 13})).contains("\"words\""));
        assert!(bad_request(json!({"needed": "x", "words": 1.5})).contains("\"words\""));
        assert!(bad_request(json!({"needed": "x", "count": 0})).contains("\"count\""));
        assert!(bad_request(json!({"needed": "x", "flag": "maybe"})).contains("\"flag\""));
        assert!(bad_request(json!({"needed": "x", "curve": "p256"})).contains("\"curve\""));
        assert!(bad_request(json!({"needed": "x", "name": "-bad"})).contains("\"name\""));
        assert!(bad_request(json!({"needed": "x", "obj": [1]})).contains("\"obj\""));
        assert!(bad_request(json!({"needed": "x", "value": "-1"})).contains("\"value\""));
        assert!(bad_request(json!({"needed": "x", "value": "1e3"})).contains("\"value\""));
        assert!(bad_request(json!({})).contains("\"needed\""));
    }

    #[test]
    fn big_integers_keep_every_digit() {
        // 2^256 - 1 as a JSON integer literal: exact thanks to arbitrary_precision.
        let max = "115792089237316195423570985008687907853269984665640564039457584007913129639935";
        let raw: Value =
            serde_json::from_str(&format!("{{\"needed\":\"x\",\"value\":{max}}}")).expect("json");
        let (d, _) = parse(raw).expect("valid");
        assert_eq!(d.big_int("value"), Some(U256::MAX));
        assert_eq!(big_int_value(&U256::MAX), json!(max));
        let over = format!("{{\"needed\":\"x\",\"value\":\"{max}0\"}}");
        assert!(bad_request(serde_json::from_str(&over).expect("json")).contains("\"value\""));
    }

    #[test]
    fn names_follow_the_documented_rule() {
        assert!(is_valid_name("a"));
        assert!(is_valid_name("My.wallet_1-x"));
        assert!(is_valid_name(&"a".repeat(128)));
        assert!(!is_valid_name(&"a".repeat(129)));
        assert!(!is_valid_name(""));
        assert!(!is_valid_name(".hidden"));
        assert!(!is_valid_name("a/b"));
        assert!(!is_valid_name("a b"));
        // The host's storage refuses any key containing "..".
        for bad in ["a..b", "a..", "1...", "x.-..y"] {
            assert!(!is_valid_name(bad), "{bad}");
        }
        assert!(is_valid_name("a.b.c."));
    }
}
