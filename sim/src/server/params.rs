//! Query-string parsing shared by the endpoints: raw pairs, offset paging (`_skip`, `_limit` capped per
//! endpoint, the `max_skip` 400), date range filters (`<field>__gt/__gte/__lt/__lte`), `_order_by`, booleans
//! and comma-separated lists.

use std::ops::Bound;

use super::respond::{ApiError, Fields, Order};
use crate::time::{Micros, parse_micros};

/// The query string as decoded pairs, in order.
#[derive(Debug, Clone, Default)]
pub struct Params(Vec<(String, String)>);

impl Params {
    pub fn parse(query: Option<&str>) -> Params {
        let pairs = form_urlencoded::parse(query.unwrap_or_default().as_bytes());
        Params(pairs.map(|(k, v)| (k.into_owned(), v.into_owned())).collect())
    }

    /// The parameter names, in order (repeated names repeat).
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.0.iter().map(|(k, _)| k.as_str())
    }

    /// The last value of `key`.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.0.iter().rev().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
    }

    pub fn fields(&self) -> Fields {
        Fields::parse(self.get("_fields"))
    }

    /// `(_skip, _limit)`: `_limit` defaults to `default_limit` and is capped at `max_limit`; a `_skip` above
    /// `max_skip` is Close's 400.
    pub fn paging(&self, default_limit: usize, max_limit: usize, max_skip: usize) -> Result<(usize, usize), ApiError> {
        let skip = self.number("_skip")?.unwrap_or(0);
        if skip > max_skip {
            return Err(ApiError::bad_request(format!(
                "The skip you set is larger than the maximum skip for this resource (max_skip = {max_skip}). \
                 Please refine your search query."
            )));
        }
        let limit = self.number("_limit")?.unwrap_or(default_limit).min(max_limit);
        Ok((skip, limit))
    }

    pub fn number(&self, key: &str) -> Result<Option<usize>, ApiError> {
        match self.get(key) {
            None | Some("") => Ok(None),
            Some(v) => v.trim().parse().map(Some).map_err(|_| ApiError::field(key, "Not a valid integer.")),
        }
    }

    /// A timestamp parameter; an unparsable one is a 400 naming the parameter.
    pub fn timestamp(&self, key: &str) -> Result<Option<Micros>, ApiError> {
        match self.get(key) {
            None | Some("") => Ok(None),
            Some(v) => parse_micros(v).map(Some).ok_or_else(|| ApiError::field(key, "Not a valid datetime.")),
        }
    }

    /// The range `field__gt/__gte` .. `field__lt/__lte` (the stricter bound wins when both forms are given).
    pub fn range(&self, field: &str, ops: RangeOps) -> Result<(Bound<Micros>, Bound<Micros>), ApiError> {
        let get = |op: &str, allowed: bool| if allowed { self.timestamp(&format!("{field}__{op}")) } else { Ok(None) };
        let lo = tighter(get("gte", true)?.map(Bound::Included), get("gt", ops.strict)?.map(Bound::Excluded), true);
        let hi = tighter(get("lte", true)?.map(Bound::Included), get("lt", ops.strict)?.map(Bound::Excluded), false);
        Ok((lo, hi))
    }

    /// `_order_by` as one of `fields` (each ascending, or descending with a `-`); `None` when absent, 400 for
    /// anything else.
    pub fn order_by<'f>(&self, fields: &[&'f str]) -> Result<Option<(&'f str, Order)>, ApiError> {
        let Some(v) = self.get("_order_by").filter(|v| !v.is_empty()) else {
            return Ok(None);
        };
        let (name, order) = match v.strip_prefix('-') {
            Some(name) => (name, Order::Desc),
            None => (v, Order::Asc),
        };
        match fields.iter().find(|f| **f == name) {
            Some(f) => Ok(Some((f, order))),
            None => Err(ApiError::field("_order_by", format!("Ordering is only supported by {}.", fields.join(", ")))),
        }
    }

    /// A boolean parameter (`true`/`false`, any case, or `1`/`0`).
    pub fn flag(&self, key: &str) -> Result<Option<bool>, ApiError> {
        match self.get(key).map(str::to_ascii_lowercase).as_deref() {
            None | Some("") => Ok(None),
            Some("true" | "1") => Ok(Some(true)),
            Some("false" | "0") => Ok(Some(false)),
            Some(_) => Err(ApiError::field(key, "Not a valid boolean.")),
        }
    }

    /// A comma-separated list parameter (`None` when absent).
    pub fn list(&self, key: &str) -> Option<Vec<String>> {
        self.get(key).map(|v| v.split(',').map(|t| t.trim().to_string()).filter(|t| !t.is_empty()).collect())
    }
}

/// Which range operators an endpoint reads (the endpoint's documented list refuses the others first).
#[derive(Debug, Clone, Copy)]
pub struct RangeOps {
    /// `__gt` and `__lt` (besides `__gte` and `__lte`).
    pub strict: bool,
}

fn tighter(inclusive: Option<Bound<Micros>>, exclusive: Option<Bound<Micros>>, lower: bool) -> Bound<Micros> {
    match (inclusive, exclusive) {
        (Some(Bound::Included(a)), Some(Bound::Excluded(b))) => {
            let exclusive_wins = if lower { b >= a } else { b <= a };
            if exclusive_wins { Bound::Excluded(b) } else { Bound::Included(a) }
        }
        (Some(b), _) | (None, Some(b)) => b,
        _ => Bound::Unbounded,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paging_caps_limit_and_rejects_deep_skips() {
        let p = Params::parse(Some("_skip=10&_limit=500"));
        assert_eq!(p.paging(100, 200, 250_000), Ok((10, 200)));
        assert_eq!(Params::parse(None).paging(100, 100, 0), Ok((0, 100)));
        let err = Params::parse(Some("_skip=11")).paging(100, 100, 10).unwrap_err();
        assert!(err.body().contains("max_skip = 10"), "{}", err.body());
        assert!(Params::parse(Some("_limit=x")).paging(100, 100, 10).is_err());
    }

    #[test]
    fn ranges_take_the_stricter_bound() {
        let p = Params::parse(Some("d__gte=2024-01-01&d__gt=2024-01-01&d__lt=2024-02-01&d__lte=2024-03-01"));
        let day = |s: &str| parse_micros(s).unwrap_or_default();
        let (lo, hi) = p.range("d", RangeOps { strict: true }).expect("valid");
        assert_eq!((lo, hi), (Bound::Excluded(day("2024-01-01")), Bound::Excluded(day("2024-02-01"))));
        let (lo, hi) = p.range("d", RangeOps { strict: false }).expect("valid");
        assert_eq!((lo, hi), (Bound::Included(day("2024-01-01")), Bound::Included(day("2024-03-01"))));
        assert!(Params::parse(Some("d__gte=soon")).range("d", RangeOps { strict: true }).is_err());
    }

    #[test]
    fn order_flags_and_lists() {
        let p = Params::parse(Some("_order_by=-date&done=TRUE&ids=a,%20b,,c"));
        assert_eq!(p.order_by(&["date", "date_created"]), Ok(Some(("date", Order::Desc))));
        assert!(Params::parse(Some("_order_by=date_updated")).order_by(&["date"]).is_err());
        assert_eq!(Params::parse(None).order_by(&["date"]), Ok(None));
        assert_eq!(p.flag("done"), Ok(Some(true)));
        assert!(Params::parse(Some("done=maybe")).flag("done").is_err());
        assert_eq!(p.list("ids"), Some(vec!["a".to_string(), "b".into(), "c".into()]));
        assert_eq!(p.names().collect::<Vec<_>>(), ["_order_by", "done", "ids"]);
    }

    #[test]
    fn plus_must_be_percent_encoded() {
        let p = Params::parse(Some("t=2024-01-01T00:00:00%2B00:00&u=2024-01-01T00:00:00+00:00"));
        assert!(p.timestamp("t").expect("valid").is_some());
        assert!(p.timestamp("u").is_err());
    }
}
