//! A bounded in-memory cache of decoded entries.
//!
//! Values are `Arc`s of types that zeroize their secrets on drop: evicting an
//! entry drops the cache's reference, and the secret is wiped when the last
//! request using it finishes.
//!
//! A load from storage races with invalidations and writes: a reader that
//! fetched an old value must not put it back after a newer one was written
//! or invalidated. Every change bumps a generation; a reader inserts only if
//! the generation it saw before reading storage is still current.

use std::collections::HashMap;
use std::sync::Arc;

use parking_lot::Mutex;

pub struct Cache<V> {
    inner: Mutex<Inner<V>>,
    capacity: usize,
}

struct Inner<V> {
    map: HashMap<String, (Arc<V>, u64)>,
    /// Recency clock for least-recently-used eviction.
    tick: u64,
    generation: u64,
}

/// The cache's generation, taken before a storage read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Generation(u64);

impl<V> Cache<V> {
    pub fn new(capacity: usize) -> Self {
        Self {
            inner: Mutex::new(Inner {
                map: HashMap::new(),
                tick: 0,
                generation: 0,
            }),
            capacity: capacity.max(1),
        }
    }

    pub fn get(&self, key: &str) -> Option<Arc<V>> {
        let mut inner = self.inner.lock();
        inner.tick += 1;
        let tick = inner.tick;
        inner.map.get_mut(key).map(|(v, used)| {
            *used = tick;
            Arc::clone(v)
        })
    }

    pub fn generation(&self) -> Generation {
        Generation(self.inner.lock().generation)
    }

    /// Inserts a value just loaded from storage, unless anything changed
    /// since `seen` was taken. Returns whether it was inserted.
    pub fn insert_loaded(&self, key: &str, value: Arc<V>, seen: Generation) -> bool {
        let mut inner = self.inner.lock();
        if inner.generation != seen.0 {
            return false;
        }
        Self::insert_locked(&mut inner, self.capacity, key, value);
        true
    }

    /// Inserts a value just written to storage (under the entry's lock).
    pub fn insert_written(&self, key: &str, value: Arc<V>) {
        let mut inner = self.inner.lock();
        inner.generation += 1;
        Self::insert_locked(&mut inner, self.capacity, key, value);
    }

    pub fn remove(&self, key: &str) {
        let mut inner = self.inner.lock();
        inner.generation += 1;
        inner.map.remove(key);
    }

    pub fn clear(&self) {
        let mut inner = self.inner.lock();
        inner.generation += 1;
        inner.map.clear();
    }

    pub fn len(&self) -> usize {
        self.inner.lock().map.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn insert_locked(inner: &mut Inner<V>, capacity: usize, key: &str, value: Arc<V>) {
        inner.tick += 1;
        let tick = inner.tick;
        if !inner.map.contains_key(key) && inner.map.len() >= capacity {
            // O(n) scan: the cache is small and eviction is rare.
            let oldest = inner
                .map
                .iter()
                .min_by_key(|(_, (_, used))| *used)
                .map(|(k, _)| k.clone());
            if let Some(k) = oldest {
                inner.map.remove(&k);
            }
        }
        inner.map.insert(key.to_string(), (value, tick));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_least_recently_used_entry_is_evicted() {
        let c = Cache::new(2);
        c.insert_written("a", Arc::new(1));
        c.insert_written("b", Arc::new(2));
        assert!(c.get("a").is_some());
        c.insert_written("c", Arc::new(3));
        assert!(c.get("b").is_none());
        assert!(c.get("a").is_some());
        assert!(c.get("c").is_some());
        assert_eq!(c.len(), 2);
    }

    #[test]
    fn a_stale_load_is_not_cached_after_a_write_or_invalidation() {
        let c = Cache::new(8);
        let seen = c.generation();
        c.insert_written("a", Arc::new(2));
        assert!(!c.insert_loaded("a", Arc::new(1), seen));
        assert_eq!(c.get("a").as_deref(), Some(&2));

        let seen = c.generation();
        c.remove("a");
        assert!(!c.insert_loaded("a", Arc::new(1), seen));
        assert!(c.get("a").is_none());

        let seen = c.generation();
        assert!(c.insert_loaded("a", Arc::new(3), seen));
        assert_eq!(c.get("a").as_deref(), Some(&3));
    }
}
