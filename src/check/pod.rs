//! Checks of a service's pod details (after evaluation): `k8s_labels`
//! (E2036), `pre_stop` / `post_start` (E2037), `revision_history_limit`.

use crate::diag::{Code, Diagnostic, Diagnostics};
use crate::model::view::{Hook, Probe};
use crate::model::Decl;
use crate::names;

/// Labels shipc sets itself: a `k8s_labels` entry may not replace them
/// (the selector ones would detach the workload from its pods).
const OWN_LABELS: &[&str] = &[
    "app.kubernetes.io/name",
    "app.kubernetes.io/instance",
    "app.kubernetes.io/part-of",
    "app.kubernetes.io/managed-by",
];

/// Check one service's pod details.
pub fn service(d: &Decl, diags: &mut Diagnostics) {
    let v = d.service();
    if let Some(labels) = v.k8s_labels() {
        for (k, val) in labels.entries() {
            let problem = names::label_key(k)
                .err()
                .or_else(|| val.as_str().and_then(|s| names::label_value(s).err()))
                .or_else(|| {
                    (OWN_LABELS.contains(&k.as_str()) || k.starts_with("ship.dev/"))
                        .then(|| format!("`{k}` is set by shipc (it selects the service's pods)"))
                });
            if let Some(why) = problem {
                diags.push(
                    Diagnostic::new(Code::E2036, val.span, format!("invalid Kubernetes label `{k}`"))
                        .label("this label")
                        .note(why)
                        .help("label keys are `[prefix/]name`, names and values ≤ 63 characters of letters, digits, `-`, `_`, `.`"),
                );
            }
        }
    }
    for (hook, h) in [("pre_stop", v.pre_stop()), ("post_start", v.post_start())] {
        let Some(h) = h else {
            continue;
        };
        if let Some(Hook::Unsupported(func)) = Hook::of(h) {
            diags.push(
                Diagnostic::new(
                    Code::E2037,
                    h.span,
                    format!("`{hook}` cannot be a `{func}()` check"),
                )
                .label("a probe, not an action")
                .help("a hook runs `exec([…])`, sends `http(path, port)`, or `sleep(5s)`"),
            );
        }
        if let Some(p) = Probe::of(h) {
            let t = p.timings();
            let timing = [
                ("delay", t.delay),
                ("period", t.period),
                ("timeout", t.timeout),
                ("failure_threshold", t.failure_threshold),
                ("success_threshold", t.success_threshold),
            ];
            if let Some((t, x)) = timing.iter().find(|(_, x)| x.is_some()) {
                let span = x.map_or(h.span, |x| x.span);
                diags.push(
                    Diagnostic::new(Code::E2037, span, format!("a hook has no `{t}`"))
                        .label("probe timing")
                        .help("timings belong to probes; a hook runs once"),
                );
            }
        }
    }
    if let Some(r) = v.revision_history_limit() {
        if r.as_int()
            .is_some_and(|n| !(0..=i64::from(i32::MAX)).contains(&n))
        {
            diags.push(
                Diagnostic::new(
                    Code::E2010,
                    r.span,
                    "revision_history_limit must be between 0 and 2147483647",
                )
                .label("out of range"),
            );
        }
    }
}
