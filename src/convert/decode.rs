//! The decoder: Close JSON records (borrowed raw values) to one Arrow record batch.

use std::borrow::Cow;
use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

use arrow_array::builder::{
    BooleanBuilder, Date32Builder, Float64Builder, Int64Builder, StringBuilder, TimestampMicrosecondBuilder,
};
use arrow_array::{ArrayRef, RecordBatch, StringArray, TimestampMicrosecondArray};
use arrow_schema::ArrowError;
use arrow_schema::SchemaRef;
use serde::Deserialize;
use serde::de::{MapAccess, Visitor};
use serde_json::value::RawValue;

use super::{CUSTOM_BY_ID_COLUMN, CUSTOM_PREFIX, ColumnType, arrow_schema};
use crate::tables::{Replication, TableSpec};
use crate::time::{self, Micros};

/// What identifies one row: its record, where it sorts, and which version of the record it is.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RowKey {
    pub id: String,
    pub key: Option<Micros>,
    /// The version column's value: a timestamp, or a content hash where the table versions by content.
    pub version: Option<i64>,
    /// The field the source pages by: the key, or tasks' `date_created`.
    pub order: Option<Micros>,
}

/// One converted page.
#[derive(Debug)]
pub struct Decoded {
    pub batch: RecordBatch,
    /// The keys of the rows in `batch`, in order.
    pub rows: Vec<RowKey>,
    /// Values that did not fit their column's type: coerced, or kept raw in the extras column.
    pub coerced: u64,
    /// Records dropped by the caller's filter (repeats, or outside the window).
    pub skipped: u64,
}

/// Converts records of one table. Built once per table and run; cheap to share.
#[derive(Debug)]
pub struct Decoder {
    spec: &'static TableSpec,
    schema: SchemaRef,
    index: HashMap<&'static str, usize>,
    custom_by_id: Option<usize>,
    run_id: String,
    extracted_at: Micros,
}

impl Decoder {
    pub fn new(spec: &'static TableSpec, run_id: &str, extracted_at: Micros) -> Decoder {
        let index: HashMap<_, _> = spec.columns.iter().enumerate().map(|(i, c)| (c.name, i)).collect();
        let custom_by_id = index.get(CUSTOM_BY_ID_COLUMN).copied();
        Decoder { spec, schema: arrow_schema(spec), index, custom_by_id, run_id: run_id.to_string(), extracted_at }
    }

    pub fn schema(&self) -> &SchemaRef {
        &self.schema
    }

    /// Converts the records `keep` accepts, in order. A record that is not a JSON object is an
    /// error: Close never sends one, and guessing would hide a broken response.
    pub fn decode(&self, records: &[&RawValue], mut keep: impl FnMut(&RowKey) -> bool) -> Result<Decoded, DecodeError> {
        let columns = self.spec.columns;
        let mut builders: Vec<ColumnBuilder> =
            columns.iter().map(|c| ColumnBuilder::new(c.ty, records.len())).collect();
        let mut extras = StringBuilder::with_capacity(records.len(), 0);
        let mut rows = Vec::with_capacity(records.len());
        let mut coerced = 0;
        let mut skipped = 0;
        let mut slots: Vec<Option<&RawValue>> = vec![None; columns.len()];
        let (id_at, key_at, version_at) = (self.index["id"], self.index[self.spec.key], self.index[self.spec.version]);
        let order_at = self.index[self.spec.order_key()];

        for (position, raw) in records.iter().enumerate() {
            let Entries(entries) =
                serde_json::from_str(raw.get()).map_err(|source| DecodeError { position, source })?;
            slots.iter_mut().for_each(|slot| *slot = None);
            let mut unknown: Vec<(&str, &RawValue)> = Vec::new();
            let mut custom: Vec<(&str, &RawValue)> = Vec::new();
            for (name, value) in &entries {
                if let Some(&at) = self.index.get(name.as_ref()) {
                    slots[at] = Some(*value);
                } else if let (Some(field_id), Some(_)) = (name.strip_prefix(CUSTOM_PREFIX), self.custom_by_id) {
                    custom.push((field_id, *value));
                } else {
                    unknown.push((name.as_ref(), *value));
                }
            }
            let timestamp = |at: usize| slots[at].and_then(as_str).and_then(|s| time::parse_timestamp(&s));
            let key = timestamp(key_at);
            let row = RowKey {
                id: slots[id_at].and_then(as_str).map(Cow::into_owned).unwrap_or_default(),
                key,
                version: if version_at == key_at {
                    key
                } else if self.spec.replication == Replication::Content {
                    slots[version_at].and_then(|raw| raw.get().parse().ok())
                } else {
                    timestamp(version_at)
                },
                order: if order_at == key_at { key } else { timestamp(order_at) },
            };
            if !keep(&row) {
                skipped += 1;
                continue;
            }
            rows.push(row);
            for (at, (builder, column)) in builders.iter_mut().zip(columns).enumerate() {
                if Some(at) == self.custom_by_id {
                    builder.append_json_object(&custom);
                    continue;
                }
                match builder.append(slots[at]) {
                    Fit::Exact => {}
                    Fit::Coerced => coerced += 1,
                    Fit::Rejected => {
                        coerced += 1;
                        unknown.extend(slots[at].map(|raw| (column.name, raw)));
                    }
                }
            }
            if unknown.is_empty() {
                extras.append_null();
            } else {
                extras.append_value(json_object(&unknown));
            }
        }

        let n = rows.len();
        let mut arrays: Vec<ArrayRef> = builders.into_iter().map(ColumnBuilder::finish).collect();
        arrays.push(Arc::new(extras.finish()));
        arrays.push(Arc::new(StringArray::from(vec![self.run_id.as_str(); n])));
        arrays.push(Arc::new(TimestampMicrosecondArray::from(vec![self.extracted_at; n]).with_timezone("UTC")));
        let batch = RecordBatch::try_new(self.schema.clone(), arrays).map_err(DecodeError::arrow)?;
        Ok(Decoded { batch, rows, coerced, skipped })
    }
}

/// The record at `position` of a page could not be converted.
#[derive(Debug)]
pub struct DecodeError {
    pub position: usize,
    pub source: serde_json::Error,
}

impl DecodeError {
    pub fn arrow(err: ArrowError) -> DecodeError {
        DecodeError { position: usize::MAX, source: serde::de::Error::custom(err) }
    }
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.position == usize::MAX {
            return write!(f, "the page does not fit the table's Arrow schema: {}", self.source);
        }
        write!(f, "record {} of the page is not a JSON object: {}", self.position, self.source)
    }
}

impl std::error::Error for DecodeError {}

/// How a raw value fitted its column.
enum Fit {
    Exact,
    /// Converted to the column's type (a number sent as a string, a datetime in a date column).
    Coerced,
    /// Did not fit: the column holds null and the raw value goes to the extras column.
    Rejected,
}

enum ColumnBuilder {
    Str(StringBuilder),
    Json(StringBuilder),
    Timestamp(TimestampMicrosecondBuilder),
    Date(Date32Builder),
    Int(Int64Builder),
    Float(Float64Builder),
    Bool(BooleanBuilder),
}

impl ColumnBuilder {
    fn new(ty: ColumnType, rows: usize) -> ColumnBuilder {
        match ty {
            ColumnType::Str => ColumnBuilder::Str(StringBuilder::with_capacity(rows, rows * 16)),
            ColumnType::Json => ColumnBuilder::Json(StringBuilder::with_capacity(rows, rows * 32)),
            ColumnType::Timestamp => ColumnBuilder::Timestamp(TimestampMicrosecondBuilder::with_capacity(rows)),
            ColumnType::Date => ColumnBuilder::Date(Date32Builder::with_capacity(rows)),
            ColumnType::Int => ColumnBuilder::Int(Int64Builder::with_capacity(rows)),
            ColumnType::Float => ColumnBuilder::Float(Float64Builder::with_capacity(rows)),
            ColumnType::Bool => ColumnBuilder::Bool(BooleanBuilder::with_capacity(rows)),
        }
    }

    fn append(&mut self, raw: Option<&RawValue>) -> Fit {
        let Some(raw) = raw.filter(|raw| raw.get() != "null") else {
            self.append_null();
            return Fit::Exact;
        };
        let text = raw.get();
        match self {
            ColumnBuilder::Json(b) => {
                b.append_value(text);
                Fit::Exact
            }
            ColumnBuilder::Str(b) => match as_str(raw) {
                Some(s) => {
                    b.append_value(s);
                    Fit::Exact
                }
                None if !text.starts_with(['{', '[']) => {
                    // A number or boolean where text was declared: its JSON text is its string form.
                    b.append_value(text);
                    Fit::Coerced
                }
                None => {
                    b.append_null();
                    Fit::Rejected
                }
            },
            ColumnBuilder::Timestamp(b) => {
                let s = as_str(raw);
                if let Some(micros) = s.as_deref().and_then(time::parse_timestamp) {
                    b.append_value(micros);
                    Fit::Exact
                } else if let Some(date) = s.as_deref().and_then(time::parse_date) {
                    b.append_value(time::date_start(date));
                    Fit::Coerced
                } else {
                    b.append_null();
                    Fit::Rejected
                }
            }
            ColumnBuilder::Date(b) => {
                let s = as_str(raw);
                if let Some(date) = s.as_deref().and_then(time::parse_date) {
                    b.append_value(time::date_to_days(date));
                    Fit::Exact
                } else if let Some(micros) = s.as_deref().and_then(time::parse_timestamp)
                    && micros.rem_euclid(time::MICROS_PER_DAY) == 0
                {
                    // Midnight UTC holds nothing a date cannot; any other time of day is kept raw.
                    b.append_value(time::date_to_days(time::to_datetime(micros).date_naive()));
                    Fit::Coerced
                } else {
                    b.append_null();
                    Fit::Rejected
                }
            }
            ColumnBuilder::Int(b) => {
                if let Ok(n) = text.parse::<i64>() {
                    b.append_value(n);
                    return Fit::Exact;
                }
                let number = as_str(raw).map_or_else(|| text.parse::<f64>().ok(), |s| s.trim().parse::<f64>().ok());
                match number {
                    Some(f) if f.fract() == 0.0 && f.abs() < 9.0e15 => {
                        b.append_value(f as i64);
                        Fit::Coerced
                    }
                    _ => {
                        b.append_null();
                        Fit::Rejected
                    }
                }
            }
            ColumnBuilder::Float(b) => {
                let (number, fit) = match as_str(raw) {
                    Some(s) => (s.trim().parse::<f64>().ok(), Fit::Coerced),
                    None => (text.parse::<f64>().ok(), Fit::Exact),
                };
                match number {
                    Some(f) => {
                        b.append_value(f);
                        fit
                    }
                    None => {
                        b.append_null();
                        Fit::Rejected
                    }
                }
            }
            ColumnBuilder::Bool(b) => match text {
                "true" => {
                    b.append_value(true);
                    Fit::Exact
                }
                "false" => {
                    b.append_value(false);
                    Fit::Exact
                }
                _ => {
                    b.append_null();
                    Fit::Rejected
                }
            },
        }
    }

    /// The custom-fields-by-id column: one JSON object of `custom.<id>` values, or null.
    fn append_json_object(&mut self, entries: &[(&str, &RawValue)]) {
        match self {
            ColumnBuilder::Json(b) | ColumnBuilder::Str(b) if !entries.is_empty() => {
                b.append_value(json_object(entries))
            }
            _ => self.append_null(),
        }
    }

    fn append_null(&mut self) {
        match self {
            ColumnBuilder::Str(b) | ColumnBuilder::Json(b) => b.append_null(),
            ColumnBuilder::Timestamp(b) => b.append_null(),
            ColumnBuilder::Date(b) => b.append_null(),
            ColumnBuilder::Int(b) => b.append_null(),
            ColumnBuilder::Float(b) => b.append_null(),
            ColumnBuilder::Bool(b) => b.append_null(),
        }
    }

    fn finish(self) -> ArrayRef {
        match self {
            ColumnBuilder::Str(mut b) | ColumnBuilder::Json(mut b) => Arc::new(b.finish()),
            ColumnBuilder::Timestamp(mut b) => Arc::new(b.finish().with_timezone("UTC")),
            ColumnBuilder::Date(mut b) => Arc::new(b.finish()),
            ColumnBuilder::Int(mut b) => Arc::new(b.finish()),
            ColumnBuilder::Float(mut b) => Arc::new(b.finish()),
            ColumnBuilder::Bool(mut b) => Arc::new(b.finish()),
        }
    }
}

/// The string a raw JSON string holds (unescaped), or `None` for any other JSON value.
fn as_str(raw: &RawValue) -> Option<Cow<'_, str>> {
    if !raw.get().starts_with('"') {
        return None;
    }
    serde_json::from_str::<Text<'_>>(raw.get()).ok().map(|t| t.0)
}

/// `{"name": raw, ...}` with raw values as Close sent them.
fn json_object(entries: &[(&str, &RawValue)]) -> String {
    let mut out = String::with_capacity(entries.iter().map(|(k, v)| k.len() + v.get().len() + 4).sum::<usize>() + 2);
    out.push('{');
    for (i, (name, value)) in entries.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(&serde_json::to_string(name).unwrap_or_else(|_| "\"\"".to_string()));
        out.push(':');
        out.push_str(value.get());
    }
    out.push('}');
    out
}

/// A JSON string, borrowed when it holds no escapes.
#[derive(Deserialize)]
struct Text<'a>(#[serde(borrow)] Cow<'a, str>);

/// A record's top-level fields, in order, with their values left unparsed.
struct Entries<'a>(Vec<(Cow<'a, str>, &'a RawValue)>);

impl<'de> Deserialize<'de> for Entries<'de> {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct EntriesVisitor;
        impl<'de> Visitor<'de> for EntriesVisitor {
            type Value = Entries<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut entries = Vec::with_capacity(map.size_hint().unwrap_or(32));
                while let Some((Text(key), value)) = map.next_entry::<Text<'de>, &'de RawValue>()? {
                    entries.push((key, value));
                }
                Ok(Entries(entries))
            }
        }
        deserializer.deserialize_map(EntriesVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::convert::EXTRA_COLUMN;
    use crate::tables::by_name;
    use arrow_array::Array;
    use arrow_array::cast::AsArray;
    use arrow_array::types::{Date32Type, Int64Type, TimestampMicrosecondType};

    fn decode(table: &str, records: &[&str]) -> Decoded {
        let raws: Vec<Box<RawValue>> = records.iter().map(|r| RawValue::from_string(r.to_string()).unwrap()).collect();
        let refs: Vec<&RawValue> = raws.iter().map(|r| r.as_ref()).collect();
        Decoder::new(by_name(table).unwrap(), "run-1", 0).decode(&refs, |_| true).unwrap()
    }

    fn column<'a>(batch: &'a RecordBatch, name: &str) -> &'a ArrayRef {
        batch.column_by_name(name).unwrap()
    }

    #[test]
    fn typed_columns_json_text_and_extras() {
        let d = decode(
            "tasks",
            &[r#"{"id":"task_1","_type":"lead","date":"2022-11-12","due_date":null,"is_complete":false,
                 "date_created":"2022-11-08T15:10:57.220000+00:00","date_updated":"2022-11-09T11:06:06+00:00",
                 "brand_new_field":{"a":[1,2]}}"#],
        );
        let b = &d.batch;
        assert_eq!(column(b, "id").as_string::<i32>().value(0), "task_1");
        assert_eq!(column(b, "date").as_primitive::<Date32Type>().value(0), 19_308);
        assert!(column(b, "due_date").is_null(0));
        let updated = column(b, "date_updated").as_primitive::<TimestampMicrosecondType>().value(0);
        assert_eq!(Some(updated), time::parse_timestamp("2022-11-09T11:06:06Z"));
        assert_eq!(column(b, EXTRA_COLUMN).as_string::<i32>().value(0), r#"{"brand_new_field":{"a":[1,2]}}"#);
        assert_eq!(d.rows[0].version, Some(updated));
        assert_eq!(d.coerced, 0);
    }

    #[test]
    fn naive_event_timestamps_are_utc() {
        let d = decode("event_log", &[r#"{"id":"ev_1","date_updated":"2023-04-07T10:01:14.670000","data":null}"#]);
        assert_eq!(d.rows[0].key, time::parse_timestamp("2023-04-07T10:01:14.670000Z"));
        assert!(column(&d.batch, "data").is_null(0));
    }

    #[test]
    fn custom_field_keys_move_to_custom_by_id() {
        let d = decode(
            "leads",
            &[r#"{"id":"lead_1","date_updated":"2022-11-08T16:28:54.174000+00:00","custom":{"Industry":"Retail"},
                 "custom.cf_A":"Retail","custom.lcf_B":["x","y"]}"#],
        );
        let by_id = column(&d.batch, "custom_by_id").as_string::<i32>().value(0);
        assert_eq!(by_id, r#"{"cf_A":"Retail","lcf_B":["x","y"]}"#);
        assert_eq!(column(&d.batch, "custom").as_string::<i32>().value(0), r#"{"Industry":"Retail"}"#);
        assert!(column(&d.batch, EXTRA_COLUMN).is_null(0));
    }

    #[test]
    fn type_conflicts_are_kept_and_counted() {
        let d = decode(
            "activities",
            &[r#"{"id":"acti_1","date_created":"2022-11-09T13:57:14.751000+00:00","duration":"17",
                 "voicemail_duration":"n/a","cost":2}"#],
        );
        let b = &d.batch;
        assert_eq!(column(b, "duration").as_primitive::<Int64Type>().value(0), 17);
        assert!(column(b, "voicemail_duration").is_null(0));
        assert_eq!(column(b, "cost").as_string::<i32>().value(0), "2");
        assert_eq!(column(b, EXTRA_COLUMN).as_string::<i32>().value(0), r#"{"voicemail_duration":"n/a"}"#);
        assert_eq!(d.coerced, 3);
    }

    #[test]
    fn a_date_column_takes_a_midnight_datetime_and_keeps_any_other_raw() {
        let d = decode(
            "tasks",
            &[r#"{"id":"t","date":"2021-07-16T00:00:00+00:00","due_date":"2021-07-16T09:30:00+00:00"}"#],
        );
        let b = &d.batch;
        assert_eq!(column(b, "date").as_primitive::<Date32Type>().value(0), 18_824);
        assert!(column(b, "due_date").is_null(0));
        assert_eq!(column(b, EXTRA_COLUMN).as_string::<i32>().value(0), r#"{"due_date":"2021-07-16T09:30:00+00:00"}"#);
        assert_eq!(d.coerced, 2);
    }

    #[test]
    fn escaped_keys_and_values_are_unescaped() {
        let d = decode("users", &[r#"{"id":"user_1","first_name":"Zo\u00eb \"Z\"","we\u0069rd":1}"#]);
        assert_eq!(column(&d.batch, "first_name").as_string::<i32>().value(0), "Zoë \"Z\"");
        assert_eq!(column(&d.batch, EXTRA_COLUMN).as_string::<i32>().value(0), r#"{"weird":1}"#);
    }

    #[test]
    fn the_filter_drops_rows() {
        let raws: Vec<Box<RawValue>> =
            [r#"{"id":"a"}"#, r#"{"id":"b"}"#].iter().map(|r| RawValue::from_string(r.to_string()).unwrap()).collect();
        let refs: Vec<&RawValue> = raws.iter().map(|r| r.as_ref()).collect();
        let d = Decoder::new(by_name("users").unwrap(), "run", 0).decode(&refs, |row| row.id == "b").unwrap();
        assert_eq!((d.batch.num_rows(), d.skipped), (1, 1));
        assert_eq!(d.rows[0].id, "b");
    }

    #[test]
    fn a_record_that_is_not_an_object_is_an_error() {
        let raw = RawValue::from_string("[1]".to_string()).unwrap();
        let err = Decoder::new(by_name("users").unwrap(), "run", 0).decode(&[raw.as_ref()], |_| true).unwrap_err();
        assert_eq!(err.position, 0);
    }
}
