//! Checks of a service's scaling and scheduling fields (after evaluation):
//! `autoscale` (E2033), `disruption` (E2034), `tolerations` (E2035).

use crate::diag::{Code, Diagnostic, Diagnostics};
use crate::model::view::{Autoscale, Disruption, Resources, Toleration, Workload};
use crate::model::{Decl, Value, V};

/// Check one service's `autoscale`, `disruption` and `tolerations`.
pub fn service(d: &Decl, diags: &mut Diagnostics) {
    let v = d.service();
    if let Some(a) = v.autoscale() {
        autoscale(d, a, diags);
    }
    if let Some(b) = v.disruption() {
        disruption(b, diags);
    }
    for t in v.tolerations().map(Value::as_list).unwrap_or(&[]) {
        toleration(t, diags);
    }
}

/// Whether a field of a declaration holds its schema default, not
/// something the user wrote: a completed default carries the span of the
/// record it completed (or of the stdlib, whose files come first).
fn defaulted(d: &Decl, v: &Value) -> bool {
    v.span == d.value.span || (v.span.file.0 as usize) < crate::load::STDLIB.len()
}

fn autoscale(d: &Decl, a: &Value, diags: &mut Diagnostics) {
    if let Some(r) = d.service().replicas().filter(|r| !defaulted(d, r)) {
        diags.push(
            Diagnostic::new(
                Code::E2033,
                r.span,
                "`replicas` and `autoscale` both set the replica count",
            )
            .label("the autoscaler owns this")
            .secondary(a.span, "autoscale")
            .help("remove `replicas`, and set the range with `autoscale { replicas = MIN .. MAX }` (per env too: `api.autoscale.replicas = 1 .. 2`)"),
        );
    }
    let workload = d
        .service()
        .workload()
        .and_then(Value::as_str)
        .unwrap_or("deployment");
    if matches!(
        d.service().workload_kind(),
        Workload::Job | Workload::CronJob
    ) {
        diags.push(
            Diagnostic::new(
                Code::E2033,
                a.span,
                format!("a {workload} cannot be autoscaled"),
            )
            .label("autoscale on a run-to-completion workload")
            .help("autoscale a `deployment` or `statefulset`, or remove `autoscale`"),
        );
    }
    let a_view = Autoscale::of(a);
    if let Some(r) = a_view.replicas() {
        if let V::Range(lo, _) = &r.kind {
            if lo.as_int().is_some_and(|n| n < 1) {
                diags.push(
                    Diagnostic::new(Code::E2033, lo.span, "an autoscaler needs at least 1 replica")
                        .label("the minimum")
                        .help("write `replicas = 1 .. N`; to stop a service, use `replicas = 0` without `autoscale`"),
                );
            }
        }
    }
    // Utilisation is measured against the requests: without one the
    // autoscaler cannot compute it and never scales.
    let resources = d.service().resources().map(Resources::of);
    for (target, t, requested) in [
        ("cpu", a_view.cpu(), resources.and_then(Resources::cpu)),
        (
            "memory",
            a_view.memory(),
            resources.and_then(Resources::memory),
        ),
    ] {
        let resource = target;
        let Some(t) = t else {
            continue;
        };
        if pct(t).is_some_and(|p| p <= 0.0) {
            diags.push(
                Diagnostic::new(
                    Code::E2033,
                    t.span,
                    format!("a {target} target of 0% never scales down"),
                )
                .label("must be above 0%"),
            );
        }
        let requested = requested.is_some();
        if !requested {
            diags.push(
                Diagnostic::new(
                    Code::E2033,
                    t.span,
                    format!("`autoscale.{target}` needs a {resource} request"),
                )
                .label(format!("utilisation of the {resource} request"))
                .help(format!(
                    "set `resources {{ {resource} = … }}` (its request is what {} means)",
                    shown(t)
                )),
            );
        }
    }
}

fn shown(v: &Value) -> String {
    match &v.kind {
        V::Quantity(q) => format!("`{}`", q.text),
        _ => "the percentage".into(),
    }
}

fn pct(v: &Value) -> Option<f64> {
    match &v.kind {
        V::Quantity(q) => Some(q.amount),
        _ => None,
    }
}

fn disruption(b: &Value, diags: &mut Diagnostics) {
    let (min, max) = (
        Disruption::of(b).min_available(),
        Disruption::of(b).max_unavailable(),
    );
    match (min, max) {
        (Some(_), Some(m)) => diags.push(
            Diagnostic::new(
                Code::E2034,
                m.span,
                "set `min_available` or `max_unavailable`, not both",
            )
            .label("the second bound")
            .help("a PodDisruptionBudget takes one of the two"),
        ),
        (None, None) => diags.push(
            Diagnostic::new(Code::E2034, b.span, "a disruption budget needs a bound")
                .label("empty")
                .help("set `min_available = 1` (or a share, `50%`), or `max_unavailable = 1`"),
        ),
        _ => {}
    }
    for x in [min, max].into_iter().flatten() {
        let bad = match &x.kind {
            V::Int(n) => *n < 0,
            V::Quantity(q) => q.amount > 100.0,
            _ => false,
        };
        if bad {
            diags.push(
                Diagnostic::new(Code::E2034, x.span, "out of range for a disruption budget")
                    .label("a count ≥ 0 or a share ≤ 100%"),
            );
        }
    }
}

fn toleration(t: &Value, diags: &mut Diagnostics) {
    let tv = Toleration::of(t);
    let op = tv.operator().and_then(Value::as_str).unwrap_or("Equal");
    if op == "Exists" && tv.value().is_some() {
        let span = tv.value().map_or(t.span, |v| v.span);
        diags.push(
            Diagnostic::new(Code::E2035, span, "an `Exists` toleration has no value")
                .label("ignored by Kubernetes, refused by the API")
                .help("remove `value`, or use `operator = \"Equal\"`"),
        );
    }
    if op == "Equal" && tv.key().is_none() {
        diags.push(
            Diagnostic::new(Code::E2035, t.span, "an `Equal` toleration needs a `key`")
                .label("no key")
                .help("name the taint's key, or tolerate every taint with `operator = \"Exists\"`"),
        );
    }
    if tv.seconds().is_some() && tv.effect().and_then(Value::as_str) != Some("NoExecute") {
        let span = tv.seconds().map_or(t.span, |v| v.span);
        diags.push(
            Diagnostic::new(
                Code::E2035,
                span,
                "`seconds` applies to `NoExecute` taints only",
            )
            .label("no effect here")
            .help("add `effect = \"NoExecute\"`, or remove `seconds`"),
        );
    }
}
