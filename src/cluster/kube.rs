//! The [`Cluster`] on kube-rs: kubeconfig, discovery (cached per kind),
//! server-side apply, get, list, delete, and the clock. Every error becomes
//! a [`Failure`]; nothing here decides what an answer means.

#![allow(clippy::disallowed_methods)] // the network, kubeconfig files and the clock live here

use super::{Cluster, Failure, Json, Key, Kind, Write, FIELD_MANAGER};
use kube::api::{Api, DeleteParams, DynamicObject, ListParams, Patch, PatchParams};
use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::core::{ApiResource, GroupVersionKind};
use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// The kubeconfig users have: `KUBECONFIG` (paths joined by `:`, merged
/// as kubectl merges them), else `~/.kube/config`.
pub fn kubeconfig() -> Result<Kubeconfig, String> {
    Kubeconfig::read().map_err(|e| format!("cannot read the kubeconfig: {e}"))
}

/// The contexts a kubeconfig names, and its current one.
pub fn contexts(k: &Kubeconfig) -> (Vec<String>, Option<String>) {
    (
        k.contexts.iter().map(|c| c.name.clone()).collect(),
        k.current_context.clone(),
    )
}

/// A client bound to one context of a kubeconfig.
pub struct KubeCluster {
    client: kube::Client,
    kinds: Mutex<BTreeMap<(String, String), (ApiResource, bool)>>,
    started: Instant,
}

impl KubeCluster {
    /// Connect (lazily: no request is sent yet) with `context`, each
    /// request bounded by `timeout`.
    pub async fn connect(
        kubeconfig: Kubeconfig,
        context: &str,
        timeout: Duration,
    ) -> Result<KubeCluster, String> {
        let options = KubeConfigOptions {
            context: Some(context.to_string()),
            ..KubeConfigOptions::default()
        };
        let mut config = kube::Config::from_custom_kubeconfig(kubeconfig, &options)
            .await
            .map_err(|e| format!("context `{context}`: {e}"))?;
        config.connect_timeout = Some(timeout.min(Duration::from_secs(30)));
        config.read_timeout = Some(timeout);
        config.write_timeout = Some(timeout);
        let client = kube::Client::try_from(config)
            .map_err(|e| format!("context `{context}`: cannot make a client: {e}"))?;
        Ok(KubeCluster {
            client,
            kinds: Mutex::new(BTreeMap::new()),
            started: Instant::now(),
        })
    }

    /// A cluster on a ready-made client (tests answer its requests with
    /// `tower-test`'s mock service).
    pub fn from_client(client: kube::Client) -> KubeCluster {
        KubeCluster {
            client,
            kinds: Mutex::new(BTreeMap::new()),
            started: Instant::now(),
        }
    }

    async fn resource(
        &self,
        api_version: &str,
        kind: &str,
    ) -> Result<(ApiResource, bool), Failure> {
        let k = (api_version.to_string(), kind.to_string());
        if let Some(r) = self.kinds.lock().ok().and_then(|m| m.get(&k).cloned()) {
            return Ok(r);
        }
        let (group, version) = match api_version.split_once('/') {
            Some((g, v)) => (g, v),
            None => ("", api_version),
        };
        let gvk = GroupVersionKind::gvk(group, version, kind);
        let (ar, caps) = match kube::discovery::pinned_kind(&self.client, &gvk).await {
            Ok(x) => x,
            Err(e) => {
                let f = failure(e);
                return Err(match f {
                    Failure::Status { code: 404, .. } | Failure::Invalid(_) => Failure::NotServed {
                        api_version: api_version.into(),
                        kind: kind.into(),
                    },
                    other => other,
                });
            }
        };
        let namespaced = caps.scope == kube::discovery::Scope::Namespaced;
        if let Ok(mut m) = self.kinds.lock() {
            m.insert(k, (ar.clone(), namespaced));
        }
        Ok((ar, namespaced))
    }

    async fn api(
        &self,
        api_version: &str,
        kind: &str,
        namespace: Option<&str>,
    ) -> Result<Api<DynamicObject>, Failure> {
        let (ar, namespaced) = self.resource(api_version, kind).await?;
        Ok(match (namespaced, namespace) {
            (true, Some(ns)) => Api::namespaced_with(self.client.clone(), ns, &ar),
            _ => Api::all_with(self.client.clone(), &ar),
        })
    }
}

/// A kube-rs error as a [`Failure`].
fn failure(e: kube::Error) -> Failure {
    match e {
        kube::Error::Api(s) => Failure::Status {
            code: s.code,
            reason: s.reason.clone(),
            message: s.message.clone(),
        },
        kube::Error::SerdeError(e) => Failure::Invalid(e.to_string()),
        other => {
            let text = error_chain(&other);
            if text.contains("timed out") || text.contains("deadline") || text.contains("elapsed") {
                Failure::Timeout(text)
            } else {
                Failure::Unreachable(text)
            }
        }
    }
}

fn error_chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut cur = e.source();
    while let Some(c) = cur {
        let t = c.to_string();
        if !s.contains(&t) {
            s.push_str(": ");
            s.push_str(&t);
        }
        cur = c.source();
    }
    s
}

/// A dynamic object as plain JSON, with its apiVersion and kind (list
/// items may come without them).
fn to_json(o: DynamicObject, api_version: &str, kind: &str) -> Result<Json, Failure> {
    let mut v = serde_json::to_value(o).map_err(|e| Failure::Invalid(e.to_string()))?;
    if let Some(m) = v.as_object_mut() {
        m.insert("apiVersion".into(), Json::from(api_version));
        m.insert("kind".into(), Json::from(kind));
    }
    Ok(v)
}

impl Cluster for KubeCluster {
    async fn kind(&self, api_version: &str, kind: &str) -> Result<Kind, Failure> {
        let (ar, namespaced) = self.resource(api_version, kind).await?;
        Ok(Kind {
            plural: ar.plural,
            namespaced,
        })
    }

    async fn get(&self, key: &Key) -> Result<Option<Json>, Failure> {
        let api = self
            .api(&key.api_version, &key.kind, key.namespace.as_deref())
            .await?;
        match api.get_opt(&key.name).await.map_err(failure)? {
            Some(o) => Ok(Some(to_json(o, &key.api_version, &key.kind)?)),
            None => Ok(None),
        }
    }

    async fn apply(&self, key: &Key, object: &Json, how: Write) -> Result<Json, Failure> {
        let api = self
            .api(&key.api_version, &key.kind, key.namespace.as_deref())
            .await?;
        let mut pp = PatchParams::apply(FIELD_MANAGER);
        pp.force = how.force;
        pp.dry_run = how.dry_run;
        let o = api
            .patch(&key.name, &pp, &Patch::Apply(object))
            .await
            .map_err(failure)?;
        to_json(o, &key.api_version, &key.kind)
    }

    async fn list(
        &self,
        api_version: &str,
        kind: &str,
        namespace: Option<&str>,
        selector: &str,
    ) -> Result<Vec<Json>, Failure> {
        let api = self.api(api_version, kind, namespace).await?;
        let list = api
            .list(&ListParams::default().labels(selector))
            .await
            .map_err(failure)?;
        list.items
            .into_iter()
            .map(|o| to_json(o, api_version, kind))
            .collect()
    }

    async fn merge_patch(&self, key: &Key, patch: &Json) -> Result<Json, Failure> {
        let api = self
            .api(&key.api_version, &key.kind, key.namespace.as_deref())
            .await?;
        let pp = PatchParams {
            field_manager: Some(FIELD_MANAGER.to_string()),
            ..PatchParams::default()
        };
        let o = api
            .patch(&key.name, &pp, &Patch::Merge(patch))
            .await
            .map_err(failure)?;
        to_json(o, &key.api_version, &key.kind)
    }

    async fn delete(&self, key: &Key) -> Result<(), Failure> {
        let api = self
            .api(&key.api_version, &key.kind, key.namespace.as_deref())
            .await?;
        match api.delete(&key.name, &DeleteParams::background()).await {
            Ok(_) => Ok(()),
            Err(e) => match failure(e) {
                Failure::Status { code: 404, .. } => Ok(()),
                f => Err(f),
            },
        }
    }

    async fn sleep(&self, d: Duration) {
        tokio::time::sleep(d).await;
    }

    fn elapsed(&self) -> Duration {
        self.started.elapsed()
    }
}
