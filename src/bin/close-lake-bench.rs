//! `close-lake-bench`: the converter of `close-lake export` alone, for `make bench` (built only with
//! the `bench` feature).
//!
//! `convert TABLE PAGES OUT_DIR [THREADS]` turns a file of Close pages (one JSON page per line, as
//! Close sends them) into ZSTD Parquet with the export's own decoder and writer settings, each thread
//! taking every THREADS-th page into its own file, and prints one JSON line of figures.
//! `duckdb-columns TABLE` prints the table's declared columns as DuckDB types, so a peer converts
//! to the same types.

use std::fs::File;
use std::process::ExitCode;
use std::time::Instant;

use close_lake::close::pager::Envelope;
use close_lake::convert::{ColumnType, Decoder};
use close_lake::lake::writer::{ROW_GROUP_BYTES, writer_properties};
use close_lake::tables::{self, TableSpec};
use parquet::arrow::ArrowWriter;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let result = match args.as_slice() {
        ["convert", table, pages, out, rest @ ..] => {
            let threads = rest.first().map_or(Ok(2), |t| t.parse().map_err(|_| format!("bad thread count {t}")));
            threads.and_then(|threads| convert(spec(table)?, pages, out, threads))
        }
        ["duckdb-columns", table] => spec(table).map(duckdb_columns),
        _ => Err("usage: close-lake-bench convert TABLE PAGES OUT_DIR [THREADS] | duckdb-columns TABLE".into()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("close-lake-bench: {err}");
            ExitCode::FAILURE
        }
    }
}

fn spec(table: &str) -> Result<&'static TableSpec, String> {
    tables::by_name(table).ok_or_else(|| format!("no table {table}"))
}

fn convert(spec: &'static TableSpec, pages: &str, out: &str, threads: usize) -> Result<(), String> {
    let start = Instant::now();
    let text = std::fs::read(pages).map_err(|err| format!("{pages}: {err}"))?;
    let lines: Vec<&[u8]> = text.split(|b| *b == b'\n').filter(|line| !line.is_empty()).collect();
    let decoder = Decoder::new(spec, "bench", 0);
    let results: Vec<Result<(u64, u64), String>> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads.max(1))
            .map(|i| {
                let (lines, decoder) = (&lines, &decoder);
                scope.spawn(move || {
                    let path = format!("{out}/part-{i}.parquet");
                    let file = File::create(&path).map_err(|err| format!("{path}: {err}"))?;
                    let props = writer_properties(ROW_GROUP_BYTES);
                    let mut writer = ArrowWriter::try_new(file, decoder.schema().clone(), Some(props))
                        .map_err(|err| err.to_string())?;
                    let mut rows = 0;
                    for line in lines.iter().skip(i).step_by(threads.max(1)) {
                        let page = Envelope::parse(line).map_err(|err| err.to_string())?;
                        let decoded = decoder.decode(&page.data, |_| true).map_err(|err| err.to_string())?;
                        rows += decoded.batch.num_rows() as u64;
                        writer.write(&decoded.batch).map_err(|err| err.to_string())?;
                    }
                    writer.close().map_err(|err| err.to_string())?;
                    let bytes = std::fs::metadata(&path).map_err(|err| err.to_string())?.len();
                    Ok((rows, bytes))
                })
            })
            .collect();
        workers.into_iter().map(|w| w.join().unwrap_or_else(|_| Err("a worker panicked".into()))).collect()
    });
    let (mut rows, mut bytes) = (0, 0);
    for result in results {
        let (r, b) = result?;
        rows += r;
        bytes += b;
    }
    let seconds = start.elapsed().as_secs_f64();
    println!(
        "{{\"rows\": {rows}, \"input_bytes\": {}, \"parquet_bytes\": {bytes}, \"seconds\": {seconds:.3}}}",
        text.len()
    );
    Ok(())
}

fn duckdb_columns(spec: &'static TableSpec) {
    let columns: serde_json::Map<String, serde_json::Value> = spec
        .columns
        .iter()
        .map(|c| {
            let ty = match c.ty {
                ColumnType::Str => "VARCHAR",
                ColumnType::Timestamp => "TIMESTAMPTZ",
                ColumnType::Date => "DATE",
                ColumnType::Int => "BIGINT",
                ColumnType::Float => "DOUBLE",
                ColumnType::Bool => "BOOLEAN",
                ColumnType::Json => "JSON",
            };
            (c.name.to_string(), ty.into())
        })
        .collect();
    println!("{}", serde_json::Value::Object(columns));
}
