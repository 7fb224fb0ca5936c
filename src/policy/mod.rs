//! Built-in policy rules (SPEC §8, §13) that hold for the evaluated model,
//! one file per rule. Severities come from `policy { P006 = "warn" }`;
//! `"off"` drops a rule. Codes owned: P001, P003, P005, P006, P007. (P002 needs `ship.lock`
//! and runs in `compile`; P004 needs a registry and runs in `verify`.)

mod p001_floating_tag;
pub(crate) mod p002_unpinned;
mod p003_bare_repository;
mod p005_ownership;
mod p006_plaintext_secret;
mod p007_exact_version;

use crate::check::Checked;
use crate::diag::{Code, Diagnostic, Diagnostics, Severity};
use std::collections::BTreeMap;

/// Run every rule over every env and apply the configured severities.
pub fn run(checked: &Checked, diags: &mut Diagnostics) {
    // Per-env rules run on all cores; results are merged in env order.
    let per_env: Vec<Vec<Diagnostic>> = std::thread::scope(|scope| {
        let workers: Vec<_> = checked
            .envs
            .iter()
            .map(|env| {
                crate::spawn_in(scope, move || {
                    let mut found = Vec::new();
                    p001_floating_tag::check(env, &mut found);
                    p003_bare_repository::check(env, &mut found);
                    p006_plaintext_secret::check(env, &mut found);
                    p007_exact_version::check(env, &mut found);
                    found
                })
            })
            .collect();
        workers
            .into_iter()
            .map(|w| w.join().unwrap_or_default())
            .collect()
    });
    let mut found: Vec<Diagnostic> = per_env.into_iter().flatten().collect();
    p005_ownership::check(&checked.envs, &mut found);
    diags.extend(configure(found, &checked.policy));
}

/// Apply `policy { }`: change severities, drop rules that are off.
pub fn configure(
    found: Vec<Diagnostic>,
    policy: &BTreeMap<String, Option<Severity>>,
) -> Vec<Diagnostic> {
    found
        .into_iter()
        .filter_map(
            |mut d| match policy.get(d.code.id()).filter(|_| d.code.configurable()) {
                Some(None) => None,
                Some(Some(sev)) => {
                    d.severity = *sev;
                    Some(d)
                }
                None => Some(d),
            },
        )
        .collect()
}

/// A policy diagnostic with the rule's code and the `policy { }` hint.
pub(crate) fn rule(code: Code, span: crate::Span, message: String) -> Diagnostic {
    Diagnostic::new(code, span, message).note(format!(
        "policy rule {}: change it with `policy {{ {} = \"warn\" }}`",
        code.id(),
        code.id()
    ))
}
