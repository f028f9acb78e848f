//! What of an outcome goes into a check run: annotations in the API's shape, cut to its
//! field limits. Pure; sending them is `crate::github::checks`.
//! <https://docs.github.com/en/rest/checks/runs#annotations-object>

use serde_json::{Value, json};

use crate::outcome::Annotation;

/// Whether the API takes the annotation: it has a file and a line.
pub fn located(a: &Annotation) -> bool {
    a.path.is_some() && a.start_line.is_some()
}

/// One annotation in the API's shape; `None` for annotations without a line location
/// (see [`located`]).
pub fn annotation_json(a: &Annotation) -> Option<Value> {
    let path = a.path.as_ref()?;
    let start = a.start_line?;
    let end = a.end_line.unwrap_or(start).max(start);
    let mut v = json!({
        "path": path,
        "start_line": start,
        "end_line": end,
        "annotation_level": a.level.api_name(),
        "message": truncate(&a.message, 60_000),
    });
    if let Some(t) = &a.title {
        v["title"] = Value::String(truncate(t, 255));
    }
    Some(v)
}

fn truncate(s: &str, max: usize) -> String {
    if s.len() <= max {
        return s.to_owned();
    }
    let mut cut = max - 1;
    while !s.is_char_boundary(cut) {
        cut -= 1;
    }
    format!("{}…", &s[..cut])
}
