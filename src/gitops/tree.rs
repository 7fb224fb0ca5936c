//! What a release changes, object by object: the tree the branch holds at
//! the env's path against the rendered one. YAML files are read as
//! Kubernetes objects (a field-level diff per object, as `plan` shows for
//! helmfile envs); other files are compared whole.

use super::{foreign, Tree, MARKER};
use crate::cluster::diff::{self, FieldChange};
use crate::cluster::engine::{Action, Change};
use crate::cluster::{Json, Key};
use std::collections::BTreeMap;

/// A release plan.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct TreePlan {
    /// Object changes (unchanged ones included), by object.
    pub objects: Vec<Change>,
    /// Files that are not Kubernetes objects (`kustomization.yaml`, …)
    /// and changed: (path, action).
    pub files: Vec<(String, Action)>,
    /// Files at the path that shipc did not write.
    pub foreign: Vec<String>,
}

impl TreePlan {
    /// Whether publishing would change the branch.
    pub fn has_changes(&self) -> bool {
        !self.files.is_empty() || self.objects.iter().any(|c| c.action != Action::Unchanged)
    }

    /// How many objects take an action.
    pub fn count(&self, a: Action) -> usize {
        self.objects.iter().filter(|c| c.action == a).count()
    }
}

/// The Kubernetes objects of a YAML file (every document with apiVersion,
/// kind and name); none when it does not parse or holds none.
pub fn objects(bytes: &[u8]) -> Vec<(Key, Json)> {
    use serde::Deserialize;
    let Ok(text) = std::str::from_utf8(bytes) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for doc in serde_yaml::Deserializer::from_str(text) {
        match Json::deserialize(doc) {
            Ok(v) => {
                if let Some(k) = Key::of(&v) {
                    out.push((k, v));
                }
            }
            Err(_) => return Vec::new(),
        }
    }
    out
}

fn all_objects(t: &Tree) -> (BTreeMap<Key, Json>, Vec<&String>) {
    let mut objs = BTreeMap::new();
    let mut other = Vec::new();
    for (path, bytes) in t {
        if path == MARKER {
            continue;
        }
        let found = if path.ends_with(".yaml") || path.ends_with(".yml") {
            objects(bytes)
        } else {
            Vec::new()
        };
        if found.is_empty() {
            other.push(path);
        }
        objs.extend(found);
    }
    (objs, other)
}

/// Compare the branch's tree (`old`) with the rendered one (`new`).
pub fn compare(old: &Tree, new: &Tree) -> TreePlan {
    let (before, old_other) = all_objects(old);
    let (after, new_other) = all_objects(new);
    let mut plan = TreePlan {
        foreign: foreign(old),
        ..TreePlan::default()
    };
    for (k, v) in &after {
        let change = match before.get(k) {
            None => (Action::Create, Vec::new()),
            Some(b) => {
                let fields: Vec<FieldChange> = diff::diff(b, v);
                if fields.is_empty() {
                    (Action::Unchanged, fields)
                } else {
                    (Action::Update, fields)
                }
            }
        };
        plan.objects.push(Change {
            object: k.clone(),
            action: change.0,
            fields: change.1,
            note: None,
        });
    }
    for k in before.keys().filter(|k| !after.contains_key(*k)) {
        plan.objects.push(Change {
            object: k.clone(),
            action: Action::Delete,
            fields: Vec::new(),
            note: None,
        });
    }
    for p in &new_other {
        match old.get(*p) {
            None => plan.files.push(((*p).clone(), Action::Create)),
            Some(b) if Some(b) != new.get(*p) => plan.files.push(((*p).clone(), Action::Update)),
            _ => {}
        }
    }
    for p in old_other {
        if !new.contains_key(p) && !plan.foreign.contains(p) {
            plan.files.push((p.clone(), Action::Delete));
        }
    }
    plan
}

/// Image references in a tree's workloads: `Kind ns/name container` →
/// reference.
pub fn images(t: &Tree) -> BTreeMap<String, String> {
    let (objs, _) = all_objects(t);
    let mut out = BTreeMap::new();
    for (k, o) in objs {
        for (c, i) in crate::cluster::render::pod_images(&o) {
            out.insert(format!("{k} {c}"), i);
        }
    }
    out
}

/// The commit message of a release: project, env, the source revision,
/// and every image that changed.
pub fn message(
    project: &str,
    env: &str,
    source: &str,
    old: &Tree,
    new: &Tree,
    what: &str,
) -> String {
    let before = images(old);
    let after = images(new);
    let mut m = format!(
        "shipc: {what} {project} env {env}\n\nProject: {project}\nEnv: {env}\nSource: {source}\n"
    );
    let changed: Vec<String> = after
        .iter()
        .filter(|(k, v)| before.get(*k) != Some(*v))
        .map(|(k, v)| match before.get(k) {
            Some(was) => format!("  {k}: {v} (was {was})"),
            None => format!("  {k}: {v}"),
        })
        .collect();
    if changed.is_empty() {
        m.push_str("Images: unchanged\n");
    } else {
        m.push_str("Images:\n");
        for c in changed {
            m.push_str(&c);
            m.push('\n');
        }
    }
    m
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tree(files: &[(&str, &str)]) -> Tree {
        files
            .iter()
            .map(|(p, t)| (p.to_string(), t.as_bytes().to_vec()))
            .collect()
    }

    const DEP: &str = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n  namespace: shop\nspec:\n  replicas: 1\n  template:\n    spec:\n      containers:\n      - name: web\n        image: r/web@sha256:aa\n";

    #[test]
    fn objects_files_and_images() {
        let old = tree(&[
            ("apps/web.yaml", DEP),
            ("apps/kustomization.yaml", "resources: [web.yaml]\n"),
        ]);
        let new = tree(&[
            (
                "apps/web.yaml",
                &DEP.replace("replicas: 1", "replicas: 2")
                    .replace("sha256:aa", "sha256:bb"),
            ),
            (
                "apps/kustomization.yaml",
                "resources: [web.yaml, api.yaml]\n",
            ),
        ]);
        let p = compare(&old, &new);
        assert_eq!(p.objects.len(), 1);
        assert_eq!(p.objects[0].action, Action::Update);
        assert_eq!(p.objects[0].fields.len(), 2, "{:?}", p.objects[0].fields);
        assert_eq!(
            p.files,
            vec![("apps/kustomization.yaml".to_string(), Action::Update)]
        );
        let m = message("shop", "prod", "abc", &old, &new, "release");
        assert!(
            m.contains("Deployment shop/web web: r/web@sha256:bb (was r/web@sha256:aa)"),
            "{m}"
        );
    }
}
