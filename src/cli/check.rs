//! `shipc check [PATH] [--env E]`: parse and type-check every env.

use super::args::CheckArgs;
use super::fs::{project_path, FsHost};
use super::render::Output;
use shipc::syntax::ast::DeclKind;
use shipc::Diagnostics;

pub fn run(out: &Output, a: &CheckArgs) -> u8 {
    if let Err(code) = out.check_format(&["human", "json", "sarif", "github"]) {
        return code;
    }
    let mut diags = Diagnostics::new();
    let analysis = match analyze(out, a.path.as_deref(), a.env.as_deref(), &mut diags) {
        Ok(x) => x,
        Err(code) => return code,
    };
    // A lock entry that names another repository is refused here too (E4004).
    match super::compile::read_lock(&analysis.loaded.root) {
        Ok(lock) => {
            for env in &analysis.checked.envs {
                diags.extend(shipc::lock::plan::mismatches(env, &lock));
            }
        }
        Err(e) => {
            out.tool_error(&e, Some("fix ship.lock, or delete it and run `shipc lock`"));
            return 1;
        }
    }
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
                "ok: {services} service{} checked in {envs} env{}",
                if services == 1 { "" } else { "s" },
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

/// Check that `--env E` names an env. When it does not and the project has
/// errors (a file that fails to parse declares no env), those errors are the
/// report: printed, exit 1. Otherwise a usage error, exit 3.
pub fn require_env(
    out: &Output,
    analysis: &shipc::Analysis,
    diags: &mut Diagnostics,
    env: &str,
) -> Option<u8> {
    if has_env(analysis, env) {
        return None;
    }
    if !diags.iter().any(|d| d.is_error()) {
        return unknown_env(out, analysis, env);
    }
    let sorted = std::mem::replace(diags, Diagnostics::new()).into_sorted();
    if out.json() {
        let mut extra = serde_json::Map::new();
        extra.insert(
            "error".into(),
            format!("no env named `{env}` (a file with errors may declare it)").into(),
        );
        out.report(&analysis.loaded.sources, &sorted, extra);
    } else {
        out.diagnostics(&analysis.loaded.sources, &sorted);
        out.tool_error(
            &format!("no env named `{env}`"),
            Some("fix the errors above: a file that does not parse declares no env"),
        );
    }
    Some(1)
}

fn has_env(analysis: &shipc::Analysis, env: &str) -> bool {
    analysis
        .checked
        .program
        .of(DeclKind::Env)
        .any(|(n, _)| n == env)
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
    let analysis = match shipc::analyze(&FsHost::for_project(&path), &path, env, diags) {
        Ok(x) => x,
        Err(e) => {
            out.tool_error(&e.message, e.hint.as_deref());
            return Err(1);
        }
    };
    if let Some(env) = env {
        if let Some(code) = require_env(out, &analysis, diags, env) {
            return Err(code);
        }
    }
    Ok(analysis)
}
