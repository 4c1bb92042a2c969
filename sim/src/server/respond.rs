//! Response bodies in Close's shapes: the offset envelope (`has_more` and `data`, no `total_results`), error
//! envelopes (`{"error": ..}` and the validation form `{"errors": [], "field-errors": {..}}`), and `_fields`
//! projection of records.

use axum::http::StatusCode;
use serde_json::{Map, Value, json};

use crate::store::{Row, Selection, Table};
use crate::time::Micros;

/// An error answer.
#[derive(Debug, Clone, PartialEq)]
pub enum ApiError {
    /// `{"error": message}` with `status`.
    Message(StatusCode, String),
    /// 400 `{"errors": [], "field-errors": {field: message}}`.
    Field(String, String),
}

impl ApiError {
    pub fn bad_request(message: impl Into<String>) -> ApiError {
        ApiError::Message(StatusCode::BAD_REQUEST, message.into())
    }

    pub fn field(field: &str, message: impl Into<String>) -> ApiError {
        ApiError::Field(field.to_string(), message.into())
    }

    pub fn not_found(message: impl Into<String>) -> ApiError {
        ApiError::Message(StatusCode::NOT_FOUND, message.into())
    }

    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::Message(status, _) => *status,
            ApiError::Field(..) => StatusCode::BAD_REQUEST,
        }
    }

    pub fn body(&self) -> String {
        match self {
            ApiError::Message(_, message) => json!({ "error": message }).to_string(),
            ApiError::Field(field, message) => json!({"errors": [], "field-errors": { field: message }}).to_string(),
        }
    }
}

/// Which top-level keys to return (`_fields=a,b`); `None` returns whole records.
#[derive(Debug, Clone, Default)]
pub struct Fields(pub Option<Vec<String>>);

impl Fields {
    pub fn parse(spec: Option<&str>) -> Fields {
        Fields(spec.map(|s| s.split(',').map(|f| f.trim().to_string()).filter(|f| !f.is_empty()).collect()))
    }

    /// Appends `row`'s JSON (projected onto the requested fields) to `out`.
    pub fn write(&self, row: &Row, out: &mut String) {
        match &self.0 {
            None => out.push_str(&row.raw),
            Some(_) => out.push_str(&self.project(row.value()).to_string()),
        }
    }

    /// `v` with only the requested top-level keys.
    pub fn project(&self, v: Value) -> Value {
        match (&self.0, v) {
            (Some(keys), Value::Object(mut map)) => {
                Value::Object(keys.iter().filter_map(|k| map.remove(k).map(|x| (k.clone(), x))).collect::<Map<_, _>>())
            }
            (_, v) => v,
        }
    }
}

/// Sort direction of a listing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Order {
    Asc,
    Desc,
}

/// `{"has_more", "data"}` for rows `skip..skip+limit` of `sel` in `order`.
pub fn offset_page(table: &Table, sel: &Selection, order: Order, skip: usize, limit: usize, fields: &Fields) -> String {
    let rows: Vec<&Row> = ordered(sel, order, skip, limit).map(|p| &table.rows[p]).collect();
    offset_envelope(&rows, skip.saturating_add(rows.len()) < sel.len(), fields)
}

/// Row positions `skip..skip+limit` of `sel` walked in `order`.
pub fn ordered<'s>(sel: &'s Selection, order: Order, skip: usize, limit: usize) -> impl Iterator<Item = usize> + 's {
    let total = sel.len();
    (skip.min(total)..skip.saturating_add(limit).min(total)).map(move |i| match order {
        Order::Asc => sel.get(i),
        Order::Desc => sel.get(total - 1 - i),
    })
}

/// The offset envelope around one page of `rows`.
pub fn offset_envelope(rows: &[&Row], has_more: bool, fields: &Fields) -> String {
    let mut out = String::with_capacity(64 + rows.iter().map(|r| r.raw.len() + 1).sum::<usize>());
    out.push_str(&format!("{{\"has_more\": {has_more}, \"data\": ["));
    write_rows(rows.iter().copied(), fields, &mut out);
    out.push_str("]}");
    out
}

/// Writes `rows` as comma-separated JSON.
pub fn write_rows<'r>(rows: impl Iterator<Item = &'r Row>, fields: &Fields, out: &mut String) {
    for (i, row) in rows.enumerate() {
        if i > 0 {
            out.push(',');
        }
        fields.write(row, out);
    }
}

/// `sel` in ascending (`key`, id) order: for orders other than the table's own key.
pub fn sorted(table: &Table, sel: &Selection, key: impl Fn(&Row) -> Micros) -> Selection<'static> {
    let mut keyed: Vec<(Micros, &str, u32)> = (0..sel.len())
        .map(|i| {
            let row = &table.rows[sel.get(i)];
            (key(row), &*row.id, sel.get(i) as u32)
        })
        .collect();
    keyed.sort_unstable();
    Selection::Owned(keyed.into_iter().map(|(_, _, p)| p).collect())
}
