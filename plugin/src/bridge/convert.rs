//! pb.Request / pb.Response ⇄ our `logical` types.

use std::sync::Arc;

use serde_json::{Map, Value};
use zeroize::{Zeroize, Zeroizing};

use crate::logical::{LogicalError, Operation, Request, Response, SpecialPaths, Storage};
use crate::pb::vault;

/// Builds our request. The body arrives as JSON text (`"null"` when there is
/// none); with `arbitrary_precision` large integers keep all their digits.
/// The text may hold secrets (an imported mnemonic): it is zeroized once
/// parsed, whether or not it parses.
pub fn request(
    mut req: vault::Request,
    storage: Arc<dyn Storage>,
) -> Result<Request, LogicalError> {
    let text = Zeroizing::new(std::mem::take(&mut req.data));
    let data = parse_data(&text)?;
    Ok(Request {
        operation: Operation::parse(&req.operation),
        path: req.path,
        data,
        mount_point: req.mount_point,
        id: req.id,
        unauthenticated: req.unauthenticated,
        storage,
    })
}

/// Builds our request without its body, for the existence check: it never
/// reads the body, and it must not fail on one (the host answers a failed
/// existence check with a bare 500 "internal error", so a body our parser
/// refuses, such as JSON nested deeper than 128 levels, would be a 500
/// instead of the handler's 400).
pub fn request_without_body(mut req: vault::Request, storage: Arc<dyn Storage>) -> Request {
    req.data.zeroize();
    Request {
        operation: Operation::parse(&req.operation),
        path: req.path,
        data: Map::new(),
        mount_point: req.mount_point,
        id: req.id,
        unauthenticated: req.unauthenticated,
        storage,
    }
}

/// serde_json's nesting limit for arrays and objects.
const MAX_NESTING: usize = 128;

pub(crate) fn parse_data(text: &str) -> Result<Map<String, Value>, LogicalError> {
    let text = text.trim();
    if text.is_empty() || text == "null" {
        return Ok(Map::new());
    }
    match serde_json::from_str::<Value>(text) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(Value::Null) => Ok(Map::new()),
        Ok(_) => Err(LogicalError::BadRequest(
            "the request body must be a JSON object".into(),
        )),
        // The host parsed the body before us, so this is the one limit ours
        // has and the host's has not.
        Err(e) if e.to_string().starts_with("recursion limit exceeded") => {
            Err(LogicalError::BadRequest(format!(
                "the request body is nested too deeply: at most {MAX_NESTING} levels of arrays \
                 and objects"
            )))
        }
        // serde_json's message names a position, never the content.
        Err(e) => Err(LogicalError::BadRequest(format!(
            "the request body is not valid JSON: {e}"
        ))),
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
    fn the_existence_check_request_has_no_body_even_when_it_does_not_parse() {
        let pb = vault::Request {
            operation: "update".into(),
            path: "wallets/w".into(),
            data: format!("{{\"a\":{}1{}}}", "[".repeat(200), "]".repeat(200)),
            ..Default::default()
        };
        let storage: Arc<dyn Storage> = Arc::new(crate::logical::memory::MemoryStorage::new());
        let req = request_without_body(pb, storage);
        assert!(req.data.is_empty());
        assert_eq!(req.path, "wallets/w");
    }

    #[test]
    fn response_data_is_always_valid_json() {
        let r = response(Response::default());
        assert_eq!(r.data, "{}");
    }
}
