//! P005 (static part): a tilt env never deploys an object whose name equals
//! one a GitOps env deploys to the same cluster and namespace. When either
//! env has no `cluster.context`, a collision is a warning.

use super::rule;
use crate::diag::{Code, Diagnostic, Severity};
use crate::model::{EnvModel, Value};

fn ns(e: &EnvModel) -> &str {
    e.env
        .path("cluster.namespace")
        .and_then(Value::as_str)
        .unwrap_or("default")
}

fn ctx(e: &EnvModel) -> Option<&str> {
    e.env.path("cluster.context").and_then(Value::as_str)
}

pub(super) fn check(envs: &[EnvModel], out: &mut Vec<Diagnostic>) {
    for tilt in envs.iter().filter(|e| e.kind() == "tilt") {
        for gitops in envs.iter().filter(|e| e.kind() != "tilt") {
            if ns(tilt) != ns(gitops) {
                continue;
            }
            let same_cluster = match (ctx(tilt), ctx(gitops)) {
                (Some(a), Some(b)) if a != b => continue,
                (Some(_), Some(_)) => true,
                _ => false,
            };
            for s in tilt.services.values() {
                let clash = gitops.services.values().find(|g| g.k8s_name == s.k8s_name);
                let infra_clash = gitops.infras.values().find(|g| g.k8s_name == s.k8s_name);
                let other_span = clash
                    .map(|g| g.name_span)
                    .or(infra_clash.map(|g| g.name_span));
                if let Some(other) = other_span {
                    let mut d = rule(
                        Code::P005,
                        s.name_span,
                        format!(
                            "tilt env `{}` and {} env `{}` both deploy `{}` to namespace `{}`",
                            tilt.name,
                            gitops.kind(),
                            gitops.name,
                            s.k8s_name,
                            ns(tilt)
                        ),
                    )
                    .label("Tilt would take over an object GitOps owns")
                    .secondary(tilt.span, format!("env `{}`", tilt.name))
                    .help(format!(
                        "give env `{}` a `release_suffix` (e.g. \"-tilt\") or another namespace",
                        tilt.name
                    ));
                    if other != s.name_span {
                        d = d.secondary(other, "also deployed by the GitOps env");
                    }
                    if !same_cluster {
                        d.severity = Severity::Warning;
                        d = d.note("one of the envs names no `cluster.context`, so they may not share a cluster");
                    }
                    out.push(d);
                }
            }
        }
    }
}
