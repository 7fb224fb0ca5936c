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
    emit_into(env, graph, input, OutputTree::new())
}

/// [`emit`] into `out` (a spilling tree, when compiling).
pub fn emit_into(
    env: &EnvModel,
    graph: &DepGraph,
    input: &PinnedInput<'_>,
    mut out: OutputTree,
) -> (OutputTree, Vec<Diagnostic>) {
    with_pinned(env, input, |cx, images| {
        for (name, text) in CHART {
            out.add(format!("charts/ship-app/{name}"), *text);
        }
        let mut releases: Vec<serde_json::Value> = Vec::new();
        let mut repositories: Map<String, serde_json::Value> = Map::new();
        let with_needs = |mut rel: Map<String, serde_json::Value>, id| {
            let n = needs(env, graph, cx, id);
            if !n.is_empty() {
                rel.insert("needs".into(), json!(n));
            }
            serde_json::Value::Object(rel)
        };
        // Services are lowered on all cores in contiguous parts (each to its
        // release and its values files), then joined in name order, a
        // round at a time (see `k8s::each_service_documents`).
        let services: Vec<&crate::model::Decl> = env.services.values().collect();
        for round in services.chunks(k8s::SERVICES_PER_ROUND) {
            let made = crate::par::parts(round, k8s::SPLIT_SERVICES, |svc| {
                let mut files = OutputTree::new();
                let rel = service_release(env, cx, images, svc, &mut files);
                (rel, files)
            });
            for (svc, (rel, files)) in round.iter().zip(made) {
                for (path, text) in files.files {
                    out.add(path, text);
                }
                releases.push(with_needs(rel, &svc.id));
            }
        }
        // A config is a release of the built-in chart holding its ConfigMap.
        for c in env.configs.values() {
            releases.push(with_needs(config_release(env, cx, c, &mut out), &c.id));
        }
        if let Some(rel) = objects_release(env, cx, &mut out) {
            releases.push(serde_json::Value::Object(rel));
        }
        for infra in env.infras.values() {
            let rel = infra_release(env, cx, infra, &mut repositories, &mut out);
            releases.push(with_needs(rel, &infra.id));
        }
        let mut doc = Map::new();
        doc.insert(
            "helmDefaults".into(),
            serde_json::Value::Object(helm_defaults(env)),
        );
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

/// The releases a declaration's release waits for (`namespace/name`): the
/// graph's dependencies that have releases.
fn needs(
    env: &EnvModel,
    graph: &DepGraph,
    cx: &k8s::Context<'_>,
    id: &crate::model::DeclRef,
) -> Vec<String> {
    let namespace = cx.namespace();
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
            DeclKind::Image | DeclKind::Env | DeclKind::Object => None,
        }
    };
    let mut n: Vec<String> = graph
        .deps(id)
        .into_iter()
        .filter_map(|d| release_name(d.kind, &d.name))
        .map(|(r, ns)| format!("{ns}/{r}"))
        .collect();
    n.sort();
    n.dedup();
    n
}

/// A service's release of the built-in chart, and its values files.
fn service_release(
    env: &EnvModel,
    cx: &k8s::Context<'_>,
    images: &crate::images::Images,
    svc: &crate::model::Decl,
    out: &mut OutputTree,
) -> Map<String, serde_json::Value> {
    let namespace = cx.namespace();
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
    rel
}

/// A config's release of the built-in chart, and its values file.
fn config_release(
    env: &EnvModel,
    cx: &k8s::Context<'_>,
    c: &crate::model::Decl,
    out: &mut OutputTree,
) -> Map<String, serde_json::Value> {
    let namespace = cx.namespace();
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
    rel
}

/// The env-wide objects (raw `object` declarations, and with
/// `network_policy = "graph"` the NetworkPolicies) as a release of the
/// built-in chart, `ship-objects`, after every infra release (a CRD's
/// kinds need their chart); none when there are none.
fn objects_release(
    env: &EnvModel,
    cx: &k8s::Context<'_>,
    out: &mut OutputTree,
) -> Option<Map<String, serde_json::Value>> {
    let objects: Vec<k8s::Body> = k8s::env_objects(cx).into_iter().map(|o| o.value).collect();
    if objects.is_empty() {
        return None;
    }
    let name = k8s::env_objects_name(env);
    let values = ChartValues {
        image: None,
        objects: &objects,
    };
    let file = format!("values/{}/{name}.yaml", env.name);
    out.add(&file, yaml::to_string(&values));
    let mut rel = Map::new();
    rel.insert("name".into(), json!(name));
    rel.insert("namespace".into(), json!(cx.namespace()));
    rel.insert("chart".into(), json!("./charts/ship-app"));
    rel.insert("labels".into(), json!({"ship.dev/kind": "objects"}));
    rel.insert("values".into(), json!([file]));
    let needs: Vec<String> = env
        .infras
        .values()
        .map(|i| format!("{}/{}", cx.namespace_of(i), i.k8s_name))
        .collect();
    if !needs.is_empty() {
        rel.insert("needs".into(), json!(needs));
    }
    Some(rel)
}

/// An infra's release at its exact chart version (its repository added to
/// `repositories`), and its values file.
fn infra_release(
    env: &EnvModel,
    cx: &k8s::Context<'_>,
    infra: &crate::model::Decl,
    repositories: &mut Map<String, serde_json::Value>,
    out: &mut OutputTree,
) -> Map<String, serde_json::Value> {
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
    rel
}

/// `helmDefaults`: the env's `helmfile` settings and kube context.
fn helm_defaults(env: &EnvModel) -> Map<String, serde_json::Value> {
    let hf = env.settings().helmfile_settings();
    let flag = |v: Option<&Value>| v.and_then(Value::as_bool).unwrap_or(true);
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
    defaults
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    /// An env large enough to be lowered in parts gives each service's
    /// release and values files as the service gives them alone, releases
    /// in name order.
    #[test]
    fn services_in_parts_are_the_services_one_by_one() {
        let mut host = crate::load::MemoryHost::new();
        for (name, text) in crate::synth::project_files(k8s::SPLIT_SERVICES + 44) {
            host.add(format!("ship/{name}"), text);
        }
        let mut d = crate::Diagnostics::new();
        let a = crate::analyze(&host, std::path::Path::new("ship"), None, &mut d).unwrap();
        assert!(!d.has_errors());
        let lock = crate::lock::Lockfile::default();
        let overrides = crate::images::Overrides::new();
        let input = PinnedInput {
            project: &a.checked.project,
            sources: &a.loaded.sources,
            root: &a.loaded.root,
            lock: &lock,
            overrides: &overrides,
            lock_command: "shipc lock".into(),
        };
        let mut seen = 0;
        for (env, graph) in a.checked.envs.iter().zip(&a.graphs) {
            if env.env_kind() != crate::model::EnvKind::Helmfile {
                continue;
            }
            seen += 1;
            let (tree, _) = emit(env, graph, &input);
            let helmfile = String::from_utf8(tree.files["helmfile.yaml"].clone()).unwrap();
            let mut at = 0;
            with_pinned(env, &input, |cx, images| {
                for svc in env.services.values() {
                    let mut alone = OutputTree::new();
                    service_release(env, cx, images, svc, &mut alone);
                    assert_eq!(alone.files.len(), 2);
                    for (path, bytes) in &alone.files {
                        assert_eq!(tree.files.get(path), Some(bytes), "{path}");
                    }
                    let name = format!("\n  name: {}\n", svc.k8s_name);
                    at += helmfile[at..].find(&name).unwrap();
                }
            });
        }
        assert_eq!(seen, 1);
    }
}
