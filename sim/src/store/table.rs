//! One indexed table: rows kept sorted by (replication key, id), each holding its record pre-serialized so a
//! page is answered by concatenating strings. A per-`kind` index (activity or task `_type`, event
//! `object_type`) answers per-type listings without scanning, and key ranges are binary searches, so paging
//! through millions of rows stays cheap.

use std::collections::HashMap;
use std::ops::{Bound, Range};

use serde_json::Value;

use crate::time::{Micros, parse_micros};

/// One record with the fields the endpoints filter and sort on.
#[derive(Debug, Clone)]
pub struct Row {
    pub id: Box<str>,
    /// The sort key: `date_created` for activities, `date_updated` elsewhere.
    pub key: Micros,
    /// `date_created` (leads filter on it too).
    pub created: Micros,
    /// `date_updated` (mutations pick the least recently updated rows).
    pub updated: Micros,
    /// `_type` of activities and tasks, `object_type` of events, empty elsewhere.
    pub kind: Box<str>,
    pub lead_id: Option<Box<str>>,
    /// `action` of events, empty elsewhere.
    pub action: Box<str>,
    /// The record as JSON text.
    pub raw: Box<str>,
}

impl Row {
    /// Indexes `record` on `key_field`; missing or unparsable timestamps sort as the epoch.
    pub fn new(record: &Value, key_field: &str, kind_field: &str) -> Row {
        let text = |f: &str| record.get(f).and_then(Value::as_str);
        let ts = |f: &str| text(f).and_then(parse_micros).unwrap_or(0);
        Row {
            id: text("id").unwrap_or_default().into(),
            key: ts(key_field),
            created: ts("date_created"),
            updated: ts("date_updated"),
            kind: text(kind_field).unwrap_or_default().into(),
            lead_id: text("lead_id").map(Into::into),
            action: text("action").unwrap_or_default().into(),
            raw: record.to_string().into_boxed_str(),
        }
    }

    /// The record parsed back (rows are built from valid JSON, so this only fails on a bug).
    pub fn value(&self) -> Value {
        serde_json::from_str(&self.raw).unwrap_or(Value::Null)
    }
}

/// Rows sorted by (key, id) with a per-kind index of row positions.
#[derive(Debug, Clone, Default)]
pub struct Table {
    pub rows: Vec<Row>,
    by_kind: HashMap<Box<str>, Vec<u32>>,
}

/// The rows an endpoint selected, in ascending (key, id) order.
#[derive(Debug)]
pub enum Selection<'a> {
    Range(Range<usize>),
    /// The rows of a range except those at the (sorted) positions, all within the range: one kind left out
    /// without copying the rest.
    Except(Range<usize>, &'a [u32]),
    Slice(&'a [u32]),
    Owned(Vec<u32>),
}

impl Selection<'_> {
    pub fn len(&self) -> usize {
        match self {
            Selection::Range(r) => r.len(),
            Selection::Except(r, hidden) => r.len() - hidden.len(),
            Selection::Slice(s) => s.len(),
            Selection::Owned(v) => v.len(),
        }
    }

    /// Row position of the `i`-th selected row.
    pub fn get(&self, i: usize) -> usize {
        match self {
            Selection::Range(r) => r.start + i,
            // `hidden[j] - j` counts the rows kept before `hidden[j]`: the answer follows the `j` hidden rows
            // with fewer than `i + 1` kept rows before them.
            Selection::Except(r, hidden) => {
                r.start + i + partition(hidden.len(), |j| hidden[j] as usize - j <= r.start + i)
            }
            Selection::Slice(s) => s[i] as usize,
            Selection::Owned(v) => v[i] as usize,
        }
    }

    /// Keeps only the rows `keep` accepts.
    pub fn filter(self, table: &Table, keep: impl Fn(&Row) -> bool) -> Selection<'static> {
        let positions = (0..self.len()).map(|i| self.get(i)).filter(|&p| keep(&table.rows[p]));
        Selection::Owned(positions.map(|p| p as u32).collect())
    }
}

impl Table {
    /// A table of `rows` in any order.
    pub fn new(rows: Vec<Row>) -> Table {
        let mut table = Table { rows, by_kind: HashMap::new() };
        table.reindex();
        table
    }

    /// Restores the order and the kind index after rows were added, changed or removed.
    pub fn reindex(&mut self) {
        self.rows.sort_by(|a, b| (a.key, &a.id).cmp(&(b.key, &b.id)));
        self.by_kind.clear();
        for (i, row) in self.rows.iter().enumerate() {
            self.by_kind.entry(row.kind.clone()).or_default().push(i as u32);
        }
    }

    /// `sel` without the rows of `kind`.
    pub fn without_kind<'a>(&'a self, sel: Selection<'a>, kind: &str) -> Selection<'a> {
        match sel {
            Selection::Range(r) => {
                let hidden = self.by_kind.get(kind).map_or(&[][..], |idx| {
                    let (s, e) = (
                        partition(idx.len(), |j| (idx[j] as usize) < r.start),
                        partition(idx.len(), |j| (idx[j] as usize) < r.end),
                    );
                    &idx[s..e]
                });
                if hidden.is_empty() { Selection::Range(r) } else { Selection::Except(r, hidden) }
            }
            sel => sel.filter(self, |row| *row.kind != *kind),
        }
    }

    pub fn position(&self, id: &str) -> Option<usize> {
        self.rows.iter().position(|r| &*r.id == id)
    }

    /// Rows whose key lies within `(lo, hi)`, of any kind in `kinds` (`None`: every kind).
    pub fn select(&self, kinds: Option<&[String]>, lo: Bound<Micros>, hi: Bound<Micros>) -> Selection<'_> {
        let start = |key_at: &dyn Fn(usize) -> Micros, len: usize| match lo {
            Bound::Included(t) => partition(len, |i| key_at(i) < t),
            Bound::Excluded(t) => partition(len, |i| key_at(i) <= t),
            Bound::Unbounded => 0,
        };
        let end = |key_at: &dyn Fn(usize) -> Micros, len: usize| match hi {
            Bound::Included(t) => partition(len, |i| key_at(i) <= t),
            Bound::Excluded(t) => partition(len, |i| key_at(i) < t),
            Bound::Unbounded => len,
        };
        let slice_of = |kind: &str| -> &[u32] {
            let Some(idx) = self.by_kind.get(kind) else { return &[] };
            let key_at = |i: usize| self.rows[idx[i] as usize].key;
            let (s, e) = (start(&key_at, idx.len()), end(&key_at, idx.len()));
            &idx[s..e.max(s)]
        };
        match kinds {
            None => {
                let key_at = |i: usize| self.rows[i].key;
                let (s, e) = (start(&key_at, self.rows.len()), end(&key_at, self.rows.len()));
                Selection::Range(s..e.max(s))
            }
            Some([kind]) => Selection::Slice(slice_of(kind)),
            Some(kinds) => {
                let mut merged: Vec<u32> = Vec::new();
                let mut seen = Vec::new();
                for kind in kinds {
                    if !seen.contains(&kind) {
                        seen.push(kind);
                        merged.extend_from_slice(slice_of(kind));
                    }
                }
                merged.sort_unstable();
                Selection::Owned(merged)
            }
        }
    }
}

/// First index in `0..len` for which `before` is false (`before` must be monotone).
fn partition(len: usize, before: impl Fn(usize) -> bool) -> usize {
    let (mut lo, mut hi) = (0, len);
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        if before(mid) { lo = mid + 1 } else { hi = mid }
    }
    lo
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn table() -> Table {
        let rows = [("b", 2, "Call"), ("a", 2, "Note"), ("c", 1, "Call"), ("d", 3, "Note")]
            .iter()
            .map(|(id, day, kind)| {
                let ts = format!("2024-01-0{day}T00:00:00+00:00");
                Row::new(&json!({"id": id, "date_created": ts, "_type": kind}), "date_created", "_type")
            })
            .collect();
        Table::new(rows)
    }

    fn ids(t: &Table, s: &Selection) -> Vec<String> {
        (0..s.len()).map(|i| t.rows[s.get(i)].id.to_string()).collect()
    }

    #[test]
    fn sorts_by_key_then_id_and_selects_ranges() {
        let t = table();
        let day = |d: u32| parse_micros(&format!("2024-01-0{d}")).unwrap_or_default();
        assert_eq!(ids(&t, &t.select(None, Bound::Unbounded, Bound::Unbounded)), ["c", "a", "b", "d"]);
        assert_eq!(ids(&t, &t.select(None, Bound::Included(day(2)), Bound::Excluded(day(3)))), ["a", "b"]);
        assert_eq!(ids(&t, &t.select(None, Bound::Excluded(day(2)), Bound::Included(day(3)))), ["d"]);
        let calls = ["Call".to_string()];
        assert_eq!(ids(&t, &t.select(Some(&calls), Bound::Included(day(2)), Bound::Unbounded)), ["b"]);
        let both = ["Note".to_string(), "Call".to_string()];
        assert_eq!(ids(&t, &t.select(Some(&both), Bound::Unbounded, Bound::Unbounded)), ["c", "a", "b", "d"]);
        assert_eq!(t.select(None, Bound::Included(day(3)), Bound::Excluded(day(1))).len(), 0);
    }

    #[test]
    fn leaves_one_kind_out_without_copying() {
        let rows = (0..40)
            .map(|i| {
                let kind = if i % 3 == 0 || (10..20).contains(&i) { "Thread" } else { "Email" };
                let ts = format!("2024-01-01T00:00:{i:02}+00:00");
                Row::new(&json!({"id": format!("r{i:02}"), "date_created": ts, "_type": kind}), "date_created", "_type")
            })
            .collect();
        let t = Table::new(rows);
        let at = |s: u32| parse_micros(&format!("2024-01-01T00:00:{s:02}Z")).unwrap_or_default();
        for (lo, hi) in [(0, 39), (5, 25), (10, 19), (11, 35)] {
            let range = t.select(None, Bound::Included(at(lo)), Bound::Included(at(hi)));
            let expected: Vec<String> = ids(&t, &range)
                .into_iter()
                .filter(|id| t.rows[t.position(id).unwrap_or(0)].kind.as_ref() != "Thread")
                .collect();
            let except = t.without_kind(range, "Thread");
            assert!(matches!(except, Selection::Except(..)) || expected.is_empty());
            assert_eq!(ids(&t, &except), expected, "{lo}..={hi}");
        }
        let none = t.without_kind(t.select(None, Bound::Unbounded, Bound::Unbounded), "Fax");
        assert!(matches!(none, Selection::Range(_)));
        let slice = t.select(Some(&["Thread".to_string()]), Bound::Unbounded, Bound::Unbounded);
        assert_eq!(t.without_kind(slice, "Thread").len(), 0);
    }
}
