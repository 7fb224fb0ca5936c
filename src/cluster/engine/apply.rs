//! `apply`: refusals, waves, waits, prune, the revision record, `--atomic`.

// A `Diagnostic` is the error; boxing it buys nothing next to a request.
#![allow(clippy::result_large_err)]

use super::{diagnose, each, live, prune_note, records, snapshot, stale, Action, Change, Settings};
use crate::cluster::diff;
use crate::cluster::ready::{readiness, Ready};
use crate::cluster::record::{Applied, Release, Status};
use crate::cluster::render::{Desired, Rendered};
use crate::cluster::{Cluster, Failure, Json, Key, Write};
use crate::diag::{Code, Diagnostic};
use crate::source::Span;
use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

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

pub(super) fn desired_of(rel: &Release, span: Span) -> Vec<Desired> {
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

pub(super) fn image_changes(
    before: Option<&Release>,
    after: &BTreeMap<String, String>,
) -> Vec<String> {
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

pub(super) fn refused(diagnostics: Vec<Diagnostic>) -> Stopped {
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
