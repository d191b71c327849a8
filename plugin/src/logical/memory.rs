//! An in-memory [`Storage`] for tests: the same contract as the host's
//! storage (keys relative to the mount, `list` returns direct children with
//! sub-folders ending in `/`), plus a switch to make writes fail the way a
//! standby's storage does.

use std::collections::BTreeMap;

use async_trait::async_trait;
use parking_lot::Mutex;
use zeroize::Zeroizing;

use super::{Storage, StorageError, StorageValue};

/// The error text of a write on a performance standby; the host forwards
/// requests whose error contains it to the active node.
pub const READONLY_ERROR: &str = "cannot write to readonly storage";

#[derive(Default)]
pub struct MemoryStorage {
    entries: Mutex<BTreeMap<String, StorageValue>>,
    read_only: Mutex<bool>,
    /// Every key passed to `get`, in order (what a request cost in round
    /// trips to the host).
    reads: Mutex<Vec<String>>,
}

impl MemoryStorage {
    pub fn new() -> Self {
        Self::default()
    }

    /// Makes every `put`/`delete` fail with [`READONLY_ERROR`].
    pub fn set_read_only(&self, read_only: bool) {
        *self.read_only.lock() = read_only;
    }

    /// Every key read with `get` so far, in order; emptied by the call.
    pub fn take_reads(&self) -> Vec<String> {
        std::mem::take(&mut *self.reads.lock())
    }

    /// Every key currently stored (sorted).
    pub fn keys(&self) -> Vec<String> {
        self.entries.lock().keys().cloned().collect()
    }

    /// A copy of the raw bytes under `key`.
    pub fn raw(&self, key: &str) -> Option<StorageValue> {
        self.entries.lock().get(key).cloned()
    }

    /// Every stored byte, concatenated (to look for secrets that must not be
    /// stored anywhere else, or to check that they are).
    pub fn dump(&self) -> Zeroizing<Vec<u8>> {
        let mut out = Zeroizing::new(Vec::new());
        for v in self.entries.lock().values() {
            out.extend_from_slice(v);
        }
        out
    }

    fn check_writable(&self) -> Result<(), StorageError> {
        if *self.read_only.lock() {
            Err(StorageError(READONLY_ERROR.into()))
        } else {
            Ok(())
        }
    }
}

#[async_trait]
impl Storage for MemoryStorage {
    async fn list(&self, prefix: &str) -> Result<Vec<String>, StorageError> {
        let entries = self.entries.lock();
        let mut out: Vec<String> = Vec::new();
        for key in entries.range(prefix.to_string()..).map(|(k, _)| k) {
            let Some(rest) = key.strip_prefix(prefix) else {
                break;
            };
            let child = match rest.find('/') {
                Some(i) => &rest[..=i],
                None => rest,
            };
            if out.last().map(String::as_str) != Some(child) {
                out.push(child.to_string());
            }
        }
        Ok(out)
    }

    async fn get(&self, key: &str) -> Result<Option<StorageValue>, StorageError> {
        self.reads.lock().push(key.to_string());
        Ok(self.entries.lock().get(key).cloned())
    }

    async fn put(&self, key: &str, value: StorageValue) -> Result<(), StorageError> {
        self.check_writable()?;
        self.entries.lock().insert(key.to_string(), value);
        Ok(())
    }

    async fn delete(&self, key: &str) -> Result<(), StorageError> {
        self.check_writable()?;
        self.entries.lock().remove(key);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn list_returns_direct_children_with_folders_once() {
        let s = MemoryStorage::new();
        for k in ["a/1", "a/2", "a/b/3", "a/b/4", "ab", "c"] {
            s.put(k, Zeroizing::new(b"x".to_vec())).await.expect("put");
        }
        assert_eq!(s.list("a/").await.expect("list"), vec!["1", "2", "b/"]);
        assert_eq!(s.list("").await.expect("list"), vec!["a/", "ab", "c"]);
        assert!(s.list("z/").await.expect("list").is_empty());
    }

    #[tokio::test]
    async fn read_only_storage_fails_writes_with_the_forwarding_text() {
        let s = MemoryStorage::new();
        s.set_read_only(true);
        let err = s
            .put("k", Zeroizing::new(vec![]))
            .await
            .expect_err("read-only");
        assert_eq!(err.0, READONLY_ERROR);
    }
}

/// An in-memory identity store for tests: entities by id with their name
/// and the names of their groups.
#[derive(Default)]
pub struct MemoryIdentity {
    entities: Mutex<BTreeMap<String, (String, Vec<String>)>>,
}

impl MemoryIdentity {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds (or replaces) an entity.
    pub fn add(&self, id: &str, name: &str, groups: &[&str]) {
        self.entities.lock().insert(
            id.to_string(),
            (
                name.to_string(),
                groups.iter().map(|g| g.to_string()).collect(),
            ),
        );
    }
}

#[async_trait]
impl super::Identity for MemoryIdentity {
    async fn entity_name(&self, entity_id: &str) -> Result<Option<String>, StorageError> {
        Ok(self.entities.lock().get(entity_id).map(|(n, _)| n.clone()))
    }
    async fn group_names(&self, entity_id: &str) -> Result<Vec<String>, StorageError> {
        Ok(self
            .entities
            .lock()
            .get(entity_id)
            .map(|(_, g)| g.clone())
            .unwrap_or_default())
    }
}
