//! Field-level differences between a live object and what applying would
//! make of it (the server's dry-run answer): what `plan` prints.
//!
//! Both sides are compared without what the server owns (`status`,
//! `managedFields`, `resourceVersion`, `uid`, timestamps, `generation`).
//! Lists of records that carry a `name` are matched by name (containers,
//! env vars, ports, volumes), so a new env var is one added line, not a
//! shifted list. Secret values are never shown.

use super::Json;

/// One changed field.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct FieldChange {
    /// `spec.template.spec.containers[web].image`.
    pub path: String,
    /// The live value (none: added).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub before: Option<Json>,
    /// The value after applying (none: removed).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub after: Option<Json>,
}

/// Metadata fields the server sets: never part of a diff.
const SERVER_METADATA: &[&str] = &[
    "managedFields",
    "resourceVersion",
    "uid",
    "creationTimestamp",
    "generation",
    "selfLink",
    "deletionTimestamp",
    "deletionGracePeriodSeconds",
];

/// The object without what the server owns.
pub fn comparable(obj: &Json) -> Json {
    let mut v = obj.clone();
    if let Some(m) = v.as_object_mut() {
        m.remove("status");
        if let Some(meta) = m.get_mut("metadata").and_then(Json::as_object_mut) {
            for k in SERVER_METADATA {
                meta.remove(*k);
            }
            for k in ["annotations", "labels"] {
                let empty = meta
                    .get(k)
                    .and_then(Json::as_object)
                    .is_some_and(|o| o.is_empty());
                if empty {
                    meta.remove(k);
                }
            }
        }
    }
    v
}

/// What changed from `before` to `after` (both as [`comparable`] makes
/// them), in path order. Secret `data`/`stringData` values are redacted.
pub fn diff(before: &Json, after: &Json) -> Vec<FieldChange> {
    let mut out = Vec::new();
    walk(
        &mut String::new(),
        Some(&comparable(before)),
        Some(&comparable(after)),
        &mut out,
    );
    if after.get("kind").and_then(Json::as_str) == Some("Secret") {
        for c in &mut out {
            if c.path.starts_with("data.") || c.path.starts_with("stringData.") {
                c.before = c.before.as_ref().map(|_| Json::from("(redacted)"));
                c.after = c.after.as_ref().map(|_| Json::from("(redacted)"));
            }
        }
    }
    out
}

fn push(path: &str, key: &str) -> String {
    let simple = !key.is_empty()
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    match (path.is_empty(), simple) {
        (true, true) => key.to_string(),
        (true, false) => format!("[{key:?}]"),
        (false, true) => format!("{path}.{key}"),
        (false, false) => format!("{path}[{key:?}]"),
    }
}

/// The name a list item is matched by, when every item has one.
fn item_name(v: &Json) -> Option<String> {
    let m = v.as_object()?;
    for k in ["name", "containerPort", "mountPath", "type"] {
        if let Some(x) = m.get(k) {
            return Some(match x {
                Json::String(s) => s.clone(),
                other => other.to_string(),
            });
        }
    }
    None
}

fn walk(path: &mut String, a: Option<&Json>, b: Option<&Json>, out: &mut Vec<FieldChange>) {
    match (a, b) {
        (Some(Json::Object(x)), Some(Json::Object(y))) => {
            let mut keys: Vec<&String> = x.keys().chain(y.keys()).collect();
            keys.sort();
            keys.dedup();
            for k in keys {
                let mut p = push(path, k);
                walk(&mut p, x.get(k), y.get(k), out);
            }
        }
        (Some(Json::Array(x)), Some(Json::Array(y))) if x != y => {
            let names_x: Option<Vec<String>> = x.iter().map(item_name).collect();
            let names_y: Option<Vec<String>> = y.iter().map(item_name).collect();
            match (names_x, names_y) {
                (Some(nx), Some(ny)) if unique(&nx) && unique(&ny) => {
                    let mut names: Vec<&String> = nx.iter().chain(ny.iter()).collect();
                    names.sort();
                    names.dedup();
                    for n in names {
                        let ia = nx.iter().position(|m| m == n).and_then(|i| x.get(i));
                        let ib = ny.iter().position(|m| m == n).and_then(|i| y.get(i));
                        let mut p = format!("{path}[{n}]");
                        walk(&mut p, ia, ib, out);
                    }
                }
                _ => out.push(FieldChange {
                    path: path.clone(),
                    before: Some(Json::Array(x.clone())),
                    after: Some(Json::Array(y.clone())),
                }),
            }
        }
        (Some(x), Some(y)) if x == y => {}
        (None, None) => {}
        (x, y) => out.push(FieldChange {
            path: path.clone(),
            before: x.cloned(),
            after: y.cloned(),
        }),
    }
}

fn unique(names: &[String]) -> bool {
    let mut v: Vec<&String> = names.iter().collect();
    v.sort();
    let n = v.len();
    v.dedup();
    v.len() == n
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn named_lists_match_by_name_and_server_fields_are_ignored() {
        let live = json!({"kind": "Deployment", "metadata": {"name": "web", "uid": "1", "resourceVersion": "7"},
            "spec": {"containers": [{"name": "web", "image": "a"}, {"name": "side", "image": "s"}]},
            "status": {"replicas": 1}});
        let next = json!({"kind": "Deployment", "metadata": {"name": "web"},
            "spec": {"containers": [{"name": "side", "image": "s"}, {"name": "web", "image": "b"}]}});
        let d = diff(&live, &next);
        assert_eq!(d.len(), 1, "{d:?}");
        assert_eq!(d[0].path, "spec.containers[web].image");
        assert_eq!(d[0].before, Some(json!("a")));
        assert_eq!(d[0].after, Some(json!("b")));
    }

    #[test]
    fn secret_values_are_redacted() {
        let live = json!({"kind": "Secret", "data": {"token": "c2VjcmV0"}});
        let next = json!({"kind": "Secret", "data": {"token": "b3RoZXI="}});
        let d = diff(&live, &next);
        assert_eq!(d.len(), 1);
        assert_eq!(d[0].before, Some(json!("(redacted)")));
        assert!(!format!("{d:?}").contains("b3RoZXI"));
    }

    #[test]
    fn dotted_keys_are_quoted() {
        let d = diff(
            &json!({"metadata": {"labels": {"ship.dev/env": "a"}}}),
            &json!({"metadata": {"labels": {"ship.dev/env": "b"}}}),
        );
        assert_eq!(d[0].path, "metadata.labels[\"ship.dev/env\"]");
    }
}
