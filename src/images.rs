//! The images an env deploys, resolved once, before lowering: a map from
//! each image site (`SERVICE`, `SERVICE.CONTAINER`) to the reference its pod
//! runs. Tilt envs run the bare repository Tilt builds (or an external
//! reference as written); pinned envs (helmfile, flux, the cluster verbs)
//! run every image by digest — from `ship.lock`, a `--digest NAME=sha256:…`
//! flag or a `SHIP_DIGEST_<NAME>` variable — and an image without one is a
//! P002 problem, found here and nowhere else. The lowering, the chart values
//! and `shipc diff` read the same map.

use crate::diag::Diagnostic;
use crate::lock::Lockfile;
use crate::model::view::{ImageSite, ImageUse};
use crate::model::{EnvKind, EnvModel, Value};
use crate::source::Span;
use std::collections::BTreeMap;

/// A resolved pinned image.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pinned {
    /// Full repository (registry included).
    pub repository: String,
    /// `sha256:…`.
    pub digest: String,
    /// The tag an `external("repo:tag@sha256:…")` reference was written
    /// with: kept for the reader, the digest decides.
    pub tag: Option<String>,
}

impl Pinned {
    /// `repo@sha256:…`, or `repo:tag@sha256:…` as written.
    pub fn reference(&self) -> String {
        match &self.tag {
            Some(t) => format!("{}:{t}@{}", self.repository, self.digest),
            None => format!("{}@{}", self.repository, self.digest),
        }
    }
}

/// Digest overrides from the command line and environment, by lock key.
pub type Overrides = BTreeMap<String, String>;

/// What one image site deploys.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Deployed {
    /// A tilt env: the bare repository Tilt builds and rewrites, or an
    /// external reference as written.
    Dev(String),
    /// A pinned env: by digest.
    Pinned(Pinned),
    /// A pinned env without a digest (a P002 problem was reported).
    Missing,
}

/// How an image is referenced in a pod spec.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageRef {
    /// The full reference (`repo`, `repo:tag` or `repo@sha256:…`).
    pub reference: String,
    /// `IfNotPresent` for dev builds and pinned digests.
    pub pull_policy: &'static str,
}

/// Every image site of one env and what it deploys.
#[derive(Debug, Clone, Default)]
pub struct Images {
    sites: BTreeMap<String, Deployed>,
}

/// What resolving a pinned env needs besides the env.
#[derive(Clone, Copy)]
pub struct PinSource<'a> {
    /// `ship.lock`.
    pub lock: &'a Lockfile,
    /// `--digest` / `SHIP_DIGEST_*` overrides.
    pub overrides: &'a Overrides,
    /// The `shipc lock` command that fixes a missing pin (P002's help).
    pub lock_command: &'a str,
}

impl Images {
    /// The images of `env`: dev references for a tilt env, digests for the
    /// pinned kinds, with one P002 problem per lock key that has none (not
    /// yet configured by `policy { }`).
    pub fn resolve(env: &EnvModel, pins: PinSource<'_>) -> (Images, Vec<Diagnostic>) {
        match env.env_kind() {
            EnvKind::Tilt => (Images::dev(env), Vec::new()),
            EnvKind::Helmfile | EnvKind::Flux => Images::pinned(env, pins),
        }
    }

    /// The images of a tilt env.
    pub fn dev(env: &EnvModel) -> Images {
        let sites = env
            .image_sites()
            .into_iter()
            .map(|s| {
                let reference = as_written(env, s.image).unwrap_or_default();
                (s.key(), Deployed::Dev(reference))
            })
            .collect();
        Images { sites }
    }

    /// The images of an env that deploys by digest.
    pub fn pinned(env: &EnvModel, pins: PinSource<'_>) -> (Images, Vec<Diagnostic>) {
        let mut problems: BTreeMap<String, Diagnostic> = BTreeMap::new();
        let mut sites = BTreeMap::new();
        for site in env.image_sites() {
            let key = site.key();
            let deployed = match pin(env, pins, &site, &key) {
                Ok(Some(p)) => Deployed::Pinned(p),
                Ok(None) => Deployed::Missing,
                Err((lock_key, d)) => {
                    problems.entry(lock_key).or_insert(*d);
                    Deployed::Missing
                }
            };
            sites.insert(key, deployed);
        }
        (Images { sites }, problems.into_values().collect())
    }

    /// What a site deploys.
    pub fn get(&self, key: &str) -> Option<&Deployed> {
        self.sites.get(key)
    }

    /// The pinned image of a site, when it has one.
    pub fn pinned_at(&self, key: &str) -> Option<&Pinned> {
        match self.get(key)? {
            Deployed::Pinned(p) => Some(p),
            Deployed::Dev(_) | Deployed::Missing => None,
        }
    }

    /// A site's reference in a pod spec (empty when it has none: a P002
    /// problem stops the output).
    pub fn image_ref(&self, key: &str) -> ImageRef {
        let reference = match self.get(key) {
            Some(Deployed::Dev(r)) => r.clone(),
            Some(Deployed::Pinned(p)) => p.reference(),
            Some(Deployed::Missing) | None => String::new(),
        };
        ImageRef {
            reference,
            pull_policy: "IfNotPresent",
        }
    }
}

type Problem = (String, Box<Diagnostic>);

/// Pin one site: its image's lock key is the image declaration's name for
/// built images, the site's key for external ones.
fn pin(
    env: &EnvModel,
    pins: PinSource<'_>,
    site: &ImageSite<'_>,
    key: &str,
) -> Result<Option<Pinned>, Problem> {
    let span = site.image.span;
    match ImageUse::of(site.image) {
        Some(ImageUse::Built(name)) => {
            let repo = env.registry_repository(name);
            by_lock(env, pins, name, repo, span, &format!("image `{name}`")).map(Some)
        }
        Some(ImageUse::External(r, _)) => {
            let Ok(parts) = crate::names::image_ref(r) else {
                return Ok(None);
            };
            if let Some(digest) = parts.digest {
                return Ok(Some(Pinned {
                    repository: parts.repository,
                    digest,
                    tag: parts.tag,
                }));
            }
            by_lock(
                env,
                pins,
                key,
                parts.repository,
                span,
                &format!("external image `{r}`"),
            )
            .map(Some)
        }
        None => Ok(None),
    }
}

fn by_lock(
    env: &EnvModel,
    pins: PinSource<'_>,
    key: &str,
    repository: String,
    span: Span,
    what: &str,
) -> Result<Pinned, Problem> {
    if let Some(d) = pins.overrides.get(key) {
        return Ok(Pinned {
            repository,
            digest: d.clone(),
            tag: None,
        });
    }
    if let Some(p) = pins.lock.image(&env.name, key) {
        let want = crate::names::full_repository(&repository);
        if crate::names::full_repository(&p.repository) != want {
            let d = crate::lock::mismatch(&env.name, key, &p.repository, &want, span);
            return Err((key.to_string(), Box::new(d)));
        }
        return Ok(Pinned {
            repository: p.repository.clone(),
            digest: p.digest.clone(),
            tag: None,
        });
    }
    Err((
        key.to_string(),
        Box::new(crate::policy::p002_unpinned::problem(
            env,
            key,
            what,
            span,
            pins.lock_command,
        )),
    ))
}

/// An image value's reference as written: the bare repository of a built
/// image, or an external reference as given.
fn as_written(env: &EnvModel, v: &Value) -> Option<String> {
    match ImageUse::of(v)? {
        ImageUse::Built(name) => Some(env.image_repository(name)),
        ImageUse::External(r, _) => Some(r.to_string()),
    }
}
