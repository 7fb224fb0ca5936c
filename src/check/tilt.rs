//! What a tilt env needs beyond the schema, decided once for the checker
//! and the Tilt emitter: the process a `restart()` live-update step
//! restarts (E4002) and `ignore` entries rewritten against the build
//! context, as Tilt reads them (E4003).
//!
//! Tilt refuses `restart_container()` for Kubernetes resources; shipc
//! lowers `restart()` the way Tilt recommends (a wrapper that re-runs the
//! process when a file changes), which needs the process to run: the
//! services' `command`, the image's `entrypoint`, or else the built image's
//! own `ENTRYPOINT`/`CMD`. Services that share the image but run different
//! commands cannot share one wrapper (E4002).

use crate::diag::{Code, Diagnostic, Diagnostics};
use crate::model::dev::{context_relative, has_restart, restart_entrypoint};
use crate::model::view::LiveUpdateStep;
use crate::model::{Decl, EnvModel, Value};
use crate::source::Span;

/// Check a tilt env's images: E4002, E4003.
pub fn check(env: &EnvModel, diags: &mut Diagnostics) {
    for img in env.images.values() {
        if has_restart(img) {
            if let Err((message, help)) = restart_entrypoint(env, img) {
                let span = restart_span(img).unwrap_or(img.name_span);
                diags.push(
                    Diagnostic::new(Code::E4002, span, message)
                        .label(
                            "Tilt restarts a Kubernetes container's process, which must be named",
                        )
                        .help(help),
                );
            }
        }
        let context = img.image().context().and_then(Value::as_str).unwrap_or(".");
        for p in img.image().ignore().map(Value::as_list).unwrap_or(&[]) {
            let Some(s) = p.as_str() else { continue };
            if context_relative(s, context).is_none() {
                diags.push(
                    Diagnostic::new(
                        Code::E4003,
                        p.span,
                        format!("`{s}` is outside the build context `{context}` of image `{}`", img.id.name),
                    )
                    .label("Tilt reads ignores relative to the build context")
                    .help(format!(
                        "name a path under `{context}/`, or a `**/…` glob that matches anywhere in the context"
                    )),
                );
            }
        }
    }
}

fn restart_span(img: &Decl) -> Option<Span> {
    img.image()
        .live_update()?
        .as_list()
        .iter()
        .find(|s| matches!(LiveUpdateStep::of(s), Some(LiveUpdateStep::Restart)))
        .map(|s| s.span)
}
