//! `object` declarations (E2044): raw Kubernetes objects.
//!
//! An object is written inline (`api_version`, `kind`, `metadata`, `spec`,
//! `fields`) or read from a one-document YAML file of the project (`file =
//! file("k8s/x.yaml")`, read by [`read_files`] before these checks). A
//! built-in kind (an API group Kubernetes 1.33 serves) is checked against
//! k8s-openapi's type: it must exist in that group and version, every field
//! must be one the type has, with the right type, and required fields must
//! be there — each error at the `.ship` span of the value. Kinds of any
//! other group (CRDs) pass as data. shipc never writes a Secret: a value in
//! the source is a leak.

use crate::diag::{suggest, Code, Diagnostic, Diagnostics};
use crate::load::Host;
use crate::model::view::FileText;
use crate::model::{Decl, EnvModel, Value, V};
use crate::source::Span;
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value as Json;
use std::collections::BTreeMap;
use std::path::Path;

/// A file an object is read from is at most this large.
const MAX_OBJECT_FILE: usize = 1024 * 1024;

/// What a checker of a built-in kind found wrong: the path (`spec.replicas`)
/// and the message.
type Problem = (String, String);

/// A built-in kind: apiVersion, kind, whether namespaced, and its check.
pub struct Kind {
    /// `apps/v1`.
    pub api_version: &'static str,
    /// `Deployment`.
    pub kind: &'static str,
    /// Namespaced (else cluster-scoped).
    pub namespaced: bool,
    check: fn(&Json) -> Result<Json, Problem>,
}

/// Deserialize as the typed object and serialise it back: what does not
/// survive was unknown to the type.
fn round_trip<T: DeserializeOwned + Serialize>(v: &Json) -> Result<Json, Problem> {
    let typed: T = serde_path_to_error::deserialize(v).map_err(|e| {
        let path = e.path().to_string();
        (
            if path == "." { String::new() } else { path },
            e.inner().to_string(),
        )
    })?;
    serde_json::to_value(&typed).map_err(|e| (String::new(), e.to_string()))
}

macro_rules! kinds {
    ($($av:literal $kind:literal $ns:literal $ty:ty;)*) => {
        &[$(Kind { api_version: $av, kind: $kind, namespaced: $ns, check: round_trip::<$ty> },)*]
    };
}

use k8s_openapi::api as k;

/// The built-in kinds shipc checks (Kubernetes 1.33).
pub const KINDS: &[Kind] = kinds! {
    "v1" "ConfigMap" true k::core::v1::ConfigMap;
    "v1" "Endpoints" true k::core::v1::Endpoints;
    "v1" "Event" true k::core::v1::Event;
    "v1" "LimitRange" true k::core::v1::LimitRange;
    "v1" "Namespace" false k::core::v1::Namespace;
    "v1" "PersistentVolume" false k::core::v1::PersistentVolume;
    "v1" "PersistentVolumeClaim" true k::core::v1::PersistentVolumeClaim;
    "v1" "Pod" true k::core::v1::Pod;
    "v1" "PodTemplate" true k::core::v1::PodTemplate;
    "v1" "ReplicationController" true k::core::v1::ReplicationController;
    "v1" "ResourceQuota" true k::core::v1::ResourceQuota;
    "v1" "Secret" true k::core::v1::Secret;
    "v1" "Service" true k::core::v1::Service;
    "v1" "ServiceAccount" true k::core::v1::ServiceAccount;
    "apps/v1" "ControllerRevision" true k::apps::v1::ControllerRevision;
    "apps/v1" "DaemonSet" true k::apps::v1::DaemonSet;
    "apps/v1" "Deployment" true k::apps::v1::Deployment;
    "apps/v1" "ReplicaSet" true k::apps::v1::ReplicaSet;
    "apps/v1" "StatefulSet" true k::apps::v1::StatefulSet;
    "batch/v1" "CronJob" true k::batch::v1::CronJob;
    "batch/v1" "Job" true k::batch::v1::Job;
    "autoscaling/v1" "HorizontalPodAutoscaler" true k::autoscaling::v1::HorizontalPodAutoscaler;
    "autoscaling/v2" "HorizontalPodAutoscaler" true k::autoscaling::v2::HorizontalPodAutoscaler;
    "policy/v1" "PodDisruptionBudget" true k::policy::v1::PodDisruptionBudget;
    "networking.k8s.io/v1" "Ingress" true k::networking::v1::Ingress;
    "networking.k8s.io/v1" "IngressClass" false k::networking::v1::IngressClass;
    "networking.k8s.io/v1" "NetworkPolicy" true k::networking::v1::NetworkPolicy;
    "networking.k8s.io/v1" "IPAddress" false k::networking::v1::IPAddress;
    "networking.k8s.io/v1" "ServiceCIDR" false k::networking::v1::ServiceCIDR;
    "rbac.authorization.k8s.io/v1" "ClusterRole" false k::rbac::v1::ClusterRole;
    "rbac.authorization.k8s.io/v1" "ClusterRoleBinding" false k::rbac::v1::ClusterRoleBinding;
    "rbac.authorization.k8s.io/v1" "Role" true k::rbac::v1::Role;
    "rbac.authorization.k8s.io/v1" "RoleBinding" true k::rbac::v1::RoleBinding;
    "scheduling.k8s.io/v1" "PriorityClass" false k::scheduling::v1::PriorityClass;
    "storage.k8s.io/v1" "CSIDriver" false k::storage::v1::CSIDriver;
    "storage.k8s.io/v1" "CSINode" false k::storage::v1::CSINode;
    "storage.k8s.io/v1" "CSIStorageCapacity" true k::storage::v1::CSIStorageCapacity;
    "storage.k8s.io/v1" "StorageClass" false k::storage::v1::StorageClass;
    "storage.k8s.io/v1" "VolumeAttachment" false k::storage::v1::VolumeAttachment;
    "coordination.k8s.io/v1" "Lease" true k::coordination::v1::Lease;
    "discovery.k8s.io/v1" "EndpointSlice" true k::discovery::v1::EndpointSlice;
    "events.k8s.io/v1" "Event" true k::events::v1::Event;
    "admissionregistration.k8s.io/v1" "MutatingWebhookConfiguration" false k::admissionregistration::v1::MutatingWebhookConfiguration;
    "admissionregistration.k8s.io/v1" "ValidatingWebhookConfiguration" false k::admissionregistration::v1::ValidatingWebhookConfiguration;
    "admissionregistration.k8s.io/v1" "ValidatingAdmissionPolicy" false k::admissionregistration::v1::ValidatingAdmissionPolicy;
    "admissionregistration.k8s.io/v1" "ValidatingAdmissionPolicyBinding" false k::admissionregistration::v1::ValidatingAdmissionPolicyBinding;
    "apiextensions.k8s.io/v1" "CustomResourceDefinition" false k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
    "apiregistration.k8s.io/v1" "APIService" false k8s_openapi::kube_aggregator::pkg::apis::apiregistration::v1::APIService;
    "node.k8s.io/v1" "RuntimeClass" false k::node::v1::RuntimeClass;
    "certificates.k8s.io/v1" "CertificateSigningRequest" false k::certificates::v1::CertificateSigningRequest;
    "flowcontrol.apiserver.k8s.io/v1" "FlowSchema" false k::flowcontrol::v1::FlowSchema;
    "flowcontrol.apiserver.k8s.io/v1" "PriorityLevelConfiguration" false k::flowcontrol::v1::PriorityLevelConfiguration;
};

/// The built-in kind of an apiVersion and kind, if it is one.
pub fn builtin(api_version: &str, kind: &str) -> Option<&'static Kind> {
    KINDS
        .iter()
        .find(|k| k.api_version == api_version && k.kind == kind)
}

/// The API group of an apiVersion (`""` for `v1`).
fn group_of(api_version: &str) -> &str {
    api_version.rsplit_once('/').map_or("", |(g, _)| g)
}

/// The object of a declaration as JSON, and the `.ship` span of each value
/// by path (`spec.template.spec.containers[0].image`; `""` the object).
pub struct Built {
    /// The object (apiVersion, kind, metadata, spec and the other fields).
    pub json: Json,
    /// Spans by path.
    pub spans: BTreeMap<String, Span>,
}

impl Built {
    /// The span of a path, or of its nearest ancestor that has one.
    pub fn span(&self, path: &str, fallback: Span) -> Span {
        let mut p = path.to_string();
        loop {
            if let Some(s) = self.spans.get(&p) {
                return *s;
            }
            match p.rfind(['.', '[']) {
                Some(i) => p.truncate(i),
                None => return self.spans.get("").copied().unwrap_or(fallback),
            }
        }
    }
}

fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_string()
    } else {
        format!("{path}.{key}")
    }
}

/// A model value as an object's JSON: numbers stay numbers (a `0.5` with
/// no unit), quantities and durations are their text, addresses
/// `host:port`, unset fields dropped.
pub fn to_json(v: &Value, path: &str, spans: &mut BTreeMap<String, Span>) -> Option<Json> {
    spans.insert(path.to_string(), v.span);
    Some(match &v.kind {
        V::Str(s) => Json::String(s.clone()),
        V::Int(n) => Json::from(*n),
        V::Bool(b) => Json::Bool(*b),
        V::Number(t) => match t.parse::<f64>().ok().and_then(serde_json::Number::from_f64) {
            Some(n) if !t.ends_with('.') => Json::Number(n),
            _ => Json::String(t.clone()),
        },
        V::Quantity(q) => Json::String(q.text.clone()),
        V::List(items) => Json::Array(
            items
                .iter()
                .enumerate()
                .filter_map(|(i, x)| to_json(x, &format!("{path}[{i}]"), spans))
                .collect(),
        ),
        V::Record(m) => Json::Object(
            m.iter()
                .filter_map(|(k, x)| to_json(x, &join(path, k), spans).map(|j| (k.to_string(), j)))
                .collect(),
        ),
        V::Addr(a) => Json::String(a.host_port()),
        _ => return None,
    })
}

/// The object a declaration describes, before shipc's metadata: the read
/// file (a record in place of `file(…)`), or the inline fields.
pub fn build(d: &Decl) -> Built {
    let o = d.object();
    let mut spans = BTreeMap::new();
    spans.insert(String::new(), d.name_span);
    if let Some(f) = o.file().filter(|f| matches!(f.kind, V::Record(_))) {
        let json = to_json(f, "", &mut spans).unwrap_or(Json::Null);
        // Inside a file nothing has a span of its own: every path points
        // at `file(…)`.
        for s in spans.values_mut() {
            *s = f.span;
        }
        return Built { json, spans };
    }
    let mut m = serde_json::Map::new();
    if let Some(v) = o.fields() {
        if let Some(Json::Object(extra)) = to_json(v, "", &mut spans) {
            m.extend(extra);
        }
    }
    for (key, v) in [
        ("apiVersion", o.api_version()),
        ("kind", o.kind()),
        ("metadata", o.metadata()),
        ("spec", o.spec()),
    ] {
        if let Some(j) = v.and_then(|v| to_json(v, key, &mut spans)) {
            m.insert(key.to_string(), j);
        }
    }
    spans.insert(String::new(), d.name_span);
    Built {
        json: Json::Object(m),
        spans,
    }
}

fn err(diags: &mut Diagnostics, span: Span, msg: String, label: &str, help: String) {
    diags.push(
        Diagnostic::new(Code::E2044, span, msg)
            .label(label)
            .help(help),
    );
}

/// Whether a record field is set to something the user wrote (an empty
/// map default counts as unset).
fn written(v: Option<&Value>) -> bool {
    match v {
        None => false,
        Some(v) => match &v.kind {
            V::Record(m) => !m.is_empty(),
            V::None => false,
            _ => true,
        },
    }
}

/// Static checks of one object (in an env, after its file is read; or in
/// none).
pub fn check(d: &Decl, diags: &mut Diagnostics) {
    let o = d.object();
    let file = o.file();
    let inline = [o.api_version(), o.kind(), o.spec()]
        .into_iter()
        .any(|v| v.is_some())
        || written(o.metadata())
        || written(o.fields());
    if let Some(f) = file {
        if inline {
            err(
                diags,
                f.span,
                format!("object `{}` is both a file and inline fields", d.id.name),
                "read from a file",
                "write the object in the file, or inline (`api_version`, `kind`, `metadata`, `spec`, `fields`), not both".into(),
            );
            return;
        }
        if !matches!(f.kind, V::Record(_)) {
            // Not read yet (no env), or unreadable (reported).
            return;
        }
    } else {
        for (field, v) in [("api_version", o.api_version()), ("kind", o.kind())] {
            if v.is_none() {
                err(
                    diags,
                    d.name_span,
                    format!("object `{}` has no `{field}`", d.id.name),
                    "incomplete object",
                    "an object needs `api_version` and `kind` (`api_version = \"monitoring.coreos.com/v1\"`, `kind = \"ServiceMonitor\"`), or `file = file(\"k8s/x.yaml\")`".into(),
                );
                return;
            }
        }
    }
    let built = build(d);
    validate(d, &built, diags);
}

fn validate(d: &Decl, b: &Built, diags: &mut Diagnostics) {
    let span_of = |p: &str| b.span(p, d.name_span);
    let s = |p: &str| b.json.pointer(p).and_then(Json::as_str);
    let (Some(api_version), Some(kind)) = (s("/apiVersion"), s("/kind")) else {
        err(
            diags,
            span_of(""),
            format!("object `{}` has no apiVersion or kind", d.id.name),
            "incomplete object",
            "a Kubernetes object names its `apiVersion` and `kind`".into(),
        );
        return;
    };
    if for_each_key_problem(&b.json, "", &mut |path, problem| {
        err(
            diags,
            span_of(path),
            problem,
            "invalid key",
            "Kubernetes field names are plain identifiers; labels and annotations may hold any key"
                .into(),
        )
    }) {
        return;
    }
    let group = group_of(api_version);
    if group.is_empty() && api_version != "v1" || api_version.split('/').count() > 2 {
        err(
            diags,
            span_of("apiVersion"),
            format!("`{api_version}` is not an apiVersion"),
            "invalid apiVersion",
            "write `v1` for the core group, or `GROUP/VERSION` (`apps/v1`, `monitoring.coreos.com/v1`)".into(),
        );
        return;
    }
    if kind == "Secret" && api_version == "v1" {
        err(
            diags,
            span_of("kind"),
            "shipc does not write Secrets: a secret's value does not belong in the source".into(),
            "a Secret",
            "reference a Secret made elsewhere with `secret(name, key)` or `secret_files(name, mount)`".into(),
        );
        return;
    }
    let builtin_group = group.is_empty() || super::rbac::builtin_group(group);
    match builtin(api_version, kind) {
        Some(k) => {
            match (k.check)(&b.json) {
                Err((path, msg)) => {
                    let shown = if path.is_empty() {
                        kind.to_string()
                    } else {
                        format!("`{path}`")
                    };
                    err(
                        diags,
                        span_of(&path),
                        format!("{kind} {api_version}: {shown}: {msg}"),
                        "not what Kubernetes accepts",
                        format!(
                            "`kubectl explain {}` shows the fields",
                            explain_path(kind, &path)
                        ),
                    );
                }
                Ok(back) => {
                    let mut unknown = Vec::new();
                    unknown_fields(&b.json, &back, "", &mut unknown);
                    for path in unknown {
                        let (parent, field) = path.rsplit_once('.').unwrap_or(("", &path));
                        let siblings: Vec<String> = b
                            .json
                            .pointer(&pointer(parent))
                            .map(|_| known_fields(&back, parent))
                            .unwrap_or_default();
                        let hint = suggest::did_you_mean(field, &siblings)
                            .map(|h| format!("{h} "))
                            .unwrap_or_default();
                        err(
                            diags,
                            span_of(&path),
                            format!("{kind} {api_version} has no field `{path}`"),
                            "unknown field",
                            format!(
                                "{hint}`kubectl explain {}` lists the fields",
                                explain_path(kind, parent)
                            ),
                        );
                    }
                }
            }
            if k.namespaced && d.object().cluster().and_then(Value::as_bool) == Some(true) {
                err(
                    diags,
                    d.object().cluster().map_or(d.name_span, |v| v.span),
                    format!("{kind} is namespaced"),
                    "not cluster-scoped",
                    "remove `cluster = true`: built-in kinds know their scope".into(),
                );
            }
            if !k.namespaced {
                if let Some(ns) = d.object().namespace() {
                    err(
                        diags,
                        ns.span,
                        format!("{kind} is cluster-scoped: it has no namespace"),
                        "a namespace on a cluster-scoped kind",
                        "remove `namespace`".into(),
                    );
                }
            }
        }
        None if builtin_group => {
            let known: Vec<String> = KINDS
                .iter()
                .filter(|k| group_of(k.api_version) == group)
                .map(|k| format!("{} {}", k.api_version, k.kind))
                .collect();
            let same_kind: Vec<&str> = KINDS
                .iter()
                .filter(|k| k.kind == kind)
                .map(|k| k.api_version)
                .collect();
            let help = if !same_kind.is_empty() {
                format!(
                    "Kubernetes 1.33 serves {kind} as `{}`",
                    same_kind.join("` or `")
                )
            } else {
                let kinds: Vec<&str> = KINDS
                    .iter()
                    .filter(|k| group_of(k.api_version) == group)
                    .map(|k| k.kind)
                    .collect();
                match suggest::did_you_mean(kind, &kinds) {
                    Some(h) => h,
                    None => format!("kinds shipc knows in this group: {}", known.join(", ")),
                }
            };
            err(
                diags,
                span_of("kind"),
                format!("Kubernetes 1.33 serves no `{kind}` in `{api_version}`"),
                "unknown built-in kind",
                help,
            );
        }
        None => {}
    }
    name_check(d, b, diags);
}

/// The object's name: valid as a DNS subdomain (what most kinds need).
fn name_check(d: &Decl, b: &Built, diags: &mut Diagnostics) {
    let name = object_name(d, b);
    if crate::names::dns_subdomain(&name).is_err() {
        let span = d
            .object()
            .name()
            .map(|v| v.span)
            .unwrap_or_else(|| b.span("metadata.name", d.name_span));
        err(
            diags,
            span,
            format!("`{name}` is not a Kubernetes object name"),
            "invalid name",
            "names are lower-case letters, digits, `-` and `.`, at most 253 characters".into(),
        );
    }
}

/// The name an object gets: `name`, else `metadata.name`, else the
/// declaration's k8s name; the env's release suffix added to the first two
/// as it is to the last.
pub fn object_name(d: &Decl, b: &Built) -> String {
    if d.object().name().is_some() {
        return d.k8s_name.clone();
    }
    let base = crate::names::k8s_name(&d.id.name);
    let suffix = d.k8s_name.strip_prefix(&base).unwrap_or("");
    match b.json.pointer("/metadata/name").and_then(Json::as_str) {
        Some(n) => format!("{n}{suffix}"),
        None => d.k8s_name.clone(),
    }
}

/// `kind.path` for `kubectl explain`, without list indices.
fn explain_path(kind: &str, path: &str) -> String {
    let mut p = kind.to_ascii_lowercase();
    for seg in path.split('.').filter(|s| !s.is_empty()) {
        let seg = seg.split('[').next().unwrap_or(seg);
        p.push('.');
        p.push_str(seg);
    }
    p
}

/// A JSON pointer of a dotted path (`spec.ports[0]` → `/spec/ports/0`).
fn pointer(path: &str) -> String {
    let mut out = String::new();
    for seg in path.split('.').filter(|s| !s.is_empty()) {
        let mut parts = seg.split('[');
        if let Some(key) = parts.next() {
            out.push('/');
            out.push_str(&key.replace('~', "~0").replace('/', "~1"));
        }
        for idx in parts {
            out.push('/');
            out.push_str(idx.trim_end_matches(']'));
        }
    }
    out
}

/// The keys the round-tripped object has at `path` (for suggestions).
fn known_fields(back: &Json, path: &str) -> Vec<String> {
    back.pointer(&pointer(path))
        .and_then(Json::as_object)
        .map(|m| m.keys().cloned().collect())
        .unwrap_or_default()
}

/// Keys of `input` that the typed round trip dropped (null values aside).
/// Under `metadata.labels` / `metadata.annotations` any key is data.
pub(crate) fn unknown_fields(input: &Json, back: &Json, path: &str, out: &mut Vec<String>) {
    match (input, back) {
        (Json::Object(a), Json::Object(b)) => {
            for (k, v) in a {
                let p = join(path, k);
                match b.get(k) {
                    None if !v.is_null() => out.push(p),
                    None => {}
                    Some(bv) => unknown_fields(v, bv, &p, out),
                }
            }
        }
        (Json::Array(a), Json::Array(b)) => {
            for (i, (x, y)) in a.iter().zip(b).enumerate() {
                unknown_fields(x, y, &format!("{path}[{i}]"), out);
            }
        }
        _ => {}
    }
}

/// Calls `f` for each key that cannot be a Kubernetes field outside maps of
/// data (an empty key); true when any was found.
fn for_each_key_problem(v: &Json, path: &str, f: &mut dyn FnMut(&str, String)) -> bool {
    let mut found = false;
    if let Json::Object(m) = v {
        for (k, x) in m {
            if k.is_empty() {
                f(path, format!("an empty key at `{path}`"));
                found = true;
            }
            found |= for_each_key_problem(x, &join(path, k), f);
        }
    } else if let Json::Array(items) = v {
        for (i, x) in items.iter().enumerate() {
            found |= for_each_key_problem(x, &format!("{path}[{i}]"), f);
        }
    }
    found
}

/// Read the `file(…)` of every env's objects through `host` (one document
/// of YAML, relative to the project root), put the object in its place, and
/// check each object.
pub fn read_files(host: &dyn Host, root: &Path, envs: &mut [EnvModel], diags: &mut Diagnostics) {
    let mut cache = super::configs::ReadCache::new();
    for env in envs.iter_mut() {
        for d in env.objects.values_mut() {
            if let Some(v) = std::sync::Arc::make_mut(&mut d.value).field_mut("file") {
                if let Some(path) = FileText::of(v)
                    .path()
                    .and_then(Value::as_str)
                    .map(str::to_string)
                {
                    let read =
                        super::configs::replace_with_read(v, &path, &mut cache, diags, |span| {
                            read_one(host, root, &path, span)
                        });
                    if !read {
                        continue;
                    }
                }
            }
            check(d, diags);
        }
    }
}

fn read_one(
    host: &dyn Host,
    root: &Path,
    path: &str,
    span: Span,
) -> Result<Value, Box<Diagnostic>> {
    let fail = |msg: String, help: &str| {
        Box::new(
            Diagnostic::new(Code::E2044, span, msg)
                .label("read at compile time")
                .help(help.to_string()),
        )
    };
    let bytes = host.read(&root.join(path)).map_err(|e| {
        let what = if e.kind() == std::io::ErrorKind::NotFound {
            "it does not exist".to_string()
        } else {
            e.to_string()
        };
        fail(
            format!("cannot read `{path}`: {what}"),
            "paths are relative to the project root (the folder holding `ship/`)",
        )
    })?;
    if bytes.len() > MAX_OBJECT_FILE {
        return Err(fail(
            format!(
                "`{path}` is {} bytes; an object file is at most 1 MiB",
                bytes.len()
            ),
            "Kubernetes objects are far smaller: is this the right file?",
        ));
    }
    let text = String::from_utf8(bytes).map_err(|_| {
        fail(
            format!("`{path}` is not UTF-8 text"),
            "an object file is YAML",
        )
    })?;
    let mut docs = Vec::new();
    for doc in serde_yaml::Deserializer::from_str(&text) {
        let v = <Json as serde::Deserialize>::deserialize(doc).map_err(|e| {
            fail(
                format!("`{path}` is not valid YAML: {e}"),
                "an object file holds one Kubernetes object as YAML",
            )
        })?;
        if !v.is_null() {
            docs.push(v);
        }
    }
    match docs.as_slice() {
        [one @ Json::Object(_)] => Ok(from_json(one, span)),
        [] => Err(fail(
            format!("`{path}` holds no object"),
            "write one Kubernetes object in it",
        )),
        [_] => Err(fail(
            format!("`{path}` does not hold an object (a mapping)"),
            "write one Kubernetes object in it",
        )),
        more => Err(fail(
            format!(
                "`{path}` holds {} documents; an object file holds one",
                more.len()
            ),
            "declare one `object` per file",
        )),
    }
}

/// JSON read from a file as a model value (every value at `span`).
fn from_json(v: &Json, span: Span) -> Value {
    let kind = match v {
        Json::Null => V::None,
        Json::Bool(b) => V::Bool(*b),
        Json::Number(n) => match n.as_i64() {
            Some(i) => V::Int(i),
            None => V::Number(n.to_string()),
        },
        Json::String(s) => V::Str(s.clone()),
        Json::Array(items) => V::List(items.iter().map(|x| from_json(x, span)).collect()),
        Json::Object(m) => {
            let mut f = crate::model::Fields::new();
            for (k, x) in m {
                f.insert(k.clone(), from_json(x, span));
            }
            V::Record(f)
        }
    };
    Value::new(kind, span)
}
