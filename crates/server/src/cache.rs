//! A small read-through cache for rows every request reads and an administrator rarely
//! changes (organisations, the first-grade window). On opening day each submission would
//! otherwise read them again; a database round trip costs more than the rest of the check.
//!
//! Entries live `ttl` at most, so a change made through another instance is seen within it;
//! this instance forgets an entry as soon as it changes it.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::Mutex;
use std::time::{Duration, Instant};

pub struct Recent<K, V> {
    ttl: Duration,
    entries: Mutex<HashMap<K, (Instant, V)>>,
}

/// Entries beyond this are dropped wholesale: the cache holds a few rows, not a table.
const MAX_ENTRIES: usize = 10_000;

impl<K: Eq + Hash + Clone, V: Clone> Recent<K, V> {
    pub fn new(ttl: Duration) -> Self {
        Recent {
            ttl,
            entries: Mutex::new(HashMap::new()),
        }
    }

    /// The cached value of `key`, or `load`'s (then kept). Errors are not cached.
    pub async fn get_or_load<E, F>(&self, key: &K, load: F) -> Result<V, E>
    where
        F: Future<Output = Result<V, E>>,
    {
        if let Some(value) = self.fresh(key) {
            return Ok(value);
        }
        let loaded_at = Instant::now();
        let value = load.await?;
        let mut entries = self.entries.lock().expect("not poisoned");
        if entries.len() >= MAX_ENTRIES {
            entries.clear();
        }
        entries.insert(key.clone(), (loaded_at, value.clone()));
        Ok(value)
    }

    fn fresh(&self, key: &K) -> Option<V> {
        let entries = self.entries.lock().expect("not poisoned");
        entries
            .get(key)
            .filter(|(at, _)| at.elapsed() < self.ttl)
            .map(|(_, v)| v.clone())
    }

    /// Forgets `key` (this instance just changed it).
    pub fn forget(&self, key: &K) {
        self.entries.lock().expect("not poisoned").remove(key);
    }

    pub fn forget_all(&self) {
        self.entries.lock().expect("not poisoned").clear();
    }
}

impl<K, V> std::fmt::Debug for Recent<K, V> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Recent").field("ttl", &self.ttl).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicU32, Ordering};

    async fn load(calls: &AtomicU32) -> Result<u32, String> {
        Ok(calls.fetch_add(1, Ordering::SeqCst) + 1)
    }

    #[tokio::test]
    async fn reads_once_within_the_ttl_then_again() {
        let cache = Recent::new(Duration::from_millis(200));
        let calls = AtomicU32::new(0);
        assert_eq!(cache.get_or_load(&"a", load(&calls)).await, Ok(1));
        assert_eq!(cache.get_or_load(&"a", load(&calls)).await, Ok(1));
        assert_eq!(cache.get_or_load(&"b", load(&calls)).await, Ok(2));
        tokio::time::sleep(Duration::from_millis(250)).await;
        assert_eq!(cache.get_or_load(&"a", load(&calls)).await, Ok(3));
    }

    #[tokio::test]
    async fn a_forgotten_entry_is_read_again_and_errors_are_not_kept() {
        let cache = Recent::new(Duration::from_secs(60));
        let calls = AtomicU32::new(0);
        assert_eq!(cache.get_or_load(&1, load(&calls)).await, Ok(1));
        cache.forget(&1);
        assert_eq!(cache.get_or_load(&1, load(&calls)).await, Ok(2));
        cache.forget_all();
        let failed: Result<u32, String> = cache.get_or_load(&1, async { Err("down".into()) }).await;
        assert_eq!(failed, Err("down".to_string()));
        assert_eq!(cache.get_or_load(&1, load(&calls)).await, Ok(3));
    }
}
