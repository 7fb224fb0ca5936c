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
mod verify;

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The whole lock file.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Lockfile {
    /// Format version (1).
    pub version: u32,
    /// Per env.
    #[serde(default, deserialize_with = "unique_keys")]
    pub envs: BTreeMap<String, EnvLock>,
}

/// One env's pins.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EnvLock {
    /// Images by key (image name, service name, or `SERVICE.INIT`).
    #[serde(default, deserialize_with = "unique_keys")]
    pub images: BTreeMap<String, ImagePin>,
    /// OCI charts by infra name.
    #[serde(default, deserialize_with = "unique_keys")]
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

/// A map whose keys must be unique: a second `api:` in an env is an error,
/// never a silent last-wins that could hide an edited entry.
fn unique_keys<'de, D, V>(d: D) -> Result<BTreeMap<String, V>, D::Error>
where
    D: serde::Deserializer<'de>,
    V: Deserialize<'de>,
{
    struct Unique<V>(std::marker::PhantomData<V>);
    impl<'de, V: Deserialize<'de>> serde::de::Visitor<'de> for Unique<V> {
        type Value = BTreeMap<String, V>;
        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("a mapping")
        }
        fn visit_map<A: serde::de::MapAccess<'de>>(
            self,
            mut m: A,
        ) -> Result<Self::Value, A::Error> {
            let mut out = BTreeMap::new();
            while let Some((k, v)) = m.next_entry::<String, V>()? {
                if out.contains_key(&k) {
                    return Err(serde::de::Error::custom(format!("duplicate key `{k}`")));
                }
                out.insert(k, v);
            }
            Ok(out)
        }
    }
    d.deserialize_map(Unique(std::marker::PhantomData))
}

/// A lock file is a few levels deep; the YAML parser's cost grows faster
/// than linearly with flow nesting (a 200 KB file of brackets took over a
/// minute), so deep nesting is refused before it is parsed.
fn shallow(text: &str) -> Result<(), String> {
    const MAX: usize = 32;
    let b = text.as_bytes();
    let (mut depth, mut i) = (0usize, 0usize);
    while let Some(&c) = b.get(i) {
        match c {
            b'"' | b'\'' => {
                i += 1;
                while let Some(&d) = b.get(i) {
                    if d == b'\\' && c == b'"' {
                        i += 1;
                    } else if d == c {
                        break;
                    }
                    i += 1;
                }
            }
            b'#' => {
                while b.get(i).is_some_and(|d| *d != b'\n') {
                    i += 1;
                }
            }
            b'[' | b'{' => {
                depth += 1;
                if depth > MAX {
                    return Err(format!("it is nested more than {MAX} levels deep"));
                }
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
        i += 1;
    }
    Ok(())
}

/// Parse a lock file's text. The error says what is wrong and where.
///
/// A file exactly as [`render`] writes it (the usual case) is read by a
/// line reader and accepted only if rendering the result gives back the
/// same bytes; anything else (hand edits, other YAML styles) goes through
/// serde_yaml. Both paths give the same `Lockfile` for the same text.
pub fn parse(text: &str) -> Result<Lockfile, String> {
    // Leading comment lines (the header, or none in older files) are not
    // part of the comparison.
    let body_start = text
        .split_inclusive('\n')
        .take_while(|l| l.starts_with('#'))
        .map(str::len)
        .sum::<usize>();
    let body = text.get(body_start..).unwrap_or(text);
    shallow(text)?;
    let lock: Lockfile = match canonical::read(body) {
        Some(l) if render_body(&l) == body => l,
        _ => serde_yaml::from_str(text).map_err(|e| e.to_string())?,
    };
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
            if crate::names::digest(digest).is_err() {
                return Err(format!(
                    "envs.{env}.{section}.{key}.digest `{digest}` is not a sha256 digest"
                ));
            }
        }
    }
    Ok(lock)
}

/// A lock entry that names another repository than the env resolves for
/// its image (E4004): deploying it would deploy whatever that repository
/// holds, so it is refused wherever a pin is read (compile, verify).
pub fn mismatch(
    env: &str,
    key: &str,
    locked: &str,
    expected: &str,
    span: crate::Span,
) -> crate::diag::Diagnostic {
    crate::diag::Diagnostic::new(
        crate::diag::Code::E4004,
        span,
        format!(
            "`ship.lock` entry `envs.{env}.images.{key}` names repository `{locked}`, but env `{env}` deploys this image from `{expected}`"
        ),
    )
    .label("the image whose pin does not match")
    .help(format!(
        "re-run `shipc lock --env {env}` (a hand-edited or stale ship.lock is never deployed)"
    ))
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
    out.push_str(&render_body(lock));
    out
}

/// Everything after the header comment.
fn render_body(lock: &Lockfile) -> String {
    let mut out = format!("version: {}\n", lock.version);
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
        out.push_str("  ");
        push_flow_scalar(&mut out, name);
        out.push_str(":\n");
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
    out.push_str("      ");
    push_flow_scalar(out, key);
    out.push_str(": { ");
    for (i, (k, v)) in fields.iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        out.push_str(k);
        out.push_str(": ");
        push_flow_scalar(out, v);
    }
    out.push_str(" }\n");
}

/// A scalar safe inside a flow mapping: plain when it is made only of
/// characters that cannot start or end a flow token and YAML would read it
/// back as this string, double-quoted otherwise (digests, `host:port`).
fn push_flow_scalar(out: &mut String, s: &str) {
    let plain = s
        .bytes()
        .all(|c| c.is_ascii_alphanumeric() || b"._/-".contains(&c))
        && !crate::yaml::needs_quotes(s);
    if plain {
        out.push_str(s);
    } else {
        out.push_str(&crate::yaml::quote(s));
    }
}

/// A reader for the exact text [`render`] writes: `None` as soon as a line
/// is not in that shape.
mod canonical {
    use super::{ChartPin, EnvLock, ImagePin, Lockfile};

    pub fn read(text: &str) -> Option<Lockfile> {
        let mut lock = Lockfile::default();
        let mut env: Option<String> = None;
        let mut section = "";
        for line in text.lines() {
            if let Some(v) = line.strip_prefix("version: ") {
                lock.version = v.parse().ok()?;
            } else if line == "envs:" || line == "envs: {}" {
            } else if let Some(rest) = line.strip_prefix("      ") {
                let (key, rest) = scalar(rest)?;
                let body = rest.strip_prefix(": { ")?.strip_suffix(" }")?;
                let fields = fields(body)?;
                let e = lock.envs.get_mut(env.as_ref()?)?;
                let get = |k: &str| fields.iter().find(|(f, _)| *f == k).map(|(_, v)| v.clone());
                match section {
                    "images" => {
                        let pin = ImagePin {
                            repository: get("repository")?,
                            digest: get("digest")?,
                            tag: get("tag"),
                        };
                        e.images.insert(key, pin);
                    }
                    "charts" => {
                        let pin = ChartPin {
                            chart: get("chart")?,
                            version: get("version")?,
                            digest: get("digest")?,
                        };
                        e.charts.insert(key, pin);
                    }
                    _ => return None,
                }
            } else if let Some(rest) = line.strip_prefix("    ") {
                section = match rest {
                    "images:" => "images",
                    "charts:" => "charts",
                    _ => return None,
                };
            } else if let Some(rest) = line.strip_prefix("  ") {
                let (name, rest) = scalar(rest)?;
                if rest != ":" {
                    return None;
                }
                lock.envs.insert(name.clone(), EnvLock::default());
                env = Some(name);
                section = "";
            } else {
                return None;
            }
        }
        Some(lock)
    }

    /// `k: v, k: v` of a flow mapping.
    fn fields(mut body: &str) -> Option<Vec<(&str, String)>> {
        let mut out = Vec::new();
        loop {
            let (k, rest) = body.split_once(": ")?;
            let (v, rest) = scalar(rest)?;
            out.push((k, v));
            match rest.strip_prefix(", ") {
                Some(r) => body = r,
                None if rest.is_empty() => return Some(out),
                None => return None,
            }
        }
    }

    /// A plain (`[A-Za-z0-9._/-]+`) or double-quoted scalar, and the rest.
    fn scalar(s: &str) -> Option<(String, &str)> {
        let Some(q) = s.strip_prefix('"') else {
            let end = s
                .find(|c: char| !(c.is_ascii_alphanumeric() || "._/-".contains(c)))
                .unwrap_or(s.len());
            return (end > 0).then(|| {
                (
                    s.get(..end).unwrap_or("").to_string(),
                    s.get(end..).unwrap_or(""),
                )
            });
        };
        let mut out = String::new();
        let mut chars = q.char_indices();
        while let Some((i, c)) = chars.next() {
            match c {
                '"' => return Some((out, q.get(i + 1..)?)),
                '\\' => match chars.next()?.1 {
                    '"' => out.push('"'),
                    '\\' => out.push('\\'),
                    'n' => out.push('\n'),
                    't' => out.push('\t'),
                    'r' => out.push('\r'),
                    'u' => {
                        let hex: String =
                            (0..4).filter_map(|_| chars.next().map(|x| x.1)).collect();
                        out.push(char::from_u32(u32::from_str_radix(&hex, 16).ok()?)?);
                    }
                    _ => return None,
                },
                c => out.push(c),
            }
        }
        None
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
mod tests;

#[cfg(test)]
mod trust_tests;
