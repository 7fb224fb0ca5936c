//! `rollback` and `history`.

// A `Diagnostic` is the error; boxing it buys nothing next to a request.
#![allow(clippy::result_large_err)]

use super::apply::{desired_of, image_changes, refused};
use super::{apply, records, ApplyOptions, Event, Outcome, Stopped};

use crate::cluster::record::{restorable, Release, Status};
use crate::cluster::render::Rendered;
use crate::cluster::Cluster;
use crate::diag::{Code, Diagnostic};
use crate::source::Span;
use std::collections::BTreeMap;

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
    // Objects of the env's namespace come from the record; cluster-scoped
    // ones and those of other namespaces never do (a record is a Secret in
    // the namespace, and whoever can write one must not be able to grant
    // cluster-wide rights, or change another namespace, through a
    // rollback): those stay as the current source renders them.
    again.objects = desired_of(target, r.span)
        .into_iter()
        .filter(|d| restorable(&d.key, &r.namespace))
        .chain(
            r.objects
                .iter()
                .filter(|d| !restorable(&d.key, &r.namespace))
                .cloned(),
        )
        .collect();
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
