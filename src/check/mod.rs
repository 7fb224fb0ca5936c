//! Checking: collect the program (names, E1), then evaluate it in every env
//! (types and constraints, E2) and build each env's model and edges.
//!
//! Input: a [`Loaded`] module tree. Output: [`Checked`] — the project record,
//! the policy configuration and one [`EnvModel`] per env — plus diagnostics.
//! With no env declared, every declaration is still evaluated once (with
//! `env` unknown) so its errors are reported.

pub mod configs;
pub mod constraints;
pub mod containers;
pub mod memo;
pub mod network;
pub mod objects;
pub mod patches;
pub mod pod;
pub mod rbac;
pub mod scaling;
pub mod secrets;
mod shared;
pub mod tilt;

/// The collected program and its types (moved to [`crate::program`]; kept
/// here for existing paths).
pub use crate::program::{self, types};

use crate::diag::{suggest, Code, Diagnostic, Diagnostics, Severity};
use crate::eval::Evaluator;
use crate::load::Loaded;
use crate::model::view;
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
    check_with(loaded, only_env, diags, None)
}

/// Each declaration's span and text (what [`memo`] compares).
type Fingerprints = BTreeMap<DeclRef, (crate::source::Span, String)>;

/// [`check`], reusing (and updating) the evaluations of a [`memo::Memo`]
/// for declarations that did not change.
pub fn check_with(
    loaded: &mut Loaded,
    only_env: Option<&str>,
    diags: &mut Diagnostics,
    mut memo: Option<&mut memo::Memo>,
) -> Checked {
    if let Some(m) = memo.as_deref_mut() {
        m.begin(memo::context(loaded));
    }
    let program = program::collect(loaded, diags);
    let fingerprints: Fingerprints = if memo.is_some() {
        [
            DeclKind::Image,
            DeclKind::Service,
            DeclKind::Infra,
            DeclKind::Config,
            DeclKind::Object,
        ]
        .into_iter()
        .flat_map(|k| program.of(k).map(move |(n, d)| (k, n, d)))
        .map(|(kind, n, d)| {
            (
                DeclRef {
                    kind,
                    name: n.clone(),
                },
                (d.span, loaded.sources.slice(d.span).to_string()),
            )
        })
        .collect()
    } else {
        BTreeMap::new()
    };
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
                policy.insert(k.to_string(), s);
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
        for kind in [
            DeclKind::Image,
            DeclKind::Service,
            DeclKind::Infra,
            DeclKind::Config,
            DeclKind::Object,
        ] {
            let names: Vec<String> = program.of(kind).map(|(n, _)| n.clone()).collect();
            for n in names {
                if let Some(d) = ev.eval_decl(kind, &n) {
                    match kind {
                        DeclKind::Service => constraints::service(&d, None, diags),
                        DeclKind::Infra => constraints::infra(&d, None, diags),
                        DeclKind::Config => configs::check(&d, diags),
                        DeclKind::Object => objects::check(&d, diags),
                        DeclKind::Image => tilt::build_paths(&d, &project, diags),
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
    let use_memo = memo.is_some();
    if let Some(m) = memo.as_deref_mut() {
        m.retain(&selected.iter().cloned().collect());
    }
    let jobs: Vec<(String, Option<memo::EnvMemo>)> = selected
        .iter()
        .map(|n| (n.clone(), memo.as_deref_mut().map(|m| m.take(n))))
        .collect();
    let (program_ref, project_ref, fps) = (&program, &project, &fingerprints);
    // With several envs and enough declarations, one env is evaluated
    // first and keeps what does not depend on it for the others to take
    // (see [`shared`]). The incremental checker has its own reuse.
    let decl_count: usize = DECL_KINDS.iter().map(|k| program.of(*k).count()).sum();
    let roles = if !use_memo && jobs.len() >= 2 && decl_count >= PIECE_MIN_DECLS {
        let names: Vec<&str> = jobs.iter().map(|(n, _)| n.as_str()).collect();
        shared::roles(&program, &names, &project)
    } else {
        vec![shared::Role::Alone; jobs.len()]
    };
    type Job = ((String, Option<memo::EnvMemo>), shared::Role);
    let (now, later): (Vec<Job>, Vec<Job>) = jobs
        .into_iter()
        .zip(roles)
        .partition(|(_, r)| !matches!(r, shared::Role::Take | shared::Role::TakeApart));
    let run = |jobs: Vec<Job>, kept: &shared::Shared| {
        // Cores left over by the envs evaluate pieces of one env.
        let pieces = (crate::par::workers(usize::MAX) / jobs.len().max(1)).max(1);
        crate::par::each_owned(jobs, |((name, mut em), role)| {
            let mut d = Diagnostics::new();
            let mut mine = shared::Shared::default();
            let mode = match role {
                shared::Role::Record => shared::Mode::Record,
                shared::Role::Take | shared::Role::TakeApart if !kept.is_empty() => {
                    shared::Mode::Reuse(kept)
                }
                _ => shared::Mode::Alone,
            };
            let m = eval_env_with(
                program_ref,
                &name,
                project_ref,
                &mut d,
                em.as_mut().map(|e| (e, fps)),
                pieces,
                mode,
                &mut mine,
            );
            (name, m, d, em, mine)
        })
    };
    let mut first = run(now, &shared::Shared::default());
    let mut kept = shared::Shared::default();
    for r in first.iter_mut().flatten() {
        kept.absorb(std::mem::take(&mut r.4));
    }
    let results = run(later, &kept);
    let mut by_name: BTreeMap<String, (Option<EnvModel>, Diagnostics)> = BTreeMap::new();
    for (name, m, d, em, _) in first.into_iter().chain(results).flatten() {
        if let (Some(memo), Some(em), true) = (memo.as_deref_mut(), em, use_memo) {
            memo.put(name.clone(), em);
        }
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

/// The declarations of `all` whose names are `used`, and the others (in
/// name order). Removes the few unused ones rather than rebuilding the map.
fn split_off_unused(
    mut all: BTreeMap<String, crate::model::Decl>,
    used: &BTreeSet<String>,
) -> (
    BTreeMap<String, crate::model::Decl>,
    Vec<crate::model::Decl>,
) {
    let unused: Vec<String> = all.keys().filter(|n| !used.contains(*n)).cloned().collect();
    let out = unused.iter().filter_map(|n| all.remove(n)).collect();
    (all, out)
}

/// Evaluate one env into its model.
pub fn eval_env(
    program: &Program,
    name: &str,
    project: &Value,
    diags: &mut Diagnostics,
) -> Option<EnvModel> {
    eval_env_with(
        program,
        name,
        project,
        diags,
        None,
        1,
        shared::Mode::Alone,
        &mut shared::Shared::default(),
    )
}

/// How to evaluate an env's declarations in pieces: how many, and the env
/// declaration and project each piece's evaluator binds.
struct Pieces<'a, 'p> {
    count: usize,
    env: &'p crate::syntax::ast::Decl,
    project: &'a Value,
}

/// The kinds of declaration evaluated per env, in evaluation order.
const DECL_KINDS: [DeclKind; 5] = [
    DeclKind::Image,
    DeclKind::Service,
    DeclKind::Infra,
    DeclKind::Config,
    DeclKind::Object,
];

/// Envs with at least this many declarations are evaluated in pieces when
/// cores are left over (one env compiled on two cores).
const PIECE_MIN_DECLS: usize = 256;

/// Evaluate the declarations in pieces, one evaluator
/// (bound to the same env) per piece, on their own threads. A declaration's
/// value, edges and diagnostics depend only on the program and the env
/// (the evaluator's caches are pure: addresses and lets replay what they
/// reported on every use), so the joined result is the one evaluator's;
/// the env's diagnostics are sorted and deduplicated when they are merged,
/// so a diagnostic two pieces both produce counts once. `None` when not
/// worth it, or when a piece stopped (the caller evaluates in one piece).
fn eval_in_pieces(
    program: &Program,
    order: &[DeclRef],
    pieces: &Pieces<'_, '_>,
    diags: &mut Diagnostics,
    mode: shared::Mode<'_>,
    kept: &mut shared::Shared,
) -> Option<(Vec<crate::model::Decl>, Vec<crate::model::Edge>)> {
    if pieces.count < 2 || order.len() < PIECE_MIN_DECLS {
        return None;
    }
    // Each kind's run is cut into `count` contiguous parts and piece `k`
    // takes part `k` of every run: images cost little and services much,
    // so cutting `order` itself left one piece the images and the other
    // the services. A piece evaluates its declarations in `order`.
    let mut parts: Vec<Vec<usize>> = vec![Vec::new(); pieces.count];
    let mut start = 0;
    for run in order.chunk_by(|a, b| a.kind == b.kind) {
        let size = run.len().div_ceil(pieces.count);
        for (part, k) in parts.iter_mut().zip(0..) {
            let from = start + (k * size).min(run.len());
            part.extend(from..start + ((k + 1) * size).min(run.len()));
        }
        start += run.len();
    }
    type Done = (usize, Option<crate::model::Decl>, Vec<crate::model::Edge>);
    let results = crate::par::map(parts, |part: Vec<usize>| {
        let mut ev = Evaluator::new(program);
        ev.bind_env(pieces.env, pieces.project);
        // Binding the env reports what the caller's own binding reported.
        ev.take_diagnostics();
        let mut kept = Vec::new();
        let mut addresses = shared::Addresses::default();
        let done: Vec<Done> = part
            .into_iter()
            .filter_map(|i| {
                let id = order.get(i)?;
                let (d, k) = shared::eval_one(&mut ev, id, mode, &mut addresses);
                kept.extend(k);
                // A declaration's edges are those made while evaluating it.
                Some((i, d, ev.take_edges()))
            })
            .collect();
        (done, ev.into_diagnostics(), (kept, addresses))
    });
    let mut done: Vec<Done> = Vec::with_capacity(order.len());
    let mut reported = Vec::new();
    let mut all_kept = Vec::new();
    for piece in results {
        let (d, r, k) = piece?;
        done.extend(d);
        reported.push(r);
        all_kept.push(k);
    }
    for (k, a) in all_kept {
        kept.extend(k, a);
    }
    done.sort_by_key(|(i, _, _)| *i);
    for r in reported {
        diags.extend(r.into_sorted());
    }
    let mut all = (Vec::with_capacity(done.len()), Vec::new());
    for (_, d, edges) in done {
        all.0.extend(d);
        all.1.extend(edges);
    }
    Some(all)
}

/// Evaluate the image, service and infra declarations of an env: every one,
/// or with a memo only those that changed (and what read their addresses).
fn eval_decls<'p>(
    ev: &mut Evaluator<'p>,
    program: &'p Program,
    diags: &mut Diagnostics,
    memo: Option<(&mut memo::EnvMemo, &Fingerprints)>,
    pieces: Pieces<'_, 'p>,
    mode: shared::Mode<'_>,
    kept: &mut shared::Shared,
) -> (Vec<crate::model::Decl>, Vec<crate::model::Edge>) {
    let order: Vec<DeclRef> = [
        DeclKind::Image,
        DeclKind::Service,
        DeclKind::Infra,
        DeclKind::Config,
        DeclKind::Object,
    ]
    .into_iter()
    .flat_map(|kind| {
        program.of(kind).map(move |(n, _)| DeclRef {
            kind,
            name: n.clone(),
        })
    })
    .collect();
    let Some((m, fps)) = memo else {
        if let Some(done) = eval_in_pieces(program, &order, &pieces, diags, mode, kept) {
            return done;
        }
        let mut decls = Vec::with_capacity(order.len());
        let mut recorded = Vec::new();
        let mut addresses = shared::Addresses::default();
        for id in &order {
            let (d, k) = shared::eval_one(ev, id, mode, &mut addresses);
            decls.extend(d);
            recorded.extend(k);
        }
        kept.extend(recorded, addresses);
        return (decls, ev.take_edges());
    };
    diags.extend(ev.take_diagnostics().into_sorted());
    let mut stale = memo::changed(m, fps);
    m.decls.retain(|id, _| fps.contains_key(id));
    type Fresh = (
        Option<crate::model::Decl>,
        Vec<crate::diag::Diagnostic>,
        Vec<crate::model::Edge>,
    );
    let mut fresh: BTreeMap<DeclRef, Fresh> = BTreeMap::new();
    let mut queue: std::collections::VecDeque<DeclRef> = order
        .iter()
        .filter(|id| stale.contains(*id))
        .cloned()
        .collect();
    while let Some(id) = queue.pop_front() {
        ev.take_touched();
        let d = ev.eval_decl(id.kind, &id.name);
        let dd = ev.take_diagnostics().into_sorted();
        let de = ev.take_edges();
        let touched = ev.take_touched();
        let address = ev.address(&id);
        ev.take_touched();
        let Some(fp) = fps.get(&id) else {
            continue;
        };
        let moved = m.decls.get(&id).is_none_or(|old| old.address != address);
        if moved {
            for reader in memo::readers_of(m, &id) {
                if stale.insert(reader.clone()) {
                    queue.push_back(reader);
                }
            }
        }
        m.decls.insert(
            id.clone(),
            memo::DeclMemo {
                fingerprint: fp.clone(),
                diags: dd.clone(),
                edges: de.clone(),
                touched,
                address,
                value: None,
            },
        );
        fresh.insert(id, (d, dd, de));
    }
    m.evaluated = fresh.len();
    let mut decls = Vec::new();
    let mut edges = Vec::new();
    for id in order {
        if let Some((d, dd, de)) = fresh.remove(&id) {
            diags.extend(dd);
            edges.extend(de);
            decls.extend(d);
        } else if let Some(e) = m.decls.get_mut(&id) {
            diags.extend(e.diags.iter().cloned());
            edges.extend(e.edges.iter().cloned());
            decls.extend(e.value.take());
        }
    }
    (decls, edges)
}

/// [`eval_env`] with an optional memo (see [`memo`]), taking declarations
/// from or keeping them for other envs as `mode` says (see [`shared`]).
#[allow(clippy::too_many_arguments)]
fn eval_env_with(
    program: &Program,
    name: &str,
    project: &Value,
    diags: &mut Diagnostics,
    mut memo: Option<(&mut memo::EnvMemo, &Fingerprints)>,
    pieces: usize,
    mode: shared::Mode<'_>,
    kept: &mut shared::Shared,
) -> Option<EnvModel> {
    let decl = program.decl(DeclKind::Env, name)?;
    let mut ev = Evaluator::new(program);
    ev.bind_env(decl, project);
    let env = ev
        .env_value()
        .cloned()
        .unwrap_or_else(|| Value::unknown(decl.span));
    // Collected into vectors and built once (a B-tree built from a sorted
    // run is one pass; an insert per declaration compared names ten times).
    let mut services = Vec::new();
    let mut infras = Vec::new();
    let mut all_images = Vec::new();
    let mut all_configs = Vec::new();
    let mut objects = Vec::new();
    let (decls, edges) = eval_decls(
        &mut ev,
        program,
        diags,
        memo.as_mut().map(|(m, f)| (&mut **m, *f)),
        Pieces {
            count: pieces,
            env: decl,
            project,
        },
        mode,
        kept,
    );
    for d in decls {
        let n = d.id.name.clone();
        match d.id.kind {
            DeclKind::Service => {
                services.push((n, d));
            }
            DeclKind::Infra => {
                infras.push((n, d));
            }
            DeclKind::Config => {
                all_configs.push((n, d));
            }
            DeclKind::Object => {
                objects.push((n, d));
            }
            _ => {
                tilt::build_paths(&d, project, diags);
                all_images.push((n, d));
            }
        }
    }
    let mut services: BTreeMap<String, crate::model::Decl> = services.into_iter().collect();
    let mut infras: BTreeMap<String, crate::model::Decl> = infras.into_iter().collect();
    let all_images: BTreeMap<String, crate::model::Decl> = all_images.into_iter().collect();
    let all_configs: BTreeMap<String, crate::model::Decl> = all_configs.into_iter().collect();
    let objects: BTreeMap<String, crate::model::Decl> = objects.into_iter().collect();
    diags.extend(ev.into_diagnostics().into_sorted());

    // `include`: deploy only these (images follow the services that use them).
    let included: Option<BTreeSet<DeclRef>> = view::Env::of(&env).include().map(|l| {
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
        for e in edges.iter().filter(|e| !e.weak) {
            if !matches!(e.to.kind, DeclKind::Image | DeclKind::Config)
                && is_in(&e.from)
                && !is_in(&e.to)
            {
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
                        view::Env::of(&env)
                            .include()
                            .map_or(decl.name.span, |i| i.span),
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
    // What the model leaves out goes back to the memo for the next check.
    let mut left_out: Vec<crate::model::Decl> = Vec::new();
    for map in [&mut services, &mut infras] {
        if included.is_none() {
            break;
        }
        let (keep, out): (BTreeMap<_, _>, BTreeMap<_, _>) = std::mem::take(map)
            .into_iter()
            .partition(|(_, d)| is_in(&d.id));
        *map = keep;
        left_out.extend(out.into_values());
    }
    let mut used_images: BTreeSet<String> = BTreeSet::new();
    for s in services.values() {
        let svc = s.service();
        let images =
            std::iter::once(svc.image()).chain(svc.extra_containers().map(|(_, c)| c.image()));
        for image in images.flatten() {
            if let Some(view::ImageUse::Built(name)) = view::ImageUse::of(image) {
                used_images.insert(name.to_string());
            }
        }
    }
    let (images, unused) = split_off_unused(all_images, &used_images);
    left_out.extend(unused);
    // A config is deployed when a deployed service uses it.
    let used_configs: BTreeSet<String> = edges
        .iter()
        .filter(|e| {
            !e.weak
                && e.to.kind == DeclKind::Config
                && e.from.kind == DeclKind::Service
                && services.contains_key(&e.from.name)
        })
        .map(|e| e.to.name.clone())
        .collect();
    let (configs, unused) = split_off_unused(all_configs, &used_configs);
    left_out.extend(unused);
    if let Some((m, _)) = memo {
        for d in left_out {
            if let Some(slot) = m.decls.get_mut(&d.id) {
                slot.value = Some(d);
            }
        }
    }
    let keep = |d: &DeclRef| match d.kind {
        DeclKind::Image => images.contains_key(&d.name),
        DeclKind::Config => configs.contains_key(&d.name),
        _ => is_in(d),
    };
    let edges = edges
        .into_iter()
        .filter(|e| keep(&e.from) && keep(&e.to))
        .collect();

    let mut env = env;
    let any_host = services.values().any(|s| s.service().host().is_some());
    if let V::Record(m) = &mut env.kind {
        if m.get("routing").is_none_or(|v| matches!(v.kind, V::None)) {
            let r = if any_host { "ingress" } else { "none" };
            m.insert("routing", Value::new(V::Str(r.into()), decl.name.span));
        }
    }
    let model = EnvModel {
        name: name.to_string(),
        span: decl.name.span,
        env,
        images,
        services,
        infras,
        configs,
        objects,
        edges,
    };
    for s in model.services.values() {
        shared::service_constraints(s, model.env_kind(), mode, kept, diags);
    }
    for i in model.infras.values() {
        constraints::infra(i, Some(model.env_kind()), diags);
    }
    for c in model.configs.values() {
        configs::check(c, diags);
    }
    constraints::lock_key_collisions(&model, diags);
    constraints::object_names(&model, diags);
    constraints::env(&model, diags);
    secrets::check(&model, diags);
    if model.env_kind() == crate::model::EnvKind::Tilt {
        tilt::check(&model, diags);
    }
    Some(model)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::disallowed_methods)]
    use super::*;

    /// Every env of every single-file ui case (each padded past
    /// [`PIECE_MIN_DECLS`] with services that reference each other across
    /// the cuts) evaluates to the same model and the same diagnostics in one
    /// piece and in several.
    #[test]
    fn an_env_evaluated_in_pieces_is_the_env_evaluated_whole() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/ui");
        let mut cases: Vec<_> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|x| x == "ship"))
            .collect();
        cases.sort();
        let mut envs_compared = 0;
        for case in cases {
            let Ok(mut text) = std::fs::read_to_string(&case) else {
                continue; // the case of a file that is not UTF-8
            };
            for i in 0..PIECE_MIN_DECLS {
                let next = (i + 1) % PIECE_MIN_DECLS;
                text.push_str(&format!(
                    "\nservice zz_fill_{i} {{\n  image = external(\"r/fill{i}:1\")\n  port http = 80\n  env_vars {{ NEXT = zz_fill_{next}.port.http.url }}\n}}\n"
                ));
            }
            let mut host = crate::load::MemoryHost::new();
            host.add("ship/main.ship", text.as_str());
            let mut d = Diagnostics::new();
            let Ok(a) = crate::analyze(&host, std::path::Path::new("ship"), None, &mut d) else {
                continue;
            };
            let program = &a.checked.program;
            let names: Vec<String> = program.of(DeclKind::Env).map(|(n, _)| n.clone()).collect();
            for name in names {
                let run = |pieces| {
                    let mut d = Diagnostics::new();
                    let m = eval_env_with(
                        program,
                        &name,
                        &a.checked.project,
                        &mut d,
                        None,
                        pieces,
                        shared::Mode::Alone,
                        &mut shared::Shared::default(),
                    );
                    format!("{m:#?}\n{:#?}", d.into_sorted())
                };
                let whole = run(1);
                // Three pieces: two cuts, references across both.
                assert!(
                    run(3) == whole,
                    "{}: env `{name}` in three pieces differs",
                    case.display()
                );
                envs_compared += 1;
            }
        }
        assert!(envs_compared > 100, "only {envs_compared} envs compared");
    }

    /// The program of `shared_eval_case.ship` plus padding: services that
    /// read each other's addresses, some of them the env.
    fn padded(text: &str) -> String {
        let mut text = text.to_string();
        for i in 0..PIECE_MIN_DECLS {
            let next = (i + 1) % PIECE_MIN_DECLS;
            let replicas = if i % 3 == 0 {
                "  replicas = if env.name == \"b\" then 2 else 1\n"
            } else {
                ""
            };
            text.push_str(&format!(
                "\nservice zz_fill_{i} {{\n  image = external(\"r/fill{i}:1\")\n  port http = 80\n{replicas}  env_vars {{ NEXT = zz_fill_{next}.port.http.url }}\n}}\n"
            ));
        }
        text
    }

    /// Every env evaluated taking what the first env kept (see [`shared`])
    /// is the env evaluated alone: same model, same diagnostics; and the
    /// first env is the same whether it keeps anything or not. On every
    /// single-file ui case with more than one env, and on a case made for it
    /// (overrides, an override that moves an address, a let that reads the
    /// env, a message naming the env, release suffixes, namespaces).
    #[test]
    fn an_env_taking_shared_declarations_is_the_env_evaluated_alone() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/ui");
        let mut cases: Vec<(String, crate::load::MemoryHost)> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|x| x == "ship"))
            .filter_map(|p| {
                let mut host = crate::load::MemoryHost::new();
                host.add("ship/main.ship", padded(&std::fs::read_to_string(&p).ok()?));
                Some((p.display().to_string(), host))
            })
            .collect();
        cases.sort_by(|a, b| a.0.cmp(&b.0));
        // The examples, whole, plus a file of padding.
        let examples = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples");
        let mut dirs: Vec<_> = std::fs::read_dir(&examples)
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        dirs.sort();
        for ex in dirs {
            let mut host = crate::load::MemoryHost::new();
            let mut todo = vec![ex.clone()];
            while let Some(d) = todo.pop() {
                for e in std::fs::read_dir(&d).unwrap() {
                    let p = e.unwrap().path();
                    if p.is_dir() {
                        todo.push(p);
                    } else {
                        host.add(p.strip_prefix(&ex).unwrap(), std::fs::read(&p).unwrap());
                    }
                }
            }
            host.add("ship/zz_padding.ship", padded(""));
            cases.push((ex.display().to_string(), host));
        }
        let mut made = crate::load::MemoryHost::new();
        made.add("ship/main.ship", padded(SHARED_CASE));
        cases.push(("made".into(), made));
        let (mut envs_compared, mut taken_made) = (0, 0);
        for (case, host) in cases {
            let mut d = Diagnostics::new();
            let Ok(a) = crate::analyze(&host, std::path::Path::new("ship"), None, &mut d) else {
                continue;
            };
            let program = &a.checked.program;
            let names: Vec<String> = program.of(DeclKind::Env).map(|(n, _)| n.clone()).collect();
            if names.len() < 2 {
                continue;
            }
            let run = |name: &str, mode, kept: &mut shared::Shared| {
                let mut d = Diagnostics::new();
                let project = &a.checked.project;
                let m = eval_env_with(program, name, project, &mut d, None, 2, mode, kept);
                format!("{m:#?}\n{:#?}", d.into_sorted())
            };
            let mut kept = shared::Shared::default();
            let first = run(&names[0], shared::Mode::Record, &mut kept);
            let alone = run(
                &names[0],
                shared::Mode::Alone,
                &mut shared::Shared::default(),
            );
            assert!(
                first == alone,
                "{case}: env `{}` differs when it keeps",
                names[0]
            );
            for name in &names[1..] {
                let alone = run(name, shared::Mode::Alone, &mut shared::Shared::default());
                let taking = run(
                    name,
                    shared::Mode::Reuse(&kept),
                    &mut shared::Shared::default(),
                );
                assert!(
                    taking == alone,
                    "{case}: env `{name}` differs when it takes"
                );
                envs_compared += 1;
            }
            if case == "made" {
                taken_made = kept.len();
            }
        }
        assert!(envs_compared >= 15, "only {envs_compared} envs compared");
        // Kept in env `a`: the image, `named`, `quiet`, `cron`, `usesdb`,
        // `db`, the long name (E2012 in helmfile envs only), `web2` (its
        // `env_vars` again in every env), `envport` (its
        // `ports` again), `readsport` (taken where the port is the same:
        // nowhere) and the padding
        // (a third with its `replicas` again); not `api` (overridden),
        // `worker` (its `env_vars` read the env and make an edge) nor `targ`
        // (a template argument reads the env).
        assert_eq!(taken_made, 10 + PIECE_MIN_DECLS);
    }

    /// A project of one file, analysed without errors.
    fn analysed(text: &str) -> crate::Analysis {
        let mut host = crate::load::MemoryHost::new();
        host.add("ship/main.ship", text);
        let mut d = Diagnostics::new();
        let a = crate::analyze(&host, std::path::Path::new("ship"), None, &mut d).unwrap();
        assert!(!d.has_errors(), "{:?}", d.into_sorted());
        a
    }

    /// `service`'s record in `env` evaluated in `mode`, recording into
    /// `kept`.
    fn record_in(
        a: &crate::Analysis,
        env: &str,
        service: &str,
        mode: shared::Mode<'_>,
        kept: &mut shared::Shared,
    ) -> std::sync::Arc<crate::model::Value> {
        let (program, project) = (&a.checked.program, &a.checked.project);
        let mut d = Diagnostics::new();
        let m = eval_env_with(program, env, project, &mut d, None, 1, mode, kept).unwrap();
        m.services[service].value.clone()
    }

    /// Taking envs whose env fields come out the same share one record:
    /// the first env's when it is theirs (and then its constraint check),
    /// else the first taking env's that made it.
    #[test]
    fn taking_envs_share_the_records_they_make_alike() {
        let a = analysed(
            r#"project { name = "p" }
service api {
  image = external("registry.example.com/api:1.0.0")
  port http = 8080
  replicas = if env.name == "b" || env.name == "d" then 3 else 1
}
env a { kind = helmfile }
env b { kind = helmfile }
env c { kind = helmfile }
env d { kind = helmfile }
"#,
        );
        let mut kept = shared::Shared::default();
        let first = record_in(&a, "a", "api", shared::Mode::Record, &mut kept);
        assert_eq!(kept.len(), 1);
        let take = |env: &str| {
            let mode = shared::Mode::Reuse(&kept);
            record_in(&a, env, "api", mode, &mut shared::Shared::default())
        };
        let (b, c, d) = (take("b"), take("c"), take("d"));
        let replicas = |v: &crate::model::Value| v.get("replicas").and_then(|r| r.as_int());
        assert_eq!(
            [&first, &b, &c, &d].map(|v| replicas(v)),
            [Some(1), Some(3), Some(1), Some(3)]
        );
        assert!(std::sync::Arc::ptr_eq(&first, &c));
        assert!(std::sync::Arc::ptr_eq(&b, &d));
        assert!(!std::sync::Arc::ptr_eq(&first, &b));
    }

    /// An env with another release suffix takes a service whose fields read
    /// other services' addresses, evaluating again just those fields: the
    /// rest of its record is the first env's. Not when a template argument
    /// read the address too (its value reaches other fields).
    #[test]
    fn an_env_with_another_suffix_evaluates_again_only_the_fields_reading_addresses() {
        let a = analysed(
            r#"project { name = "p" }
service api {
  image = external("registry.example.com/api:1.0.0")
  port http = 8080
}
service web {
  image = external("registry.example.com/web:1.0.0")
  port http = 3000
  resources { cpu = 100m .. 500m, memory = 128Mi .. 256Mi }
  env_vars { API = api.port.http.url }
}
env a { kind = helmfile }
env b { kind = helmfile, release_suffix = "-b" }
"#,
        );
        let mut kept = shared::Shared::default();
        let first = record_in(&a, "a", "web", shared::Mode::Record, &mut kept);
        let mode = shared::Mode::Reuse(&kept);
        let web = record_in(&a, "b", "web", mode, &mut shared::Shared::default());
        let url = |v: &crate::model::Value| {
            v.path("env_vars.API")
                .and_then(|u| u.as_str())
                .map(str::to_string)
        };
        assert_eq!(url(&first).as_deref(), Some("http://api:8080"));
        assert_eq!(url(&web).as_deref(), Some("http://api-b:8080"));
        // `resources` was taken, not evaluated again.
        let resources = |v: &crate::model::Value| match &v.get("resources").unwrap().kind {
            crate::model::V::Record(r) => r.clone(),
            _ => panic!("resources is a record"),
        };
        assert!(resources(&first).shares_entries(&resources(&web)));

        // An address read by a template argument too (it reaches
        // `annotations` through the parameter): the declaration is
        // evaluated whole, and the result is the env's own.
        let a = analysed(
            r#"project { name = "p" }
template tagged(url: String) {
  annotations { "example.com/api" = url }
}
service api {
  image = external("registry.example.com/api:1.0.0")
  port http = 8080
}
service web from tagged(url = api.port.http.url) {
  image = external("registry.example.com/web:1.0.0")
  env_vars { API = api.port.http.url }
}
env a { kind = helmfile }
env b { kind = helmfile, release_suffix = "-b" }
"#,
        );
        let mut kept = shared::Shared::default();
        record_in(&a, "a", "web", shared::Mode::Record, &mut kept);
        assert_eq!(kept.len(), 2);
        let mode = shared::Mode::Reuse(&kept);
        let taking = record_in(&a, "b", "web", mode, &mut shared::Shared::default());
        let mode = shared::Mode::Alone;
        let alone = record_in(&a, "b", "web", mode, &mut shared::Shared::default());
        assert!(taking.identical(&alone), "{taking:#?}\n{alone:#?}");
        assert_eq!(
            taking
                .get("annotations")
                .and_then(|a| a.get("example.com/api"))
                .and_then(|u| u.as_str()),
            Some("http://api-b:8080")
        );
    }

    /// The env that records is the first with the most common release
    /// suffix; the others with it take, the rest take what reads no address
    /// of theirs.
    #[test]
    fn the_env_that_records_has_the_most_common_suffix() {
        let roles = |envs: &str| {
            let mut host = crate::load::MemoryHost::new();
            host.add(
                "ship/main.ship",
                format!("project {{ name = \"p\" }}\n{envs}"),
            );
            let mut d = Diagnostics::new();
            let a = crate::analyze(&host, std::path::Path::new("ship"), None, &mut d).unwrap();
            let program = &a.checked.program;
            let names: Vec<&str> = program.of(DeclKind::Env).map(|(n, _)| n.as_str()).collect();
            shared::roles(program, &names, &a.checked.project)
        };
        use shared::Role::*;
        let four = "env local { kind = tilt }\nenv prod { kind = helmfile }\n\
                    env prod_eu { kind = helmfile }\nenv staging { kind = helmfile }\n";
        assert_eq!(roles(four), vec![TakeApart, Record, Take, Take]);
        let apart = "env a { kind = tilt }\nenv b { kind = helmfile }\n";
        assert_eq!(roles(apart), vec![Alone, Alone]);
        let named = "env a { kind = tilt }\nenv b { kind = tilt }\n\
                     env c { kind = helmfile, release_suffix = \"-c\" }\n";
        assert_eq!(roles(named), vec![Record, Take, TakeApart]);
    }

    const SHARED_CASE: &str = r#"project { name = "shop" }
let region = env.name
let plain = "x"
template web(p: Port = 8080) {
  port http = p
}
image api { context = "api" }
service api from web {
  replicas = 2
}
service worker {
  image = external("r/worker:1")
  env_vars {
    API = api.port.http.url
    R = region
    P = plain
  }
}
service cron {
  image = external("r/cron:1")
  port http = 80
  env_vars { API = api.port.http.url }
}
service named {
  image = external("r/n:1")
  name = "custom"
  port http = 80
}
service web2 {
  image = external("r/w:1")
  port http = 80
  env_vars { D = "${env.domain}" }
}
service quiet {
  image = external("r/q:1")
  port http = 80
  env_vars { C = cron.port.http.url }
}
infra db {
  chart = "oci://r/charts/pg"
  version = "1.0.0"
  port pg = 5432
}
service usesdb {
  image = external("r/u:1")
  env_vars { DB = db.port.pg.url }
}
service envport {
  image = external("r/e:1")
  port http = if env.name == "a" then 7000 else 7001
}
service readsport {
  image = external("r/rp:1")
  port http = 80
  env_vars { U = envport.port.http.url }
}
service a_service_name_that_is_too_long_for_a_helm_release_xyz {
  image = external("r/long:1")
  port http = 80
}
service targ from web(p = if env.name == "a" then 8081 else 8080) {
  image = external("r/t:1")
  replicas = if env.name == "a" then 2 else 1
}
env a {
  kind = helmfile
  registry = "r"
  domain = "a.dev"
  api.replicas = 3
}
env b {
  kind = helmfile
  registry = "r"
}
env c {
  kind = tilt
}
env d {
  kind = helmfile
  registry = "r"
  cron.ports.http = 81
  cluster { namespace = "other" }
}
env e {
  kind = tilt
  release_suffix = ""
}
"#;
}
