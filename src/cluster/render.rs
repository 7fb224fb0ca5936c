//! An env as the objects `apply` writes: the one Kubernetes lowering
//! (`emit::k8s`, the same objects the built-in chart renders) with images
//! pinned by digest exactly as the helmfile target pins them (P002 when a
//! pin is missing), the ownership labels added, and each object placed in
//! a wave: 0 = the env's Namespaces, then the dependency graph's waves.

use super::{Json, Key, ENV_LABEL, PROJECT_LABEL};
use crate::diag::Diagnostic;
use crate::emit::k8s;
use crate::emit::{with_pinned, PinnedInput};
use crate::graph::DepGraph;
use crate::model::{EnvModel, Value};
use crate::source::Span;
use crate::syntax::ast::DeclKind;
use std::collections::BTreeMap;

/// One object to apply.
#[derive(Debug, Clone, PartialEq)]
pub struct Desired {
    /// Which object.
    pub key: Key,
    /// The whole object, ownership labels included.
    pub object: Json,
    /// The `.ship` span it came from.
    pub span: Span,
    /// 0 = Namespaces, then 1 + the graph wave of its declaration.
    pub wave: usize,
}

/// An infra release: not applied by shipc (its chart is Helm's), only
/// checked for presence, or installed with `helm` under `--with-infra`.
#[derive(Debug, Clone, PartialEq)]
pub struct InfraRelease {
    /// The declaration name.
    pub name: String,
    /// The Helm release name.
    pub release: String,
    /// Its namespace.
    pub namespace: String,
    /// `chart` as written (`oci://…`, or a name in `repo`).
    pub chart: String,
    /// The exact version.
    pub version: String,
    /// The Helm repository URL, for a chart that is not `oci://`.
    pub repo: Option<String>,
    /// Values (plain JSON).
    pub values: Json,
    /// The object whose presence means the release is there (`health`,
    /// else the Service named by `host`).
    pub health: Result<Key, String>,
    /// The declaration's span.
    pub span: Span,
}

/// Everything `plan` and `apply` need of an env.
#[derive(Debug, Clone, PartialEq)]
pub struct Rendered {
    /// `ship.dev/project`.
    pub project: String,
    /// `ship.dev/env`.
    pub env: String,
    /// The env's namespace (records live there).
    pub namespace: String,
    /// The env declaration's span.
    pub span: Span,
    /// The objects, in apply order (wave, then key).
    pub objects: Vec<Desired>,
    /// Image references by `<object>/<container>`.
    pub images: BTreeMap<String, String>,
    /// Infra releases.
    pub infra: Vec<InfraRelease>,
}

impl Rendered {
    /// The label selector of objects this env owns.
    pub fn selector(&self) -> String {
        format!("{PROJECT_LABEL}={},{ENV_LABEL}={}", self.project, self.env)
    }
}

/// The (container, image) pairs of a workload's pod template (init
/// containers included).
pub fn pod_images(v: &Json) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for p in [
        "/spec/template/spec",
        "/spec/jobTemplate/spec/template/spec",
    ] {
        for list in ["containers", "initContainers"] {
            let cs = v.pointer(&format!("{p}/{list}")).and_then(Json::as_array);
            for c in cs.into_iter().flatten() {
                let n = c.get("name").and_then(Json::as_str).unwrap_or("");
                if let Some(i) = c.get("image").and_then(Json::as_str) {
                    out.push((n.to_string(), i.to_string()));
                }
            }
        }
    }
    out
}

/// What `kubectl get TYPE/NAME` types mean, for infra `health`.
fn health_key(target: &str, namespace: &str) -> Result<Key, String> {
    let (ty, name) = target
        .split_once('/')
        .ok_or_else(|| format!("`{target}` is not TYPE/NAME"))?;
    let (api_version, kind, namespaced) = match ty.to_ascii_lowercase().as_str() {
        "service" | "svc" | "services" => ("v1", "Service", true),
        "statefulset" | "sts" | "statefulsets" => ("apps/v1", "StatefulSet", true),
        "deployment" | "deploy" | "deployments" => ("apps/v1", "Deployment", true),
        "daemonset" | "ds" | "daemonsets" => ("apps/v1", "DaemonSet", true),
        "secret" | "secrets" => ("v1", "Secret", true),
        "configmap" | "cm" | "configmaps" => ("v1", "ConfigMap", true),
        "job" | "jobs" => ("batch/v1", "Job", true),
        "persistentvolumeclaim" | "pvc" => ("v1", "PersistentVolumeClaim", true),
        "pod" | "pods" | "po" => ("v1", "Pod", true),
        other => return Err(format!("shipc cannot check a `{other}` (use service/, statefulset/, deployment/, daemonset/, secret/, configmap/, job/, pvc/ or pod/)")),
    };
    Ok(Key::new(
        api_version,
        kind,
        namespaced.then_some(namespace),
        name,
    ))
}

/// Render `env` for the cluster. P002 problems (unpinned images) come back
/// beside the result; the caller refuses to apply when there are any.
pub fn render(
    env: &EnvModel,
    graph: &DepGraph,
    input: &PinnedInput<'_>,
) -> (Rendered, Vec<Diagnostic>) {
    with_pinned(env, input, |cx, _| {
        let project = cx.project_name();
        let env_label = env.label();
        let namespace = cx.namespace();
        let wave_of = |kind: DeclKind, name: &str| -> usize {
            let id = crate::model::DeclRef {
                kind,
                name: name.to_string(),
            };
            graph
                .index(&id)
                .and_then(|i| graph.waves.iter().position(|w| w.contains(&i)))
                .map_or(1, |w| w + 1)
        };
        let own = |mut v: Json| -> Json {
            if let Some(meta) = v.get_mut("metadata").and_then(Json::as_object_mut) {
                let labels = meta
                    .entry("labels")
                    .or_insert_with(|| Json::Object(Default::default()));
                if let Some(l) = labels.as_object_mut() {
                    l.insert(PROJECT_LABEL.into(), Json::from(project.clone()));
                    l.insert(ENV_LABEL.into(), Json::from(env_label.clone()));
                }
            }
            v
        };
        let mut objects: Vec<Desired> = Vec::new();
        let mut namespaces: Vec<String> = vec![namespace.clone()];
        let mut images = BTreeMap::new();
        let configs = env.configs.values().map(|c| {
            (
                wave_of(DeclKind::Config, &c.id.name),
                vec![k8s::config::config_map(cx, c)],
            )
        });
        let services = env.services.values().map(|svc| {
            (
                wave_of(DeclKind::Service, &svc.id.name),
                k8s::service_objects(cx, svc),
            )
        });
        let network = std::iter::once((1, k8s::env_objects(cx)));
        for (wave, objs) in network.chain(configs).chain(services).collect::<Vec<_>>() {
            for o in objs {
                let Ok(v) = serde_json::to_value(&o.value) else {
                    continue;
                };
                let v = own(v);
                let Some(key) = Key::of(&v) else { continue };
                for (n, i) in pod_images(&v) {
                    images.insert(format!("{}/{n}", key.name), i);
                }
                if let Some(ns) = &key.namespace {
                    namespaces.push(ns.clone());
                }
                objects.push(Desired {
                    key,
                    object: v,
                    span: o.span,
                    wave,
                });
            }
        }
        namespaces.sort();
        namespaces.dedup();
        for ns in namespaces {
            let v = own(serde_json::json!({
                "apiVersion": "v1",
                "kind": "Namespace",
                "metadata": {"name": ns},
            }));
            objects.push(Desired {
                key: Key::new("v1", "Namespace", None, &ns),
                object: v,
                span: env.span,
                wave: 0,
            });
        }
        objects.sort_by(|a, b| a.wave.cmp(&b.wave).then_with(|| a.key.cmp(&b.key)));
        let infra = env
            .infras
            .values()
            .map(|i| {
                let v = i.infra();
                let s = |x: Option<&Value>| x.and_then(Value::as_str).map(str::to_string);
                let ns = cx.namespace_of(i);
                let target = s(v.health()).unwrap_or_else(|| {
                    let host = s(v.host()).unwrap_or_else(|| i.k8s_name.clone());
                    format!("service/{}", host.split('.').next().unwrap_or(&host))
                });
                InfraRelease {
                    name: i.id.name.clone(),
                    release: i.k8s_name.clone(),
                    namespace: ns.clone(),
                    chart: s(v.chart()).unwrap_or_default(),
                    version: s(v.version()).unwrap_or_default(),
                    repo: s(v.repo()),
                    values: k8s::plain_json(v.values()),
                    health: health_key(&target, &ns),
                    span: i.name_span,
                }
            })
            .collect();
        Rendered {
            project,
            env: env_label,
            namespace,
            span: env.span,
            objects,
            images,
            infra,
        }
    })
}
