//! The verbs on any [`Cluster`]: `plan`, `apply`, `rollback`, `history`.
//! Requests go out with bounded concurrency; every refusal is found before
//! the first write; what each answer means is decided here, in code that
//! never touches the network itself.

// A `Diagnostic` is the error; boxing it buys nothing next to a request.
#![allow(clippy::result_large_err)]

mod apply;
mod rollback;

pub use apply::*;
pub use rollback::*;

use super::diff::{self, FieldChange};
use super::owner::{owner, Owner};
use super::record::{Release, Status, RECORD_ENV, RECORD_PROJECT};
use super::render::{Desired, Rendered};
use super::{Cluster, Failure, Json, Key, Write};
use crate::diag::{Code, Diagnostic};
use crate::source::Span;
use futures::stream::{self, StreamExt};
use std::collections::{BTreeMap, BTreeSet};

/// What a failed request means for the user: a K code, the span of the
/// `.ship` declaration the object came from, and a help line.
pub fn diagnose(f: &Failure, doing: &str, span: Span) -> Diagnostic {
    let d = |code, msg: String| Diagnostic::new(code, span, msg);
    match f {
        Failure::Unreachable(m) => d(Code::K001, format!("cannot reach the cluster while {doing}: {m}"))
            .help("check that the cluster runs and that the kubeconfig context's server address is right (`kubectl cluster-info`)"),
        Failure::Timeout(m) => d(Code::K007, format!("the API server did not answer in time while {doing}: {m}"))
            .help("retry, or raise `--request-timeout`"),
        Failure::NotServed { api_version, kind } => d(Code::K004, format!("the cluster does not serve `{kind}` in `{api_version}` ({doing})"))
            .help("install the CRD that defines it, or use an apiVersion the cluster serves (`kubectl api-resources`)"),
        Failure::Invalid(m) => d(Code::K012, format!("unexpected answer from the API server while {doing}: {m}")),
        Failure::Status { code, reason, message } => match code {
            401 => d(Code::K002, format!("the API server refused the credentials while {doing}"))
                .note(message.clone())
                .help("log in again or refresh the kubeconfig user's token (`kubectl auth whoami`)"),
            403 => d(Code::K003, format!("not allowed: {doing}"))
                .note(message.clone())
                .help("grant the user this verb on this resource (a Role or ClusterRole binding), or use a context whose user has it (`kubectl auth can-i`)"),
            404 => d(Code::K004, format!("not found while {doing}: {message}"))
                .help("the namespace or the kind does not exist in this cluster"),
            409 => d(Code::K005, format!("field conflict while {doing}"))
                .note(message.clone())
                .help("another field manager owns these fields: change them back with it, or pass `--adopt` to take them over"),
            400 | 422 => d(Code::K006, format!("the API server refused the object as invalid while {doing}"))
                .label("the object comes from this declaration")
                .note(message.clone()),
            500 if message.contains("typed patch") || message.contains("unknown field") => d(Code::K006, format!("the API server refused the object as invalid while {doing}"))
                .label("the object comes from this declaration")
                .note(message.clone()),
            _ => d(Code::K012, format!("the API server answered HTTP {code} {reason} while {doing}")).note(message.clone()),
        },
    }
}

/// What a plan does to one object.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    /// It does not exist yet.
    Create,
    /// It exists and applying changes it.
    Update,
    /// Applying changes nothing.
    Unchanged,
    /// This env owns it and no longer renders it (`--prune` deletes it).
    Delete,
}

/// One object of a plan.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Change {
    /// The object.
    #[serde(serialize_with = "key_string")]
    pub object: Key,
    /// What happens to it.
    pub action: Action,
    /// Field changes of an update (Secret values redacted).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub fields: Vec<FieldChange>,
    /// Why it is kept or skipped (a PVC without `--prune-volumes`, a
    /// Namespace that was there).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

fn key_string<S: serde::Serializer>(k: &Key, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&k.to_string())
}

/// A plan: every rendered object and every stale one, in apply order.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct Plan {
    /// The changes.
    pub changes: Vec<Change>,
    /// Whether the cluster holds a revision record of this env.
    #[serde(skip)]
    pub recorded: bool,
}

impl Plan {
    /// Whether applying would change anything.
    pub fn has_changes(&self) -> bool {
        self.changes
            .iter()
            .any(|c| c.action != Action::Unchanged && c.note.is_none())
    }

    /// How many objects take each action.
    pub fn count(&self, a: Action) -> usize {
        self.changes.iter().filter(|c| c.action == a).count()
    }
}

/// Options every verb shares.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Requests in flight at once.
    pub concurrency: usize,
    /// Take over objects of other owners and fields of other managers.
    pub adopt: bool,
    /// Also delete stale PVCs.
    pub prune_volumes: bool,
}

pub(super) async fn each<T, R, F, Fut>(items: Vec<T>, n: usize, f: F) -> Vec<R>
where
    F: Fn(T) -> Fut,
    Fut: std::future::Future<Output = R>,
{
    stream::iter(items)
        .map(f)
        .buffered(n.max(1))
        .collect()
        .await
}

/// The env's recorded revisions (valid ones, by number) and warnings for
/// records that are not valid.
pub async fn records<C: Cluster>(
    c: &C,
    r: &Rendered,
) -> Result<(BTreeMap<u64, Release>, Vec<Diagnostic>), Diagnostic> {
    let selector = format!("{RECORD_PROJECT}={},{RECORD_ENV}={}", r.project, r.env);
    let secrets = match c.list("v1", "Secret", Some(&r.namespace), &selector).await {
        Ok(s) => s,
        Err(Failure::Status { code: 404, .. }) => Vec::new(),
        Err(f) => return Err(diagnose(&f, "reading the revision records", r.span)),
    };
    let mut out = BTreeMap::new();
    let mut warnings = Vec::new();
    for s in &secrets {
        match Release::from_secret(s, &r.project, &r.env) {
            Ok(rel) => {
                out.insert(rel.revision, rel);
            }
            Err(e) => {
                let mut d = Diagnostic::new(Code::K011, r.span, e)
                    .help("shipc ignores it; delete it if nobody needs it");
                d.severity = crate::diag::Severity::Warning;
                warnings.push(d);
            }
        }
    }
    Ok((out, warnings))
}

/// The cluster as one read sees it: every object of each kind the env
/// renders (or its last revision applied), in each namespace involved —
/// one LIST per kind and namespace instead of a GET per object.
#[derive(Debug, Default)]
pub struct Snapshot {
    /// Live objects by key.
    pub objects: BTreeMap<Key, Json>,
}

/// Read the snapshot `r` needs. An unserved kind that `r` renders is K004
/// at the first object of that kind; one only the last revision had is
/// skipped (nothing of it can be left).
pub async fn snapshot<C: Cluster>(
    c: &C,
    r: &Rendered,
    last: Option<&Release>,
    s: &Settings,
) -> Result<Snapshot, Vec<Diagnostic>> {
    let mut kinds: BTreeMap<(String, String), Option<Span>> = BTreeMap::new();
    for d in &r.objects {
        kinds
            .entry((d.key.api_version.clone(), d.key.kind.clone()))
            .or_insert(Some(d.span));
    }
    let mut namespaces: BTreeSet<String> = r
        .objects
        .iter()
        .filter_map(|d| d.key.namespace.clone())
        .collect();
    for k in last.map(Release::keys).unwrap_or_default() {
        namespaces.extend(k.namespace.clone());
        kinds.entry((k.api_version, k.kind)).or_insert(None);
    }
    let kind_list: Vec<((String, String), Option<Span>)> = kinds.into_iter().collect();
    let found = each(kind_list, s.concurrency, |((av, k), span)| async move {
        let answer = c.kind(&av, &k).await;
        (av, k, span, answer)
    })
    .await;
    let mut errors = Vec::new();
    let mut jobs = Vec::new();
    for (av, k, span, answer) in found {
        match answer {
            Ok(kind) if kind.namespaced => {
                for ns in &namespaces {
                    jobs.push((av.clone(), k.clone(), Some(ns.clone()), span));
                }
            }
            Ok(_) => jobs.push((av, k, None, span)),
            Err(Failure::NotServed { .. }) if span.is_none() => {}
            Err(f) => errors.push(diagnose(
                &f,
                &format!("looking up `{k}` in `{av}`"),
                span.unwrap_or(r.span),
            )),
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    let answers = each(jobs, s.concurrency, |(av, k, ns, span)| async move {
        let listed = c.list(&av, &k, ns.as_deref(), "").await;
        (k, ns, span, listed)
    })
    .await;
    let mut snap = Snapshot::default();
    for (k, ns, span, listed) in answers {
        match listed {
            Ok(items) => {
                for o in items {
                    if let Some(key) = Key::of(&o) {
                        snap.objects.insert(key, o);
                    }
                }
            }
            Err(f) => {
                let what = match ns {
                    Some(ns) => format!("listing `{k}` objects in namespace `{ns}`"),
                    None => format!("listing `{k}` objects"),
                };
                errors.push(diagnose(&f, &what, span.unwrap_or(r.span)));
            }
        }
    }
    if errors.is_empty() {
        Ok(snap)
    } else {
        Err(errors)
    }
}

/// Objects this env owns in the cluster that `r` no longer renders
/// (Namespaces never).
pub(super) fn stale(r: &Rendered, snap: &Snapshot) -> Vec<Key> {
    let wanted: BTreeSet<&Key> = r.objects.iter().map(|d| &d.key).collect();
    snap.objects
        .iter()
        .filter(|(k, o)| {
            k.kind != "Namespace"
                && !wanted.contains(k)
                && owner(o, &r.project, &r.env) == Owner::This
        })
        .map(|(k, _)| k.clone())
        .collect()
}

pub(super) fn prune_note(k: &Key, s: &Settings) -> Option<String> {
    (k.kind == "PersistentVolumeClaim" && !s.prune_volumes)
        .then(|| "kept: volumes are pruned only with `--prune-volumes`".to_string())
}

/// The live object of each rendered one (none: absent), and P005 for
/// each that another owner holds (unless `--adopt`).
pub(super) fn live(
    r: &Rendered,
    snap: &Snapshot,
    s: &Settings,
) -> Result<Vec<Option<Json>>, Vec<Diagnostic>> {
    let mut out = Vec::new();
    let mut errors = Vec::new();
    for d in &r.objects {
        let o = snap.objects.get(&d.key).cloned();
        if let Some(o) = &o {
            if let Owner::Other(who) = owner(o, &r.project, &r.env) {
                if !s.adopt && d.key.kind != "Namespace" {
                    errors.push(
                        crate::policy::taken(
                            d.span,
                            format!("{} exists and belongs to {who}", d.key),
                            "pass `--adopt` to take it over, or rename the object",
                        )
                        .label("shipc would apply it from this declaration"),
                    );
                }
            }
        }
        out.push(o);
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(errors)
    }
}

/// Whether every field of `part` is in `whole` with the same value
/// (lists equal as a whole).
fn subset(part: &Json, whole: &Json) -> bool {
    match (part, whole) {
        (Json::Object(p), Json::Object(w)) => p
            .iter()
            .all(|(k, v)| w.get(k).is_some_and(|x| subset(v, x))),
        (a, b) => a == b,
    }
}

/// Unchanged without asking the server: the last deployed revision applied
/// exactly this object (so applying it again sets the same fields and
/// drops none) and every one of its values is live (nobody changed them).
/// Anything else — and every create — is decided by a dry-run apply.
fn surely_unchanged(d: &Desired, live: &Json, applied: &BTreeMap<Key, &Json>) -> bool {
    applied.get(&d.key).is_some_and(|a| **a == d.object)
        && subset(&diff::comparable(&d.object), live)
}

/// `shipc plan`: what applying `r` would change, computed with dry-run
/// server-side applies against the live objects.
pub async fn plan<C: Cluster>(c: &C, r: &Rendered, s: &Settings) -> Result<Plan, Vec<Diagnostic>> {
    let (recs, _) = records(c, r).await.map_err(|d| vec![d])?;
    let last = recs.values().next_back();
    let deployed = recs.values().rev().find(|x| x.status == Status::Deployed);
    let snap = snapshot(c, r, last, s).await?;
    let mut plan = plan_with(c, r, s, &snap, deployed).await?;
    plan.recorded = !recs.is_empty();
    Ok(plan)
}

/// [`plan`] on a snapshot already read.
async fn plan_with<C: Cluster>(
    c: &C,
    r: &Rendered,
    s: &Settings,
    snap: &Snapshot,
    deployed: Option<&Release>,
) -> Result<Plan, Vec<Diagnostic>> {
    let lives = live(r, snap, s)?;
    let applied: BTreeMap<Key, &Json> = deployed
        .map(|rel| {
            rel.objects
                .iter()
                .filter_map(|a| Some((Key::of(&a.object)?, &a.object)))
                .collect()
        })
        .unwrap_or_default();
    let missing_ns: BTreeSet<&str> = r
        .objects
        .iter()
        .zip(&lives)
        .filter(|(d, l)| d.key.kind == "Namespace" && l.is_none())
        .map(|(d, _)| d.key.name.as_str())
        .collect();
    let items: Vec<(&Desired, &Option<Json>)> = r.objects.iter().zip(&lives).collect();
    let answers = each(items, s.concurrency, |(d, l)| {
        let (missing_ns, applied) = (&missing_ns, &applied);
        async move {
            if d.key.kind == "Namespace" {
                return Ok(match l {
                    None => (Action::Create, Vec::new()),
                    Some(_) => (Action::Unchanged, Vec::new()),
                });
            }
            // Nothing can be dry-run into a namespace that does not exist
            // yet: everything in it is created.
            if d.key
                .namespace
                .as_deref()
                .is_some_and(|n| missing_ns.contains(n))
            {
                return Ok((Action::Create, Vec::new()));
            }
            if let Some(before) = l {
                if !s.adopt && surely_unchanged(d, before, applied) {
                    return Ok((Action::Unchanged, Vec::new()));
                }
            }
            let how = Write {
                dry_run: true,
                force: s.adopt,
            };
            let after = c.apply(&d.key, &d.object, how).await?;
            Ok(match l {
                None => (Action::Create, Vec::new()),
                Some(before) => {
                    let fields = diff::diff(before, &after);
                    if fields.is_empty() {
                        (Action::Unchanged, fields)
                    } else {
                        (Action::Update, fields)
                    }
                }
            })
        }
    })
    .await;
    let mut plan = Plan::default();
    let mut errors = Vec::new();
    for (d, a) in r.objects.iter().zip(answers) {
        match a {
            Ok((action, fields)) => plan.changes.push(Change {
                object: d.key.clone(),
                action,
                fields,
                note: None,
            }),
            Err(f) => errors.push(diagnose(&f, &format!("planning {}", d.key), d.span)),
        }
    }
    plan.changes
        .extend(stale(r, snap).into_iter().map(|k| Change {
            note: prune_note(&k, s),
            object: k,
            action: Action::Delete,
            fields: Vec::new(),
        }));
    if errors.is_empty() {
        Ok(plan)
    } else {
        Err(errors)
    }
}
