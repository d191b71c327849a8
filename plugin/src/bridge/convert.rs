//! pb.Request / pb.Response ⇄ our `logical` types.

use std::sync::Arc;

use serde_json::{Map, Value};

use crate::logical::{LogicalError, Operation, Request, Response, SpecialPaths, Storage};
use crate::pb::vault;

/// Builds our request. The body arrives as JSON text (`"null"` when there is
/// none); with `arbitrary_precision` large integers keep all their digits.
pub fn request(req: vault::Request, storage: Arc<dyn Storage>) -> Result<Request, LogicalError> {
    let data = parse_data(&req.data)?;
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
        // serde_json's message names a position, never the content.
        Err(e) => Err(LogicalError::BadRequest(format!(
            "the request body is not valid JSON: {e}"
        ))),
    }
}

/// Our response as the host expects it: `data` must always be valid JSON.
pub fn response(resp: Response) -> vault::Response {
    vault::Response {
        data: Value::Object(resp.data).to_string(),
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
    fn response_data_is_always_valid_json() {
        let r = response(Response::default());
        assert_eq!(r.data, "{}");
    }
}
