//! Image references in pinned (helmfile/flux) envs: every image by digest,
//! from `ship.lock`, a `--digest NAME=sha256:…` flag or a
//! `SHIP_DIGEST_<NAME>` variable (P002). Tags are never deployed there.

use super::k8s::ImageRef;
use crate::diag::{Code, Diagnostic};
use crate::lock::Lockfile;
use crate::model::{EnvModel, Value, V};
use crate::syntax::ast::DeclKind;
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

/// Resolves the images of one pinned env, collecting P002 problems.
pub struct Resolver<'a> {
    env: &'a EnvModel,
    lock: &'a Lockfile,
    overrides: &'a Overrides,
    /// Problems found (one per key).
    pub problems: std::cell::RefCell<BTreeMap<String, Diagnostic>>,
    command: String,
}

impl<'a> Resolver<'a> {
    /// A resolver for `env`; `command` is the exact `shipc lock` invocation.
    pub fn new(
        env: &'a EnvModel,
        lock: &'a Lockfile,
        overrides: &'a Overrides,
        command: String,
    ) -> Resolver<'a> {
        Resolver {
            env,
            lock,
            overrides,
            problems: std::cell::RefCell::new(BTreeMap::new()),
            command,
        }
    }

    fn registry_repo(&self, image: &str) -> String {
        let bare = super::tilt::repository(self.env, image);
        match self.env.env.get("registry").and_then(Value::as_str) {
            Some(r) => format!("{}/{bare}", r.trim_end_matches('/')),
            None => bare,
        }
    }

    fn problem(&self, key: &str, d: Diagnostic) {
        self.problems
            .borrow_mut()
            .entry(key.to_string())
            .or_insert(d);
    }

    /// Resolve the image value of `key` (a service, `SERVICE.INIT`, or image).
    pub fn resolve(&self, key: &str, v: &Value) -> Option<Pinned> {
        match &v.kind {
            V::Decl(d) if d.kind == DeclKind::Image => {
                let repo = self.registry_repo(&d.name);
                self.pin(&d.name, repo, v.span, &format!("image `{}`", d.name))
            }
            V::Call { args, .. } => {
                let r = args.get("ref").and_then(Value::as_str).unwrap_or("");
                let parts = crate::check::names::image_ref(r).ok()?;
                if let Some(digest) = parts.digest {
                    return Some(Pinned {
                        repository: parts.repository,
                        digest,
                        tag: parts.tag,
                    });
                }
                self.pin(
                    key,
                    parts.repository,
                    v.span,
                    &format!("external image `{r}`"),
                )
            }
            _ => None,
        }
    }

    fn pin(&self, key: &str, repository: String, span: crate::Span, what: &str) -> Option<Pinned> {
        if let Some(d) = self.overrides.get(key) {
            return Some(Pinned {
                repository,
                digest: d.clone(),
                tag: None,
            });
        }
        if let Some(p) = self.lock.image(&self.env.name, key) {
            let want = crate::check::names::full_repository(&repository);
            if crate::check::names::full_repository(&p.repository) != want {
                let d = crate::lock::mismatch(&self.env.name, key, &p.repository, &want, span);
                self.problem(key, d);
                return None;
            }
            return Some(Pinned {
                repository: p.repository.clone(),
                digest: p.digest.clone(),
                tag: None,
            });
        }
        let d = Diagnostic::new(
            Code::P002,
            span,
            format!(
                "{what} (`{key}`) has no pinned digest for {} env `{}`",
                self.env.kind(),
                self.env.name
            ),
        )
        .label(format!(
            "`ship.lock` has no entry `envs.{}.images.{key}`",
            self.env.name
        ))
        .help(format!(
            "run `{}` (or pass `--digest {key}=sha256:…`)",
            self.command
        ))
        .note("policy rule P002: helmfile and flux envs deploy images by digest only");
        self.problem(key, d);
        None
    }

    /// The `k8s` image callback: pinned reference, `IfNotPresent`.
    pub fn image_ref(&self, key: &str, v: &Value) -> ImageRef {
        ImageRef {
            reference: self
                .resolve(key, v)
                .map(|p| p.reference())
                .unwrap_or_default(),
            pull_policy: "IfNotPresent",
        }
    }
}
