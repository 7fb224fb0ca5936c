//! P005 (static part): a tilt env never deploys an object whose name equals
//! one a GitOps env deploys to the same cluster and namespace. When either
//! env has no `cluster.context`, a collision is a warning.

use super::rule;
use crate::diag::{Code, Diagnostic, Severity};
use crate::model::{EnvModel, Value};

fn ns(e: &EnvModel) -> &str {
    e.settings()
        .namespace()
        .and_then(Value::as_str)
        .unwrap_or("default")
}

fn ctx(e: &EnvModel) -> Option<&str> {
    e.settings().context_name()
}

pub(super) fn check(envs: &[EnvModel], out: &mut Vec<Diagnostic>) {
    for tilt in envs.iter().filter(|e| !e.env_kind().pinned()) {
        for gitops in envs.iter().filter(|e| e.env_kind().pinned()) {
            if ns(tilt) != ns(gitops) {
                continue;
            }
            let same_cluster = match (ctx(tilt), ctx(gitops)) {
                (Some(a), Some(b)) if a != b => continue,
                (Some(_), Some(_)) => true,
                _ => false,
            };
            // Names the GitOps env deploys (services and infra releases).
            let owned: std::collections::BTreeMap<&str, crate::Span> = gitops
                .infras
                .values()
                .chain(gitops.services.values())
                .map(|g| (g.k8s_name.as_str(), g.name_span))
                .collect();
            for s in tilt.services.values() {
                if let Some(&other) = owned.get(s.k8s_name.as_str()) {
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

/// The live part: an object the env would apply exists in the cluster and
/// belongs to someone else (found by the cluster verbs and flux releases
/// against the live objects; `--adopt` takes it over).
pub fn taken(span: crate::Span, message: String, help: &str) -> Diagnostic {
    Diagnostic::new(Code::P005, span, message).help(help.to_string())
}
