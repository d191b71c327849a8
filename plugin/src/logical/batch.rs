//! Batches: one request carrying `batch_input`, a list of single requests,
//! answered by `batch_results` in the same order (the shape of transit's
//! `batch_input`).
//!
//! A path opts in with [`Path::batch`](super::Path::batch); the router then
//! splits a request that sends `batch_input` into items and runs the path's
//! own handler once per item, so every item goes through the single path's
//! phases (decode → intent → `policy::enforce` → sign) unchanged. Each item
//! is the single request's fields; fields sent next to `batch_input` are
//! shared by every item (an item's own value wins) and path parameters win
//! over both, as they do for a single request. Items run one after the other
//! in one task: results keep the order, and an item's failure (a 400 naming
//! its field, a 403 naming its policy rule) is that item's `error` alone.
//! A storage error aborts the whole batch instead: the host must see a
//! standby's `cannot write to readonly storage` to forward the request.
//!
//! [`BatchScope`] is state shared by the items of one batch, reachable from
//! code that does not see the request ([`current`]): the policy engine keeps
//! the wallet's lock there, so a batch acquires it once and its daily
//! counters are counted item after item under that one acquisition.

use std::any::Any;
use std::sync::Arc;

use serde_json::{Map, Value};

use super::LogicalError;

/// The most items one batch may carry; more is a 400.
pub const MAX_BATCH_ITEMS: usize = 1000;

/// The most bytes the fields shared by every item may weigh once copied into
/// each item (their JSON size times the number of items): items are merged
/// before they run, so a large shared field would otherwise be copied a
/// thousand times from one request (and, for items that wait for approval,
/// stored a thousand times).
pub const MAX_SHARED_COPY_BYTES: usize = 16 * 1024 * 1024;

/// The request field holding the items.
pub const BATCH_INPUT: &str = "batch_input";
/// The response field holding one result per item.
pub const BATCH_RESULTS: &str = "batch_results";

/// The field a batchable path declares (documentation and body parsing).
pub fn input_field() -> super::Field {
    super::Field::object_list(
        BATCH_INPUT,
        "Sign several requests in one call: a list of at most 1000 objects (or a string holding \
         that list as JSON: the CLI form, and the form for large batches, since the host limits \
         the number of strings in a JSON body), each holding the fields of a single request (fields sent next to batch_input are shared by every item, \
         an item's own value wins; their size times the number of items is at most 16 MiB). The response's batch_results holds, in the same order, each \
         item's result or its error (an item refused by the policy fails alone, with its rule).",
    )
}

/// State shared by the items of one batch (see the module documentation).
#[derive(Default)]
pub struct BatchScope {
    held: tokio::sync::Mutex<Option<Box<dyn Any + Send>>>,
}

impl BatchScope {
    /// The batch's slot: what a layer keeps from one item to the next (the
    /// policy engine: the wallet's lock guard). Released when the batch ends.
    pub async fn slot(&self) -> tokio::sync::MutexGuard<'_, Option<Box<dyn Any + Send>>> {
        self.held.lock().await
    }
}

tokio::task_local! {
    static SCOPE: Arc<BatchScope>;
}

/// The batch the current task is running, if any.
pub fn current() -> Option<Arc<BatchScope>> {
    SCOPE.try_with(Arc::clone).ok()
}

/// Runs `f` as one batch: [`current`] returns its scope inside.
pub async fn scope<F: std::future::Future>(f: F) -> F::Output {
    SCOPE.scope(Arc::new(BatchScope::default()), f).await
}

/// Splits a request's data into the items of its batch: each item's fields
/// over the shared ones, path captures over both. `data` no longer holds
/// `batch_input` afterwards.
pub(crate) fn split(
    data: &mut Map<String, Value>,
    captures: &Map<String, Value>,
) -> Result<Vec<Map<String, Value>>, LogicalError> {
    let bad = |why: &str| {
        LogicalError::BadRequest(format!("invalid value for field \"{BATCH_INPUT}\": {why}"))
    };
    let input = match data.remove(BATCH_INPUT) {
        // The CLI form (`batch_input=@items.json`), which also passes the
        // host's limit on the number of strings in a JSON body: a string
        // holding the list. Bounded by the host's request size.
        Some(Value::String(mut text)) => {
            let parsed = serde_json::from_str::<Value>(&text).unwrap_or(Value::Null);
            zeroize::Zeroize::zeroize(&mut text);
            parsed
        }
        other => other.unwrap_or(Value::Null),
    };
    let Value::Array(mut items) = input else {
        let mut input = input;
        super::field::zeroize_json(&mut input);
        return Err(bad("expected a list of JSON objects"));
    };
    let refuse = |items: &mut Vec<Value>, why: String| {
        items.iter_mut().for_each(super::field::zeroize_json);
        Err(bad(&why))
    };
    if items.is_empty() {
        return refuse(&mut items, "the list is empty".into());
    }
    if items.len() > MAX_BATCH_ITEMS {
        let why = format!(
            "{} items, at most {MAX_BATCH_ITEMS} are accepted",
            items.len()
        );
        return refuse(&mut items, why);
    }
    if let Some(i) = items.iter().position(|v| !v.is_object()) {
        return refuse(&mut items, format!("item {i} is not a JSON object"));
    }
    if let Some(i) = items
        .iter()
        .position(|v| v.get(BATCH_INPUT).is_some_and(|b| !b.is_null()))
    {
        return refuse(
            &mut items,
            format!("item {i} holds a batch_input of its own"),
        );
    }
    let shared = serde_json::to_vec(&*data)
        .map(|v| v.len())
        .unwrap_or(usize::MAX);
    if shared.saturating_mul(items.len()) > MAX_SHARED_COPY_BYTES {
        let why = format!(
            "the fields sent next to it ({shared} bytes) would be copied into each of its {} \
             items, more than {MAX_SHARED_COPY_BYTES} bytes in all: send them in the items",
            items.len()
        );
        return refuse(&mut items, why);
    }
    Ok(items
        .into_iter()
        .map(|item| {
            // Every item is an object (checked above).
            let own = match item {
                Value::Object(m) => m,
                _ => Map::new(),
            };
            let mut merged = data.clone();
            for (k, v) in own {
                if let Some(mut old) = merged.insert(k, v) {
                    super::field::zeroize_json(&mut old);
                }
            }
            for (k, v) in captures {
                if let Some(mut old) = merged.insert(k.clone(), v.clone()) {
                    super::field::zeroize_json(&mut old);
                }
            }
            merged
        })
        .collect())
}

/// One item's entry in `batch_results`: its response data, or `error`.
///
/// Hook for approvals (another branch adds an approvals gate): an item the
/// gate holds for approval must fail or pend *alone*, like a policy refusal
/// (it never blocks the other items nor the batch); map its outcome here,
/// e.g. to the item's pending-approval object, rather than to `error`.
pub(crate) fn item_result(result: Result<Option<super::Response>, LogicalError>) -> Value {
    match result {
        Ok(Some(resp)) => {
            let mut data = resp.data;
            if !resp.warnings.is_empty() {
                data.insert(
                    "warnings".into(),
                    Value::Array(resp.warnings.into_iter().map(Value::String).collect()),
                );
            }
            Value::Object(data)
        }
        Ok(None) => Value::Object(Map::new()),
        Err(e) => {
            let mut m = Map::new();
            m.insert("error".into(), Value::String(e.to_string()));
            Value::Object(m)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn obj(v: Value) -> Map<String, Value> {
        match v {
            Value::Object(m) => m,
            _ => panic!("not an object"),
        }
    }

    #[test]
    fn items_take_shared_fields_their_own_win_and_captures_win_over_both() {
        let mut data = obj(json!({"chain": "solana", "hash": "shared", "batch_input": [
            {}, {"hash": "own"}, {"name": "other", "hash": "x"}
        ]}));
        let captures = obj(json!({"name": "w"}));
        let items = split(&mut data, &captures).expect("split");
        assert!(data.get(BATCH_INPUT).is_none());
        let got: Vec<Value> = items.into_iter().map(Value::Object).collect();
        assert_eq!(
            got,
            [
                json!({"chain": "solana", "hash": "shared", "name": "w"}),
                json!({"chain": "solana", "hash": "own", "name": "w"}),
                json!({"chain": "solana", "hash": "x", "name": "w"}),
            ]
        );
    }

    #[test]
    fn malformed_or_oversized_batches_are_a_400_naming_the_field() {
        let item = json!({"m": "x"});
        for input in [
            json!([]),
            json!("x"),
            json!("[1]"),
            json!({"m": 1}),
            json!([item.clone(), 1]),
            json!([{"batch_input": [item.clone()]}]),
            Value::Array(vec![item.clone(); MAX_BATCH_ITEMS + 1]),
        ] {
            let mut data = obj(json!({ "batch_input": input }));
            match split(&mut data, &Map::new()) {
                Err(LogicalError::BadRequest(m)) => assert!(m.contains(BATCH_INPUT), "{m}"),
                other => panic!("expected a 400, got {:?}", other.map(|v| v.len())),
            }
        }
        let mut data = obj(json!({ "batch_input": vec![item; MAX_BATCH_ITEMS] }));
        assert_eq!(
            split(&mut data, &Map::new()).expect("max").len(),
            MAX_BATCH_ITEMS
        );
    }

    /// Attack: one ~1 MiB request whose shared field is merged into 1000
    /// items would allocate (and, items waiting for approval, store) 1 GiB.
    #[test]
    fn a_large_shared_field_times_many_items_is_a_400_not_a_gigabyte() {
        let big = "a".repeat(1024 * 1024);
        let mut data = obj(json!({"hash": big, "batch_input": vec![json!({}); MAX_BATCH_ITEMS]}));
        match split(&mut data, &Map::new()) {
            Err(LogicalError::BadRequest(m)) => assert!(m.contains(BATCH_INPUT), "{m}"),
            other => panic!("expected a 400, got {:?}", other.map(|v| v.len())),
        }
        // A shared field that fits the bound is still shared.
        let small = "a".repeat(1024);
        let mut data = obj(json!({"hash": small, "batch_input": vec![json!({}); MAX_BATCH_ITEMS]}));
        assert_eq!(
            split(&mut data, &Map::new()).expect("fits").len(),
            MAX_BATCH_ITEMS
        );
    }

    #[test]
    fn an_item_result_is_its_data_or_its_error() {
        let ok = item_result(Ok(Some(super::super::Response::with_data(obj(
            json!({"signature": "s"}),
        )))));
        assert_eq!(ok, json!({"signature": "s"}));
        let err = item_result(Err(LogicalError::PermissionDenied(
            "policy raw_signing: no".into(),
        )));
        assert_eq!(err, json!({"error": "policy raw_signing: no"}));
    }

    #[tokio::test]
    async fn the_scope_is_visible_inside_and_only_inside() {
        assert!(current().is_none());
        scope(async {
            let a = current().expect("inside");
            let b = current().expect("inside");
            assert!(Arc::ptr_eq(&a, &b), "one scope per batch");
            *a.slot().await = Some(Box::new(7u8));
            let held = b.slot().await;
            assert_eq!(held.as_ref().and_then(|v| v.downcast_ref::<u8>()), Some(&7));
        })
        .await;
        assert!(current().is_none());
    }
}
