//! `shipc plan | apply | status | history | rollback` (SPEC §11): the
//! flags, the kubeconfig and context binding, confirmation, printing and
//! exit codes. What the verbs do is `shipc::cluster::engine`; the network
//! is `shipc::cluster::kube`.

mod apply;
mod status;

pub(in crate::cli) use apply::verify_pins;
pub use apply::{apply, plan, rollback};
pub use status::{history, status};

use super::args::{
    ApplyArgs, ClusterArgs, HistoryArgs, PlanArgs, RollbackArgs, RolloutArgs, StatusArgs,
};
use super::render::Output;
use shipc::cluster::engine::{self, Action, ApplyOptions, Change, Event, Plan, Settings};
use shipc::cluster::kube::{self as kc, KubeCluster};
use shipc::cluster::render::Rendered;
use shipc::diag::{Code, Diagnostic};
use shipc::model::{EnvKind, EnvModel};
use shipc::Diagnostics;
use std::io::{BufRead, IsTerminal, Write};
use std::time::Duration;

/// Exit code of `plan` when applying would change something, and of
/// `status` when something is not ready or drifted.
const CHANGES: u8 = 2;

/// An env bound to a cluster: the analysis, the rendered objects (with
/// their P002 problems), the context and a client.
struct Bound {
    analysis: shipc::Analysis,
    /// The env's declared name (`rendered.env` is its label form).
    env_name: String,
    rendered: Rendered,
    problems: Vec<Diagnostic>,
    lock: shipc::lock::Lockfile,
    context: String,
    cluster: KubeCluster,
    runtime: tokio::runtime::Runtime,
    source_hash: String,
}

impl Bound {
    fn settings(&self, a: &ClusterArgs, adopt: bool, prune_volumes: bool) -> Settings {
        Settings {
            concurrency: usize::from(a.concurrency),
            adopt,
            prune_volumes,
        }
    }

    fn report(
        &self,
        out: &Output,
        diags: Vec<Diagnostic>,
        extra: serde_json::Map<String, serde_json::Value>,
    ) {
        let configured = shipc::verbs::cluster::policy(&self.analysis, diags);
        let mut d = Diagnostics::new();
        d.extend(configured);
        out.report(&self.analysis.loaded.sources, &d.into_sorted(), extra);
    }
}

/// A checked project, its lock and digest overrides, and the env a
/// cluster verb works on (never a tilt env).
pub(super) struct Loaded {
    pub analysis: shipc::Analysis,
    pub lock: shipc::lock::Lockfile,
    pub overrides: shipc::images::Overrides,
    pub env: String,
}

impl Loaded {
    pub fn env(&self) -> Option<&EnvModel> {
        self.analysis
            .checked
            .envs
            .iter()
            .find(|e| e.name == self.env)
    }

    pub fn kind(&self) -> Option<EnvKind> {
        self.env().map(EnvModel::env_kind)
    }

    /// The pinned-target inputs (images from the lock and overrides).
    pub fn pinned_input(&self, path_arg: &str) -> shipc::emit::PinnedInput<'_> {
        shipc::emit::PinnedInput {
            project: &self.analysis.checked.project,
            sources: &self.analysis.loaded.sources,
            root: &self.analysis.loaded.root,
            lock: &self.lock,
            overrides: &self.overrides,
            lock_command: format!("shipc lock --env {}{path_arg}", self.env),
        }
    }
}

/// Check the project and pick the env; a tilt env is refused.
pub(super) fn load(out: &Output, a: &ClusterArgs, verb: &str) -> Result<Loaded, u8> {
    out.check_format(&["human", "json"])?;
    let mut diags = Diagnostics::new();
    let analysis = super::check::analyze(out, a.path.as_deref(), Some(&a.env), &mut diags)?;
    if diags.has_errors() {
        out.diagnostics(&analysis.loaded.sources, &diags.into_sorted());
        return Err(1);
    }
    let Some(env) = analysis.checked.envs.iter().find(|e| e.name == a.env) else {
        out.tool_error(&format!("there is no env `{}`", a.env), None);
        return Err(1);
    };
    if env.env_kind() == EnvKind::Tilt {
        out.tool_error(
            &format!(
                "`shipc {verb}` does not deploy tilt env `{}`: Tilt does",
                env.name
            ),
            Some(&format!(
                "run `shipc compile --env {0}` and then `tilt up` in the output folder (`out/{0}`)",
                env.name
            )),
        );
        return Err(1);
    }
    let lock = super::compile::read_lock(&analysis.loaded.root).map_err(|e| {
        out.tool_error(
            &e,
            Some("fix ship.lock, or regenerate it with `shipc lock`"),
        );
        1u8
    })?;
    let overrides = super::compile::digest_overrides(&a.digests, &analysis).map_err(|e| {
        out.usage(&e);
        super::USAGE
    })?;
    let env = env.name.clone();
    Ok(Loaded {
        analysis,
        lock,
        overrides,
        env,
    })
}

/// A client for `context` on the current-thread runtime.
pub(super) fn connect(
    out: &Output,
    analysis: &shipc::Analysis,
    span: shipc::Span,
    context: &str,
    a: &ClusterArgs,
) -> Result<(KubeCluster, tokio::runtime::Runtime), u8> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| {
            out.tool_error(&format!("cannot start the async runtime: {e}"), None);
            1u8
        })?;
    let kubeconfig = kc::kubeconfig().map_err(|e| {
        kube_error(out, analysis, span, &e);
        1u8
    })?;
    let cluster = runtime
        .block_on(KubeCluster::connect(
            kubeconfig,
            context,
            Duration::from_secs(a.request_timeout),
        ))
        .map_err(|e| {
            kube_error(out, analysis, span, &e);
            1u8
        })?;
    Ok((cluster, runtime))
}

fn bind(out: &Output, a: &ClusterArgs, loaded: Loaded) -> Result<Bound, u8> {
    let Loaded {
        analysis,
        lock,
        overrides,
        env: env_name,
    } = loaded;
    let Some(env) = analysis.checked.envs.iter().find(|e| e.name == env_name) else {
        return Err(1);
    };
    let path_arg = super::lock::path_arg(a.path.as_deref());
    let Some((rendered, problems)) = shipc::verbs::cluster::render(
        &analysis,
        &env.name,
        &lock,
        &overrides,
        format!("shipc lock --env {}{path_arg}", env.name),
    ) else {
        return Err(1);
    };
    let context = choose_context(out, a, env, &analysis)?;
    let (cluster, runtime) = connect(out, &analysis, env.span, &context, a)?;
    let source_hash = source_hash(&analysis, &lock);
    Ok(Bound {
        analysis,
        env_name,
        rendered,
        problems,
        lock,
        context,
        cluster,
        runtime,
        source_hash,
    })
}

pub(super) fn kube_error(out: &Output, analysis: &shipc::Analysis, span: shipc::Span, e: &str) {
    let d = Diagnostic::new(Code::K013, span, e.to_string())
        .help("shipc reads KUBECONFIG (paths joined by `:`), else ~/.kube/config, like kubectl");
    out.diagnostics(&analysis.loaded.sources, &[d]);
}

/// `--context`, else the kubeconfig's current context; an env that names
/// `cluster.context` refuses any other (K008), before any request.
pub(super) fn choose_context(
    out: &Output,
    a: &ClusterArgs,
    env: &EnvModel,
    analysis: &shipc::Analysis,
) -> Result<String, u8> {
    let kubeconfig = kc::kubeconfig().map_err(|e| {
        kube_error(out, analysis, env.span, &e);
        1u8
    })?;
    let (names, current) = kc::contexts(&kubeconfig);
    let chosen = match a.context.clone().or(current) {
        Some(c) => c,
        None => {
            kube_error(
                out,
                analysis,
                env.span,
                "the kubeconfig has no current context; pass `--context`",
            );
            return Err(1);
        }
    };
    if let Some(want) = env.settings().context() {
        if let Some(w) = want.as_str() {
            if w != chosen {
                let d = Diagnostic::new(
                    Code::K008,
                    want.span,
                    format!(
                        "env `{}` deploys to context `{w}`, not to `{chosen}`",
                        env.name
                    ),
                )
                .label("the env's cluster")
                .help(format!(
                    "pass `--context {w}` (the kubeconfig must have it)"
                ));
                out.diagnostics(&analysis.loaded.sources, &[d]);
                return Err(1);
            }
        }
    }
    if !names.contains(&chosen) {
        let hint = shipc::diag::suggest::did_you_mean(&chosen, &names).unwrap_or_default();
        kube_error(
            out,
            analysis,
            env.span,
            format!("the kubeconfig has no context `{chosen}` {hint}").trim(),
        );
        return Err(1);
    }
    Ok(chosen)
}

/// sha256 of the project's `.ship` sources (path and text) and ship.lock.
fn source_hash(analysis: &shipc::Analysis, lock: &shipc::lock::Lockfile) -> String {
    let mut all: Vec<u8> = Vec::new();
    for f in analysis.loaded.sources.files().iter().filter(|f| !f.stdlib) {
        all.extend_from_slice(f.path.to_string_lossy().as_bytes());
        all.push(0);
        all.extend_from_slice(f.text.as_bytes());
        all.push(0);
    }
    all.extend_from_slice(shipc::lock::render(lock).as_bytes());
    shipc::registry::http::sha256(&all)
}

/// Now as RFC 3339 UTC (`2026-12-01T19:02:03Z`).
pub(super) fn now_rfc3339() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0);
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// `--timeout`: a Duration as `.ship` writes one (`300s`, `5m`, `1h30m`,
/// `500ms`), or whole seconds (`300`).
pub(super) fn parse_duration(s: &str) -> Result<Duration, String> {
    let ms = match s.parse::<u64>() {
        Ok(secs) => secs.saturating_mul(1000) as f64,
        Err(_) => shipc::units::parse(s, shipc::model::QuantityKind::Duration)
            .map_err(|help| format!("`--timeout {s}`: {help}"))?,
    };
    if !(1.0..=86_400_000.0).contains(&ms) {
        return Err(format!(
            "`--timeout {s}`: give a duration between 1ms and 24h"
        ));
    }
    Ok(Duration::from_secs_f64(ms / 1000.0))
}

/// Ask on the terminal, or insist on `--yes` without one.
pub(super) fn confirm(out: &Output, yes: bool, question: &str) -> Result<(), u8> {
    if yes {
        return Ok(());
    }
    if !(std::io::stdin().is_terminal() && std::io::stderr().is_terminal()) || out.json() {
        out.usage(&format!(
            "{question}: there is no terminal to ask on; pass `--yes` to go ahead"
        ));
        return Err(super::USAGE);
    }
    eprint!("{question}? Only `yes` goes ahead: ");
    let _ = std::io::stderr().flush();
    let mut line = String::new();
    let _ = std::io::stdin().lock().read_line(&mut line);
    if line.trim() == "yes" {
        Ok(())
    } else {
        eprintln!("cancelled: nothing was changed");
        Err(1)
    }
}

pub(super) fn paint(color: bool, code: &str, s: &str) -> String {
    if color {
        format!("\x1b[{code}m{s}\x1b[0m")
    } else {
        s.to_string()
    }
}

pub(super) fn short(v: &Option<serde_json::Value>) -> String {
    match v {
        None => "(none)".into(),
        Some(serde_json::Value::String(s)) => s.clone(),
        Some(x) => {
            let t = x.to_string();
            if t.len() > 200 {
                format!("{}…", t.chars().take(200).collect::<String>())
            } else {
                t
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::parse_duration;
    use std::time::Duration;

    #[test]
    fn timeouts_are_ship_durations() {
        assert_eq!(parse_duration("5m"), Ok(Duration::from_secs(300)));
        assert_eq!(parse_duration("1h30m"), Ok(Duration::from_secs(5400)));
        assert_eq!(parse_duration("300"), Ok(Duration::from_secs(300)));
        assert_eq!(parse_duration("500ms"), Ok(Duration::from_millis(500)));
        for bad in ["0s", "48h", "abc", "", "5d", "-1m"] {
            assert!(parse_duration(bad).is_err(), "{bad}");
        }
    }
}
