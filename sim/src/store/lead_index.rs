//! The lead search index, which lags writes: `GET /lead/` (`query=`) and `POST /data/search/` read it, while
//! `GET /lead/<id>/` and snapshots read the leads themselves. A mutation marked `index_delayed` freezes the
//! index at the versions it shows (new leads stay out of it, changed and deleted ones keep their previous
//! version) until [`Store::flush_lead_index`]; other mutations publish the leads they change at once.

use super::{Store, Table};

impl Store {
    /// The leads as the search index shows them.
    pub fn lead_search(&self) -> &Table {
        self.lead_index.as_ref().unwrap_or(&self.leads)
    }

    /// Keeps the index at the versions it shows now (before a delayed mutation).
    pub fn hold_lead_index(&mut self) {
        if self.lead_index.is_none() {
            self.lead_index = Some(self.leads.clone());
        }
    }

    /// Shows the current versions of the leads `ids` (changed by an immediate mutation), or removes them from
    /// the index when they no longer exist.
    pub fn publish_leads(&mut self, ids: &[String]) {
        let Some(index) = self.lead_index.as_mut() else { return };
        index.rows.retain(|r| !ids.iter().any(|id| *id == *r.id));
        for id in ids {
            if let Some(p) = self.leads.position(id) {
                index.rows.push(self.leads.rows[p].clone());
            }
        }
        index.reindex();
    }

    /// The index catches up with every write.
    pub fn flush_lead_index(&mut self) {
        self.lead_index = None;
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use crate::dataset::Dataset;
    use crate::store::{Store, Table};

    fn ids(store: &Store) -> Vec<String> {
        store.lead_search().rows.iter().map(|r| r.id.to_string()).collect()
    }

    #[test]
    fn holds_publishes_and_flushes() {
        let lead = |id: &str, day: u32| json!({"id": id, "date_updated": format!("2024-01-0{day}T00:00:00+00:00")});
        let mut store = Store::load(Dataset { leads: vec![lead("a", 1), lead("b", 2)], ..Dataset::default() });
        store.hold_lead_index();
        store.leads = Table::new(vec![]);
        assert_eq!(ids(&store), ["a", "b"], "held: deletes are not visible yet");
        store.leads = Store::load(Dataset { leads: vec![lead("b", 3), lead("c", 4)], ..Dataset::default() }).leads;
        store.publish_leads(&["c".to_string(), "a".to_string()]);
        assert_eq!(ids(&store), ["b", "c"], "published: a is gone, c is new, b keeps its held version");
        assert!(store.lead_search().rows[0].raw.contains("2024-01-02"));
        store.flush_lead_index();
        assert_eq!(ids(&store), ["b", "c"]);
        assert!(store.lead_search().rows[0].raw.contains("2024-01-03"));
    }
}
