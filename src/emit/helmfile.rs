//! The `helmfile` target (SPEC §10): `helmfile.yaml` (releases, `needs:` from
//! the graph, helmDefaults), the built-in `charts/ship-app/` chart (a thin,
//! strict renderer of the objects the one Kubernetes lowering produced),
//! `values/base/<svc>.yaml` (bare repository only — P003) and
//! `values/<env>/<svc>.yaml` (registry/repository + digest, and the objects),
//! plus a release per infra with its exact chart version.

use super::chart::{chart_objects, split_oci, ChartValues, CHART};
use super::k8s;
use super::{with_pinned, OutputTree, PinnedInput};
use crate::diag::Diagnostic;
use crate::graph::DepGraph;
use crate::model::view::{HelmfileSettings, ImageUse};
use crate::model::{EnvModel, Value};
use crate::syntax::ast::DeclKind;
use crate::yaml;
use serde_json::{json, Map};

/// A Go duration for Helm's `--timeout`-style settings, in seconds.
fn timeout_seconds(v: Option<&Value>) -> i64 {
    v.and_then(k8s::seconds).unwrap_or(600)
}

/// A repository alias helmfile can use (`[a-z0-9-]`).
fn alias(url: &str) -> String {
    let mut a: String = url
        .trim_start_matches("https://")
        .trim_start_matches("http://")
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect();
    while a.contains("--") {
        a = a.replace("--", "-");
    }
    a.trim_matches('-').to_string()
}

/// Helmfile renders `helmfile.yaml` as a Go template before it reads it:
/// every `{{` in a string becomes a template action that prints `{{`, so
/// no user string can run template code (`exec`, `env`, `readFile`…).
pub fn template_literals(v: &mut serde_json::Value) {
    match v {
        serde_json::Value::String(s) if s.contains("{{") => {
            *s = s.replace("{{", "{{`{{`}}");
        }
        serde_json::Value::Array(items) => items.iter_mut().for_each(template_literals),
        serde_json::Value::Object(m) => {
            let keys: Vec<String> = m.keys().filter(|k| k.contains("{{")).cloned().collect();
            for k in keys {
                if let Some(x) = m.remove(&k) {
                    m.insert(k.replace("{{", "{{`{{`}}"), x);
                }
            }
            m.values_mut().for_each(template_literals);
        }
        _ => {}
    }
}

/// Emit a helmfile env, or the P002 problems that stop it.
pub fn emit(
    env: &EnvModel,
    graph: &DepGraph,
    input: &PinnedInput<'_>,
) -> (OutputTree, Vec<Diagnostic>) {
    with_pinned(env, input, |cx, images| {
        let mut out = OutputTree::new();
        let namespace = cx.namespace();
        for (name, text) in CHART {
            out.add(format!("charts/ship-app/{name}"), *text);
        }
        let mut releases: Vec<serde_json::Value> = Vec::new();
        let mut repositories: Map<String, serde_json::Value> = Map::new();
        let release_name = |kind: DeclKind, name: &str| -> Option<(String, String)> {
            match kind {
                DeclKind::Service => env
                    .services
                    .get(name)
                    .map(|s| (s.k8s_name.clone(), namespace.clone())),
                DeclKind::Infra => env
                    .infras
                    .get(name)
                    .map(|i| (i.k8s_name.clone(), cx.namespace_of(i))),
                DeclKind::Config => env
                    .configs
                    .get(name)
                    .map(|c| (c.k8s_name.clone(), namespace.clone())),
                _ => None,
            }
        };
        let needs = |id: &crate::model::DeclRef| -> Vec<String> {
            let mut n: Vec<String> = graph
                .deps(id)
                .into_iter()
                .filter_map(|d| release_name(d.kind, &d.name))
                .map(|(r, ns)| format!("{ns}/{r}"))
                .collect();
            n.sort();
            n.dedup();
            n
        };
        for svc in env.services.values() {
            let pinned = images.pinned_at(&svc.id.name);
            let bare = match svc.service().image().and_then(ImageUse::of) {
                Some(ImageUse::Built(image)) => env.image_repository(image),
                _ => pinned
                    .as_ref()
                    .map(|p| p.repository.rsplit('/').next().unwrap_or("").to_string())
                    .unwrap_or_default(),
            };
            let base = json!({"image": {"repository": bare}});
            let objects = chart_objects(cx, svc);
            let env_values = ChartValues {
                image: Some(match pinned.as_ref().and_then(|p| p.tag.as_ref()) {
                    Some(tag) => json!({
                        "repository": pinned.as_ref().map(|p| p.repository.clone()).unwrap_or_default(),
                        "digest": pinned.as_ref().map(|p| p.digest.clone()).unwrap_or_default(),
                        "tag": tag,
                    }),
                    None => json!({
                        "repository": pinned.as_ref().map(|p| p.repository.clone()).unwrap_or_default(),
                        "digest": pinned.as_ref().map(|p| p.digest.clone()).unwrap_or_default(),
                    }),
                }),
                objects: &objects,
            };
            let file = svc.k8s_name.clone();
            out.add(format!("values/base/{file}.yaml"), yaml::to_string(&base));
            out.add(
                format!("values/{}/{file}.yaml", env.name),
                yaml::to_string(&env_values),
            );
            let mut rel = Map::new();
            rel.insert("name".into(), json!(svc.k8s_name));
            rel.insert("namespace".into(), json!(namespace));
            rel.insert("chart".into(), json!("./charts/ship-app"));
            rel.insert(
                "labels".into(),
                json!({"ship.dev/kind": "service", "ship.dev/name": svc.id.name}),
            );
            rel.insert(
                "values".into(),
                json!([
                    format!("values/base/{file}.yaml"),
                    format!("values/{}/{file}.yaml", env.name)
                ]),
            );
            let n = needs(&svc.id);
            if !n.is_empty() {
                rel.insert("needs".into(), json!(n));
            }
            releases.push(serde_json::Value::Object(rel));
        }
        // A config is a release of the built-in chart holding its ConfigMap.
        for c in env.configs.values() {
            let object = k8s::config::config_map(cx, c);
            let values = ChartValues {
                image: None,
                objects: std::slice::from_ref(&object.value),
            };
            let file = format!("values/{}/{}.yaml", env.name, c.k8s_name);
            out.add(&file, yaml::to_string(&values));
            let mut rel = Map::new();
            rel.insert("name".into(), json!(c.k8s_name));
            rel.insert("namespace".into(), json!(namespace));
            rel.insert("chart".into(), json!("./charts/ship-app"));
            rel.insert(
                "labels".into(),
                json!({"ship.dev/kind": "config", "ship.dev/name": c.id.name}),
            );
            rel.insert("values".into(), json!([file]));
            let n = needs(&c.id);
            if !n.is_empty() {
                rel.insert("needs".into(), json!(n));
            }
            releases.push(serde_json::Value::Object(rel));
        }
        for infra in env.infras.values() {
            let v = infra.infra();
            let chart = v.chart().and_then(Value::as_str).unwrap_or("");
            let version = v.version().and_then(Value::as_str).unwrap_or("");
            let chart_ref = if let Some((repo, name)) = split_oci(chart) {
                let a = alias(&repo);
                repositories.insert(a.clone(), json!({"name": a, "url": repo, "oci": true}));
                format!("{a}/{name}")
            } else if let Some(repo) = v.repo().and_then(Value::as_str) {
                let a = alias(repo);
                repositories.insert(a.clone(), json!({"name": a, "url": repo}));
                format!("{a}/{chart}")
            } else {
                chart.to_string()
            };
            let ns = cx.namespace_of(infra);
            let mut rel = Map::new();
            rel.insert("name".into(), json!(infra.k8s_name));
            rel.insert("namespace".into(), json!(ns));
            rel.insert("chart".into(), json!(chart_ref));
            rel.insert("version".into(), json!(version));
            rel.insert(
                "labels".into(),
                json!({"ship.dev/kind": "infra", "ship.dev/name": infra.id.name}),
            );
            // Values go to a file: helmfile renders `helmfile.yaml` as a Go
            // template, never a plain `.yaml` values file.
            let values = super::k8s::plain_json(v.values());
            if values.as_object().is_some_and(|m| !m.is_empty()) {
                let file = format!("values/{}/{}.yaml", env.name, infra.k8s_name);
                out.add(&file, yaml::to_string(&values));
                rel.insert("values".into(), json!([file]));
            }
            let n = needs(&infra.id);
            if !n.is_empty() {
                rel.insert("needs".into(), json!(n));
            }
            releases.push(serde_json::Value::Object(rel));
        }
        let hf = env.settings().helmfile_settings();
        let flag = |v: Option<&Value>| v.and_then(Value::as_bool).unwrap_or(true);
        let mut doc = Map::new();
        let mut defaults = Map::new();
        defaults.insert(
            "wait".into(),
            json!(flag(hf.and_then(HelmfileSettings::wait))),
        );
        defaults.insert(
            "atomic".into(),
            json!(flag(hf.and_then(HelmfileSettings::atomic))),
        );
        defaults.insert(
            "timeout".into(),
            json!(timeout_seconds(hf.and_then(HelmfileSettings::timeout))),
        );
        if let Some(c) = env.settings().context_name() {
            defaults.insert("kubeContext".into(), json!(c));
        }
        doc.insert("helmDefaults".into(), serde_json::Value::Object(defaults));
        if !repositories.is_empty() {
            doc.insert(
                "repositories".into(),
                json!(repositories.into_iter().map(|(_, v)| v).collect::<Vec<_>>()),
            );
        }
        doc.insert("releases".into(), json!(releases));
        let mut doc = serde_json::Value::Object(doc);
        template_literals(&mut doc);
        let header = format!(
        "# Generated by shipc for env `{}`. Do not edit: change the .ship files and run `shipc compile`.\n# Run: helmfile -f helmfile.yaml apply\n",
        env.name
    );
        out.add("helmfile.yaml", header + &yaml::to_string(&doc));
        out
    })
}
