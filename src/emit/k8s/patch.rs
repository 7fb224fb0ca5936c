//! `patches`: strategic-merge and RFC 6902 JSON patches of the objects the
//! lowering produced, applied before any target writes them (E2045).
//!
//! A service's patches apply to its objects; an env's to every object the
//! env deploys. `target` is `Kind` or `Kind/name` (the name with or without
//! the env's release suffix). A patched object of a typed kind is read back
//! into its k8s-openapi type, so a patch cannot produce what Kubernetes
//! would refuse: a string replica count, or an unknown field (an error,
//! never silently dropped). Nor can it change what an object is
//! (apiVersion, kind, name, namespace).
//!
//! Strategic merge follows kubectl: maps merge, `null` deletes a key, the
//! lists Kubernetes merges by a key (containers, env, volumes by `name`,
//! volume mounts by `mountPath`, container ports by `containerPort`,
//! Service ports by `port`, …) merge item by item — an item whose key is
//! new is added, `"$patch": "delete"` removes one — and other lists are
//! replaced.

use super::{Body, Object};
use crate::diag::{Code, Diagnostic};
use crate::model::view::{JsonPatch, MergePatch, Patch};
use crate::model::Value;
use serde_json::Value as Json;

/// `Kind` or `Kind/name`.
struct Target<'a> {
    kind: &'a str,
    name: Option<&'a str>,
}

fn target(s: &str) -> Target<'_> {
    match s.split_once('/') {
        Some((kind, name)) => Target {
            kind,
            name: Some(name),
        },
        None => Target {
            kind: s,
            name: None,
        },
    }
}

impl Target<'_> {
    fn matches(&self, o: &Object, suffix: &str) -> bool {
        o.kind == self.kind
            && self
                .name
                .is_none_or(|n| o.name == n || (o.name.strip_suffix(suffix) == Some(n)))
    }
}

/// Whether a patch's target names some object of `objects`.
pub fn targets_any(patch: &Value, objects: &[Object], suffix: &str) -> bool {
    let Some(t) = Patch::of(patch)
        .and_then(Patch::target)
        .and_then(Value::as_str)
    else {
        return false;
    };
    let t = target(t);
    objects.iter().any(|o| t.matches(o, suffix))
}

/// Apply `patches` in order to the objects they target. Problems come back
/// as diagnostics at the patch's span; a failed patch leaves its object as
/// it was.
pub fn apply(objects: &mut [Object], patches: &[Value], suffix: &str) -> Vec<Diagnostic> {
    let mut diags = Vec::new();
    for p in patches {
        let Some(patch) = Patch::of(p) else { continue };
        let Some(t) = patch.target().and_then(Value::as_str) else {
            continue;
        };
        let t = target(t);
        for o in objects.iter_mut().filter(|o| t.matches(o, suffix)) {
            if let Err(msg) = apply_one(o, patch) {
                diags.push(
                    Diagnostic::new(
                        Code::E2045,
                        p.span,
                        format!("cannot patch {} `{}`: {msg}", o.kind, o.name),
                    )
                    .label("this patch")
                    .help(match patch {
                        Patch::Json(_) => "a JSON patch names paths that exist (`/spec/template/spec/containers/0/image`); `add` creates the last segment only",
                        Patch::Merge(_) => "a merge patch is a part of the object: the keys as Kubernetes writes them, with values of their type",
                    }),
                );
            }
        }
    }
    diags
}

fn apply_one(o: &mut Object, patch: Patch<'_>) -> Result<(), String> {
    let mut json = serde_json::to_value(&o.value).map_err(|e| e.to_string())?;
    let identity = |j: &Json| {
        [
            "/apiVersion",
            "/kind",
            "/metadata/name",
            "/metadata/namespace",
        ]
        .map(|p| j.pointer(p).cloned())
    };
    let before = identity(&json);
    match patch {
        Patch::Merge(m) => merge(&mut json, &patch_json(m)?, "")?,
        Patch::Json(j) => json_patch(&mut json, j)?,
    }
    if identity(&json) != before {
        return Err("a patch cannot change what an object is (apiVersion, kind, name, namespace): shipc's ownership, records and every target key on them".into());
    }
    o.value = Body::from_json(&o.kind, json)?;
    Ok(())
}

fn patch_json(m: MergePatch<'_>) -> Result<Json, String> {
    let mut spans = std::collections::BTreeMap::new();
    let v = m
        .patch()
        .and_then(|p| crate::check::objects::to_json(p, "", &mut spans))
        .unwrap_or(Json::Null);
    if v.is_object() {
        Ok(v)
    } else {
        Err("a merge patch is a record (`{ spec { replicas = 3 } }`)".into())
    }
}

fn json_patch(doc: &mut Json, j: JsonPatch<'_>) -> Result<(), String> {
    let mut spans = std::collections::BTreeMap::new();
    let ops = j
        .ops()
        .and_then(|p| crate::check::objects::to_json(p, "", &mut spans))
        .unwrap_or(Json::Null);
    let ops: json_patch::Patch = serde_json::from_value(ops).map_err(|e| {
        format!("not an RFC 6902 patch ({e}): each operation is `{{ op, path, value }}`")
    })?;
    json_patch::patch(doc, &ops).map_err(|e| e.to_string())
}

/// The key Kubernetes merges the items of a list field by.
fn merge_key(field: &str, items: &[Json]) -> Option<&'static str> {
    Some(match field {
        "containers"
        | "initContainers"
        | "ephemeralContainers"
        | "env"
        | "volumes"
        | "imagePullSecrets"
        | "resourceClaims"
        | "schedulingGates" => "name",
        "volumeMounts" => "mountPath",
        "volumeDevices" => "devicePath",
        "hostAliases" => "ip",
        "topologySpreadConstraints" => "topologyKey",
        "ports" => {
            if items.iter().any(|i| i.get("containerPort").is_some()) {
                "containerPort"
            } else {
                "port"
            }
        }
        _ => return None,
    })
}

/// Strategic merge of `patch` into `doc` at `path`.
fn merge(doc: &mut Json, patch: &Json, path: &str) -> Result<(), String> {
    let (Json::Object(d), Json::Object(p)) = (&mut *doc, patch) else {
        *doc = patch.clone();
        return Ok(());
    };
    if p.get("$patch").and_then(Json::as_str) == Some("replace") {
        let mut replaced = p.clone();
        replaced.remove("$patch");
        *doc = Json::Object(replaced);
        return Ok(());
    }
    for (k, pv) in p {
        if k.starts_with('$') {
            return Err(format!(
                "`{k}` at `{path}` is not a directive shipc knows (`$patch`)"
            ));
        }
        let here = if path.is_empty() {
            k.clone()
        } else {
            format!("{path}.{k}")
        };
        match pv {
            Json::Null => {
                d.remove(k);
            }
            Json::Object(_) => match d.get_mut(k) {
                Some(dv @ Json::Object(_)) => merge(dv, pv, &here)?,
                _ => {
                    let mut fresh = Json::Object(serde_json::Map::new());
                    merge(&mut fresh, pv, &here)?;
                    d.insert(k.clone(), fresh);
                }
            },
            Json::Array(items) => match (merge_key(k, items), d.get_mut(k)) {
                (Some(key), Some(Json::Array(existing))) => {
                    merge_list(existing, items, key, &here)?
                }
                (Some(key), _) => {
                    let mut list = Vec::new();
                    merge_list(&mut list, items, key, &here)?;
                    d.insert(k.clone(), Json::Array(list));
                }
                (None, _) => {
                    d.insert(k.clone(), pv.clone());
                }
            },
            _ => {
                d.insert(k.clone(), pv.clone());
            }
        }
    }
    Ok(())
}

fn merge_list(
    existing: &mut Vec<Json>,
    items: &[Json],
    key: &str,
    path: &str,
) -> Result<(), String> {
    for item in items {
        let Some(id) = item.get(key).filter(|v| !v.is_null()) else {
            return Err(format!(
                "each item of `{path}` needs its `{key}` (the key Kubernetes merges it by)"
            ));
        };
        let at = existing.iter().position(|e| e.get(key) == Some(id));
        let delete = item.get("$patch").and_then(Json::as_str) == Some("delete");
        match (at, delete) {
            (Some(i), true) => {
                existing.remove(i);
            }
            (None, true) => {
                return Err(format!("`{path}` has no item with {key} {id} to delete"));
            }
            (Some(i), false) => {
                if let Some(e) = existing.get_mut(i) {
                    merge(e, item, &format!("{path}[{key}={id}]"))?;
                }
            }
            (None, false) => existing.push(item.clone()),
        }
    }
    Ok(())
}
