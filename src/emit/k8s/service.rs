//! Services (ClusterIP and the `-external` LoadBalancer), ServiceAccounts,
//! and routes for `host` (Ingress, or a Gateway API HTTPRoute).

use super::{Body, Context, Object};
use crate::model::view::port_number;
use crate::model::view::{Gateway, Workload};
use crate::model::{Decl, Value};
use crate::names::k8s_name;
use k8s_openapi::api::core::v1::{Service, ServiceAccount, ServicePort, ServiceSpec};
use k8s_openapi::api::networking::v1::{
    HTTPIngressPath, HTTPIngressRuleValue, Ingress, IngressBackend, IngressRule,
    IngressServiceBackend, IngressSpec, ServiceBackendPort,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use std::collections::BTreeMap;

fn service_ports(d: &Decl, mapping: Option<&Value>, all: bool) -> Vec<ServicePort> {
    let svc = d.service();
    let internal = svc.internal().map(Value::strings).unwrap_or_default();
    let node_ports = svc.node_ports();
    svc.port_entries()
        .filter(|(label, _)| !internal.contains(&label.as_str()))
        .filter_map(|(label, v)| {
            let (number, protocol) = port_number(v);
            let exposed = mapping.and_then(|m| m.get(label)).and_then(Value::as_int);
            if !all && exposed.is_none() {
                return None;
            }
            let node_port = node_ports
                .and_then(|m| m.get(label))
                .and_then(Value::as_int)
                .and_then(|n| i32::try_from(n).ok());
            Some(ServicePort {
                name: Some(k8s_name(label)),
                port: i32::try_from(exposed.unwrap_or(number)).unwrap_or(0),
                target_port: Some(IntOrString::String(k8s_name(label))),
                protocol: Some(protocol.to_string()),
                node_port: node_port.filter(|_| all),
                ..ServicePort::default()
            })
        })
        .collect()
}

/// Metadata of a service's Services: its labels plus `service_labels`, and
/// `service_annotations`.
fn service_meta(cx: &Context<'_>, d: &Decl, name: &str) -> ObjectMeta {
    let mut meta = cx.meta(
        d,
        name,
        super::string_map(d.service().service_annotations()),
    );
    if let Some(labels) = meta.labels.as_mut() {
        for (k, v) in super::string_map(d.service().service_labels()) {
            labels.entry(k).or_insert(v);
        }
    }
    meta
}

/// The name of a statefulset's headless Service (`serviceName`).
pub fn headless_name(cx: &Context<'_>, d: &Decl) -> String {
    format!("{}-headless{}", super::base_name(d), cx.env.suffix())
}

/// The ClusterIP Service named after the service (when it has ports) and the
/// `<name>-external` LoadBalancer for `load_balancer` (suffix at the very end).
pub fn services(cx: &Context<'_>, d: &Decl) -> Vec<Object> {
    let mut out = Vec::new();
    let s = d.service();
    let ports = service_ports(d, s.expose(), true);
    let affinity = s
        .session_affinity()
        .and_then(Value::as_str)
        .filter(|a| *a != "None")
        .map(str::to_string);
    if !ports.is_empty() {
        let svc = Service {
            metadata: service_meta(cx, d, &d.k8s_name),
            spec: Some(ServiceSpec {
                type_: Some(
                    s.service_type()
                        .and_then(Value::as_str)
                        .unwrap_or("ClusterIP")
                        .to_string(),
                ),
                selector: Some(cx.selector(d)),
                ports: Some(ports.clone()),
                session_affinity: affinity.clone(),
                ..ServiceSpec::default()
            }),
            ..Service::default()
        };
        out.push(Object {
            kind: "Service".into(),
            name: d.k8s_name.clone(),
            value: Body::Service(Box::new(svc)),
            span: d.name_span,
        });
    }
    // A statefulset's pods get stable DNS names through a headless Service
    // (`serviceName`), which also lists pods that are not ready yet.
    if s.workload_kind() == Workload::StatefulSet {
        let name = headless_name(cx, d);
        let headless_ports = ports
            .into_iter()
            .map(|p| ServicePort {
                node_port: None,
                ..p
            })
            .collect::<Vec<_>>();
        let svc = Service {
            metadata: service_meta(cx, d, &name),
            spec: Some(ServiceSpec {
                cluster_ip: Some("None".into()),
                selector: Some(cx.selector(d)),
                ports: Some(headless_ports).filter(|p| !p.is_empty()),
                publish_not_ready_addresses: Some(true),
                ..ServiceSpec::default()
            }),
            ..Service::default()
        };
        out.push(Object {
            kind: "Service".into(),
            name,
            value: Body::Service(Box::new(svc)),
            span: s.workload().map_or(d.name_span, |w| w.span),
        });
    }
    let lb = service_ports(d, s.load_balancer(), false);
    if !lb.is_empty() {
        let name = format!("{}-external{}", super::base_name(d), cx.env.suffix());
        let svc = Service {
            metadata: service_meta(cx, d, &name),
            spec: Some(ServiceSpec {
                type_: Some("LoadBalancer".into()),
                selector: Some(cx.selector(d)),
                ports: Some(lb),
                ..ServiceSpec::default()
            }),
            ..Service::default()
        };
        out.push(Object {
            kind: "Service".into(),
            name,
            value: Body::Service(Box::new(svc)),
            span: s.load_balancer().map_or(d.name_span, |v| v.span),
        });
    }
    out
}

/// The ServiceAccount named after the service.
pub fn service_account(cx: &Context<'_>, d: &Decl) -> Object {
    let sa = ServiceAccount {
        metadata: cx.meta(d, &d.k8s_name, BTreeMap::new()),
        ..ServiceAccount::default()
    };
    Object {
        kind: "ServiceAccount".into(),
        name: d.k8s_name.clone(),
        value: Body::ServiceAccount(Box::new(sa)),
        span: d
            .service()
            .service_account()
            .map_or(d.name_span, |v| v.span),
    }
}

/// The port a route sends traffic to: `http` if declared, else the first.
fn route_port(d: &Decl) -> Option<(String, i64)> {
    let svc = d.service();
    let ports: Vec<(&crate::model::Key, &Value)> = svc.port_entries().collect();
    let (label, _) = ports
        .iter()
        .find(|(l, _)| l.as_str() == "http")
        .or_else(|| ports.first())?;
    Some((k8s_name(label), svc.service_port(label)?))
}

/// An Ingress or HTTPRoute for `host`, per the env's `routing`.
pub fn route(cx: &Context<'_>, d: &Decl) -> Option<Object> {
    let svc = d.service();
    let host_v = svc.host()?;
    let host = host_v.as_str()?.to_string();
    let routing = cx
        .env
        .settings()
        .routing()
        .and_then(Value::as_str)
        .unwrap_or("ingress");
    let (port_name, port_number) = route_port(d)?;
    let path = svc
        .path()
        .and_then(Value::as_str)
        .unwrap_or("/")
        .to_string();
    match routing {
        "gateway" => {
            let gw = cx.env.settings().gateway_view();
            let mut parent = serde_json::Map::new();
            parent.insert(
                "name".into(),
                gw.and_then(Gateway::name)
                    .and_then(Value::as_str)
                    .unwrap_or("gateway")
                    .into(),
            );
            if let Some(ns) = gw.and_then(Gateway::namespace).and_then(Value::as_str) {
                parent.insert("namespace".into(), ns.into());
            }
            if let Some(s) = gw.and_then(Gateway::section).and_then(Value::as_str) {
                parent.insert("sectionName".into(), s.into());
            }
            let meta =
                serde_json::to_value(cx.meta(d, &d.k8s_name, BTreeMap::new())).unwrap_or_default();
            let value = serde_json::json!({
                "apiVersion": "gateway.networking.k8s.io/v1",
                "kind": "HTTPRoute",
                "metadata": meta,
                "spec": {
                    "parentRefs": [parent],
                    "hostnames": [host],
                    "rules": [{
                        "matches": [{"path": {"type": "PathPrefix", "value": path}}],
                        "backendRefs": [{"name": d.k8s_name, "port": port_number}],
                    }],
                },
            });
            Some(Object {
                kind: "HTTPRoute".into(),
                name: d.k8s_name.clone(),
                value: Body::Json(value),
                span: host_v.span,
            })
        }
        "ingress" => {
            let ing = Ingress {
                metadata: cx.meta(d, &d.k8s_name, BTreeMap::new()),
                spec: Some(IngressSpec {
                    ingress_class_name: cx
                        .env
                        .settings()
                        .ingress_class()
                        .and_then(Value::as_str)
                        .map(str::to_string),
                    rules: Some(vec![IngressRule {
                        host: Some(host),
                        http: Some(HTTPIngressRuleValue {
                            paths: vec![HTTPIngressPath {
                                path: Some(path),
                                path_type: "Prefix".into(),
                                backend: IngressBackend {
                                    service: Some(IngressServiceBackend {
                                        name: d.k8s_name.clone(),
                                        port: Some(ServiceBackendPort {
                                            name: Some(port_name),
                                            number: None,
                                        }),
                                    }),
                                    resource: None,
                                },
                            }],
                        }),
                    }]),
                    ..IngressSpec::default()
                }),
                ..Ingress::default()
            };
            Some(Object {
                kind: "Ingress".into(),
                name: d.k8s_name.clone(),
                value: Body::Ingress(Box::new(ing)),
                span: host_v.span,
            })
        }
        _ => None,
    }
}
