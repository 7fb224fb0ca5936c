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

/// Check a tilt env's images: E4002, E4003, E2047.
pub fn check(env: &EnvModel, diags: &mut Diagnostics) {
    for img in env.images.values() {
        build_kind(img, diags);
        let other = img.image().custom_build().is_some() || img.image().builder().is_some();
        if has_restart(img) && !other {
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

/// How an image is built: a Dockerfile, `custom_build` or `builder`, never
/// two; `restart()` needs the Dockerfile build (E2047).
fn build_kind(img: &Decl, diags: &mut Diagnostics) {
    let v = img.image();
    let err = |span: Span, msg: String, label: &str, help: &str| {
        Diagnostic::new(Code::E2047, span, msg)
            .label(label)
            .help(help.to_string())
    };
    let (custom, builder) = (v.custom_build(), v.builder());
    if let (Some(c), Some(_)) = (custom, builder) {
        diags.push(err(
            c.span,
            format!(
                "image `{}` has both `custom_build` and `builder`",
                img.id.name
            ),
            "two ways to build",
            "keep one: `builder` runs `pack build`, `custom_build` your own command",
        ));
    }
    if custom.or(builder).is_none() {
        return;
    }
    for (field, v) in [("dockerfile", v.dockerfile()), ("target", v.target())] {
        if let Some(x) = v {
            diags.push(err(
                x.span,
                format!(
                    "`{field}` does not apply: image `{}` is not built from a Dockerfile",
                    img.id.name
                ),
                "unused",
                "remove it, or build with `docker build` (no `custom_build` / `builder`)",
            ));
        }
    }
    if let Some(s) = restart_span(img) {
        diags.push(err(
            s,
            format!("`restart()` needs a Dockerfile build; image `{}` is built by a command", img.id.name),
            "restart() here",
            "restart the process from your build's output instead (a `run(...)` step), or build with a Dockerfile",
        ));
    }
    for step in [v.custom_build(), v.pre_build()].into_iter().flatten() {
        let c = crate::model::view::BuildStep::of(step).command();
        if c.and_then(Value::as_str)
            .is_some_and(|s| s.trim().is_empty())
        {
            diags.push(err(
                c.map_or(step.span, |x| x.span),
                "an empty build command".into(),
                "runs nothing",
                "write the command, run from the project root (`npm run build`)",
            ));
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

/// Normalise a relative path: `a/./b/../c` → `a/c`, leading `..` kept.
fn normalise(p: &str) -> Vec<&str> {
    let mut out: Vec<&str> = Vec::new();
    for part in p.split('/') {
        match part {
            "" | "." => {}
            ".." if out.last().is_some_and(|l| *l != "..") => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out
}

/// An image's `context` and `dockerfile`: inside the project, or under one
/// of `project.build_roots` (never otherwise; E2021). Build roots are
/// relative to the project root, and never absolute.
pub fn build_paths(img: &Decl, project: &Value, diags: &mut Diagnostics) {
    let roots_v = crate::model::view::Project::of(project).build_roots();
    let roots: Vec<Vec<&str>> = roots_v
        .map(Value::strings)
        .unwrap_or_default()
        .into_iter()
        .map(normalise)
        .collect();
    for r in roots_v.map(Value::as_list).unwrap_or(&[]) {
        if let Some(s) = r.as_str() {
            if s.starts_with('/') || s.get(1..3) == Some(":\\") || s.is_empty() {
                diags.push(
                    Diagnostic::new(Code::E2021, r.span, format!("build root `{s}` is not a relative path"))
                        .label("not relative to the project")
                        .help("name it relative to the project root, e.g. `\"../carts\"`, so the project builds on every machine"),
                );
            }
        }
    }
    let v = img.image();
    for (field, x) in [("context", v.context()), ("dockerfile", v.dockerfile())] {
        let Some(x) = x else { continue };
        let Some(s) = x.as_str() else { continue };
        if crate::names::rel_path(s).is_ok() {
            continue;
        }
        let p = normalise(s);
        let under = !s.starts_with('/')
            && roots.iter().any(|r| {
                !r.is_empty() && p.len() >= r.len() && p.get(..r.len()) == Some(r.as_slice())
            });
        if !under {
            diags.push(
                Diagnostic::new(
                    Code::E2021,
                    x.span,
                    if s.starts_with('/') {
                        format!("`{field}` `{s}` of image `{}` is absolute; paths are relative to the project root", img.id.name)
                    } else {
                        format!("`{field}` `{s}` of image `{}` is outside the project", img.id.name)
                    },
                )
                .label("not a project path")
                .help("keep it inside the project, or list the folder it is in under `project { build_roots = [\"../…\"] }`"),
            );
        }
    }
}
