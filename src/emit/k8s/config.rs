//! `config` declarations as ConfigMaps, the names pods use to reach them,
//! and the checksum that rolls a pod when a config it uses changes.

use super::{plain_json, Body, Context, Object};
use crate::model::view::{structured_format, Format};
use crate::model::view::{ConfigEntry, EnvValue, Volume};
use crate::model::{Decl, Value, V};
use crate::syntax::ast::DeclKind;
use k8s_openapi::api::core::v1::ConfigMap;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use k8s_openapi::ByteString;
use std::collections::{BTreeMap, BTreeSet};

/// The pod template annotation holding the checksum of the configs a pod
/// mounts or reads: a new value rolls the pods.
pub const CHECKSUM_ANNOTATION: &str = "ship.dev/config-checksum";

/// A config's data: text keys and binary keys (base64, as Kubernetes
/// wants `binaryData`).
pub fn data(d: &Decl) -> (BTreeMap<String, String>, BTreeMap<String, String>) {
    let mut text = BTreeMap::new();
    let mut binary = BTreeMap::new();
    for (key, entry) in d.config().entries() {
        match entry {
            ConfigEntry::Text(s) => {
                text.insert(key.to_string(), s.to_string());
            }
            ConfigEntry::Binary(b) => {
                binary.insert(key.to_string(), b.to_string());
            }
            ConfigEntry::Structured(v) => {
                let j = plain_json(Some(v));
                let s = match structured_format(key) {
                    Some(Format::Json) => {
                        serde_json::to_string_pretty(&j).unwrap_or_default() + "\n"
                    }
                    _ => crate::yaml::to_string(&j),
                };
                text.insert(key.to_string(), s);
            }
            ConfigEntry::File(_) | ConfigEntry::Other => {}
        }
    }
    (text, binary)
}

/// The ConfigMap of a config in an env, the env's `patches` applied.
pub fn config_map(cx: &Context<'_>, d: &Decl) -> Object {
    let mut one = [config_map_unpatched(cx, d)];
    super::env_patches(cx, &mut one);
    let [o] = one;
    o
}

/// The ConfigMap of a config in an env, as lowered.
pub fn config_map_unpatched(cx: &Context<'_>, d: &Decl) -> Object {
    let (text, binary) = data(d);
    let mut labels = BTreeMap::new();
    labels.insert("app.kubernetes.io/name".to_string(), super::base_name(d));
    labels.insert("app.kubernetes.io/instance".into(), d.k8s_name.clone());
    labels.insert("app.kubernetes.io/part-of".into(), cx.project_name());
    labels.insert("app.kubernetes.io/managed-by".into(), "shipc".into());
    labels.insert("ship.dev/env".into(), cx.env.label());
    let mut ann = BTreeMap::new();
    ann.insert(super::SOURCE_ANNOTATION.to_string(), cx.source(d.name_span));
    let cm = ConfigMap {
        metadata: ObjectMeta {
            name: Some(d.k8s_name.clone()),
            namespace: Some(cx.namespace()),
            labels: Some(labels),
            annotations: Some(ann),
            ..ObjectMeta::default()
        },
        data: Some(text).filter(|t| !t.is_empty()),
        binary_data: Some(
            binary
                .into_iter()
                .filter_map(|(k, b)| {
                    use base64::Engine;
                    base64::engine::general_purpose::STANDARD
                        .decode(b)
                        .ok()
                        .map(|bytes| (k, ByteString(bytes)))
                })
                .collect::<BTreeMap<_, _>>(),
        )
        .filter(|b| !b.is_empty()),
        ..ConfigMap::default()
    };
    Object {
        kind: "ConfigMap".into(),
        name: d.k8s_name.clone(),
        value: Body::ConfigMap(Box::new(cm)),
        span: d.name_span,
    }
}

/// The ConfigMap name a `config_map` argument means: a `config`
/// declaration's name in this env, or a name as written.
pub fn name(cx: &Context<'_>, v: Option<&Value>) -> String {
    match v.map(|v| &v.kind) {
        Some(V::Decl(r)) if r.kind == DeclKind::Config => cx
            .env
            .configs
            .get(&r.name)
            .map(|c| c.k8s_name.clone())
            .unwrap_or_else(|| crate::names::k8s_name(&r.name)),
        Some(V::Str(s)) => s.clone(),
        _ => String::new(),
    }
}

/// The `config` declarations a service's pod mounts or reads.
pub fn used_by(d: &Decl) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let mut add = |config_map: Option<&Value>| {
        if let Some(V::Decl(r)) = config_map.map(|c| &c.kind) {
            if r.kind == DeclKind::Config {
                out.insert(r.name.clone());
            }
        }
    };
    let svc = d.service();
    for (_, v) in svc.volume_entries() {
        if let Some(Volume::Config(c)) = Volume::of(v) {
            add(c.config_map());
        }
    }
    for v in svc.env_values() {
        if let EnvValue::Config(c) = EnvValue::of(v) {
            add(c.config_map());
        }
    }
    out
}

/// The checksum of the configs a service's pod uses, in this env: SHA-256
/// over each config's name and data, in name order.
pub fn checksum(cx: &Context<'_>, d: &Decl) -> Option<String> {
    use sha2::Digest;
    let used = used_by(d);
    if used.is_empty() {
        return None;
    }
    let mut h = sha2::Sha256::new();
    for name in used {
        let Some(c) = cx.env.configs.get(&name) else {
            continue;
        };
        let (text, binary) = data(c);
        h.update(c.k8s_name.as_bytes());
        h.update([0]);
        for (k, v) in text.iter().chain(binary.iter()) {
            h.update(k.as_bytes());
            h.update([0]);
            h.update(v.as_bytes());
            h.update([0]);
        }
        h.update([1]);
    }
    let digest = h.finalize();
    Some(digest.iter().map(|b| format!("{b:02x}")).collect())
}
