//! `lock`, `verify` and `promote`: the use cases that read and write
//! `ship.lock`. What to ask and what the answers mean is decided in
//! [`crate::lock::plan`]; the registry is any [`DigestResolver`].

use super::Refusal;
use crate::diag::Diagnostic;
use crate::lock::plan::{self, Inputs};
use crate::lock::{Change, Lockfile};
use crate::model::{EnvKind, EnvModel};
use crate::registry::{DigestResolver, Progress};
use std::collections::BTreeMap;

/// What `lock` is asked to do.
#[derive(Debug, Clone, Copy)]
pub struct LockRequest<'a> {
    /// The env.
    pub env: &'a str,
    /// `--tag T`: the tag of the images this project builds.
    pub tag: Option<&'a str>,
    /// `--image NAME=REF` flags as given.
    pub images: &'a [String],
    /// Read manifests and image configs for the image contract (R101–R103).
    pub contract: bool,
    /// The command line that re-runs this lock (for help lines).
    pub command: &'a str,
}

/// What `lock` resolved.
#[derive(Debug, Clone)]
pub struct Locked {
    /// The env.
    pub env: String,
    /// Its delivery kind.
    pub kind: EnvKind,
    /// `ship.lock` with the env's pins replaced.
    pub next: Lockfile,
    /// What changed in the env's pins.
    pub changes: Vec<Change>,
    /// How many references were resolved.
    pub resolved: usize,
}

/// The env of an analysis by name (the analysis was made for it).
fn env<'a>(analysis: &'a crate::Analysis, name: &str) -> Result<&'a EnvModel, Refusal> {
    analysis
        .checked
        .envs
        .iter()
        .find(|e| e.name == name)
        .ok_or_else(|| Refusal::Usage(format!("no env `{name}`")))
}

/// Resolve every image and OCI chart `req.env` pins. Diagnostics come back
/// beside the result (configured by `policy { }`); the caller writes
/// `next` only when none is an error.
pub fn lock(
    analysis: &crate::Analysis,
    previous: &Lockfile,
    req: LockRequest<'_>,
    registry: &dyn DigestResolver,
    progress: Progress<'_>,
) -> Result<(Locked, Vec<Diagnostic>), Refusal> {
    let env = env(analysis, req.env)?;
    if env.settings().images_built_locally() {
        return Err(Refusal::Usage(format!(
            "env `{}` builds its images (`images = \"build\"`): it pins nothing, so there is nothing to lock",
            env.name
        )));
    }
    let images = image_flags(req.images, env).map_err(Refusal::Usage)?;
    let (targets, problems) = plan::targets(
        env,
        Inputs {
            tag: req.tag,
            images: &images,
            previous,
            contract: req.contract,
        },
    );
    if !problems.is_empty() {
        return Err(Refusal::Problems(problems));
    }
    let queries: Vec<_> = targets.iter().map(|t| t.query.clone()).collect();
    let answers = registry.resolve(&queries, progress);
    let (pins, found) = plan::settle(&env.name, &targets, &answers, req.command);
    let old = previous.envs.get(&env.name).cloned().unwrap_or_default();
    let changes = crate::lock::changes(&old, &pins);
    let mut next = previous.clone();
    next.version = 1;
    next.set_env(&env.name, pins);
    let locked = Locked {
        env: env.name.clone(),
        kind: env.env_kind(),
        next,
        changes,
        resolved: queries.len(),
    };
    Ok((locked, super::configured(analysis, found)))
}

/// `--image NAME=REF` flags, by key; a NAME the env does not pin is an error.
fn image_flags(flags: &[String], env: &EnvModel) -> Result<BTreeMap<String, String>, String> {
    let keys: Vec<String> = env.lock_keys().into_iter().collect();
    let mut out = BTreeMap::new();
    for f in flags {
        let (k, r) = f
            .split_once('=')
            .filter(|(k, r)| !k.is_empty() && !r.is_empty())
            .ok_or_else(|| format!("`--image {f}`: expected NAME=REF"))?;
        if !keys.iter().any(|x| x == k) {
            let hint = crate::diag::suggest::did_you_mean(k, &keys).unwrap_or_default();
            return Err(format!(
                "`--image {f}`: env `{}` deploys no image `{k}` {hint}",
                env.name
            ));
        }
        out.insert(k.to_string(), r.to_string());
    }
    Ok(out)
}

/// Check that every digest `env` pins in `lock` still exists in its
/// registry (P004) and that the registries answer. Returns how many pins
/// were asked about, and the diagnostics (configured).
pub fn verify(
    analysis: &crate::Analysis,
    lock: &Lockfile,
    env_name: &str,
    command: &str,
    registry: &dyn DigestResolver,
    progress: Progress<'_>,
) -> Result<(usize, Vec<Diagnostic>), Refusal> {
    let env = env(analysis, env_name)?;
    let (targets, problems) = plan::verify_queries(env, lock, command);
    let queries: Vec<_> = targets.iter().map(|t| t.query.clone()).collect();
    let answers = registry.resolve(&queries, progress);
    let mut found = problems;
    found.extend(plan::verify_answers(&env.name, &targets, &answers, command));
    Ok((queries.len(), super::configured(analysis, found)))
}

/// Copy `from`'s pins to `to` (all keys `to` deploys, or `names`):
/// `ship.lock` as it would be, and what changed.
pub fn promote(
    analysis: &crate::Analysis,
    lock: &Lockfile,
    from: &str,
    to: &str,
    names: &[String],
) -> Result<(Lockfile, Vec<Change>), Refusal> {
    if from == to {
        return Err(Refusal::Usage(
            "`--from` and `--to` name the same env".into(),
        ));
    }
    let (from, to) = (env(analysis, from)?, env(analysis, to)?);
    if to.settings().images_built_locally() {
        return Err(Refusal::Usage(format!(
            "env `{}` builds its images (`images = \"build\"`): it has no pins to promote into",
            to.name
        )));
    }
    plan::promote(lock, from, to, names).map_err(Refusal::Failed)
}
