//! The tail: versions near the bookmark that the next run will read again.
//!
//! The next run starts at `bookmark - lookback` (24 h for activities, an hour for events and leads,
//! the bookmark itself for the other CDC tables), so it re-reads rows this run committed. The manifest keeps their
//! `(id, key, version)` so the next run drops exact repeats without scanning the table. A collector
//! holds only rows within `lookback` of the largest key it has seen, so memory follows the volume of
//! the look-back, not the size of the account.

use std::collections::BTreeMap;

use crate::convert::RowKey;
use crate::lake::manifest::TailRow;
use crate::time::Micros;

#[derive(Debug, Clone)]
pub struct TailCollector {
    lookback: Micros,
    by_key: BTreeMap<Micros, Vec<(String, Option<Micros>)>>,
}

impl TailCollector {
    pub fn new(lookback: Micros) -> TailCollector {
        TailCollector { lookback, by_key: BTreeMap::new() }
    }

    /// Rows below this cannot be in the next run's re-read span.
    fn floor(&self) -> Option<Micros> {
        self.max_key().map(|max| max - self.lookback)
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

    /// Takes in the rows another window kept, keeping only those within `lookback` of the largest
    /// key either saw: windows end in any order, and only the table's last look-back matters.
    pub fn merge(&mut self, other: TailCollector) {
        for (key, mut ids) in other.by_key {
            self.by_key.entry(key).or_default().append(&mut ids);
        }
        if let Some(floor) = self.floor() {
            self.by_key = self.by_key.split_off(&floor);
        }
    }

    /// The rows kept, in order; the commit keeps those in the final bookmark's look-back (see
    /// `lake::commit`).
    pub fn into_rows(self) -> Vec<TailRow> {
        let mut rows: Vec<TailRow> = self
            .by_key
            .into_iter()
            .flat_map(|(key, ids)| ids.into_iter().map(move |(id, version)| (id, Some(key), version)))
            .collect();
        rows.sort();
        rows.dedup();
        rows
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(id: &str, key: Micros) -> RowKey {
        RowKey { id: id.into(), key: Some(key), version: Some(key + 1), order: Some(key) }
    }

    #[test]
    fn keeps_only_the_look_back_of_the_largest_key() {
        let mut tail = TailCollector::new(10);
        tail.add(&[row("a", 1), row("b", 5), row("c", 20)]);
        tail.add(&[row("d", 12), row("e", 30)]);
        assert_eq!(tail.max_key(), Some(30));
        let rows = tail.into_rows();
        let ids: Vec<_> = rows.iter().map(|(id, _, _)| id.as_str()).collect();
        assert_eq!(ids, ["c", "e"]);
    }

    #[test]
    fn a_zero_look_back_keeps_the_ties_at_the_bookmark() {
        let mut tail = TailCollector::new(0);
        tail.add(&[row("a", 7), row("b", 9), row("c", 9)]);
        let rows = tail.into_rows();
        let ids: Vec<_> = rows.iter().map(|(id, _, _)| id.as_str()).collect();
        assert_eq!(ids, ["b", "c"]);
    }

    #[test]
    fn merging_windows_in_any_order_keeps_the_look_back_of_the_largest_key() {
        let (mut low, mut high, mut merged) = (TailCollector::new(10), TailCollector::new(10), TailCollector::new(10));
        low.add(&[row("a", 1), row("b", 25)]);
        high.add(&[row("c", 30), row("d", 40)]);
        merged.merge(low);
        merged.merge(high);
        let ids: Vec<_> = merged.into_rows().into_iter().map(|(id, _, _)| id).collect();
        assert_eq!(ids, ["c", "d"]);
    }
}
