//! pb.Request / pb.Response ⇄ our `logical` types.

use std::sync::Arc;

use serde_json::{Map, Value};
use zeroize::{Zeroize, Zeroizing};

use crate::logical::{Identity, LogicalError, Operation, Request, Response, SpecialPaths, Storage};
use crate::pb::vault;

/// The largest request body the plugin parses: 8 MiB of JSON text.
///
/// The largest field any path accepts is a PSBT of 4 000 000 bytes, sent as
/// base64: 5 333 336 characters, plus the JSON around it. 8 MiB leaves
/// about 3 MB for the other fields of such a request, and is a quarter of
/// the host's own limit (32 MiB, `max_request_size`), which the host applies
/// to the HTTP body before the plugin sees anything.
pub const MAX_BODY_BYTES: usize = 8 * 1024 * 1024;

/// Which top-level body fields to parse into values: `None` parses every
/// field; `Some(keep)` only those `keep` accepts (the fields the path
/// declares). The others are checked to be valid JSON, never built, and
/// kept by name only (as `null`) for the "ignored parameters" warning.
pub type Keep<'a> = Option<&'a dyn Fn(&str) -> bool>;

/// Builds our request. The body arrives as JSON text (`"null"` when there is
/// none); with `arbitrary_precision` large integers keep all their digits.
/// A body above [`MAX_BODY_BYTES`] is refused before it is parsed, and only
/// the fields `keep` accepts are parsed into values.
/// The text may hold secrets (an imported mnemonic): it is zeroized once
/// parsed, whether or not it parses.
pub fn request(
    mut req: vault::Request,
    storage: Arc<dyn Storage>,
    identity: Arc<dyn Identity>,
    keep: Keep<'_>,
) -> Result<Request, LogicalError> {
    let text = Zeroizing::new(std::mem::take(&mut req.data));
    let data = parse_body(&text, keep)?;
    Ok(Request {
        operation: Operation::parse(&req.operation),
        path: req.path,
        data,
        mount_point: req.mount_point,
        id: req.id,
        unauthenticated: req.unauthenticated,
        storage,
        entity_id: req.entity_id,
        identity,
    })
}

/// Builds our request without its body, for the existence check: it never
/// reads the body, and it must not fail on one (the host answers a failed
/// existence check with a bare 500 "internal error", so a body our parser
/// refuses, such as JSON nested deeper than 128 levels, would be a 500
/// instead of the handler's 400).
pub fn request_without_body(
    mut req: vault::Request,
    storage: Arc<dyn Storage>,
    identity: Arc<dyn Identity>,
) -> Request {
    req.data.zeroize();
    Request {
        operation: Operation::parse(&req.operation),
        path: req.path,
        data: Map::new(),
        mount_point: req.mount_point,
        id: req.id,
        unauthenticated: req.unauthenticated,
        storage,
        entity_id: req.entity_id,
        identity,
    }
}

/// serde_json's nesting limit for arrays and objects.
const MAX_NESTING: usize = 128;

/// The whole body, every field parsed (the fuzz targets' entry point).
pub(crate) fn parse_data(text: &str) -> Result<Map<String, Value>, LogicalError> {
    parse_body(text, None)
}

/// The body as a map of its top-level fields, only the kept ones parsed
/// into values; refused before any parsing when above [`MAX_BODY_BYTES`].
pub(crate) fn parse_body(text: &str, keep: Keep<'_>) -> Result<Map<String, Value>, LogicalError> {
    if text.len() > MAX_BODY_BYTES {
        return Err(LogicalError::BadRequest(format!(
            "the request body is {} bytes, larger than the plugin's limit of {MAX_BODY_BYTES} \
             bytes (8 MiB)",
            text.len()
        )));
    }
    let text = text.trim();
    if text.is_empty() || text == "null" {
        return Ok(Map::new());
    }
    // Checked on the text: with `arbitrary_precision` a bare number reaches
    // a visitor as a map.
    if !text.starts_with('{') {
        return Err(LogicalError::BadRequest(
            "the request body must be a JSON object".into(),
        ));
    }
    let mut de = serde_json::Deserializer::from_str(text);
    let parsed = serde::de::DeserializeSeed::deserialize(Body { keep }, &mut de)
        .and_then(|map| de.end().map(|()| map));
    match parsed {
        Ok(map) => Ok(map.unwrap_or_default()),
        // The host parsed the body before us, so this is the one limit ours
        // has and the host's has not.
        Err(e) if e.to_string().starts_with("recursion limit exceeded") => {
            Err(LogicalError::BadRequest(format!(
                "the request body is nested too deeply: at most {MAX_NESTING} levels of arrays \
                 and objects"
            )))
        }
        // A value of the wrong type at the top level.
        Err(e) if e.classify() == serde_json::error::Category::Data => Err(
            LogicalError::BadRequest("the request body must be a JSON object".into()),
        ),
        // serde_json's message names a position, never the content.
        Err(e) => Err(LogicalError::BadRequest(format!(
            "the request body is not valid JSON: {e}"
        ))),
    }
}

/// The top level of a body: an object (`Some`) or `null` (`None`).
struct Body<'a> {
    keep: Keep<'a>,
}

impl<'de> serde::de::DeserializeSeed<'de> for Body<'_> {
    type Value = Option<Map<String, Value>>;

    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> serde::de::Visitor<'de> for Body<'_> {
    type Value = Option<Map<String, Value>>;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_unit<E: serde::de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut m: A) -> Result<Self::Value, A::Error> {
        let mut out = Map::new();
        while let Some(key) = m.next_key::<String>()? {
            if self.keep.is_none_or(|keep| keep(&key)) {
                let value: Value = m.next_value()?;
                out.insert(key, value);
            } else {
                m.next_value::<serde::de::IgnoredAny>()?;
                out.insert(key, Value::Null);
            }
        }
        Ok(Some(out))
    }
}

/// Our response as the host expects it: `data` must always be valid JSON.
/// The values may be secret (`export`): they are zeroized once rendered.
pub fn response(resp: Response) -> vault::Response {
    let mut data = Value::Object(resp.data);
    let text = data.to_string();
    crate::logical::field::zeroize_json(&mut data);
    vault::Response {
        data: text,
        warnings: resp.warnings,
        ..Default::default()
    }
}

pub fn special_paths(p: SpecialPaths) -> vault::Paths {
    vault::Paths {
        root: p.root,
        unauthenticated: p.unauthenticated,
        local_storage: p.local_storage,
        seal_wrap_storage: p.seal_wrap_storage,
        ..Default::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_null_body_is_an_empty_object() {
        assert!(parse_data("null").expect("ok").is_empty());
        assert!(parse_data("").expect("ok").is_empty());
    }

    #[test]
    fn large_integers_keep_their_digits() {
        let m = parse_data(r#"{"value":9007199254740993}"#).expect("ok");
        assert_eq!(m["value"].to_string(), "9007199254740993");
    }

    #[test]
    fn a_non_object_body_is_a_bad_request() {
        assert!(matches!(
            parse_data("[1]"),
            Err(LogicalError::BadRequest(_))
        ));
        assert!(matches!(parse_data("{"), Err(LogicalError::BadRequest(_))));
    }

    #[test]
    fn a_body_nested_too_deeply_is_a_bad_request_naming_the_limit() {
        let deep = format!("{{\"a\":{}1{}}}", "[".repeat(200), "]".repeat(200));
        match parse_data(&deep) {
            Err(LogicalError::BadRequest(m)) => {
                assert!(m.contains("nested too deeply") && m.contains("128"), "{m}")
            }
            other => panic!("expected a 400, got {:?}", other.map(|_| ())),
        }
        let ok = format!("{{\"a\":{}1{}}}", "[".repeat(100), "]".repeat(100));
        assert!(parse_data(&ok).is_ok());
    }

    #[test]
    fn a_body_above_the_limit_is_refused_before_parsing_naming_the_limit() {
        // Not even valid JSON: the size is checked first.
        let big = "x".repeat(MAX_BODY_BYTES + 1);
        match parse_body(&big, None) {
            Err(LogicalError::BadRequest(m)) => {
                assert!(m.contains("8388608 bytes") && m.contains("8 MiB"), "{m}")
            }
            other => panic!("expected a 400, got {:?}", other.map(|_| ())),
        }
        // The largest PSBT (4 000 000 bytes as base64) fits with room to spare.
        let psbt = format!(
            "{{\"psbt\":\"{}\",\"finalize\":true}}",
            "A".repeat(4_000_000usize.div_ceil(3) * 4)
        );
        assert!(parse_body(&psbt, None).is_ok());
    }

    #[test]
    fn only_kept_fields_are_parsed_and_the_others_are_kept_by_name() {
        let keep = |k: &str| k == "a";
        let text = r#"{"a":{"x":[1,2]},"junk":{"deep":[[[["s"]]]],"n":1e400},"b":"t"}"#;
        let m = parse_body(text, Some(&keep)).expect("ok");
        assert_eq!(m["a"], serde_json::json!({"x": [1, 2]}));
        assert_eq!(m["junk"], Value::Null);
        assert_eq!(m["b"], Value::Null);
        assert_eq!(m.len(), 3);
        // An ignored field must still be valid JSON, and the top level an object.
        assert!(matches!(
            parse_body(r#"{"junk":[1,}"#, Some(&keep)),
            Err(LogicalError::BadRequest(_))
        ));
        assert!(matches!(
            parse_body(r#"{"a":1} trailing"#, Some(&keep)),
            Err(LogicalError::BadRequest(_))
        ));
        match parse_body("[1]", Some(&keep)) {
            Err(LogicalError::BadRequest(m)) => assert!(m.contains("JSON object"), "{m}"),
            other => panic!("expected a 400, got {:?}", other.map(|_| ())),
        }
        assert!(parse_body("null", Some(&keep)).expect("ok").is_empty());
    }

    #[test]
    fn an_ignored_field_nested_deeply_neither_crashes_nor_is_built() {
        let deep = format!(
            "{{\"a\":1,\"junk\":{}1{}}}",
            "[".repeat(100_000),
            "]".repeat(100_000)
        );
        let keep = |k: &str| k == "a";
        // Either refused as too deep or skipped: never a crash.
        match parse_body(&deep, Some(&keep)) {
            Ok(m) => assert_eq!(m["junk"], Value::Null),
            Err(LogicalError::BadRequest(m)) => assert!(m.contains("nested too deeply"), "{m}"),
            Err(e) => panic!("unexpected error {e:?}"),
        }
    }

    #[test]
    fn the_existence_check_request_has_no_body_even_when_it_does_not_parse() {
        let pb = vault::Request {
            operation: "update".into(),
            path: "wallets/w".into(),
            data: format!("{{\"a\":{}1{}}}", "[".repeat(200), "]".repeat(200)),
            ..Default::default()
        };
        let storage: Arc<dyn Storage> = Arc::new(crate::logical::memory::MemoryStorage::new());
        let req = request_without_body(pb, storage, Arc::new(crate::logical::NoIdentity));
        assert!(req.data.is_empty());
        assert_eq!(req.path, "wallets/w");
    }

    #[test]
    fn response_data_is_always_valid_json() {
        let r = response(Response::default());
        assert_eq!(r.data, "{}");
    }
}
