//! Revision records: what `apply` applied, kept in the cluster like Helm's
//! `sh.helm.release.v1.NAME.vN` Secrets. One Secret per revision in the
//! env's namespace, type `ship.dev/release.v1`, named
//! `ship.release.v1.<project>.<env>.v<N>`, holding gzip'd JSON under
//! `release`: the full applied object set (with waves), every image
//! reference, the source hash, shipc's version, the time and the status.
//!
//! Records are read back with bounds (the Secret's size, the unpacked
//! size) and checked (type, names, revision) before they are trusted:
//! anyone who can write Secrets in the namespace can write one.

use super::{Json, Key};
use base64::Engine;
use std::collections::BTreeMap;
use std::io::{Read, Write};

/// The Secret type of a record.
pub const SECRET_TYPE: &str = "ship.dev/release.v1";
/// Labels that find an env's records (not the ownership labels: prune
/// must never see a record as a stale object).
pub const RECORD_PROJECT: &str = "ship.dev/release-project";
/// See [`RECORD_PROJECT`].
pub const RECORD_ENV: &str = "ship.dev/release-env";
/// The revision number, as a label.
pub const RECORD_REVISION: &str = "ship.dev/release-revision";
/// The status, as a label (`deployed`, `failed`, `superseded`).
pub const RECORD_STATUS: &str = "ship.dev/release-status";

/// The largest unpacked record read back (64 MiB).
const MAX_UNPACKED: u64 = 64 << 20;

/// What became of a revision.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Status {
    /// The live revision.
    Deployed,
    /// Applied, then replaced by a later revision.
    Superseded,
    /// The apply failed (and, with `--atomic`, was rolled back).
    Failed,
}

impl Status {
    /// As written in the label.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Deployed => "deployed",
            Status::Superseded => "superseded",
            Status::Failed => "failed",
        }
    }
}

/// One applied object and the wave it went out in.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Applied {
    /// 0 = Namespaces, then the dependency graph's waves.
    pub wave: usize,
    /// The object exactly as applied.
    pub object: Json,
}

/// One revision.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Release {
    /// Revision number, from 1.
    pub revision: u64,
    /// The project.
    pub project: String,
    /// The env (label form).
    pub env: String,
    /// The namespace records live in.
    pub namespace: String,
    /// What became of it.
    pub status: Status,
    /// RFC 3339 UTC time of the apply.
    pub time: String,
    /// shipc's version.
    pub shipc: String,
    /// sha256 of the `.ship` sources and `ship.lock`.
    pub source_hash: String,
    /// Image references by container (`web/web` → `repo@sha256:…`).
    pub images: BTreeMap<String, String>,
    /// What happened (`apply`, `rollback to 3`, the failure).
    pub description: String,
    /// The objects, in apply order.
    pub objects: Vec<Applied>,
}

impl Release {
    /// The Secret's name.
    pub fn secret_name(project: &str, env: &str, revision: u64) -> String {
        format!("ship.release.v1.{project}.{env}.v{revision}")
    }

    /// The keys of its objects.
    pub fn keys(&self) -> Vec<Key> {
        self.objects
            .iter()
            .filter_map(|a| Key::of(&a.object))
            .collect()
    }

    /// The record as a Secret to apply.
    pub fn to_secret(&self) -> Result<Json, String> {
        let json = serde_json::to_vec(self).map_err(|e| e.to_string())?;
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        gz.write_all(&json).map_err(|e| e.to_string())?;
        let packed = gz.finish().map_err(|e| e.to_string())?;
        let data = base64::engine::general_purpose::STANDARD.encode(packed);
        Ok(serde_json::json!({
            "apiVersion": "v1",
            "kind": "Secret",
            "type": SECRET_TYPE,
            "metadata": {
                "name": Release::secret_name(&self.project, &self.env, self.revision),
                "namespace": self.namespace,
                "labels": {
                    RECORD_PROJECT: self.project,
                    RECORD_ENV: self.env,
                    RECORD_REVISION: self.revision.to_string(),
                    RECORD_STATUS: self.status.as_str(),
                    "app.kubernetes.io/managed-by": "shipc",
                },
            },
            "data": {"release": data},
        }))
    }

    /// A record read back from its Secret, checked: the type, the project
    /// and env it claims, and the revision its name carries.
    pub fn from_secret(secret: &Json, project: &str, env: &str) -> Result<Release, String> {
        let name = secret
            .pointer("/metadata/name")
            .and_then(Json::as_str)
            .unwrap_or("?");
        let bad = |why: &str| format!("revision record `{name}` is not valid: {why}");
        if secret.get("type").and_then(Json::as_str) != Some(SECRET_TYPE) {
            return Err(bad("its type is not ship.dev/release.v1"));
        }
        let data = secret
            .pointer("/data/release")
            .and_then(Json::as_str)
            .ok_or_else(|| bad("it has no `release` data"))?;
        let packed = base64::engine::general_purpose::STANDARD
            .decode(data)
            .map_err(|e| bad(&format!("base64: {e}")))?;
        let mut json = Vec::new();
        flate2::read::GzDecoder::new(packed.as_slice())
            .take(MAX_UNPACKED + 1)
            .read_to_end(&mut json)
            .map_err(|e| bad(&format!("gzip: {e}")))?;
        if json.len() as u64 > MAX_UNPACKED {
            return Err(bad("it unpacks to more than 64 MiB"));
        }
        let r: Release = serde_json::from_slice(&json).map_err(|e| bad(&format!("JSON: {e}")))?;
        if r.project != project || r.env != env {
            return Err(bad(&format!(
                "it belongs to env `{}` of project `{}`",
                r.env, r.project
            )));
        }
        if name != Release::secret_name(project, env, r.revision) {
            return Err(bad("its name does not match its revision"));
        }
        // Every object must be this env's. A rollback applies only those in
        // the env's namespace from a record ([`restorable`]): anyone who can
        // write a Secret here could write a record that names a
        // ClusterRoleBinding or an object of another namespace. Those
        // (cluster RBAC, `object`s elsewhere) are recorded so that a later
        // apply can prune them, never restored from a record.
        for a in &r.objects {
            let key = Key::of(&a.object)
                .ok_or_else(|| bad("an object has no apiVersion, kind or name"))?;
            let labels = a.object.pointer("/metadata/labels");
            let label = |k: &str| labels.and_then(|l| l.get(k)).and_then(Json::as_str);
            if label(super::PROJECT_LABEL) != Some(project) || label(super::ENV_LABEL) != Some(env)
            {
                return Err(bad(&format!(
                    "{key} does not carry this env's ownership labels"
                )));
            }
        }
        Ok(r)
    }
}

/// Whether a rollback may apply a recorded object: only one in the env's
/// namespace. Cluster-scoped objects (cluster RBAC, cluster-scoped
/// `object`s, the Namespace itself) and objects of other namespaces are
/// recorded — a later apply prunes by the record's keys, and only what
/// carries this env's ownership labels — but always come from the current
/// sources.
pub fn restorable(key: &Key, namespace: &str) -> bool {
    key.namespace.as_deref() == Some(namespace)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn release() -> Release {
        Release {
            revision: 3,
            project: "shop".into(),
            env: "prod".into(),
            namespace: "shop".into(),
            status: Status::Deployed,
            time: "2026-12-01T00:00:00Z".into(),
            shipc: "0.1.0".into(),
            source_hash: "sha256:00".into(),
            images: BTreeMap::new(),
            description: "apply".into(),
            objects: vec![Applied {
                wave: 1,
                object: serde_json::json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web", "namespace": "shop",
                    "labels": {"ship.dev/project": "shop", "ship.dev/env": "prod"}}}),
            }],
        }
    }

    #[test]
    fn round_trip_and_checks() {
        let r = release();
        let s = r.to_secret().unwrap();
        assert_eq!(Release::from_secret(&s, "shop", "prod").unwrap(), r);
        assert!(Release::from_secret(&s, "shop", "staging").is_err());
        let mut renamed = s.clone();
        renamed["metadata"]["name"] = "ship.release.v1.shop.prod.v9".into();
        assert!(Release::from_secret(&renamed, "shop", "prod").is_err());
        let mut typed = s;
        typed["type"] = "Opaque".into();
        assert!(Release::from_secret(&typed, "shop", "prod").is_err());
    }

    #[test]
    fn a_record_cannot_smuggle_objects_into_a_rollback() {
        let mut r = release();
        r.objects[0].object["metadata"]["labels"]["ship.dev/env"] = "staging".into();
        let e = Release::from_secret(&r.to_secret().unwrap(), "shop", "prod").unwrap_err();
        assert!(e.contains("ownership labels"), "{e}");
        // Objects outside the env's namespace are recorded (for pruning);
        // rollback never applies one from a record (`engine::rollback`).
        let mut r = release();
        r.objects.push(Applied {
            wave: 1,
            object: serde_json::json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
                "metadata": {"name": "own-the-cluster", "labels": {"ship.dev/project": "shop", "ship.dev/env": "prod"}}}),
        });
        let back = Release::from_secret(&r.to_secret().unwrap(), "shop", "prod").unwrap();
        let keys: Vec<Key> = back
            .objects
            .iter()
            .filter_map(|a| Key::of(&a.object))
            .collect();
        assert!(restorable(&keys[0], "shop"));
        assert!(!restorable(&keys[1], "shop"));
        assert!(!restorable(
            &Key::new("v1", "ConfigMap", Some("kube-system"), "x"),
            "shop"
        ));
    }

    #[test]
    fn a_zip_bomb_is_refused() {
        let zeros = vec![0u8; (MAX_UNPACKED + 10) as usize];
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        gz.write_all(&zeros).unwrap();
        let data = base64::engine::general_purpose::STANDARD.encode(gz.finish().unwrap());
        let s = serde_json::json!({"type": SECRET_TYPE, "metadata": {"name": "x"}, "data": {"release": data}});
        let e = Release::from_secret(&s, "shop", "prod").unwrap_err();
        assert!(e.contains("64 MiB"), "{e}");
    }
}
