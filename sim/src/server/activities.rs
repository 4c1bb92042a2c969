//! `GET /activity/` (all types) and `GET /activity/<type>/` (one type), offset-paged and filtered by
//! `date_created` (`__gt/__gte/__lt/__lte`), `lead_id`, `user_id`, `contact_id`, and `_type`/`_type__in`, which
//! Close documents only together with `lead_id` (alone they are refused or ignored like an undocumented
//! parameter). Newest first unless `_order_by=date_created`. `/activity/` lists no `EmailThread` unless asked:
//! `thread_emails=true` lists threads and emails, `thread_emails=only` threads instead of `Email`s.

use serde_json::Value;

use super::endpoint::unknown_param;
use super::params::{Params, RangeOps};
use super::respond::{ApiError, Order, offset_page};
use crate::config::{ParamPolicy, SimConfig};
use crate::kinds::ActivityKind;
use crate::store::Store;

const MAX_LIMIT: usize = 100;

pub fn activities(
    store: &Store,
    config: &SimConfig,
    params: &Params,
    kind: Option<&ActivityKind>,
    path: &str,
) -> Result<String, ApiError> {
    let (skip, limit) = params.paging(MAX_LIMIT, MAX_LIMIT, config.max_skip)?;
    let (lo, hi) = params.range("date_created", RangeOps { strict: true })?;
    let order = params.order_by(&["date_created"])?.map_or(Order::Desc, |(_, order)| order);
    let hidden = if kind.is_none() { hidden_type(params.get("thread_emails"))? } else { None };
    let lead_id = params.get("lead_id");
    let types = params.list("_type__in").or_else(|| params.get("_type").map(|t| vec![t.to_string()]));
    let types = match (types, lead_id, config.unknown_params) {
        (Some(_), None, ParamPolicy::Refuse) => {
            let name = if params.get("_type__in").is_some() { "_type__in" } else { "_type" };
            return Err(unknown_param(name, path, "_type and _type__in only together with lead_id"));
        }
        (Some(_), None, ParamPolicy::Ignore) => None,
        (types, _, _) => types,
    };
    let (user_id, contact_id) = (params.get("user_id"), params.get("contact_id"));
    let by_value = user_id.is_some() || contact_id.is_some();

    let kinds = kind.map(|k| vec![k.type_name.to_string()]);
    let table = &store.activities;
    let mut sel = table.select(kinds.as_deref(), lo, hi);
    if let Some(kind) = hidden {
        sel = table.without_kind(sel, kind);
    }
    if lead_id.is_some() || types.is_some() || by_value {
        sel = sel.filter(table, |r| {
            let is = |v: &Value, key: &str, want: Option<&str>| want.is_none_or(|w| v.get(key) == Some(&w.into()));
            lead_id.is_none_or(|l| r.lead_id.as_deref() == Some(l))
                && types.as_ref().is_none_or(|ts| ts.iter().any(|t| *t == *r.kind))
                && (!by_value || {
                    let v = r.value();
                    is(&v, "user_id", user_id) && is(&v, "contact_id", contact_id)
                })
        });
    }
    Ok(offset_page(table, &sel, order, skip, limit, &params.fields()))
}

/// The activity type `thread_emails` leaves out of `/activity/`.
fn hidden_type(thread_emails: Option<&str>) -> Result<Option<&'static str>, ApiError> {
    match thread_emails {
        None | Some("" | "false") => Ok(Some("EmailThread")),
        Some("true") => Ok(None),
        Some("only") => Ok(Some("Email")),
        Some(_) => Err(ApiError::field("thread_emails", "Must be true or only.")),
    }
}
