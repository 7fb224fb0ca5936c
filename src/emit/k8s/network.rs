//! NetworkPolicies from the dependency graph (`network_policy = "graph"`
//! on an env): a default-deny policy for the env's namespace that still
//! lets every pod resolve names (DNS egress to kube-dns), and for each
//! service, and each infra deployed in the env's namespace, a policy that
//! admits exactly the traffic its references show (see
//! [`crate::graph::traffic`]) plus its `allow_from` / `allow_to` peers.
//!
//! Services' pods are selected by their selector labels; an infra's by
//! `app.kubernetes.io/instance: <release>`, the label Helm charts put on
//! every pod they make. An infra's pods also reach each other (replicas,
//! a chart's own components). Infra in a namespace of its own gets no
//! default-deny (shipc does not own that namespace); its clients' egress
//! is still limited to it.

use super::{Body, Context, Object};
use crate::graph::traffic::{Flow, Ports};
use crate::model::view::{port_number, Infra, NetworkPeer};
use crate::model::{Decl, DeclRef, Value, V};
use crate::syntax::ast::DeclKind;
use k8s_openapi::api::networking::v1::{
    IPBlock, NetworkPolicy, NetworkPolicyEgressRule, NetworkPolicyIngressRule, NetworkPolicyPeer,
    NetworkPolicyPort, NetworkPolicySpec,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, ObjectMeta};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use std::collections::BTreeMap;

/// The label Kubernetes sets on every namespace to its name.
const NAMESPACE_NAME: &str = "kubernetes.io/metadata.name";

/// Whether the env derives NetworkPolicies from its graph.
pub fn enabled(cx: &Context<'_>) -> bool {
    cx.env.settings().network_policy().and_then(Value::as_str) == Some("graph")
}

fn labels(pairs: &[(&str, &str)]) -> LabelSelector {
    LabelSelector {
        match_labels: Some(
            pairs
                .iter()
                .map(|(k, v)| ((*k).to_string(), (*v).to_string()))
                .collect(),
        ),
        match_expressions: None,
    }
}

fn namespace_selector(ns: &str) -> LabelSelector {
    labels(&[(NAMESPACE_NAME, ns)])
}

/// An infra's release pods: `app.kubernetes.io/instance`.
fn infra_selector(d: &Decl) -> LabelSelector {
    labels(&[("app.kubernetes.io/instance", &d.k8s_name)])
}

/// The pods of a service or infra, as seen from the env's namespace.
fn peer_of(cx: &Context<'_>, d: &DeclRef) -> Option<NetworkPolicyPeer> {
    match d.kind {
        DeclKind::Service => {
            let s = cx.env.services.get(&d.name)?;
            Some(NetworkPolicyPeer {
                pod_selector: Some(LabelSelector {
                    match_labels: Some(cx.selector(s)),
                    match_expressions: None,
                }),
                ..NetworkPolicyPeer::default()
            })
        }
        DeclKind::Infra => {
            let i = cx.env.infras.get(&d.name)?;
            let ns = cx.namespace_of(i);
            Some(NetworkPolicyPeer {
                pod_selector: Some(infra_selector(i)),
                namespace_selector: (ns != cx.namespace()).then(|| namespace_selector(&ns)),
                ..NetworkPolicyPeer::default()
            })
        }
        _ => None,
    }
}

fn policy_ports(ports: &Ports) -> Option<Vec<NetworkPolicyPort>> {
    match ports {
        Ports::Any => None,
        Ports::Only(set) => Some(
            set.iter()
                .map(|(n, proto)| NetworkPolicyPort {
                    port: i32::try_from(*n).ok().map(IntOrString::Int),
                    protocol: Some((*proto).to_string()),
                    end_port: None,
                })
                .collect(),
        ),
    }
}

/// A user's `allow_from` / `allow_to` peer, with its ports. `own` is the
/// declaration whose port labels `ports` may name (for `allow_from`).
fn user_peer(v: &Value, own: Option<&Decl>) -> (NetworkPolicyPeer, Option<Vec<NetworkPolicyPort>>) {
    let p = NetworkPeer::of(v);
    let pods: BTreeMap<String, String> = super::string_map(p.pods());
    let namespace = p.namespace().and_then(Value::as_str);
    let peer = match p.cidr().and_then(Value::as_str) {
        Some(cidr) => NetworkPolicyPeer {
            ip_block: Some(IPBlock {
                cidr: cidr.to_string(),
                except: Some(
                    p.except()
                        .map(Value::strings)
                        .unwrap_or_default()
                        .into_iter()
                        .map(str::to_string)
                        .collect::<Vec<_>>(),
                )
                .filter(|e| !e.is_empty()),
            }),
            ..NetworkPolicyPeer::default()
        },
        None => NetworkPolicyPeer {
            namespace_selector: namespace.map(namespace_selector),
            pod_selector: (!pods.is_empty() || namespace.is_none()).then(|| LabelSelector {
                match_labels: Some(pods).filter(|p| !p.is_empty()),
                match_expressions: None,
            }),
            ..NetworkPolicyPeer::default()
        },
    };
    let ports: Vec<NetworkPolicyPort> = p
        .ports()
        .map(Value::as_list)
        .unwrap_or(&[])
        .iter()
        .filter_map(|port| {
            let (n, proto) = match &port.kind {
                V::Int(n) => (*n, "TCP"),
                V::Str(label) => {
                    let v = own.and_then(|d| own_port(d, label))?;
                    port_number(v)
                }
                _ => return None,
            };
            Some(NetworkPolicyPort {
                port: i32::try_from(n).ok().map(IntOrString::Int),
                protocol: Some(proto.to_string()),
                end_port: None,
            })
        })
        .collect();
    (peer, Some(ports).filter(|p| !p.is_empty()))
}

/// The port value of a label of a service or infra.
fn own_port<'a>(d: &'a Decl, label: &str) -> Option<&'a Value> {
    match d.id.kind {
        DeclKind::Service => d.service().port(label),
        _ => Infra::of(&d.value).ports().and_then(|p| p.get(label)),
    }
}

/// The `allow_from` and `allow_to` lists of a service or infra.
fn allow_lists(d: &Decl) -> (&[Value], &[Value]) {
    let (from, to) = match d.id.kind {
        DeclKind::Service => (d.service().allow_from(), d.service().allow_to()),
        _ => {
            let i = Infra::of(&d.value);
            (i.allow_from(), i.allow_to())
        }
    };
    (
        from.map(Value::as_list).unwrap_or(&[]),
        to.map(Value::as_list).unwrap_or(&[]),
    )
}

/// The ingress and egress rules of a declaration's pods: the flows that
/// reach it and leave it, then its own peers.
fn rules(
    cx: &Context<'_>,
    d: &Decl,
    flows: &[Flow],
) -> (Vec<NetworkPolicyIngressRule>, Vec<NetworkPolicyEgressRule>) {
    let mut ingress = Vec::new();
    let mut egress = Vec::new();
    for f in flows {
        if f.to == d.id {
            if let Some(peer) = peer_of(cx, &f.from) {
                ingress.push(NetworkPolicyIngressRule {
                    from: Some(vec![peer]),
                    ports: policy_ports(&f.ports),
                });
            }
        }
        if f.from == d.id {
            if let Some(peer) = peer_of(cx, &f.to) {
                egress.push(NetworkPolicyEgressRule {
                    to: Some(vec![peer]),
                    ports: policy_ports(&f.ports),
                });
            }
        }
    }
    let (allow_from, allow_to) = allow_lists(d);
    for v in allow_from {
        let (peer, ports) = user_peer(v, Some(d));
        ingress.push(NetworkPolicyIngressRule {
            from: Some(vec![peer]),
            ports,
        });
    }
    for v in allow_to {
        let (peer, ports) = user_peer(v, None);
        egress.push(NetworkPolicyEgressRule {
            to: Some(vec![peer]),
            ports,
        });
    }
    (ingress, egress)
}

fn policy(
    meta: ObjectMeta,
    selector: LabelSelector,
    ingress: Vec<NetworkPolicyIngressRule>,
    egress: Vec<NetworkPolicyEgressRule>,
) -> NetworkPolicy {
    NetworkPolicy {
        metadata: meta,
        spec: Some(NetworkPolicySpec {
            pod_selector: Some(selector),
            policy_types: Some(vec!["Ingress".into(), "Egress".into()]),
            ingress: Some(ingress).filter(|i| !i.is_empty()),
            egress: Some(egress).filter(|e| !e.is_empty()),
        }),
    }
}

/// A service's NetworkPolicy (named after it), when the env derives them.
pub fn service_policy(cx: &Context<'_>, d: &Decl) -> Option<Object> {
    if !enabled(cx) {
        return None;
    }
    let (ingress, egress) = rules(cx, d, cx.flows());
    let selector = LabelSelector {
        match_labels: Some(cx.selector(d)),
        match_expressions: None,
    };
    let np = policy(
        cx.meta(d, &d.k8s_name, BTreeMap::new()),
        selector,
        ingress,
        egress,
    );
    Some(Object {
        kind: "NetworkPolicy".into(),
        name: d.k8s_name.clone(),
        value: Body::NetworkPolicy(Box::new(np)),
        span: d.name_span,
    })
}

/// The name of the env's default-deny policy.
pub fn default_deny_name(cx: &Context<'_>) -> String {
    format!("ship-default-deny{}", cx.env.suffix())
}

/// The env-wide policies: default-deny (with DNS egress) for the env's
/// namespace, and one per infra deployed in it. Empty unless the env
/// derives NetworkPolicies.
pub fn env_policies(cx: &Context<'_>) -> Vec<Object> {
    if !enabled(cx) {
        return Vec::new();
    }
    let span = cx
        .env
        .settings()
        .network_policy()
        .map_or(cx.env.span, |v| v.span);
    let env_meta = |name: &str| cx.env_meta(name, span);
    let dns = NetworkPolicyEgressRule {
        to: Some(vec![NetworkPolicyPeer {
            namespace_selector: Some(namespace_selector("kube-system")),
            pod_selector: Some(labels(&[("k8s-app", "kube-dns")])),
            ..NetworkPolicyPeer::default()
        }]),
        ports: Some(
            ["UDP", "TCP"]
                .iter()
                .map(|p| NetworkPolicyPort {
                    port: Some(IntOrString::Int(53)),
                    protocol: Some((*p).to_string()),
                    end_port: None,
                })
                .collect(),
        ),
    };
    let name = default_deny_name(cx);
    let mut out = vec![Object {
        kind: "NetworkPolicy".into(),
        name: name.clone(),
        value: Body::NetworkPolicy(Box::new(policy(
            env_meta(&name),
            LabelSelector::default(),
            Vec::new(),
            vec![dns],
        ))),
        span,
    }];
    for i in cx.env.infras.values() {
        if cx.namespace_of(i) != cx.namespace() {
            continue;
        }
        let (mut ingress, mut egress) = rules(cx, i, cx.flows());
        let own = NetworkPolicyPeer {
            pod_selector: Some(infra_selector(i)),
            ..NetworkPolicyPeer::default()
        };
        ingress.insert(
            0,
            NetworkPolicyIngressRule {
                from: Some(vec![own.clone()]),
                ports: None,
            },
        );
        egress.insert(
            0,
            NetworkPolicyEgressRule {
                to: Some(vec![own]),
                ports: None,
            },
        );
        let name = infra_policy_name(cx, i);
        let mut meta = env_meta(&name);
        if let Some(a) = meta.annotations.as_mut() {
            a.insert(super::SOURCE_ANNOTATION.into(), cx.source(i.name_span));
        }
        out.push(Object {
            kind: "NetworkPolicy".into(),
            name,
            value: Body::NetworkPolicy(Box::new(policy(meta, infra_selector(i), ingress, egress))),
            span: i.name_span,
        });
    }
    out
}

/// The name of an infra's NetworkPolicy.
pub fn infra_policy_name(cx: &Context<'_>, i: &Decl) -> String {
    format!("ship-infra-{}{}", i.k8s_name, cx.env.suffix())
}
