//! What `shipc lock`, `verify` and `promote` do, without the network:
//! which references an env resolves ([`targets`]), what the registry's
//! answers mean ([`settle`]: lock entries, `R…` diagnostics and the image
//! contract check), which pins `verify` asks about ([`verify_queries`]),
//! and how pins move between envs ([`promote`]).
//!
//! Decisions (SPEC §8, §13; not spelled out there):
//! * A built image resolves `<env.registry>/<repository>:<TAG>`, the tag
//!   from `--image NAME=REF`, else `--tag T` (after the image's `tag_prefix`:
//!   images sharing a repository have a tag each), else the tag its current lock
//!   entry records (so `shipc lock --check` notices a tag that moved). With
//!   none of these it is an error (R008), never a guess.
//! * `--image NAME=REF` takes a bare tag, a full `repo:tag`, or a full
//!   `repo@sha256:…` (checked to exist, then locked as given).
//! * `external("repo:tag")` images resolve their own reference; Docker Hub
//!   short names are written in full (`docker.io/library/busybox`). An
//!   external image already pinned with `@sha256:` needs no entry.
//! * Infra charts `oci://host/path/name` + `version` resolve
//!   `host/path/name:<version>` (`+` written `_`, as Helm does); charts from
//!   `https://` repositories are not in OCI registries and are not locked.
//! * Re-locking an env replaces that env's entries wholesale, so entries
//!   of images an env no longer deploys disappear; other envs are kept.

use crate::diag::{Code, Diagnostic};
use crate::lock::{ChartPin, EnvLock, ImagePin, Lockfile};
use crate::model::view::{port_number, ImageUse, Security, Service};
use crate::model::{EnvModel, Value};
use crate::registry::{Failure, FailureKind, Found, Query, Reference};
use crate::Span;
use std::collections::BTreeMap;

/// Something `shipc lock` pins.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// The `ship.lock` key (image name, service, `SERVICE.INIT`, or infra).
    pub key: String,
    /// Image or chart.
    pub what: What,
    /// Where and what to ask.
    pub query: Query,
    /// The span the diagnostics point at (the image reference).
    pub span: Span,
    /// The containers running this image, for the contract check.
    pub uses: Vec<Use>,
}

/// The kind of thing pinned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum What {
    /// A container image.
    Image,
    /// An infra OCI chart (`chart`, `version` as written).
    Chart {
        /// `oci://host/path/name`.
        chart: String,
        /// The exact version.
        version: String,
    },
}

pub use crate::policy::r101_image_contract::{DeclaredPort, Use};

/// The `shipc lock` inputs besides the env.
#[derive(Debug, Clone, Copy)]
pub struct Inputs<'a> {
    /// `--tag T`.
    pub tag: Option<&'a str>,
    /// `--image NAME=REF`, by key.
    pub images: &'a BTreeMap<String, String>,
    /// The lock as it is.
    pub previous: &'a Lockfile,
    /// Read manifests and image configs for the contract check (off: HEAD
    /// requests only, which Docker Hub does not count as pulls).
    pub contract: bool,
}

pub use super::verify::{mismatches, promote, verify_answers, verify_queries};
pub use crate::names::full_repository;

/// The repository of a built image in `env` (`<registry>/<repository>`).
fn built_repository(env: &EnvModel, image: &str) -> Option<String> {
    env.settings()
        .registry()
        .is_some()
        .then(|| full_repository(&env.registry_repository(image)))
}

/// The service's ports whose label `keep` admits, as a container declares them.
fn declared_ports(svc: Service<'_>, keep: impl Fn(&str) -> bool) -> Vec<DeclaredPort> {
    svc.port_entries()
        .filter(|(label, _)| keep(label))
        .map(|(label, v)| {
            let (n, proto) = port_number(v);
            DeclaredPort {
                label: label.to_string(),
                spec: format!("{n}/{}", proto.to_ascii_lowercase()),
                span: v.span,
            }
        })
        .collect()
}

/// Every image and OCI chart `env` pins, keyed and sorted, and the problems
/// that keep one from being resolved (R008).
pub fn targets(env: &EnvModel, inputs: Inputs<'_>) -> (Vec<Target>, Vec<Diagnostic>) {
    let mut out: BTreeMap<String, Target> = BTreeMap::new();
    let mut problems = Vec::new();
    for site in env.image_sites() {
        let svc = site.service.service();
        let key = site.key();
        let use_ = match site.container {
            None => {
                let sidecars = svc.sidecar_port_labels();
                Use {
                    container: key.clone(),
                    ports: declared_ports(svc, |l| !sidecars.contains(&l)),
                    non_root: non_root(svc.security()),
                }
            }
            Some(c) => {
                let own = c.port_labels();
                Use {
                    container: key.clone(),
                    ports: declared_ports(svc, |l| own.contains(&l)),
                    non_root: non_root(c.security().or(svc.security())),
                }
            }
        };
        add(env, inputs, &key, site.image, use_, &mut out, &mut problems);
    }
    for (name, infra) in &env.infras {
        let Some(chart_v) = infra.infra().chart() else {
            continue;
        };
        let Some(path) = chart_v.as_str().and_then(|c| c.strip_prefix("oci://")) else {
            continue;
        };
        let version = infra
            .infra()
            .version()
            .and_then(Value::as_str)
            .unwrap_or("");
        let chart = chart_v.as_str().unwrap_or("").to_string();
        out.insert(
            name.clone(),
            Target {
                key: name.clone(),
                what: What::Chart {
                    chart,
                    version: version.to_string(),
                },
                query: Query {
                    repository: path.trim_end_matches('/').to_string(),
                    reference: Reference::Tag(version.replace('+', "_")),
                    inspect: false,
                },
                span: chart_v.span,
                uses: Vec::new(),
            },
        );
    }
    (out.into_values().collect(), problems)
}

/// The security span when it needs a non-root user and names none.
fn non_root(security: Option<&Value>) -> Option<Span> {
    let s = Security::of(security?);
    let required = s.run_as_non_root().and_then(Value::as_bool) == Some(true);
    (required && s.run_as().is_none()).then_some(s.raw().span)
}

/// Add the target of one container's image (service key `owner`).
fn add(
    env: &EnvModel,
    inputs: Inputs<'_>,
    owner: &str,
    img: &Value,
    use_: Use,
    out: &mut BTreeMap<String, Target>,
    problems: &mut Vec<Diagnostic>,
) {
    let (key, default_repo, default_ref, what) = match ImageUse::of(img) {
        Some(ImageUse::Built(name)) => {
            let repo = built_repository(env, name);
            (name.to_string(), repo, None, format!("image `{name}`"))
        }
        Some(ImageUse::External(r, _)) => {
            let Ok(parts) = crate::names::image_ref(r) else {
                return;
            };
            if parts.digest.is_some() && !inputs.images.contains_key(owner) {
                return; // pinned in the source
            }
            let reference = parts.tag.map(Reference::Tag);
            (
                owner.to_string(),
                Some(full_repository(&parts.repository)),
                reference,
                format!("external image `{r}`"),
            )
        }
        None => return,
    };
    if let Some(t) = out.get_mut(&key) {
        t.uses.push(use_);
        return;
    }
    let previous = inputs.previous.image(&env.name, &key);
    let chosen: Result<(String, Reference), String> = match inputs.images.get(&key) {
        Some(r) => from_flag(&key, r, default_repo.as_deref()),
        None => {
            let flag_tag = match ImageUse::of(img) {
                Some(ImageUse::Built(name)) => inputs
                    .tag
                    .map(|t| Reference::Tag(format!("{}{t}", env.tag_prefix(name)))),
                _ => None,
            };
            let kept = previous
                .filter(|p| Some(&p.repository) == default_repo.as_ref())
                .and_then(|p| p.tag.clone())
                .map(Reference::Tag);
            match (default_repo, flag_tag.or(default_ref).or(kept)) {
                (Some(repo), Some(r)) => Ok((repo, r)),
                (None, _) => Err(format!(
                    "{what} has no repository to resolve: env `{}` sets no `registry`",
                    env.name
                )),
                (Some(repo), None) => Err(format!(
                    "{what} has no tag to resolve in `{repo}` for env `{}`",
                    env.name
                )),
            }
        }
    };
    // A built image is reported at its declaration, an external one where
    // it is written.
    let span = match ImageUse::of(img) {
        Some(ImageUse::Built(name)) => env.images.get(name).map_or(img.span, |i| i.name_span),
        _ => img.span,
    };
    match chosen {
        Ok((repository, reference)) => {
            out.insert(
                key.clone(),
                Target {
                    key,
                    what: What::Image,
                    query: Query {
                        repository,
                        reference,
                        inspect: inputs.contract,
                    },
                    span,
                    uses: vec![use_],
                },
            );
        }
        Err(message) => problems.push(
            Diagnostic::new(Code::R008, span, message)
                .label("this image")
                .help(format!(
                    "pass `--tag <TAG>` (the tag CI pushed) or `--image {key}=<TAG|REPO:TAG|REPO@DIGEST>`"
                )),
        ),
    }
}

/// Read `--image NAME=REF`: a bare tag, `repo:tag` or `repo@sha256:…`.
fn from_flag(
    key: &str,
    r: &str,
    default_repo: Option<&str>,
) -> Result<(String, Reference), String> {
    let bare_tag = !r.contains(['/', ':', '@']);
    if bare_tag {
        return match default_repo {
            Some(repo) => Ok((repo.to_string(), Reference::Tag(r.to_string()))),
            None => Err(format!(
                "`--image {key}={r}` gives a tag, but the image has no repository: give `REPO:TAG`"
            )),
        };
    }
    let parts = crate::names::image_ref(r).map_err(|e| format!("`--image {key}={r}`: {e}"))?;
    let repo = full_repository(&parts.repository);
    if let Some(want) = default_repo.filter(|d| *d != repo) {
        return Err(format!(
            "`--image {key}={r}` names repository `{repo}`, but this env deploys `{key}` from `{want}`: give a tag, or `{want}:TAG`"
        ));
    }
    match (parts.digest, parts.tag) {
        (Some(d), _) => Ok((repo, Reference::Digest(d))),
        (None, Some(t)) => Ok((repo, Reference::Tag(t))),
        (None, None) => Err(format!(
            "`--image {key}={r}` names no tag or digest: write `{r}:<TAG>`"
        )),
    }
}

/// Turn the registry's answers into `env`'s new lock entries and
/// diagnostics: R001–R007, R009 for failures, and the contract warnings
/// R101 (port not exposed), R102 (root user under a non-root policy), R103
/// (no linux/amd64). Entries are produced only for answered targets; the
/// caller writes nothing when any error is reported.
pub fn settle(
    env: &str,
    targets: &[Target],
    answers: &[Result<Found, Failure>],
    command: &str,
) -> (EnvLock, Vec<Diagnostic>) {
    let mut lock = EnvLock::default();
    let mut diags = Vec::new();
    for (t, answer) in targets.iter().zip(answers) {
        match answer {
            Ok(found) if crate::names::digest(&found.digest).is_err() => {
                diags.push(
                    Diagnostic::new(
                        Code::R007,
                        t.span,
                        format!(
                            "the registry answered `{}` with digest `{}`, which is not `sha256:` and 64 lowercase hex characters",
                            t.query.display(),
                            found.digest.escape_debug()
                        ),
                    )
                    .label("this image")
                    .help("nothing was locked; check the registry (or a proxy in front of it)"),
                );
            }
            Ok(found) => {
                match &t.what {
                    What::Image => {
                        lock.images.insert(
                            t.key.clone(),
                            ImagePin {
                                repository: t.query.repository.clone(),
                                digest: found.digest.clone(),
                                tag: match &t.query.reference {
                                    Reference::Tag(tag) => Some(tag.clone()),
                                    Reference::Digest(_) => None,
                                },
                            },
                        );
                    }
                    What::Chart { chart, version } => {
                        lock.charts.insert(
                            t.key.clone(),
                            ChartPin {
                                chart: chart.clone(),
                                version: version.clone(),
                                digest: found.digest.clone(),
                            },
                        );
                    }
                }
                crate::policy::r101_image_contract::check(
                    &t.query.display(),
                    t.span,
                    &t.uses,
                    found,
                    &mut diags,
                );
            }
            Err(f) => diags.push(failure(t, f, env, command)),
        }
    }
    (lock, diags)
}

/// The diagnostic of a failed query.
pub(super) fn failure(t: &Target, f: &Failure, env: &str, command: &str) -> Diagnostic {
    let shown = t.query.display();
    let host = &f.registry;
    let (code, message, help) = match f.kind {
        FailureKind::Unauthorized {
            status,
            with_credentials,
        } => {
            let message = if status == 403 {
                format!("registry `{host}` denied access to `{shown}` (403 Forbidden)")
            } else if with_credentials {
                format!("registry `{host}` rejected the credentials for `{shown}` (401 Unauthorized)")
            } else {
                format!("registry `{host}` requires credentials for `{shown}` (401 Unauthorized)")
            };
            (
                Code::R001,
                message,
                format!("run `docker login {host}` with an account that can pull `{}`, then `{command}`", t.query.repository),
            )
        }
        FailureKind::NotFound => {
            let repo = t
                .query
                .repository
                .strip_prefix(&format!("{host}/"))
                .unwrap_or(&t.query.repository);
            let message = match &t.query.reference {
                Reference::Tag(tag) => {
                    format!("registry `{host}` has no tag `{tag}` in repository `{repo}`")
                }
                Reference::Digest(d) => {
                    format!("registry `{host}` has no manifest `{d}` in repository `{repo}`")
                }
            };
            let help = match &t.what {
                What::Image => "push the image first, or check `--tag` and the image's `repository`".to_string(),
                What::Chart { .. } => "check the chart's `version` and `chart` reference".to_string(),
            };
            (Code::R002, message, help)
        }
        FailureKind::Refused => (
            Code::R003,
            format!("cannot connect to registry `{host}`: {}", f.detail),
            "check that the registry is running and the host and port are right".to_string(),
        ),
        FailureKind::Dns => (
            Code::R004,
            format!("cannot resolve the registry host `{host}`"),
            format!(
                "check the registry name (`env.registry` of `{env}`, or the image reference) and DNS"
            ),
        ),
        FailureKind::Tls => (
            Code::R005,
            format!("TLS with registry `{host}` failed: {}", f.detail),
            format!("trust its CA with `--ca-file`, `SSL_CERT_FILE` or `certs.d/{host}/ca.crt` in the Docker config folder; a plain-HTTP registry must be listed in `insecure_registries` or `--insecure-registry {host}`"),
        ),
        FailureKind::Timeout => (
            Code::R006,
            format!("registry `{host}` did not answer: {}", f.detail),
            "check the registry, or allow more time with `--timeout <SECONDS>`".to_string(),
        ),
        FailureKind::Server => (
            Code::R007,
            format!("registry `{host}` failed for `{shown}`: {}", f.detail),
            "retry later; if it persists, check the registry's logs".to_string(),
        ),
        FailureKind::Credentials => (
            Code::R009,
            format!("cannot get credentials for registry `{host}`: {}", f.detail),
            "fix the Docker config (`$DOCKER_CONFIG/config.json` or `~/.docker/config.json`) or its credential helper".to_string(),
        ),
    };
    let label = match &t.what {
        What::Image => format!("resolving `{shown}`"),
        What::Chart { .. } => format!("resolving chart `{shown}`"),
    };
    Diagnostic::new(code, t.span, message)
        .label(label)
        .help(help)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn docker_hub_names_are_written_in_full() {
        assert_eq!(full_repository("busybox"), "docker.io/library/busybox");
        assert_eq!(full_repository("bitnami/redis"), "docker.io/bitnami/redis");
        assert_eq!(full_repository("ghcr.io/a/b"), "ghcr.io/a/b");
        assert_eq!(full_repository("localhost/a"), "localhost/a");
        assert_eq!(full_repository("127.0.0.1:5000/a"), "127.0.0.1:5000/a");
    }

    #[test]
    fn image_flags_take_a_tag_a_tagged_or_a_digest_reference() {
        let d = "sha256:3333333333333333333333333333333333333333333333333333333333333333";
        assert_eq!(
            from_flag("api", "v2", Some("r.io/api")).unwrap(),
            ("r.io/api".into(), Reference::Tag("v2".into()))
        );
        assert_eq!(
            from_flag("api", "r.io/api:v3", Some("r.io/api")).unwrap(),
            ("r.io/api".into(), Reference::Tag("v3".into()))
        );
        // A pin in another repository would be refused by compile (E4004).
        assert!(from_flag("api", "other.io/x/api:v3", Some("r.io/api"))
            .unwrap_err()
            .contains("this env deploys `api` from `r.io/api`"));
        assert_eq!(
            from_flag("api", &format!("r.io/api@{d}"), None).unwrap(),
            ("r.io/api".into(), Reference::Digest(d.into()))
        );
        assert!(from_flag("api", "r.io/api", None)
            .unwrap_err()
            .contains("no tag or digest"));
        assert!(from_flag("api", "v2", None).is_err());
    }
}
