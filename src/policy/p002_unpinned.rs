//! P002: a helmfile or flux env deploys an image that has no pinned digest
//! (`ship.lock`, `--digest`, `SHIP_DIGEST_*`). Found where images are
//! resolved (`crate::images`), before lowering.

use crate::diag::{Code, Diagnostic};
use crate::model::EnvModel;
use crate::source::Span;

/// The problem for one lock key; `command` is the exact `shipc lock`
/// invocation that fixes it.
pub fn problem(env: &EnvModel, key: &str, what: &str, span: Span, command: &str) -> Diagnostic {
    Diagnostic::new(
        Code::P002,
        span,
        format!(
            "{what} (`{key}`) has no pinned digest for {} env `{}`",
            env.kind(),
            env.name
        ),
    )
    .label(format!(
        "`ship.lock` has no entry `envs.{}.images.{key}`",
        env.name
    ))
    .help(format!(
        "run `{command}` (or pass `--digest {key}=sha256:…`)"
    ))
    .note("policy rule P002: helmfile and flux envs deploy images by digest only")
}

/// The problem `verify` reports for a key the env deploys that `ship.lock`
/// does not pin.
pub fn not_in_lock(env: &str, key: &str, span: Span, command: &str) -> Diagnostic {
    Diagnostic::new(
        Code::P002,
        span,
        format!("`{key}` has no pinned digest for env `{env}`"),
    )
    .label(format!(
        "`ship.lock` has no entry `envs.{env}.images.{key}`"
    ))
    .help(format!("run `{command}`"))
}
