//! The framework driven through the `Backend` trait with a toy backend.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use serde_json::{Map, Value, json};

use super::memory::MemoryStorage;
use super::*;

#[derive(Default)]
struct Toy {
    invalidated: parking_lot::Mutex<Vec<String>>,
    cleanups: AtomicUsize,
}

async fn echo(_: Arc<Toy>, ctx: Ctx) -> HandlerResult {
    Ok(Some(response(json!({
        "name": ctx.fields.str("name"),
        "count": ctx.fields.int("count"),
        "op": ctx.operation.as_str(),
    }))))
}

async fn nothing(_: Arc<Toy>, _: Ctx) -> HandlerResult {
    Ok(None)
}

async fn items(_: Arc<Toy>, _: Ctx) -> HandlerResult {
    Ok(Some(list_response(vec!["a".into(), "b".into()])))
}

async fn exists(_: Arc<Toy>, ctx: Ctx) -> Result<bool, LogicalError> {
    Ok(ctx.fields.str("name") == Some("there"))
}

fn toy() -> Framework<Toy> {
    let paths = vec![
        Path::new("items/")
            .operation(Operation::List, "List the items.", handler(items))
            .help("List items.", "Lists every item."),
        Path::new("items/{name}")
            .field(Field::name("name", "The name of the item."))
            .field(
                Field::int("count", "How many there are.")
                    .range(1, 10)
                    .default(1),
            )
            .field(Field::string("secret", "A secret input.").secret())
            .operation(Operation::Create, "Create an item.", handler(echo))
            .operation(Operation::Update, "Update an item.", handler(echo))
            .operation(Operation::Read, "Read an item.", handler(echo))
            .operation(Operation::Delete, "Delete an item.", handler(nothing))
            .existence_check(existence(exists))
            .help(
                "Manage one item.",
                "Items are things. This text is the long description.",
            ),
        Path::new("items/{name}/count")
            .field(Field::name("name", "The name of the item."))
            .field(Field::int("count", "How many there are.").required())
            .operation(Operation::Update, "Set the count.", handler(echo))
            .help("Set the count of an item.", ""),
    ];
    Framework::new(Arc::new(Toy::default()), "A toy backend.", paths)
        .on_invalidate(Arc::new(|t: &Toy, k: &str| {
            t.invalidated.lock().push(k.into())
        }))
        .on_cleanup(Arc::new(|t: &Toy| {
            t.cleanups.fetch_add(1, Ordering::SeqCst);
        }))
}

fn req(op: Operation, path: &str, data: Value) -> Request {
    let data = match data {
        Value::Object(m) => m,
        _ => Map::new(),
    };
    Request {
        operation: op,
        path: path.into(),
        data,
        mount_point: "toy/".into(),
        id: "req-1".into(),
        unauthenticated: false,
        storage: Arc::new(MemoryStorage::new()),
        entity_id: String::new(),
        identity: Arc::new(crate::logical::NoIdentity),
    }
}

async fn call(b: &Framework<Toy>, op: Operation, path: &str, data: Value) -> Response {
    match b.handle_request(req(op, path, data)).await {
        Ok(Some(r)) => r,
        Ok(None) => panic!("no response for {path}"),
        Err(e) => panic!("error for {path}: {e}"),
    }
}

async fn error(b: &Framework<Toy>, op: Operation, path: &str, data: Value) -> LogicalError {
    match b.handle_request(req(op, path, data)).await {
        Ok(_) => panic!("expected an error for {path}"),
        Err(e) => e,
    }
}

#[tokio::test]
async fn requests_are_routed_to_the_first_matching_path_with_typed_fields() {
    let b = toy();
    let r = call(&b, Operation::Read, "items/x1", json!({"count": "3"})).await;
    assert_eq!(r.data["name"], json!("x1"));
    assert_eq!(r.data["count"], json!(3));
    assert_eq!(r.data["op"], json!("read"));
    let r = call(&b, Operation::List, "items/", json!(null)).await;
    assert_eq!(r.data["keys"], json!(["a", "b"]));
    let r = call(&b, Operation::List, "items", json!(null)).await;
    assert_eq!(r.data["keys"], json!(["a", "b"]));
}

#[tokio::test]
async fn the_url_wins_over_a_name_in_the_body() {
    let b = toy();
    let r = call(&b, Operation::Update, "items/url", json!({"name": "body"})).await;
    assert_eq!(r.data["name"], json!("url"));
}

#[tokio::test]
async fn an_unknown_path_is_unsupported_path_and_a_missing_operation_unsupported_operation() {
    let b = toy();
    assert!(matches!(
        error(&b, Operation::Read, "nope", json!({})).await,
        LogicalError::UnsupportedPath
    ));
    assert!(matches!(
        error(&b, Operation::Read, "items/a/b/c", json!({})).await,
        LogicalError::UnsupportedPath
    ));
    assert!(matches!(
        error(&b, Operation::Delete, "items/", json!({})).await,
        LogicalError::UnsupportedOperation
    ));
    assert!(matches!(
        error(&b, Operation::Read, "items/a/count", json!({})).await,
        LogicalError::UnsupportedOperation
    ));
    assert!(matches!(
        error(&b, Operation::Patch, "items/a", json!({})).await,
        LogicalError::UnsupportedOperation
    ));
}

#[tokio::test]
async fn bad_fields_are_400s_that_name_the_field_and_never_echo_secrets() {
    let b = toy();
    let e = error(&b, Operation::Update, "items/-bad", json!({})).await;
    assert!(
        matches!(&e, LogicalError::BadRequest(m) if m.contains("\"name\"")),
        "{e}"
    );
    let e = error(&b, Operation::Update, "items/a", json!({"count": 11})).await;
    assert!(
        matches!(&e, LogicalError::BadRequest(m) if m.contains("\"count\"")),
        "{e}"
    );
    let e = error(&b, Operation::Update, "items/a/count", json!({})).await;
    assert!(
        matches!(&e, LogicalError::BadRequest(m) if m.contains("\"count\"")),
        "{e}"
    );
    let e = error(
        &b,
        Operation::Update,
        "items/a",
        json!({"secret": 12345678}),
    )
    .await;
    assert!(
        matches!(&e, LogicalError::BadRequest(m) if m.contains("\"secret\"") && !m.contains("12345678")),
        "{e}"
    );
}

#[tokio::test]
async fn unknown_fields_are_ignored_with_a_warning_like_vault() {
    let b = toy();
    let r = call(
        &b,
        Operation::Update,
        "items/a",
        json!({"zeta": 1, "alpha": 2}),
    )
    .await;
    assert_eq!(
        r.warnings,
        vec!["Endpoint ignored these unrecognized parameters: [alpha zeta]".to_string()]
    );
    // A handler that returns nothing still carries the warning, as in Vault.
    let r = b
        .handle_request(req(Operation::Delete, "items/a", json!({"x": 1})))
        .await
        .expect("ok")
        .expect("a response for the warning");
    assert_eq!(r.warnings.len(), 1);
    let none = b
        .handle_request(req(Operation::Delete, "items/a", json!({})))
        .await
        .expect("ok");
    assert!(none.is_none());
}

#[tokio::test]
async fn the_existence_check_decides_create_or_update() {
    let b = toy();
    let found = b
        .existence_check(req(Operation::Update, "items/there", json!({})))
        .await
        .expect("check");
    assert_eq!(
        found,
        ExistenceCheck {
            check_found: true,
            exists: true
        }
    );
    let missing = b
        .existence_check(req(Operation::Update, "items/gone", json!({})))
        .await
        .expect("check");
    assert_eq!(
        missing,
        ExistenceCheck {
            check_found: true,
            exists: false
        }
    );
    // A path without a check keeps the operation as update.
    let none = b
        .existence_check(req(Operation::Update, "items/a/count", json!({})))
        .await
        .expect("check");
    assert!(!none.check_found);
    assert!(matches!(
        b.existence_check(req(Operation::Update, "nope", json!({})))
            .await,
        Err(LogicalError::UnsupportedPath)
    ));
    // A bad path value is "does not exist", never an error: the host turns
    // a failed existence check into a bare 500, while the handler that runs
    // next answers with a 400 naming the field.
    assert_eq!(
        b.existence_check(req(Operation::Update, "items/-x", json!({})))
            .await
            .expect("check"),
        ExistenceCheck {
            check_found: true,
            exists: false
        }
    );
    // The body is not looked at: a bad body value cannot fail the check.
    assert!(
        b.existence_check(req(Operation::Update, "items/a", json!({"count": "x"})))
            .await
            .is_ok()
    );
}

#[tokio::test]
async fn help_on_a_path_describes_it_with_its_openapi() {
    let b = toy();
    let r = call(&b, Operation::Help, "items/abc", json!(null)).await;
    let help = r.data["help"].as_str().expect("help text");
    assert!(help.contains("Manage one item."));
    assert!(help.contains("Items are things."));
    assert!(help.contains("count (int)"));
    assert!(help.contains("How many there are."));
    assert_eq!(r.data["see_also"], Value::Null);
    let paths = r.data["openapi"]["paths"].as_object().expect("paths");
    assert_eq!(paths.keys().collect::<Vec<_>>(), vec!["/items/{name}"]);
    // Help on a path that does not exist is a 404 like any other request.
    assert!(matches!(
        error(&b, Operation::Help, "nope", json!(null)).await,
        LogicalError::UnsupportedPath
    ));
}

#[tokio::test]
async fn root_help_carries_an_openapi_document_of_every_path() {
    let b = toy();
    let r = call(
        &b,
        Operation::Help,
        "",
        json!({"requestResponsePrefix": "vault-plugin-toy"}),
    )
    .await;
    assert!(
        r.data["help"]
            .as_str()
            .expect("text")
            .contains("items/{name}/count")
    );
    let doc = &r.data["openapi"];
    assert_eq!(doc["openapi"], json!("3.0.2"));
    let item = &doc["paths"]["/items/{name}"];
    assert_eq!(item["description"], json!("Manage one item."));
    assert_eq!(item["x-vault-createSupported"], json!(true));
    assert_eq!(item["parameters"][0]["name"], json!("name"));
    assert_eq!(item["parameters"][0]["in"], json!("path"));
    assert_eq!(
        item["get"]["operationId"],
        json!("vault-plugin-toy-read-items-name")
    );
    assert_eq!(
        item["delete"]["responses"]["204"]["description"],
        json!("empty body")
    );
    // Inline, because the host's merge drops `$ref` bodies.
    let schema = &item["post"]["requestBody"]["content"]["application/json"]["schema"];
    assert_eq!(schema["properties"]["count"]["type"], json!("integer"));
    assert_eq!(schema["properties"]["count"]["default"], json!(1));
    assert_eq!(schema["properties"]["count"]["maximum"], json!(10));
    assert_eq!(schema["properties"]["secret"]["format"], json!("password"));
    assert!(
        schema["properties"].get("name").is_none(),
        "path params are not body fields"
    );
    let list = &doc["paths"]["/items/"]["get"];
    assert_eq!(list["parameters"][0]["name"], json!("list"));
    assert_eq!(
        doc["paths"]["/items/{name}/count"]["post"]["requestBody"]["required"],
        json!(true)
    );
    let count_schema = doc["components"]["schemas"]
        .as_object()
        .expect("schemas")
        .iter()
        .find(|(k, _)| k.ends_with("ItemsNameCountRequest"))
        .map(|(_, v)| v.clone())
        .expect("count schema");
    assert_eq!(count_schema["required"], json!(["count"]));
}

#[tokio::test]
async fn lifecycle_hooks_reach_the_state() {
    let b = toy();
    b.invalidate("items/x").await;
    b.cleanup().await;
    assert_eq!(*b.state().invalidated.lock(), vec!["items/x".to_string()]);
    assert_eq!(b.state().cleanups.load(Ordering::SeqCst), 1);
    b.initialize(Arc::new(MemoryStorage::new()))
        .await
        .expect("no hook is fine");
}
