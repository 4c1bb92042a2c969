//! `close-lake sql`: DuckDB SQL defining a view per table over its committed files, and a
//! `<table>_latest` view of the newest version of each record, without the records the event log
//! reports deleted.

use crate::config::SqlPlan;
use crate::error::Error;
use crate::lake::Destination;
use crate::tables::{self, Replication};

pub async fn run(plan: SqlPlan) -> Result<(), Error> {
    print!("{}", duckdb_views(&plan.dest));
    Ok(())
}

/// The views, as one SQL script.
pub fn duckdb_views(dest: &Destination) -> String {
    let root = match dest {
        Destination::Local(path) => std::path::absolute(path).unwrap_or_else(|_| path.clone()).display().to_string(),
        other => other.to_string().trim_end_matches('/').to_string(),
    };
    let root = root.replace('\'', "''");
    let mut sql = format!(
        "-- close-lake views over {root}\n\
         -- Run in DuckDB (for s3:// or gs://, LOAD httpfs and CREATE SECRET first).\n"
    );
    for spec in tables::all() {
        let table = spec.name;
        sql.push_str(&format!(
            "\nCREATE OR REPLACE VIEW {table} AS\n  SELECT * FROM read_parquet('{root}/{table}/**/*.parquet', hive_partitioning = true, union_by_name = true);\n"
        ));
    }
    for spec in tables::all() {
        let table = spec.name;
        let what = match spec.replication {
            Replication::Cdc => "the newest version of each record",
            Replication::AppendOnly => "the newest version of each record seen (edits after 24 h need a backfill)",
        };
        let deleted = if table == "event_log" {
            String::new()
        } else {
            "\n  WHERE id NOT IN (SELECT object_id FROM event_log WHERE action = 'deleted' AND object_id IS NOT NULL)"
                .to_string()
        };
        sql.push_str(&format!(
            "\n-- {table}_latest: {what}{}.\nCREATE OR REPLACE VIEW {table}_latest AS\n  SELECT * FROM {table}{deleted}\n  QUALIFY row_number() OVER (PARTITION BY id ORDER BY {version} DESC, _close_lake_extracted_at DESC) = 1;\n",
            if deleted.is_empty() { "" } else { ", without records the event log reports deleted" },
            version = spec.version,
        ));
    }
    sql
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_view_and_a_latest_view_per_table() {
        let sql = duckdb_views(&Destination::S3 { bucket: "b".into(), prefix: "close".into() });
        for spec in tables::all() {
            assert!(sql.contains(&format!("VIEW {} AS", spec.name)));
            assert!(sql.contains(&format!("VIEW {}_latest AS", spec.name)));
        }
        assert!(sql.contains(
            "read_parquet('s3://b/close/leads/**/*.parquet', hive_partitioning = true, union_by_name = true)"
        ));
        assert!(sql.contains("action = 'deleted'"));
    }
}
