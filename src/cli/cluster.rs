//! `shipc plan | apply | status | history | rollback` (SPEC §11): the
//! flags, the kubeconfig and context binding, confirmation, printing and
//! exit codes. What the verbs do is `shipc::cluster::engine`; the network
//! is `shipc::cluster::kube`.

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

/// The plan as text (stdout).
fn print_plan(plan: &Plan, color: bool) {
    let mut o = std::io::stdout().lock();
    for c in &plan.changes {
        let (mark, word, code) = match c.action {
            Action::Create => ("+", "create", "32"),
            Action::Update => ("~", "update", "33"),
            Action::Delete => ("-", "delete", "31"),
            Action::Unchanged => continue,
        };
        let note = c
            .note
            .as_ref()
            .map(|n| format!("  ({n})"))
            .unwrap_or_default();
        let _ = writeln!(
            o,
            "{} {word:<7} {}{note}",
            paint(color, code, mark),
            c.object
        );
        for f in &c.fields {
            let _ = writeln!(
                o,
                "      {}: {} → {}",
                f.path,
                paint(color, "31", &short(&f.before)),
                paint(color, "32", &short(&f.after))
            );
        }
    }
    let _ = writeln!(
        o,
        "Plan: {} to create, {} to update, {} to delete, {} unchanged.",
        plan.count(Action::Create),
        plan.count(Action::Update),
        plan.changes
            .iter()
            .filter(|c| c.action == Action::Delete && c.note.is_none())
            .count(),
        plan.count(Action::Unchanged)
    );
}

fn plan_json(plan: &Plan) -> serde_json::Value {
    serde_json::json!({
        "changes": plan.changes.iter().filter(|c| c.action != Action::Unchanged).collect::<Vec<&Change>>(),
        "summary": {
            "create": plan.count(Action::Create),
            "update": plan.count(Action::Update),
            "delete": plan.count(Action::Delete),
            "unchanged": plan.count(Action::Unchanged),
        },
    })
}

pub fn plan(out: &Output, a: &PlanArgs) -> u8 {
    let loaded = match load(out, &a.cluster, "plan") {
        Ok(l) => l,
        Err(c) => return c,
    };
    if loaded.kind() == Some(EnvKind::Flux) {
        return super::gitops::plan(out, a, loaded);
    }
    let b = match bind(out, &a.cluster, loaded) {
        Ok(b) => b,
        Err(c) => return c,
    };
    if !b.problems.is_empty() {
        b.report(out, b.problems.clone(), Default::default());
        return 1;
    }
    let s = b.settings(&a.cluster, a.adopt, a.prune_volumes);
    let result = b
        .runtime
        .block_on(engine::plan(&b.cluster, &b.rendered, &s));
    let mut extra = serde_json::Map::new();
    extra.insert("env".into(), a.cluster.env.clone().into());
    extra.insert("context".into(), b.context.clone().into());
    match result {
        Ok(plan) => {
            if out.json() {
                if let serde_json::Value::Object(m) = plan_json(&plan) {
                    extra.extend(m);
                }
                b.report(out, Vec::new(), extra);
            } else {
                print_plan(&plan, out.color && std::io::stdout().is_terminal());
            }
            if plan.has_changes() {
                CHANGES
            } else {
                0
            }
        }
        Err(diags) => {
            b.report(out, diags, extra);
            1
        }
    }
}

/// Progress of an apply on stderr: a line per wave and object, waits, and
/// elapsed time.
fn progress(out: &Output) -> impl FnMut(Event) {
    let quiet = out.json();
    let started = std::time::Instant::now();
    move |e| {
        if quiet {
            return;
        }
        let t = started.elapsed().as_secs_f64();
        match e {
            Event::Wave(0, total, n) => eprintln!(
                "[{t:6.1}s] wave 0/{} (namespaces): {n} object(s)",
                total.saturating_sub(1)
            ),
            Event::Wave(w, total, n) => eprintln!(
                "[{t:6.1}s] wave {w}/{}: {n} object(s)",
                total.saturating_sub(1)
            ),
            Event::Applied(k, a) => {
                let word = match a {
                    Action::Create => "created",
                    Action::Update => "configured",
                    Action::Delete => "deleted",
                    // The summary counts them; a line each would drown the changes.
                    Action::Unchanged => return,
                };
                eprintln!("[{t:6.1}s]   {word:<10} {k}");
            }
            Event::Waiting(list) => {
                for (k, why) in list {
                    eprintln!("[{t:6.1}s]   waiting    {k}: {why}");
                }
            }
            Event::Ready(k) => eprintln!("[{t:6.1}s]   ready      {k}"),
            Event::Deleted(k) => eprintln!("[{t:6.1}s]   deleted    {k}"),
            Event::Restoring(0) => {
                eprintln!("[{t:6.1}s] --atomic: deleting what this apply created")
            }
            Event::Restoring(n) => eprintln!("[{t:6.1}s] --atomic: restoring revision {n}"),
        }
    }
}

fn options(
    out: &Output,
    b: &Bound,
    a: &ClusterArgs,
    r: &RolloutArgs,
    adopt: bool,
    prune: bool,
    prune_volumes: bool,
) -> Result<ApplyOptions, u8> {
    let timeout = parse_duration(&r.timeout).map_err(|e| {
        out.usage(&e);
        super::USAGE
    })?;
    Ok(ApplyOptions {
        settings: b.settings(a, adopt, prune_volumes),
        prune,
        wait: r.waits(),
        atomic: r.atomic,
        timeout,
        history_max: usize::try_from(r.history_max).unwrap_or(10),
        now: now_rfc3339(),
        source_hash: b.source_hash.clone(),
        description: "apply".into(),
    })
}

fn print_outcome(
    out: &Output,
    b: &Bound,
    verb: &str,
    result: Result<(engine::Outcome, Vec<Diagnostic>), engine::Stopped>,
    started: std::time::Instant,
) -> u8 {
    let mut extra = serde_json::Map::new();
    extra.insert("env".into(), b.rendered.env.clone().into());
    extra.insert("context".into(), b.context.clone().into());
    match result {
        Ok((outcome, warnings)) => {
            let n = |a: Action| outcome.changes.iter().filter(|c| c.action == a).count();
            if out.json() {
                extra.insert(
                    "outcome".into(),
                    serde_json::to_value(&outcome).unwrap_or_default(),
                );
                b.report(out, warnings, extra);
            } else {
                b.report(out, warnings, extra);
                for i in &outcome.images_changed {
                    eprintln!("  image {i}");
                }
                eprintln!(
                    "{verb}: revision {} of env `{}` deployed to `{}` in {:.1}s: {} created, {} configured, {} unchanged, {} pruned",
                    outcome.revision,
                    b.env_name,
                    b.context,
                    started.elapsed().as_secs_f64(),
                    n(Action::Create),
                    n(Action::Update),
                    n(Action::Unchanged),
                    n(Action::Delete)
                );
            }
            0
        }
        Err(stopped) => {
            extra.insert("touched".into(), stopped.touched.into());
            b.report(out, stopped.diagnostics, extra);
            if !out.json() {
                if stopped.touched {
                    eprintln!("{verb} of env `{}` failed", b.env_name);
                } else {
                    eprintln!("{verb} refused: nothing was changed");
                }
            }
            1
        }
    }
}

/// P004: every pinned digest exists in its registry.
pub(super) fn verify_pins(
    out: &Output,
    analysis: &shipc::Analysis,
    lock: &shipc::lock::Lockfile,
    env_name: &str,
    a: &ApplyArgs,
) -> Result<(), u8> {
    let Some(env) = analysis.checked.envs.iter().find(|e| e.name == env_name) else {
        return Err(1);
    };
    let registry = a.registry();
    let options = super::lock::registry_options(&registry, env).map_err(|e| {
        out.usage(&e);
        super::USAGE
    })?;
    let command = format!(
        "shipc lock --env {}{}{}",
        env.name,
        super::lock::registry_flags(&registry),
        super::lock::path_arg(a.cluster.path.as_deref())
    );
    let registry = shipc::registry::oci::Oci { options };
    let configured = match shipc::verbs::lock::verify(
        analysis,
        lock,
        &env.name,
        &command,
        &registry,
        &mut super::lock::progress(out),
    ) {
        Ok((_, found)) => found,
        Err(r) => return Err(super::lock::refused(out, analysis, Diagnostics::new(), r)),
    };
    if configured.iter().any(Diagnostic::is_error) {
        let mut d = Diagnostics::new();
        d.extend(configured);
        out.diagnostics(&analysis.loaded.sources, &d.into_sorted());
        if !out.json() {
            eprintln!("apply refused: nothing was changed (pass `--skip-verify` to skip the registry check)");
        }
        return Err(1);
    }
    Ok(())
}

/// `--with-infra`: `helm upgrade --install` each infra release at its
/// exact version, before anything of the env is applied.
fn install_infra(out: &Output, b: &Bound) -> Result<(), u8> {
    if b.rendered.infra.is_empty() {
        return Ok(());
    }
    let helm = std::env::var_os("PATH")
        .map(|p| {
            std::env::split_paths(&p)
                .map(|d| d.join("helm"))
                .find(|h| h.is_file())
        })
        .unwrap_or_default();
    let Some(helm) = helm else {
        out.tool_error(
            "`--with-infra` needs the `helm` CLI, and it is not on PATH",
            Some("install Helm (https://helm.sh/docs/intro/install/) or install the infra charts yourself and apply without `--with-infra`"),
        );
        return Err(1);
    };
    let dir = std::env::temp_dir().join(format!("shipc-infra-{}", std::process::id()));
    if let Err(e) = std::fs::create_dir_all(&dir) {
        out.tool_error(&format!("cannot create `{}`: {e}", dir.display()), None);
        return Err(1);
    }
    let result = (|| {
        for i in &b.rendered.infra {
            let values = dir.join(format!("{}.json", i.release));
            std::fs::write(&values, serde_json::to_vec(&i.values).unwrap_or_default())
                .map_err(|e| format!("cannot write `{}`: {e}", values.display()))?;
            let mut cmd = std::process::Command::new(&helm);
            cmd.args([
                "upgrade",
                "--install",
                &i.release,
                &i.chart,
                "--version",
                &i.version,
            ])
            .args([
                "--namespace",
                &i.namespace,
                "--create-namespace",
                "--atomic",
                "--wait",
            ])
            .args(["--kube-context", &b.context, "-f"])
            .arg(&values);
            if let Some(repo) = &i.repo {
                cmd.args(["--repo", repo]);
            }
            eprintln!(
                "helm upgrade --install {} {} --version {} --namespace {}",
                i.release, i.chart, i.version, i.namespace
            );
            let status = cmd
                .status()
                .map_err(|e| format!("cannot run `{}`: {e}", helm.display()))?;
            if !status.success() {
                return Err(format!(
                    "`helm upgrade --install {}` failed ({status}); nothing of the env was applied",
                    i.release
                ));
            }
        }
        Ok(())
    })();
    let _ = std::fs::remove_dir_all(&dir);
    result.map_err(|e| {
        out.tool_error(&e, None);
        1
    })
}

pub fn apply(out: &Output, a: &ApplyArgs) -> u8 {
    let started = std::time::Instant::now();
    let loaded = match load(out, &a.cluster, "apply") {
        Ok(l) => l,
        Err(c) => return c,
    };
    if loaded.kind() == Some(EnvKind::Flux) {
        return super::gitops::apply(out, a, loaded);
    }
    let b = match bind(out, &a.cluster, loaded) {
        Ok(b) => b,
        Err(c) => return c,
    };
    if !b.problems.is_empty() {
        b.report(out, b.problems.clone(), Default::default());
        if !out.json() {
            eprintln!("apply refused: nothing was changed");
        }
        return 1;
    }
    let o = match options(
        out,
        &b,
        &a.cluster,
        &a.rollout,
        a.adopt,
        a.prune,
        a.prune_volumes,
    ) {
        Ok(o) => o,
        Err(c) => return c,
    };
    if !a.skip_verify {
        if let Err(c) = verify_pins(out, &b.analysis, &b.lock, &b.env_name, a) {
            return c;
        }
    }
    // The plan shows what will happen and finds every refusal (P005, K004,
    // K005) before anything is written.
    let plan = match b
        .runtime
        .block_on(engine::plan(&b.cluster, &b.rendered, &o.settings))
    {
        Ok(p) => p,
        Err(diags) => {
            b.report(out, diags, Default::default());
            if !out.json() {
                eprintln!("apply refused: nothing was changed");
            }
            return 1;
        }
    };
    let recorded = plan.recorded;
    let prunes = a.prune
        && plan
            .changes
            .iter()
            .any(|c| c.action == Action::Delete && c.note.is_none());
    let changes = plan
        .changes
        .iter()
        .any(|c| matches!(c.action, Action::Create | Action::Update));
    if !changes && !prunes && recorded && !a.with_infra {
        let mut extra = serde_json::Map::new();
        extra.insert("env".into(), b.rendered.env.clone().into());
        extra.insert("up_to_date".into(), true.into());
        b.report(out, Vec::new(), extra);
        if !out.json() {
            eprintln!(
                "env `{}` is up to date in `{}`: nothing to apply ({} objects unchanged)",
                b.env_name,
                b.context,
                plan.count(Action::Unchanged)
            );
        }
        return 0;
    }
    if !out.json() && std::io::stderr().is_terminal() && !a.rollout.yes {
        print_plan(&plan, out.color);
    }
    if let Err(c) = confirm(
        out,
        a.rollout.yes,
        &format!("apply env `{}` to context `{}`", b.env_name, b.context),
    ) {
        return c;
    }
    if a.with_infra {
        if let Err(c) = install_infra(out, &b) {
            return c;
        }
    }
    let result = b.runtime.block_on(engine::apply(
        &b.cluster,
        &b.rendered,
        &o,
        &mut progress(out),
    ));
    print_outcome(out, &b, "apply", result, started)
}

pub fn rollback(out: &Output, a: &RollbackArgs) -> u8 {
    let started = std::time::Instant::now();
    let loaded = match load(out, &a.cluster, "rollback") {
        Ok(l) => l,
        Err(c) => return c,
    };
    if loaded.kind() == Some(EnvKind::Flux) {
        return super::gitops::rollback(out, a, loaded);
    }
    let b = match bind(out, &a.cluster, loaded) {
        Ok(b) => b,
        Err(c) => return c,
    };
    let o = match options(out, &b, &a.cluster, &a.rollout, true, false, false) {
        Ok(o) => o,
        Err(c) => return c,
    };
    let to = match a.to.as_deref().map(str::parse::<u64>) {
        None => None,
        Some(Ok(n)) => Some(n),
        Some(Err(_)) => {
            out.usage("`--to` takes a revision number (`shipc history` lists them)");
            return super::USAGE;
        }
    };
    let target = match to {
        Some(n) => format!("revision {n}"),
        None => "the previous revision".into(),
    };
    if let Err(c) = confirm(
        out,
        a.rollout.yes,
        &format!(
            "roll env `{}` in context `{}` back to {target}",
            b.env_name, b.context
        ),
    ) {
        return c;
    }
    let result = b.runtime.block_on(engine::rollback(
        &b.cluster,
        &b.rendered,
        to,
        &o,
        &mut progress(out),
    ));
    print_outcome(out, &b, "rollback", result, started)
}

pub fn history(out: &Output, a: &HistoryArgs) -> u8 {
    let loaded = match load(out, &a.cluster, "history") {
        Ok(l) => l,
        Err(c) => return c,
    };
    if loaded.kind() == Some(EnvKind::Flux) {
        return super::gitops::history(out, a, loaded);
    }
    let b = match bind(out, &a.cluster, loaded) {
        Ok(b) => b,
        Err(c) => return c,
    };
    let mut extra = serde_json::Map::new();
    extra.insert("env".into(), b.rendered.env.clone().into());
    match b.runtime.block_on(engine::history(&b.cluster, &b.rendered)) {
        Ok((lines, warnings)) => {
            if out.json() {
                extra.insert(
                    "revisions".into(),
                    serde_json::to_value(&lines).unwrap_or_default(),
                );
                b.report(out, warnings, extra);
                return 0;
            }
            b.report(out, warnings, extra);
            if lines.is_empty() {
                eprintln!(
                    "env `{}` has no recorded revision in `{}`",
                    b.env_name, b.context
                );
                return 0;
            }
            let mut o = std::io::stdout().lock();
            let _ = writeln!(
                o,
                "{:<9}{:<22}{:<12}{:<9}DESCRIPTION",
                "REVISION", "TIME", "STATUS", "OBJECTS"
            );
            for l in &lines {
                let _ = writeln!(
                    o,
                    "{:<9}{:<22}{:<12}{:<9}{}",
                    l.revision,
                    l.time,
                    serde_json::to_value(l.status)
                        .ok()
                        .and_then(|v| v.as_str().map(str::to_string))
                        .unwrap_or_default(),
                    l.objects,
                    l.description
                );
                for i in &l.images_changed {
                    let _ = writeln!(o, "{:<9}image {i}", "");
                }
            }
            0
        }
        Err(diags) => {
            b.report(out, diags, extra);
            1
        }
    }
}

pub fn status(out: &Output, a: &StatusArgs) -> u8 {
    let loaded = match load(out, &a.cluster, "status") {
        Ok(l) => l,
        Err(c) => return c,
    };
    let flux_objects = if loaded.kind() == Some(EnvKind::Flux) {
        super::gitops::flux_objects_of(&loaded, &a.cluster)
    } else {
        Vec::new()
    };
    let b = match bind(out, &a.cluster, loaded) {
        Ok(b) => b,
        Err(c) => return c,
    };
    let color = out.color && std::io::stdout().is_terminal();
    loop {
        let result = b
            .runtime
            .block_on(shipc::cluster::status::status(&b.cluster, &b.rendered));
        let mut extra = serde_json::Map::new();
        extra.insert("env".into(), b.rendered.env.clone().into());
        let flux = if flux_objects.is_empty() {
            Ok(Vec::new())
        } else {
            b.runtime.block_on(shipc::gitops::flux::states(
                &b.cluster,
                &flux_objects,
                b.rendered.span,
            ))
        };
        let result = match (result, flux) {
            (Ok(r), Ok(f)) => Ok((r, f)),
            (Err(d), _) => Err(d),
            (_, Err(d)) => Err(vec![d]),
        };
        let code = match result {
            Ok((report, flux)) => {
                let flux_ok = flux.iter().all(|s| s.ready == "True" && !s.suspended);
                if out.json() {
                    extra.insert(
                        "status".into(),
                        serde_json::to_value(&report).unwrap_or_default(),
                    );
                    extra.insert("summary".into(), report.summary().into());
                    extra.insert("healthy".into(), (report.healthy() && flux_ok).into());
                    if !flux_objects.is_empty() {
                        extra.insert(
                            "flux".into(),
                            serde_json::to_value(&flux).unwrap_or_default(),
                        );
                    }
                    b.report(out, Vec::new(), extra);
                } else {
                    if a.watch && color {
                        print!("\x1b[H\x1b[2J");
                    }
                    print_status(&b, &report, color);
                    if !flux.is_empty() {
                        super::gitops::print_flux_states(&flux, color);
                    }
                }
                if report.healthy() && flux_ok {
                    0
                } else {
                    CHANGES
                }
            }
            Err(diags) => {
                b.report(out, diags, extra);
                1
            }
        };
        if !a.watch {
            return code;
        }
        std::thread::sleep(Duration::from_secs(2));
    }
}

fn print_status(b: &Bound, r: &shipc::cluster::status::Report, color: bool) {
    let mut o = std::io::stdout().lock();
    let _ = writeln!(o, "env `{}` in context `{}`", b.env_name, b.context);
    for s in &r.services {
        let code = match s.health {
            "ready" => "32",
            "progressing" | "drift" => "33",
            _ => "31",
        };
        let reason = if s.reason.is_empty() {
            String::new()
        } else {
            format!("  ({})", s.reason)
        };
        let _ = writeln!(
            o,
            "  {} {}  {}/{} ready, {} restarts{reason}",
            paint(color, code, &format!("{:<11}", s.health)),
            s.workload,
            s.ready,
            s.total,
            s.restarts
        );
        for i in &s.images {
            let running = if i.running.is_empty() {
                "(no pod reports one)".to_string()
            } else {
                i.running.join(", ")
            };
            let mark = if i.drift {
                paint(color, "33", " DRIFT")
            } else {
                String::new()
            };
            let _ = writeln!(
                o,
                "      {}: pinned {}, running {running}{mark}",
                i.container, i.pinned
            );
        }
        for x in &s.objects {
            let _ = writeln!(o, "      {x}");
        }
    }
    for i in &r.infra {
        let code = if i.health == "ready" { "32" } else { "31" };
        let _ = writeln!(
            o,
            "  {} infra {} ({})",
            paint(color, code, &format!("{:<11}", i.health)),
            i.name,
            i.target
        );
    }
    let code = if r.healthy() { "32" } else { "33" };
    let _ = writeln!(o, "{}", paint(color, code, &r.summary()));
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
