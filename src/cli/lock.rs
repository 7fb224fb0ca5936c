//! `shipc lock`, `shipc verify` and `shipc promote`: the verbs that read
//! and write `ship.lock` (SPEC §8). What to resolve and what the answers
//! mean is decided in `shipc::lock::plan`; the registry client is
//! `shipc::registry::oci`. This file gathers the flags and the environment
//! (`DOCKER_CONFIG`, `HOME`, `SSL_CERT_FILE`), shows progress, and writes
//! `ship.lock` atomically (a temporary file renamed over it) and only when
//! every reference resolved: a failed lock never leaves a partial file.

use super::args::{LockArgs, PromoteArgs, RegistryArgs, VerifyArgs};
use super::compile::read_lock;
use super::render::Output;
use shipc::lock::Change;
use shipc::model::EnvModel;
use shipc::registry::{oci::Oci, Options};
use shipc::verbs::{self, lock::LockRequest, lock::Locked, Refusal};
use shipc::Diagnostics;
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

pub fn lock(out: &Output, a: &LockArgs) -> u8 {
    let (analysis, mut diags, previous) = match prepare(out, a.path.as_deref(), Some(&a.env)) {
        Ok(x) => x,
        Err(code) => return code,
    };
    let Some(env) = analysis.checked.envs.iter().find(|e| e.name == a.env) else {
        return 1;
    };
    let root = analysis.loaded.root.clone();
    let options = match registry_options(&a.registry, env) {
        Ok(o) => o,
        Err(e) => {
            out.usage(&e);
            return super::USAGE;
        }
    };
    let command = lock_command(a);
    let request = LockRequest {
        env: &a.env,
        tag: a.tag.as_deref(),
        images: &a.images,
        contract: !a.no_contract,
        command: &command,
    };
    let started = Instant::now();
    let registry = Oci { options };
    let result = verbs::lock::lock(&analysis, &previous, request, &registry, &mut progress(out));
    let elapsed = started.elapsed();
    let (locked, found) = match result {
        Ok(x) => x,
        Err(r) => return refused(out, &analysis, diags, r),
    };
    diags.extend(found);
    let sorted = diags.into_sorted();
    let Locked {
        next,
        changes,
        resolved,
        kind,
        ..
    } = locked;
    let text = shipc::lock::render(&next);
    let path = root.join("ship.lock");
    let current = std::fs::read_to_string(&path).ok();
    let up_to_date = current.as_deref() == Some(text.as_str());
    let mut extra = serde_json::Map::new();
    extra.insert("env".into(), env.name.clone().into());
    extra.insert("changes".into(), serde_json::json!(changes));
    extra.insert("resolved".into(), resolved.into());
    if sorted.iter().any(|d| d.is_error()) {
        out.report(&analysis.loaded.sources, &sorted, extra);
        if !out.json() {
            eprintln!("ship.lock not written");
        }
        return 1;
    }
    if a.check {
        extra.insert("up_to_date".into(), up_to_date.into());
        out.report(&analysis.loaded.sources, &sorted, extra);
        if up_to_date {
            if !out.json() {
                eprintln!("ship.lock is up to date for env `{}`", env.name);
            }
            return 0;
        }
        if !out.json() {
            print_changes(&changes);
            if changes.is_empty() {
                eprintln!("  (no pin changed: ship.lock is not in the form `shipc lock` writes)");
            }
            eprintln!(
                "error: ship.lock is out of date for env `{}`\n  help: run `{}` and commit ship.lock",
                env.name,
                command.replace(" --check", "")
            );
        }
        return 1;
    }
    if !up_to_date {
        if let Err(e) = write_atomically(&path, &text) {
            out.report(&analysis.loaded.sources, &sorted, extra);
            out.tool_error(&e, None);
            return 1;
        }
    }
    out.report(&analysis.loaded.sources, &sorted, extra);
    if !out.json() {
        print_changes(&changes);
        let (images, charts) = next
            .envs
            .get(&env.name)
            .map_or((0, 0), |e| (e.images.len(), e.charts.len()));
        eprintln!(
            "locked {images} image{} and {charts} chart{} for env `{}` in {:.2}s: {}",
            if images == 1 { "" } else { "s" },
            if charts == 1 { "" } else { "s" },
            env.name,
            elapsed.as_secs_f64(),
            if up_to_date {
                "ship.lock unchanged".to_string()
            } else {
                format!("{} changed, wrote {}", changes.len(), path.display())
            }
        );
        if charts > 0 {
            eprintln!("{}", chart_note(kind));
        }
    }
    0
}

/// How the env deploys the charts it just locked.
fn chart_note(kind: shipc::model::EnvKind) -> &'static str {
    use shipc::model::EnvKind;
    match kind {
        EnvKind::Flux => "note: flux envs deploy locked OCI charts by digest (an OCIRepository at the digest)",
        EnvKind::Helmfile => "note: helmfile envs deploy charts by their exact version; the digest is recorded for review and `verify`",
        EnvKind::Tilt => "note: tilt envs build their images; the pins are used by `promote`",
    }
}

pub fn verify(out: &Output, a: &VerifyArgs) -> u8 {
    let (analysis, mut diags, lock) = match prepare(out, a.path.as_deref(), Some(&a.env)) {
        Ok(x) => x,
        Err(code) => return code,
    };
    let Some(env) = analysis.checked.envs.iter().find(|e| e.name == a.env) else {
        return 1;
    };
    let options = match registry_options(&a.registry, env) {
        Ok(o) => o,
        Err(e) => {
            out.usage(&e);
            return super::USAGE;
        }
    };
    let path_arg = path_arg(a.path.as_deref());
    let command = format!(
        "shipc lock --env {}{}{path_arg}",
        env.name,
        registry_flags(&a.registry)
    );
    let registry = Oci { options };
    let result = verbs::lock::verify(
        &analysis,
        &lock,
        &env.name,
        &command,
        &registry,
        &mut progress(out),
    );
    let (verified, found) = match result {
        Ok(x) => x,
        Err(r) => return refused(out, &analysis, diags, r),
    };
    diags.extend(found);
    let sorted = diags.into_sorted();
    let mut extra = serde_json::Map::new();
    extra.insert("env".into(), env.name.clone().into());
    extra.insert("verified".into(), verified.into());
    out.report(&analysis.loaded.sources, &sorted, extra);
    if sorted.iter().any(|d| d.is_error()) {
        return 1;
    }
    if !out.json() {
        eprintln!(
            "ok: {} pinned digest{} of env `{}` exist in their registries",
            verified,
            if verified == 1 { "" } else { "s" },
            env.name
        );
    }
    0
}

pub fn promote(out: &Output, a: &PromoteArgs) -> u8 {
    if a.from == a.to {
        out.usage("`--from` and `--to` name the same env");
        return super::USAGE;
    }
    let (analysis, _, lock) = match prepare(out, a.path.as_deref(), None) {
        Ok(x) => x,
        Err(code) => return code,
    };
    for name in [&a.from, &a.to] {
        if let Some(code) = super::check::unknown_env(out, &analysis, name) {
            return code;
        }
    }
    let root = analysis.loaded.root.clone();
    let (next, changes) = match verbs::lock::promote(&analysis, &lock, &a.from, &a.to, &a.names) {
        Ok(x) => x,
        Err(r) => return refused(out, &analysis, Diagnostics::new(), r),
    };
    if !a.dry_run && !changes.is_empty() {
        if let Err(e) = write_atomically(&root.join("ship.lock"), &shipc::lock::render(&next)) {
            out.tool_error(&e, None);
            return 1;
        }
    }
    if out.json() {
        let v = serde_json::json!({
            "version": 1, "from": a.from, "to": a.to, "dry_run": a.dry_run, "changes": changes,
        });
        println!("{}", serde_json::to_string_pretty(&v).unwrap_or_default());
        return 0;
    }
    if changes.is_empty() {
        eprintln!(
            "nothing to promote: env `{}` already pins what `{}` pins",
            a.to, a.from
        );
        return 0;
    }
    let mut stdout = std::io::stdout().lock();
    for c in &changes {
        let _ = writeln!(
            stdout,
            "{}: {} -> {}",
            c.key,
            c.from.as_deref().unwrap_or("(none)"),
            c.to.as_deref().unwrap_or("(none)")
        );
    }
    for c in changes.iter().filter(|c| c.copied_from.is_some()) {
        eprintln!(
            "note: `{}` is pinned in {}'s registry but was locked from `{}`: copy the image there (`crane copy`, `skopeo copy`), then `shipc verify --env {}`",
            c.key,
            a.to,
            c.copied_from.as_deref().unwrap_or(""),
            a.to
        );
    }
    eprintln!(
        "{} {} pin{} from `{}` to `{}`{}",
        if a.dry_run {
            "would promote"
        } else {
            "promoted"
        },
        changes.len(),
        if changes.len() == 1 { "" } else { "s" },
        a.from,
        a.to,
        if a.dry_run {
            " (dry run: ship.lock unchanged)"
        } else {
            ""
        }
    );
    0
}

/// The common start: `--format`, the checked project (errors end the run),
/// and `ship.lock` as it is.
fn prepare(
    out: &Output,
    path: Option<&Path>,
    env: Option<&str>,
) -> Result<(shipc::Analysis, Diagnostics, shipc::lock::Lockfile), u8> {
    out.check_format(&["human", "json"])?;
    let mut diags = Diagnostics::new();
    let analysis = super::check::analyze(out, path, env, &mut diags)?;
    if diags.has_errors() {
        out.diagnostics(&analysis.loaded.sources, &diags.into_sorted());
        return Err(1);
    }
    let lock = read_lock(&analysis.loaded.root).map_err(|e| {
        out.tool_error(&e, Some("fix ship.lock, or delete it and run `shipc lock`"));
        1
    })?;
    Ok((analysis, diags, lock))
}

/// Report why a use case did not run; the exit code.
pub(super) fn refused(
    out: &Output,
    analysis: &shipc::Analysis,
    mut diags: Diagnostics,
    r: Refusal,
) -> u8 {
    match r {
        Refusal::Usage(e) => {
            out.usage(&e);
            super::USAGE
        }
        Refusal::Problems(problems) => {
            diags.extend(problems);
            out.diagnostics(&analysis.loaded.sources, &diags.into_sorted());
            1
        }
        Refusal::Failed(e) => {
            out.tool_error(&e, None);
            1
        }
    }
}

/// Transport settings from the flags, the env and the environment.
pub(super) fn registry_options(a: &RegistryArgs, env: &EnvModel) -> Result<Options, String> {
    if !(a.timeout.is_finite() && a.timeout > 0.0 && a.timeout <= 3600.0) {
        return Err(format!(
            "`--timeout {}`: give seconds between 0 and 3600",
            a.timeout
        ));
    }
    let mut insecure: std::collections::BTreeSet<String> = a.insecure.iter().cloned().collect();
    if let Some(list) = env.settings().insecure_registries() {
        insecure.extend(list.strings().into_iter().map(str::to_string));
    }
    for h in &insecure {
        if h.is_empty() || h.contains(['/', ' ']) || h.contains("://") {
            return Err(format!(
                "`{h}` is not a registry `host:port` (no scheme, no path)"
            ));
        }
    }
    let mut ca_files = a.ca_files.clone();
    if let Some(f) = std::env::var_os("SSL_CERT_FILE").filter(|f| !f.is_empty()) {
        ca_files.push(PathBuf::from(f));
    }
    let docker_config = match std::env::var_os("DOCKER_CONFIG").filter(|d| !d.is_empty()) {
        Some(d) => Some(PathBuf::from(d)),
        None => std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".docker")),
    };
    let var = |k: &str| {
        std::env::var_os(k)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    };
    let mut auth_files: Vec<PathBuf> = Vec::new();
    auth_files.extend(var("REGISTRY_AUTH_FILE"));
    auth_files.extend(var("XDG_RUNTIME_DIR").map(|d| d.join("containers/auth.json")));
    auth_files.extend(var("HOME").map(|h| h.join(".config/containers/auth.json")));
    let mut certs_d: Vec<PathBuf> = docker_config.iter().map(|d| d.join("certs.d")).collect();
    certs_d.push(PathBuf::from("/etc/docker/certs.d"));
    Ok(Options {
        concurrency: usize::from(a.concurrency),
        timeout: Duration::from_secs_f64(a.timeout),
        retries: a.retries,
        insecure,
        ca_files,
        certs_d,
        docker_config,
        auth_files,
    })
}

/// The `shipc lock` command line as a user would retype it.
fn lock_command(a: &LockArgs) -> String {
    let mut c = format!("shipc lock --env {}", a.env);
    if let Some(t) = &a.tag {
        c.push_str(&format!(" --tag {t}"));
    }
    for i in &a.images {
        c.push_str(&format!(" --image {}", word(i)));
    }
    if a.check {
        c.push_str(" --check");
    }
    if a.no_contract {
        c.push_str(" --no-contract");
    }
    c.push_str(&registry_flags(&a.registry));
    c.push_str(&path_arg(a.path.as_deref()));
    c
}

/// A word as a shell reads it back (quoted when it needs to be).
fn word(s: &str) -> String {
    if !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./:=@+,".contains(c))
    {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', "'\\''"))
    }
}

/// The registry flags the user gave, to repeat in a suggested command.
pub(super) fn registry_flags(r: &super::args::RegistryArgs) -> String {
    let mut c = String::new();
    for h in &r.insecure {
        c.push_str(&format!(" --insecure-registry {}", word(h)));
    }
    for f in &r.ca_files {
        c.push_str(&format!(" --ca-file {}", word(&f.display().to_string())));
    }
    c
}

pub(super) fn path_arg(p: Option<&Path>) -> String {
    p.map(|p| format!(" {}", word(&p.display().to_string())))
        .unwrap_or_default()
}

/// A progress line on stderr when it is a terminal: `[n/total] reference`.
pub(super) fn progress(out: &Output) -> impl FnMut(usize, usize, &str) {
    let live = !out.json() && std::io::stderr().is_terminal();
    move |done, total, current| {
        if !live {
            return;
        }
        let mut err = std::io::stderr().lock();
        let _ = write!(err, "\r\x1b[2K[{done}/{total}] {current}");
        if done == total {
            let _ = write!(err, "\r\x1b[2K");
        }
        let _ = err.flush();
    }
}

fn print_changes(changes: &[Change]) {
    for c in changes {
        match (&c.from, &c.to) {
            (None, Some(to)) => eprintln!("  added   {}: {to}", c.key),
            (Some(from), None) => eprintln!("  removed {}: {from}", c.key),
            (Some(from), Some(to)) => eprintln!("  changed {}: {from} -> {to}", c.key),
            (None, None) => {}
        }
    }
}

/// Write `text` to `path` through a temporary file in the same folder and a
/// rename, so readers see the old file or the new one, never a mix.
pub fn write_atomically(path: &Path, text: &str) -> Result<(), String> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let tmp = dir.join(format!(".ship.lock.{}.tmp", std::process::id()));
    let result = (|| {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(text.as_bytes())?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    result.map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        format!("cannot write `{}`: {e}", path.display())
    })
}
