//! Who talks to whom in an env: the allow-list `network_policy = "graph"`
//! turns into NetworkPolicies, and `shipc graph --traffic` shows.
//!
//! A flow is a reference from a service or infra to another, through any
//! of its values (`env_vars`, `args`, chart `values`, interpolated
//! strings), `weak()` ones included — a weak reference orders nothing but
//! still carries traffic. A config's references count for every service
//! that uses the config. `depends_on` and `image` are ordering, not
//! traffic. `X.port.P` admits that port of a service; `X.host` / `X.name`
//! every port the service declares (any port when it declares none). An
//! infra's `ports` are its chart's Service ports, and the pod port behind
//! each is the chart's business, so traffic to infra admits any port of
//! its pods.

use crate::model::view::{port_number, Infra};
use crate::model::{DeclRef, EnvModel, Value};
use crate::syntax::ast::DeclKind;
use std::collections::{BTreeMap, BTreeSet};

/// The ports of a flow.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ports {
    /// Any port.
    Any,
    /// These container ports, with their protocol (`TCP` / `UDP`).
    Only(BTreeSet<(i64, &'static str)>),
}

impl Ports {
    fn add(&mut self, other: Ports) {
        match (&mut *self, other) {
            (Ports::Any, _) => {}
            (_, Ports::Any) => *self = Ports::Any,
            (Ports::Only(a), Ports::Only(b)) => a.extend(b),
        }
    }
}

/// Traffic from one declaration's pods to another's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Flow {
    /// The client: a service or infra.
    pub from: DeclRef,
    /// The server: a service or infra.
    pub to: DeclRef,
    /// On which ports.
    pub ports: Ports,
}

/// The ports a declaration declares (`port NAME = …`), with protocols.
fn declared(env: &EnvModel, d: &DeclRef) -> BTreeMap<i64, &'static str> {
    let ports = match d.kind {
        DeclKind::Service => env.services.get(&d.name).map(|s| s.service().ports()),
        DeclKind::Infra => env.infras.get(&d.name).map(|i| Infra::of(&i.value).ports()),
        _ => None,
    };
    let internal: Vec<&str> = match d.kind {
        DeclKind::Service => env
            .services
            .get(&d.name)
            .and_then(|s| s.service().internal())
            .map(Value::strings)
            .unwrap_or_default(),
        _ => Vec::new(),
    };
    ports
        .flatten()
        .map(|p| {
            p.entries()
                .filter(|(label, _)| !internal.contains(&label.as_str()))
                .map(|(_, v)| port_number(v))
                .collect()
        })
        .unwrap_or_default()
}

fn deployed(env: &EnvModel, d: &DeclRef) -> bool {
    match d.kind {
        DeclKind::Service => env.services.contains_key(&d.name),
        DeclKind::Infra => env.infras.contains_key(&d.name),
        _ => false,
    }
}

/// Every flow of an env, sorted by (from, to).
pub fn flows(env: &EnvModel) -> Vec<Flow> {
    // Which deployed services use each config.
    let mut users: BTreeMap<&str, Vec<&DeclRef>> = BTreeMap::new();
    for e in &env.edges {
        if e.to.kind == DeclKind::Config && deployed(env, &e.from) {
            users.entry(e.to.name.as_str()).or_default().push(&e.from);
        }
    }
    let mut out: BTreeMap<(DeclRef, DeclRef), Ports> = BTreeMap::new();
    for e in &env.edges {
        if e.why == "image" || e.why.starts_with("depends_on") || !deployed(env, &e.to) {
            continue;
        }
        let sources: Vec<&DeclRef> = match e.from.kind {
            DeclKind::Config => users.get(e.from.name.as_str()).cloned().unwrap_or_default(),
            _ if deployed(env, &e.from) => vec![&e.from],
            _ => Vec::new(),
        };
        let ports = match e.port {
            _ if e.to.kind == DeclKind::Infra => Ports::Any,
            Some(n) => {
                let protocol = declared(env, &e.to).get(&n).copied().unwrap_or("TCP");
                Ports::Only(BTreeSet::from([(n, protocol)]))
            }
            None => {
                let all: BTreeSet<(i64, &'static str)> = declared(env, &e.to).into_iter().collect();
                if all.is_empty() {
                    Ports::Any
                } else {
                    Ports::Only(all)
                }
            }
        };
        for from in sources {
            if *from == e.to {
                continue;
            }
            out.entry((from.clone(), e.to.clone()))
                .and_modify(|p| p.add(ports.clone()))
                .or_insert_with(|| ports.clone());
        }
    }
    out.into_iter()
        .map(|((from, to), ports)| Flow { from, to, ports })
        .collect()
}

/// The allow-list as JSON: `{"env", "network_policy", "flows": [{"from",
/// "to", "ports": null | [{"port", "protocol"}]}]}` (`null`: any port).
pub fn json(env: &EnvModel, flows: &[Flow]) -> String {
    let flows: Vec<serde_json::Value> = flows
        .iter()
        .map(|f| {
            let ports = match &f.ports {
                Ports::Any => serde_json::Value::Null,
                Ports::Only(p) => p
                    .iter()
                    .map(|(n, proto)| serde_json::json!({"port": n, "protocol": proto}))
                    .collect(),
            };
            serde_json::json!({
                "from": super::node_id(&f.from).as_str(),
                "to": super::node_id(&f.to).as_str(),
                "ports": ports,
            })
        })
        .collect();
    let enforced = env.settings().network_policy().and_then(Value::as_str) == Some("graph");
    serde_json::to_string_pretty(&serde_json::json!({
        "env": env.name,
        "network_policy": if enforced { "graph" } else { "none" },
        "flows": flows,
    }))
    .unwrap_or_default()
}

/// The allow-list as text: one line per flow, `from -> to: ports`.
pub fn render(env: &EnvModel, flows: &[Flow]) -> String {
    let enforced = env.settings().network_policy().and_then(Value::as_str) == Some("graph");
    let mut s = format!(
        "# traffic of env `{}`: {}\n",
        env.name,
        if enforced {
            "enforced by NetworkPolicies (network_policy = \"graph\"), with DNS and each declaration's allow_from / allow_to"
        } else {
            "not enforced (set network_policy = \"graph\" on the env)"
        }
    );
    for f in flows {
        let ports = match &f.ports {
            Ports::Any => "any port".to_string(),
            Ports::Only(p) => p
                .iter()
                .map(|(n, proto)| {
                    if *proto == "TCP" {
                        n.to_string()
                    } else {
                        format!("{n}/{proto}")
                    }
                })
                .collect::<Vec<_>>()
                .join(", "),
        };
        s.push_str(&format!(
            "{} -> {}: {ports}\n",
            super::node_id(&f.from),
            super::node_id(&f.to)
        ));
    }
    s
}
