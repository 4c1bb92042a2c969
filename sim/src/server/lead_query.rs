//! The subset of Close's (deprecated) lead query syntax the simulator understands: clauses
//! `date_updated >= "2024-01-01T00:00:00+00:00"` (operators `>=`, `>`, `<=`, `<`, `=`; fields `date_updated`
//! and `date_created`; quoted or bare values, down to the minute (`"2024-05-01T10:05"`, as Stitch sends) or the
//! day (`"2024-05-01"`, as Airbyte sends); with or without spaces), joined by spaces or `AND`, and
//! `sort:date_updated` / `sort:-date_created` (`sort:updated`, `sort:created` are aliases). Anything else is
//! refused with a 400 rather than silently matching everything.
//!
//! Close treats the time bounds as whole minutes at best: with [`Precision::Minute`] every bound value is floored
//! to its minute before comparing (`>= "10:05:30.5"` means `>= 10:05:00`, `< "10:05:30"` means `< 10:05:00`).

use std::ops::Bound;

use super::respond::{ApiError, Order};
use crate::config::Precision;
use crate::time::{Micros, parse_micros};

const MINUTE: Micros = 60_000_000;

/// A lead date field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LeadField {
    DateUpdated,
    DateCreated,
}

/// A parsed `query=`.
#[derive(Debug, Clone, PartialEq)]
pub struct LeadQuery {
    /// Bounds on `date_updated`.
    pub updated: (Bound<Micros>, Bound<Micros>),
    /// Bounds on `date_created`.
    pub created: (Bound<Micros>, Bound<Micros>),
    pub sort: Option<(LeadField, Order)>,
}

impl Default for LeadQuery {
    fn default() -> Self {
        let all = (Bound::Unbounded, Bound::Unbounded);
        LeadQuery { updated: all, created: all, sort: None }
    }
}

pub fn parse(query: &str, precision: Precision) -> Result<LeadQuery, ApiError> {
    let mut q = LeadQuery::default();
    let mut rest = query.trim();
    while !rest.is_empty() {
        let (clause, tail) = next_clause(rest)?;
        rest = tail.trim_start();
        match clause {
            Clause::Sort(field, order) => q.sort = Some((field, order)),
            Clause::Compare(field, op, t) => {
                let t = if precision == Precision::Minute { t.div_euclid(MINUTE) * MINUTE } else { t };
                let range = match field {
                    LeadField::DateUpdated => &mut q.updated,
                    LeadField::DateCreated => &mut q.created,
                };
                narrow(range, op, t);
            }
            Clause::Nothing => {}
        }
    }
    Ok(q)
}

enum Clause {
    Sort(LeadField, Order),
    Compare(LeadField, &'static str, Micros),
    Nothing,
}

fn unsupported(what: &str) -> ApiError {
    ApiError::bad_request(format!(
        "close-sim supports only date_updated/date_created comparisons and sort: in lead queries, not {what:?}"
    ))
}

fn field(name: &str) -> Result<LeadField, ApiError> {
    match name {
        "date_updated" => Ok(LeadField::DateUpdated),
        "date_created" => Ok(LeadField::DateCreated),
        other => Err(unsupported(other)),
    }
}

fn next_clause(s: &str) -> Result<(Clause, &str), ApiError> {
    let word_end = s.find(|c: char| c.is_whitespace()).unwrap_or(s.len());
    let word = &s[..word_end];
    if word.eq_ignore_ascii_case("and") || word == "*" {
        return Ok((Clause::Nothing, &s[word_end..]));
    }
    if let Some(spec) = word.strip_prefix("sort:") {
        let (name, order) = match spec.strip_prefix('-') {
            Some(name) => (name, Order::Desc),
            None => (spec, Order::Asc),
        };
        let field = match name {
            "updated" => LeadField::DateUpdated,
            "created" => LeadField::DateCreated,
            name => field(name)?,
        };
        return Ok((Clause::Sort(field, order), &s[word_end..]));
    }
    let name_end = s.find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '.')).unwrap_or(s.len());
    let f = field(&s[..name_end])?;
    let rest = s[name_end..].trim_start();
    let op = [">=", "<=", ">", "<", "=", ":"]
        .into_iter()
        .find(|op| rest.starts_with(op))
        .ok_or_else(|| unsupported(word))?;
    let rest = rest[op.len()..].trim_start();
    let (value, tail) = match rest.strip_prefix('"') {
        Some(quoted) => {
            let end = quoted.find('"').ok_or_else(|| ApiError::bad_request("Unterminated quote in query"))?;
            (&quoted[..end], &quoted[end + 1..])
        }
        None => rest.split_at(rest.find(char::is_whitespace).unwrap_or(rest.len())),
    };
    let t = parse_micros(value).ok_or_else(|| ApiError::bad_request(format!("Invalid date in query: {value:?}")))?;
    let op = if op == ":" { "=" } else { op };
    Ok((Clause::Compare(f, op, t), tail))
}

fn narrow(range: &mut (Bound<Micros>, Bound<Micros>), op: &str, t: Micros) {
    let lower = |b: &mut Bound<Micros>, new: Bound<Micros>| {
        let key = |b: &Bound<Micros>| match b {
            Bound::Included(x) => (*x, 0),
            Bound::Excluded(x) => (*x, 1),
            Bound::Unbounded => (Micros::MIN, 0),
        };
        if key(&new) > key(b) {
            *b = new;
        }
    };
    let upper = |b: &mut Bound<Micros>, new: Bound<Micros>| {
        let key = |b: &Bound<Micros>| match b {
            Bound::Included(x) => (*x, 1),
            Bound::Excluded(x) => (*x, 0),
            Bound::Unbounded => (Micros::MAX, 1),
        };
        if key(&new) < key(b) {
            *b = new;
        }
    };
    match op {
        ">=" => lower(&mut range.0, Bound::Included(t)),
        ">" => lower(&mut range.0, Bound::Excluded(t)),
        "<=" => upper(&mut range.1, Bound::Included(t)),
        "<" => upper(&mut range.1, Bound::Excluded(t)),
        _ => {
            lower(&mut range.0, Bound::Included(t));
            upper(&mut range.1, Bound::Included(t));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> Micros {
        parse_micros(s).unwrap_or_default()
    }

    fn exact(query: &str) -> Result<LeadQuery, ApiError> {
        parse(query, Precision::Exact)
    }

    #[test]
    fn parses_ranges_and_sort() {
        let q = exact(r#"date_updated >= "2024-01-01T00:00:00+00:00" date_updated<"2024-02-01" sort:-date_updated"#)
            .expect("valid");
        assert_eq!(q.updated, (Bound::Included(t("2024-01-01")), Bound::Excluded(t("2024-02-01"))));
        assert_eq!(q.created, (Bound::Unbounded, Bound::Unbounded));
        assert_eq!(q.sort, Some((LeadField::DateUpdated, Order::Desc)));
        let q = exact("date_created > 2024-01-01 AND date_created >= 2023-01-01 sort:date_created").expect("valid");
        assert_eq!(q.created.0, Bound::Excluded(t("2024-01-01")));
        assert_eq!(q.sort, Some((LeadField::DateCreated, Order::Asc)));
        assert_eq!(exact("").expect("valid"), LeadQuery::default());
    }

    #[test]
    fn reads_stitch_and_airbyte_queries() {
        let stitch = exact(r#"date_updated>="2024-05-01T10:05" sort:date_updated"#).expect("valid");
        assert_eq!(stitch.updated.0, Bound::Included(t("2024-05-01T10:05:00Z")));
        assert_eq!(stitch.sort, Some((LeadField::DateUpdated, Order::Asc)));
        let airbyte = exact(r#"date_updated >= "2024-05-01" sort:-updated"#).expect("valid");
        assert_eq!(airbyte.updated.0, Bound::Included(t("2024-05-01")));
        assert_eq!(airbyte.sort, Some((LeadField::DateUpdated, Order::Desc)));
        assert_eq!(exact("sort:created").expect("valid").sort, Some((LeadField::DateCreated, Order::Asc)));
    }

    #[test]
    fn minute_precision_floors_every_bound() {
        let q = parse(
            r#"date_updated >= "2024-05-01T10:05:30.5Z" date_updated < "2024-05-01T10:07:30Z""#,
            Precision::Minute,
        )
        .expect("valid");
        assert_eq!(q.updated, (Bound::Included(t("2024-05-01T10:05:00Z")), Bound::Excluded(t("2024-05-01T10:07:00Z"))));
        let q = parse(r#"date_created > "1969-12-31T23:59:30Z""#, Precision::Minute).expect("valid");
        assert_eq!(q.created.0, Bound::Excluded(t("1969-12-31T23:59:00Z")), "floored, not truncated toward zero");
    }

    #[test]
    fn refuses_what_it_cannot_honour() {
        assert!(exact("name:Acme").is_err());
        assert!(exact("date_updated >= \"tomorrow\"").is_err());
        assert!(exact("date_updated >= \"2024-01-01").is_err());
        assert!(exact("sort:name").is_err());
    }
}
