//! What a tilt env derives from the model, decided once for the checker
//! (`check::tilt`: E4002, E4003) and the Tilt emitter: the process a
//! `restart()` live-update step restarts, and `ignore` entries rewritten
//! against the build context, as Tilt reads them.
//!
//! Tilt refuses `restart_container()` for Kubernetes resources; shipc
//! lowers `restart()` the way Tilt recommends (a wrapper that re-runs the
//! process when a file changes), which needs the process to run: the
//! services' `command`, the image's `entrypoint`, or else the built image's
//! own `ENTRYPOINT`/`CMD`. Services that share the image but run different
//! commands cannot share one wrapper (E4002).

use super::view::{ImageUse, LiveUpdateStep};
use super::{Decl, EnvModel, Value};

/// The file whose change makes the restart wrapper re-run the process.
pub const RESTART_FILE: &str = "/tmp/.restart-proc";

/// Does an image's live update end in a restart?
pub fn has_restart(image: &Decl) -> bool {
    image
        .image()
        .live_update()
        .map(Value::as_list)
        .unwrap_or(&[])
        .iter()
        .any(|s| matches!(LiveUpdateStep::of(s), Some(LiveUpdateStep::Restart)))
}

/// What a `restart()` re-runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Restart {
    /// The `command` + `args` of the services that run the image, else the
    /// image's `entrypoint` field.
    Known(Vec<String>),
    /// Nothing in the source says: the image's own `ENTRYPOINT` + `CMD`,
    /// read from the built image when Tilt builds it.
    FromImage,
}

/// What an image with `restart()` runs: the `command` + `args` of the
/// services that run it (they must agree), else the image's `entrypoint`,
/// else the built image's own. `Err` (services that disagree) carries the
/// diagnostic's message and help.
pub fn restart_entrypoint(env: &EnvModel, image: &Decl) -> Result<Restart, (String, String)> {
    let mut commands: Vec<(String, Vec<String>)> = Vec::new();
    for s in env.services.values() {
        let uses = matches!(
            s.service().image().and_then(ImageUse::of),
            Some(ImageUse::Built(name)) if name == image.id.name
        );
        if !uses {
            continue;
        }
        let svc = s.service();
        let argv: Vec<String> = [svc.command(), svc.args()]
            .into_iter()
            .flat_map(|f| f.map(Value::strings).unwrap_or_default())
            .map(str::to_string)
            .collect();
        commands.push((s.id.name.clone(), argv));
    }
    if let Some((first, argv)) = commands.first() {
        if let Some((other, _)) = commands.iter().find(|(_, a)| a != argv) {
            return Err((
                format!(
                    "`restart()` on image `{}` is ambiguous: services `{first}` and `{other}` run it with different commands",
                    image.id.name
                ),
                "use one image per command, or give the services the same `command` and `args`".into(),
            ));
        }
        if let Some(cmd) = image_command(env, image, first) {
            return Ok(Restart::Known(cmd));
        }
    }
    match image.image().entrypoint().map(Value::strings) {
        Some(argv) if !argv.is_empty() => Ok(Restart::Known(
            argv.into_iter().map(str::to_string).collect(),
        )),
        _ => Ok(Restart::FromImage),
    }
}

/// The service's `command` + `args`, when it sets a `command`.
fn image_command(env: &EnvModel, _image: &Decl, service: &str) -> Option<Vec<String>> {
    let s = env.services.get(service)?;
    let cmd = s.service().command()?;
    let mut argv: Vec<String> = cmd.strings().into_iter().map(str::to_string).collect();
    argv.extend(
        s.service()
            .args()
            .map(Value::strings)
            .unwrap_or_default()
            .into_iter()
            .map(str::to_string),
    );
    (!argv.is_empty()).then_some(argv)
}

/// A project-relative `ignore` entry as Tilt reads it: relative to the
/// build context. `None` when it lies outside the context.
pub fn context_relative(pattern: &str, context: &str) -> Option<String> {
    if let Some(rest) = pattern.strip_prefix('!') {
        return context_relative(rest, context).map(|p| format!("!{p}"));
    }
    let pattern = pattern.trim_start_matches("./");
    let ctx = context.trim_start_matches("./").trim_end_matches('/');
    if ctx.is_empty() || ctx == "." || pattern.starts_with("**") {
        return Some(pattern.to_string());
    }
    if pattern == ctx {
        return Some("**".to_string());
    }
    pattern
        .strip_prefix(ctx)
        .and_then(|r| r.strip_prefix('/'))
        .filter(|r| !r.is_empty())
        .map(str::to_string)
}
