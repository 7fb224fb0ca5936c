//! A service's volumes: mounts, the pod's volumes (PersistentVolumeClaims,
//! emptyDirs, Secrets, ConfigMaps), a statefulset's claim templates and a
//! deployment's claims.

use super::{quantity, text, Body, Context, Object};
use crate::model::view::{self, Volume as VolumeUse, Workload};
use crate::model::{Decl, Value};
use crate::names::k8s_name;
use k8s_openapi::api::core::v1::{
    ConfigMapVolumeSource, EmptyDirVolumeSource, KeyToPath, PersistentVolumeClaim,
    PersistentVolumeClaimSpec, PersistentVolumeClaimVolumeSource, SecretVolumeSource, Volume,
    VolumeMount, VolumeResourceRequirements,
};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use std::collections::BTreeMap;

/// Whether a service mounts a persistent volume (`volume()`), whose files
/// must belong to the pod's group for a non-root user to write them.
pub(super) fn persistent_volume(d: &Decl) -> bool {
    d.service()
        .volume_entries()
        .any(|(_, v)| matches!(VolumeUse::of(v), Some(VolumeUse::Persistent(_))))
}

pub(super) fn mounts(d: &Decl) -> Vec<VolumeMount> {
    d.service()
        .volume_entries()
        .filter_map(|(name, v)| {
            let vol = VolumeUse::of(v)?;
            Some(VolumeMount {
                name: k8s_name(name),
                mount_path: vol
                    .mount()
                    .and_then(Value::as_str)
                    .unwrap_or("/")
                    .to_string(),
                read_only: None,
                ..VolumeMount::default()
            })
        })
        .collect()
}

fn claim_name(d: &Decl, volume: &str) -> String {
    format!("{}-{}", d.k8s_name, k8s_name(volume))
}

pub(super) fn volumes(cx: &Context<'_>, d: &Decl) -> Vec<Volume> {
    let statefulset = d.service().workload_kind() == Workload::StatefulSet;
    d.service()
        .volume_entries()
        .filter_map(|(name, v)| {
            let mut vol = Volume {
                name: k8s_name(name),
                ..Volume::default()
            };
            match VolumeUse::of(v)? {
                VolumeUse::Persistent(_) if statefulset => return None, // a volumeClaimTemplate
                VolumeUse::Persistent(_) => {
                    vol.persistent_volume_claim = Some(PersistentVolumeClaimVolumeSource {
                        claim_name: claim_name(d, name),
                        read_only: None,
                    })
                }
                VolumeUse::Scratch(s) => {
                    vol.empty_dir = Some(EmptyDirVolumeSource {
                        medium: (s.memory().and_then(Value::as_bool) == Some(true))
                            .then(|| "Memory".to_string()),
                        ..EmptyDirVolumeSource::default()
                    })
                }
                VolumeUse::Secret(s) => {
                    vol.secret = Some(SecretVolumeSource {
                        secret_name: Some(text(s.secret())),
                        ..SecretVolumeSource::default()
                    })
                }
                VolumeUse::Config(c) => {
                    let items: Vec<KeyToPath> = c
                        .keys()
                        .map(Value::strings)
                        .unwrap_or_default()
                        .into_iter()
                        .map(|k| KeyToPath {
                            key: k.to_string(),
                            path: k.to_string(),
                            mode: None,
                        })
                        .collect();
                    vol.config_map = Some(ConfigMapVolumeSource {
                        name: super::config::name(cx, c.config_map()),
                        items: Some(items).filter(|i| !i.is_empty()),
                        ..ConfigMapVolumeSource::default()
                    })
                }
            }
            Some(vol)
        })
        .collect()
}

fn claim_spec(cx: &Context<'_>, v: view::PersistentVolume<'_>) -> PersistentVolumeClaimSpec {
    let access = match v.access().and_then(Value::as_str) {
        Some("rwx") => "ReadWriteMany",
        _ => "ReadWriteOnce",
    };
    let mut requests = BTreeMap::new();
    if let Some(q) = v.size().and_then(quantity) {
        requests.insert("storage".to_string(), Quantity(q));
    }
    PersistentVolumeClaimSpec {
        access_modes: Some(vec![access.to_string()]),
        storage_class_name: cx
            .env
            .settings()
            .storage_class()
            .and_then(Value::as_str)
            .map(str::to_string),
        resources: Some(VolumeResourceRequirements {
            requests: Some(requests),
            ..VolumeResourceRequirements::default()
        }),
        ..PersistentVolumeClaimSpec::default()
    }
}

/// A service's persistent volumes: name, the volume, its value.
fn persistent_volumes(
    d: &Decl,
) -> impl Iterator<Item = (&crate::model::Key, view::PersistentVolume<'_>, &Value)> {
    d.service()
        .volume_entries()
        .filter_map(|(name, v)| match VolumeUse::of(v) {
            Some(VolumeUse::Persistent(p)) => Some((name, p, v)),
            _ => None,
        })
}

pub(super) fn claim_templates(cx: &Context<'_>, d: &Decl) -> Vec<PersistentVolumeClaim> {
    persistent_volumes(d)
        .map(|(name, p, _)| PersistentVolumeClaim {
            metadata: ObjectMeta {
                name: Some(k8s_name(name)),
                ..ObjectMeta::default()
            },
            spec: Some(claim_spec(cx, p)),
            ..PersistentVolumeClaim::default()
        })
        .collect()
}

/// The PersistentVolumeClaims of a deployment's volumes (a statefulset's are
/// `volumeClaimTemplates` instead).
pub fn claims(cx: &Context<'_>, d: &Decl) -> Vec<Object> {
    if d.service().workload_kind() == Workload::StatefulSet {
        return Vec::new();
    }
    persistent_volumes(d)
        .map(|(name, p, v)| {
            let n = claim_name(d, name);
            let pvc = PersistentVolumeClaim {
                metadata: cx.meta(d, &n, BTreeMap::new()),
                spec: Some(claim_spec(cx, p)),
                ..PersistentVolumeClaim::default()
            };
            Object {
                kind: "PersistentVolumeClaim".into(),
                name: n,
                value: Body::Claim(Box::new(pvc)),
                span: v.span,
            }
        })
        .collect()
}
