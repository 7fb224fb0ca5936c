//! `shipc status`: per service the workload's ready/total pods, restarts,
//! the image digest running against the one ship.lock pins (drift), its
//! Services, routes and claims; infra presence; a one-line summary.

use super::engine::diagnose;
use super::ready::{readiness, Ready};
use super::render::{Desired, Rendered};
use super::{Cluster, Failure, Json, Key};
use crate::diag::Diagnostic;

/// One container's image: what ship.lock pins and what runs.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Image {
    /// The container.
    pub container: String,
    /// The reference shipc applies (`repo@sha256:…`).
    pub pinned: String,
    /// Digests the pods run (from their `imageID`), sorted, unique.
    pub running: Vec<String>,
    /// A pod runs another digest than the pinned one.
    pub drift: bool,
}

/// One service.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Service {
    /// The workload (`Deployment shop/web`).
    pub workload: String,
    /// Health: `ready`, `progressing`, `failed`, `missing`, `drift`.
    pub health: &'static str,
    /// Why, when not ready.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub reason: String,
    /// Ready pods.
    pub ready: i64,
    /// Wanted pods.
    pub total: i64,
    /// Container restarts over its pods.
    pub restarts: i64,
    /// Images.
    pub images: Vec<Image>,
    /// Services and routes (`Service web: present`).
    pub objects: Vec<String>,
}

/// An infra release.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Infra {
    /// The declaration.
    pub name: String,
    /// What was checked.
    pub target: String,
    /// Whether it exists (and, for a workload, is ready).
    pub health: &'static str,
}

/// The whole report.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Report {
    /// Services, in name order.
    pub services: Vec<Service>,
    /// Infra.
    pub infra: Vec<Infra>,
}

impl Report {
    /// `3 services: 2 ready, 1 progressing · infra 1/1 present`.
    pub fn summary(&self) -> String {
        let mut counts: std::collections::BTreeMap<&str, usize> = Default::default();
        for s in &self.services {
            *counts.entry(s.health).or_default() += 1;
        }
        let parts: Vec<String> = counts.iter().map(|(k, n)| format!("{n} {k}")).collect();
        let present = self.infra.iter().filter(|i| i.health == "ready").count();
        let mut s = format!(
            "{} service{}: {}",
            self.services.len(),
            if self.services.len() == 1 { "" } else { "s" },
            if parts.is_empty() {
                "none".into()
            } else {
                parts.join(", ")
            }
        );
        if !self.infra.is_empty() {
            s.push_str(&format!(" · infra {present}/{} present", self.infra.len()));
        }
        s
    }

    /// Whether everything is ready and runs what is pinned.
    pub fn healthy(&self) -> bool {
        self.services.iter().all(|s| s.health == "ready")
            && self.infra.iter().all(|i| i.health == "ready")
    }
}

fn instance(o: &Json) -> Option<&str> {
    o.pointer("/metadata/labels/app.kubernetes.io~1instance")
        .and_then(Json::as_str)
}

fn digest_of(image_id: &str) -> Option<String> {
    image_id.rsplit_once('@').map(|(_, d)| d.to_string())
}

async fn get<C: Cluster>(c: &C, k: &Key, span: crate::Span) -> Result<Option<Json>, Diagnostic> {
    match c.get(k).await {
        Ok(o) => Ok(o),
        Err(Failure::Status { code: 404, .. }) => Ok(None),
        Err(f) => Err(diagnose(&f, &format!("reading {k}"), span)),
    }
}

async fn service<C: Cluster>(c: &C, r: &Rendered, w: &Desired) -> Result<Service, Diagnostic> {
    let inst = instance(&w.object).unwrap_or(&w.key.name).to_string();
    let live = get(c, &w.key, w.span).await?;
    let want = w
        .object
        .pointer("/spec/replicas")
        .and_then(Json::as_i64)
        .unwrap_or(1);
    let mut svc = Service {
        workload: w.key.to_string(),
        health: "missing",
        reason: String::new(),
        ready: 0,
        total: want,
        restarts: 0,
        images: Vec::new(),
        objects: Vec::new(),
    };
    for d in r.objects.iter().filter(|d| {
        d.key != w.key && d.key.kind != "Namespace" && instance(&d.object) == Some(inst.as_str())
    }) {
        let o = get(c, &d.key, d.span).await?;
        let state = match (&o, d.key.kind.as_str()) {
            (None, _) => "missing".to_string(),
            (Some(o), "PersistentVolumeClaim") => o
                .pointer("/status/phase")
                .and_then(Json::as_str)
                .unwrap_or("Pending")
                .to_string(),
            (Some(_), _) => "present".to_string(),
        };
        svc.objects
            .push(format!("{} {}: {state}", d.key.kind, d.key.name));
    }
    let selector = format!("app.kubernetes.io/instance={inst}");
    let pods = match c
        .list("v1", "Pod", w.key.namespace.as_deref(), &selector)
        .await
    {
        Ok(p) => p,
        Err(Failure::NotServed { .. }) => Vec::new(),
        Err(f) => return Err(diagnose(&f, "listing pods", w.span)),
    };
    let Some(live) = live else {
        svc.reason = "the workload does not exist (not applied yet?)".into();
        return Ok(svc);
    };
    svc.ready = live
        .pointer("/status/readyReplicas")
        .or_else(|| live.pointer("/status/succeeded"))
        .and_then(Json::as_i64)
        .unwrap_or(0);
    for p in &pods {
        let statuses = p
            .pointer("/status/containerStatuses")
            .and_then(Json::as_array);
        for s in statuses.into_iter().flatten() {
            svc.restarts += s.get("restartCount").and_then(Json::as_i64).unwrap_or(0);
        }
    }
    for path in [
        "/spec/template/spec/containers",
        "/spec/jobTemplate/spec/template/spec/containers",
    ] {
        for ct in w
            .object
            .pointer(path)
            .and_then(Json::as_array)
            .into_iter()
            .flatten()
        {
            let name = ct
                .get("name")
                .and_then(Json::as_str)
                .unwrap_or("")
                .to_string();
            let pinned = ct
                .get("image")
                .and_then(Json::as_str)
                .unwrap_or("")
                .to_string();
            let mut running: Vec<String> = pods
                .iter()
                .filter_map(|p| {
                    p.pointer("/status/containerStatuses")
                        .and_then(Json::as_array)
                })
                .flatten()
                .filter(|s| s.get("name").and_then(Json::as_str) == Some(name.as_str()))
                .filter_map(|s| s.get("imageID").and_then(Json::as_str).and_then(digest_of))
                .collect();
            running.sort();
            running.dedup();
            let want = digest_of(&pinned);
            let drift = want
                .as_ref()
                .is_some_and(|w| running.iter().any(|r| r != w));
            svc.images.push(Image {
                container: name,
                pinned,
                running,
                drift,
            });
        }
    }
    let (health, reason) = match readiness(&live, false) {
        Ready::Yes => ("ready", String::new()),
        Ready::Pending(why) => ("progressing", why),
        Ready::Failed(why) => ("failed", why),
    };
    svc.health = health;
    svc.reason = reason;
    if svc.health == "ready" && svc.images.iter().any(|i| i.drift) {
        svc.health = "drift";
        svc.reason = "a pod runs another digest than ship.lock pins".into();
    }
    Ok(svc)
}

/// The status of every service and infra release of `r`.
pub async fn status<C: Cluster>(c: &C, r: &Rendered) -> Result<Report, Vec<Diagnostic>> {
    let workloads = ["Deployment", "StatefulSet", "Job", "CronJob"];
    let mut report = Report {
        services: Vec::new(),
        infra: Vec::new(),
    };
    let mut errors = Vec::new();
    for w in r
        .objects
        .iter()
        .filter(|d| workloads.contains(&d.key.kind.as_str()))
    {
        match service(c, r, w).await {
            Ok(s) => report.services.push(s),
            Err(d) => errors.push(d),
        }
    }
    for i in &r.infra {
        let (target, health) = match &i.health {
            Ok(k) => match get(c, k, i.span).await {
                Ok(Some(o)) => (
                    k.to_string(),
                    match readiness(&o, false) {
                        Ready::Yes => "ready",
                        Ready::Pending(_) => "progressing",
                        Ready::Failed(_) => "failed",
                    },
                ),
                Ok(None) => (k.to_string(), "missing"),
                Err(d) => {
                    errors.push(d);
                    continue;
                }
            },
            Err(e) => (e.clone(), "unknown"),
        };
        report.infra.push(Infra {
            name: i.name.clone(),
            target,
            health,
        });
    }
    if errors.is_empty() {
        Ok(report)
    } else {
        Err(errors)
    }
}
