//! Emitting: the evaluated model → files, in memory. Emitters return an
//! [`OutputTree`]; only the CLI writes it (to a temp dir, then renamed).
//!
//! `k8s` is the one place Kubernetes objects are built; every target
//! consumes it. `yaml` is a small deterministic YAML writer (keys sorted,
//! every string that a YAML 1.1 parser could read as something else quoted).

pub mod flux;
pub mod helmfile;
pub mod images;
pub mod k8s;
pub mod starlark;
pub mod tilt;
pub mod yaml;

pub use crate::eval::units::go_duration as units_go_duration;
use std::collections::BTreeMap;
use std::path::PathBuf;

/// Files to write: relative path → bytes. Sorted, so writing is ordered.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct OutputTree {
    /// The files.
    pub files: BTreeMap<PathBuf, Vec<u8>>,
}

impl OutputTree {
    /// An empty tree.
    pub fn new() -> OutputTree {
        OutputTree::default()
    }

    /// Add (or replace) a file.
    pub fn add(&mut self, path: impl Into<PathBuf>, bytes: impl Into<Vec<u8>>) {
        self.files.insert(path.into(), bytes.into());
    }

    /// Every file of `other` under `prefix`.
    pub fn merge_under(&mut self, prefix: &str, other: OutputTree) {
        for (p, b) in other.files {
            self.files.insert(PathBuf::from(prefix).join(p), b);
        }
    }
}
