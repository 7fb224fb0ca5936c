//! P007: infra chart versions are exact in helmfile and flux envs.

use super::rule;
use crate::diag::{Code, Diagnostic};
use crate::model::EnvModel;

/// Whether a chart version is one exact version (`15.5.0`, `v1.2.3-rc.1`).
pub fn exact(v: &str) -> bool {
    let core = v.strip_prefix('v').unwrap_or(v);
    let main = core.split(['-', '+']).next().unwrap_or("");
    let nums: Vec<&str> = main.split('.').collect();
    !v.is_empty()
        && !nums.is_empty()
        && nums
            .iter()
            .all(|n| !n.is_empty() && n.chars().all(|c| c.is_ascii_digit()))
        && !v.contains([' ', '*', '^', '~', '>', '<', '=', '|', ','])
        && !nums.iter().any(|n| n.eq_ignore_ascii_case("x"))
}

pub(super) fn check(env: &EnvModel, out: &mut Vec<Diagnostic>) {
    if !env.env_kind().pinned() {
        return;
    }
    for i in env.infras.values() {
        let Some(v) = i.infra().version() else {
            continue;
        };
        let Some(s) = v.as_str() else { continue };
        if !exact(s) && !s.eq_ignore_ascii_case("latest") {
            out.push(
                rule(
                    Code::P007,
                    v.span,
                    format!("infra `{}` chart version `{s}` is not exact", i.id.name),
                )
                .label(format!("a range in {} env `{}`", env.kind(), env.name))
                .help("pin one version, e.g. `version = \"15.5.0\"`"),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn exact_versions() {
        for v in ["15.5.0", "v1.2.3", "1.2.3-rc.1", "19.6.4"] {
            assert!(super::exact(v), "{v}");
        }
        for v in ["^15.5", "~1.2", "1.x", ">=1.0.0", "*", "1.2 || 1.3", ""] {
            assert!(!super::exact(v), "{v}");
        }
    }
}
