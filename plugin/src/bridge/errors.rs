//! The one place where a handler's error becomes a host error
//! (protocol.md §6.5). The host turns `ProtoError` into an HTTP status:
//!
//! | ours | err_type | HTTP |
//! |---|---|---|
//! | BadRequest | 4 StatusBadRequest | 400 |
//! | PermissionDenied | 3 CodedError(403) | 403, message kept |
//! | NotFound | 3 CodedError(404) | 404, message kept |
//! | UnsupportedOperation | 5 | 405 |
//! | UnsupportedPath | 6 | 404 |
//! | Storage | 0 (text verbatim) | 500, or forwarded by a standby |
//! | Internal | 2 InternalError | 500 |
//!
//! Why `Storage` is type 0 with the host's text: a standby decides to
//! forward a write to the active node by a *substring* of the error text
//! (`cannot write to readonly storage`).

use crate::logical::LogicalError;
use crate::pb::vault::ProtoError;

pub const ERR_UNKNOWN: u32 = 0;
pub const ERR_INTERNAL: u32 = 2;
pub const ERR_CODED: u32 = 3;
pub const ERR_BAD_REQUEST: u32 = 4;
pub const ERR_UNSUPPORTED_OPERATION: u32 = 5;
pub const ERR_UNSUPPORTED_PATH: u32 = 6;

pub fn to_proto(err: &LogicalError) -> ProtoError {
    let (err_type, err_code) = match err {
        LogicalError::BadRequest(_) => (ERR_BAD_REQUEST, 0),
        LogicalError::PermissionDenied(_) => (ERR_CODED, 403),
        LogicalError::NotFound(_) => (ERR_CODED, 404),
        LogicalError::UnsupportedOperation => (ERR_UNSUPPORTED_OPERATION, 0),
        LogicalError::UnsupportedPath => (ERR_UNSUPPORTED_PATH, 0),
        LogicalError::Storage(_) => (ERR_UNKNOWN, 0),
        LogicalError::Internal(_) => (ERR_INTERNAL, 0),
        // Future variants are our own faults until mapped explicitly.
        #[allow(unreachable_patterns)]
        _ => (ERR_INTERNAL, 0),
    };
    ProtoError {
        err_type,
        err_msg: err.to_string(),
        err_code,
    }
}

/// The reply for a handler that panicked: a 500 that says nothing of the input.
pub fn panicked() -> ProtoError {
    ProtoError {
        err_type: ERR_INTERNAL,
        err_msg: "internal error: the request handler failed".into(),
        err_code: 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::logical::StorageError;

    #[test]
    fn each_error_kind_maps_to_its_http_status() {
        let cases = [
            (LogicalError::BadRequest("field \"name\": bad".into()), 4, 0),
            (
                LogicalError::PermissionDenied("policy max_value_per_tx".into()),
                3,
                403,
            ),
            (
                LogicalError::NotFound("wallet \"w\" not found".into()),
                3,
                404,
            ),
            (LogicalError::UnsupportedOperation, 5, 0),
            (LogicalError::UnsupportedPath, 6, 0),
            (LogicalError::Internal("x".into()), 2, 0),
        ];
        for (err, ty, code) in cases {
            let p = to_proto(&err);
            assert_eq!((p.err_type, p.err_code), (ty, code), "{err:?}");
            assert_eq!(p.err_msg, err.to_string());
        }
    }

    #[test]
    fn a_readonly_storage_error_keeps_the_hosts_text_so_standbys_forward() {
        let p = to_proto(&LogicalError::Storage(StorageError(
            "cannot write to readonly storage".into(),
        )));
        assert_eq!(p.err_type, ERR_UNKNOWN);
        assert!(p.err_msg.contains("cannot write to readonly storage"));
    }
}
