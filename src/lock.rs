//! `ship.lock` (SPEC §13): env → image → `{ repository, digest, tag? }` and
//! env → chart → `{ chart, version, digest }`. Read here; written by
//! `shipc lock` (another verb). Keys are sorted (BTreeMap) so the file is
//! merge-friendly.

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
        for (key, pin) in &l.images {
            if crate::check::names::digest(&pin.digest).is_err() {
                return Err(format!(
                    "envs.{env}.images.{key}.digest `{}` is not a sha256 digest",
                    pin.digest
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
