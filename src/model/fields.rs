//! [`Fields`]: the entries of a record value, sorted by name.
//!
//! A sorted vector rather than a `BTreeMap`: records are small (a service
//! has a few dozen fields, most nested records two or three), are built in
//! name order by the checker, and are read far more than they are changed.
//! A B-tree node is about 1 KiB however few entries it holds; thousands of
//! services × envs of small records made the model several times larger
//! than its contents, and that memory had to be faulted in and cleared.
//!
//! Each entry also keeps the first six bytes of its name inline, so a
//! lookup compares integers and reads a name from the heap only on a tie:
//! with the model far larger than the CPU caches, chasing every name's
//! pointer during the binary search was most of the time spent in `get`.
//! The same word's low 16 bits hold the entry's place in the order keys
//! were first set (a separate field made every entry 8 bytes larger, and
//! the model's size is its speed).

use super::Value;

/// A record key: names up to 24 bytes (every field name, nearly every map
/// key) are stored inline, so an entry owns no heap block for its name,
/// and copying a record copies its names without allocating.
pub type Key = compact_str::CompactString;

/// Record entries by name, in name order (byte order, as `BTreeMap`).
///
/// Each entry also remembers when it was first set (`seq`): a key set again
/// keeps its place, a new key goes last. Maps whose order means something
/// (env vars: the kubelet expands `$(X)` only from variables listed before)
/// are read with [`Fields::in_order`]; everything else reads name order.
///
/// The entries are shared, copied on write: copying a record (a taking
/// env's services, a `let` or template value used in many places) copies
/// one pointer, and changing a shared record copies its own entries, not
/// the records below them.
///
/// A record made from another by setting a few of its fields again (a
/// taking env's service whose `replicas` read the env: see
/// [`Fields::with_values`]) shares the other's entries and holds only the
/// new values, by place: a service's record has some three dozen entries, and
/// copying them for each env that sets one was a sixth of a large
/// project's peak memory. Reading sees the new values; changing such a
/// record first copies the entries with them in place.
#[derive(Clone, Default)]
pub struct Fields {
    entries: Option<std::sync::Arc<Vec<Entry>>>,
    /// Values replacing those of some entries, by place, in place order.
    patches: Option<std::sync::Arc<[(usize, Value)]>>,
}

impl std::fmt::Debug for Fields {
    /// The entries as they read (patches in place), as a tuple struct.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let entries = self.entries.as_ref().map(|_| self.clone().into_entries());
        f.debug_tuple("Fields").field(&entries).finish()
    }
}

/// One entry: its name's prefix and place, its name, its value.
type Entry = (Prefix, Key, Value);

impl PartialEq for Fields {
    /// Entries equal by name and value (the order they were set in is not
    /// part of a record's value).
    fn eq(&self, other: &Fields) -> bool {
        if self.shares_entries(other) {
            return true;
        }
        self.len() == other.len()
            && self
                .iter()
                .zip(other.iter())
                .all(|(a, b)| a.0 == b.0 && a.1 == b.1)
    }
}

/// Where a key was found last (for [`Fields::get_hinted`]): one per view
/// accessor, shared by every thread (a stale or raced hint only costs a
/// search).
#[derive(Debug)]
pub struct Hint(std::sync::atomic::AtomicU32);

impl Hint {
    /// The bit marking a place where the key was absent.
    const ABSENT: u32 = 1 << 31;

    /// No place known yet.
    pub const fn new() -> Hint {
        Hint(std::sync::atomic::AtomicU32::new(u32::MAX >> 1))
    }
}

impl Default for Hint {
    fn default() -> Hint {
        Hint::new()
    }
}

/// The first six bytes of a name, zero-padded, big-endian, in the high 48
/// bits (ordering two names' bits orders the names unless they are equal),
/// and the entry's place in the order of first insertion in the low 16
/// (saturating: past 65,535 entries, later keys tie and keep name order).
#[derive(Debug, Clone, Copy, Default)]
pub struct Prefix(u64);

const SEQ_BITS: u32 = 16;
const SEQ_MAX: u64 = (1 << SEQ_BITS) - 1;

impl Prefix {
    fn of(name: &str) -> Prefix {
        let mut b = [0u8; 8];
        for (d, s) in b.iter_mut().zip(name.bytes().take(6)) {
            *d = s;
        }
        Prefix(u64::from_be_bytes(b))
    }

    fn with_seq(name: &str, seq: u32) -> Prefix {
        Prefix(Prefix::of(name).0 | u64::from(seq).min(SEQ_MAX))
    }

    /// The name bits, for ordering.
    fn name(self) -> u64 {
        self.0 >> SEQ_BITS
    }

    /// The place in insertion order.
    fn seq(self) -> u64 {
        self.0 & SEQ_MAX
    }
}

/// Two names whose [`Prefix`]es are equal: the same when they are as long
/// and the prefix holds all of them.
fn same_name(a: &Key, b: &Key) -> bool {
    a.len() == b.len() && (a.len() <= 6 || a == b)
}

impl Fields {
    /// No entries.
    pub fn new() -> Fields {
        Fields {
            entries: None,
            patches: None,
        }
    }

    /// The entries, to read their names and places (their values through
    /// [`Fields::value_at`]).
    fn entries(&self) -> &[Entry] {
        self.entries.as_deref().map_or(&[], Vec::as_slice)
    }

    /// The value at place `i`, whose entry holds `value`: a patch's, if
    /// one replaces it.
    fn value_at<'a>(&'a self, i: usize, value: &'a Value) -> &'a Value {
        match &self.patches {
            None => value,
            Some(p) => p.iter().find(|(j, _)| *j == i).map_or(value, |(_, v)| v),
        }
    }

    /// Put the patches' values in the entries (copying them if shared).
    fn apply_patches(&mut self) {
        if let Some(p) = self.patches.take() {
            let entries =
                std::sync::Arc::make_mut(self.entries.get_or_insert_with(Default::default));
            for (i, v) in p.iter() {
                if let Some(e) = entries.get_mut(*i) {
                    e.2 = v.clone();
                }
            }
        }
    }

    /// The entries, to change: copied first if another record shares them.
    fn entries_mut(&mut self) -> &mut Vec<Entry> {
        self.apply_patches();
        std::sync::Arc::make_mut(self.entries.get_or_insert_with(Default::default))
    }

    /// The entries, owned (copied if shared).
    fn into_entries(mut self) -> Vec<Entry> {
        self.apply_patches();
        self.entries
            .map(std::sync::Arc::unwrap_or_clone)
            .unwrap_or_default()
    }

    /// This record with the fields `set` names set to their values, each
    /// keeping its place in [`Fields::in_order`], sharing this record's
    /// entries (see [`Fields`]); `None` when one of them is not a field.
    pub fn with_values<'k>(
        &self,
        set: impl IntoIterator<Item = (&'k str, Value)>,
    ) -> Option<Fields> {
        let mut patches: Vec<(usize, Value)> = self.patches.as_deref().unwrap_or_default().to_vec();
        for (key, value) in set {
            let i = self.find(key).ok()?;
            match patches.iter_mut().find(|(j, _)| *j == i) {
                Some(slot) => slot.1 = value,
                None => patches.push((i, value)),
            }
        }
        patches.sort_by_key(|(i, _)| *i);
        Some(Fields {
            entries: self.entries.clone(),
            // An exact-size block: a record holds one or two.
            patches: (!patches.is_empty()).then(|| patches.into()),
        })
    }

    fn find(&self, key: &str) -> Result<usize, usize> {
        let p = Prefix::of(key).name();
        self.entries()
            .binary_search_by(|e| Fields::cmp_entry(e, p, key))
    }

    /// An entry's name against `key` (whose prefix bits are `p`).
    fn cmp_entry(e: &(Prefix, Key, Value), p: u64, key: &str) -> std::cmp::Ordering {
        e.0.name().cmp(&p).then_with(|| e.1.as_str().cmp(key))
    }

    /// The place of the next new key: after every key set so far. The
    /// places are always `0..len` (`remove` closes the gap), so this is the
    /// length, not a scan.
    fn next_seq(&self) -> u32 {
        u32::try_from(self.entries().len()).unwrap_or(u32::MAX)
    }

    fn entry(key: Key, value: Value, seq: u32) -> (Prefix, Key, Value) {
        (Prefix::with_seq(&key, seq), key, value)
    }

    /// The value of `key`.
    pub fn get(&self, key: &str) -> Option<&Value> {
        let i = self.find(key).ok()?;
        self.entries().get(i).map(|(_, _, v)| self.value_at(i, v))
    }

    /// The value of `key`, trying the place `hint` remembers first (see
    /// [`Value::get_hinted`](super::Value::get_hinted)). The hint holds
    /// where the key was, or where it would go when it was absent (records
    /// leave unset optionals out): checking that place costs one or two
    /// comparisons where a search costs six.
    pub fn get_hinted(&self, key: &str, hint: &Hint) -> Option<&Value> {
        let entries = self.entries();
        let at = hint.0.load(std::sync::atomic::Ordering::Relaxed);
        let i = usize::try_from(at & !Hint::ABSENT).unwrap_or(usize::MAX);
        if at & Hint::ABSENT == 0 {
            if let Some((_, k, v)) = entries.get(i) {
                if k == key {
                    return Some(self.value_at(i, v));
                }
            }
        } else if i <= entries.len() {
            let p = Prefix::of(key).name();
            let before = i == 0
                || entries
                    .get(i - 1)
                    .is_some_and(|e| Fields::cmp_entry(e, p, key).is_lt());
            let after = entries
                .get(i)
                .is_none_or(|e| Fields::cmp_entry(e, p, key).is_gt());
            if before && after {
                return None;
            }
        }
        let (found, i) = match self.find(key) {
            Ok(i) => (true, i),
            Err(i) => (false, i),
        };
        if let Ok(at) = u32::try_from(i) {
            if at < Hint::ABSENT {
                let at = if found { at } else { at | Hint::ABSENT };
                hint.0.store(at, std::sync::atomic::Ordering::Relaxed);
            }
        }
        if found {
            entries.get(i).map(|(_, _, v)| self.value_at(i, v))
        } else {
            None
        }
    }

    /// The value of `key`, mutably.
    pub fn get_mut(&mut self, key: &str) -> Option<&mut Value> {
        let i = self.find(key).ok()?;
        self.entries_mut().get_mut(i).map(|(_, _, v)| v)
    }

    /// Every value, mutably (key order).
    pub fn values_mut(&mut self) -> impl Iterator<Item = &mut Value> {
        self.apply_patches();
        self.entries
            .as_mut()
            .map(std::sync::Arc::make_mut)
            .into_iter()
            .flat_map(|e| e.iter_mut().map(|(_, _, v)| v))
    }

    /// Set `key` to `value`, or to `combine(old, value)` when it has one; a
    /// key that had a value keeps its place in [`Fields::in_order`].
    pub fn upsert(
        &mut self,
        key: impl Into<Key>,
        value: Value,
        combine: impl FnOnce(Value, Value) -> Value,
    ) {
        let key = key.into();
        match self.find(&key) {
            Ok(i) => {
                if let Some(slot) = self.entries_mut().get_mut(i) {
                    let old = std::mem::replace(&mut slot.2, Value::unknown(value.span));
                    slot.2 = combine(old, value);
                }
            }
            Err(i) => {
                let seq = self.next_seq();
                self.entries_mut().insert(i, Fields::entry(key, value, seq));
            }
        }
    }

    /// Entries in the order they were first set.
    pub fn in_order(&self) -> Vec<(&Key, &Value)> {
        let mut v: Vec<(usize, &Entry)> = self.entries().iter().enumerate().collect();
        v.sort_by_key(|(_, e)| e.0.seq());
        v.into_iter()
            .map(|(i, (_, k, x))| (k, self.value_at(i, x)))
            .collect()
    }

    /// The entries, by value, in the order they were first set.
    pub fn into_in_order(self) -> Vec<(Key, Value)> {
        let mut v = self.into_entries();
        v.sort_by_key(|e| e.0.seq());
        v.into_iter().map(|(_, k, x)| (k, x)).collect()
    }

    /// Whether `key` has a value.
    pub fn contains_key(&self, key: &str) -> bool {
        self.find(key).is_ok()
    }

    /// Set `key`, returning its previous value.
    pub fn insert(&mut self, key: impl Into<Key>, value: Value) -> Option<Value> {
        let key = key.into();
        match self.find(&key) {
            Ok(i) => self
                .entries_mut()
                .get_mut(i)
                .map(|slot| std::mem::replace(&mut slot.2, value)),
            Err(i) => {
                let seq = self.next_seq();
                self.entries_mut().insert(i, Fields::entry(key, value, seq));
                None
            }
        }
    }

    /// Remove `key`, returning its value.
    pub fn remove(&mut self, key: &str) -> Option<Value> {
        let i = self.find(key).ok()?;
        let entries = self.entries_mut();
        let (p, _, v) = entries.remove(i);
        let seq = p.seq();
        if seq < SEQ_MAX {
            for e in entries.iter_mut() {
                let s = e.0.seq();
                if s > seq && s < SEQ_MAX {
                    e.0 = Prefix(e.0 .0 - 1);
                }
            }
        }
        Some(v)
    }

    /// The value of `key`, inserting `make()` first when it has none.
    pub fn get_or_insert_with(&mut self, key: &str, make: impl FnOnce() -> Value) -> &mut Value {
        let i = match self.find(key) {
            Ok(i) => i,
            Err(i) => {
                let seq = self.next_seq();
                self.entries_mut()
                    .insert(i, Fields::entry(Key::from(key), make(), seq));
                i
            }
        };
        // `i` is in bounds: found, or just inserted there.
        #[allow(clippy::indexing_slicing)]
        &mut self.entries_mut()[i].2
    }

    /// Room for exactly `n` more entries (a record about to get its last
    /// key: `insert` alone would double a full vector).
    pub fn reserve_exact(&mut self, n: usize) {
        if n > 0 {
            self.entries_mut().reserve_exact(n);
        }
    }

    /// Whether `self` and `other` are the same record in every respect:
    /// what `==` compares, and also the order keys were set in (which
    /// [`Fields::in_order`] reads) and every nested value's span. Records
    /// sharing their entries are identical without a look.
    pub fn identical(&self, other: &Fields) -> bool {
        if self.shares_entries(other) {
            return true;
        }
        let (a, b) = (self.entries(), other.entries());
        a.len() == b.len()
            && a.iter().zip(b).enumerate().all(|(i, (a, b))| {
                a.0 .0 == b.0 .0
                    && same_name(&a.1, &b.1)
                    && self.value_at(i, &a.2).identical(other.value_at(i, &b.2))
            })
    }

    /// Whether both share one block of entries (a copy neither changed).
    pub(crate) fn shares_entries(&self, other: &Fields) -> bool {
        let same_patches = match (&self.patches, &other.patches) {
            (None, None) => true,
            (Some(a), Some(b)) => std::sync::Arc::ptr_eq(a, b),
            _ => false,
        };
        same_patches
            && matches!((&self.entries, &other.entries), (Some(a), Some(b)) if std::sync::Arc::ptr_eq(a, b))
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.entries().len()
    }

    /// Whether there are no entries.
    pub fn is_empty(&self) -> bool {
        self.entries().is_empty()
    }

    /// Entries in name order.
    pub fn iter(&self) -> Iter<'_> {
        Iter {
            fields: self,
            entries: self.entries().iter().enumerate(),
        }
    }

    /// Names in order.
    pub fn keys(&self) -> impl DoubleEndedIterator<Item = &Key> + ExactSizeIterator {
        self.entries().iter().map(|(_, k, _)| k)
    }
}

impl<K: Into<Key>> FromIterator<(K, Value)> for Fields {
    /// As `BTreeMap::from_iter`: sorted by name; for a repeated name the
    /// last value wins (in the first one's place).
    fn from_iter<I: IntoIterator<Item = (K, Value)>>(iter: I) -> Fields {
        let mut v: Vec<(Prefix, Key, Value)> = iter
            .into_iter()
            .enumerate()
            .map(|(i, (k, x))| Fields::entry(k.into(), x, u32::try_from(i).unwrap_or(u32::MAX)))
            .collect();
        let before = |a: &(Prefix, Key, Value), b: &(Prefix, Key, Value)| {
            a.0.name().cmp(&b.0.name()).then_with(|| a.1.cmp(&b.1))
        };
        if !v
            .windows(2)
            .all(|w| matches!(w, [a, b] if before(a, b).is_lt()))
        {
            // Stable: equal names keep their order, then the last is kept.
            v.sort_by(before);
            let mut out: Vec<(Prefix, Key, Value)> = Vec::with_capacity(v.len());
            for e in v {
                match out.last_mut() {
                    Some(last) if last.1 == e.1 => last.2 = e.2,
                    _ => out.push(e),
                }
            }
            v = out;
        }
        Fields {
            entries: (!v.is_empty()).then(|| std::sync::Arc::new(v)),
            patches: None,
        }
    }
}

impl IntoIterator for Fields {
    type Item = (Key, Value);
    type IntoIter = std::iter::Map<
        std::vec::IntoIter<(Prefix, Key, Value)>,
        fn((Prefix, Key, Value)) -> (Key, Value),
    >;
    fn into_iter(self) -> Self::IntoIter {
        self.into_entries().into_iter().map(|(_, k, v)| (k, v))
    }
}

impl<'a> IntoIterator for &'a Fields {
    type Item = (&'a Key, &'a Value);
    type IntoIter = Iter<'a>;
    fn into_iter(self) -> Iter<'a> {
        self.iter()
    }
}

/// A record's entries in name order ([`Fields::iter`]).
pub struct Iter<'a> {
    fields: &'a Fields,
    entries: std::iter::Enumerate<std::slice::Iter<'a, Entry>>,
}

impl<'a> Iterator for Iter<'a> {
    type Item = (&'a Key, &'a Value);
    fn next(&mut self) -> Option<(&'a Key, &'a Value)> {
        let (i, (_, k, v)) = self.entries.next()?;
        Some((k, self.fields.value_at(i, v)))
    }
    fn size_hint(&self) -> (usize, Option<usize>) {
        self.entries.size_hint()
    }
}

impl DoubleEndedIterator for Iter<'_> {
    fn next_back(&mut self) -> Option<Self::Item> {
        let (i, (_, k, v)) = self.entries.next_back()?;
        Some((k, self.fields.value_at(i, v)))
    }
}

impl ExactSizeIterator for Iter<'_> {}

impl<K: Into<Key>> Extend<(K, Value)> for Fields {
    fn extend<I: IntoIterator<Item = (K, Value)>>(&mut self, iter: I) {
        for (k, v) in iter {
            self.insert(k, v);
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::model::V;

    fn v(n: i64) -> Value {
        Value::new(V::Int(n), Default::default())
    }

    #[test]
    fn a_copy_shares_its_entries_until_either_changes() {
        let inner: Fields = [("x", v(1))].into_iter().collect();
        let mut a: Fields = [
            ("a", v(1)),
            ("r", Value::new(V::Record(inner), Default::default())),
        ]
        .into_iter()
        .collect();
        let b = a.clone();
        assert!(std::sync::Arc::ptr_eq(
            a.entries.as_ref().unwrap(),
            b.entries.as_ref().unwrap()
        ));
        a.insert("c", v(3));
        if let Some(Value {
            kind: V::Record(r), ..
        }) = a.get_mut("r")
        {
            r.insert("x", v(2));
        }
        *a.get_mut("a").unwrap() = v(9);
        // The copy is unchanged, and unequal now.
        assert_eq!(b.len(), 2);
        assert_eq!(b.get("a"), Some(&v(1)));
        assert!(matches!(&b.get("r").unwrap().kind, V::Record(r) if r.get("x") == Some(&v(1))));
        assert!(matches!(&a.get("r").unwrap().kind, V::Record(r) if r.get("x") == Some(&v(2))));
        assert_ne!(a, b);
        // Removing and iterating by value leave the copy alone too.
        let mut c = b.clone();
        c.remove("a");
        assert_eq!(b.keys().map(|k| k.as_str()).collect::<Vec<_>>(), ["a", "r"]);
        assert_eq!(c.into_iter().count(), 1);
        assert_eq!(b.clone().into_iter().count(), 2);
        // An empty record holds no block.
        assert!(Fields::new().entries.is_none());
        assert!(Fields::from_iter(std::iter::empty::<(Key, Value)>())
            .entries
            .is_none());
    }

    #[test]
    fn identical_records_are_equal_and_were_set_in_the_same_order() {
        let ab: Fields = [("a", v(1)), ("b", v(2))].into_iter().collect();
        let ba: Fields = [("b", v(2)), ("a", v(1))].into_iter().collect();
        let wrap = |f: &Fields| Value::new(V::Record(f.clone()), Default::default());
        // `==` ignores the order keys were set in; `identical` does not.
        assert_eq!(ab, ba);
        assert!(!ab.identical(&ba));
        assert!(!wrap(&ab).identical(&wrap(&ba)));
        let copy: Fields = [("a", v(1)), ("b", v(2))].into_iter().collect();
        assert!(ab.identical(&copy) && wrap(&ab).identical(&wrap(&copy)));
        // Nested, in lists, and by span.
        let list = |f: &Fields| Value::new(V::List(vec![wrap(f)]), Default::default());
        assert!(list(&ab).identical(&list(&copy)));
        assert!(!list(&ab).identical(&list(&ba)));
        let mut moved = v(1);
        moved.span.end = 7;
        assert_eq!(moved.kind, v(1).kind);
        assert!(!moved.identical(&v(1)));
        let other: Fields = [("a", moved), ("b", v(2))].into_iter().collect();
        assert!(!ab.identical(&other));
    }

    #[test]
    fn a_record_with_values_set_reads_as_the_copy_changed_and_shares_its_entries() {
        // `c` was set after `b`, so order-of-setting differs from name order.
        let base: Fields = [("a", v(1)), ("c", v(3)), ("b", v(2)), ("d", v(4))]
            .into_iter()
            .collect();
        let mut copy = base.clone();
        *copy.get_mut("c").unwrap() = v(30);
        *copy.get_mut("a").unwrap() = v(10);
        let set = base.with_values([("c", v(30)), ("a", v(10))]).unwrap();
        assert!(std::sync::Arc::ptr_eq(
            set.entries.as_ref().unwrap(),
            base.entries.as_ref().unwrap()
        ));
        let all = |f: &Fields| {
            f.iter()
                .map(|(k, x)| (k.to_string(), x.clone()))
                .collect::<Vec<_>>()
        };
        assert_eq!(all(&set), all(&copy));
        let back: Vec<_> = set.iter().rev().map(|(k, _)| k.to_string()).collect();
        assert_eq!(back, ["d", "c", "b", "a"]);
        assert_eq!(set.in_order(), copy.in_order());
        assert_eq!(set.get("c"), Some(&v(30)));
        assert_eq!(set.get("b"), Some(&v(2)));
        let hint = Hint::new();
        for key in ["a", "b", "c", "d", "e"] {
            for _ in 0..2 {
                assert_eq!(set.get_hinted(key, &hint), copy.get(key), "{key}");
                assert_eq!(base.get_hinted(key, &hint), base.get(key), "{key}");
            }
        }
        assert!(set == copy && set.identical(&copy) && copy.identical(&set));
        assert!(set != base && !set.identical(&base) && !set.shares_entries(&base));
        assert!(set.shares_entries(&set.clone()));
        // Setting again on top, then changing, then owning: the base never moves.
        let again = set.with_values([("c", v(300)), ("d", v(40))]).unwrap();
        assert_eq!(again.get("a"), Some(&v(10)));
        assert_eq!(again.get("c"), Some(&v(300)));
        assert_eq!(again.get("d"), Some(&v(40)));
        assert!(base.with_values([("zz", v(0))]).is_none());
        let mut changed = set.clone();
        changed.insert("e", v(5));
        assert_eq!(changed.get("c"), Some(&v(30)));
        assert_eq!(
            changed.in_order().last().map(|(k, _)| k.as_str()),
            Some("e")
        );
        let mut each = set.clone();
        each.values_mut().for_each(|x| *x = v(0));
        assert!(each.iter().all(|(_, x)| *x == v(0)));
        let owned: Vec<(Key, Value)> = set.clone().into_iter().collect();
        assert_eq!(
            owned
                .iter()
                .map(|(k, x)| (k.to_string(), x.clone()))
                .collect::<Vec<_>>(),
            all(&copy)
        );
        assert_eq!(
            all(&base),
            [("a", v(1)), ("b", v(2)), ("c", v(3)), ("d", v(4))].map(|(k, x)| (k.to_string(), x))
        );
        assert_eq!(set.get("c"), Some(&v(30)));
    }

    #[test]
    fn a_hinted_lookup_finds_what_get_finds_whatever_the_hint() {
        // Records of different layouts share one hint (as one view accessor
        // reads every service), so the hint is often stale or absent-marked.
        let names = [
            "a",
            "image",
            "image_keys",
            "imagex",
            "name",
            "port",
            "ports",
            "z",
        ];
        let records: Vec<Fields> = (0..names.len())
            .flat_map(|skip| [skip, skip + 3])
            .map(|skip| {
                names
                    .iter()
                    .enumerate()
                    .filter(|(i, _)| i % (skip + 2) != 0)
                    .map(|(i, k)| (k.to_string(), v(i as i64)))
                    .collect()
            })
            .chain([Fields::new()])
            .collect();
        for key in names.iter().chain(&["", "b", "imag", "zz"]) {
            let hint = Hint::new();
            for _round in 0..2 {
                for r in records.iter().chain(records.iter().rev()) {
                    assert_eq!(
                        r.get_hinted(key, &hint),
                        r.get(key),
                        "{key} in {:?}",
                        r.keys().collect::<Vec<_>>()
                    );
                }
            }
        }
    }

    #[test]
    fn remembers_the_order_keys_were_first_set() {
        let mut f = Fields::new();
        for (k, n) in [("ZED", 1), ("ADDR", 2), ("MID", 3)] {
            f.insert(k.to_string(), v(n));
        }
        f.insert("ADDR", v(4));
        f.upsert("ZED", v(5), |_, new| new);
        f.upsert("NEW", v(6), |_, new| new);
        let order: Vec<&str> = f.in_order().into_iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(order, ["ZED", "ADDR", "MID", "NEW"]);
        assert_eq!(f.keys().collect::<Vec<_>>(), ["ADDR", "MID", "NEW", "ZED"]);
        let g: Fields = [("b", 1), ("a", 2), ("b", 3)]
            .into_iter()
            .map(|(k, n)| (k.to_string(), v(n)))
            .collect();
        let order: Vec<(&str, &Value)> = g
            .in_order()
            .into_iter()
            .map(|(k, x)| (k.as_str(), x))
            .collect();
        assert_eq!(order, [("b", &v(3)), ("a", &v(2))]);
        // A removed key's place is closed: the next key still goes last.
        let mut h = Fields::new();
        for k in ["c", "a", "b"] {
            h.insert(k.to_string(), v(0));
        }
        h.remove("c");
        h.insert("aa", v(1));
        let order: Vec<&str> = h.in_order().into_iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(order, ["a", "b", "aa"]);
        // Names that tie on their first six bytes.
        let mut t = Fields::new();
        for k in ["abcdefZ", "abcdefA", "abcdef"] {
            t.insert(k.to_string(), v(0));
        }
        assert_eq!(
            t.keys().collect::<Vec<_>>(),
            ["abcdef", "abcdefA", "abcdefZ"]
        );
        let order: Vec<&str> = t.in_order().into_iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(order, ["abcdefZ", "abcdefA", "abcdef"]);
    }

    #[test]
    fn behaves_like_a_sorted_map() {
        let mut f: Fields = [("b", 1), ("a", 2), ("b", 3)]
            .into_iter()
            .map(|(k, n)| (k.to_string(), v(n)))
            .collect();
        assert_eq!(f.keys().collect::<Vec<_>>(), ["a", "b"]);
        // Prefix ties and names that are prefixes of others.
        const ODD: [&str; 6] = [
            "abcdefghij",
            "abcdefgh",
            "abcdefghi",
            "ab",
            "abcdefgha",
            "b\u{1}",
        ];
        for k in ODD {
            f.insert(k.to_string(), v(0));
        }
        let keys: Vec<&Key> = f.keys().collect();
        let mut sorted = keys.clone();
        sorted.sort();
        assert_eq!(keys, sorted);
        for k in ["abcdefghij", "abcdefgh", "ab", "b\u{1}", "b"] {
            assert!(f.contains_key(k), "{k}");
        }
        assert!(!f.contains_key("abcdefg"));
        for k in ODD {
            f.remove(k);
        }
        assert_eq!(f.get("b"), Some(&v(3)), "the last value wins");
        assert_eq!(f.insert("c", v(4)), None);
        assert_eq!(f.insert("a", v(5)), Some(v(2)));
        assert_eq!(f.remove("b"), Some(v(3)));
        f.get_or_insert_with("aa", || v(6));
        assert_eq!(*f.get_or_insert_with("aa", || v(7)), v(6));
        let all: Vec<(Key, Value)> = f.into_iter().collect();
        assert_eq!(
            all.iter().map(|(k, _)| k.as_str()).collect::<Vec<_>>(),
            ["a", "aa", "c"]
        );
    }
}
