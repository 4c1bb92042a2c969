//! docs/schema.md lists every column of every table with its Arrow and Parquet type, generated from
//! the table registry. Regenerate with `CLOSE_LAKE_BLESS=1 cargo test --test schema_doc`.

use std::fmt::Write;

use arrow::datatypes::DataType;
use close_lake::convert::arrow_schema;
use close_lake::tables;

fn reader_type(ty: &DataType) -> &'static str {
    match ty {
        DataType::Utf8 => "VARCHAR (string)",
        DataType::Timestamp(..) => "TIMESTAMP WITH TIME ZONE (timestamp, UTC, microseconds)",
        DataType::Date32 => "DATE",
        DataType::Int64 => "BIGINT",
        DataType::Float64 => "DOUBLE",
        DataType::Boolean => "BOOLEAN",
        _ => "other",
    }
}

fn generate() -> String {
    let mut out = String::from(
        "# Schema\n\nGenerated from `src/tables/specs.rs` by `tests/schema_doc.rs`; do not edit by hand.\n\n\
         Types are as DuckDB and Spark read them. Columns marked JSON hold JSON text exactly as Close sent it\n\
         (query with `json_extract` in DuckDB, `from_json`/`get_json_object` in Spark). Every table also has:\n\n\
         - `_close_lake_extra`: a JSON object of the fields that have no column (new fields Close adds, and\n  values that did not fit their column's type), or null;\n\
         - `_close_lake_run_id`, `_close_lake_extracted_at`: the run that wrote the row and when it read it;\n\
         - the Hive partition column `<key>_month` (`YYYY-MM`, a string), derived from the replication key in UTC.\n",
    );
    for spec in tables::all() {
        let schema = arrow_schema(spec);
        let _ = write!(
            out,
            "\n## {}\n\nReplication key `{}`, version `{}`, partition `{}`.\n\n| column | type |\n|---|---|\n",
            spec.name,
            spec.key,
            spec.version,
            spec.partition_column()
        );
        for column in spec.columns {
            let field = schema.field_with_name(column.name).expect("declared column");
            let json = if column.ty == close_lake::convert::ColumnType::Json { " (JSON)" } else { "" };
            let _ = writeln!(out, "| `{}` | {}{} |", column.name, reader_type(field.data_type()), json);
        }
    }
    out
}

#[test]
fn docs_schema_md_matches_the_registry() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/schema.md");
    let generated = generate();
    if std::env::var_os("CLOSE_LAKE_BLESS").is_some() {
        std::fs::write(&path, &generated).unwrap();
    }
    let current = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(current == generated, "docs/schema.md is stale: run CLOSE_LAKE_BLESS=1 cargo test --test schema_doc");
}
