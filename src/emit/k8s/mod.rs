//! The ONE place Kubernetes objects are built: a service of an
//! env becomes its workload (Deployment / StatefulSet / Job / CronJob),
//! Services (ClusterIP, and `-external` LoadBalancer), ServiceAccount, PVCs
//! and route (Ingress or Gateway API HTTPRoute). Tilt manifests, Flux apps,
//! the Helm chart check and `apply` all consume these objects.
//!
//! Objects are k8s-openapi types (HTTPRoute, a CRD, is built as JSON), kept
//! typed until `emit::yaml` writes them straight to text with sorted keys.
//! Each carries the span of the declaration it came from and an annotation
//! naming `file:line`.

pub mod config;
pub mod network;
pub mod object;
pub mod patch;
pub mod pod;
pub mod rbac;
pub mod scale;
pub mod secrets;
pub mod service;
pub mod volume;

use crate::images::Images;
use crate::model::view::Project;
use crate::model::{Decl, EnvModel, Value, V};
use crate::source::{SourceMap, Span};
use k8s_openapi::api::apps::v1::{Deployment, StatefulSet};
use k8s_openapi::api::batch::v1::{CronJob, Job};
use k8s_openapi::api::core::v1::{PersistentVolumeClaim, PodSpec, Service, ServiceAccount};
use k8s_openapi::api::networking::v1::Ingress;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use std::collections::BTreeMap;

/// One Kubernetes object with where it came from.
#[derive(Debug, Clone, PartialEq)]
pub struct Object {
    /// `Deployment`, `Service`, …
    pub kind: String,
    /// `metadata.name`.
    pub name: String,
    /// The whole object (apiVersion, kind, metadata, spec).
    pub value: Body,
    /// The `.ship` span it came from.
    pub span: Span,
}

/// The typed body of an [`Object`]; serialises as the Kubernetes object
/// (apiVersion and kind included).
#[derive(Debug, Clone, PartialEq)]
pub enum Body {
    /// apps/v1 Deployment.
    Deployment(Box<Deployment>),
    /// apps/v1 StatefulSet.
    StatefulSet(Box<StatefulSet>),
    /// batch/v1 Job.
    Job(Box<Job>),
    /// batch/v1 CronJob.
    CronJob(Box<CronJob>),
    /// v1 Service.
    Service(Box<Service>),
    /// v1 ServiceAccount.
    ServiceAccount(Box<ServiceAccount>),
    /// v1 PersistentVolumeClaim.
    Claim(Box<PersistentVolumeClaim>),
    /// networking.k8s.io/v1 Ingress.
    Ingress(Box<Ingress>),
    /// autoscaling/v2 HorizontalPodAutoscaler.
    Autoscaler(Box<k8s_openapi::api::autoscaling::v2::HorizontalPodAutoscaler>),
    /// policy/v1 PodDisruptionBudget.
    DisruptionBudget(Box<k8s_openapi::api::policy::v1::PodDisruptionBudget>),
    /// v1 ConfigMap.
    ConfigMap(Box<k8s_openapi::api::core::v1::ConfigMap>),
    /// rbac.authorization.k8s.io/v1 Role.
    Role(Box<k8s_openapi::api::rbac::v1::Role>),
    /// rbac.authorization.k8s.io/v1 RoleBinding.
    RoleBinding(Box<k8s_openapi::api::rbac::v1::RoleBinding>),
    /// rbac.authorization.k8s.io/v1 ClusterRole.
    ClusterRole(Box<k8s_openapi::api::rbac::v1::ClusterRole>),
    /// rbac.authorization.k8s.io/v1 ClusterRoleBinding.
    ClusterRoleBinding(Box<k8s_openapi::api::rbac::v1::ClusterRoleBinding>),
    /// networking.k8s.io/v1 NetworkPolicy.
    NetworkPolicy(Box<k8s_openapi::api::networking::v1::NetworkPolicy>),
    /// Anything without a k8s-openapi type (the Gateway API HTTPRoute).
    Json(serde_json::Value),
}

impl serde::Serialize for Body {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Body::Deployment(o) => o.serialize(s),
            Body::StatefulSet(o) => o.serialize(s),
            Body::Job(o) => o.serialize(s),
            Body::CronJob(o) => o.serialize(s),
            Body::Service(o) => o.serialize(s),
            Body::ServiceAccount(o) => o.serialize(s),
            Body::Claim(o) => o.serialize(s),
            Body::Ingress(o) => o.serialize(s),
            Body::Autoscaler(o) => o.serialize(s),
            Body::DisruptionBudget(o) => o.serialize(s),
            Body::ConfigMap(o) => o.serialize(s),
            Body::Role(o) => o.serialize(s),
            Body::RoleBinding(o) => o.serialize(s),
            Body::ClusterRole(o) => o.serialize(s),
            Body::ClusterRoleBinding(o) => o.serialize(s),
            Body::NetworkPolicy(o) => o.serialize(s),
            Body::Json(o) => o.serialize(s),
        }
    }
}

/// A typed object from JSON: every field must be one the type has, with
/// its type.
fn typed<T: serde::de::DeserializeOwned + serde::Serialize>(
    json: serde_json::Value,
    wrap: fn(Box<T>) -> Body,
) -> Result<Body, String> {
    let t: T = serde_path_to_error::deserialize(&json).map_err(|e| {
        let path = e.path().to_string();
        format!("`{path}`: {}", e.inner())
    })?;
    let back = serde_json::to_value(&t).map_err(|e| e.to_string())?;
    let mut unknown = Vec::new();
    crate::check::objects::unknown_fields(&json, &back, "", &mut unknown);
    if let Some(f) = unknown.first() {
        return Err(format!(
            "the result has a field `{f}` Kubernetes does not know"
        ));
    }
    Ok(wrap(Box::new(t)))
}

impl Body {
    /// An object of `kind` from its JSON: the typed variant for the kinds
    /// shipc lowers (checked against the type), else JSON as it is.
    pub fn from_json(kind: &str, json: serde_json::Value) -> Result<Body, String> {
        use k8s_openapi::api as k;
        match kind {
            "Deployment" => typed::<Deployment>(json, Body::Deployment),
            "StatefulSet" => typed::<StatefulSet>(json, Body::StatefulSet),
            "Job" => typed::<Job>(json, Body::Job),
            "CronJob" => typed::<CronJob>(json, Body::CronJob),
            "Service" => typed::<Service>(json, Body::Service),
            "ServiceAccount" => typed::<ServiceAccount>(json, Body::ServiceAccount),
            "PersistentVolumeClaim" => typed::<PersistentVolumeClaim>(json, Body::Claim),
            "Ingress" => typed::<Ingress>(json, Body::Ingress),
            "HorizontalPodAutoscaler" => {
                typed::<k::autoscaling::v2::HorizontalPodAutoscaler>(json, Body::Autoscaler)
            }
            "PodDisruptionBudget" => {
                typed::<k::policy::v1::PodDisruptionBudget>(json, Body::DisruptionBudget)
            }
            "ConfigMap" => typed::<k::core::v1::ConfigMap>(json, Body::ConfigMap),
            "Role" => typed::<k::rbac::v1::Role>(json, Body::Role),
            "RoleBinding" => typed::<k::rbac::v1::RoleBinding>(json, Body::RoleBinding),
            "ClusterRole" => typed::<k::rbac::v1::ClusterRole>(json, Body::ClusterRole),
            "ClusterRoleBinding" => {
                typed::<k::rbac::v1::ClusterRoleBinding>(json, Body::ClusterRoleBinding)
            }
            "NetworkPolicy" => typed::<k::networking::v1::NetworkPolicy>(json, Body::NetworkPolicy),
            _ => Ok(Body::Json(json)),
        }
    }

    /// The pod spec of a workload.
    pub fn pod_spec_mut(&mut self) -> Option<&mut PodSpec> {
        match self {
            Body::Deployment(o) => o.spec.as_mut()?.template.spec.as_mut(),
            Body::StatefulSet(o) => o.spec.as_mut()?.template.spec.as_mut(),
            Body::Job(o) => o.spec.as_mut()?.template.spec.as_mut(),
            Body::CronJob(o) => o
                .spec
                .as_mut()?
                .job_template
                .spec
                .as_mut()?
                .template
                .spec
                .as_mut(),
            _ => None,
        }
    }
}

/// What the lowering needs besides the model.
pub struct Context<'a> {
    /// The env.
    pub env: &'a EnvModel,
    /// The project record.
    pub project: &'a Value,
    /// Sources, for the `ship.dev/source` annotation.
    pub sources: &'a SourceMap,
    /// The project root: source paths are shown relative to it.
    pub root: &'a std::path::Path,
    /// What each image site deploys, resolved before lowering.
    pub images: &'a Images,
    /// Env-wide strings every object's metadata repeats, computed once.
    namespace: String,
    project_name: String,
    /// The ownership labels every object carries (part-of, managed-by,
    /// env), and the project's own `labels`, which never replace a label
    /// shipc sets: built once, copied per object.
    env_labels: BTreeMap<String, String>,
    project_labels: Vec<(String, String)>,
    /// The env's traffic (for NetworkPolicies), computed on first use.
    flows: std::sync::OnceLock<Vec<crate::graph::traffic::Flow>>,
}

/// The annotation naming the `.ship` file and line an object came from.
pub const SOURCE_ANNOTATION: &str = "ship.dev/source";

impl<'a> Context<'a> {
    /// The lowering context of an env.
    pub fn new(
        env: &'a EnvModel,
        project: &'a Value,
        sources: &'a SourceMap,
        root: &'a std::path::Path,
        images: &'a Images,
    ) -> Context<'a> {
        let namespace = env_namespace(env);
        let project_name = project_name(project, env);
        let env_labels = BTreeMap::from([
            (
                "app.kubernetes.io/part-of".to_string(),
                project_name.clone(),
            ),
            (
                "app.kubernetes.io/managed-by".to_string(),
                "shipc".to_string(),
            ),
            ("ship.dev/env".to_string(), env.label()),
        ]);
        let project_labels = Project::of(project)
            .labels()
            .map(|extra| {
                extra
                    .entries()
                    .filter_map(|(k, v)| Some((k.to_string(), v.as_str()?.to_string())))
                    .collect()
            })
            .unwrap_or_default();
        Context {
            env,
            project,
            sources,
            root,
            images,
            namespace,
            project_name,
            env_labels,
            project_labels,
            flows: std::sync::OnceLock::new(),
        }
    }

    /// The env's traffic: who references whom, on which ports.
    pub fn flows(&self) -> &[crate::graph::traffic::Flow] {
        self.flows
            .get_or_init(|| crate::graph::traffic::flows(self.env))
    }

    /// The env's namespace.
    pub fn namespace(&self) -> String {
        self.namespace.clone()
    }

    /// The namespace a declaration deploys to: its own `namespace` (infra
    /// may name one), else the env's.
    pub fn namespace_of(&self, d: &crate::model::Decl) -> String {
        d.own_namespace().unwrap_or(&self.namespace).to_string()
    }

    /// The project name (for `app.kubernetes.io/part-of`).
    pub fn project_name(&self) -> String {
        self.project_name.clone()
    }

    /// `file:line` of a span.
    pub fn source(&self, span: Span) -> String {
        match self.sources.get(span.file) {
            Some(f) => {
                let (line, _) = f.line_col(span.start as usize);
                let path = f.path.strip_prefix(self.root).unwrap_or(&f.path);
                format!("{}:{line}", path.display())
            }
            None => String::new(),
        }
    }

    /// The selector labels of a service (name and instance).
    pub fn selector(&self, d: &Decl) -> BTreeMap<String, String> {
        let mut m = BTreeMap::new();
        m.insert("app.kubernetes.io/name".into(), base_name(d));
        m.insert("app.kubernetes.io/instance".into(), d.k8s_name.clone());
        m
    }

    /// All labels of a service's objects.
    pub fn labels(&self, d: &Decl) -> BTreeMap<String, String> {
        let mut m = self.env_labels.clone();
        m.insert("app.kubernetes.io/name".into(), base_name(d));
        m.insert("app.kubernetes.io/instance".into(), d.k8s_name.clone());
        let groups = d.groups();
        if !groups.is_empty() {
            m.insert("ship.dev/group".into(), groups.join("."));
        }
        for (k, v) in &self.project_labels {
            m.entry(k.clone()).or_insert_with(|| v.clone());
        }
        m
    }

    /// Metadata of an env-wide object (no declaration of its own): the
    /// ownership labels and the source of `span`.
    pub fn env_meta(&self, name: &str, span: Span) -> ObjectMeta {
        let labels = self.env_labels.clone();
        let mut annotations = BTreeMap::new();
        annotations.insert(SOURCE_ANNOTATION.into(), self.source(span));
        ObjectMeta {
            name: Some(name.to_string()),
            namespace: Some(self.namespace()),
            labels: Some(labels),
            annotations: Some(annotations),
            ..ObjectMeta::default()
        }
    }

    /// Metadata for an object of a service.
    pub fn meta(&self, d: &Decl, name: &str, annotations: BTreeMap<String, String>) -> ObjectMeta {
        let mut ann = annotations;
        ann.insert(SOURCE_ANNOTATION.into(), self.source(d.name_span));
        ObjectMeta {
            name: Some(name.to_string()),
            namespace: Some(self.namespace()),
            labels: Some(self.labels(d)),
            annotations: Some(ann),
            ..ObjectMeta::default()
        }
    }
}

/// The env's namespace (`cluster.namespace`, else `default`).
pub fn env_namespace(env: &EnvModel) -> String {
    env.settings()
        .namespace()
        .and_then(Value::as_str)
        .unwrap_or("default")
        .to_string()
}

/// The project's name (`app.kubernetes.io/part-of`, `ship.dev/project`):
/// `project.name`, else the env's namespace.
pub fn project_name(project: &Value, env: &EnvModel) -> String {
    Project::of(project)
        .name()
        .and_then(Value::as_str)
        .map_or_else(|| env_namespace(env), str::to_string)
}

/// The service's Kubernetes name without the env's release suffix.
pub fn base_name(d: &Decl) -> String {
    d.explicit_name()
        .and_then(Value::as_str)
        .map(str::to_string)
        .unwrap_or_else(|| crate::names::k8s_name(&d.id.name))
}

/// A string field's text (empty when unset).
pub(crate) fn text(v: Option<&Value>) -> String {
    v.and_then(Value::as_str).unwrap_or("").to_string()
}

/// A string map field of a record (`annotations`, …).
pub fn string_map(v: Option<&Value>) -> BTreeMap<String, String> {
    v.map(|m| {
        m.entries()
            .filter_map(|(k, v)| v.as_str().map(|s| (k.to_string(), s.to_string())))
            .collect()
    })
    .unwrap_or_default()
}

/// Services of an env at least this many are lowered on all cores.
pub const SPLIT_SERVICES: usize = 256;

/// Services lowered at once by [`each_service`]: what they are lowered to
/// is held until it is handed on (a few MB), never the whole env's.
pub const SERVICES_PER_ROUND: usize = 1024;

/// Every service of an env lowered by `lower` and handed to `take` in name
/// order, a round of [`SERVICES_PER_ROUND`] services at a time: a compile
/// writes what a round made while the next is lowered. A large round is
/// lowered in contiguous parts on all cores (an env compiled alone, or the
/// last of several, would otherwise keep one core); a part whose worker
/// stopped is lowered again here, so a bug fails as it would in one thread.
pub fn each_service<'e, R: Send>(
    env: &'e EnvModel,
    lower: impl Fn(&'e Decl) -> R + Sync,
    mut take: impl FnMut(&'e Decl, R),
) {
    let services: Vec<&'e Decl> = env.services.values().collect();
    for round in services.chunks(SERVICES_PER_ROUND) {
        let made = crate::par::parts(round, SPLIT_SERVICES, |d| lower(d));
        for (d, r) in round.iter().zip(made) {
            take(d, r);
        }
    }
}

/// [`each_service`] with the text of each service's objects
/// (`yaml::documents` of [`service_objects`]).
pub fn each_service_documents<'e>(
    cx: &Context<'_>,
    env: &'e EnvModel,
    f: impl FnMut(&'e Decl, String),
) {
    let lower = |d: &'e Decl| {
        let objects = service_objects(cx, d);
        crate::yaml::documents(objects.iter().map(|o| &o.value))
    };
    each_service(env, lower, f);
}

/// Every object of one service in an env, in a stable order: workload,
/// Services, ServiceAccount, RBAC, PVCs, route, autoscaler, disruption
/// budget, NetworkPolicy.
pub fn service_objects(cx: &Context<'_>, d: &Decl) -> Vec<Object> {
    let mut out = service_objects_unpatched(cx, d);
    let _ = patch::apply(&mut out, service_patches(d), cx.env.suffix());
    env_patches(cx, &mut out);
    out
}

/// A service's `patches`.
pub fn service_patches(d: &Decl) -> &[Value] {
    d.service().patches().map(Value::as_list).unwrap_or(&[])
}

/// The env's `patches`.
pub fn env_patch_list(env: &EnvModel) -> &[Value] {
    env.settings().patches().map(Value::as_list).unwrap_or(&[])
}

/// Apply the env's `patches` to some of its objects (problems are
/// reported by `check::patches`, which applies them first).
pub fn env_patches(cx: &Context<'_>, objects: &mut [Object]) {
    let _ = patch::apply(objects, env_patch_list(cx.env), cx.env.suffix());
}

/// [`service_objects`] before any patch.
pub fn service_objects_unpatched(cx: &Context<'_>, d: &Decl) -> Vec<Object> {
    let mut out = Vec::new();
    let workload = pod::workload(cx, d);
    let workload_kind = workload.kind.clone();
    out.push(workload);
    out.extend(service::services(cx, d));
    // `service_account = true`: the service's own account; a name: a shared
    // account that exists already (not created here).
    if d.service().service_account().and_then(Value::as_bool) == Some(true) {
        out.push(service::service_account(cx, d));
    }
    out.extend(rbac::objects(cx, d));
    out.extend(volume::claims(cx, d));
    out.extend(service::route(cx, d));
    out.extend(scale::autoscaler(cx, d, &workload_kind));
    out.extend(scale::disruption_budget(cx, d));
    out.extend(network::service_policy(cx, d));
    out
}

/// The objects of an env that belong to no service or config: its raw
/// `object` declarations, then the default-deny and infra NetworkPolicies
/// of `network_policy = "graph"`. Every target deploys them as one unit,
/// `ship-objects` (after the infra: a CRD's kinds need their chart).
pub fn env_objects(cx: &Context<'_>) -> Vec<Object> {
    let mut out = env_objects_unpatched(cx);
    env_patches(cx, &mut out);
    out
}

/// [`env_objects`] before the env's patches.
pub fn env_objects_unpatched(cx: &Context<'_>) -> Vec<Object> {
    let mut out: Vec<Object> = cx
        .env
        .objects
        .values()
        .map(|d| object::object(cx, d))
        .collect();
    out.extend(secrets::external_secrets(cx));
    out.extend(network::env_policies(cx));
    out
}

/// The name of the unit (Tilt resource, Helm release, Flux file) that
/// deploys an env's [`env_objects`].
pub fn env_objects_name(env: &EnvModel) -> String {
    format!("ship-objects{}", env.suffix())
}

/// A quantity as written in `.ship` (`100m`, `64Mi`).
pub fn quantity(v: &Value) -> Option<String> {
    match &v.kind {
        V::Quantity(q) => Some(q.text.clone()),
        V::Int(n) => Some(n.to_string()),
        V::Str(s) => Some(s.clone()),
        _ => None,
    }
}

/// Whole seconds of a Duration.
pub fn seconds(v: &Value) -> Option<i64> {
    match &v.kind {
        V::Quantity(q) => Some((q.amount / 1000.0).round() as i64),
        _ => None,
    }
}

/// A model value as plain JSON (chart values): quantities as written,
/// unset fields dropped.
pub fn plain_json(v: Option<&Value>) -> serde_json::Value {
    let Some(v) = v else {
        return serde_json::Value::Object(serde_json::Map::new());
    };
    match &v.kind {
        V::Str(s) => serde_json::Value::String(s.clone()),
        V::Int(n) => serde_json::Value::from(*n),
        V::Bool(b) => serde_json::Value::Bool(*b),
        V::Number(t) => serde_json::Value::String(t.clone()),
        V::Quantity(q) => serde_json::Value::String(q.text.clone()),
        V::List(items) => {
            serde_json::Value::Array(items.iter().map(|i| plain_json(Some(i))).collect())
        }
        V::Record(m) => serde_json::Value::Object(
            m.iter()
                .filter(|(_, x)| !matches!(x.kind, V::None))
                .map(|(k, x)| (k.to_string(), plain_json(Some(x))))
                .collect(),
        ),
        V::Addr(a) => serde_json::Value::String(a.host_port()),
        _ => serde_json::Value::Null,
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    /// An env large enough to be lowered in parts gives, in order, the text
    /// each service gives alone.
    #[test]
    fn services_lowered_in_parts_are_the_services_lowered_one_by_one() {
        let mut host = crate::load::MemoryHost::new();
        for (name, text) in crate::synth::project_files(SPLIT_SERVICES + 44) {
            host.add(format!("ship/{name}"), text);
        }
        let mut d = crate::Diagnostics::new();
        let a = crate::analyze(&host, std::path::Path::new("ship"), None, &mut d).unwrap();
        assert!(!d.has_errors());
        for env in &a.checked.envs {
            let images = Images::dev(env);
            let cx = Context::new(
                env,
                &a.checked.project,
                &a.loaded.sources,
                &a.loaded.root,
                &images,
            );
            let mut parts = Vec::new();
            each_service_documents(&cx, env, |d, text| parts.push((d, text)));
            assert_eq!(parts.len(), env.services.len());
            for ((d, text), svc) in parts.iter().zip(env.services.values()) {
                assert_eq!(d.id, svc.id);
                let alone = service_objects(&cx, svc);
                assert_eq!(
                    *text,
                    crate::yaml::documents(alone.iter().map(|o| &o.value))
                );
            }
        }
    }
}
