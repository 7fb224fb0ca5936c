//! The env's Flux objects in the cluster: which they are (from the
//! rendered `flux/` and `infra/` folders), their live state, a reconcile
//! request the way `flux reconcile` makes it, the wait for the pushed
//! commit, and suspend/resume.

use super::tree::objects;
use super::Tree;
use crate::cluster::engine::diagnose;
use crate::cluster::{Cluster, Failure, Json, Key};
use crate::diag::{Code, Diagnostic};
use crate::source::Span;
use std::time::Duration;

const NOT_THERE: &str = "not in the cluster yet";

/// The annotation `flux reconcile` sets to ask for a reconcile now.
pub const REQUESTED_AT: &str = "reconcile.fluxcd.io/requestedAt";

/// The env's Flux objects: sources, Kustomizations and HelmReleases, from
/// the rendered tree.
pub fn flux_objects(tree: &Tree) -> Vec<(Key, Json)> {
    let mut out: Vec<(Key, Json)> = tree
        .iter()
        .filter(|(p, _)| p.starts_with("flux/") || p.starts_with("infra/"))
        .flat_map(|(_, b)| objects(b))
        .filter(|(k, _)| k.api_version.contains("fluxcd.io"))
        .collect();
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out.dedup_by(|a, b| a.0 == b.0);
    out
}

fn is(k: &Key, kind: &str) -> bool {
    k.kind == kind
}

/// The env's Kustomizations (what a release waits for).
pub fn kustomizations(objs: &[(Key, Json)]) -> Vec<Key> {
    objs.iter()
        .filter(|(k, _)| {
            is(k, "Kustomization") && k.api_version.starts_with("kustomize.toolkit.fluxcd.io")
        })
        .map(|(k, _)| k.clone())
        .collect()
}

/// Live state of one Flux object.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct State {
    /// `Kustomization flux-system/shop-prod-apps`.
    pub object: String,
    /// Whether it exists.
    pub present: bool,
    /// Ready: `True`, `False`, `Unknown`.
    pub ready: String,
    /// The Ready condition's reason and message.
    pub message: String,
    /// `spec.suspend`.
    pub suspended: bool,
    /// `status.lastAppliedRevision` (Kustomizations, HelmReleases) or
    /// `status.artifact.revision` (sources).
    pub revision: String,
}

fn ready_condition(o: &Json) -> (String, String, String) {
    let c = o
        .pointer("/status/conditions")
        .and_then(Json::as_array)
        .and_then(|cs| {
            cs.iter()
                .find(|c| c.get("type").and_then(Json::as_str) == Some("Ready"))
        });
    let s = |k: &str| {
        c.and_then(|c| c.get(k))
            .and_then(Json::as_str)
            .unwrap_or("")
            .to_string()
    };
    (
        if c.is_some() {
            s("status")
        } else {
            "Unknown".into()
        },
        s("reason"),
        s("message"),
    )
}

fn revision(o: &Json) -> String {
    o.pointer("/status/lastAppliedRevision")
        .or_else(|| o.pointer("/status/artifact/revision"))
        .and_then(Json::as_str)
        .unwrap_or("")
        .to_string()
}

/// Whether a Flux revision (`main@sha1:abc…`, or a bare SHA) is `sha`.
pub fn at_commit(rev: &str, sha: &str) -> bool {
    let r = rev.rsplit(':').next().unwrap_or(rev);
    let r = r.rsplit('@').next().unwrap_or(r);
    !sha.is_empty() && !r.is_empty() && (r == sha || (r.len() >= 7 && sha.starts_with(r)))
}

/// The live state of each Flux object.
pub async fn states<C: Cluster>(
    c: &C,
    objs: &[(Key, Json)],
    span: Span,
) -> Result<Vec<State>, Diagnostic> {
    let mut out = Vec::new();
    for (k, _) in objs {
        let live = match c.get(k).await {
            Ok(o) => o,
            Err(Failure::Status { code: 404, .. }) => None,
            Err(f @ Failure::NotServed { .. }) => {
                return Err(diagnose(&f, &format!("reading {k}"), span).help(
                    "install Flux in the cluster (`flux install`), then `shipc apply --bootstrap`",
                ))
            }
            Err(f) => return Err(diagnose(&f, &format!("reading {k}"), span)),
        };
        out.push(match live {
            None => State {
                object: k.to_string(),
                present: false,
                ready: "Unknown".into(),
                message: "not in the cluster".into(),
                suspended: false,
                revision: String::new(),
            },
            Some(o) => {
                let (ready, reason, message) = ready_condition(&o);
                State {
                    object: k.to_string(),
                    present: true,
                    ready,
                    message: if reason.is_empty() {
                        message
                    } else {
                        format!("{reason}: {message}")
                    },
                    suspended: o
                        .pointer("/spec/suspend")
                        .and_then(Json::as_bool)
                        .unwrap_or(false),
                    revision: revision(&o),
                }
            }
        });
    }
    Ok(out)
}

/// Ask Flux to reconcile the sources and Kustomizations now (the
/// `reconcile.fluxcd.io/requestedAt` annotation, as `flux reconcile`).
pub async fn request_reconcile<C: Cluster>(
    c: &C,
    objs: &[(Key, Json)],
    now: &str,
    span: Span,
) -> Result<usize, Diagnostic> {
    let mut n = 0;
    for (k, _) in objs {
        let wanted = is(k, "GitRepository") || is(k, "OCIRepository") || is(k, "Kustomization");
        if !wanted {
            continue;
        }
        let patch = serde_json::json!({"metadata": {"annotations": {REQUESTED_AT: now}}});
        match c.merge_patch(k, &patch).await {
            Ok(_) => n += 1,
            // Not there (yet): the cluster's own Flux may create it from
            // the pushed tree; the wait reports it if it never comes.
            Err(Failure::Status { code: 404, .. }) => {}
            Err(f) => {
                return Err(diagnose(
                    &f,
                    &format!("requesting a reconcile of {k}"),
                    span,
                ))
            }
        }
    }
    Ok(n)
}

/// Set `spec.suspend` on the env's Kustomizations and HelmReleases.
pub async fn suspend<C: Cluster>(
    c: &C,
    objs: &[(Key, Json)],
    on: bool,
    span: Span,
) -> Result<Vec<Key>, Diagnostic> {
    let mut done = Vec::new();
    for (k, _) in objs {
        if !(is(k, "Kustomization") || is(k, "HelmRelease")) {
            continue;
        }
        let patch = serde_json::json!({"spec": {"suspend": on}});
        c.merge_patch(k, &patch).await.map_err(|f| {
            diagnose(
                &f,
                &format!("{} {k}", if on { "suspending" } else { "resuming" }),
                span,
            )
        })?;
        done.push(k.clone());
    }
    Ok(done)
}

/// Reasons of a `Ready=False` that mean the reconcile failed (not "still
/// working on it").
fn failed(reason: &str) -> bool {
    !matches!(
        reason,
        "" | "Progressing"
            | "DependencyNotReady"
            | "ProgressingWithRetry"
            | "ReconciliationInProgress"
    )
}

/// Wait until every Kustomization is Ready at `sha`; a failure stops the
/// wait with Flux's own message (K009); the deadline is K007.
pub async fn wait<C: Cluster>(
    c: &C,
    ks: &[Key],
    sha: &str,
    deadline: Duration,
    span: Span,
    progress: &mut dyn FnMut(&str, &str),
) -> Result<(), Diagnostic> {
    let mut last: Vec<String> = Vec::new();
    loop {
        let mut pending = Vec::new();
        for k in ks {
            let o = match c.get(k).await {
                Ok(Some(o)) => o,
                Ok(None) | Err(Failure::Status { code: 404, .. }) => {
                    pending.push((k.clone(), NOT_THERE.to_string()));
                    continue;
                }
                Err(f) => return Err(diagnose(&f, &format!("waiting for {k}"), span)),
            };
            if o.pointer("/spec/suspend").and_then(Json::as_bool) == Some(true) {
                return Err(Diagnostic::new(
                    Code::K009,
                    span,
                    format!("{k} is suspended: Flux will not apply the release"),
                )
                .help("resume it (`shipc resume --env E`), or apply with `--no-wait`"));
            }
            let (ready, reason, message) = ready_condition(&o);
            let rev = revision(&o);
            if ready == "True" && at_commit(&rev, sha) {
                continue;
            }
            if ready == "False"
                && failed(&reason)
                && (at_commit(&rev, sha)
                    || o.pointer("/status/lastAttemptedRevision")
                        .and_then(Json::as_str)
                        .is_some_and(|r| at_commit(r, sha)))
            {
                return Err(Diagnostic::new(
                    Code::K009,
                    span,
                    format!("Flux failed to apply the release: {k}: {reason}"),
                )
                .note(format!("Flux says: {message}"))
                .help(format!(
                    "`kubectl describe {} {} -n {}` shows the events",
                    k.kind.to_ascii_lowercase(),
                    k.name,
                    k.namespace.as_deref().unwrap_or("flux-system")
                )));
            }
            let why = if rev.is_empty() {
                format!("Ready={ready} {reason}")
            } else {
                format!("Ready={ready} {reason}, at {rev}")
            };
            pending.push((k.clone(), why));
        }
        if pending.is_empty() {
            return Ok(());
        }
        let now: Vec<String> = pending.iter().map(|(k, w)| format!("{k}: {w}")).collect();
        if now != last {
            for (k, w) in &pending {
                progress(&k.to_string(), w);
            }
            last = now;
        }
        if c.elapsed() >= deadline {
            let list = pending
                .iter()
                .map(|(k, w)| format!("{k} ({w})"))
                .collect::<Vec<_>>()
                .join("; ");
            let missing = pending.iter().any(|(_, w)| w == NOT_THERE);
            let help = if missing {
                "the env's Flux objects are not in the cluster: `shipc apply --bootstrap` applies them (or let the cluster's Flux apply the env's `flux/` folder)"
            } else {
                "`flux get kustomizations` shows what Flux is doing; raise `--timeout`, or apply with `--no-wait`"
            };
            return Err(Diagnostic::new(
                Code::K007,
                span,
                format!(
                    "timed out waiting for Flux to apply commit {}: {list}",
                    sha.get(..12).unwrap_or(sha)
                ),
            )
            .help(help));
        }
        c.sleep(Duration::from_millis(500)).await;
    }
}

/// `shipc reconcile`: wait until every Kustomization has handled the
/// request (`status.lastHandledReconcileAt` = `token`) and is Ready, or
/// reports a failure (K009), or the deadline (K007).
pub async fn wait_handled<C: Cluster>(
    c: &C,
    ks: &[Key],
    token: &str,
    deadline: Duration,
    span: Span,
) -> Result<(), Diagnostic> {
    loop {
        let mut pending = Vec::new();
        for k in ks {
            let o = match c.get(k).await {
                Ok(Some(o)) => o,
                Ok(None) | Err(Failure::Status { code: 404, .. }) => {
                    return Err(Diagnostic::new(
                        Code::K004,
                        span,
                        format!("{k} is not in the cluster"),
                    )
                    .help("`shipc apply --env E --bootstrap` applies the env's Flux objects"))
                }
                Err(f) => return Err(diagnose(&f, &format!("waiting for {k}"), span)),
            };
            let handled = o
                .pointer("/status/lastHandledReconcileAt")
                .and_then(Json::as_str)
                == Some(token);
            let (ready, reason, message) = ready_condition(&o);
            if handled && ready == "True" {
                continue;
            }
            if handled && ready == "False" && failed(&reason) {
                return Err(Diagnostic::new(
                    Code::K009,
                    span,
                    format!("Flux failed to reconcile {k}: {reason}"),
                )
                .note(format!("Flux says: {message}")));
            }
            pending.push(format!("{k} (Ready={ready} {reason})"));
        }
        if pending.is_empty() {
            return Ok(());
        }
        if c.elapsed() >= deadline {
            return Err(Diagnostic::new(
                Code::K007,
                span,
                format!(
                    "timed out waiting for Flux to reconcile: {}",
                    pending.join("; ")
                ),
            )
            .help("`flux get kustomizations` shows what Flux is doing"));
        }
        c.sleep(Duration::from_millis(500)).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flux_revisions() {
        assert!(at_commit("main@sha1:0123456789abcdef", "0123456789abcdef"));
        assert!(at_commit("0123456789abcdef", "0123456789abcdef"));
        assert!(!at_commit("main@sha1:0123456789abcdef", "fedcba"));
        assert!(!at_commit("", "abc"));
    }
}
