//! `plan`, `apply` and `rollback`: printing plans and outcomes, the
//! registry check before an apply, `--with-infra`.

use super::*;

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
        return super::super::gitops::plan(out, a, loaded);
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
        super::super::USAGE
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
pub(in crate::cli) fn verify_pins(
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
    let options = super::super::lock::registry_options(&registry, env).map_err(|e| {
        out.usage(&e);
        super::super::USAGE
    })?;
    let command = format!(
        "shipc lock --env {}{}{}",
        env.name,
        super::super::lock::registry_flags(&registry),
        super::super::lock::path_arg(a.cluster.path.as_deref())
    );
    let registry = shipc::registry::oci::Oci { options };
    let configured = match shipc::verbs::lock::verify(
        analysis,
        lock,
        &env.name,
        &command,
        &registry,
        &mut super::super::lock::progress(out),
    ) {
        Ok((_, found)) => found,
        Err(r) => {
            return Err(super::super::lock::refused(
                out,
                analysis,
                Diagnostics::new(),
                r,
            ))
        }
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
        return super::super::gitops::apply(out, a, loaded);
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
        return super::super::gitops::rollback(out, a, loaded);
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
            return super::super::USAGE;
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
