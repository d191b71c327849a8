//! Request JSON into every path of the real backend, in process.
//!
//! The backend is the one the plugin serves (`backend::framework()`, the same
//! ordered path list and handlers) over the in-memory storage, driven the way
//! the host drives it: the body goes through the bridge's JSON parsing, a
//! create/update runs the existence check first and becomes `create` when the
//! object does not exist. Four wallets and two policies exist before every
//! input, so the signing paths are reached; storage is put back to that state
//! after each input (with the cache invalidations the host would send), so an
//! input's outcome never depends on the inputs before it.
//!
//! Input (UTF-8 text, lines):
//!
//! ```text
//! update                                      operation (create/update: host write flow)
//! 6                                           index into the path list, or a literal pattern
//! hd                                          replaces {name}
//! ethereum                                    replaces {chain}
//! {"chain_id":1,"nonce":0,...}                the JSON body (the rest of the input)
//! ```
//!
//! With `FUZZ_VERBOSE=1` each input's outcome is printed (to see what a seed
//! or a reproducer reaches).
//!
//! Findings: a panic (in the handler or a blocking task), a hang (libFuzzer's
//! `-timeout`), or a 500 — `LogicalError::Internal` or `Storage` — for any
//! input: the in-memory storage never fails and every 500 a client can cause
//! is a bug (it must be a 400, 403 or 404).

#![no_main]

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, OnceLock};

use libfuzzer_sys::fuzz_target;
use serde_json::{Map, Value, json};
use vault_plugin_crypto::backend::{Crypto, framework, paths};
use vault_plugin_crypto::fuzzing::{on_runtime_stack, request_body};
use vault_plugin_crypto::logical::memory::MemoryStorage;
use vault_plugin_crypto::logical::{
    Backend, Framework, LogicalError, Operation, Request, Response, StorageValue,
};

/// The well-known BIP39 test mnemonic.
const ABANDON: &str = "abandon abandon abandon abandon abandon abandon abandon abandon \
                       abandon abandon abandon about";

struct Harness {
    rt: tokio::runtime::Runtime,
    backend: Framework<Crypto>,
    storage: Arc<MemoryStorage>,
    /// The patterns of the real path list, in routing order.
    patterns: Vec<String>,
    /// Storage as it is before every input.
    snapshot: BTreeMap<String, StorageValue>,
}

fn harness() -> &'static Harness {
    static H: OnceLock<Harness> = OnceLock::new();
    H.get_or_init(Harness::new)
}

// On a thread with the runtime's 2 MiB stack (the handlers' stack in the
// plugin): deep recursion overflows there, not only on libFuzzer's 8 MiB
// main thread.
fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        // The host's request path and body are protobuf strings: UTF-8.
        return;
    };
    on_runtime_stack(|| harness().run(text));
});

fn verbose() -> bool {
    static V: OnceLock<bool> = OnceLock::new();
    *V.get_or_init(|| std::env::var_os("FUZZ_VERBOSE").is_some())
}

/// One line about a result: its status and what the error says (error
/// messages never carry secrets) or which fields the response has.
fn outcome(result: &Result<Option<Response>, LogicalError>) -> String {
    match result {
        Ok(Some(r)) => {
            let keys: Vec<&str> = r.data.keys().map(String::as_str).collect();
            format!("ok {keys:?} warnings {:?}", r.warnings)
        }
        Ok(None) => "ok, no response".into(),
        Err(e) => format!("error {e:?}"),
    }
}

/// Panics (a finding) on a 500 for client input.
fn check<T>(what: &str, result: &Result<T, LogicalError>) {
    if let Err(e @ (LogicalError::Internal(_) | LogicalError::Storage(_))) = result {
        panic!("{what}: a 500 for client input: {e}");
    }
}

impl Harness {
    fn new() -> Self {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("tokio runtime");
        let h = Harness {
            rt,
            backend: framework(),
            storage: Arc::new(MemoryStorage::new()),
            patterns: paths()
                .iter()
                .map(|p| p.pattern.as_str().to_string())
                .collect(),
            snapshot: BTreeMap::new(),
        };
        let setup: [(&str, Value); 6] = [
            (
                "wallets/hd",
                json!({"mnemonic": ABANDON, "exportable": true, "allow_raw_signing": true,
                       "deletion_allowed": true}),
            ),
            (
                "wallets/plain",
                json!({"mnemonic": ABANDON, "passphrase": "TREZOR"}),
            ),
            (
                "wallets/k1",
                json!({"curve": "secp256k1", "exportable": true, "allow_raw_signing": true,
                       "private_key": "4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318"}),
            ),
            (
                "wallets/ed",
                json!({"curve": "ed25519", "allow_raw_signing": true,
                       "private_key": "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60"}),
            ),
            (
                "policies/plain/ethereum",
                json!({"allowed_chain_ids": ["1", "5"], "max_value_per_tx": "1000000000000000000",
                       "max_value_per_day": "2000000000000000000",
                       "denied_recipients": ["0x000000000000000000000000000000000000dEaD"],
                       "allow_contract_creation": false}),
            ),
            (
                "policies/plain/bitcoin",
                json!({"max_value_per_tx": "100000", "max_value_per_day": "200000"}),
            ),
        ];
        h.rt.block_on(async {
            for (path, body) in setup {
                let body = match body {
                    Value::Object(m) => m,
                    _ => Map::new(),
                };
                let r = h.write(path, body).await;
                assert!(matches!(r, Ok(Some(_))), "setup {path}: {:?}", r.err());
            }
        });
        let snapshot = h
            .storage
            .keys()
            .into_iter()
            .filter_map(|k| h.storage.raw(&k).map(|v| (k, v)))
            .collect();
        Harness { snapshot, ..h }
    }

    fn request(&self, operation: Operation, path: &str, data: Map<String, Value>) -> Request {
        Request {
            operation,
            path: path.to_string(),
            data,
            mount_point: "crypto/".into(),
            id: "fuzz".into(),
            unauthenticated: false,
            storage: Arc::clone(&self.storage) as _,
            entity_id: String::new(),
            identity: Arc::new(vault_plugin_crypto::logical::NoIdentity),
        }
    }

    /// A write as the host does it: existence check, then create or update.
    async fn write(
        &self,
        path: &str,
        data: Map<String, Value>,
    ) -> Result<Option<Response>, LogicalError> {
        let exists = self
            .backend
            .existence_check(self.request(Operation::Update, path, data.clone()))
            .await;
        check(&format!("existence check of {path:?}"), &exists);
        let exists = exists?;
        let op = if exists.check_found && !exists.exists {
            Operation::Create
        } else {
            Operation::Update
        };
        self.backend
            .handle_request(self.request(op, path, data))
            .await
    }

    fn run(&self, text: &str) {
        let mut lines = text.splitn(5, '\n');
        let mut line = || lines.next().unwrap_or("");
        let (op, template, name, chain, body) = (line(), line(), line(), line(), line());
        let pattern = match template.trim().parse::<usize>() {
            Ok(i) => self.patterns[i % self.patterns.len()].as_str(),
            Err(_) => template,
        };
        let path = pattern.replace("{name}", name).replace("{chain}", chain);
        let operation = Operation::parse(op.trim());
        let what = format!("{} {path:?}", operation.as_str());
        let data = match request_body(body) {
            Ok(data) => data,
            // A 400 from the bridge; the backend never sees the request.
            Err(e) => {
                check(&what, &Err::<(), _>(e));
                return;
            }
        };
        self.rt.block_on(async {
            let result = match operation {
                Operation::Create | Operation::Update => self.write(&path, data).await,
                op => {
                    self.backend
                        .handle_request(self.request(op, &path, data))
                        .await
                }
            };
            if verbose() {
                eprintln!("{what}: {}", outcome(&result));
            }
            check(&what, &result);
            if let Ok(Some(resp)) = &result {
                // The bridge sends `data` as JSON text; it must always encode.
                serde_json::to_string(&resp.data).expect("response data encodes as JSON");
            }
            self.restore().await;
        });
    }

    /// Puts storage back to the snapshot, invalidating each key that changed
    /// as the host does on a node whose storage changed under it.
    async fn restore(&self) {
        use vault_plugin_crypto::logical::Storage as _;
        let keys: BTreeSet<String> = self
            .storage
            .keys()
            .into_iter()
            .chain(self.snapshot.keys().cloned())
            .collect();
        for key in keys {
            let now = self.storage.raw(&key);
            let want = self.snapshot.get(&key);
            if now.as_ref().map(|v| v.as_slice()) == want.map(|v| v.as_slice()) {
                continue;
            }
            match want {
                Some(v) => self.storage.put(&key, v.clone()).await,
                None => self.storage.delete(&key).await,
            }
            .expect("memory storage");
            self.backend.invalidate(&key).await;
        }
    }
}
