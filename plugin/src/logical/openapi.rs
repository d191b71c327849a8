//! OpenAPI 3.0 generation from path declarations.
//!
//! The shape follows Vault's `framework.OASDocument` because the host
//! decodes our document into it (with mapstructure) and merges `paths` under
//! `/<mount>` and `components.schemas` into `sys/internal/specs/openapi`:
//! paths relative to the mount with a leading `/`, path parameters on the
//! path item, `x-vault-createSupported` when an existence check maps writes
//! to create, request bodies inline (also listed in `components.schemas`), LIST as a
//! `get` with a required `list=true` query parameter.

use serde_json::{Map, Value, json};

use super::Operation;
use super::field::{Field, FieldType, NAME_PATTERN};
use super::path::{Path, Segment};

/// The OpenAPI document for `paths`. `prefix` is the host's
/// `requestResponsePrefix` (the plugin name), used to keep operation ids and
/// schema names unique across mounts; empty means `crypto`.
pub fn document<'a, S: 'a>(paths: impl Iterator<Item = &'a Path<S>>, prefix: &str) -> Value {
    let prefix = sanitize_prefix(prefix);
    let mut doc_paths = Map::new();
    let mut schemas = Map::new();
    for path in paths {
        let (key, item) = path_item(path, &prefix, &mut schemas);
        doc_paths.insert(key, item);
    }
    json!({
        "openapi": "3.0.2",
        "info": {
            "title": "vault-plugin-crypto",
            "description": "HD wallets and Ethereum, Bitcoin and Solana signing inside Vault and OpenBao.",
            "version": concat!("v", env!("CARGO_PKG_VERSION")),
            "license": { "name": "MPL-2.0", "url": "https://www.mozilla.org/en-US/MPL/2.0/" }
        },
        "paths": doc_paths,
        "components": { "schemas": schemas }
    })
}

fn sanitize_prefix(prefix: &str) -> String {
    let p: String = prefix
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect();
    let p = p.trim_matches('-').to_string();
    if p.is_empty() { "crypto".into() } else { p }
}

/// The JSON schema of one field.
pub fn field_schema(f: &Field) -> Value {
    let mut s = Map::new();
    let ty = match f.ty {
        FieldType::String | FieldType::Name | FieldType::BigInt => "string",
        FieldType::Int => "integer",
        FieldType::Bool => "boolean",
        FieldType::StringList | FieldType::ObjectList => "array",
        FieldType::Map => "object",
    };
    s.insert("type".into(), json!(ty));
    s.insert("description".into(), json!(f.description));
    match f.ty {
        FieldType::StringList => {
            s.insert("items".into(), json!({"type": "string"}));
        }
        FieldType::ObjectList => {
            s.insert("items".into(), json!({"type": "object"}));
        }
        FieldType::Name => {
            s.insert("pattern".into(), json!(NAME_PATTERN));
        }
        FieldType::BigInt => {
            // A decimal string in responses; decimal, 0x hex or a JSON integer in requests.
            s.insert("pattern".into(), json!("^(0x[0-9a-fA-F]+|[0-9]+)$"));
        }
        FieldType::Int => {
            s.insert("format".into(), json!("int64"));
            if let Some(min) = f.min {
                s.insert("minimum".into(), json!(min));
            }
            if let Some(max) = f.max {
                s.insert("maximum".into(), json!(max));
            }
        }
        _ => {}
    }
    if f.secret {
        s.insert("format".into(), json!("password"));
        s.insert("x-vault-displayAttrs".into(), json!({"sensitive": true}));
    }
    if !f.allowed.is_empty() {
        s.insert("enum".into(), json!(f.allowed));
    }
    if !f.allowed_ints.is_empty() {
        s.insert("enum".into(), json!(f.allowed_ints));
    }
    if let Some(d) = &f.default {
        s.insert("default".into(), d.clone());
    }
    Value::Object(s)
}

fn pascal(words: &str) -> String {
    words
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(|w| {
            let mut c = w.chars();
            match c.next() {
                Some(first) => first.to_ascii_uppercase().to_string() + c.as_str(),
                None => String::new(),
            }
        })
        .collect()
}

fn path_words<S>(path: &Path<S>) -> String {
    let words: Vec<&str> = path
        .pattern
        .segments()
        .iter()
        .map(|s| match s {
            Segment::Literal(l) | Segment::Param(l) => l.as_str(),
        })
        .collect();
    if words.is_empty() {
        "root".into()
    } else {
        words.join("-").to_ascii_lowercase()
    }
}

fn path_item<S>(path: &Path<S>, prefix: &str, schemas: &mut Map<String, Value>) -> (String, Value) {
    let words = path_words(path);
    let mut item = Map::new();
    item.insert("description".into(), json!(path.help_synopsis.trim()));

    let params: Vec<Value> = path
        .pattern
        .params()
        .filter_map(|p| path.field_named(p))
        .map(|f| {
            json!({
                "name": f.name,
                "description": f.description,
                "in": "path",
                "schema": field_schema(f),
                "required": true
            })
        })
        .collect();
    if !params.is_empty() {
        item.insert("parameters".into(), Value::Array(params));
    }
    let create_supported = path.existence_check.is_some() && path.supports(&Operation::Create);
    if create_supported {
        item.insert("x-vault-createSupported".into(), json!(true));
    }

    let body_fields: Vec<&Field> = path
        .fields
        .iter()
        .filter(|f| !path.is_path_param(f.name))
        .collect();
    let has_writes = path.supports(&Operation::Create) || path.supports(&Operation::Update);
    let query_params = |list: bool| -> Vec<Value> {
        let mut q: Vec<Value> = Vec::new();
        if list {
            q.push(json!({
                "name": "list",
                "description": "Must be set to `true`",
                "in": "query",
                "schema": {"type": "string", "enum": ["true"]},
                "required": true
            }));
        } else if !has_writes {
            // A read-only path takes its fields as query parameters.
            for f in &body_fields {
                q.push(json!({
                    "name": f.name,
                    "description": f.description,
                    "in": "query",
                    "schema": field_schema(f),
                    "required": f.required
                }));
            }
        }
        q
    };

    for spec in &path.operations {
        let (method, verb) = match spec.operation {
            Operation::Read => ("get", "read"),
            Operation::List => ("get", "list"),
            Operation::Create | Operation::Update => ("post", "write"),
            Operation::Delete => ("delete", "delete"),
            Operation::Patch => ("patch", "patch"),
            _ => continue,
        };
        if item.contains_key(method) {
            // create and update share the one `post` operation.
            continue;
        }
        let op_id = format!("{prefix}-{verb}-{words}");
        let mut op = Map::new();
        op.insert("summary".into(), json!(spec.summary));
        op.insert("operationId".into(), json!(op_id));
        op.insert("tags".into(), json!(["secrets"]));
        if method == "get" {
            let q = query_params(spec.operation == Operation::List);
            if !q.is_empty() {
                op.insert("parameters".into(), Value::Array(q));
            }
        }
        if method == "post" && !body_fields.is_empty() {
            let schema_name = format!("{}Request", pascal(&op_id));
            let mut props = Map::new();
            let mut required = Vec::new();
            for f in &body_fields {
                props.insert(f.name.into(), field_schema(f));
                if f.required {
                    required.push(json!(f.name));
                }
            }
            let mut schema = Map::new();
            schema.insert("type".into(), json!("object"));
            schema.insert("properties".into(), Value::Object(props));
            if !required.is_empty() {
                schema.insert("required".into(), Value::Array(required));
            }
            let schema = Value::Object(schema);
            schemas.insert(schema_name.clone(), schema.clone());
            // Inline, not a `$ref`: OpenBao 2.7.2's merge into
            // sys/internal/specs/openapi drops `$ref` request bodies (seen
            // as `"schema": {}`), which would hide every field.
            op.insert(
                "requestBody".into(),
                json!({
                    "required": true,
                    "content": {"application/json": {"schema": schema}}
                }),
            );
        }
        let responses = if method == "delete" {
            json!({"204": {"description": "empty body"}})
        } else {
            json!({"200": {"description": "OK"}})
        };
        op.insert("responses".into(), responses);
        item.insert(method.into(), Value::Object(op));
    }
    (path.pattern.openapi_path(), Value::Object(item))
}
