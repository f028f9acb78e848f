//! LIST (selectors, `limit`/`continue` pagination, the 410 answers for compacted history) and
//! DELETE of a collection, which lists first. Continue tokens are encoded as the real server's.

use base64::Engine as _;
use serde_json::{Value, json};

use super::{meta_str, strip_type};
use crate::resources::ResourceType;
use crate::selectors::{FieldSelector, LabelSelector};
use crate::status::ApiError;
use crate::store::{self, Store};

/// Options of a LIST request.
#[derive(Debug, Default, Clone)]
pub struct ListOptions {
    /// `labelSelector`.
    pub labels: LabelSelector,
    /// `fieldSelector`.
    pub fields: FieldSelector,
    /// `limit` (0 or absent: no limit).
    pub limit: Option<usize>,
    /// `continue` token.
    pub continue_token: Option<String>,
    /// `resourceVersion`.
    pub resource_version: Option<String>,
    /// `resourceVersionMatch`.
    pub resource_version_match: Option<String>,
}

/// A page of a list: items (presented, without kind/apiVersion) and list metadata.
#[derive(Debug, Clone)]
pub struct ListPage {
    /// Items.
    pub items: Vec<Value>,
    /// `metadata` of the list.
    pub metadata: Value,
}

const CONTINUE_EXPIRED: &str = "The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter, or use the continue token in this response to retrieve the remainder of the results. Continuing with the provided token results in an inconsistent list - objects that were created, modified, or deleted between the time the first chunk was returned and now may show up in the list.";

fn encode_continue(rv: u64, namespace: &str, name: &str) -> String {
    let token =
        json!({"v": "meta.k8s.io/v1", "rv": rv, "start": format!("{namespace}/{name}\u{0}")});
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(token.to_string())
}

fn decode_continue(token: &str) -> Result<(u64, String, String), ApiError> {
    let bad = || {
        ApiError::bad_request(
            "continue key is not valid: incorrect encoded start resourceVersion (version meta.k8s.io/v1)",
        )
    };
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(token.trim_end_matches('='))
        .map_err(|_| bad())?;
    let v: Value = serde_json::from_slice(&bytes).map_err(|_| bad())?;
    let rv = v["rv"].as_u64().ok_or_else(bad)?;
    let start = v["start"]
        .as_str()
        .ok_or_else(bad)?
        .trim_end_matches('\u{0}');
    let (ns, name) = start.split_once('/').ok_or_else(bad)?;
    Ok((rv, ns.to_string(), name.to_string()))
}

/// LIST, with selectors, `limit`/`continue` pagination and the 410 answers for history that
/// compaction has removed.
pub fn list(
    store: &Store,
    rt: &ResourceType,
    namespace: Option<&str>,
    opts: &ListOptions,
) -> Result<ListPage, ApiError> {
    let mut list_rv = store.revision();
    let mut start = None;
    if let Some(token) = opts.continue_token.as_deref().filter(|t| !t.is_empty()) {
        let (rv, ns, name) = decode_continue(token)?;
        if rv < store.compacted() {
            let mut err = ApiError::expired(CONTINUE_EXPIRED);
            err.details = None;
            return Err(err);
        }
        list_rv = rv;
        start = Some((ns, name));
    } else if let Some(rv) = opts
        .resource_version
        .as_deref()
        .and_then(|r| r.parse::<u64>().ok())
        .filter(|rv| *rv > 0)
    {
        if opts.resource_version_match.as_deref() == Some("Exact") && rv < store.compacted() {
            return Err(ApiError::expired(format!(
                "too old resource version: {rv} ({})",
                store.compacted()
            )));
        }
    }
    let matching: Vec<Value> = store
        .list_after(rt, namespace, start.as_ref())
        .into_iter()
        .map(|o| store::present(rt, &o))
        .filter(|o| opts.labels.matches_object(o) && opts.fields.matches(o))
        .collect();
    let limit = opts.limit.filter(|l| *l > 0);
    let mut metadata = json!({"resourceVersion": list_rv.to_string()});
    let items: Vec<Value> = match limit {
        Some(limit) if matching.len() > limit => {
            let last = &matching[limit - 1];
            let ns = last
                .pointer("/metadata/namespace")
                .and_then(Value::as_str)
                .unwrap_or_default();
            let name = last
                .pointer("/metadata/name")
                .and_then(Value::as_str)
                .unwrap_or_default();
            metadata["continue"] = json!(encode_continue(list_rv, ns, name));
            metadata["remainingItemCount"] = json!(matching.len() - limit);
            matching.into_iter().take(limit).collect()
        }
        _ => matching,
    };
    Ok(ListPage {
        items: items.into_iter().map(strip_type).collect(),
        metadata,
    })
}

/// DELETE of a collection: every object the selectors match.
pub fn delete_collection(
    store: &mut Store,
    rt: &'static ResourceType,
    namespace: Option<&str>,
    opts: &ListOptions,
    dry_run: bool,
) -> Result<ListPage, ApiError> {
    let page = list(
        store,
        rt,
        namespace,
        &ListOptions {
            limit: None,
            continue_token: None,
            ..opts.clone()
        },
    )?;
    if !dry_run {
        for item in &page.items {
            let ns = meta_str(item, "namespace").unwrap_or_default();
            let name = meta_str(item, "name").unwrap_or_default();
            store.remove(rt, ns, name);
        }
    }
    Ok(ListPage {
        metadata: json!({"resourceVersion": store.revision().to_string()}),
        ..page
    })
}
