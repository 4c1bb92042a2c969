//! The table declarations. Columns list what Close documents; anything else a record carries
//! lands in the extras column, so a field missing here is kept, just untyped.

use super::{CONTENT_HASH_COLUMN, Column, Endpoint, KeyFilter, Replication, SEEN_AT_COLUMN, Source, TableSpec, col};
use crate::time::{MICROS_PER_DAY, MICROS_PER_HOUR, MICROS_PER_MILLI, MICROS_PER_MINUTE};

pub fn all() -> &'static [TableSpec] {
    &TABLES
}

static TABLES: [TableSpec; 20] = [
    ACTIVITIES,
    CUSTOM_FIELDS,
    EVENT_LOG,
    LEADS,
    TASKS,
    USERS,
    OPPORTUNITIES,
    CONTACTS,
    CUSTOM_OBJECTS,
    LEAD_STATUSES,
    OPPORTUNITY_STATUSES,
    PIPELINES,
    CUSTOM_ACTIVITY_TYPES,
    CUSTOM_OBJECT_TYPES,
    EMAIL_TEMPLATES,
    SMS_TEMPLATES,
    SEQUENCES,
    SMART_VIEWS,
    ROLES,
    GROUPS,
];

/// A configuration table: small listings read in full every run (`limit: None` where Close documents no
/// paging). CDC on `date_updated`, or, for records without timestamps, versioned by content.
const fn configuration(
    name: &'static str,
    replication: Replication,
    endpoints: &'static [Endpoint],
    limit: Option<u32>,
    columns: &'static [Column],
) -> TableSpec {
    let (key, version) = match replication {
        Replication::Content => (SEEN_AT_COLUMN, CONTENT_HASH_COLUMN),
        Replication::Cdc | Replication::AppendOnly => ("date_updated", "date_updated"),
    };
    TableSpec {
        name,
        replication,
        source: Source::Full { endpoints, limit, tag_column: None, inactive_users: false },
        key,
        version,
        lookback: 0,
        retention_days: None,
        columns,
    }
}

/// One endpoint without parameters (the tag names the endpoint in logs; configuration tables record
/// no tags).
const fn listing(path: &'static str, tag: &'static str) -> Endpoint {
    Endpoint { path, tag, optional: false, params: &[] }
}

/// Contacts through `POST /data/search/`: a `date_updated` window sorted by `date_updated`, the only way
/// Close lists contacts by change (`/contact/` has no date filter and no documented order; docs/design.md
/// says why not a full read or the copies leads embed). Deletes are in the event log.
const CONTACTS: TableSpec = TableSpec {
    name: "contacts",
    replication: Replication::Cdc,
    source: Source::Search {
        object_type: "contact",
        custom_fields: &["custom_field/contact/", "custom_field/shared/"],
        optional: false,
        limit: 200,
    },
    key: "date_updated",
    version: "date_updated",
    lookback: 0,
    retention_days: None,
    columns: &[
        col!("id", Str),
        col!("lead_id", Str),
        col!("name", Str),
        col!("display_name", Str),
        col!("title", Str),
        col!("emails", Json),
        col!("phones", Json),
        col!("urls", Json),
        col!("integration_links", Json),
        col!("timezone", Str),
        col!("timezone_source", Str),
        col!("organization_id", Str),
        col!("created_by", Str),
        col!("updated_by", Str),
        col!("date_created", Timestamp),
        col!("date_updated", Timestamp),
        col!("custom_by_id", Json),
    ],
};

/// Custom object instances of every type through `POST /data/search/` (`/custom_object/` lists one
/// lead's only). A plan without custom objects answers 402/403/404: a warning and an empty table.
const CUSTOM_OBJECTS: TableSpec = TableSpec {
    name: "custom_objects",
    replication: Replication::Cdc,
    source: Source::Search {
        object_type: "custom_object",
        custom_fields: &["custom_field/custom_object_type/", "custom_field/shared/"],
        optional: true,
        limit: 200,
    },
    key: "date_updated",
    version: "date_updated",
    lookback: 0,
    retention_days: None,
    columns: &[
        col!("id", Str),
        col!("name", Str),
        col!("custom_object_type_id", Str),
        col!("lead_id", Str),
        col!("organization_id", Str),
        col!("created_by", Str),
        col!("updated_by", Str),
        col!("date_created", Timestamp),
        col!("date_updated", Timestamp),
        col!("custom_by_id", Json),
    ],
};

const LEAD_STATUSES: TableSpec = configuration(
    "lead_statuses",
    Replication::Content,
    &[listing("status/lead/", "lead_status")],
    None,
    &[
        col!("id", Str),
        col!("label", Str),
        col!("color", Str),
        col!("organization_id", Str),
        col!("_close_lake_seen_at", Timestamp),
        col!("_close_lake_content_hash", Int),
    ],
);

const OPPORTUNITY_STATUSES: TableSpec = configuration(
    "opportunity_statuses",
    Replication::Content,
    &[listing("status/opportunity/", "opportunity_status")],
    None,
    &[
        col!("id", Str),
        col!("label", Str),
        col!("type", Str),
        col!("pipeline_id", Str),
        col!("organization_id", Str),
        col!("_close_lake_seen_at", Timestamp),
        col!("_close_lake_content_hash", Int),
    ],
);

/// Pipelines with their statuses (naive timestamps, UTC).
const PIPELINES: TableSpec = configuration(
    "pipelines",
    Replication::Cdc,
    &[listing("pipeline/", "pipeline")],
    None,
    &[
        col!("id", Str),
        col!("name", Str),
        col!("statuses", Json),
        col!("organization_id", Str),
        col!("created_by", Str),
        col!("updated_by", Str),
        col!("date_created", Timestamp),
        col!("date_updated", Timestamp),
    ],
);

/// The types of custom activities (their instances are activities of `_type` `CustomActivity`).
const CUSTOM_ACTIVITY_TYPES: TableSpec = configuration(
    "custom_activity_types",
    Replication::Cdc,
    &[listing("custom_activity/", "custom_activity_type")],
    None,
    &[
        col!("id", Str),
        col!("name", Str),
        col!("description", Str),
        col!("api_create_only", Bool),
        col!("is_archived", Bool),
        col!("editable_with_roles", Json),
        col!("fields", Json),
        col!("organization_id", Str),
        col!("created_by", Str),
        col!("updated_by", Str),
        col!("date_created", Timestamp),
        col!("date_updated", Timestamp),
    ],
);

/// Custom object types; a plan without custom objects lacks the endpoint: a warning and no rows.
const CUSTOM_OBJECT_TYPES: TableSpec = configuration(
    "custom_object_types",
    Replication::Cdc,
    &[Endpoint { path: "custom_object_type/", tag: "custom_object_type", optional: true, params: &[] }],
    None,
    &[
        col!("id", Str),
        col!("name", Str),
        col!("name_plural", Str),
        col!("description", Str),
        col!("api_create_only", Bool),
        col!("editable_with_roles", Json),
        col!("fields", Json),
        col!("back_reference_fields", Json),
        col!("organization_id", Str),
        col!("created_by", Str),
        col!("updated_by", Str),
        col!("date_created", Timestamp),
        col!("date_updated", Timestamp),
    ],
);

const EMAIL_TEMPLATES: TableSpec = configuration(
    "email_templates",
    Replication::Cdc,
    &[listing("email_template/", "email_template")],
    Some(100),
    &[
        col!("id", Str),
        col!("name", Str),
        col!("subject", Str),
        col!("body", Str),
        col!("is_archived", Bool),
        col!("is_shared", Bool),
        col!("attachments", Json),
        col!("organization_id", Str),
        col!("created_by", Str),
        col!("updated_by", Str),
        col!("date_created", Timestamp),
        col!("date_updated", Timestamp),
    ],
);

const SMS_TEMPLATES: TableSpec = configuration(
    "sms_templates",
    Replication::Cdc,
    &[listing("sms_template/", "sms_template")],
    Some(100),
    &[
        col!("id", Str),
        col!("name", Str),
        col!("text", Str),
        col!("status", Str),
        col!("is_shared", Bool),
        col!("owned_by", Str),
        col!("attachments", Json),
        col!("organization_id", Str),
        col!("created_by", Str),
        col!("updated_by", Str),
        col!("date_created", Timestamp),
        col!("date_updated", Timestamp),
    ],
);

/// Sequences with their steps; Close names their authors `created_by_id`/`updated_by_id`.
const SEQUENCES: TableSpec = configuration(
    "sequences",
    Replication::Cdc,
    &[listing("sequence/", "sequence")],
    Some(100),
    &[
        col!("id", Str),
        col!("name", Str),
        col!("status", Str),
        col!("timezone", Str),
        col!("schedule", Json),
        col!("schedule_id", Str),
        col!("steps", Json),
        col!("organization_id", Str),
        col!("created_by_id", Str),
        col!("updated_by_id", Str),
        col!("date_created", Timestamp),
        col!("date_updated", Timestamp),
    ],
);

/// Smart views of every type: without `type__in`, `/saved_search/` lists only lead views.
const SMART_VIEWS: TableSpec = configuration(
    "smart_views",
    Replication::Cdc,
    &[Endpoint {
        path: "saved_search/",
        tag: "smart_view",
        optional: false,
        params: &[(
            "type__in",
            "lead,contact,opportunity,call,email,sms,meeting,note,whatsapp_message,custom_activity,form_submission",
        )],
    }],
    Some(100),
    &[
        col!("id", Str),
        col!("name", Str),
        col!("type", Str),
        col!("description", Str),
        col!("query", Str),
        col!("s_query", Json),
        col!("selected_fields", Json),
        col!("is_shared", Bool),
        col!("is_user_dependent", Bool),
        col!("shared_with", Json),
        col!("user_id", Str),
        col!("organization_id", Str),
        col!("date_created", Timestamp),
        col!("date_updated", Timestamp),
    ],
);

/// Roles. Built-in ones carry `0001-01-01T00:00:00` as their dates, custom ones none that move: versioned
/// by content.
const ROLES: TableSpec = configuration(
    "roles",
    Replication::Content,
    &[listing("role/", "role")],
    None,
    &[
        col!("id", Str),
        col!("name", Str),
        col!("editable", Bool),
        col!("permissions", Json),
        col!("visibility_user_lcf_behavior", Str),
        col!("visibility_user_lcf_ids", Json),
        col!("organization_id", Str),
        col!("date_created", Timestamp),
        col!("date_updated", Timestamp),
        col!("_close_lake_seen_at", Timestamp),
        col!("_close_lake_content_hash", Int),
    ],
);

/// Groups. The listing leaves `members` out (Close lists them per group, at `/group/<id>/`, which
/// close-lake does not read): the column holds them if the listing ever carries them.
const GROUPS: TableSpec = configuration(
    "groups",
    Replication::Content,
    &[listing("group/", "group")],
    None,
    &[
        col!("id", Str),
        col!("name", Str),
        col!("members", Json),
        col!("organization_id", Str),
        col!("_close_lake_seen_at", Timestamp),
        col!("_close_lake_content_hash", Int),
    ],
);

/// Opportunities through `/opportunity/`, a `date_updated` window sorted by `date_updated`: their
/// own records, fresher than the copies leads embed (Close does not move a lead's `date_updated`
/// when its opportunities change). Deletes are in the event log.
const OPPORTUNITIES: TableSpec = TableSpec {
    name: "opportunities",
    replication: Replication::Cdc,
    source: Source::Keyset {
        path: "opportunity/",
        filter: KeyFilter::Params,
        order_by: None,
        granule: MICROS_PER_MILLI,
        limit: 100,
        params: &[],
    },
    key: "date_updated",
    version: "date_updated",
    lookback: 0,
    retention_days: None,
    columns: &[
        col!("id", Str),
        col!("lead_id", Str),
        col!("lead_name", Str),
        col!("contact_id", Str),
        col!("contact_name", Str),
        col!("organization_id", Str),
        col!("user_id", Str),
        col!("user_name", Str),
        col!("status_id", Str),
        col!("status_label", Str),
        col!("status_display_name", Str),
        col!("status_type", Str),
        col!("pipeline_id", Str),
        col!("pipeline_name", Str),
        col!("value", Int),
        col!("value_period", Str),
        col!("value_currency", Str),
        col!("value_formatted", Str),
        col!("annualized_value", Int),
        col!("expected_value", Int),
        col!("annualized_expected_value", Int),
        col!("confidence", Int),
        col!("note", Str),
        col!("date_won", Date),
        col!("date_lost", Date),
        col!("created_by", Str),
        col!("created_by_name", Str),
        col!("updated_by", Str),
        col!("updated_by_name", Str),
        col!("date_created", Timestamp),
        col!("date_updated", Timestamp),
        col!("integration_links", Json),
        col!("attachments", Json),
        col!("custom_by_id", Json),
    ],
};

/// All activity types through `/activity/`. Close cannot list activities by modification time, so
/// every run re-reads the last 24 hours of creations and keeps the versions it has not seen.
const ACTIVITIES: TableSpec = TableSpec {
    name: "activities",
    replication: Replication::AppendOnly,
    source: Source::Keyset {
        path: "activity/",
        filter: KeyFilter::Params,
        order_by: None,
        granule: MICROS_PER_MILLI,
        limit: 100,
        // Without it Close lists each email but no `EmailThread`; the table has always held both.
        params: &[("thread_emails", "true")],
    },
    key: "date_created",
    version: "date_updated",
    lookback: MICROS_PER_DAY,
    retention_days: None,
    columns: &[
        col!("id", Str),
        col!("_type", Str),
        col!("lead_id", Str),
        col!("contact_id", Str),
        col!("user_id", Str),
        col!("user_name", Str),
        col!("organization_id", Str),
        col!("created_by", Str),
        col!("created_by_name", Str),
        col!("updated_by", Str),
        col!("updated_by_name", Str),
        col!("date_created", Timestamp),
        col!("date_updated", Timestamp),
        col!("activity_at", Timestamp),
        col!("source", Str),
        col!("direction", Str),
        col!("status", Str),
        col!("subject", Str),
        col!("sender", Str),
        col!("to", Json),
        col!("cc", Json),
        col!("bcc", Json),
        col!("body_text", Str),
        col!("body_html", Str),
        col!("body_preview", Str),
        col!("thread_id", Str),
        col!("template_id", Str),
        col!("date_sent", Timestamp),
        col!("date_scheduled", Timestamp),
        col!("attachments", Json),
        col!("envelope", Json),
        col!("opens", Json),
        col!("note", Str),
        col!("note_html", Str),
        col!("text", Str),
        col!("title", Str),
        col!("duration", Int),
        col!("phone", Str),
        col!("local_phone", Str),
        col!("remote_phone", Str),
        col!("disposition", Str),
        col!("date_answered", Timestamp),
        col!("recording_url", Str),
        col!("voicemail_url", Str),
        col!("voicemail_duration", Int),
        col!("cost", Str),
        col!("starts_at", Timestamp),
        col!("ends_at", Timestamp),
        col!("attendees", Json),
        col!("old_status_id", Str),
        col!("old_status_label", Str),
        col!("new_status_id", Str),
        col!("new_status_label", Str),
        col!("opportunity_id", Str),
        col!("opportunity_value", Int),
        col!("opportunity_date_won", Timestamp),
        col!("task_id", Str),
        col!("task_text", Str),
        col!("sequence_id", Str),
        col!("sequence_name", Str),
        col!("users", Json),
        col!("custom_by_id", Json),
    ],
};

/// Custom field definitions of every object type. Small, and unfiltered by the API: read in full.
/// A shared field is listed under `shared/` and under each type it is attached to; it is one row,
/// with every endpoint it came from in `object_types`.
const CUSTOM_FIELDS: TableSpec = TableSpec {
    name: "custom_fields",
    replication: Replication::Cdc,
    source: Source::Full {
        endpoints: &[
            Endpoint { path: "custom_field/lead/", tag: "lead", optional: false, params: &[] },
            Endpoint { path: "custom_field/contact/", tag: "contact", optional: false, params: &[] },
            Endpoint { path: "custom_field/opportunity/", tag: "opportunity", optional: false, params: &[] },
            Endpoint { path: "custom_field/activity/", tag: "activity", optional: false, params: &[] },
            Endpoint {
                path: "custom_field/custom_object_type/",
                tag: "custom_object_type",
                optional: true,
                params: &[],
            },
            Endpoint { path: "custom_field/shared/", tag: "shared", optional: false, params: &[] },
        ],
        limit: Some(100),
        tag_column: Some("object_types"),
        inactive_users: false,
    },
    key: "date_updated",
    version: "date_updated",
    lookback: 0,
    retention_days: None,
    columns: &[
        col!("id", Str),
        col!("name", Str),
        col!("description", Str),
        col!("type", Str),
        col!("choices", Json),
        col!("accepts_multiple_values", Bool),
        col!("editable_with_roles", Json),
        col!("is_shared", Bool),
        col!("required", Bool),
        col!("custom_activity_type_id", Str),
        col!("custom_object_type_id", Str),
        col!("referenced_custom_type_id", Str),
        col!("back_reference_is_visible", Bool),
        col!("associations", Json),
        col!("organization_id", Str),
        col!("created_by", Str),
        col!("updated_by", Str),
        col!("date_created", Timestamp),
        col!("date_updated", Timestamp),
        col!("object_types", Json),
    ],
};

/// The event log: cursor pages, newest first, about 30 days of history, naive UTC timestamps.
/// Close merges actions on one object into one event and moves its `date_updated`, so each run
/// re-reads an hour before its bookmark and drops the versions it already holds.
const EVENT_LOG: TableSpec = TableSpec {
    name: "event_log",
    replication: Replication::Cdc,
    source: Source::Cursor { path: "event/", limit: 50 },
    key: "date_updated",
    version: "date_updated",
    lookback: super::EVENT_OVERLAP,
    retention_days: Some(30),
    columns: &[
        col!("id", Str),
        col!("object_type", Str),
        col!("object_id", Str),
        col!("lead_id", Str),
        col!("action", Str),
        col!("organization_id", Str),
        col!("user_id", Str),
        col!("request_id", Str),
        col!("api_key_id", Str),
        col!("oauth_client_id", Str),
        col!("oauth_scope", Str),
        col!("changed_fields", Json),
        col!("data", Json),
        col!("previous_data", Json),
        col!("meta", Json),
        col!("date_created", Timestamp),
        col!("date_updated", Timestamp),
    ],
};

/// Leads through `/lead/` and the query language: the list of leads that filters and sorts by
/// `date_updated` and returns whole records (see docs/close-api-fidelity.md for why not search).
/// Its bounds are whole minutes at best, so pages advance minute by minute; and it reads through
/// a search index that lags writes, so every run re-reads the hour before its bookmark.
const LEADS: TableSpec = TableSpec {
    name: "leads",
    replication: Replication::Cdc,
    source: Source::Keyset {
        path: "lead/",
        filter: KeyFilter::Query,
        order_by: None,
        granule: MICROS_PER_MINUTE,
        limit: 200,
        params: &[],
    },
    key: "date_updated",
    version: "date_updated",
    lookback: MICROS_PER_HOUR,
    retention_days: None,
    columns: &[
        col!("id", Str),
        col!("name", Str),
        col!("display_name", Str),
        col!("description", Str),
        col!("url", Str),
        col!("html_url", Str),
        col!("status_id", Str),
        col!("status_label", Str),
        col!("organization_id", Str),
        col!("created_by", Str),
        col!("created_by_name", Str),
        col!("updated_by", Str),
        col!("updated_by_name", Str),
        col!("date_created", Timestamp),
        col!("date_updated", Timestamp),
        col!("addresses", Json),
        col!("contacts", Json),
        col!("opportunities", Json),
        col!("tasks", Json),
        col!("integration_links", Json),
        col!("custom", Json),
        col!("custom_by_id", Json),
    ],
};

/// Tasks of every type (without `_type=all`, `/task/` returns only lead tasks), filtered by a
/// `date_updated` window and paged in `date_created` order, the only documented order that a
/// change during the run cannot reshuffle.
const TASKS: TableSpec = TableSpec {
    name: "tasks",
    replication: Replication::Cdc,
    source: Source::Keyset {
        path: "task/",
        filter: KeyFilter::Params,
        order_by: Some("date_created"),
        granule: MICROS_PER_MILLI,
        limit: 100,
        params: &[("_type", "all")],
    },
    key: "date_updated",
    version: "date_updated",
    lookback: 0,
    retention_days: None,
    columns: &[
        col!("id", Str),
        col!("_type", Str),
        col!("text", Str),
        col!("view", Str),
        col!("is_complete", Bool),
        col!("is_dateless", Bool),
        col!("date", Date),
        col!("due_date", Date),
        col!("lead_id", Str),
        col!("lead_name", Str),
        col!("contact_id", Str),
        col!("contact_name", Str),
        col!("object_id", Str),
        col!("object_type", Str),
        col!("assigned_to", Str),
        col!("assigned_to_name", Str),
        col!("organization_id", Str),
        col!("created_by", Str),
        col!("created_by_name", Str),
        col!("updated_by", Str),
        col!("updated_by_name", Str),
        col!("date_created", Timestamp),
        col!("date_updated", Timestamp),
        col!("subject", Str),
        col!("body_preview", Str),
        col!("email_id", Str),
        col!("opportunity_value", Int),
        col!("opportunity_note", Str),
    ],
};

/// Users of the organization, deactivated ones included: small and unfiltered by the API, read in full.
const USERS: TableSpec = TableSpec {
    name: "users",
    replication: Replication::Cdc,
    source: Source::Full {
        endpoints: &[Endpoint { path: "user/", tag: "user", optional: false, params: &[] }],
        limit: Some(100),
        tag_column: None,
        inactive_users: true,
    },
    key: "date_updated",
    version: "date_updated",
    lookback: 0,
    retention_days: None,
    columns: &[
        col!("id", Str),
        col!("email", Str),
        col!("first_name", Str),
        col!("last_name", Str),
        col!("image", Str),
        col!("google_profile_image_url", Str),
        col!("email_verified_at", Timestamp),
        col!("last_used_timezone", Str),
        col!("organizations", Json),
        col!("date_created", Timestamp),
        col!("date_updated", Timestamp),
    ],
};

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tables::by_name;

    #[test]
    fn activities_re_read_a_day_by_creation() {
        let spec = by_name("activities").unwrap();
        assert_eq!((spec.key, spec.version, spec.lookback), ("date_created", "date_updated", MICROS_PER_DAY));
        assert_eq!(spec.replication, Replication::AppendOnly);
    }

    #[test]
    fn tasks_ask_for_every_type_and_page_by_creation() {
        let spec = by_name("tasks").unwrap();
        let Source::Keyset { params, .. } = &spec.source else { panic!("tasks are keyset") };
        assert!(params.contains(&("_type", "all")));
        assert_eq!((spec.key, spec.order_key()), ("date_updated", "date_created"));
    }

    #[test]
    fn leads_filter_through_the_query_language_by_the_minute_and_look_back() {
        let spec = by_name("leads").unwrap();
        let Source::Keyset { filter, .. } = &spec.source else { panic!("leads are keyset") };
        assert_eq!(*filter, KeyFilter::Query);
        assert_eq!((spec.granule(), spec.lookback), (MICROS_PER_MINUTE, MICROS_PER_HOUR));
    }

    #[test]
    fn events_page_by_cursor_and_forget_after_30_days() {
        let spec = by_name("event_log").unwrap();
        assert!(matches!(spec.source, Source::Cursor { limit: 50, .. }));
        assert_eq!(spec.retention_days, Some(30));
        assert!(spec.lookback > 0);
    }

    #[test]
    fn custom_fields_come_from_every_object_type() {
        let Source::Full { endpoints, tag_column, .. } = &by_name("custom_fields").unwrap().source else {
            panic!("custom fields are read in full")
        };
        let tags: Vec<_> = endpoints.iter().map(|e| e.tag).collect();
        for tag in ["lead", "contact", "opportunity", "activity", "custom_object_type", "shared"] {
            assert!(tags.contains(&tag), "missing {tag}");
        }
        assert_eq!(*tag_column, Some("object_types"));
    }

    #[test]
    fn users_are_read_in_full_with_the_deactivated_ones() {
        assert!(matches!(by_name("users").unwrap().source, Source::Full { inactive_users: true, .. }));
    }

    #[test]
    fn only_the_custom_object_kind_is_optional() {
        let Source::Full { endpoints, .. } = &by_name("custom_fields").unwrap().source else { panic!() };
        let optional: Vec<_> = endpoints.iter().filter(|e| e.optional).map(|e| e.tag).collect();
        assert_eq!(optional, ["custom_object_type"]);
    }
}
