//! P003: image repositories are bare — no registry, no tag, no digest —
//! so base values never carry them; only env values do.

use super::rule;
use crate::diag::{Code, Diagnostic};
use crate::model::EnvModel;

/// Why a repository is not bare, if it is not.
pub fn not_bare(repo: &str) -> Option<&'static str> {
    if repo.contains('@') {
        return Some("it carries a digest");
    }
    let last = repo.rsplit('/').next().unwrap_or(repo);
    if last.contains(':') {
        return Some("it carries a tag");
    }
    if let Some((first, _)) = repo.split_once('/') {
        if first.contains('.') || first.contains(':') || first == "localhost" {
            return Some("it names a registry");
        }
    }
    None
}

pub(super) fn check(env: &EnvModel, out: &mut Vec<Diagnostic>) {
    for img in env.images.values() {
        let Some(v) = img.image().repository() else {
            continue;
        };
        let Some(repo) = v.as_str() else { continue };
        if let Some(why) = not_bare(repo) {
            out.push(
                rule(Code::P003, v.span, format!("repository `{repo}` of image `{}` is not bare", img.id.name))
                    .label(why)
                    .help("write the bare repository (`team/app`); the env's `registry` and `ship.lock` add the rest"),
            );
        }
    }
}
