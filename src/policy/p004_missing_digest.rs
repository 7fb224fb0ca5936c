//! P004: a digest `ship.lock` pins is not in its registry any more.
//! Found by `shipc verify` (and `apply` before it changes anything) from
//! the registry's answers (`lock::plan::verify_answers`).

use crate::diag::{Code, Diagnostic};
use crate::Span;

/// The problem for one pin; `command` re-locks the env.
pub fn problem(env: &str, key: &str, shown: &str, span: Span, command: &str) -> Diagnostic {
    super::rule(
        Code::P004,
        span,
        format!("the locked digest of `{key}` is not in its registry: `{shown}`"),
    )
    .label(format!("pinned in ship.lock for env `{env}`"))
    .help(format!(
        "push the image again, or pin one that exists: `{command}`"
    ))
}
