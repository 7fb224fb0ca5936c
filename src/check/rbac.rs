//! Checks of a service's RBAC `rules` (E2042): an account to bind them to,
//! Kubernetes' verbs, API group and resource names, built-in resources in
//! the group that serves them, cluster-scoped resources only in
//! `cluster = true` rules, and `names` only with verbs that can use them.
//!
//! Built-in API groups are checked against the resources Kubernetes 1.33
//! serves; any other group (a CRD's, `metrics.k8s.io`'s) passes as data
//! once its names are well formed.

use crate::diag::{suggest, Code, Diagnostic, Diagnostics};
use crate::model::view::AccessRule;
use crate::model::{Decl, Value, V};

/// The verbs RBAC knows: the API verbs, and the special ones some
/// resources check (`bind` / `escalate` on roles, `impersonate`, `use`,
/// `approve` / `sign` on certificate requests).
pub const VERBS: &[&str] = &[
    "get",
    "list",
    "watch",
    "create",
    "update",
    "patch",
    "delete",
    "deletecollection",
    "bind",
    "escalate",
    "impersonate",
    "use",
    "approve",
    "sign",
    "*",
];

/// A built-in API group: its namespaced and its cluster-scoped resources
/// (subresources included).
struct Group {
    name: &'static str,
    namespaced: &'static [&'static str],
    cluster: &'static [&'static str],
}

const GROUPS: &[Group] = &[
    Group {
        name: "",
        namespaced: &[
            "pods",
            "pods/log",
            "pods/exec",
            "pods/attach",
            "pods/portforward",
            "pods/proxy",
            "pods/status",
            "pods/eviction",
            "pods/ephemeralcontainers",
            "pods/binding",
            "pods/resize",
            "services",
            "services/proxy",
            "services/status",
            "endpoints",
            "configmaps",
            "secrets",
            "serviceaccounts",
            "serviceaccounts/token",
            "persistentvolumeclaims",
            "persistentvolumeclaims/status",
            "events",
            "limitranges",
            "resourcequotas",
            "resourcequotas/status",
            "replicationcontrollers",
            "replicationcontrollers/scale",
            "replicationcontrollers/status",
            "podtemplates",
            "bindings",
        ],
        cluster: &[
            "nodes",
            "nodes/status",
            "nodes/proxy",
            "namespaces",
            "namespaces/status",
            "namespaces/finalize",
            "persistentvolumes",
            "persistentvolumes/status",
            "componentstatuses",
        ],
    },
    Group {
        name: "apps",
        namespaced: &[
            "deployments",
            "deployments/scale",
            "deployments/status",
            "statefulsets",
            "statefulsets/scale",
            "statefulsets/status",
            "daemonsets",
            "daemonsets/status",
            "replicasets",
            "replicasets/scale",
            "replicasets/status",
            "controllerrevisions",
        ],
        cluster: &[],
    },
    Group {
        name: "batch",
        namespaced: &["jobs", "jobs/status", "cronjobs", "cronjobs/status"],
        cluster: &[],
    },
    Group {
        name: "autoscaling",
        namespaced: &[
            "horizontalpodautoscalers",
            "horizontalpodautoscalers/status",
        ],
        cluster: &[],
    },
    Group {
        name: "policy",
        namespaced: &["poddisruptionbudgets", "poddisruptionbudgets/status"],
        cluster: &[],
    },
    Group {
        name: "networking.k8s.io",
        namespaced: &["networkpolicies", "ingresses", "ingresses/status"],
        cluster: &[
            "ingressclasses",
            "ipaddresses",
            "servicecidrs",
            "servicecidrs/status",
        ],
    },
    Group {
        name: "rbac.authorization.k8s.io",
        namespaced: &["roles", "rolebindings"],
        cluster: &["clusterroles", "clusterrolebindings"],
    },
    Group {
        name: "coordination.k8s.io",
        namespaced: &["leases"],
        cluster: &[],
    },
    Group {
        name: "discovery.k8s.io",
        namespaced: &["endpointslices"],
        cluster: &[],
    },
    Group {
        name: "events.k8s.io",
        namespaced: &["events"],
        cluster: &[],
    },
    Group {
        name: "storage.k8s.io",
        namespaced: &["csistoragecapacities"],
        cluster: &[
            "storageclasses",
            "volumeattachments",
            "volumeattachments/status",
            "csidrivers",
            "csinodes",
            "volumeattributesclasses",
        ],
    },
    Group {
        name: "apiextensions.k8s.io",
        namespaced: &[],
        cluster: &[
            "customresourcedefinitions",
            "customresourcedefinitions/status",
        ],
    },
    Group {
        name: "admissionregistration.k8s.io",
        namespaced: &[],
        cluster: &[
            "mutatingwebhookconfigurations",
            "validatingwebhookconfigurations",
            "validatingadmissionpolicies",
            "validatingadmissionpolicies/status",
            "validatingadmissionpolicybindings",
        ],
    },
    Group {
        name: "certificates.k8s.io",
        namespaced: &[],
        cluster: &[
            "certificatesigningrequests",
            "certificatesigningrequests/approval",
            "certificatesigningrequests/status",
        ],
    },
    Group {
        name: "authentication.k8s.io",
        namespaced: &[],
        cluster: &["tokenreviews", "selfsubjectreviews"],
    },
    Group {
        name: "authorization.k8s.io",
        namespaced: &["localsubjectaccessreviews"],
        cluster: &[
            "subjectaccessreviews",
            "selfsubjectaccessreviews",
            "selfsubjectrulesreviews",
        ],
    },
    Group {
        name: "scheduling.k8s.io",
        namespaced: &[],
        cluster: &["priorityclasses"],
    },
    Group {
        name: "node.k8s.io",
        namespaced: &[],
        cluster: &["runtimeclasses"],
    },
    Group {
        name: "apiregistration.k8s.io",
        namespaced: &[],
        cluster: &["apiservices", "apiservices/status"],
    },
    Group {
        name: "flowcontrol.apiserver.k8s.io",
        namespaced: &[],
        cluster: &["flowschemas", "prioritylevelconfigurations"],
    },
];

/// Whether Kubernetes 1.33 serves an API group itself (else it is a
/// CRD's, or an aggregated API's).
pub fn builtin_group(name: &str) -> bool {
    group(name).is_some()
}

fn group(name: &str) -> Option<&'static Group> {
    GROUPS.iter().find(|g| g.name == name)
}

fn shown_group(g: &str) -> String {
    if g.is_empty() {
        "the core group \"\"".into()
    } else {
        format!("`{g}`")
    }
}

/// Whether `s` is a resource name as RBAC writes it: `pods`, `pods/log`.
fn resource_name(s: &str) -> bool {
    let mut parts = s.split('/');
    let ok = |p: Option<&str>| {
        p.is_some_and(|p| {
            !p.is_empty()
                && p.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'.')
        })
    };
    ok(parts.next()) && parts.next().is_none_or(|p| ok(Some(p))) && parts.next().is_none()
}

/// Check a service's `rules`.
pub fn service(d: &Decl, diags: &mut Diagnostics) {
    let Some(rules) = d.service().rules() else {
        return;
    };
    if rules.as_list().is_empty() {
        return;
    }
    let account = d.service().service_account();
    if matches!(account.map(|a| &a.kind), None | Some(V::Bool(false))) {
        diags.push(
            Diagnostic::new(
                Code::E2042,
                rules.span,
                format!("`{}` grants RBAC rules but runs without a ServiceAccount", d.id.name),
            )
            .label("no account to bind these to")
            .help("set `service_account = true` (an account named after the service), or name an existing shared one: `service_account = \"discovery\"`"),
        );
    }
    for r in rules.as_list() {
        rule(r, diags);
    }
}

fn err(diags: &mut Diagnostics, span: crate::source::Span, msg: String, label: &str, help: String) {
    diags.push(
        Diagnostic::new(Code::E2042, span, msg)
            .label(label)
            .help(help),
    );
}

fn list(v: Option<&Value>) -> &[Value] {
    v.map(Value::as_list).unwrap_or(&[])
}

fn rule(r: &Value, diags: &mut Diagnostics) {
    let a = AccessRule::of(r);
    let cluster = a.cluster().and_then(Value::as_bool) == Some(true);
    let groups = list(a.api_groups());
    let resources = list(a.resources());
    let verbs = list(a.verbs());
    let names = list(a.names());
    for (field, items) in [
        ("api_groups", groups),
        ("resources", resources),
        ("verbs", verbs),
    ] {
        if items.is_empty() {
            let span = match field {
                "api_groups" => a.api_groups(),
                "resources" => a.resources(),
                _ => a.verbs(),
            }
            .map_or(r.span, |v| v.span);
            err(
                diags,
                span,
                format!("an RBAC rule with no {field} grants nothing"),
                "empty",
                match field {
                    "api_groups" => "list the API groups: `[\"\"]` is the core group (pods, services, configmaps)".into(),
                    "resources" => "list the resources, e.g. `[\"pods\", \"endpoints\"]`".into(),
                    _ => "list the verbs, e.g. `[\"get\", \"list\", \"watch\"]`".into(),
                },
            );
        }
    }
    for v in verbs {
        let Some(verb) = v.as_str() else { continue };
        if !VERBS.contains(&verb) {
            let hint = suggest::did_you_mean(&verb.to_ascii_lowercase(), VERBS)
                .map(|h| format!("{h} "))
                .unwrap_or_default();
            err(
                diags,
                v.span,
                format!("`{verb}` is not a Kubernetes RBAC verb"),
                "unknown verb",
                format!("{hint}RBAC verbs are {}", VERBS.join(", ")),
            );
        }
        if !names.is_empty() && matches!(verb, "create" | "deletecollection") {
            err(
                diags,
                v.span,
                format!("`{verb}` cannot be limited to named objects"),
                "`names` does not apply",
                format!("Kubernetes does not authorize `{verb}` by resource name: grant it in a rule without `names`"),
            );
        }
    }
    let group_names: Vec<&str> = groups.iter().filter_map(Value::as_str).collect();
    for g in groups {
        let Some(name) = g.as_str() else { continue };
        if !(name.is_empty() || name == "*" || crate::names::dns_subdomain(name).is_ok()) {
            err(
                diags,
                g.span,
                format!("`{name}` is not an API group name"),
                "invalid API group",
                "an API group is a lower-case DNS name (`apps`, `batch`, `cert-manager.io`), \"\" for the core group, or \"*\"".into(),
            );
        }
    }
    for res in resources {
        let Some(name) = res.as_str() else { continue };
        if name == "*" {
            continue;
        }
        if !resource_name(name) {
            err(
                diags,
                res.span,
                format!("`{name}` is not a resource name"),
                "invalid resource",
                "resources are lower-case plural names, with an optional subresource: `pods`, `pods/log`, `deployments/scale`".into(),
            );
            continue;
        }
        resource(name, res.span, &group_names, cluster, diags);
    }
}

/// A resource against the built-in groups of the rule: served by one of
/// them (unless a group is a CRD's or `*`), and namespaced unless the rule
/// is a cluster rule.
fn resource(
    name: &str,
    span: crate::source::Span,
    groups: &[&str],
    cluster: bool,
    diags: &mut Diagnostics,
) {
    if groups.iter().any(|g| *g == "*" || group(g).is_none()) {
        return;
    }
    let serving: Vec<&Group> = groups.iter().filter_map(|g| group(g)).collect();
    if let Some(g) = serving.iter().find(|g| g.cluster.contains(&name)) {
        if !cluster {
            err(
                diags,
                span,
                format!("`{name}` is cluster-scoped: a namespaced Role cannot grant it"),
                "cluster-scoped resource",
                format!(
                    "set `cluster = true` on this rule: a ClusterRole can grant `{name}` ({})",
                    shown_group(g.name)
                ),
            );
        }
        return;
    }
    if serving.iter().any(|g| g.namespaced.contains(&name)) {
        return;
    }
    // Served by another built-in group?
    let elsewhere: Vec<&str> = GROUPS
        .iter()
        .filter(|g| g.namespaced.contains(&name) || g.cluster.contains(&name))
        .map(|g| g.name)
        .collect();
    if let Some(g) = elsewhere.first() {
        err(
            diags,
            span,
            format!(
                "`{name}` is not served by {}",
                groups
                    .iter()
                    .map(|g| shown_group(g))
                    .collect::<Vec<_>>()
                    .join(" or ")
            ),
            "wrong API group",
            format!(
                "`{name}` is in {}: add `\"{g}\"` to `api_groups`",
                shown_group(g)
            ),
        );
        return;
    }
    let known = serving
        .iter()
        .flat_map(|g| g.namespaced.iter().chain(g.cluster.iter()))
        .copied();
    let help = match suggest::did_you_mean(name, known) {
        Some(h) => format!("{h} RBAC names resources in the plural, as the API's URLs do"),
        None => "RBAC names resources in the plural, as the API's URLs do (`kubectl api-resources` lists them)".into(),
    };
    err(
        diags,
        span,
        format!(
            "{} has no resource `{name}`",
            groups
                .iter()
                .map(|g| shown_group(g))
                .collect::<Vec<_>>()
                .join(" or ")
        ),
        "unknown resource",
        help,
    );
}
