//! The `crypto/` secrets engine: its state and the ordered list of paths.

use std::sync::Arc;

use crate::logical::{Backend, BackendConfig, Framework, Path, SpecialPaths};
use crate::paths;
use crate::store::wallet::Wallet;
use crate::store::{Store, keys};

/// State shared by every handler of one mount.
pub struct Crypto {
    pub store: Store<Wallet>,
}

const BACKEND_HELP: &str = "\
The crypto secrets engine keeps HD wallets (BIP39 mnemonics) and imported private keys \
inside Vault and uses them to derive addresses and sign Ethereum, Bitcoin and Solana \
transactions and messages. Secrets never leave Vault unless a wallet was created \
exportable; signing can be restricted per chain by policies.";

/// The paths of the engine, in routing order: the first pattern that
/// matches a request wins.
pub fn paths() -> Vec<Path<Crypto>> {
    // Order: the first pattern that matches wins. Administration lives
    // outside `wallets/{name}/` (policies, export, sign-hash) so that a
    // signer's grant on `wallets/<name>/*` covers signing and addresses
    // only; `policies/{name}/{chain}/check` has one more segment than the
    // policy itself, so the two never overlap. `approvals/` (M-of-N
    // approval of signing requests) is administration too.
    vec![
        paths::wallets::list_path(),
        paths::wallets::wallet_path(),
        paths::policy::policy_path(),
        paths::check::check_path(),
        paths::export::export_path(),
        paths::sign_hash::sign_hash_path(),
        paths::xpub::xpub_path(),
        paths::addresses::addresses_path(),
        paths::ethereum::sign_transaction_path(),
        paths::ethereum::sign_message_path(),
        paths::ethereum::sign_typed_data_path(),
        paths::ethereum::sign_authorization_path(),
        paths::bitcoin::sign_psbt_path(),
        paths::bitcoin::sign_message_path(),
        paths::solana::sign_message_path(),
        paths::solana::sign_transaction_path(),
        paths::approvals::list_path(),
        paths::approvals::read_path(),
        paths::approvals::approve_path(),
        paths::approvals::reject_path(),
        paths::approvals::sign_path(),
    ]
}

/// What the host treats specially for this mount.
pub fn special_paths() -> SpecialPaths {
    SpecialPaths {
        // Wallet entries hold mnemonics and private keys: seal-wrap them
        // (Vault Enterprise wraps these with the seal; others ignore it).
        seal_wrap_storage: vec![keys::WALLET_PREFIX.to_string()],
        ..SpecialPaths::default()
    }
}

/// Builds the backend for one mount.
pub fn new(_config: BackendConfig) -> Arc<dyn Backend> {
    Arc::new(framework())
}

/// The framework itself (tests use it to reach the state).
pub fn framework() -> Framework<Crypto> {
    let state = Arc::new(Crypto {
        store: Store::default(),
    });
    // Initialize needs no writes: entries are upgraded lazily on their next write.
    Framework::new(state, BACKEND_HELP, paths())
        .special_paths(special_paths())
        .on_invalidate(Arc::new(|c: &Crypto, key: &str| c.store.invalidate(key)))
        .on_cleanup(Arc::new(|c: &Crypto| c.store.clear()))
}

/// In-process helpers: the backend over [`MemoryStorage`], driven the way
/// the host drives it (existence check first on writes).
///
/// [`MemoryStorage`]: crate::logical::memory::MemoryStorage
#[cfg(test)]
pub mod testing {
    use std::sync::Arc;

    use serde_json::{Map, Value};

    use super::{Crypto, framework};
    use crate::logical::memory::{MemoryIdentity, MemoryStorage};
    use crate::logical::{Backend, Framework, LogicalError, Operation, Request, Response};

    pub struct TestBackend {
        pub backend: Framework<Crypto>,
        pub storage: Arc<MemoryStorage>,
        pub identity: Arc<MemoryIdentity>,
        /// The entity the next requests are made as (empty: none, like a root token).
        pub entity_id: parking_lot::Mutex<String>,
    }

    impl Default for TestBackend {
        fn default() -> Self {
            Self::new()
        }
    }

    impl TestBackend {
        pub fn new() -> Self {
            Self::with_storage(Arc::new(MemoryStorage::new()))
        }

        /// A second node over the same storage (HA tests).
        pub fn with_storage(storage: Arc<MemoryStorage>) -> Self {
            Self {
                backend: framework(),
                storage,
                identity: Arc::new(MemoryIdentity::new()),
                entity_id: parking_lot::Mutex::new(String::new()),
            }
        }

        /// Makes the next requests as this entity (empty: none).
        pub fn act_as(&self, entity_id: &str) {
            *self.entity_id.lock() = entity_id.to_string();
        }

        pub fn request(&self, operation: Operation, path: &str, data: Value) -> Request {
            let data = match data {
                Value::Object(m) => m,
                _ => Map::new(),
            };
            Request {
                operation,
                path: path.to_string(),
                data,
                mount_point: "crypto/".into(),
                id: "test".into(),
                unauthenticated: false,
                storage: Arc::clone(&self.storage) as _,
                entity_id: self.entity_id.lock().clone(),
                identity: Arc::clone(&self.identity) as _,
            }
        }

        pub async fn call(
            &self,
            operation: Operation,
            path: &str,
            data: Value,
        ) -> Result<Option<Response>, LogicalError> {
            let req = self.request(operation, path, data);
            self.backend.handle_request(req).await
        }

        /// A write as the host does it: existence check, then create or update.
        pub async fn write(
            &self,
            path: &str,
            data: Value,
        ) -> Result<Option<Response>, LogicalError> {
            let check = self
                .backend
                .existence_check(self.request(Operation::Update, path, data.clone()))
                .await?;
            let op = if check.check_found && !check.exists {
                Operation::Create
            } else {
                Operation::Update
            };
            self.call(op, path, data).await
        }

        pub async fn write_ok(&self, path: &str, data: Value) -> Response {
            match self.write(path, data).await {
                Ok(Some(r)) => r,
                Ok(None) => panic!("write {path}: no response"),
                Err(e) => panic!("write {path}: {e}"),
            }
        }

        pub async fn read_ok(&self, path: &str) -> Response {
            match self.call(Operation::Read, path, Value::Null).await {
                Ok(Some(r)) => r,
                Ok(None) => panic!("read {path}: no response"),
                Err(e) => panic!("read {path}: {e}"),
            }
        }

        pub async fn list_ok(&self, path: &str) -> Vec<String> {
            match self.call(Operation::List, path, Value::Null).await {
                Ok(Some(r)) => serde_json::from_value(r.data["keys"].clone()).expect("keys"),
                Ok(None) => panic!("list {path}: no response"),
                Err(e) => panic!("list {path}: {e}"),
            }
        }
    }

    /// The message of a 400, or a panic naming what came instead.
    pub fn bad_request(r: Result<Option<Response>, LogicalError>) -> String {
        match r {
            Err(LogicalError::BadRequest(m)) => m,
            Err(e) => panic!("expected a 400, got error {e:?}"),
            Ok(_) => panic!("expected a 400, got success"),
        }
    }
}
