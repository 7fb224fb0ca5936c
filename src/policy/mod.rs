//! Built-in policy rules (SPEC §8, §13), one file per rule, each owning its
//! codes' messages. The code table (`diag/codes.rs`) gives each rule its
//! default severity and makes every `P…` and `R1…` code configurable:
//! `policy { P006 = "warn" }`, `"off"` drops it ([`configure`], applied by
//! [`run`] and by the use cases in `crate::verbs`).
//!
//! Where each rule runs — where its facts are known:
//!
//! | rule | file | called from |
//! |---|---|---|
//! | P001, P003, P006, P007 | `p00N_….rs` | [`run`], per env model |
//! | P005 (static) | `p005_ownership.rs` | [`run`], across envs |
//! | P005 (live) | `p005_ownership.rs` ([`taken`]) | `cluster::engine`, flux releases |
//! | P002 | `p002_unpinned.rs` | `crate::images` (resolving pins), `lock::plan` (`verify`) |
//! | P004 | `p004_missing_digest.rs` | `lock::plan::verify_answers` |
//! | R101–R103 | `r101_image_contract.rs` | `lock::plan::settle` |

mod p001_floating_tag;
pub mod p002_unpinned;
mod p003_bare_repository;
pub mod p004_missing_digest;
mod p005_ownership;
mod p006_plaintext_secret;
mod p007_exact_version;
pub mod r101_image_contract;

pub use p005_ownership::taken;

use crate::check::Checked;
use crate::diag::{Code, Diagnostic, Diagnostics, Severity};
use std::collections::BTreeMap;

/// Run every rule over every env and apply the configured severities.
pub fn run(checked: &Checked, diags: &mut Diagnostics) {
    // Per-env rules run on all cores; results are merged in env order.
    let per_env = crate::par::each(&checked.envs, |env| {
        let mut found = Vec::new();
        p001_floating_tag::check(env, &mut found);
        p003_bare_repository::check(env, &mut found);
        p006_plaintext_secret::check(env, &mut found);
        p007_exact_version::check(env, &mut found);
        found
    });
    let mut found: Vec<Diagnostic> = per_env.into_iter().flatten().flatten().collect();
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
