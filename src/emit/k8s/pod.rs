//! Workloads and pods: containers, env vars, probes, resources, security
//! presets (SPEC §13 exactly), volumes and claims.

use super::volume::{claim_templates, mounts, persistent_volume, volumes};
use super::{base_name, quantity, seconds, string_map, text, Body, Context, Object};
use crate::model::view::{self, port_number, EnvValue, Hook, Workload};
use crate::model::{ContainerRole, Decl, Value, V};
use crate::names::k8s_name;
use k8s_openapi::api::apps::v1::{Deployment, DeploymentSpec, StatefulSet, StatefulSetSpec};
use k8s_openapi::api::batch::v1::{CronJob, CronJobSpec, Job, JobSpec, JobTemplateSpec};
use k8s_openapi::api::core::v1::{
    Capabilities, ConfigMapKeySelector, Container, ContainerPort, EnvVar, EnvVarSource, ExecAction,
    GRPCAction, HTTPGetAction, HTTPHeader, HostAlias, Lifecycle, LifecycleHandler,
    LocalObjectReference, ObjectFieldSelector, PodSecurityContext, PodSpec, PodTemplateSpec, Probe,
    ResourceRequirements, SeccompProfile, SecretKeySelector, SecurityContext, SleepAction,
    TCPSocketAction, VolumeMount,
};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, ObjectMeta};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use std::collections::BTreeMap;

/// The workload object of a service.
pub fn workload(cx: &Context<'_>, d: &Decl) -> Object {
    let svc = d.service();
    let kind = svc.workload_kind();
    let name = d.k8s_name.clone();
    let mut meta = cx.meta(d, &name, string_map(svc.annotations()));
    if let Some(labels) = meta.labels.as_mut() {
        for (k, v) in string_map(svc.k8s_labels()) {
            labels.entry(k).or_insert(v);
        }
    }
    // An autoscaled workload leaves `replicas` to its autoscaler.
    let history = svc
        .revision_history_limit()
        .and_then(Value::as_int)
        .and_then(|n| i32::try_from(n).ok());
    let replicas = svc
        .replicas()
        .and_then(Value::as_int)
        .and_then(|n| i32::try_from(n).ok())
        .filter(|_| !super::scale::autoscaled(d));
    let selector = LabelSelector {
        match_labels: Some(cx.selector(d)),
        ..LabelSelector::default()
    };
    let restart = match kind {
        Workload::Job => Some("Never"),
        Workload::CronJob => Some("OnFailure"),
        Workload::Deployment | Workload::StatefulSet => None,
    };
    let template = pod_template(cx, d, restart);
    let (value, k) = match kind {
        Workload::StatefulSet => (
            Body::StatefulSet(Box::new(StatefulSet {
                metadata: meta,
                spec: Some(StatefulSetSpec {
                    replicas,
                    revision_history_limit: history,
                    selector,
                    service_name: Some(super::service::headless_name(cx, d)),
                    template,
                    volume_claim_templates: Some(claim_templates(cx, d)).filter(|v| !v.is_empty()),
                    ..StatefulSetSpec::default()
                }),
                ..StatefulSet::default()
            })),
            "StatefulSet",
        ),
        Workload::Job => (
            Body::Job(Box::new(Job {
                metadata: meta,
                spec: Some(JobSpec {
                    template,
                    ..JobSpec::default()
                }),
                ..Job::default()
            })),
            "Job",
        ),
        Workload::CronJob => (
            Body::CronJob(Box::new(CronJob {
                metadata: meta,
                spec: Some(CronJobSpec {
                    schedule: svc
                        .schedule()
                        .and_then(Value::as_str)
                        .unwrap_or("")
                        .to_string(),
                    job_template: JobTemplateSpec {
                        metadata: None,
                        spec: Some(JobSpec {
                            template,
                            ..JobSpec::default()
                        }),
                    },
                    ..CronJobSpec::default()
                }),
                ..CronJob::default()
            })),
            "CronJob",
        ),
        Workload::Deployment => (
            Body::Deployment(Box::new(Deployment {
                metadata: meta,
                spec: Some(DeploymentSpec {
                    replicas,
                    revision_history_limit: history,
                    selector,
                    template,
                    ..DeploymentSpec::default()
                }),
                ..Deployment::default()
            })),
            "Deployment",
        ),
    };
    Object {
        kind: k.to_string(),
        name,
        value,
        span: d.name_span,
    }
}

fn pod_template(cx: &Context<'_>, d: &Decl, restart: Option<&str>) -> PodTemplateSpec {
    let placement = super::scale::placement(cx, d);
    let svc = d.service();
    let labels = cx.labels(d);
    let mut pod_ann = string_map(svc.pod_annotations());
    if let Some(sum) = super::config::checksum(cx, d) {
        pod_ann.insert(super::config::CHECKSUM_ANNOTATION.into(), sum);
    }
    let security = svc.security();
    let container_name = svc
        .container_name()
        .and_then(Value::as_str)
        .map(str::to_string)
        .unwrap_or_else(|| base_name(d));
    let image = cx.images.image_ref(&d.id.name);
    // Ports a sidecar serves are that container's; the rest are the main one's.
    let sidecar_ports = svc.sidecar_port_labels();
    let ports = container_ports(d, |label| !sidecar_ports.contains(&label));
    let pull_policy = svc
        .image_pull_policy()
        .and_then(Value::as_str)
        .unwrap_or(image.pull_policy)
        .to_string();
    let lifecycle = Lifecycle {
        pre_stop: svc.pre_stop().and_then(|h| hook(h, d)),
        post_start: svc.post_start().and_then(|h| hook(h, d)),
        ..Lifecycle::default()
    };
    let main = Container {
        name: container_name,
        image: Some(image.reference),
        image_pull_policy: Some(pull_policy),
        lifecycle: (lifecycle.pre_stop.is_some() || lifecycle.post_start.is_some())
            .then_some(lifecycle),
        command: string_list(svc.command()),
        args: string_list(svc.args()),
        ports: Some(ports).filter(|p| !p.is_empty()),
        env: Some(env_vars(cx, svc.env_vars())).filter(|e| !e.is_empty()),
        resources: resources(svc.resources()),
        readiness_probe: svc.readiness().and_then(|p| probe(p, d)),
        liveness_probe: svc.liveness().and_then(|p| probe(p, d)),
        startup_probe: svc.startup().and_then(|p| probe(p, d)),
        security_context: security.map(container_security),
        volume_mounts: Some(mounts(d)).filter(|m| !m.is_empty()),
        ..Container::default()
    };
    // Init containers run first, in order; then native sidecars (init
    // containers that keep running), or plain extra containers when the env
    // says `sidecars = "containers"`.
    let native = cx.env.settings().sidecars().and_then(Value::as_str) != Some("containers");
    let mut inits: Vec<Container> = Vec::new();
    let mut containers = vec![main];
    for (role, c) in svc.extra_containers() {
        let mut k = extra_container(cx, d, c, security);
        match role {
            ContainerRole::Init => inits.push(k),
            ContainerRole::Sidecar if native => {
                k.restart_policy = Some("Always".into());
                inits.push(k);
            }
            ContainerRole::Sidecar => containers.push(k),
        }
    }
    let pull_secrets: Vec<LocalObjectReference> = svc
        .image_pull_secrets()
        .map(Value::strings)
        .unwrap_or_default()
        .into_iter()
        .map(|s| LocalObjectReference {
            name: s.to_string(),
        })
        .collect();
    let host_aliases: Vec<HostAlias> = svc
        .host_aliases()
        .map(|m| {
            m.entries()
                .map(|(ip, names)| HostAlias {
                    ip: ip.to_string(),
                    hostnames: Some(names.strings().into_iter().map(str::to_string).collect()),
                })
                .collect()
        })
        .unwrap_or_default();
    let mut labels = labels;
    for (k, v) in string_map(svc.k8s_labels()) {
        labels.entry(k).or_insert(v);
    }
    PodTemplateSpec {
        metadata: Some(ObjectMeta {
            labels: Some(labels),
            annotations: Some(pod_ann).filter(|a| !a.is_empty()),
            ..ObjectMeta::default()
        }),
        spec: Some(PodSpec {
            containers,
            init_containers: Some(inits).filter(|i| !i.is_empty()),
            restart_policy: restart.map(str::to_string),
            security_context: security.map(|s| pod_security(s, persistent_volume(d))),
            service_account_name: service_account_name(d),
            image_pull_secrets: Some(pull_secrets).filter(|p| !p.is_empty()),
            host_aliases: Some(host_aliases).filter(|h| !h.is_empty()),
            termination_grace_period_seconds: svc.termination_grace().and_then(seconds),
            volumes: Some(volumes(cx, d)).filter(|v| !v.is_empty()),
            node_selector: placement.node_selector,
            tolerations: placement.tolerations,
            affinity: placement.affinity,
            topology_spread_constraints: placement.spread,
            ..PodSpec::default()
        }),
    }
}

/// The container ports of a service's ports whose label `keep` admits.
fn container_ports(d: &Decl, keep: impl Fn(&str) -> bool) -> Vec<ContainerPort> {
    d.service()
        .port_entries()
        .filter(|(label, _)| keep(label))
        .map(|(label, v)| {
            let (number, protocol) = port_number(v);
            ContainerPort {
                name: Some(k8s_name(label)),
                container_port: i32::try_from(number).unwrap_or(0),
                protocol: Some(protocol.to_string()),
                ..ContainerPort::default()
            }
        })
        .collect()
}

/// An init container or sidecar (a `container()` record): its image by the
/// `SERVICE.CONTAINER` lock key, its own ports (labels of the service's),
/// mounts of the pod's volumes, probes, resources and security (the pod's
/// unless it sets its own).
fn extra_container(
    cx: &Context<'_>,
    d: &Decl,
    c: view::Container<'_>,
    pod_security: Option<&Value>,
) -> Container {
    let name = c.name_str().unwrap_or("init").to_string();
    let img = cx.images.image_ref(&view::container_key(&d.id.name, &name));
    let own: Vec<&str> = c.port_labels();
    let ports = container_ports(d, |label| own.contains(&label));
    let mounts: Vec<VolumeMount> = c
        .mounts()
        .map(Value::entries_in_order)
        .unwrap_or_default()
        .into_iter()
        .map(|(volume, path)| VolumeMount {
            name: k8s_name(volume),
            mount_path: path.as_str().unwrap_or("/").to_string(),
            ..VolumeMount::default()
        })
        .collect();
    Container {
        image: Some(img.reference),
        image_pull_policy: Some(
            c.image_pull_policy()
                .and_then(Value::as_str)
                .unwrap_or(img.pull_policy)
                .to_string(),
        ),
        command: string_list(c.command()),
        args: string_list(c.args()),
        ports: Some(ports).filter(|p| !p.is_empty()),
        env: Some(env_vars(cx, c.env_vars())).filter(|e| !e.is_empty()),
        resources: resources(c.resources()),
        readiness_probe: c.readiness().and_then(|p| probe(p, d)),
        liveness_probe: c.liveness().and_then(|p| probe(p, d)),
        startup_probe: c.startup().and_then(|p| probe(p, d)),
        security_context: c.security().or(pod_security).map(container_security),
        volume_mounts: Some(mounts).filter(|m| !m.is_empty()),
        name,
        ..Container::default()
    }
}

/// The ServiceAccount a service's pods run as: its own (`true`, named
/// after the service) or a shared one by name.
pub fn service_account_name(d: &Decl) -> Option<String> {
    let v = d.service().service_account()?;
    match &v.kind {
        V::Bool(true) => Some(d.k8s_name.clone()),
        V::Str(name) => Some(name.clone()),
        _ => None,
    }
}

/// A lifecycle hook: `exec([…])`, `http(path, port)` or `sleep(d)`.
fn hook(h: &Value, d: &Decl) -> Option<LifecycleHandler> {
    match Hook::of(h)? {
        Hook::Exec(e) => Some(LifecycleHandler {
            exec: Some(ExecAction {
                command: string_list(e.command()),
            }),
            ..LifecycleHandler::default()
        }),
        Hook::Http(_) => probe(h, d)
            .and_then(|p| p.http_get)
            .map(|g| LifecycleHandler {
                http_get: Some(g),
                ..LifecycleHandler::default()
            }),
        Hook::Sleep(s) => s.duration().and_then(seconds).map(|s| LifecycleHandler {
            sleep: Some(SleepAction { seconds: s }),
            ..LifecycleHandler::default()
        }),
        Hook::Unsupported(_) => None,
    }
}

fn string_list(v: Option<&Value>) -> Option<Vec<String>> {
    v.map(|l| {
        l.as_list()
            .iter()
            .filter_map(|x| x.as_str().map(str::to_string))
            .collect()
    })
}

fn env_vars(cx: &Context<'_>, v: Option<&Value>) -> Vec<EnvVar> {
    let Some(m) = v else { return Vec::new() };
    // Source order: the kubelet expands `$(X)` only from variables before it.
    m.entries_in_order()
        .into_iter()
        .map(|(k, v)| {
            let (value, value_from) = match EnvValue::of(v) {
                EnvValue::Str(s) => (Some(s.to_string()), None),
                EnvValue::Int(n) => (Some(n.to_string()), None),
                EnvValue::Secret(r) => (
                    None,
                    Some(EnvVarSource {
                        secret_key_ref: Some(SecretKeySelector {
                            name: text(r.name()),
                            key: text(r.key()),
                            ..SecretKeySelector::default()
                        }),
                        ..EnvVarSource::default()
                    }),
                ),
                EnvValue::Config(r) => (
                    None,
                    Some(EnvVarSource {
                        config_map_key_ref: Some(ConfigMapKeySelector {
                            name: super::config::name(cx, r.config_map()),
                            key: text(r.key()),
                            ..ConfigMapKeySelector::default()
                        }),
                        ..EnvVarSource::default()
                    }),
                ),
                EnvValue::Field(r) => (
                    None,
                    Some(EnvVarSource {
                        field_ref: Some(ObjectFieldSelector {
                            field_path: text(r.path()),
                            ..ObjectFieldSelector::default()
                        }),
                        ..EnvVarSource::default()
                    }),
                ),
                EnvValue::Other => (Some(String::new()), None),
            };
            EnvVar {
                name: k.to_string(),
                value,
                value_from,
            }
        })
        .collect()
}

fn resources(v: Option<&Value>) -> Option<ResourceRequirements> {
    let r = view::Resources::of(v?);
    let mut requests = BTreeMap::new();
    let mut limits = BTreeMap::new();
    for (field, key) in [
        (r.cpu(), "cpu"),
        (r.memory(), "memory"),
        (r.ephemeral_storage(), "ephemeral-storage"),
    ] {
        if let Some(Value {
            kind: V::Range(lo, hi),
            ..
        }) = field
        {
            if let Some(q) = quantity(lo) {
                requests.insert(key.to_string(), Quantity(q));
            }
            if let Some(q) = hi.as_deref().and_then(quantity) {
                limits.insert(key.to_string(), Quantity(q));
            }
        }
    }
    if requests.is_empty() && limits.is_empty() {
        return None;
    }
    Some(ResourceRequirements {
        requests: Some(requests).filter(|r| !r.is_empty()),
        limits: Some(limits).filter(|l| !l.is_empty()),
        ..ResourceRequirements::default()
    })
}

/// The container port number a probe's `port` (label or number) means.
fn probe_port(d: &Decl, p: &Value) -> i32 {
    match &p.kind {
        V::Int(n) => i32::try_from(*n).unwrap_or(0),
        V::Str(label) => d
            .service()
            .port(label)
            .map(|v| i32::try_from(port_number(v).0).unwrap_or(0))
            .unwrap_or(0),
        _ => 0,
    }
}

fn probe_port_ref(p: &Value) -> IntOrString {
    match &p.kind {
        V::Str(label) => IntOrString::String(k8s_name(label)),
        V::Int(n) => IntOrString::Int(i32::try_from(*n).unwrap_or(0)),
        _ => IntOrString::Int(0),
    }
}

/// A probe from one of the stdlib's probe constructors. Each is named:
/// a constructor this lowering does not know yields no probe (never an
/// empty `exec` one that Kubernetes would run as a failing command).
fn probe(p: &Value, d: &Decl) -> Option<Probe> {
    let which = view::Probe::of(p)?;
    let t = which.timings();
    let secs = |v: Option<&Value>| v.and_then(seconds).and_then(|n| i32::try_from(n).ok());
    let int = |v: Option<&Value>| {
        v.and_then(Value::as_int)
            .and_then(|n| i32::try_from(n).ok())
    };
    let mut probe = Probe {
        initial_delay_seconds: secs(t.delay),
        period_seconds: secs(t.period),
        timeout_seconds: secs(t.timeout),
        failure_threshold: int(t.failure_threshold),
        success_threshold: int(t.success_threshold),
        ..Probe::default()
    };
    let port = which.port();
    match which {
        view::Probe::Http(h) => {
            let headers: Vec<HTTPHeader> = h
                .headers()
                .map(|h| {
                    h.entries()
                        .map(|(k, v)| HTTPHeader {
                            name: k.to_string(),
                            value: v.as_str().unwrap_or("").to_string(),
                        })
                        .collect()
                })
                .unwrap_or_default();
            probe.http_get = Some(HTTPGetAction {
                path: h.path().and_then(Value::as_str).map(str::to_string),
                port: port.map(probe_port_ref).unwrap_or(IntOrString::Int(0)),
                http_headers: Some(headers).filter(|h| !h.is_empty()),
                ..HTTPGetAction::default()
            });
        }
        // Kubernetes requires gRPC probes to name the port by number.
        view::Probe::Grpc(g) => {
            probe.grpc = Some(GRPCAction {
                port: port.map(|p| probe_port(d, p)).unwrap_or(0),
                service: g.service().and_then(Value::as_str).map(str::to_string),
            });
        }
        view::Probe::Tcp(_) => {
            probe.tcp_socket = Some(TCPSocketAction {
                port: port.map(probe_port_ref).unwrap_or(IntOrString::Int(0)),
                ..TCPSocketAction::default()
            });
        }
        view::Probe::Exec(e) => {
            probe.exec = Some(ExecAction {
                command: string_list(e.command()),
            });
        }
    }
    Some(probe)
}

/// The pod's security context. `fsGroup` is the one set, else — only when
/// a persistent volume needs it — the pod's group (`run_as_group`, else
/// `run_as`).
fn pod_security(s: &Value, persistent: bool) -> PodSecurityContext {
    let s = view::Security::of(s);
    let int = |v: Option<&Value>| v.and_then(Value::as_int);
    let group = int(s.run_as_group()).or(int(s.run_as()));
    PodSecurityContext {
        run_as_non_root: s.run_as_non_root().and_then(Value::as_bool).filter(|b| *b),
        run_as_user: int(s.run_as()),
        run_as_group: group,
        fs_group: int(s.fs_group()).or(group.filter(|_| persistent)),
        seccomp_profile: s.seccomp().and_then(Value::as_str).map(|t| SeccompProfile {
            type_: t.to_string(),
            ..SeccompProfile::default()
        }),
        ..PodSecurityContext::default()
    }
}

fn container_security(s: &Value) -> SecurityContext {
    let s = view::Security::of(s);
    let list = |v: Option<&Value>| string_list(v).filter(|l| !l.is_empty());
    let drop = list(s.drop_capabilities());
    let add = list(s.add_capabilities());
    SecurityContext {
        allow_privilege_escalation: s.allow_privilege_escalation().and_then(Value::as_bool),
        privileged: s.privileged().and_then(Value::as_bool),
        read_only_root_filesystem: s.read_only_root_filesystem().and_then(Value::as_bool),
        capabilities: if drop.is_some() || add.is_some() {
            Some(Capabilities { add, drop })
        } else {
            None
        },
        ..SecurityContext::default()
    }
}
