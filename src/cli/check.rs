//! `shipc check [PATH] [--env E]`: parse and type-check every env.

use super::args::CheckArgs;
use super::fs::{project_path, FsHost};
use super::render::Output;
use shipc::syntax::ast::DeclKind;
use shipc::Diagnostics;

pub fn run(out: &Output, a: &CheckArgs) -> u8 {
    if let Err(code) = out.check_format(&["human", "json"]) {
        return code;
    }
    let mut diags = Diagnostics::new();
    let analysis = match analyze(out, a.path.as_deref(), a.env.as_deref(), &mut diags) {
        Ok(x) => x,
        Err(code) => return code,
    };
    let sorted = diags.into_sorted();
    let failed = sorted.iter().any(|d| d.is_error());
    out.diagnostics(&analysis.loaded.sources, &sorted);
    let code = if failed {
        1
    } else {
        if !out.json() {
            let envs = analysis.checked.envs.len();
            let services = analysis.checked.program.of(DeclKind::Service).count();
            eprintln!(
                "ok: {services} services checked in {envs} env{}",
                if envs == 1 { "" } else { "s" }
            );
        }
        0
    };
    // The process exits next: freeing the whole model first only costs time
    // (a tenth of a large check), so leave it to the operating system.
    std::mem::forget(analysis);
    code
}

/// Report `--env E` naming no env (a usage error).
pub fn unknown_env(out: &Output, analysis: &shipc::Analysis, env: &str) -> Option<u8> {
    let names: Vec<&String> = analysis
        .checked
        .program
        .of(DeclKind::Env)
        .map(|(n, _)| n)
        .collect();
    if names.iter().any(|n| *n == env) {
        return None;
    }
    let list = if names.is_empty() {
        "none".to_string()
    } else {
        names
            .iter()
            .map(|n| format!("`{n}`"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let hint = shipc::diag::suggest::did_you_mean(env, &names)
        .unwrap_or_else(|| format!("envs in this project: {list}"));
    out.tool_error(&format!("no env named `{env}`"), Some(&hint));
    Some(super::USAGE)
}

/// Load and check the project at PATH (defaulted), reporting a path that
/// cannot be loaded (exit 1) or an `--env` that names no env (exit 3).
pub fn analyze(
    out: &Output,
    path: Option<&std::path::Path>,
    env: Option<&str>,
    diags: &mut Diagnostics,
) -> Result<shipc::Analysis, u8> {
    let path = project_path(path);
    let analysis = match shipc::analyze(&FsHost, &path, env, diags) {
        Ok(x) => x,
        Err(e) => {
            out.tool_error(&e.message, e.hint.as_deref());
            return Err(1);
        }
    };
    if let Some(env) = env {
        if let Some(code) = unknown_env(out, &analysis, env) {
            return Err(code);
        }
    }
    Ok(analysis)
}
