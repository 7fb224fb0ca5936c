//! Checking: collect the program (names, E1), then evaluate it in every env
//! (types and constraints, E2) and build each env's model and edges.
//!
//! Input: a [`Loaded`] module tree. Output: [`Checked`] — the project record,
//! the policy configuration and one [`EnvModel`] per env — plus diagnostics.
//! With no env declared, every declaration is still evaluated once (with
//! `env` unknown) so its errors are reported.

pub mod constraints;
pub mod containers;
pub mod names;
pub mod program;
pub mod tilt;
pub mod types;

use crate::diag::{suggest, Code, Diagnostic, Diagnostics, Severity};
use crate::eval::Evaluator;
use crate::load::Loaded;
use crate::model::{DeclRef, EnvModel, Fields, Value, V};
use crate::syntax::ast::DeclKind;
use program::Program;
use std::collections::{BTreeMap, BTreeSet};
use types::Ty;

/// The policy rules that `policy { }` may configure.
pub fn policy_codes() -> Vec<&'static str> {
    Code::ALL
        .iter()
        .filter(|c| c.configurable())
        .map(|c| c.id())
        .collect()
}

/// The result of checking.
#[derive(Debug)]
pub struct Checked {
    /// The program.
    pub program: Program,
    /// The project record (completed).
    pub project: Value,
    /// Configured policy severities (`None` = off).
    pub policy: BTreeMap<String, Option<Severity>>,
    /// One model per evaluated env, by name order.
    pub envs: Vec<EnvModel>,
}

/// Type-check the program in every env (or only in `only_env`).
pub fn check(loaded: &mut Loaded, only_env: Option<&str>, diags: &mut Diagnostics) -> Checked {
    let program = program::collect(loaded, diags);
    let mut project = Value::new(V::Record(Fields::new()), Default::default());
    let mut policy = BTreeMap::new();
    {
        let mut ev = Evaluator::new(&program);
        if let Some(b) = &program.project {
            project = ev.eval_block(b, &Ty::Named("ProjectSchema".into()));
        } else {
            project = ev.coerce_public(project, &Ty::Named("ProjectSchema".into()));
        }
        if let Some(b) = &program.policy {
            let v = ev.eval_block(
                b,
                &Ty::Map(std::sync::Arc::new(Ty::Named("Severity".into()))),
            );
            for e in &b.body.entries {
                let key = e.path.first().map(|k| k.name.as_str()).unwrap_or("");
                let policy_codes = policy_codes();
                if !policy_codes.contains(&key) || e.path.len() != 1 {
                    let span = e.path.first().map_or(e.span, |k| k.span);
                    diags.push(
                        Diagnostic::new(Code::E2026, span, format!("unknown policy rule `{key}`"))
                            .label("not a policy code")
                            .maybe_help(suggest::did_you_mean(key, &policy_codes))
                            .note(format!("policy rules: {}", policy_codes.join(", "))),
                    );
                }
            }
            for (k, sev) in v.entries() {
                let s = match sev.as_str() {
                    Some("error") => Some(Severity::Error),
                    Some("warn") => Some(Severity::Warning),
                    _ => None,
                };
                policy.insert(k.clone(), s);
            }
        }
        diags.extend(ev.into_diagnostics().into_sorted());
    }
    let mut envs = Vec::new();
    let env_names: Vec<String> = program.of(DeclKind::Env).map(|(n, _)| n.clone()).collect();
    if let Some(only) = only_env {
        if !env_names.iter().any(|n| n == only) {
            // Reported by the caller as a usage error; nothing to evaluate.
            return Checked {
                program,
                project,
                policy,
                envs,
            };
        }
    }
    if env_names.is_empty() {
        let mut ev = Evaluator::new(&program);
        for kind in [DeclKind::Image, DeclKind::Service, DeclKind::Infra] {
            let names: Vec<String> = program.of(kind).map(|(n, _)| n.clone()).collect();
            for n in names {
                if let Some(d) = ev.eval_decl(kind, &n) {
                    match kind {
                        DeclKind::Service => constraints::service(&d, None, diags),
                        DeclKind::Infra => constraints::infra(&d, None, diags),
                        _ => {}
                    }
                }
            }
        }
        diags.extend(ev.into_diagnostics().into_sorted());
    }
    let selected: Vec<String> = env_names
        .into_iter()
        .filter(|n| only_env.is_none_or(|o| o == n))
        .collect();
    // Envs are independent: evaluate them on all cores, then merge in name
    // order so the result does not depend on scheduling.
    let workers = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(selected.len())
        .max(1);
    let chunks: Vec<Vec<String>> = (0..workers)
        .map(|w| selected.iter().skip(w).step_by(workers).cloned().collect())
        .collect();
    type EnvResult = (String, Option<EnvModel>, Diagnostics);
    let results: Vec<Vec<EnvResult>> = std::thread::scope(|scope| {
        let handles: Vec<_> = chunks
            .iter()
            .map(|chunk| {
                let (program, project) = (&program, &project);
                crate::spawn_in(scope, move || {
                    chunk
                        .iter()
                        .map(|name| {
                            let mut d = Diagnostics::new();
                            let m = eval_env(program, name, project, &mut d);
                            (name.clone(), m, d)
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or_default())
            .collect()
    });
    let mut by_name: BTreeMap<String, (Option<EnvModel>, Diagnostics)> = BTreeMap::new();
    for (name, m, d) in results.into_iter().flatten() {
        by_name.insert(name, (m, d));
    }
    for (_, (m, d)) in by_name {
        diags.extend(d.into_sorted());
        if let Some(m) = m {
            envs.push(m);
        }
    }
    Checked {
        program,
        project,
        policy,
        envs,
    }
}

/// Evaluate one env into its model.
pub fn eval_env(
    program: &Program,
    name: &str,
    project: &Value,
    diags: &mut Diagnostics,
) -> Option<EnvModel> {
    let decl = program.decl(DeclKind::Env, name)?;
    let mut ev = Evaluator::new(program);
    ev.bind_env(decl, project);
    let env = ev
        .env_value()
        .cloned()
        .unwrap_or_else(|| Value::unknown(decl.span));
    let kind = env
        .get("kind")
        .and_then(Value::as_str)
        .unwrap_or("tilt")
        .to_string();
    let mut services = BTreeMap::new();
    let mut infras = BTreeMap::new();
    let mut all_images = BTreeMap::new();
    for kind_ in [DeclKind::Image, DeclKind::Service, DeclKind::Infra] {
        let names: Vec<String> = program.of(kind_).map(|(n, _)| n.clone()).collect();
        for n in names {
            let Some(d) = ev.eval_decl(kind_, &n) else {
                continue;
            };
            match kind_ {
                DeclKind::Service => {
                    services.insert(n, d);
                }
                DeclKind::Infra => {
                    infras.insert(n, d);
                }
                _ => {
                    all_images.insert(n, d);
                }
            }
        }
    }
    let edges = ev.take_edges();
    diags.extend(ev.into_diagnostics().into_sorted());

    // `include`: deploy only these (images follow the services that use them).
    let included: Option<BTreeSet<DeclRef>> = env.get("include").map(|l| {
        l.as_list()
            .iter()
            .filter_map(|v| match &v.kind {
                V::Decl(d) => Some(d.clone()),
                _ => None,
            })
            .collect()
    });
    let is_in = |d: &DeclRef| included.as_ref().is_none_or(|s| s.contains(d));
    if included.is_some() {
        for e in &edges {
            if e.to.kind != DeclKind::Image && is_in(&e.from) && !is_in(&e.to) {
                diags.push(
                    Diagnostic::new(
                        Code::E3002,
                        e.span,
                        format!(
                            "`{}` depends on `{}`, which env `{name}` does not include",
                            e.from.name, e.to.name
                        ),
                    )
                    .label(format!("reference to `{}`", e.to.name))
                    .secondary(
                        env.get("include").map_or(decl.name.span, |i| i.span),
                        "the env's `include` list",
                    )
                    .help(format!(
                        "add `{}` to `include`, or remove the reference",
                        e.to.name
                    )),
                );
            }
        }
    }
    services.retain(|_, d| is_in(&d.id));
    infras.retain(|_, d| is_in(&d.id));
    let mut used_images: BTreeSet<String> = BTreeSet::new();
    for s in services.values() {
        if let Some(V::Decl(d)) = s.value.get("image").map(|i| &i.kind) {
            used_images.insert(d.name.clone());
        }
        for c in s
            .value
            .get("init_containers")
            .map(Value::as_list)
            .unwrap_or(&[])
        {
            if let Some(V::Decl(d)) = c.get("image").map(|i| &i.kind) {
                used_images.insert(d.name.clone());
            }
        }
    }
    let images: BTreeMap<_, _> = all_images
        .into_iter()
        .filter(|(n, _)| used_images.contains(n))
        .collect();
    let keep = |d: &DeclRef| match d.kind {
        DeclKind::Image => images.contains_key(&d.name),
        _ => is_in(d),
    };
    let edges = edges
        .into_iter()
        .filter(|e| keep(&e.from) && keep(&e.to))
        .collect();

    let mut env = env;
    let any_host = services.values().any(|s| s.value.get("host").is_some());
    if let V::Record(m) = &mut env.kind {
        if m.get("routing").is_none_or(|v| matches!(v.kind, V::None)) {
            let r = if any_host { "ingress" } else { "none" };
            m.insert(
                "routing".into(),
                Value::new(V::Str(r.into()), decl.name.span),
            );
        }
    }
    let model = EnvModel {
        name: name.to_string(),
        span: decl.name.span,
        env,
        images,
        services,
        infras,
        edges,
    };
    for s in model.services.values() {
        constraints::service(s, Some(&kind), diags);
    }
    for i in model.infras.values() {
        constraints::infra(i, Some(&kind), diags);
    }
    constraints::lock_keys(&model, diags);
    constraints::object_names(&model, diags);
    constraints::env(&model, diags);
    if model.env_kind() == crate::model::EnvKind::Tilt {
        tilt::check(&model, diags);
    }
    Some(model)
}
