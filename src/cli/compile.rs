//! `shipc compile [--env E | --all] [-o DIR] [PATH]`: check, emit every
//! selected env, staging each one's files as soon as it is emitted, then
//! put `DIR/<env>/…` in place when no error was found (see `write.rs`).
//!
//! Targets: `tilt` envs (strategies `manifests`, `kustomize`, `helm`),
//! `helmfile` and `flux` envs — every value the stdlib's `EnvKind` and
//! `Strategy` unions allow.

use super::args::CompileArgs;
use super::render::Output;
use super::write::{relative, WriteOptions};
use shipc::emit;
use shipc::images::Overrides;
use shipc::Diagnostics;

/// Sources from this size on (2 MiB: some 2,500 services of the synthetic
/// project, 14,000 of the like-for-like one) have their syntax trees
/// freed while the envs are emitted.
const FREE_SYNTAX_FROM: usize = 2 << 20;

pub fn run(out: &Output, a: &CompileArgs) -> u8 {
    if let Err(code) = out.check_format(&["human", "json", "sarif", "github"]) {
        return code;
    }
    if a.env.is_some() == a.all {
        out.usage("pass exactly one of `--env ENV` or `--all`");
        return super::USAGE;
    }
    let mut diags = Diagnostics::new();
    // ship.lock is read and parsed while the project is analysed; the root
    // is the one `load` derives from the same path.
    let root = shipc::load::project_root(
        &super::fs::FsHost::for_project(&super::fs::project_path(a.path.as_deref())),
        &super::fs::project_path(a.path.as_deref()),
    );
    let (analysis, lock) = std::thread::scope(|s| {
        let lock = s.spawn(|| read_lock(&root));
        let analysis = super::check::analyze(out, a.path.as_deref(), a.env.as_deref(), &mut diags);
        let lock = lock
            .join()
            .unwrap_or_else(|_| Err("internal error: reading ship.lock stopped".into()));
        (analysis, lock)
    });
    let mut analysis = match analysis {
        Ok(x) => x,
        Err(code) => return code,
    };
    // Diagnostics are printed once, at the end (one JSON document).
    if diags.has_errors() {
        out.diagnostics(&analysis.loaded.sources, &diags.into_sorted());
        return 1;
    }
    let lock = match lock {
        Ok(l) => l,
        Err(e) => {
            out.tool_error(
                &e,
                Some("fix ship.lock, or regenerate it with `shipc lock`"),
            );
            return 1;
        }
    };
    let overrides = match digest_overrides(&a.digests, &analysis) {
        Ok(o) => o,
        Err(e) => {
            out.usage(&e);
            return super::USAGE;
        }
    };
    let path_arg = a
        .path
        .as_ref()
        .map(|p| format!(" {}", p.display()))
        .unwrap_or_default();
    let out_dir = a.out.clone();
    let root_from_output = |env: &str| relative(&out_dir.join(env), &root);
    let targets = emit::Targets {
        lock: &lock,
        overrides: &overrides,
        root_from_output: &root_from_output,
        path_arg: &path_arg,
    };
    // Emitting reads the models, never the syntax trees or the program. In
    // a large project they are freed on a thread of their own while the
    // envs are emitted, so the compile's peak memory does not hold them (an
    // eighth of it at 10,000 services); in a small one that thread would
    // cost more time than the memory is worth, and the process exits soon.
    let syntax = (
        std::mem::take(&mut analysis.loaded.files),
        std::mem::take(&mut analysis.checked.program),
    );
    if analysis.loaded.sources.project_bytes() >= FREE_SYNTAX_FROM {
        let _freeing = std::thread::Builder::new().spawn(move || drop(syntax));
    } else {
        std::mem::forget(syntax);
    }
    let envs = emit::env_names(&analysis);
    let module = super::fs::project_path(a.path.as_deref());
    let options = WriteOptions {
        force: a.force,
        module: &module,
    };
    // Staging starts before emitting, so each env is written as soon as it
    // is emitted and its text dropped. A folder that may not be written is
    // reported after the diagnostics, as if it were found at the end.
    let staged = if envs.is_empty() {
        None
    } else {
        Some(super::write::begin(&a.out, &envs, &options))
    };
    let sink = |env: &str, files: emit::OutputTree| -> Result<usize, String> {
        match &staged {
            Some(Ok(s)) => s.add_env(env, &files),
            _ => Ok(files.files.len()),
        }
    };
    // A large env's files are staged in batches while it is emitted.
    let batches = |env: &str, files: emit::OutputTree| {
        if let Some(Ok(s)) = &staged {
            s.add_batch(env, files);
        }
    };
    let batches: Option<emit::Batches<'_>> = match &staged {
        Some(Ok(_)) => Some(&batches),
        _ => None,
    };
    let (written, problems) =
        match shipc::verbs::compile::compile_each(&analysis, &targets, batches, sink) {
            Ok(x) => x,
            Err(e) => {
                out.tool_error(&e, Some("please report this with the input that caused it"));
                return 1;
            }
        };
    diags.extend(problems);
    let sorted = diags.into_sorted();
    out.diagnostics(&analysis.loaded.sources, &sorted);
    if sorted.iter().any(|d| d.is_error()) {
        return 1;
    }
    let staged = match staged {
        None => {
            if !out.json() {
                eprintln!("nothing to compile");
            }
            return 0;
        }
        Some(Err(e)) => {
            out.tool_error(&e, None);
            return 1;
        }
        Some(Ok(s)) => s,
    };
    let mut counts = Vec::new();
    for w in written {
        match w {
            Ok(n) => counts.push(n),
            Err(e) => {
                out.tool_error(&e, None);
                return 1;
            }
        }
    }
    // The process exits next: leave freeing the model to the operating system.
    std::mem::forget(analysis);
    match staged.commit() {
        Ok(dirs) => {
            if !out.json() {
                for (d, n) in dirs.iter().zip(counts) {
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

/// `<root>/ship.lock`, or an empty lock when there is none.
pub fn read_lock(root: &std::path::Path) -> Result<shipc::lock::Lockfile, String> {
    let path = root.join("ship.lock");
    let bytes = super::fs::read_regular(&path, None, super::fs::MAX_SOURCE).and_then(|b| {
        String::from_utf8(b).map_err(|_| std::io::Error::other("it is not valid UTF-8"))
    });
    match bytes {
        Ok(text) => shipc::lock::parse(&text).map_err(|e| format!("`{}`: {e}", path.display())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(shipc::lock::Lockfile {
            version: 1,
            ..Default::default()
        }),
        Err(e) => Err(format!("cannot read `{}`: {e}", path.display())),
    }
}

/// `--digest NAME=sha256:…` flags and `SHIP_DIGEST_<NAME>` variables, by
/// `ship.lock` key. Flags win over variables.
pub(super) fn digest_overrides(
    flags: &[String],
    analysis: &shipc::Analysis,
) -> Result<Overrides, String> {
    if flags.is_empty()
        && !std::env::vars_os().any(|(k, _)| k.to_string_lossy().starts_with("SHIP_DIGEST_"))
    {
        return Ok(Overrides::new());
    }
    let mut keys: Vec<String> = Vec::new();
    for env in &analysis.checked.envs {
        keys.extend(env.lock_keys());
    }
    keys.sort();
    keys.dedup();
    let var = |k: &str| {
        format!(
            "SHIP_DIGEST_{}",
            k.to_ascii_uppercase().replace(['.', '-'], "_")
        )
    };
    let mut out = Overrides::new();
    for k in &keys {
        if let Ok(d) = std::env::var(var(k)) {
            shipc::names::digest(&d).map_err(|e| format!("{}: {e}", var(k)))?;
            out.insert(k.clone(), d);
        }
    }
    for f in flags {
        let (k, d) = f
            .split_once('=')
            .ok_or_else(|| format!("`--digest {f}`: expected NAME=sha256:…"))?;
        shipc::names::digest(d).map_err(|e| format!("`--digest {f}`: {e}"))?;
        if !keys.iter().any(|x| x == k) {
            let hint = shipc::diag::suggest::did_you_mean(k, &keys).unwrap_or_default();
            return Err(format!(
                "`--digest {f}`: no image is locked under `{k}` {hint}"
            ));
        }
        out.insert(k.to_string(), d.to_string());
    }
    Ok(out)
}
