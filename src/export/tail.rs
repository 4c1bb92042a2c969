//! The tail: versions near the bookmark that the next run will read again.
//!
//! The next run starts at `bookmark - lookback` (24 h for activities, an hour for events, the
//! bookmark itself for CDC tables), so it re-reads rows this run committed. The manifest keeps their
//! `(id, key, version)` so the next run drops exact repeats without scanning the table. A collector
//! holds only rows within `lookback` of the largest key it has seen, so memory follows the volume of
//! the look-back, not the size of the account.

use std::collections::BTreeMap;

use crate::convert::RowKey;
use crate::lake::manifest::TailRow;
use crate::time::Micros;

#[derive(Debug, Clone)]
pub struct TailCollector {
    floor: Floor,
    by_key: BTreeMap<Micros, Vec<(String, Option<Micros>)>>,
}

/// Which rows a collector keeps.
#[derive(Debug, Clone, Copy)]
enum Floor {
    /// Within the look-back of the largest key seen (exports: the bookmark is that key).
    Sliding(Micros),
    /// At or after a fixed key (backfills: the next export's re-read span is known).
    Fixed(Micros),
}

impl TailCollector {
    pub fn new(lookback: Micros) -> TailCollector {
        TailCollector { floor: Floor::Sliding(lookback), by_key: BTreeMap::new() }
    }

    pub fn from_floor(floor: Micros) -> TailCollector {
        TailCollector { floor: Floor::Fixed(floor), by_key: BTreeMap::new() }
    }

    fn floor(&self) -> Option<Micros> {
        match self.floor {
            Floor::Sliding(lookback) => self.max_key().map(|max| max - lookback),
            Floor::Fixed(floor) => Some(floor),
        }
    }

    pub fn max_key(&self) -> Option<Micros> {
        self.by_key.keys().next_back().copied()
    }

    pub fn add(&mut self, rows: &[RowKey]) {
        for row in rows {
            let Some(key) = row.key else { continue };
            if self.floor().is_some_and(|floor| key < floor) {
                continue;
            }
            self.by_key.entry(key).or_default().push((row.id.clone(), row.version));
        }
        if let Some(floor) = self.floor() {
            self.by_key = self.by_key.split_off(&floor);
        }
    }

    /// The tail of the next run: rows of `previous` and of `windows` with key at or after `from`.
    pub fn merge(from: Micros, previous: &[TailRow], windows: Vec<TailCollector>) -> Vec<TailRow> {
        let mut rows: Vec<TailRow> =
            previous.iter().filter(|(_, key, _)| key.is_some_and(|k| k >= from)).cloned().collect();
        for window in windows {
            for (key, ids) in window.by_key.range(from..) {
                rows.extend(ids.iter().map(|(id, version)| (id.clone(), Some(*key), *version)));
            }
        }
        rows.sort();
        rows.dedup();
        rows
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(id: &str, key: Micros) -> RowKey {
        RowKey { id: id.into(), key: Some(key), version: Some(key + 1) }
    }

    #[test]
    fn keeps_only_the_look_back_of_the_largest_key() {
        let mut tail = TailCollector::new(10);
        tail.add(&[row("a", 1), row("b", 5), row("c", 20)]);
        tail.add(&[row("d", 12), row("e", 30)]);
        assert_eq!(tail.max_key(), Some(30));
        let merged = TailCollector::merge(20, &[], vec![tail]);
        let ids: Vec<_> = merged.iter().map(|(id, _, _)| id.as_str()).collect();
        assert_eq!(ids, ["c", "e"]);
    }

    #[test]
    fn a_zero_look_back_keeps_the_ties_at_the_bookmark() {
        let mut tail = TailCollector::new(0);
        tail.add(&[row("a", 7), row("b", 9), row("c", 9)]);
        let merged =
            TailCollector::merge(9, &[("z".into(), Some(9), Some(9)), ("y".into(), Some(3), Some(3))], vec![tail]);
        let ids: Vec<_> = merged.iter().map(|(id, _, _)| id.as_str()).collect();
        assert_eq!(ids, ["b", "c", "z"]);
    }
}
