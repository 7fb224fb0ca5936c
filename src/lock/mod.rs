//! `ship.lock` (SPEC §13): env → image → `{ repository, digest, tag? }` and
//! env → chart → `{ chart, version, digest }`. Parsed and rendered here;
//! [`plan`] decides what `shipc lock` resolves and turns registry answers
//! into entries and diagnostics.
//!
//! The file is merge-friendly: keys sorted (BTreeMap), one line per entry
//! (a flow mapping), no timestamps, so two branches that lock different
//! images merge without conflict and re-locking unchanged digests rewrites
//! the same bytes.

pub mod plan;

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The whole lock file.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Lockfile {
    /// Format version (1).
    pub version: u32,
    /// Per env.
    #[serde(default)]
    pub envs: BTreeMap<String, EnvLock>,
}

/// One env's pins.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EnvLock {
    /// Images by key (image name, service name, or `SERVICE.INIT`).
    #[serde(default)]
    pub images: BTreeMap<String, ImagePin>,
    /// OCI charts by infra name.
    #[serde(default)]
    pub charts: BTreeMap<String, ChartPin>,
}

/// A pinned image.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ImagePin {
    /// Full repository, registry included.
    pub repository: String,
    /// `sha256:…`.
    pub digest: String,
    /// The tag it was resolved from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tag: Option<String>,
}

/// A pinned chart.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChartPin {
    /// The chart reference.
    pub chart: String,
    /// The exact version.
    pub version: String,
    /// `sha256:…`.
    pub digest: String,
}

/// Parse a lock file's text. The error says what is wrong and where.
pub fn parse(text: &str) -> Result<Lockfile, String> {
    let lock: Lockfile = serde_yaml::from_str(text).map_err(|e| e.to_string())?;
    if lock.version != 1 {
        return Err(format!(
            "unsupported ship.lock version {} (this shipc reads version 1)",
            lock.version
        ));
    }
    for (env, l) in &lock.envs {
        let digests = l
            .images
            .iter()
            .map(|(k, p)| ("images", k, &p.digest))
            .chain(l.charts.iter().map(|(k, p)| ("charts", k, &p.digest)));
        for (section, key, digest) in digests {
            if crate::check::names::digest(digest).is_err() {
                return Err(format!(
                    "envs.{env}.{section}.{key}.digest `{digest}` is not a sha256 digest"
                ));
            }
        }
    }
    Ok(lock)
}

impl Lockfile {
    /// The pin of an image key in an env.
    pub fn image(&self, env: &str, key: &str) -> Option<&ImagePin> {
        self.envs.get(env).and_then(|e| e.images.get(key))
    }
}

/// The lock file's text: a header comment, `version: 1`, then each env's
/// images and charts, one flow-mapping line per entry, keys sorted.
/// `parse(&render(l)) == l` for every lock `parse` accepts.
pub fn render(lock: &Lockfile) -> String {
    let mut out = String::from(
        "# ship.lock: digests resolved by `shipc lock`. Commit it; do not edit by hand.\n",
    );
    out.push_str(&format!("version: {}\n", lock.version));
    let envs: Vec<_> = lock
        .envs
        .iter()
        .filter(|(_, e)| !e.images.is_empty() || !e.charts.is_empty())
        .collect();
    if envs.is_empty() {
        out.push_str("envs: {}\n");
        return out;
    }
    out.push_str("envs:\n");
    for (name, env) in envs {
        out.push_str(&format!("  {}:\n", flow_scalar(name)));
        if !env.images.is_empty() {
            out.push_str("    images:\n");
            for (key, pin) in &env.images {
                let mut fields = vec![
                    ("repository", pin.repository.as_str()),
                    ("digest", pin.digest.as_str()),
                ];
                if let Some(t) = &pin.tag {
                    fields.push(("tag", t));
                }
                entry(&mut out, key, &fields);
            }
        }
        if !env.charts.is_empty() {
            out.push_str("    charts:\n");
            for (key, pin) in &env.charts {
                let fields = [
                    ("chart", pin.chart.as_str()),
                    ("version", pin.version.as_str()),
                    ("digest", pin.digest.as_str()),
                ];
                entry(&mut out, key, &fields);
            }
        }
    }
    out
}

fn entry(out: &mut String, key: &str, fields: &[(&str, &str)]) {
    let body: Vec<String> = fields
        .iter()
        .map(|(k, v)| format!("{k}: {}", flow_scalar(v)))
        .collect();
    out.push_str(&format!(
        "      {}: {{ {} }}\n",
        flow_scalar(key),
        body.join(", ")
    ));
}

/// A scalar safe inside a flow mapping: plain when it is made only of
/// characters that cannot start or end a flow token and YAML would read it
/// back as this string, double-quoted otherwise (digests, `host:port`).
fn flow_scalar(s: &str) -> String {
    let plain = s
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "._/-".contains(c))
        && !crate::emit::yaml::needs_quotes(s);
    if plain {
        s.to_string()
    } else {
        crate::emit::yaml::quote(s)
    }
}

/// One entry that differs between two versions of an env's pins.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Change {
    /// The lock key (`images.KEY` or `charts.KEY`).
    pub key: String,
    /// The old `repository@digest` (none: added).
    pub from: Option<String>,
    /// The new `repository@digest` (none: removed).
    pub to: Option<String>,
    /// `promote`: the repository the digest comes from, when it is not the
    /// one it is pinned in (the image must be copied there).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub copied_from: Option<String>,
}

/// What changed from `old` to `new`, images first, keys sorted.
pub fn changes(old: &EnvLock, new: &EnvLock) -> Vec<Change> {
    fn diff<T>(
        section: &str,
        old: &BTreeMap<String, T>,
        new: &BTreeMap<String, T>,
        show: impl Fn(&T) -> String,
        out: &mut Vec<Change>,
    ) {
        let keys: std::collections::BTreeSet<&String> = old.keys().chain(new.keys()).collect();
        for k in keys {
            let (a, b) = (old.get(k).map(&show), new.get(k).map(&show));
            if a != b {
                out.push(Change {
                    key: format!("{section}.{k}"),
                    from: a,
                    to: b,
                    copied_from: None,
                });
            }
        }
    }
    let mut out = Vec::new();
    diff(
        "images",
        &old.images,
        &new.images,
        |p| format!("{}@{}", p.repository, p.digest),
        &mut out,
    );
    diff(
        "charts",
        &old.charts,
        &new.charts,
        |p| format!("{}:{}@{}", p.chart, p.version, p.digest),
        &mut out,
    );
    out
}

impl Lockfile {
    /// Replace one env's pins (an empty set removes the env).
    pub fn set_env(&mut self, env: &str, pins: EnvLock) {
        if pins.images.is_empty() && pins.charts.is_empty() {
            self.envs.remove(env);
        } else {
            self.envs.insert(env.to_string(), pins);
        }
    }

    /// An empty version-1 lock.
    pub fn empty() -> Lockfile {
        Lockfile {
            version: 1,
            envs: BTreeMap::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;

    const D1: &str = "sha256:1111111111111111111111111111111111111111111111111111111111111111";
    const D2: &str = "sha256:2222222222222222222222222222222222222222222222222222222222222222";

    fn sample() -> Lockfile {
        let mut env = EnvLock::default();
        env.images.insert(
            "www".into(),
            ImagePin {
                repository: "registry.example.com:5000/acme/www".into(),
                digest: D1.into(),
                tag: Some("1.36".into()),
            },
        );
        env.images.insert(
            "a.init".into(),
            ImagePin {
                repository: "docker.io/library/busybox".into(),
                digest: D2.into(),
                tag: None,
            },
        );
        env.charts.insert(
            "redis".into(),
            ChartPin {
                chart: "oci://registry-1.docker.io/bitnamicharts/redis".into(),
                version: "19.6.4+1".into(),
                digest: D2.into(),
            },
        );
        let mut lock = Lockfile::empty();
        lock.set_env("prod", env);
        lock
    }

    #[test]
    fn render_is_sorted_one_line_per_entry_and_reads_back() {
        let lock = sample();
        let text = render(&lock);
        assert_eq!(parse(&text).unwrap(), lock);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[1], "version: 1");
        assert!(lines[5].starts_with("      a.init: { repository: docker.io/library/busybox,"));
        assert!(
            lines[6].contains("tag: \"1.36\""),
            "a float-looking tag is quoted"
        );
        assert!(lines[6].contains("repository: \"registry.example.com:5000/acme/www\""));
        assert_eq!(text, render(&parse(&text).unwrap()), "stable");
        assert_eq!(
            render(&Lockfile::empty()),
            render(&parse(&render(&Lockfile::empty())).unwrap())
        );
    }

    #[test]
    fn changes_list_added_changed_and_removed() {
        let old = sample().envs["prod"].clone();
        let mut new = old.clone();
        new.images.remove("a.init");
        new.images.get_mut("www").unwrap().digest = D2.into();
        new.images.insert(
            "api".into(),
            ImagePin {
                repository: "r/api".into(),
                digest: D1.into(),
                tag: None,
            },
        );
        let c = changes(&old, &new);
        let keys: Vec<_> = c
            .iter()
            .map(|c| (c.key.as_str(), c.from.is_some(), c.to.is_some()))
            .collect();
        assert_eq!(
            keys,
            [
                ("images.a.init", true, false),
                ("images.api", false, true),
                ("images.www", true, true)
            ]
        );
    }

    #[test]
    fn bad_chart_digests_are_refused() {
        let text = render(&sample()).replace(
            &format!("version: \"19.6.4+1\", digest: \"{D2}\""),
            "version: \"19.6.4+1\", digest: \"sha256:nope\"",
        );
        assert!(parse(&text)
            .unwrap_err()
            .contains("envs.prod.charts.redis.digest"));
    }
}
