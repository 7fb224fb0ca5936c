//! What `verify` asks the registry and what the answers mean (P002, P004,
//! E4004), and `promote`: copying one env's pins to another.

use super::plan::{failure, full_repository, targets, Inputs, Target, What};
use crate::diag::Diagnostic;
use crate::lock::{Change, ImagePin, Lockfile};
use crate::model::EnvModel;
use crate::registry::{Failure, FailureKind, Found, Query, Reference};
use std::collections::BTreeMap;

/// Every image and chart `env` deploys, with its key and repository (the
/// reference is a placeholder: callers replace or ignore it).
fn deployed(env: &EnvModel, lock: &Lockfile) -> Vec<Target> {
    let inputs = Inputs {
        tag: Some("-"),
        images: &BTreeMap::new(),
        previous: lock,
        contract: false,
    };
    targets(env, inputs).0
}

/// Lock entries of `env` that name another repository than the env
/// resolves for their image (E4004), for `check`.
pub fn mismatches(env: &EnvModel, lock: &Lockfile) -> Vec<Diagnostic> {
    let Some(pins) = lock.envs.get(&env.name) else {
        return Vec::new();
    };
    deployed(env, lock)
        .iter()
        .filter(|t| t.what == What::Image)
        .filter_map(|t| {
            let p = pins.images.get(&t.key)?;
            (full_repository(&p.repository) != t.query.repository).then(|| {
                crate::lock::mismatch(
                    &env.name,
                    &t.key,
                    &p.repository,
                    &t.query.repository,
                    t.span,
                )
            })
        })
        .collect()
}

/// `verify`: the locked pin of every image and chart `env` deploys, as a
/// digest query (no contract check), P002 for keys with no entry and E4004
/// for an entry in another repository.
pub fn verify_queries(
    env: &EnvModel,
    lock: &Lockfile,
    command: &str,
) -> (Vec<Target>, Vec<Diagnostic>) {
    // Only keys and repositories are used: any tag will do.
    let all = deployed(env, lock);
    let mut out = Vec::new();
    let mut problems = Vec::new();
    let pins = lock.envs.get(&env.name);
    for mut t in all {
        let pinned = match &t.what {
            What::Image => pins
                .and_then(|p| p.images.get(&t.key))
                .map(|p| (p.repository.clone(), p.digest.clone())),
            What::Chart { .. } => pins
                .and_then(|p| p.charts.get(&t.key))
                .map(|p| (t.query.repository.clone(), p.digest.clone())),
        };
        match pinned {
            Some((repository, _)) if full_repository(&repository) != t.query.repository => {
                problems.push(crate::lock::mismatch(
                    &env.name,
                    &t.key,
                    &repository,
                    &t.query.repository,
                    t.span,
                ));
            }
            Some((repository, digest)) => {
                t.query = Query {
                    repository,
                    reference: Reference::Digest(digest),
                    inspect: false,
                };
                out.push(t);
            }
            None if t.what == What::Image => problems.push(
                crate::policy::p002_unpinned::not_in_lock(&env.name, &t.key, t.span, command),
            ),
            None => {} // a chart without an entry deploys by its exact version
        }
    }
    (out, problems)
}

/// `verify`'s diagnostics: P004 for a pin whose digest is gone, R codes for
/// registries that could not be asked.
pub fn verify_answers(
    env: &str,
    targets: &[Target],
    answers: &[Result<Found, Failure>],
    command: &str,
) -> Vec<Diagnostic> {
    let mut diags = Vec::new();
    for (t, a) in targets.iter().zip(answers) {
        match a {
            Ok(_) => {}
            Err(f) if f.kind == FailureKind::NotFound => {
                diags.push(crate::policy::p004_missing_digest::problem(
                    env,
                    &t.key,
                    &t.query.display(),
                    t.span,
                    command,
                ))
            }
            Err(f) => diags.push(failure(t, f, env, command)),
        }
    }
    diags
}

/// `promote --from A --to B [NAME…]`: copy A's image pins to B for the keys
/// B deploys (all of them, or `names`). A built image keeps B's repository
/// (its registry): the change says where the digest comes from, so it can
/// be copied. Charts are copied when B deploys the same chart and version.
/// Errors: a named key B does not deploy, or A has no pin for it.
pub fn promote(
    lock: &Lockfile,
    from: &EnvModel,
    to: &EnvModel,
    names: &[String],
) -> Result<(Lockfile, Vec<Change>), String> {
    let to_targets = deployed(to, lock);
    let keys: Vec<&Target> = to_targets.iter().collect();
    for n in names {
        if !keys.iter().any(|t| &t.key == n) {
            let all: Vec<&str> = keys.iter().map(|t| t.key.as_str()).collect();
            let hint = crate::diag::suggest::did_you_mean(n, &all).unwrap_or_default();
            return Err(format!(
                "env `{}` deploys no image or chart `{n}` {hint}",
                to.name
            ));
        }
    }
    let src = lock.envs.get(&from.name).cloned().unwrap_or_default();
    let old = lock.envs.get(&to.name).cloned().unwrap_or_default();
    let mut dst = old.clone();
    let mut copied = BTreeMap::new();
    for t in keys {
        if !names.is_empty() && !names.contains(&t.key) {
            continue;
        }
        match &t.what {
            What::Image => {
                let Some(pin) = src.images.get(&t.key) else {
                    if names.contains(&t.key) {
                        return Err(format!(
                            "env `{}` has no pin for `{}` in ship.lock: run `shipc lock --env {}` first",
                            from.name, t.key, from.name
                        ));
                    }
                    continue;
                };
                let repository = t.query.repository.clone();
                if pin.repository != repository {
                    copied.insert(format!("images.{}", t.key), pin.repository.clone());
                }
                dst.images.insert(
                    t.key.clone(),
                    ImagePin {
                        repository,
                        digest: pin.digest.clone(),
                        tag: pin.tag.clone(),
                    },
                );
            }
            What::Chart { chart, version } => {
                if let Some(pin) = src
                    .charts
                    .get(&t.key)
                    .filter(|p| &p.chart == chart && &p.version == version)
                {
                    dst.charts.insert(t.key.clone(), pin.clone());
                }
            }
        }
    }
    let mut changes = crate::lock::changes(&old, &dst);
    for c in &mut changes {
        c.copied_from = copied.remove(&c.key);
    }
    let mut next = lock.clone();
    next.version = 1;
    next.set_env(&to.name, dst);
    Ok((next, changes))
}
