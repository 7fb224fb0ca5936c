//! `shipc compile [--env E | --all] [-o DIR] [PATH]`: check, emit every
//! selected env in memory, then write `DIR/<env>/…` (see `write.rs`).
//!
//! Implemented targets: `tilt` envs with the default `manifests` strategy.
//! The other targets (tilt `helm`/`kustomize`, helmfile, flux) are refused
//! with an error naming them, before anything is written.

use super::args::CompileArgs;
use super::fs::{project_path, FsHost};
use super::render::Output;
use super::write::{relative, write_tree};
use shipc::emit::{tilt, OutputTree};
use shipc::model::Value;
use shipc::Diagnostics;

pub fn run(out: &Output, a: &CompileArgs) -> u8 {
    if let Err(code) = out.check_format(&["human", "json"]) {
        return code;
    }
    if a.env.is_some() == a.all {
        out.usage("pass exactly one of `--env ENV` or `--all`");
        return super::USAGE;
    }
    let path = project_path(a.path.as_deref());
    let mut diags = Diagnostics::new();
    let analysis = match shipc::analyze(&FsHost, &path, a.env.as_deref(), &mut diags) {
        Ok(x) => x,
        Err(e) => {
            out.tool_error(&e.message, e.hint.as_deref());
            return 1;
        }
    };
    if let Some(env) = &a.env {
        if let Some(code) = super::check::unknown_env(out, &analysis, env) {
            return code;
        }
    }
    let sorted = diags.into_sorted();
    let failed = sorted.iter().any(|d| d.is_error());
    out.diagnostics(&analysis.loaded.sources, &sorted);
    if failed {
        return 1;
    }
    let root = analysis.loaded.root.clone();
    let mut tree = OutputTree::new();
    let mut unsupported = Vec::new();
    for env in &analysis.checked.envs {
        let Some(graph) = analysis.graphs.iter().find(|g| g.env == env.name) else {
            continue;
        };
        let strategy = env
            .env
            .path("tilt.strategy")
            .and_then(Value::as_str)
            .unwrap_or("manifests");
        match (env.kind(), strategy) {
            ("tilt", "manifests") => {
                let env_dir = a.out.join(&env.name);
                let root_rel = relative(&env_dir, &root);
                let input = tilt::TiltInput {
                    project: &analysis.checked.project,
                    sources: &analysis.loaded.sources,
                    root: &root,
                    root_from_output: &root_rel,
                };
                tree.merge_under(&env.name, tilt::emit(env, graph, &input));
            }
            (kind, strategy) => {
                let what = if kind == "tilt" {
                    format!("tilt (strategy `{strategy}`)")
                } else {
                    kind.to_string()
                };
                unsupported.push(format!("`{}` ({what})", env.name));
            }
        }
    }
    if !unsupported.is_empty() {
        out.tool_error(
            &format!("this shipc cannot compile yet: {}", unsupported.join(", ")),
            Some("only tilt envs with the `manifests` strategy are implemented; compile one with `--env NAME`"),
        );
        return 1;
    }
    if tree.files.is_empty() {
        if !out.json() {
            eprintln!("nothing to compile");
        }
        return 0;
    }
    match write_tree(&a.out, &tree) {
        Ok(dirs) => {
            if !out.json() {
                for d in dirs {
                    let n = tree
                        .files
                        .keys()
                        .filter(|p| d.file_name().is_some_and(|e| p.starts_with(e)))
                        .count();
                    eprintln!("wrote {} ({n} files)", d.display());
                }
            }
            0
        }
        Err(e) => {
            out.tool_error(&e, None);
            1
        }
    }
}
