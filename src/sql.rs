//! `close-lake sql`: DuckDB SQL defining a view per table the lake holds, over its Delta log
//! (`delta_scan`: the committed snapshot, never a file of a run in progress), and a
//! `<table>_latest` view of the newest version of each record, without the records the event log
//! reports deleted.

use crate::config::SqlPlan;
use crate::error::Error;
use crate::lake::{Destination, snapshot};
use crate::tables::{self, Replication, TableSpec};

pub async fn run(plan: SqlPlan) -> Result<(), Error> {
    let missing = matches!(&plan.dest, Destination::Local(path) if !path.exists());
    let mut held = Vec::new();
    if !missing {
        let lake = plan.dest.open().map_err(Error::Destination)?;
        for spec in tables::all() {
            if snapshot::exists(&lake, spec.name).await.map_err(Error::Lake)? {
                held.push(spec);
            }
        }
    }
    print!("{}", duckdb_views(&plan.dest, &held));
    Ok(())
}

/// The views of the tables `held`, as one SQL script. A table the lake does not hold yet gets no
/// view, so the script runs whole on a lake exported with `--tables`.
pub fn duckdb_views(dest: &Destination, held: &[&TableSpec]) -> String {
    let root = match dest {
        Destination::Local(path) => std::path::absolute(path).unwrap_or_else(|_| path.clone()).display().to_string(),
        other => other.to_string().trim_end_matches('/').to_string(),
    };
    let root = root.replace('\'', "''");
    let mut sql = format!(
        "-- close-lake views over {root}\n\
         -- Run in DuckDB (for s3:// or gs://, LOAD httpfs and CREATE SECRET first).\n\
         INSTALL delta;\nLOAD delta;\n"
    );
    if held.is_empty() {
        sql.push_str("-- The lake holds no table yet: run `close-lake export` first.\n");
    }
    for spec in held {
        let table = spec.name;
        sql.push_str(&format!("\nCREATE OR REPLACE VIEW {table} AS\n  SELECT * FROM delta_scan('{root}/{table}');\n"));
    }
    let events = held.iter().any(|spec| spec.name == "event_log");
    for spec in held {
        let table = spec.name;
        let what = match spec.replication {
            Replication::Cdc => "the newest version of each record",
            Replication::AppendOnly => "the newest version of each record seen (edits after 24 h need a backfill)",
            Replication::Content => "the content of each record last seen",
        };
        let deleted = if table == "event_log" || !events {
            String::new()
        } else {
            "\n  WHERE id NOT IN (SELECT object_id FROM event_log WHERE action = 'deleted' AND object_id IS NOT NULL)"
                .to_string()
        };
        sql.push_str(&format!(
            "\n-- {table}_latest: {what}{}.\nCREATE OR REPLACE VIEW {table}_latest AS\n  SELECT * FROM {table}{deleted}\n  QUALIFY row_number() OVER (PARTITION BY id ORDER BY {newest} DESC, _close_lake_extracted_at DESC) = 1;\n",
            if deleted.is_empty() { "" } else { ", without records the event log reports deleted" },
            newest = spec.newest_by(),
        ));
    }
    sql
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_view_and_a_latest_view_per_table_held() {
        let all: Vec<&TableSpec> = tables::all().iter().collect();
        let sql = duckdb_views(&Destination::S3 { bucket: "b".into(), prefix: "close".into() }, &all);
        for spec in tables::all() {
            assert!(sql.contains(&format!("VIEW {} AS", spec.name)));
            assert!(sql.contains(&format!("VIEW {}_latest AS", spec.name)));
        }
        assert!(sql.contains("delta_scan('s3://b/close/leads')"));
        assert!(sql.contains("action = 'deleted'"));
    }

    #[test]
    fn a_lake_without_some_tables_gets_views_of_the_others_only() {
        let leads = tables::by_name("leads").unwrap();
        let sql = duckdb_views(&Destination::Local("/l".into()), &[leads]);
        assert!(sql.contains("VIEW leads AS") && sql.contains("VIEW leads_latest AS"));
        assert!(!sql.contains("VIEW tasks") && !sql.contains("event_log"), "{sql}");
    }
}
