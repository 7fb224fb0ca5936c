//! Raw `object` declarations as Kubernetes objects: the object as written
//! (inline or read from its file), with the name shipc gives it (the env's
//! release suffix added), the env's namespace unless the kind is
//! cluster-scoped, shipc's labels (the ownership ones win over the user's)
//! and the `ship.dev/source` annotation.

use super::{Body, Context, Object};
use crate::check::objects::{build, builtin, object_name};
use crate::model::{Decl, Value};
use serde_json::Value as Json;

/// Whether an object's kind is namespaced: built-in kinds know; a CRD's
/// kind is unless the declaration says `cluster = true`.
pub fn namespaced(d: &Decl, api_version: &str, kind: &str) -> bool {
    match builtin(api_version, kind) {
        Some(k) => k.namespaced,
        None => d.object().cluster().and_then(Value::as_bool) != Some(true),
    }
}

/// The Kubernetes object of an `object` declaration in an env.
pub fn object(cx: &Context<'_>, d: &Decl) -> Object {
    let built = build(d);
    let name = object_name(d, &built);
    let mut json = built.json;
    let s = |p: &str| {
        json.pointer(p)
            .and_then(Json::as_str)
            .unwrap_or("")
            .to_string()
    };
    let (api_version, kind) = (s("/apiVersion"), s("/kind"));
    let namespaced = namespaced(d, &api_version, &kind);
    if let Json::Object(m) = &mut json {
        let meta = m
            .entry("metadata")
            .or_insert_with(|| Json::Object(serde_json::Map::new()));
        if !meta.is_object() {
            *meta = Json::Object(serde_json::Map::new());
        }
        if let Json::Object(meta) = meta {
            meta.insert("name".into(), Json::String(name.clone()));
            if namespaced {
                meta.insert("namespace".into(), Json::String(cx.namespace_of(d)));
            } else {
                meta.remove("namespace");
            }
            let labels = meta
                .entry("labels")
                .or_insert_with(|| Json::Object(serde_json::Map::new()));
            if let Json::Object(l) = labels {
                for (k, v) in cx.labels(d) {
                    l.insert(k, Json::String(v));
                }
            }
            let ann = meta
                .entry("annotations")
                .or_insert_with(|| Json::Object(serde_json::Map::new()));
            if let Json::Object(a) = ann {
                a.insert(
                    super::SOURCE_ANNOTATION.into(),
                    Json::String(cx.source(d.name_span)),
                );
            }
        }
    }
    Object {
        kind,
        name,
        value: Body::Json(json),
        span: d.name_span,
    }
}
