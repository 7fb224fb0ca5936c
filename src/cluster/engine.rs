//! The verbs on any [`Cluster`]: `plan`, `apply`, `rollback`, `history`.
//! Requests go out with bounded concurrency; every refusal is found before
//! the first write; what each answer means is decided here, in code that
//! never touches the network itself.

// A `Diagnostic` is the error; boxing it buys nothing next to a request.
#![allow(clippy::result_large_err)]

use super::diff::{self, FieldChange};
use super::owner::{owner, Owner};
use super::ready::{readiness, Ready};
use super::record::{Applied, Release, Status, RECORD_ENV, RECORD_PROJECT};
use super::render::{Desired, Rendered};
use super::{Cluster, Failure, Json, Key, Write};
use crate::diag::{Code, Diagnostic};
use crate::source::Span;
use futures::stream::{self, StreamExt};
use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

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

async fn each<T, R, F, Fut>(items: Vec<T>, n: usize, f: F) -> Vec<R>
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
fn stale(r: &Rendered, snap: &Snapshot) -> Vec<Key> {
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

fn prune_note(k: &Key, s: &Settings) -> Option<String> {
    (k.kind == "PersistentVolumeClaim" && !s.prune_volumes)
        .then(|| "kept: volumes are pruned only with `--prune-volumes`".to_string())
}

/// The live object of each rendered one (none: absent), and P005 for
/// each that another owner holds (unless `--adopt`).
fn live(r: &Rendered, snap: &Snapshot, s: &Settings) -> Result<Vec<Option<Json>>, Vec<Diagnostic>> {
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

/// What `apply` reports as it goes.
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    /// A wave starts: its place (0 = Namespaces), how many waves there
    /// are, how many objects it has.
    Wave(usize, usize, usize),
    /// An object was written: created, configured or unchanged.
    Applied(Key, Action),
    /// A wave waits for these objects, with why.
    Waiting(Vec<(Key, String)>),
    /// An object became ready.
    Ready(Key),
    /// A stale object was deleted.
    Deleted(Key),
    /// `--atomic`: restoring this revision (0: none, deleting what the
    /// failed apply created).
    Restoring(u64),
}

/// `apply` and `rollback` options.
#[derive(Debug, Clone)]
pub struct ApplyOptions {
    /// Concurrency, adoption, volumes.
    pub settings: Settings,
    /// Delete stale objects this env owns.
    pub prune: bool,
    /// Wait for each wave to become ready.
    pub wait: bool,
    /// Restore the previous revision on any failure.
    pub atomic: bool,
    /// The whole apply's time limit.
    pub timeout: Duration,
    /// How many revision records to keep.
    pub history_max: usize,
    /// Now, RFC 3339 UTC (the record's time).
    pub now: String,
    /// sha256 of the sources and ship.lock.
    pub source_hash: String,
    /// What this revision is (`apply`, `rollback to 3`).
    pub description: String,
}

/// What an apply did.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Outcome {
    /// The revision recorded.
    pub revision: u64,
    /// Its status.
    pub status: Status,
    /// Each object and what happened to it.
    pub changes: Vec<Change>,
    /// The revision restored after a failure (`--atomic`), 0 when the
    /// failed apply had no predecessor and what it created was deleted.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub restored: Option<u64>,
    /// Image references that differ from the previous revision.
    pub images_changed: Vec<String>,
}

/// Write objects of one wave; the written object of each.
async fn write_wave<C: Cluster>(
    c: &C,
    objs: &[&Desired],
    lives: &BTreeMap<Key, Option<Json>>,
    force: bool,
    n: usize,
    progress: &mut dyn FnMut(Event),
) -> Result<Vec<Change>, Diagnostic> {
    let answers = each(objs.to_vec(), n, |d| async move {
        let before = lives.get(&d.key).cloned().flatten();
        if d.key.kind == "Namespace" && before.is_some() {
            // A namespace that was there stays as it is (others may share it).
            return Ok((Action::Unchanged, Vec::new()));
        }
        let after = c
            .apply(
                &d.key,
                &d.object,
                Write {
                    dry_run: false,
                    force,
                },
            )
            .await?;
        Ok(match before {
            None => (Action::Create, Vec::new()),
            Some(b) => {
                let f = diff::diff(&b, &after);
                if f.is_empty() {
                    (Action::Unchanged, f)
                } else {
                    (Action::Update, f)
                }
            }
        })
    })
    .await;
    let mut out = Vec::new();
    for (d, a) in objs.iter().zip(answers) {
        match a {
            Ok((action, fields)) => {
                progress(Event::Applied(d.key.clone(), action));
                out.push(Change {
                    object: d.key.clone(),
                    action,
                    fields,
                    note: None,
                });
            }
            Err(f) => return Err(diagnose(&f, &format!("applying {}", d.key), d.span)),
        }
    }
    Ok(out)
}

/// Whether a PVC's StorageClass binds it at once (`volumeBindingMode:
/// Immediate`, the default), so `--wait` waits for `Bound`. A class that
/// waits for the first consumer, no class, or a cluster that does not
/// answer: the claim is ready when it exists.
async fn binds_immediately<C: Cluster>(c: &C, o: &Json) -> bool {
    if o.get("kind").and_then(Json::as_str) != Some("PersistentVolumeClaim") {
        return false;
    }
    let class = match o.pointer("/spec/storageClassName").and_then(Json::as_str) {
        Some(name) => c
            .get(&Key::new("storage.k8s.io/v1", "StorageClass", None, name))
            .await
            .ok()
            .flatten(),
        None => c
            .list("storage.k8s.io/v1", "StorageClass", None, "")
            .await
            .ok()
            .and_then(|all| {
                all.into_iter().find(|sc| {
                    sc.pointer("/metadata/annotations/storageclass.kubernetes.io~1is-default-class")
                        .and_then(Json::as_str)
                        == Some("true")
                })
            }),
    };
    class.is_some_and(|sc| {
        sc.get("volumeBindingMode")
            .and_then(Json::as_str)
            .unwrap_or("Immediate")
            == "Immediate"
    })
}

/// Wait until every object of a wave is ready, one fails, or the deadline.
async fn wait_wave<C: Cluster>(
    c: &C,
    objs: &[&Desired],
    deadline: Duration,
    n: usize,
    progress: &mut dyn FnMut(Event),
) -> Result<(), Diagnostic> {
    let mut pending: Vec<&Desired> = objs.to_vec();
    let mut last_reasons: Vec<(Key, String)> = Vec::new();
    let mut delay = Duration::from_millis(200);
    loop {
        let answers = each(pending.clone(), n, |d| async move { c.get(&d.key).await }).await;
        let mut still = Vec::new();
        let mut reasons = Vec::new();
        for (d, a) in pending.iter().zip(answers) {
            match a {
                Ok(Some(o)) => match readiness(&o, binds_immediately(c, &o).await) {
                    Ready::Yes => progress(Event::Ready(d.key.clone())),
                    Ready::Pending(why) => {
                        reasons.push((d.key.clone(), why));
                        still.push(*d);
                    }
                    Ready::Failed(why) => {
                        return Err(Diagnostic::new(
                            Code::K009,
                            d.span,
                            format!("{} failed: {why}", d.key),
                        )
                        .help(format!(
                            "look at its events and pods: `kubectl describe {} {} -n {}`",
                            d.key.kind.to_ascii_lowercase(),
                            d.key.name,
                            d.key.namespace.as_deref().unwrap_or("default")
                        )))
                    }
                },
                Ok(None) => {
                    reasons.push((d.key.clone(), "it disappeared".into()));
                    still.push(*d);
                }
                Err(f) => return Err(diagnose(&f, &format!("waiting for {}", d.key), d.span)),
            }
        }
        if still.is_empty() {
            return Ok(());
        }
        if reasons != last_reasons {
            progress(Event::Waiting(reasons.clone()));
            last_reasons = reasons.clone();
        }
        if c.elapsed() >= deadline {
            let first = still.first().map(|d| d.span).unwrap_or_default();
            let list = reasons
                .iter()
                .map(|(k, why)| format!("{k}: {why}"))
                .collect::<Vec<_>>()
                .join("; ");
            return Err(Diagnostic::new(
                Code::K007,
                first,
                format!("timed out waiting for {} object(s) to become ready: {list}", still.len()),
            )
            .help("look at their pods (`kubectl describe`), raise `--timeout`, or pass `--wait=false`"));
        }
        pending = still;
        c.sleep(delay).await;
        delay = (delay * 2).min(Duration::from_secs(2));
    }
}

/// Apply `objects` in waves; the changes, or the first failure.
async fn roll_out<C: Cluster>(
    c: &C,
    objects: &[Desired],
    lives: &BTreeMap<Key, Option<Json>>,
    o: &ApplyOptions,
    deadline: Duration,
    progress: &mut dyn FnMut(Event),
) -> Result<Vec<Change>, Diagnostic> {
    let waves: BTreeSet<usize> = objects.iter().map(|d| d.wave).collect();
    let total = waves.len();
    let mut changes = Vec::new();
    for (i, w) in waves.into_iter().enumerate() {
        let objs: Vec<&Desired> = objects.iter().filter(|d| d.wave == w).collect();
        progress(Event::Wave(i, total, objs.len()));
        let n = o.settings.concurrency;
        changes.extend(write_wave(c, &objs, lives, o.settings.adopt, n, progress).await?);
        if o.wait {
            wait_wave(c, &objs, deadline, n, progress).await?;
        }
    }
    Ok(changes)
}

fn desired_of(rel: &Release, span: Span) -> Vec<Desired> {
    rel.objects
        .iter()
        .filter_map(|a| {
            Some(Desired {
                key: Key::of(&a.object)?,
                object: a.object.clone(),
                span,
                wave: a.wave,
            })
        })
        .collect()
}

async fn save<C: Cluster>(c: &C, rel: &Release, span: Span) -> Result<(), Diagnostic> {
    let secret = rel.to_secret().map_err(|e| {
        Diagnostic::new(
            Code::K012,
            span,
            format!("cannot encode the revision record: {e}"),
        )
    })?;
    let key =
        Key::of(&secret).unwrap_or_else(|| Key::new("v1", "Secret", Some(&rel.namespace), "?"));
    c.apply(
        &key,
        &secret,
        Write {
            dry_run: false,
            force: true,
        },
    )
    .await
    .map(|_| ())
    .map_err(|f| diagnose(&f, &format!("recording revision {}", rel.revision), span))
}

/// Record `rel`, mark the previous deployed revision superseded, and keep
/// at most `max` records.
async fn record<C: Cluster>(
    c: &C,
    rel: &Release,
    recs: &BTreeMap<u64, Release>,
    max: usize,
    span: Span,
) -> Result<(), Diagnostic> {
    save(c, rel, span).await?;
    if rel.status == Status::Deployed {
        for old in recs.values().filter(|r| r.status == Status::Deployed) {
            let mut s = old.clone();
            s.status = Status::Superseded;
            save(c, &s, span).await?;
        }
    }
    let mut numbers: Vec<u64> = recs.keys().copied().chain([rel.revision]).collect();
    numbers.sort();
    numbers.dedup();
    let excess = numbers.len().saturating_sub(max.max(1));
    for n in numbers.into_iter().take(excess) {
        let name = Release::secret_name(&rel.project, &rel.env, n);
        c.delete(&Key::new("v1", "Secret", Some(&rel.namespace), &name))
            .await
            .map_err(|f| {
                diagnose(
                    &f,
                    &format!("deleting the old record of revision {n}"),
                    span,
                )
            })?;
    }
    Ok(())
}

fn image_changes(before: Option<&Release>, after: &BTreeMap<String, String>) -> Vec<String> {
    let empty = BTreeMap::new();
    let old = before.map_or(&empty, |r| &r.images);
    after
        .iter()
        .filter(|(k, v)| old.get(*k) != Some(*v))
        .map(|(k, v)| format!("{k}={v}"))
        .collect()
}

/// Why an apply stopped.
#[derive(Debug, Clone, PartialEq)]
pub struct Stopped {
    /// The refusals, or the failure (with what was restored as notes).
    pub diagnostics: Vec<Diagnostic>,
    /// Whether anything was written to the cluster before it stopped.
    pub touched: bool,
}

fn refused(diagnostics: Vec<Diagnostic>) -> Stopped {
    Stopped {
        diagnostics,
        touched: false,
    }
}

/// `shipc apply`: refuse (P005, K010, K004) before touching anything, then
/// apply in waves, wait, prune, record revision N; on failure record N as
/// failed and, with `atomic`, restore N-1. `Err` carries the refusals or
/// the failure (and what was restored, as notes).
pub async fn apply<C: Cluster>(
    c: &C,
    r: &Rendered,
    o: &ApplyOptions,
    progress: &mut dyn FnMut(Event),
) -> Result<(Outcome, Vec<Diagnostic>), Stopped> {
    let (recs, warnings) = records(c, r).await.map_err(|d| refused(vec![d]))?;
    let snap = snapshot(c, r, recs.values().next_back(), &o.settings)
        .await
        .map_err(refused)?;
    let lives_v = live(r, &snap, &o.settings).map_err(refused)?;
    infra_present(c, r, &o.settings).await.map_err(refused)?;
    let lives: BTreeMap<Key, Option<Json>> = r
        .objects
        .iter()
        .map(|d| d.key.clone())
        .zip(lives_v)
        .collect();
    let revision = recs.keys().next_back().copied().unwrap_or(0) + 1;
    let previous = recs.values().rev().find(|x| x.status == Status::Deployed);
    let deadline = c.elapsed() + o.timeout;
    let mut rel = Release {
        revision,
        project: r.project.clone(),
        env: r.env.clone(),
        namespace: r.namespace.clone(),
        status: Status::Deployed,
        time: o.now.clone(),
        shipc: env!("CARGO_PKG_VERSION").to_string(),
        source_hash: o.source_hash.clone(),
        images: r.images.clone(),
        description: o.description.clone(),
        objects: r
            .objects
            .iter()
            .map(|d| Applied {
                wave: d.wave,
                object: d.object.clone(),
            })
            .collect(),
    };
    let images_changed = image_changes(previous, &r.images);
    match roll_out(c, &r.objects, &lives, o, deadline, progress).await {
        Ok(mut changes) => {
            if o.prune {
                let touched = |diagnostics| Stopped {
                    diagnostics,
                    touched: true,
                };
                // Read again: the waves may have changed what is there.
                let after = snapshot(c, r, recs.values().next_back(), &o.settings)
                    .await
                    .map_err(touched)?;
                let keys = stale(r, &after);
                for k in keys {
                    if prune_note(&k, &o.settings).is_some() {
                        continue;
                    }
                    c.delete(&k).await.map_err(|f| {
                        touched(vec![diagnose(&f, &format!("pruning {k}"), r.span)])
                    })?;
                    progress(Event::Deleted(k.clone()));
                    changes.push(Change {
                        object: k,
                        action: Action::Delete,
                        fields: Vec::new(),
                        note: None,
                    });
                }
            }
            record(c, &rel, &recs, o.history_max, r.span)
                .await
                .map_err(|d| Stopped {
                    diagnostics: vec![d],
                    touched: true,
                })?;
            Ok((
                Outcome {
                    revision,
                    status: Status::Deployed,
                    changes,
                    restored: None,
                    images_changed,
                },
                warnings,
            ))
        }
        Err(failure) => {
            let mut failure = failure;
            rel.status = Status::Failed;
            rel.description = format!("{}: failed: {}", o.description, failure.message);
            if o.atomic {
                let restored = restore(c, r, previous, &lives, o, progress).await;
                match restored {
                    Ok(n) => {
                        failure = failure.note(match n {
                            0 => format!("--atomic: revision {revision} failed and there was no earlier revision: deleted what it created"),
                            n => format!("--atomic: restored revision {n}; revision {revision} is recorded as failed"),
                        })
                    }
                    Err(d) => {
                        failure = failure.note(format!(
                            "--atomic: restoring the previous revision failed too: {}",
                            d.message
                        ))
                    }
                }
            }
            let mut out = vec![failure];
            if let Err(d) = record(c, &rel, &recs, o.history_max, r.span).await {
                out.push(d);
            }
            Err(Stopped {
                diagnostics: out,
                touched: true,
            })
        }
    }
}

/// `--atomic`: re-apply `previous` (forced, no wait) and delete what the
/// failed apply created; the revision restored (0: none).
async fn restore<C: Cluster>(
    c: &C,
    r: &Rendered,
    previous: Option<&Release>,
    lives: &BTreeMap<Key, Option<Json>>,
    o: &ApplyOptions,
    progress: &mut dyn FnMut(Event),
) -> Result<u64, Diagnostic> {
    progress(Event::Restoring(previous.map_or(0, |p| p.revision)));
    let keep: BTreeSet<Key> = previous
        .map(Release::keys)
        .unwrap_or_default()
        .into_iter()
        .collect();
    if let Some(p) = previous {
        let objects = desired_of(p, r.span);
        let mut forced = o.clone();
        forced.wait = false;
        forced.settings.adopt = true;
        let nothing = BTreeMap::new();
        roll_out(c, &objects, &nothing, &forced, Duration::MAX, &mut |_| {}).await?;
    }
    // Created by the failed apply: absent before it, not in the previous
    // revision. Namespaces stay.
    for d in r.objects.iter().rev() {
        let created = matches!(lives.get(&d.key), Some(None));
        if created && !keep.contains(&d.key) && d.key.kind != "Namespace" {
            c.delete(&d.key)
                .await
                .map_err(|f| diagnose(&f, &format!("deleting {}", d.key), d.span))?;
            progress(Event::Deleted(d.key.clone()));
        }
    }
    Ok(previous.map_or(0, |p| p.revision))
}

/// Refuse when an infra release is not in the cluster (K010).
async fn infra_present<C: Cluster>(
    c: &C,
    r: &Rendered,
    s: &Settings,
) -> Result<(), Vec<Diagnostic>> {
    let items: Vec<_> = r.infra.iter().collect();
    let answers = each(items, s.concurrency, |i| async move {
        match &i.health {
            Ok(k) => Ok(c.get(k).await),
            Err(e) => Err(e.clone()),
        }
    })
    .await;
    let mut errors = Vec::new();
    for (i, a) in r.infra.iter().zip(answers) {
        match a {
            Ok(Ok(Some(_))) => {}
            Ok(Ok(None)) | Ok(Err(Failure::Status { code: 404, .. })) => {
                let what = i.health.as_ref().map(|k| k.to_string()).unwrap_or_default();
                errors.push(
                    Diagnostic::new(
                        Code::K010,
                        i.span,
                        format!("infra `{}` is not installed: {what} does not exist", i.name),
                    )
                    .help(format!(
                        "install it first (`helmfile apply`), or pass `--with-infra` to run `helm upgrade --install {} … --version {}`",
                        i.release, i.version
                    )),
                );
            }
            Ok(Err(f)) => errors.push(diagnose(
                &f,
                &format!("checking infra `{}`", i.name),
                i.span,
            )),
            Err(e) => errors.push(
                Diagnostic::new(
                    Code::K010,
                    i.span,
                    format!("cannot check infra `{}`: {e}", i.name),
                )
                .help("set `health = \"statefulset/NAME\"` (or another TYPE/NAME) on the infra"),
            ),
        }
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors)
    }
}

/// The revision `rollback` re-applies: `to`, else the last good revision
/// before the deployed one.
pub fn rollback_target(
    recs: &BTreeMap<u64, Release>,
    to: Option<u64>,
    span: Span,
) -> Result<&Release, Diagnostic> {
    match to {
        Some(n) => recs.get(&n).ok_or_else(|| {
            Diagnostic::new(
                Code::K011,
                span,
                format!("revision {n} is not recorded in the cluster"),
            )
            .help(format!(
                "recorded: {}",
                recs.keys()
                    .map(u64::to_string)
                    .collect::<Vec<_>>()
                    .join(", ")
            ))
        }),
        None => {
            let current = recs
                .values()
                .rev()
                .find(|r| r.status == Status::Deployed)
                .map_or(u64::MAX, |r| r.revision);
            recs.values()
                .rev()
                .find(|r| r.revision < current && r.status != Status::Failed)
                .ok_or_else(|| {
                    Diagnostic::new(
                        Code::K011,
                        span,
                        "there is no earlier revision to roll back to",
                    )
                    .help("`shipc history --env E` lists the recorded revisions")
                })
        }
    }
}

/// `shipc rollback`: re-apply a recorded revision exactly (its objects and
/// digests), prune what the current one added, record a new revision.
pub async fn rollback<C: Cluster>(
    c: &C,
    r: &Rendered,
    to: Option<u64>,
    o: &ApplyOptions,
    progress: &mut dyn FnMut(Event),
) -> Result<(Outcome, Vec<Diagnostic>), Stopped> {
    let (recs, _) = records(c, r).await.map_err(|d| refused(vec![d]))?;
    let target = rollback_target(&recs, to, r.span).map_err(|d| refused(vec![d]))?;
    let mut again = r.clone();
    again.objects = desired_of(target, r.span);
    again.images = target.images.clone();
    // Infra is not part of a revision.
    again.infra.clear();
    let mut o = o.clone();
    o.prune = true;
    o.description = format!("rollback to {}", target.revision);
    apply(c, &again, &o, progress).await
}

/// One line of `shipc history`.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct HistoryLine {
    /// The revision.
    pub revision: u64,
    /// When.
    pub time: String,
    /// Its status.
    pub status: Status,
    /// What it was.
    pub description: String,
    /// Images that changed from the revision before.
    pub images_changed: Vec<String>,
    /// How many objects.
    pub objects: usize,
}

/// `shipc history`.
pub async fn history<C: Cluster>(
    c: &C,
    r: &Rendered,
) -> Result<(Vec<HistoryLine>, Vec<Diagnostic>), Vec<Diagnostic>> {
    let (recs, warnings) = records(c, r).await.map_err(|d| vec![d])?;
    let mut prev: Option<&Release> = None;
    let mut out = Vec::new();
    for rel in recs.values() {
        out.push(HistoryLine {
            revision: rel.revision,
            time: rel.time.clone(),
            status: rel.status,
            description: rel.description.clone(),
            images_changed: image_changes(prev, &rel.images),
            objects: rel.objects.len(),
        });
        prev = Some(rel);
    }
    Ok((out, warnings))
}
