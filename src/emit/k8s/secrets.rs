//! `secrets { external_secrets { … } }`: every Secret the env's services
//! reference becomes an ExternalSecret (external-secrets.io/v1) that the
//! External Secrets Operator fills from a store — the keys `secret(name,
//! key)` reads as `data`, a Secret mounted whole by `secret_files` as
//! `dataFrom.extract`. The ExternalSecret and the Secret it makes carry the
//! Secret's own name, the one the pods reference.

use super::{Body, Context, Object};
use crate::model::view::ExternalSecrets;
use crate::model::Value;
use serde_json::{json, Value as Json};

/// `{name}`, `{key}`, `{env}`, `{namespace}` in a mapping template.
pub const PLACEHOLDERS: &[&str] = &["name", "key", "env", "namespace"];

/// A mapping template filled in.
pub fn fill(template: &str, name: &str, key: &str, env: &str, namespace: &str) -> String {
    template
        .replace("{name}", name)
        .replace("{key}", key)
        .replace("{env}", env)
        .replace("{namespace}", namespace)
}

/// The env's ExternalSecrets (none without `secrets.external_secrets`).
pub fn external_secrets(cx: &Context<'_>) -> Vec<Object> {
    let Some(es_v) = cx
        .env
        .settings()
        .secrets()
        .and_then(|s| crate::model::view::SecretsSettings::of(s).external_secrets())
    else {
        return Vec::new();
    };
    let es = ExternalSecrets::of(es_v);
    let s = |v: Option<&Value>, d: &str| v.and_then(Value::as_str).unwrap_or(d).to_string();
    let store = s(es.store(), "");
    let store_kind = s(es.kind(), "ClusterSecretStore");
    let key_t = s(es.key(), "{name}");
    let prop_t = s(es.property(), "{key}");
    let refresh = es
        .refresh()
        .and_then(super::quantity)
        .unwrap_or_else(|| "1h".into());
    let (env, namespace) = (cx.env.name.clone(), cx.namespace());
    cx.env
        .secret_uses()
        .into_iter()
        .map(|(name, uses)| {
            let data: Vec<Json> = uses
                .keys
                .iter()
                .map(|k| {
                    let mut remote = serde_json::Map::new();
                    remote.insert(
                        "key".into(),
                        json!(fill(&key_t, &name, k, &env, &namespace)),
                    );
                    let p = fill(&prop_t, &name, k, &env, &namespace);
                    if !p.is_empty() {
                        remote.insert("property".into(), json!(p));
                    }
                    json!({"secretKey": k, "remoteRef": remote})
                })
                .collect();
            let mut spec = serde_json::Map::new();
            spec.insert("refreshInterval".into(), json!(refresh));
            spec.insert(
                "secretStoreRef".into(),
                json!({"name": store, "kind": store_kind}),
            );
            spec.insert(
                "target".into(),
                json!({"name": name, "creationPolicy": "Owner"}),
            );
            if !data.is_empty() {
                spec.insert("data".into(), Json::Array(data));
            }
            if uses.whole {
                spec.insert(
                    "dataFrom".into(),
                    json!([{"extract": {"key": fill(&key_t, &name, "", &env, &namespace)}}]),
                );
            }
            let meta = cx.env_meta(&name, es_v.span);
            Object {
                kind: "ExternalSecret".into(),
                name: name.clone(),
                value: Body::Json(json!({
                    "apiVersion": "external-secrets.io/v1",
                    "kind": "ExternalSecret",
                    "metadata": meta,
                    "spec": spec,
                })),
                span: es_v.span,
            }
        })
        .collect()
}
